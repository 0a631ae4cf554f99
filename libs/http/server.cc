#include "libs/http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/log.h"

namespace switchboard::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------
// Request / Response / Router

std::optional<std::string> Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::JsonError(int status, absl::string_view code, absl::string_view message) {
  std::string body = "{\"error\":{\"code\":\"";
  log::AppendJsonEscaped(body, code);
  body += "\",\"message\":\"";
  log::AppendJsonEscaped(body, message);
  body += "\"}}";
  return Json(status, std::move(body));
}

Response Response::Stream(int status, uint64_t content_length,
                          std::shared_ptr<BodySource> source) {
  Response r;
  r.status = status;
  r.content_length = content_length;
  r.body_source = std::move(source);
  return r;
}

void Router::Add(std::string method, std::string path, Handler handler) {
  routes_[std::move(path)][std::move(method)] = std::move(handler);
}

void Router::SetFallback(Handler handler) { fallback_ = std::move(handler); }

Response Router::Dispatch(const Request& request) const {
  const Handler* handler = nullptr;
  auto path_it = routes_.find(request.path);
  if (path_it == routes_.end()) {
    if (!fallback_) {
      return Response::JsonError(404, "not_found", absl::StrCat("no route for ", request.path));
    }
    handler = &fallback_;
  } else {
    auto method_it = path_it->second.find(request.method);
    if (method_it == path_it->second.end()) {
      std::vector<absl::string_view> allowed;
      for (const auto& [method, unused] : path_it->second) allowed.push_back(method);
      Response r = Response::JsonError(
          405, "method_not_allowed",
          absl::StrCat("method ", request.method, " not allowed on ", request.path));
      r.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
      return r;
    }
    handler = &method_it->second;
  }
  try {
    return (*handler)(request);
  } catch (const std::exception& e) {
    log::Error("http handler threw",
               {{"method", request.method}, {"path", request.path}, {"error", e.what()}});
  } catch (...) {
    log::Error("http handler threw a non-std exception",
               {{"method", request.method}, {"path", request.path}});
  }
  return Response::JsonError(500, "internal", "internal error");
}

// ---------------------------------------------------------------------------------------------
// Server internals

namespace {

constexpr size_t kHeaderLimit = 8 * 1024;
// After an error response the peer may still be sending a body; reading (and discarding) it for
// a moment before closing avoids a TCP reset that would destroy the response in flight.
constexpr auto kDrainTime = std::chrono::seconds(1);
constexpr size_t kMaxDrainBytes = 8 << 20;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

bool IsValidHeaderName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || c == ':') return false;
  }
  return true;
}

