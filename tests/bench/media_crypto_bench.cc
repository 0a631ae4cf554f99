// Media crypto and blob-store throughput (issue 6): envelope encryption (chunked AES-256-GCM,
// OpenSSL EVP / AES-NI) and FsBlobStore writes/reads. Single-threaded, so bytes_per_second is
// per core. Target: >= 200 MB/s per core for the crypto.
//   ./build/tests/bench/media_crypto_bench [--benchmark_filter=...]
// FsBlobStore benchmarks use $TMPDIR (fsync on, as in production, and off to isolate CPU cost).
// The S3 ones need the test infrastructure's MinIO (source .run/test/endpoints.env).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "libs/blob/fs_blob_store.h"
#include "libs/blob/s3_blob_store.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/random.h"
#include "libs/envelope/chunked_aead.h"

namespace switchboard {
namespace {

const std::string& Key() {
  static const std::string key = crypto::RandomBytes(32);
  return key;
}

std::string Payload(size_t n) {
  std::string s = crypto::RandomBytes(n);
  return s;
}

envelope::KeyLookup Lookup() {
  return [](uint32_t) -> absl::StatusOr<std::string> { return Key(); };
}

// Encrypt a whole object, fed in 64 KiB pieces (as an upload stream would arrive).
void BM_Encrypt(benchmark::State& state) {
  const std::string plain = Payload(static_cast<size_t>(state.range(0)));
  const uint32_t chunk = static_cast<uint32_t>(state.range(1));
  size_t out_bytes = 0;
  envelope::ByteSink sink = [&out_bytes](absl::string_view p) {
    out_bytes += p.size();
    return absl::OkStatus();
  };
  for (auto _ : state) {
    auto enc = envelope::StreamEncryptor::Create(Key(), 1, "company|object", chunk);
    if (!enc.ok()) state.SkipWithError("create");
    for (size_t off = 0; off < plain.size(); off += 65536) {
      if (!(*enc)->Update(absl::string_view(plain).substr(off, 65536), sink).ok()) {
        state.SkipWithError("update");
      }
    }
    if (!(*enc)->Finish(sink).ok()) state.SkipWithError("finish");
  }
  benchmark::DoNotOptimize(out_bytes);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(plain.size()));
}
BENCHMARK(BM_Encrypt)->Args({1 << 20, 64 << 10})->Args({8 << 20, 64 << 10})
    ->Args({8 << 20, 16 << 10})->Args({8 << 20, 256 << 10});

// Streaming decrypt of a whole object, fed in 64 KiB pieces (as a blob read delivers it).
void BM_DecryptStream(benchmark::State& state) {
  const std::string plain = Payload(static_cast<size_t>(state.range(0)));
  auto sealed = envelope::SealAll(Key(), 1, "company|object", plain,
                                  static_cast<uint32_t>(state.range(1)));
  if (!sealed.ok()) state.SkipWithError("seal");
  size_t out_bytes = 0;
  envelope::ByteSink sink = [&out_bytes](absl::string_view p) {
    out_bytes += p.size();
    return absl::OkStatus();
  };
  for (auto _ : state) {
    envelope::StreamDecryptor dec(Lookup(), "company|object");
    for (size_t off = 0; off < sealed->size(); off += 65536) {
      if (!dec.Update(absl::string_view(*sealed).substr(off, 65536), sink).ok()) {
        state.SkipWithError("update");
      }
    }
    if (!dec.Finish(sink).ok()) state.SkipWithError("finish");
  }
  benchmark::DoNotOptimize(out_bytes);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(plain.size()));
}
BENCHMARK(BM_DecryptStream)->Args({1 << 20, 64 << 10})->Args({8 << 20, 64 << 10});

