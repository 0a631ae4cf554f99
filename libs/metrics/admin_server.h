// The admin HTTP port every service exposes (ARCHITECTURE §7):
//   GET /metrics -> 200, Content-Type "text/plain; version=0.0.4; charset=utf-8", Registry text
//   GET /healthz -> 200 "ok" while the process is alive (liveness)
//   GET /readyz  -> 200 "ready" when ready() returns true, else 503 "not ready" (readiness)
// Built on libs/http (one io thread is plenty). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/http/server.h"
#include "libs/metrics/registry.h"

namespace switchboard::metrics {

struct AdminOptions {
  std::string address = "0.0.0.0";
  int port = 0;  // 0 picks a free port; read it back with port()
};

class AdminServer {
 public:
  // `registry` must outlive the server. `ready` is called on an io thread for every /readyz
  // request: it must be thread-safe and fast (read an atomic flag). A null `ready` means always
  // ready. Errors as http::Server::Start (kInvalidArgument, kUnavailable on bind failure).
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(AdminOptions options,
                                                            Registry& registry,
                                                            std::function<bool()> ready);

  int port() const { return server_->port(); }
  // Graceful stop (http::Server::Stop). Idempotent.
  void Stop() { server_->Stop(); }

 private:
  explicit AdminServer(std::unique_ptr<http::Server> server) : server_(std::move(server)) {}
  std::unique_ptr<http::Server> server_;
};

}  // namespace switchboard::metrics
