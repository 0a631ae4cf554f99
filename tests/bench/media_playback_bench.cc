// Streaming playback throughput: one voicemail of S MiB (default 50, the ingest limit) ingested
// through MediaCore (FsBlobStore, Postgres), then fetched over loopback from the playback HTTP
// server (MakePlaybackRouter, libs/http streaming) by a client that reads and discards the body:
// whole-file GETs and 64 KiB Range GETs from the middle. Reports MB/s, time to first byte and
// the growth of the process RSS while streaming (sampled from /proc/self/statm), which shows
// that a request holds a few chunks, not the file. Reads SB_PG_DSN (./tools/dev testenv up).
// Usage: media_playback_bench [mib=50] [full_gets=5] [range_gets=200]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "tests/bench/bench_util.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/audio/audio.h"
#include "libs/blob/fs_blob_store.h"
#include "libs/envelope/data_key_manager.h"
#include "libs/envelope/pg_data_key_store.h"
#include "libs/http/server.h"
#include "libs/testing/testing.h"
#include "services/media/dependencies.h"
#include "services/media/media_core.h"
#include "services/media/playback_http.h"

using namespace switchboard;         // NOLINT: a standalone tool
using namespace switchboard::media;  // NOLINT
namespace asio = boost::asio;

namespace {

class MemoryFetcher final : public RecordingFetcher {
 public:
  explicit MemoryFetcher(const std::string& wav) : wav_(wav) {}
  absl::Status Fetch(absl::string_view, absl::string_view, uint64_t,
                     const std::function<absl::Status(absl::string_view)>& sink) override {
    for (size_t at = 0; at < wav_.size(); at += 64 << 10) {
      absl::Status s = sink(absl::string_view(wav_).substr(at, 64 << 10));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  const std::string& wav_;
};

uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

struct Fetched {
  int status = 0;
  uint64_t body_bytes = 0;
  double first_byte_ms = 0;
};

// GET over a fresh connection, discarding the body in 256 KiB reads.
absl::StatusOr<Fetched> Get(int port, const std::string& target, const std::string& range) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return absl::UnavailableError(ec.message());
  std::string request = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: bench\r\n",
                                     range.empty() ? "" : absl::StrCat("Range: ", range, "\r\n"),
                                     "Connection: close\r\n\r\n");
  const absl::Time start = absl::Now();
  asio::write(socket, asio::buffer(request), ec);
  if (ec) return absl::UnavailableError(ec.message());
  asio::streambuf head_buf;
  const size_t head_len = asio::read_until(socket, head_buf, "\r\n\r\n", ec);
  if (ec) return absl::UnavailableError(ec.message());
  Fetched f;
  f.first_byte_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  std::string head(asio::buffers_begin(head_buf.data()),
                   asio::buffers_begin(head_buf.data()) + head_len);
  f.status = std::atoi(head.c_str() + 9);
  uint64_t length = 0;
  const size_t at = head.find("Content-Length: ");
  if (at == std::string::npos ||
      !absl::SimpleAtoi(head.substr(at + 16, head.find("\r\n", at) - at - 16), &length)) {
    return absl::InternalError("no Content-Length");
  }
  f.body_bytes = head_buf.size() - head_len;
  std::vector<char> buf(256 << 10);
  while (f.body_bytes < length) {
    const size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) return absl::DataLossError(absl::StrCat("body cut at ", f.body_bytes, ": ", ec.message()));
    f.body_bytes += n;
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int mib = std::max(1, bench::IntArg(argc, argv, 1, 50, 0));
  const int full_gets = std::max(1, bench::IntArg(argc, argv, 2, 5, 0));
  const int range_gets = bench::IntArg(argc, argv, 3, 200, 0);
  log::Init("media_playback_bench", log::Level::kWarn);