// Ranged playback: 64 KiB from the middle of a 8 MiB object (header + covering chunks).
void BM_DecryptRange64K(benchmark::State& state) {
  const std::string plain = Payload(8 << 20);
  auto sealed = envelope::SealAll(Key(), 1, "company|object", plain);
  if (!sealed.ok()) state.SkipWithError("seal");
  envelope::RangeReader read = [&](uint64_t off, uint64_t len, const envelope::ByteSink& sink) {
    return sink(absl::string_view(*sealed).substr(off, len));
  };
  size_t out_bytes = 0;
  for (auto _ : state) {
    absl::Status s = envelope::DecryptRange(
        sealed->size(), read, Lookup(), "company|object",
        envelope::PlainRange{(4 << 20) + 1000, 65536}, [&out_bytes](absl::string_view p) {
          out_bytes += p.size();
          return absl::OkStatus();
        });
    if (!s.ok()) state.SkipWithError("range");
  }
  benchmark::DoNotOptimize(out_bytes);
  state.SetBytesProcessed(state.iterations() * 65536);
}
BENCHMARK(BM_DecryptRange64K);

struct FsFixture {
  explicit FsFixture(bool fsync) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sb_bench_XXXXXX").string();
    root = ::mkdtemp(tmpl.data());
    auto s = blob::FsBlobStore::Create({.root = root, .fsync = fsync});
    store = std::move(*s);
  }
  ~FsFixture() { std::filesystem::remove_all(root); }
  std::string root;
  std::unique_ptr<blob::FsBlobStore> store;
};