bool IsValidHeaderValue(absl::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

class Session;

class Server::Impl {
 public:
  Impl(ServerOptions options, Router router)
      : options_(std::move(options)),
        router_(std::move(router)),
        acceptor_(asio::make_strand(ioc_)),
        accept_retry_timer_(acceptor_.get_executor()),
        work_(asio::make_work_guard(ioc_)) {}

  ~Impl() { Stop(); }

  absl::Status Listen();
  void Run();
  void Stop();
  int port() const { return port_; }

  const Router& router() const { return router_; }
  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  void SessionStarted(const std::shared_ptr<Session>& session);
  void SessionEnded(Session* session);

  StreamStats stream_stats() const {
    return StreamStats{.started = streams_started_.load(std::memory_order_relaxed),
                       .completed = streams_completed_.load(std::memory_order_relaxed),
                       .source_errors = stream_source_errors_.load(std::memory_order_relaxed),
                       .client_aborts = stream_client_aborts_.load(std::memory_order_relaxed)};
  }
  void CountStream(StreamEvent event) {
    switch (event) {
      case StreamEvent::kStarted:
        streams_started_.fetch_add(1, std::memory_order_relaxed);
        break;
      case StreamEvent::kCompleted:
        streams_completed_.fetch_add(1, std::memory_order_relaxed);
        break;
      case StreamEvent::kSourceError:
        stream_source_errors_.fetch_add(1, std::memory_order_relaxed);
        break;
      case StreamEvent::kClientAbort:
        stream_client_aborts_.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    if (options_.stream_observer) options_.stream_observer(event);
  }
  std::atomic<uint64_t> streams_started_{0};
  std::atomic<uint64_t> streams_completed_{0};
  std::atomic<uint64_t> stream_source_errors_{0};
  std::atomic<uint64_t> stream_client_aborts_{0};

 private:
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  // Declared before ioc_: destroying ioc_ destroys pending handlers, which may end sessions,
  // which touch these.
  const ServerOptions options_;
  const Router router_;
  absl::Mutex mu_;
  std::map<Session*, std::weak_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
  // Held for the whole of Stop() so that a concurrent second caller also returns only when done.
  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

// One TCP connection. Every member is touched only on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Server::Impl& server)
      : server_(server), stream_(std::move(socket)), idle_timer_(stream_.get_executor()) {
    beast::error_code ec;
    tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_address_ = peer.address().to_string();
      remote_port_ = peer.port();
    }
  }

  ~Session() { server_.SessionEnded(this); }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // Graceful stop: idle connections close now; a busy one closes after its response.
  void RequestStop() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stop_requested_ = true;
      if (self->state_ == State::kIdle) self->Close();
    });
  }

  // Hard stop for connections that outlived the grace period.
  void ForceClose() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kIdle, kBusy, kDraining, kClosed };

  void WaitForRequest() {
    if (stop_requested_ || server_.stopping()) return Close();
    parser_.reset();
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already buffered
    state_ = State::kIdle;
    idle_timer_.expires_after(ToChrono(server_.options().read_timeout));
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->state_ == State::kIdle) self->Close();  // keep-alive idle timeout
    });
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](beast::error_code ec) {
                                  if (self->state_ != State::kIdle) return;
                                  self->idle_timer_.cancel();
                                  if (ec) return self->Close();
                                  self->ReadHeader();
                                });
  }

  void ReadHeader() {
    state_ = State::kBusy;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_.options().body_limit);
    // One deadline for the whole request: headers, optional 100-continue and body.
    stream_.expires_after(ToChrono(server_.options().read_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return Handle();
    auto expect = parser_->get().find(bhttp::field::expect);
    if (expect != parser_->get().end() &&
        absl::EqualsIgnoreCase(absl::string_view(expect->value().data(), expect->value().size()),
                               "100-continue")) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue, sizeof(kContinue) - 1),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->Handle();
                      });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return WriteError(Response::JsonError(413, "payload_too_large",
                                            absl::StrCat("request body exceeds ",
                                                         server_.options().body_limit, " bytes")));
    }
    if (ec == bhttp::error::header_limit) {
      return WriteError(
          Response::JsonError(431, "headers_too_large", "request headers exceed 8192 bytes"));
    }
    if (ec.category() == beast::error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return WriteError(Response::JsonError(400, "bad_request", "malformed HTTP request"));
    }
    // EOF, reset, timeout, partial message: nobody to answer.
    Close();
  }

  void Handle() {
    stream_.expires_never();
    bhttp::request<bhttp::string_body> message = parser_->release();
    parser_.reset();
    Request request;
    request.method = Str(message.method_string());
    request.target = Str(message.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      request.headers.emplace_back(Str(field.name_string()), Str(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;
    request.remote_port = remote_port_;

    Response response = server_.router().Dispatch(request);
    Write(std::move(response), message.version(), message.keep_alive());
  }

  // Status line and the handler's headers (invalid or server-owned ones dropped).
  template <class Body>
  static void FillHead(bhttp::response<Body>& out, const Response& response, unsigned version) {
    out.version(version);
    out.result(static_cast<unsigned>(response.status));
    out.set(bhttp::field::server, "switchboard");
    for (const auto& [name, value] : response.headers) {
      if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) {
        log::Error("http handler returned an invalid header; dropped", {{"header", name}});
        continue;
      }
      if (absl::EqualsIgnoreCase(name, "content-length") ||
          absl::EqualsIgnoreCase(name, "connection") ||
          absl::EqualsIgnoreCase(name, "transfer-encoding") ||
          absl::EqualsIgnoreCase(name, "server")) {
        continue;
      }
      out.insert(beast::string_view(name.data(), name.size()),
                 beast::string_view(value.data(), value.size()));
    }
  }

  void Write(Response response, unsigned version, bool keep_alive) {
    if (response.status < 100 || response.status > 999) {
      log::Error("http handler returned an invalid status",
                 {{"status", std::to_string(response.status)}});
      response = Response::JsonError(500, "internal", "internal error");
    }
    const bool close = !keep_alive || stop_requested_ || server_.stopping();
    if (response.body_source != nullptr) {
      if (response.content_length > 0) return WriteStream(std::move(response), version, close);
      response.body_source.reset();  // nothing to pull: an empty body
      response.body.clear();
    }
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    FillHead(*out, response, version);
    out->body() = std::move(response.body);
    out->keep_alive(!close);
    out->prepare_payload();
    // A client that stops reading must not pin the connection forever.
    stream_.expires_after(ToChrono(server_.options().write_timeout));
    bhttp::async_write(stream_, *out,
                       [self = shared_from_this(), out, close](beast::error_code ec, size_t) {
                         if (ec || close) return self->Close();
                         self->WaitForRequest();
                       });
  }

  // A streamed body: the head first, then one buffer at a time pulled from the source, each
  // written (under write_timeout) before the next is pulled.
  void WriteStream(Response response, unsigned version, bool close) {
    auto st = std::make_unique<StreamState>();
    FillHead(st->message, response, version);
    st->message.content_length(response.content_length);
    st->message.keep_alive(!close);
    st->message.body().data = nullptr;
    st->message.body().size = 0;
    st->message.body().more = true;
    st->source = std::move(response.body_source);
    st->remaining = response.content_length;
    st->close = close;
    st->buffer.resize(static_cast<size_t>(
        std::min<uint64_t>(server_.options().stream_buffer_bytes, response.content_length)));
    st->serializer.emplace(st->message);
    stream_state_ = std::move(st);
    stream_.expires_after(ToChrono(server_.options().write_timeout));
    bhttp::async_write_header(stream_, *stream_state_->serializer,
                              [self = shared_from_this()](beast::error_code ec, size_t) {
                                if (ec) return self->EndStream(StreamEnd::kClientGone);
                                self->server_.CountStream(StreamEvent::kStarted);
                                self->StreamNext();
                              });
  }

  void StreamNext() {
    StreamState& st = *stream_state_;
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(st.buffer.size(), st.remaining));
    absl::StatusOr<size_t> got = absl::InternalError("body source threw");
    try {
      got = st.source->Read(st.buffer.data(), want);
    } catch (const std::exception& e) {
      got = absl::InternalError(absl::StrCat("body source threw: ", e.what()));
    } catch (...) {
      got = absl::InternalError("body source threw a non-std exception");
    }
    if (got.ok() && (*got == 0 || *got > want)) {
      got = absl::InternalError(absl::StrCat("body source returned ", *got, " bytes with ",
                                             st.remaining, " of the Content-Length left"));
    }
    if (!got.ok()) {
      log::Error("http streamed body failed mid-response; connection aborted",
                 {{"remote", remote_address_},
                  {"bytes_left", std::to_string(st.remaining)},
                  {"error", got.status().ToString()}});
      return EndStream(StreamEnd::kSourceFailed);
    }
    st.remaining -= *got;
    st.message.body().data = st.buffer.data();
    st.message.body().size = *got;
    st.message.body().more = st.remaining > 0;
    stream_.expires_after(ToChrono(server_.options().write_timeout));
    bhttp::async_write(stream_, *st.serializer,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         // need_buffer: the serializer wrote our buffer and wants the next one.
                         if (ec == bhttp::error::need_buffer) ec = {};
                         if (ec) return self->EndStream(StreamEnd::kClientGone);
                         if (self->stream_state_->remaining > 0) return self->StreamNext();
                         self->EndStream(StreamEnd::kDone);
                       });
  }

  enum class StreamEnd { kDone, kClientGone, kSourceFailed };

  // Releases the stream (and its source) and continues or ends the connection.
  void EndStream(StreamEnd how) {
    const bool close = stream_state_->close;
    stream_state_.reset();
    switch (how) {
      case StreamEnd::kDone:
        server_.CountStream(StreamEvent::kCompleted);
        if (close) return Close();
        return WaitForRequest();
      case StreamEnd::kClientGone:
        server_.CountStream(StreamEvent::kClientAbort);
        return Close();
      case StreamEnd::kSourceFailed: {
        server_.CountStream(StreamEvent::kSourceError);
        return Close(/*reset=*/true);
      }
    }
  }

  // Sends an error response, then closes after draining what the peer is still sending.
  void WriteError(Response response) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(11);
    out->result(static_cast<unsigned>(response.status));
    out->set(bhttp::field::server, "switchboard");
    for (const auto& [name, value] : response.headers) {
      out->insert(beast::string_view(name.data(), name.size()),
                  beast::string_view(value.data(), value.size()));
    }
    out->body() = std::move(response.body);
    out->keep_alive(false);
    out->prepare_payload();
    parser_.reset();
    stream_.expires_after(ToChrono(server_.options().write_timeout));
    bhttp::async_write(stream_, *out, [self = shared_from_this(), out](beast::error_code ec,
                                                                       size_t) {
      if (ec) return self->Close();
      self->DrainAndClose();
    });
  }

  void DrainAndClose() {
    state_ = State::kDraining;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrainBytes) return self->Close();
                              self->DrainSome();
                            });
  }

  // `reset`: abort with a TCP reset instead of a FIN, so that no client can take a short
  // streamed body for a complete one.
  void Close(bool reset = false) {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    idle_timer_.cancel();
    beast::error_code ignored;
    if (reset) {
      stream_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    stream_.close();
  }

  // The response being streamed; only one exists at a time (one request at a time). Reset by
  // the write completion handlers, never by Close(): a pending write still refers to it.
  struct StreamState {
    bhttp::response<bhttp::buffer_body> message;
    std::optional<bhttp::response_serializer<bhttp::buffer_body>> serializer;
    std::shared_ptr<BodySource> source;
    std::vector<char> buffer;
    uint64_t remaining = 0;
    bool close = false;
  };

  Server::Impl& server_;
  beast::tcp_stream stream_;
  asio::steady_timer idle_timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<StreamState> stream_state_;
  std::array<char, 4096> scratch_;
  size_t drained_ = 0;
  std::string remote_address_;
  int remote_port_ = 0;
  State state_ = State::kIdle;
  bool stop_requested_ = false;
};

