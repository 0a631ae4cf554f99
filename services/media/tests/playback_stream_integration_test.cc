// Streaming playback: multi-MiB audio served by HTTP Range through the real playback HTTP
// server, reading only the encrypted chunks that cover each range, from the filesystem store and
// from MinIO (S3); tampering found mid-stream aborts the response after its headers.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/blob/tests/s3_test_bucket.h"
#include "libs/envelope/chunked_aead.h"
#include "libs/http/client.h"
#include "libs/http/server.h"
#include "services/media/playback_http.h"
#include "services/media/tests/media_fixture.h"

namespace switchboard::media {
namespace {

using testing::IngestNow;
using testing::MediaWorld;
using testing::PlayUrl;
using testing::RecordingRequest;
using testing::TestWav;
using testing::ValueOrFail;

const Caller kOwner{"company-a", "user-owner", "owner"};
constexpr uint64_t kChunk = envelope::kDefaultChunkBytes;
constexpr uint64_t kRecord = kChunk + envelope::kChunkTagBytes;

std::string OnPort(const std::string& url, int port) {
  return absl::StrCat("http://127.0.0.1:", port, url.substr(url.find("/v1/media/")));
}

// Counts the bytes read from the store, to show a range reads only its chunks.
class CountingBlobStore final : public blob::BlobStore {
 public:
  explicit CountingBlobStore(blob::BlobStore& inner) : inner_(inner) {}
  std::atomic<uint64_t> bytes_read{0};

  absl::StatusOr<std::unique_ptr<blob::BlobWriter>> NewWriter(absl::string_view key) override {
    return inner_.NewWriter(key);
  }
  absl::Status Get(absl::string_view key, const std::optional<blob::ByteRange>& range,
                   const blob::ChunkSink& sink) override {
    return inner_.Get(key, range, [&](absl::string_view piece) {
      bytes_read += piece.size();
      return sink(piece);
    });
  }
  absl::StatusOr<blob::BlobInfo> Stat(absl::string_view key) override { return inner_.Stat(key); }
  absl::Status Delete(absl::string_view key) override { return inner_.Delete(key); }
  absl::StatusOr<blob::ListPage> List(absl::string_view prefix, absl::string_view token,
                                      int max_keys) override {
    return inner_.List(prefix, token, max_keys);
  }