// FsBlobStore: write 1 MiB objects (temp + fsync + rename + dir fsync when range(0) == 1).
void BM_FsWrite1MiB(benchmark::State& state) {
  FsFixture fs(state.range(0) == 1);
  const std::string data = Payload(1 << 20);
  int64_t i = 0;
  for (auto _ : state) {
    if (!fs.store->Put("bench/obj-" + std::to_string(i++ % 256), data).ok()) {
      state.SkipWithError("put");
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FsWrite1MiB)->Arg(1)->Arg(0)->UseRealTime();

// FsBlobStore: read 1 MiB objects (page cache warm).
void BM_FsRead1MiB(benchmark::State& state) {
  FsFixture fs(false);
  const std::string data = Payload(1 << 20);
  for (int i = 0; i < 64; ++i) (void)fs.store->Put("bench/obj-" + std::to_string(i), data);
  size_t bytes = 0;
  int64_t i = 0;
  for (auto _ : state) {
    absl::Status s = fs.store->Get("bench/obj-" + std::to_string(i++ % 64), std::nullopt,
                                   [&bytes](absl::string_view p) {
                                     bytes += p.size();
                                     return absl::OkStatus();
                                   });
    if (!s.ok()) state.SkipWithError("get");
  }
  benchmark::DoNotOptimize(bytes);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FsRead1MiB)->UseRealTime();

// End to end: encrypt + store a 1 MiB recording, and load + decrypt it (fsync on).
void BM_EncryptAndStore1MiB(benchmark::State& state) {
  FsFixture fs(true);
  const std::string plain = Payload(1 << 20);
  int64_t i = 0;
  for (auto _ : state) {
    std::string key = "co/recordings/r" + std::to_string(i++ % 256) + ".sbe";
    auto writer = fs.store->NewWriter(key);
    auto enc = envelope::StreamEncryptor::Create(Key(), 1, key);
    envelope::ByteSink sink = [&](absl::string_view p) { return (*writer)->Append(p); };
    bool ok = writer.ok() && enc.ok() && (*enc)->Update(plain, sink).ok() &&
              (*enc)->Finish(sink).ok() && (*writer)->Commit().ok();
    if (!ok) state.SkipWithError("encrypt+store");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(plain.size()));
}
BENCHMARK(BM_EncryptAndStore1MiB)->UseRealTime();

void BM_LoadAndDecrypt1MiB(benchmark::State& state) {
  FsFixture fs(false);
  const std::string plain = Payload(1 << 20);
  for (int i = 0; i < 64; ++i) {
    std::string key = "co/recordings/r" + std::to_string(i) + ".sbe";
    (void)fs.store->Put(key, *envelope::SealAll(Key(), 1, key, plain));
  }
  size_t bytes = 0;
  int64_t i = 0;
  for (auto _ : state) {
    std::string key = "co/recordings/r" + std::to_string(i++ % 64) + ".sbe";
    envelope::StreamDecryptor dec(Lookup(), key);
    envelope::ByteSink out = [&bytes](absl::string_view p) {
      bytes += p.size();
      return absl::OkStatus();
    };
    absl::Status s = fs.store->Get(key, std::nullopt,
                                   [&](absl::string_view p) { return dec.Update(p, out); });
    if (!s.ok() || !dec.Finish(out).ok()) state.SkipWithError("load+decrypt");
  }
  benchmark::DoNotOptimize(bytes);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(plain.size()));
}
BENCHMARK(BM_LoadAndDecrypt1MiB)->UseRealTime();

// S3 (the test infrastructure's MinIO, when SB_S3_ENDPOINT etc. are set: source
// .run/test/endpoints.env): encrypt + multipart-upload, and ranged-GET + decrypt, of 8 MiB.
struct S3Fixture {
  S3Fixture() {
    const char* endpoint = std::getenv("SB_S3_ENDPOINT");
    const char* access = std::getenv("SB_S3_ACCESS_KEY");
    const char* secret = std::getenv("SB_S3_SECRET_KEY");
    if (endpoint == nullptr || access == nullptr || secret == nullptr) return;
    blob::S3BlobStoreOptions o;
    o.endpoint = endpoint;
    o.bucket = "sb-bench-" + crypto::HexEncode(crypto::RandomBytes(6));
    o.credentials = {access, secret, ""};
    o.part_size = 5 << 20;
    o.multipart_threshold = 5 << 20;
    auto created = blob::S3BlobStore::Create(o);
    if (!created.ok() || !(*created)->CreateBucket().ok()) return;
    store = std::move(*created);
  }
  ~S3Fixture() {
    if (store) (void)store->DeleteBucketAndContents();
  }
  std::unique_ptr<blob::S3BlobStore> store;
};

void BM_S3EncryptAndStore8MiB(benchmark::State& state) {
  S3Fixture s3;
  if (!s3.store) {
    state.SkipWithError("no S3: source .run/test/endpoints.env");
    return;
  }
  const std::string plain = Payload(8 << 20);
  int64_t i = 0;
  for (auto _ : state) {
    std::string key = "co/recordings/r" + std::to_string(i++ % 8) + ".sbe";
    auto writer = s3.store->NewWriter(key);
    auto enc = envelope::StreamEncryptor::Create(Key(), 1, key);
    envelope::ByteSink sink = [&](absl::string_view p) { return (*writer)->Append(p); };
    bool ok = writer.ok() && enc.ok() && (*enc)->Update(plain, sink).ok() &&
              (*enc)->Finish(sink).ok() && (*writer)->Commit().ok();
    if (!ok) state.SkipWithError("encrypt+store");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(plain.size()));
}
BENCHMARK(BM_S3EncryptAndStore8MiB)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_S3LoadAndDecrypt8MiB(benchmark::State& state) {
  S3Fixture s3;
  if (!s3.store) {
    state.SkipWithError("no S3: source .run/test/endpoints.env");
    return;
  }
  const std::string plain = Payload(8 << 20);
  const std::string key = "co/recordings/read.sbe";
  if (!s3.store->Put(key, *envelope::SealAll(Key(), 1, key, plain)).ok()) {
    state.SkipWithError("put");
    return;
  }
  auto info = s3.store->Stat(key);
  envelope::RangeReader read = [&](uint64_t off, uint64_t len, const envelope::ByteSink& sink) {
    return s3.store->Get(key, blob::ByteRange{off, len}, sink);
  };
  size_t bytes = 0;
  for (auto _ : state) {
    absl::Status st = envelope::DecryptRange(info->size, read, Lookup(), key, std::nullopt,
                                             [&bytes](absl::string_view p) {
                                               bytes += p.size();
                                               return absl::OkStatus();
                                             });
    if (!st.ok()) state.SkipWithError("load+decrypt");
  }
  benchmark::DoNotOptimize(bytes);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(plain.size()));
}
BENCHMARK(BM_S3LoadAndDecrypt8MiB)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace switchboard

BENCHMARK_MAIN();
