// A gRPC server with the Switchboard defaults (ARCHITECTURE §7, STYLE §2.4):
//   - the standard grpc.health.v1.Health service, NOT_SERVING until SetServing(true), for the
//     overall status "" and every registered service name;
//   - server reflection, so `grpcurl -plaintext host:port list` lists every service;
//   - interceptors: request id (incoming x-request-id or a new UUIDv7, echoed back in the
//     response initial metadata and readable in handlers with RequestIdOf()), and, when a
//     metrics registry is given, grpc_server_handling_seconds{service,method,code} (histogram)
//     and grpc_server_handled_total{service,method,code} (counter).
// Thread-safe: SetServing/Shutdown may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/server.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/metrics/registry.h"

namespace grpc {
class Service;
}

namespace switchboard::rpc {

struct ServerOptions {
  std::string address = "0.0.0.0:0";  // host:port; port 0 picks a free port (see port())
  std::string service_name;           // for logs ("routing")
  metrics::Registry* metrics = nullptr;  // not owned; must outlive the server; null = no metrics
  int max_receive_bytes = 4 << 20;
};

class GrpcServer {
 public:
  // Registers `services` (not owned; they must outlive the server) plus health and reflection,
  // binds and starts. Returns kInvalidArgument for an empty address or a non-positive
  // max_receive_bytes, kUnavailable naming the address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(ServerOptions options,
                                                           std::vector<grpc::Service*> services);

  // Shuts down immediately (Shutdown(absl::ZeroDuration())) if still running.
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // The bound port.
  int port() const { return port_; }

  // Sets the health status of "" and of every registered service. Ignored after Shutdown.
  void SetServing(bool serving);

  // Marks everything NOT_SERVING (health Watch streams see it), then stops accepting calls and
  // waits up to `grace` for in-flight calls before cancelling them, then waits for the server.
  // Idempotent.
  void Shutdown(absl::Duration grace);

  // The underlying server, for in-process channels in tests (InProcessChannel).
  grpc::Server* server() { return server_.get(); }
  // The service names registered (from the server itself, health and reflection included).
  const std::vector<std::string>& service_names() const { return service_names_; }

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port,
             std::vector<std::string> service_names);

  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::vector<std::string> service_names_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace switchboard::rpc