absl::Status Server::Impl::Listen() {
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions.address: not an IP address: '", options_.address, "'"));
  }
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port));
  const std::string where = absl::StrCat(options_.address, ":", options_.port);
  auto failed = [&](absl::string_view step) {
    return absl::UnavailableError(absl::StrCat(step, " ", where, ": ", ec.message()));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return failed("open socket for");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return failed("SO_REUSEADDR on");
  acceptor_.bind(endpoint, ec);
  if (ec) return failed("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed("listen on");
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return failed("local port of");
  return absl::OkStatus();
}

void Server::Impl::Run() {
  asio::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
  threads_.reserve(options_.threads);
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          // Nothing should throw out of a handler; log and keep serving if one does.
          log::Error("http io thread caught an exception", {{"error", e.what()}});
        }
      }
    });
  }
}

void Server::Impl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_),
                         [this](beast::error_code ec, tcp::socket socket) {
                           OnAccept(ec, std::move(socket));
                         });
}

void Server::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping() || !acceptor_.is_open()) return;
  if (ec) {
    // EMFILE and friends: back off briefly instead of spinning on the error.
    log::Warn("http accept failed", {{"error", ec.message()}});
    accept_retry_timer_.expires_after(std::chrono::milliseconds(50));
    accept_retry_timer_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping()) DoAccept();
    });
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), *this);
  SessionStarted(session);
  session->Start();
  DoAccept();
}

