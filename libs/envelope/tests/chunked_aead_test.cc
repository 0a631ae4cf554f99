#include "libs/envelope/chunked_aead.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/crypto/random.h"

namespace switchboard::envelope {
namespace {

constexpr uint32_t kChunk = 1024;  // small chunks make boundaries cheap to test

std::string Plain(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

struct Keys {
  std::string key = crypto::RandomBytes(32);
  KeyLookup lookup() const {
    return [k = key](uint32_t version) -> absl::StatusOr<std::string> {
      if (version != 3) return absl::NotFoundError("no such version");
      return k;
    };
  }
};

// Encrypts feeding the input in pieces of `piece` bytes.
std::string Encrypt(const Keys& keys, absl::string_view plain, size_t piece,
                    absl::string_view aad = "co1|obj1", uint32_t chunk = kChunk) {
  auto enc = StreamEncryptor::Create(keys.key, 3, aad, chunk);
  REQUIRE(enc.ok());
  std::string out;
  ByteSink sink = [&out](absl::string_view p) {
    out.append(p.data(), p.size());
    return absl::OkStatus();
  };
  for (size_t off = 0; off < plain.size(); off += piece) {
    REQUIRE((*enc)->Update(plain.substr(off, piece), sink).ok());
  }
  REQUIRE((*enc)->Finish(sink).ok());
  CHECK((*enc)->Finish(sink).code() == absl::StatusCode::kFailedPrecondition);
  return out;
}

// Streaming decrypt feeding ciphertext in pieces of `piece` bytes.
absl::StatusOr<std::string> Decrypt(const Keys& keys, absl::string_view sealed, size_t piece,
                                    absl::string_view aad = "co1|obj1") {
  StreamDecryptor dec(keys.lookup(), aad);
  std::string out;
  ByteSink sink = [&out](absl::string_view p) {
    out.append(p.data(), p.size());
    return absl::OkStatus();
  };
  for (size_t off = 0; off < sealed.size(); off += piece) {
    if (absl::Status s = dec.Update(sealed.substr(off, piece), sink); !s.ok()) return s;
  }
  if (absl::Status s = dec.Finish(sink); !s.ok()) return s;
  return out;
}

RangeReader ReaderOf(const std::string& data, int* reads = nullptr,
                     uint64_t* bytes_read = nullptr) {
  return [&data, reads, bytes_read](uint64_t off, uint64_t len, const ByteSink& sink) {
    if (reads) ++*reads;
    if (bytes_read) *bytes_read += len;
    // Deliver in awkward pieces to exercise reassembly.
    absl::string_view v = absl::string_view(data).substr(off, len);
    while (!v.empty()) {
      size_t n = std::min<size_t>(v.size(), 333);
      if (absl::Status s = sink(v.substr(0, n)); !s.ok()) return s;
      v.remove_prefix(n);
    }
    return absl::OkStatus();
  };
}

absl::StatusOr<std::string> Range(const Keys& keys, const std::string& sealed, uint64_t off,
                                  std::optional<uint64_t> len, absl::string_view aad = "co1|obj1",
                                  int* reads = nullptr, uint64_t* bytes_read = nullptr) {
  std::string out;
  absl::Status s = DecryptRange(sealed.size(), ReaderOf(sealed, reads, bytes_read),
                                keys.lookup(), aad, PlainRange{off, len},
                                [&out](absl::string_view p) {
                                  out.append(p.data(), p.size());
                                  return absl::OkStatus();
                                });
  if (!s.ok()) return s;
  return out;
}

TEST_CASE("Chunked AEAD round-trips every size around chunk boundaries",
          "[envelope][aead]") {
  Keys keys;
  for (size_t n : {size_t{0}, size_t{1}, size_t{kChunk - 1}, size_t{kChunk}, size_t{kChunk + 1},
                   size_t{2 * kChunk}, size_t{5 * kChunk + 17}}) {
    for (size_t piece : {size_t{1}, size_t{7}, size_t{kChunk}, size_t{100000}}) {
      if (piece == 1 && n > 3 * kChunk) continue;
      INFO("size " << n << " piece " << piece);
      std::string plain = Plain(n);
      std::string sealed = Encrypt(keys, plain, piece);
      CHECK(sealed.size() == CiphertextSize(n, kChunk));
      CHECK(*PlaintextSize(sealed.size(), kChunk) == n);
      for (size_t dpiece : {size_t{1}, size_t{kChunk + kChunkTagBytes}, size_t{999}, sealed.size()}) {
        if (dpiece == 1 && n > 3 * kChunk) continue;
        absl::StatusOr<std::string> back = Decrypt(keys, sealed, std::max<size_t>(dpiece, 1));
        REQUIRE(back.ok());
        CHECK(*back == plain);
      }
      absl::StatusOr<std::string> all = OpenAll(keys.lookup(), "co1|obj1", sealed);
      REQUIRE(all.ok());
      CHECK(*all == plain);
      absl::StatusOr<std::string> ranged = Range(keys, sealed, 0, std::nullopt);
      if (n == 0) {
        CHECK(ranged.status().code() == absl::StatusCode::kOutOfRange);
      } else {
        REQUIRE(ranged.ok());
        CHECK(*ranged == plain);
      }
    }
  }
}

TEST_CASE("Chunked AEAD round-trips multi-MiB with the default chunk size", "[envelope][aead]") {
  Keys keys;
  std::string plain = Plain((3 << 20) + 12345);
  std::string sealed = Encrypt(keys, plain, 100'003, "aad", kDefaultChunkBytes);
  CHECK(sealed.size() == CiphertextSize(plain.size(), kDefaultChunkBytes));
  CHECK(*Decrypt(keys, sealed, 65'536, "aad") == plain);
  CHECK(*Range(keys, sealed, 1 << 20, 5000, "aad") == plain.substr(1 << 20, 5000));
}

TEST_CASE("Ranged decryption reads only the covering chunks", "[envelope][aead][range]") {
  Keys keys;
  std::string plain = Plain(10 * kChunk + 100);
  std::string sealed = Encrypt(keys, plain, 4096);
  struct R {
    uint64_t off;
    std::optional<uint64_t> len;
  };
  for (R r : {R{0, 1}, R{kChunk - 1, 2}, R{kChunk, kChunk}, R{kChunk - 1, kChunk + 2},
              R{3 * kChunk + 5, std::nullopt}, R{10 * kChunk, 100}, R{10 * kChunk + 99, 1},
              R{10 * kChunk + 50, 1000}, R{0, 1u << 30}, R{5, kChunk * 3}}) {
    INFO("offset " << r.off << " length " << (r.len ? *r.len : 0));
    int reads = 0;
    uint64_t bytes = 0;
    absl::StatusOr<std::string> got = Range(keys, sealed, r.off, r.len, "co1|obj1", &reads, &bytes);
    REQUIRE(got.ok());
    uint64_t want_len = r.len ? std::min<uint64_t>(*r.len, plain.size() - r.off)
                              : plain.size() - r.off;
    CHECK(*got == plain.substr(r.off, want_len));
    CHECK(reads == 2);  // header, then one contiguous run of chunks
    uint64_t first = r.off / kChunk, last = (r.off + want_len - 1) / kChunk;
    CHECK(bytes <= kStreamHeaderBytes + (last - first + 1) * (kChunk + kChunkTagBytes));
  }
  CHECK(Range(keys, sealed, plain.size(), 1).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(Range(keys, sealed, 0, 0).status().code() == absl::StatusCode::kInvalidArgument);
}

// Pulls a whole range through RangeDecryptor in `piece`-byte reads.
absl::StatusOr<std::string> Pull(const Keys& keys, const std::string& sealed,
                                 std::optional<PlainRange> range, size_t piece,
                                 size_t chunks_per_read, int* reads = nullptr,
                                 uint64_t* max_read = nullptr) {
  RangeReader inner = ReaderOf(sealed);
  RangeReader counted = [&](uint64_t off, uint64_t len, const ByteSink& sink) {
    if (reads) ++*reads;
    if (max_read && len > *max_read) *max_read = len;
    return inner(off, len, sink);
  };
  absl::StatusOr<std::unique_ptr<RangeDecryptor>> d = RangeDecryptor::Create(
      sealed.size(), counted, keys.lookup(), "co1|obj1", range, chunks_per_read);
  if (!d.ok()) return d.status();
  std::string out, buf(piece, '\0');
  for (;;) {
    absl::StatusOr<size_t> n = (*d)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  CHECK((*d)->remaining() == 0);
  return out;
}

TEST_CASE("RangeDecryptor streams any range in bounded reads", "[envelope][aead][range]") {
  Keys keys;
  std::string plain = Plain(10 * kChunk + 100);
  std::string sealed = Encrypt(keys, plain, 4096);
  struct R {
    uint64_t off;
    std::optional<uint64_t> len;
  };
  for (size_t per_read : {size_t{1}, size_t{3}, size_t{64}}) {
    for (R r : {R{0, std::nullopt}, R{0, 1}, R{kChunk - 1, 2}, R{kChunk, kChunk},
                R{3 * kChunk + 5, std::nullopt}, R{10 * kChunk + 99, 1}, R{5, kChunk * 3},
                R{0, 1u << 30}}) {
      INFO("per_read " << per_read << " offset " << r.off << " length " << (r.len ? *r.len : 0));
      int reads = 0;
      uint64_t max_read = 0;
      absl::StatusOr<std::string> got =
          Pull(keys, sealed, PlainRange{r.off, r.len}, 700, per_read, &reads, &max_read);
      REQUIRE(got.ok());
      uint64_t want_len =
          r.len ? std::min<uint64_t>(*r.len, plain.size() - r.off) : plain.size() - r.off;
      CHECK(*got == plain.substr(r.off, want_len));
      uint64_t chunks = (r.off + want_len - 1) / kChunk - r.off / kChunk + 1;
      CHECK(reads == static_cast<int>(1 + (chunks + per_read - 1) / per_read));
      CHECK(max_read <= std::max<uint64_t>(kStreamHeaderBytes, per_read * (kChunk + 16)));
    }
  }
  absl::StatusOr<std::string> whole = Pull(keys, sealed, std::nullopt, 4096, 2);
  REQUIRE(whole.ok());
  CHECK(*whole == plain);
  CHECK(Pull(keys, sealed, PlainRange{plain.size(), 1}, 10, 1).status().code() ==
        absl::StatusCode::kOutOfRange);
  CHECK(Pull(keys, sealed, PlainRange{0, 0}, 10, 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Pull(keys, sealed, std::nullopt, 10, 0).status().code() ==
        absl::StatusCode::kInvalidArgument);

  // With the header already read, only the chunk batches are read.
  absl::StatusOr<StreamInfo> info = ReadStreamInfo(sealed.size(), ReaderOf(sealed));
  REQUIRE(info.ok());
  int reads = 0;
  auto d = RangeDecryptor::Create(sealed.size(), *info, ReaderOf(sealed, &reads), keys.lookup(),
                                  "co1|obj1", PlainRange{kChunk + 1, 10});
  REQUIRE(d.ok());
  std::string buf(64, '\0');
  absl::StatusOr<size_t> n = (*d)->Read(buf.data(), buf.size());
  REQUIRE(n.ok());
  CHECK(buf.substr(0, *n) == plain.substr(kChunk + 1, 10));
  CHECK(reads == 1);
  // Info of another size is refused.
  CHECK(RangeDecryptor::Create(sealed.size() - 1, *info, ReaderOf(sealed), keys.lookup(),
                               "co1|obj1", std::nullopt)
            .status()
            .code() != absl::StatusCode::kOk);
}

TEST_CASE("RangeDecryptor fails a tampered chunk before releasing any of its batch",
          "[envelope][aead][range]") {
  Keys keys;
  std::string plain = Plain(8 * kChunk);
  std::string sealed = Encrypt(keys, plain, 4096);
  const size_t record = kChunk + kChunkTagBytes;
  std::string flipped = sealed;
  flipped[kStreamHeaderBytes + 5 * record + 3] ^= 0x40;  // chunk 5
  auto d = RangeDecryptor::Create(flipped.size(), ReaderOf(flipped), keys.lookup(), "co1|obj1",
                                  std::nullopt, /*chunks_per_read=*/2);
  REQUIRE(d.ok());
  REQUIRE((*d)->Prefetch().ok());  // chunks 0-1 are fine
  std::string out, buf(kChunk, '\0');
  absl::Status failure;
  for (;;) {
    absl::StatusOr<size_t> n = (*d)->Read(buf.data(), buf.size());
    if (!n.ok()) {
      failure = n.status();
      break;
    }
    REQUIRE(*n > 0);
    out.append(buf.data(), *n);
  }
  CHECK(failure.code() == absl::StatusCode::kDataLoss);
  CHECK(out == plain.substr(0, 4 * kChunk));  // batches 0-1 and 2-3; never chunk 4 of 4-5
  CHECK((*d)->Read(buf.data(), buf.size()).status().code() == absl::StatusCode::kDataLoss);
  CHECK((*d)->Prefetch().code() == absl::StatusCode::kDataLoss);

  // Under another object's aad nothing authenticates: the first batch fails at Prefetch.
  auto other = RangeDecryptor::Create(sealed.size(), ReaderOf(sealed), keys.lookup(), "co1|obj2",
                                      std::nullopt);
  REQUIRE(other.ok());
  CHECK((*other)->Prefetch().code() == absl::StatusCode::kDataLoss);
  // A reader that comes up short is DATA_LOSS too.
  RangeReader short_reader = [&](uint64_t off, uint64_t len, const ByteSink& sink) {
    return sink(absl::string_view(sealed).substr(off, off == 0 ? len : len - 1));
  };
  auto truncated = RangeDecryptor::Create(sealed.size(), short_reader, keys.lookup(), "co1|obj1",
                                          std::nullopt);
  REQUIRE(truncated.ok());
  CHECK((*truncated)->Prefetch().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("Chunked AEAD detects every kind of tampering with DATA_LOSS", "[envelope][aead]") {
  Keys keys;
  std::string plain = Plain(4 * kChunk + 10);  // 5 chunks, last partial
  std::string sealed = Encrypt(keys, plain, 500);
  const size_t rec = kChunk + kChunkTagBytes;
  auto chunk_at = [&](size_t i) { return kStreamHeaderBytes + i * rec; };
  auto expect_data_loss = [&](const std::string& bad, const char* what) {
    INFO(what);
    CHECK(Decrypt(keys, bad, 777).status().code() == absl::StatusCode::kDataLoss);
    CHECK(OpenAll(keys.lookup(), "co1|obj1", bad).status().code() == absl::StatusCode::kDataLoss);
    absl::StatusOr<std::string> ranged = Range(keys, bad, 0, std::nullopt);
    CHECK_FALSE(ranged.ok());
    if (!ranged.ok()) CHECK(ranged.status().code() == absl::StatusCode::kDataLoss);
  };

  SECTION("a flipped ciphertext bit") {
    std::string bad = sealed;
    bad[chunk_at(2) + 10] ^= 1;
    expect_data_loss(bad, "bit flip");
    // Chunks before the damage still decrypt in a ranged read; the damaged one does not.
    CHECK(Range(keys, bad, 0, kChunk).ok());
    CHECK(Range(keys, bad, 2 * kChunk, 1).status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a flipped tag bit") {
    std::string bad = sealed;
    bad[chunk_at(1) + rec - 1] ^= 0x80;
    expect_data_loss(bad, "tag");
  }
  SECTION("swapped chunks") {
    std::string bad = sealed;
    std::string c1 = sealed.substr(chunk_at(1), rec), c2 = sealed.substr(chunk_at(2), rec);
    bad.replace(chunk_at(1), rec, c2);
    bad.replace(chunk_at(2), rec, c1);
    expect_data_loss(bad, "reorder");
  }
  SECTION("a duplicated chunk") {
    std::string bad = sealed;
    bad.replace(chunk_at(2), rec, sealed.substr(chunk_at(1), rec));
    expect_data_loss(bad, "duplicate in place");
    std::string longer = sealed.substr(0, chunk_at(4)) + sealed.substr(chunk_at(3), rec) +
                         sealed.substr(chunk_at(4));
    expect_data_loss(longer, "duplicate inserted");
  }
  SECTION("truncation at a chunk boundary") {
    std::string bad = sealed.substr(0, chunk_at(4));  // last (final) chunk dropped
    expect_data_loss(bad, "drop final chunk");
    expect_data_loss(sealed.substr(0, chunk_at(1)), "only the first chunk");
  }
  SECTION("truncation inside a chunk or the header") {
    expect_data_loss(sealed.substr(0, sealed.size() - 1), "one byte short");
    expect_data_loss(sealed.substr(0, chunk_at(2) + 5), "inside a chunk");
    expect_data_loss(sealed.substr(0, 20), "inside the header");
    expect_data_loss("", "empty");
  }
  SECTION("appended garbage") {
    expect_data_loss(sealed + std::string(kChunkTagBytes + 3, 'x'), "appended");
  }
  SECTION("header fields") {
    for (size_t pos : {size_t{0}, size_t{4}, size_t{6}, size_t{11}, size_t{15}, size_t{20},
                       size_t{35}, size_t{43}}) {
      std::string bad = sealed;
      bad[pos] ^= 1;
      INFO("header byte " << pos);
      absl::StatusOr<std::string> got = Decrypt(keys, bad, 4096);
      REQUIRE_FALSE(got.ok());
      // Byte 11 is the key version: the lookup refuses it (NotFound) before any decryption.
      if (pos != 11) CHECK(got.status().code() == absl::StatusCode::kDataLoss);
    }
  }
  SECTION("a chunk from another file under the same key") {
    std::string other = Encrypt(keys, plain, 500);
    std::string bad = sealed;
    bad.replace(chunk_at(1), rec, other.substr(chunk_at(1), rec));
    expect_data_loss(bad, "foreign chunk");
    // Even a whole foreign file with our header fails (file id and nonce are bound).
    std::string spliced = sealed.substr(0, kStreamHeaderBytes) + other.substr(kStreamHeaderBytes);
    expect_data_loss(spliced, "foreign body");
  }
  SECTION("another caller aad (object moved) or another company key") {
    CHECK(Decrypt(keys, sealed, 4096, "co1|obj2").status().code() == absl::StatusCode::kDataLoss);
    Keys other;
    CHECK(Decrypt(other, sealed, 4096).status().code() == absl::StatusCode::kDataLoss);
    CHECK(Range(other, sealed, 10, 10).status().code() == absl::StatusCode::kDataLoss);
  }
}

TEST_CASE("Chunked AEAD hides the plaintext and randomises each file", "[envelope][aead]") {
  Keys keys;
  std::string plain(10 * kChunk, 'A');
  std::string a = Encrypt(keys, plain, 4096), b = Encrypt(keys, plain, 4096);
  CHECK(a != b);
  CHECK(a.find(std::string(32, 'A')) == std::string::npos);
  CHECK(a.substr(0, 4) == "SBEC");
}

TEST_CASE("Chunked AEAD validates its inputs", "[envelope][aead]") {
  CHECK(StreamEncryptor::Create("short", 1, "").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(StreamEncryptor::Create(std::string(32, 'k'), 1, "", 8).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(StreamEncryptor::Create(std::string(32, 'k'), 1, "", kMaxChunkBytes + 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(PlaintextSize(kStreamHeaderBytes + kChunkTagBytes - 1, kChunk).status().code() ==
        absl::StatusCode::kDataLoss);
  CHECK(*PlaintextSize(kStreamHeaderBytes + kChunkTagBytes, kChunk) == 0);
  // A key lookup failure (e.g. a shredded key) comes back unchanged.
  Keys keys;
  std::string sealed = Encrypt(keys, "hello", 5);
  KeyLookup shredded = [](uint32_t) -> absl::StatusOr<std::string> {
    return absl::FailedPreconditionError("company data key shredded");
  };
  CHECK(OpenAll(shredded, "co1|obj1", sealed).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // A sink error stops encryption and is returned.
  auto enc = StreamEncryptor::Create(keys.key, 3, "");
  REQUIRE(enc.ok());
  CHECK((*enc)->Update("x", [](absl::string_view) { return absl::CancelledError("stop"); })
            .code() == absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace switchboard::envelope
