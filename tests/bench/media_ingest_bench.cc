// Media ingest throughput: N voicemails of S seconds (8 kHz mono 16-bit WAV, 16 kB/s) through
// MediaCore's ingest path as the Kafka consumer drives it — fetch (in memory), validate,
// encrypt (company data key, chunked AES-256-GCM), write + commit into FsBlobStore (fsync on),
// then the row + outbox event in one Postgres transaction — on T threads, then a ranged
// decrypt+read of every voicemail through the playback path. Reads SB_PG_DSN
// (./tools/dev testenv up). Crypto alone is measured by media_crypto_bench.
// Usage: media_ingest_bench [voicemails=1000] [seconds=60] [threads=2] [fsync=1]
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench_util.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/audio/audio.h"
#include "libs/blob/fs_blob_store.h"
#include "libs/envelope/data_key_manager.h"
#include "libs/envelope/pg_data_key_store.h"
#include "libs/testing/testing.h"
#include "services/media/dependencies.h"
#include "services/media/media_core.h"

using namespace switchboard;         // NOLINT: a standalone tool
using namespace switchboard::media;  // NOLINT

namespace {

class MemoryFetcher final : public RecordingFetcher {
 public:
  explicit MemoryFetcher(std::string wav) : wav_(std::move(wav)) {}
  absl::Status Fetch(absl::string_view, absl::string_view, uint64_t,
                     const std::function<absl::Status(absl::string_view)>& sink) override {
    for (size_t at = 0; at < wav_.size(); at += 64 << 10) {
      absl::Status s = sink(absl::string_view(wav_).substr(at, 64 << 10));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  const std::string wav_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const int n = bench::IntArg(argc, argv, 1, 1000, 0);
  const int seconds = bench::IntArg(argc, argv, 2, 60, 0);
  const int threads = std::max(1, bench::IntArg(argc, argv, 3, 2, 0));
  const bool fsync = bench::IntArg(argc, argv, 4, 1, 0) != 0;
  log::Init("media_ingest_bench", log::Level::kWarn);

  testing::PgTestSchema::Options pg_options;
  pg_options.max_size = threads + 2;
  auto db = testing::PgTestSchema::Create(pg_options);
  if (!db.ok()) return bench::Fail("postgres", db.status());
  if (auto s = MigrateMedia((*db)->pool()); !s.ok()) return bench::Fail("migrate", s);
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("media-bench-" + testing::RandomSuffix());
  auto fs = blob::FsBlobStore::Create({.root = root.string(), .fsync = fsync});
  if (!fs.ok()) return bench::Fail("blob store", fs.status());
  auto ring = envelope::MasterKeyRing::Parse("k:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "k");
  if (!ring.ok()) return bench::Fail("ring", ring.status());
  envelope::PgDataKeyStore key_store((*db)->pool());
  envelope::DataKeyManager keys(key_store, *ring, SystemClock());
  PlaybackSigner signer(std::string(32, 's'), "http://127.0.0.1:8081");

  std::vector<int16_t> samples(static_cast<size_t>(seconds) * 8000);
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<int16_t>(8000 * std::sin(i * 0.05) + (i % 101) * 13);
  }
  const std::string wav = audio::PcmWav(samples);
  MemoryFetcher fetcher(wav);
  MediaCore core((*db)->pool(), **fs, keys, *ring, &fetcher, signer, SystemClock());
  const Caller owner{"bench-company", "owner", "owner"};
  if (auto s = core.SetVoicemailBox(owner, "box-1", "user-1"); !s.ok()) return bench::Fail("box", s);

  std::atomic<int> next{0};
  absl::Mutex mu;
  std::vector<double> latencies_ms;
  std::vector<std::string> ids;
  absl::Status first_error;
  auto worker = [&] {
    for (int i = next++; i < n; i = next++) {
      IngestRequest r;
      r.kind = ItemKind::kVoicemail;
      r.company_id = "bench-company";
      r.provider = "twilio";
      r.provider_recording_id = absl::StrCat("RE", i);
      r.fetch_ref = r.provider_recording_id;
      r.box_id = "box-1";
      r.caller = "+15550000000";
      const absl::Time start = absl::Now();
      absl::StatusOr<IngestResult> result = (*db)->pool().InTenantOr<IngestResult>(
          r.company_id, [&](pqxx::work& tx) { return core.Ingest(tx, r); });
      const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
      absl::MutexLock lock(&mu);
      if (!result.ok()) {
        if (first_error.ok()) first_error = result.status();
        continue;
      }
      latencies_ms.push_back(ms);
      ids.push_back(result->id);
    }
  };
  const absl::Time t0 = absl::Now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!first_error.ok()) return bench::Fail("ingest", first_error);
  const double mb = static_cast<double>(wav.size()) * n / 1e6;
  std::printf("ingest: %d voicemails x %d s (%.2f MB each), %d threads, fsync=%d\n", n, seconds,
              wav.size() / 1e6, threads, fsync ? 1 : 0);
  std::printf("  total %.2f s  %.1f voicemails/s  %.1f MB/s of audio  latency p50 %.1f ms  "
              "p99 %.1f ms  max %.1f ms\n",
              secs, n / secs, mb / secs, Percentile(latencies_ms, 0.5),
              Percentile(latencies_ms, 0.99), Percentile(latencies_ms, 1.0));

  // Playback path: a signed link and a 64 KiB range from the middle of each voicemail.
  const absl::Time t1 = absl::Now();
  size_t bytes = 0;
  for (const std::string& id : ids) {
    absl::StatusOr<SignedUrl> url = core.PlaybackUrl(
        Caller{"bench-company", "user-1", "tech"}, ItemKind::kVoicemail, id);
    if (!url.ok()) return bench::Fail("url", url.status());
    PlaybackRequest p;
    p.kind = ItemKind::kVoicemail;
    p.query = http::ParseQuery(url->url.substr(url->url.find('?') + 1));
    p.range = absl::StrCat("bytes=", wav.size() / 2, "-", wav.size() / 2 + 65535);
    PlaybackResponse resp = core.Play(p);
    if (resp.status != 206) {
      std::fprintf(stderr, "playback status %d: %s\n", resp.status, resp.body.c_str());
      return 1;
    }
    // The body streams: pull it as the HTTP server would.
    std::string buf(64 << 10, '\0');
    for (uint64_t left = resp.content_length; left > 0;) {
      absl::StatusOr<size_t> got = resp.stream->Read(buf.data(), std::min<uint64_t>(left, buf.size()));
      if (!got.ok()) return bench::Fail("playback stream", got.status());
      if (*got == 0) return bench::Fail("playback stream", absl::DataLossError("ended early"));
      left -= *got;
      bytes += *got;
    }
  }
  const double play_secs = absl::ToDoubleSeconds(absl::Now() - t1);
  std::printf("playback: %zu signed links + 64 KiB ranged decrypts in %.2f s (%.1f/s, %.1f ms "
              "each, %.1f MB served)\n",
              ids.size(), play_secs, ids.size() / play_secs, 1000 * play_secs / ids.size(),
              bytes / 1e6);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}