  auto db = testing::PgTestSchema::Create();
  if (!db.ok()) return bench::Fail("postgres", db.status());
  if (auto s = MigrateMedia((*db)->pool()); !s.ok()) return bench::Fail("migrate", s);
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("media-play-bench-" + testing::RandomSuffix());
  auto fs = blob::FsBlobStore::Create({.root = root.string(), .fsync = false});
  if (!fs.ok()) return bench::Fail("blob store", fs.status());
  auto ring = envelope::MasterKeyRing::Parse("k:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "k");
  if (!ring.ok()) return bench::Fail("ring", ring.status());
  envelope::PgDataKeyStore key_store((*db)->pool());
  envelope::DataKeyManager keys(key_store, *ring, SystemClock());
  PlaybackSigner signer(std::string(32, 's'), "http://127.0.0.1:8081");

  // 8 kHz mono 16-bit: 16,000 bytes per second; stay within the ingest limit.
  const uint64_t want_bytes = std::min<uint64_t>(static_cast<uint64_t>(mib) << 20,
                                                 kMaxAudioBytes - 64);
  std::vector<int16_t> samples((want_bytes - 44) / 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<int16_t>(8000 * std::sin(i * 0.05) + (i % 101) * 13);
  }
  std::string wav = audio::PcmWav(samples);
  std::vector<int16_t>().swap(samples);
  MemoryFetcher fetcher(wav);
  MediaCore core((*db)->pool(), **fs, keys, *ring, &fetcher, signer, SystemClock());
  const Caller owner{"bench-company", "owner", "owner"};
  if (auto s = core.SetVoicemailBox(owner, "box-1", "user-1"); !s.ok()) return bench::Fail("box", s);
  IngestRequest r;
  r.kind = ItemKind::kVoicemail;
  r.company_id = "bench-company";
  r.provider = "twilio";
  r.provider_recording_id = "RE-big";
  r.fetch_ref = "RE-big";
  r.box_id = "box-1";
  r.caller = "+15550000000";
  absl::StatusOr<IngestResult> ingested = (*db)->pool().InTenantOr<IngestResult>(
      r.company_id, [&](pqxx::work& tx) { return core.Ingest(tx, r); });
  if (!ingested.ok()) return bench::Fail("ingest", ingested.status());
  const uint64_t size = wav.size();
  std::string().swap(wav);  // the fetcher is done with it

  auto server = http::Server::Start({.threads = 2}, MakePlaybackRouter(core));
  if (!server.ok()) return bench::Fail("http", server.status());
  absl::StatusOr<SignedUrl> url =
      core.PlaybackUrl(Caller{"bench-company", "user-1", "tech"}, ItemKind::kVoicemail,
                       ingested->id);
  if (!url.ok()) return bench::Fail("url", url.status());
  const std::string target = url->url.substr(url->url.find("/v1/media/"));

  std::atomic<bool> sampling{true};
  const uint64_t rss_before = RssBytes();
  std::atomic<uint64_t> rss_peak{rss_before};
  std::thread sampler([&] {
    while (sampling.load()) {
      rss_peak = std::max<uint64_t>(rss_peak.load(), RssBytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  std::vector<double> ttfb;
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < full_gets; ++i) {
    absl::StatusOr<Fetched> f = Get((*server)->port(), target, "");
    if (!f.ok()) return bench::Fail("full GET", f.status());
    if (f->status != 200 || f->body_bytes != size) {
      std::fprintf(stderr, "full GET: status %d, %llu of %llu bytes\n", f->status,
                   static_cast<unsigned long long>(f->body_bytes),
                   static_cast<unsigned long long>(size));
      return 1;
    }
    ttfb.push_back(f->first_byte_ms);
  }
  const double full_secs = absl::ToDoubleSeconds(absl::Now() - t0);
  const absl::Time t1 = absl::Now();
  for (int i = 0; i < range_gets; ++i) {
    const uint64_t from = (size / 2 + static_cast<uint64_t>(i) * 7919) % (size - 65536);
    absl::StatusOr<Fetched> f =
        Get((*server)->port(), target, absl::StrCat("bytes=", from, "-", from + 65535));
    if (!f.ok()) return bench::Fail("range GET", f.status());
    if (f->status != 206 || f->body_bytes != 65536) {
      std::fprintf(stderr, "range GET: status %d\n", f->status);
      return 1;
    }
  }
  const double range_secs = absl::ToDoubleSeconds(absl::Now() - t1);
  sampling = false;
  sampler.join();
  std::sort(ttfb.begin(), ttfb.end());

  std::printf("playback over loopback HTTP: %.1f MiB voicemail (FsBlobStore, page cache warm)\n",
              size / 1048576.0);
  std::printf("  full GET x%d: %.2f s  %.1f MB/s  time to first byte median %.2f ms\n", full_gets,
              full_secs, size * static_cast<double>(full_gets) / 1e6 / full_secs,
              ttfb[ttfb.size() / 2]);
  if (range_gets > 0) {
    std::printf("  64 KiB Range GET x%d (new connection each): %.2f s  %.0f req/s  %.2f ms each\n",
                range_gets, range_secs, range_gets / range_secs, 1000 * range_secs / range_gets);
  }
  std::printf("  process RSS growth while streaming: %.2f MiB (peak over the pre-stream level)\n",
              (rss_peak.load() - std::min(rss_peak.load(), rss_before)) / 1048576.0);
  std::printf("  server stream stats: started %llu completed %llu source_errors %llu\n",
              static_cast<unsigned long long>((*server)->stream_stats().started),
              static_cast<unsigned long long>((*server)->stream_stats().completed),
              static_cast<unsigned long long>((*server)->stream_stats().source_errors));
  (*server)->Stop();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}