 private:
  blob::BlobStore& inner_;
};

struct RangeCase {
  std::string header;
  uint64_t first = 0, last = 0;  // inclusive
};

// Full playback and the ranges every player uses, over HTTP, against `w`'s store.
void CheckStreamsOverHttp(MediaWorld& w, CountingBlobStore* counter) {
  const std::string wav = TestWav(400.0);  // 6.4 MB: ~98 chunks of 64 KiB
  REQUIRE(wav.size() > 6'000'000);
  w.fetcher.Put("RE-big", wav);
  IngestResult rec = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE-big")), "ingest");
  SignedUrl link = ValueOrFail(w.core->PlaybackUrl(kOwner, ItemKind::kRecording, rec.id), "url");

  auto server = ValueOrFail(http::Server::Start({.threads = 2}, MakePlaybackRouter(*w.core)),
                            "http");
  auto client = ValueOrFail(http::CurlHttpClient::Create(), "curl");
  const std::string url = OnPort(link.url, server->port());

  auto full = ValueOrFail(client->Send({.url = url, .timeout = absl::Seconds(60)}), "GET");
  CHECK(full.status == 200);
  CHECK(full.Header("Content-Length").value_or("") == std::to_string(wav.size()));
  CHECK(full.Header("Accept-Ranges").value_or("") == "bytes");
  CHECK(full.body.size() == wav.size());
  CHECK(full.body == wav);

  const uint64_t n = wav.size();
  const uint64_t boundary = 37 * kChunk;
  for (const RangeCase& r : std::vector<RangeCase>{
           {"bytes=0-1023", 0, 1023},                                        // start
           {absl::StrCat("bytes=", boundary - 10, "-", boundary + 9), boundary - 10,
            boundary + 9},                                                   // across a boundary
           {absl::StrCat("bytes=", 3 * kChunk + 5, "-", 40 * kChunk + 7), 3 * kChunk + 5,
            40 * kChunk + 7},                                                // many batches
           {"bytes=-70000", n - 70000, n - 1},                               // suffix
           {absl::StrCat("bytes=", n - 200000, "-"), n - 200000, n - 1},     // open-ended
       }) {
    INFO(r.header);
    const uint64_t before = counter != nullptr ? counter->bytes_read.load() : 0;
    auto part = ValueOrFail(
        client->Send({.url = url, .headers = {{"Range", r.header}}, .timeout = absl::Seconds(60)}),
        "GET range");
    CHECK(part.status == 206);
    CHECK(part.Header("Content-Range").value_or("") ==
          absl::StrCat("bytes ", r.first, "-", r.last, "/", n));
    CHECK(part.Header("Content-Length").value_or("") == std::to_string(r.last - r.first + 1));
    CHECK(part.body == wav.substr(r.first, r.last - r.first + 1));
    if (counter != nullptr) {
      // The header plus the covering chunks, nothing else.
      const uint64_t chunks = r.last / kChunk - r.first / kChunk + 1;
      CHECK(counter->bytes_read.load() - before <= envelope::kStreamHeaderBytes + chunks * kRecord);
    }
  }
  // Every access is audited (the full play and the five ranges).
  CHECK(w.Count("SELECT count(*) FROM access_log WHERE action = 'http_access'") == 6);
  // A stream counts as completed when the server's last write finishes, which the client may
  // not wait for: stopping the server lets every response finish, then the counters are final.
  server->Stop();
  CHECK(server->stream_stats().completed == 6);
  CHECK(server->stream_stats().source_errors == 0);
}

TEST_CASE("multi-MiB audio streams whole and by Range from the filesystem store",
          "[integration][media][http][stream]") {
  const std::filesystem::path root = std::filesystem::temp_directory_path() /
                                     ("media-stream-" + switchboard::testing::RandomSuffix());
  auto fs = ValueOrFail(blob::FsBlobStore::Create({.root = root.string(), .fsync = false}), "fs");
  {
    CountingBlobStore counter(*fs);
    MediaWorld w(&counter);
    CheckStreamsOverHttp(w, &counter);
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

TEST_CASE("multi-MiB audio streams whole and by Range from S3 (MinIO)",
          "[integration][media][http][stream][s3]") {
  auto bucket = blob::testing::S3TestBucket::CreateOrFail();
  CountingBlobStore counter(bucket->store());
  MediaWorld w(&counter);
  CheckStreamsOverHttp(w, &counter);
}

TEST_CASE("a chunk tampered mid-stream aborts the response after its headers",
          "[integration][media][http][stream][tamper]") {
  MediaWorld w;
  const std::string wav = TestWav(130.0);  // ~2 MB: 32 chunks
  w.fetcher.Put("RE-t", wav);
  IngestResult rec = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE-t")), "ingest");
  const std::string key = "company-a/recordings/" + rec.id + ".sbe";
  SignedUrl link = ValueOrFail(w.core->PlaybackUrl(kOwner, ItemKind::kRecording, rec.id), "url");
  std::string sealed = ValueOrFail(w.fs->ReadAll(key, std::nullopt), "read");
  const uint64_t bad_chunk = 20;  // well past the first batch read before the headers
  sealed[envelope::kStreamHeaderBytes + bad_chunk * kRecord + 77] ^= 0x10;
  REQUIRE(w.fs->Put(key, sealed).ok());

  SECTION("the core hands out a stream that fails at the damaged chunk") {
    PlaybackRequest p;
    p.kind = ItemKind::kRecording;
    p.query = testing::QueryOf(link.url);
    p.peer = "203.0.113.7";
    PlaybackResponse play = w.core->Play(p);
    CHECK(play.status == 200);
    REQUIRE(play.stream != nullptr);
    CHECK(play.content_length == wav.size());
    absl::Status drained = testing::DrainStream(play);
    CHECK(drained.code() == absl::StatusCode::kDataLoss);
    CHECK(play.body.size() <= bad_chunk * kChunk);  // nothing of (or after) the bad chunk
    CHECK(play.body == wav.substr(0, play.body.size()));
  }
  SECTION("over HTTP the client sees a cut-off transfer, and ranges elsewhere still play") {
    auto server = ValueOrFail(http::Server::Start({.threads = 2}, MakePlaybackRouter(*w.core)),
                              "http");
    auto client = ValueOrFail(http::CurlHttpClient::Create(), "curl");
    const std::string url = OnPort(link.url, server->port());
    absl::StatusOr<http::HttpResponse> cut = client->Send({.url = url});
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.status().code() == absl::StatusCode::kUnavailable);
    // The server side saw a source error (not a client abort).
    for (int i = 0; i < 2000 && server->stream_stats().source_errors == 0; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    CHECK(server->stream_stats().source_errors == 1);
    CHECK(server->stream_stats().completed == 0);

    // A range starting at the damaged chunk fails before its headers: the usual 500.
    auto at_bad = ValueOrFail(
        client->Send({.url = url,
                      .headers = {{"Range", absl::StrCat("bytes=", bad_chunk * kChunk, "-")}}}),
        "GET bad range");
    CHECK(at_bad.status == 500);
    CHECK(absl::StrContains(at_bad.body, "data_loss"));
    // A range that does not touch it plays.
    auto fine = ValueOrFail(
        client->Send({.url = url,
                      .headers = {{"Range", absl::StrCat("bytes=", (bad_chunk + 1) * kChunk,
                                                         "-")}}}),
        "GET good range");
    CHECK(fine.status == 206);
    CHECK(fine.body == wav.substr((bad_chunk + 1) * kChunk));
    // All three accesses were audited before streaming started.
    CHECK(w.Count("SELECT count(*) FROM access_log WHERE action = 'http_access'") == 3);
  }
}

}  // namespace
}  // namespace switchboard::media