void Server::Impl::SessionStarted(const std::shared_ptr<Session>& session) {
  absl::MutexLock lock(&mu_);
  sessions_.emplace(session.get(), session);
}

void Server::Impl::SessionEnded(Session* session) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(session);
}

void Server::Impl::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
  });

  std::vector<std::shared_ptr<Session>> live;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->RequestStop();
  live.clear();  // the sessions' own handlers keep them alive while they work

  auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sessions_.empty(); };
  bool done;
  {
    absl::MutexLock lock(&mu_);
    done = mu_.AwaitWithTimeout(absl::Condition(&all_done),
                                options_.read_timeout + absl::Seconds(1));
    if (!done) {
      for (auto& [ptr, weak] : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
  }
  if (!done) {
    log::Warn("http server stop: closing connections still busy after the grace period",
              {{"connections", std::to_string(live.size())}});
    for (auto& s : live) s->ForceClose();
    live.clear();
  }
  work_.reset();
  ioc_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

// ---------------------------------------------------------------------------------------------
// Server

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options, Router router) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions.port: out of range: ", options.port));
  }
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions.threads: must be 1..256, got ", options.threads));
  }
  if (options.body_limit == 0) {
    return absl::InvalidArgumentError("ServerOptions.body_limit: must be positive");
  }
  if (options.read_timeout <= absl::ZeroDuration() ||
      options.read_timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("ServerOptions.read_timeout: must be positive and finite");
  }
  if (options.write_timeout <= absl::ZeroDuration() ||
      options.write_timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("ServerOptions.write_timeout: must be positive and finite");
  }
  if (options.stream_buffer_bytes < 512 || options.stream_buffer_bytes > (16 << 20)) {
    return absl::InvalidArgumentError(
        "ServerOptions.stream_buffer_bytes: must be 512 bytes .. 16 MiB");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(router));
  absl::Status listening = impl->Listen();
  if (!listening.ok()) return listening;
  impl->Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

int Server::port() const { return impl_->port(); }

StreamStats Server::stream_stats() const { return impl_->stream_stats(); }

void Server::Stop() { impl_->Stop(); }

}  // namespace switchboard::http
