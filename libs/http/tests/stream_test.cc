// Streamed response bodies (Response::body_source): large bodies, slow and vanishing clients,
// failing sources, keep-alive after a stream.
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/http/server.h"

namespace switchboard::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

char PatternByte(uint64_t i) { return static_cast<char>((i * 2654435761u) >> 13); }

std::string Pattern(uint64_t from, uint64_t n) {
  std::string out(n, '\0');
  for (uint64_t i = 0; i < n; ++i) out[i] = PatternByte(from + i);
  return out;
}

// What a test source reports back to the test (shared: outlives the source).
struct Probe {
  std::atomic<uint64_t> produced{0};
  std::atomic<size_t> largest_request{0};
  std::atomic<bool> destroyed{false};
};

// Yields `total` pattern bytes; fails (or ends early) once `fail_at` bytes were produced.
class PatternSource : public BodySource {
 public:
  enum class Failure { kNone, kError, kEarlyEnd };
  PatternSource(uint64_t total, std::shared_ptr<Probe> probe, Failure failure = Failure::kNone,
                uint64_t fail_at = 0)
      : total_(total), probe_(std::move(probe)), failure_(failure), fail_at_(fail_at) {}
  ~PatternSource() override { probe_->destroyed = true; }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (n > probe_->largest_request) probe_->largest_request = n;
    if (failure_ != Failure::kNone && pos_ >= fail_at_) {
      if (failure_ == Failure::kError) return absl::DataLossError("chunk 7 failed its tag");
      return size_t{0};
    }
    uint64_t limit = failure_ != Failure::kNone ? fail_at_ : total_;
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, limit - pos_));
    for (size_t i = 0; i < take; ++i) buf[i] = PatternByte(pos_ + i);
    pos_ += take;
    probe_->produced += take;
    return take;
  }

 private:
  const uint64_t total_;
  std::shared_ptr<Probe> probe_;
  const Failure failure_;
  const uint64_t fail_at_;
  uint64_t pos_ = 0;
};

