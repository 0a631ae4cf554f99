// Embedded HTTP/1.1 server on Boost.Beast for webhooks, admin endpoints and media playback.
//
// One `Server` owns an io_context run by `ServerOptions::threads` threads. Each connection is
// handled on its own strand, strictly one request at a time (read, handle, write, read next), so
// pipelined requests are answered in order. Handlers therefore run on io threads: a handler that
// blocks for long holds one io thread; keep handlers short or raise `threads`.
//
// Behaviour on the wire:
//   - keep-alive per HTTP/1.1 rules (HTTP/1.0 only with "Connection: keep-alive");
//   - a body larger than `body_limit` -> 413 and the connection is closed;
//   - headers larger than 8 KiB -> 431 and close; a malformed request -> 400 and close;
//   - no complete request within `read_timeout` (idle keep-alive, slow headers or body) -> the
//     connection is closed without a response;
//   - "Expect: 100-continue" is honoured (100 Continue before the body is read);
//   - unknown path -> 404, known path with another method -> 405 with an Allow header, a handler
//     that throws -> 500 (logged); all three with a JSON body
//     {"error":{"code":"not_found|method_not_allowed|internal","message":"..."}};
//   - a response is written under `write_timeout`, renewed for every buffer of a streamed body:
//     a client that stops reading for that long is disconnected;
//   - a streamed body (Response::body_source) goes out with its declared Content-Length in
//     buffers of `stream_buffer_bytes`; a source error mid-body aborts the connection (TCP reset:
//     the client sees a short body, never padding or garbage), is logged and counted in
//     stream_stats().
#pragma once

#include <cstdint>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::http {

// An incoming request, fully read (body included) before the handler runs.
struct Request {
  std::string method;          // "GET", "POST", ... as sent (HTTP methods are case-sensitive)
  std::string target;          // raw request target: path plus "?query", not decoded
  std::string path;            // target before '?', not percent-decoded
  std::string query;           // target after '?', without the '?', not decoded ("" if none)
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order, as sent
  std::string body;
  std::string remote_address;  // peer IP address ("127.0.0.1", "::1")
  int remote_port = 0;         // peer TCP port (one value per client connection)

  // The first header named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string> Header(absl::string_view name) const;
};

// A response body produced while it is being sent (large or decrypted files), pulled by the
// server one bounded buffer at a time.
//
// Thread-safety: the server calls Read() from its io threads, one call at a time and never
// concurrently for one source (several sources run in parallel on different connections). Read()
// may block (e.g. on storage I/O); it holds an io thread meanwhile, so size
// ServerOptions::threads for the expected number of concurrent streams. The source is destroyed
// (on an io thread) as soon as the response completed or the connection ended, whichever first:
// a client that disconnects mid-body releases it.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Copies the next body bytes into `buf` (capacity `n`, n >= 1) and returns how many it wrote
  // (1..n), or 0 at the end. The server never asks for bytes past the declared Content-Length.
  // Any error status (or an end before Content-Length bytes were produced) aborts the response:
  // the connection is reset, since the status line and headers are already on the wire.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

struct Response {
  int status = 200;
  // Extra headers. Content-Length, Connection, Transfer-Encoding and Server are set by the
  // server; a handler's own values for those are ignored.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed from this source instead (`body` is ignored) and
  // `content_length` is the exact number of bytes the source yields.
  std::shared_ptr<BodySource> body_source;
  uint64_t content_length = 0;

  // `body` with Content-Type: application/json.
  static Response Json(int status, std::string body);
  // `body` with Content-Type: text/plain; charset=utf-8.
  static Response Text(int status, std::string body);
  // The error shape used across Switchboard HTTP APIs:
  // {"error":{"code":"<code>","message":"<message>"}} (both JSON-escaped).
  static Response JsonError(int status, absl::string_view code, absl::string_view message);
  // A streamed body of exactly `content_length` bytes from `source` (see BodySource).
  static Response Stream(int status, uint64_t content_length,
                         std::shared_ptr<BodySource> source);
};

// Handlers may be called concurrently from several io threads (different connections), so they
// must be thread-safe. Exceptions are caught by the server and turned into 500.
using Handler = std::function<Response(const Request&)>;

// Maps (method, exact path) to a handler. Build it fully before `Server::Start`; it is read-only
// (and so thread-safe) afterwards.
class Router {
 public:
  // Registers `handler` for `method` on exactly `path` (no patterns, no trailing-slash folding;
  // matched against the undecoded path). A later Add for the same pair replaces the earlier one.
  void Add(std::string method, std::string path, Handler handler);

  // Optional catch-all for paths without an exact route (servers with ids in their paths, such
  // as the carrier emulator, route those themselves). Without it such paths get the 404 below.
  void SetFallback(Handler handler);

  // Dispatches: 404 for an unknown path, 405 (with Allow) for a known path and another method,
  // 500 if the handler throws. Never throws. Public so handlers can be tested without sockets.
  Response Dispatch(const Request& request) const;

 private:
  // path -> method -> handler; std::map keeps the Allow header sorted and deterministic.
  std::map<std::string, std::map<std::string, Handler>> routes_;
  Handler fallback_;
};

// What happened to a streamed response (Response::body_source), as StreamStats counts it.
enum class StreamEvent { kStarted, kCompleted, kSourceError, kClientAbort };

struct ServerOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal; "0.0.0.0" for all interfaces
  int port = 0;                        // 0 picks a free port; read it back with port()
  int threads = 2;                     // io threads, >= 1
  size_t body_limit = 1 << 20;         // bytes; larger bodies get 413
  absl::Duration read_timeout = absl::Seconds(15);  // per request, and keep-alive idle time
  // Per response write, and per buffer of a streamed body: how long a client may stop reading.
  absl::Duration write_timeout = absl::Seconds(15);
  // Buffer for streamed bodies (Response::body_source), per connection while streaming.
  size_t stream_buffer_bytes = 64 << 10;
  // Optional: told of every StreamStats increment, e.g. to count them in a metrics registry
  // (libs/http does not depend on libs/metrics). Called on an io thread: cheap, thread-safe.
  std::function<void(StreamEvent)> stream_observer;
};

// Counters of streamed responses since Start().
struct StreamStats {
  uint64_t started = 0;        // streamed responses whose headers were written
  uint64_t completed = 0;      // all Content-Length bytes written
  uint64_t source_errors = 0;  // aborted: the BodySource failed or ended early
  uint64_t client_aborts = 0;  // aborted: the client went away or write_timeout expired
};

// A running server. Thread-safe: Stop() and port() may be called from any thread.
class Server {
 public:
  // Binds, listens and starts the io threads. Returns kInvalidArgument for a bad address, port,
  // thread count, timeout or stream buffer size (naming the field) and kUnavailable when the
  // address cannot be bound (in use, not local).
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options, Router router);

  // Stops (as Stop()) if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound TCP port (useful with port 0).
  int port() const;

  // A snapshot of the streamed-response counters.
  StreamStats stream_stats() const;

  // Graceful stop: closes the listener, closes idle keep-alive connections, lets requests that
  // are in flight finish (their responses carry "Connection: close"), then joins the io threads.
  // Connections still busy after `read_timeout` + 1 s are cut (a long streamed body included). Idempotent and safe to call from
  // several threads; blocks until done. Must not be called from a handler (it would deadlock).
  void Stop();

  class Impl;  // implementation detail, defined in server.cc

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard::http