// A raw client: reads a response head, then the body at its own pace.
class RawClient {
 public:
  explicit RawClient(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                  static_cast<unsigned short>(port)));
    timeval tv{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  void Get(const std::string& target) {
    std::string raw = "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
    asio::write(socket_, asio::buffer(raw));
  }

  // Reads through the blank line; returns the head and leaves body bytes buffered.
  std::string ReadHead() {
    size_t n = asio::read_until(socket_, buf_, "\r\n\r\n");
    std::string head(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
    buf_.consume(n);
    return head;
  }

  static uint64_t ContentLength(const std::string& head) {
    const std::string key = "Content-Length: ";
    size_t at = head.find(key);
    REQUIRE(at != std::string::npos);
    uint64_t n = 0;
    REQUIRE(absl::SimpleAtoi(head.substr(at + key.size(), head.find("\r\n", at) - at - key.size()),
                             &n));
    return n;
  }

  // Reads up to `max` body bytes (at least one unless the peer ended); `ec` set on EOF/reset.
  std::string ReadSome(size_t max, boost::system::error_code& ec) {
    std::string out;
    if (buf_.size() > 0) {
      size_t n = std::min(max, buf_.size());
      out.assign(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
      buf_.consume(n);
      return out;
    }
    out.resize(max);
    size_t n = socket_.read_some(asio::buffer(out), ec);
    out.resize(n);
    return out;
  }

  // Reads exactly `n` body bytes; stops early on EOF/reset (`ec` set).
  std::string ReadBody(uint64_t n, boost::system::error_code& ec, size_t piece = 1 << 20) {
    std::string body;
    while (body.size() < n && !ec) body += ReadSome(std::min<uint64_t>(piece, n - body.size()), ec);
    return body;
  }

  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  asio::streambuf buf_;
};

bool PollUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

std::unique_ptr<Server> StartStreaming(uint64_t total, std::shared_ptr<Probe> probe,
                                       PatternSource::Failure failure = PatternSource::Failure::kNone,
                                       uint64_t fail_at = 0, ServerOptions options = {}) {
  Router router;
  router.Add("GET", "/stream", [=](const Request&) {
    Response r = Response::Stream(200, total,
                                  std::make_shared<PatternSource>(total, probe, failure, fail_at));
    r.headers.emplace_back("Content-Type", "application/octet-stream");
    r.headers.emplace_back("Content-Length", "1");  // server-owned: ignored
    return r;
  });
  router.Add("GET", "/hello", [](const Request&) { return Response::Text(200, "hello"); });
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, std::move(router));
  REQUIRE(server.ok());
  return std::move(*server);
}

// ServerOptions::stream_observer's calls, per event.
struct ObservedStreams {
  std::atomic<int> counts[4] = {};
  std::function<void(StreamEvent)> Observer() {
    return [this](StreamEvent e) { counts[static_cast<int>(e)].fetch_add(1); };
  }
  int operator[](StreamEvent e) const { return counts[static_cast<int>(e)].load(); }
};

TEST_CASE("a large streamed body arrives whole, in bounded pieces, and keeps the connection",
          "[http][stream]") {
  auto probe = std::make_shared<Probe>();
  const uint64_t total = (20 << 20) + 12345;
  ObservedStreams observed;
  auto server = StartStreaming(total, probe, PatternSource::Failure::kNone, 0,
                               ServerOptions{.stream_observer = observed.Observer()});
  RawClient client(server->port());
  client.Get("/stream");
  std::string head = client.ReadHead();
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Type: application/octet-stream\r\n") != std::string::npos);
  CHECK(head.find("Transfer-Encoding") == std::string::npos);
  CHECK(RawClient::ContentLength(head) == total);
  boost::system::error_code ec;
  std::string body = client.ReadBody(total, ec);
  REQUIRE_FALSE(ec);
  CHECK(body.size() == total);
  CHECK(body == Pattern(0, total));
  CHECK(probe->largest_request <= size_t{64 << 10});
  CHECK(PollUntil([&] { return probe->destroyed.load(); }));

  // The same connection serves the next request.
  client.Get("/hello");
  std::string head2 = client.ReadHead();
  CHECK(head2.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(client.ReadBody(5, ec) == "hello");
  StreamStats stats = server->stream_stats();
  CHECK(stats.started == 1);
  CHECK(stats.completed == 1);
  CHECK(stats.source_errors == 0);
  CHECK(stats.client_aborts == 0);
  // The observer was told of the same events.
  CHECK(observed[StreamEvent::kStarted] == 1);
  CHECK(observed[StreamEvent::kCompleted] == 1);
  CHECK(observed[StreamEvent::kSourceError] == 0);
  CHECK(observed[StreamEvent::kClientAbort] == 0);
}

TEST_CASE("a slow reader gets every byte while the server pulls only as it writes",
          "[http][stream]") {
  auto probe = std::make_shared<Probe>();
  const uint64_t total = 3 << 20;
  ServerOptions options;
  options.stream_buffer_bytes = 4096;
  auto server = StartStreaming(total, probe, PatternSource::Failure::kNone, 0, options);
  RawClient client(server->port());
  client.Get("/stream");
  REQUIRE(RawClient::ContentLength(client.ReadHead()) == total);
  std::string body;
  boost::system::error_code ec;
  while (body.size() < total && !ec) {
    body += client.ReadSome(std::min<uint64_t>(8192, total - body.size()), ec);
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // the slow reader itself
  }
  REQUIRE_FALSE(ec);
  CHECK(body == Pattern(0, total));
  CHECK(probe->largest_request == 4096);
  CHECK(PollUntil([&] { return server->stream_stats().completed == 1; }));
}

TEST_CASE("a client that disconnects mid-body releases the source", "[http][stream]") {
  auto probe = std::make_shared<Probe>();
  const uint64_t total = 256ull << 20;  // far more than any socket buffer
  auto server = StartStreaming(total, probe);
  {
    RawClient client(server->port());
    client.Get("/stream");
    REQUIRE(RawClient::ContentLength(client.ReadHead()) == total);
    boost::system::error_code ec;
    std::string first = client.ReadBody(100000, ec);
    REQUIRE_FALSE(ec);
    CHECK(first == Pattern(0, 100000));
    client.Close();
  }
  CHECK(PollUntil([&] { return probe->destroyed.load(); }));
  CHECK(probe->produced.load() < total);
  CHECK(PollUntil([&] { return server->stream_stats().client_aborts == 1; }));
  CHECK(server->stream_stats().completed == 0);
  // The server is still serving.
  RawClient next(server->port());
  next.Get("/hello");
  CHECK(next.ReadHead().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
}

TEST_CASE("a client that stops reading is cut after write_timeout", "[http][stream]") {
  auto probe = std::make_shared<Probe>();
  const uint64_t total = 256ull << 20;
  ServerOptions options;
  options.write_timeout = absl::Milliseconds(300);
  auto server = StartStreaming(total, probe, PatternSource::Failure::kNone, 0, options);
  RawClient client(server->port());
  client.Get("/stream");
  REQUIRE(RawClient::ContentLength(client.ReadHead()) == total);
  // Read nothing more: the server fills the socket buffers, then times out.
  CHECK(PollUntil([&] { return probe->destroyed.load(); }));
  CHECK(server->stream_stats().client_aborts == 1);
  CHECK(probe->produced.load() < total);
}

TEST_CASE("a source failing mid-body aborts the connection instead of sending garbage",
          "[http][stream]") {
  const uint64_t total = 4 << 20, fail_at = 1 << 20;
  for (auto failure : {PatternSource::Failure::kError, PatternSource::Failure::kEarlyEnd}) {
    INFO((failure == PatternSource::Failure::kError ? "error" : "early end"));
    auto probe = std::make_shared<Probe>();
    ObservedStreams observed;
    auto server = StartStreaming(total, probe, failure, fail_at,
                                 ServerOptions{.stream_observer = observed.Observer()});
    RawClient client(server->port());
    client.Get("/stream");
    std::string head = client.ReadHead();
    CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    REQUIRE(RawClient::ContentLength(head) == total);
    boost::system::error_code ec;
    std::string body = client.ReadBody(total, ec);
    CHECK(ec);  // reset or EOF before Content-Length bytes
    CHECK(body.size() <= fail_at);
    CHECK(body == Pattern(0, body.size()));  // what did arrive is the real prefix
    CHECK(PollUntil([&] { return probe->destroyed.load(); }));
    StreamStats stats = server->stream_stats();
    CHECK(stats.source_errors == 1);
    CHECK(stats.completed == 0);
    CHECK(PollUntil([&] { return observed[StreamEvent::kSourceError] == 1; }));
    CHECK(observed[StreamEvent::kCompleted] == 0);
  }
}

TEST_CASE("a zero-length stream is an empty body and an unset source is a string body",
          "[http][stream]") {
  auto probe = std::make_shared<Probe>();
  auto server = StartStreaming(0, probe);
  RawClient client(server->port());
  client.Get("/stream");
  std::string head = client.ReadHead();
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(RawClient::ContentLength(head) == 0);
  CHECK(probe->largest_request == 0);  // never pulled
  client.Get("/hello");
  CHECK(client.ReadHead().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(PollUntil([&] { return probe->destroyed.load(); }));
}

TEST_CASE("Server::Start validates the streaming options", "[http][stream]") {
  ServerOptions zero_timeout;
  zero_timeout.write_timeout = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<Server>> s = Server::Start(zero_timeout, Router());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.status().message().find("write_timeout") != absl::string_view::npos);
  ServerOptions tiny_buffer;
  tiny_buffer.stream_buffer_bytes = 0;
  s = Server::Start(tiny_buffer, Router());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("stream_buffer_bytes") != absl::string_view::npos);
}

}  // namespace
}  // namespace switchboard::http
