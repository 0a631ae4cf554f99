#include "libs/grpc/server.h"

#include <mutex>

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/grpc/principal.h"

namespace switchboard::rpc {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr size_t kMaxRequestIdLength = 128;

// Accepts ids other systems generate (UUIDs, ULIDs, hex): 1..128 visible ASCII characters.
bool IsAcceptableRequestId(grpc::string_ref id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

// One per RPC, owned by gRPC (destroyed with the call's ServerContext).
class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(grpc::experimental::ServerRpcInfo* info, metrics::Registry* registry)
      : registry_(registry), start_(absl::Now()) {
    // "/package.Service/Method"
    absl::string_view full(info->method() != nullptr ? info->method() : "");
    if (!full.empty() && full[0] == '/') full.remove_prefix(1);
    const size_t slash = full.find('/');
    service_ = std::string(full.substr(0, slash));
    method_ = slash == absl::string_view::npos ? "" : std::string(full.substr(slash + 1));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      // The map is the ServerContext's client metadata, so an id inserted here is what the
      // handler sees through RequestIdOf(). The string_ref points into request_id_, which
      // lives as long as the call.
      auto* metadata = methods->GetRecvInitialMetadata();
      auto it = metadata->find(kRequestIdKey);
      if (it != metadata->end() && IsAcceptableRequestId(it->second)) {
        request_id_.assign(it->second.data(), it->second.size());
      } else {
        metadata->erase(kRequestIdKey);
        request_id_ = NewUuidV7();
        metadata->emplace(grpc::string_ref(kRequestIdKey), grpc::string_ref(request_id_));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        !request_id_.empty()) {
      methods->GetSendInitialMetadata()->emplace(kRequestIdKey, request_id_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        registry_ != nullptr) {
      // Recorded before the status leaves, so a client that saw the reply sees the metric.
      const metrics::Labels labels = {{"service", service_},
                                      {"method", method_},
                                      {"code", CodeName(methods->GetSendStatus().error_code())}};
      registry_
          ->GetHistogram("grpc_server_handling_seconds",
                         "Time from receiving the call to sending its status, in seconds.",
                         metrics::DefaultLatencyBuckets(), labels)
          .Observe(absl::ToDoubleSeconds(absl::Now() - start_));
      registry_->GetCounter("grpc_server_handled_total", "RPCs completed on the server.", labels)
          .Inc();
    }
    methods->Proceed();
  }

 private:
  metrics::Registry* registry_;
  absl::Time start_;
  std::string service_;
  std::string method_;
  std::string request_id_;
};

class CallInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(metrics::Registry* registry) : registry_(registry) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(info, registry_);
  }

 private:
  metrics::Registry* registry_;
};

// Captures the names of every service on the server (registered ones, then health and
// reflection, which gRPC adds itself) once the server has started.
class ServiceNamesPlugin : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::vector<std::string>* out) : out_(out) {}
  std::string name() override { return "switchboard_service_names"; }
  void InitServer(grpc::ServerInitializer*) override {}
  void Finish(grpc::ServerInitializer* si) override { *out_ = *si->GetServiceList(); }
  void ChangeArguments(const std::string&, void*) override {}

 private:
  std::vector<std::string>* out_;
};

class ServiceNamesOption : public grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::vector<std::string>* out) : out_(out) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(out_));
  }

 private:
  std::vector<std::string>* out_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    ServerOptions options, std::vector<grpc::Service*> services) {
  if (options.address.empty()) {
    return absl::InvalidArgumentError("ServerOptions.address: empty (want host:port)");
  }
  if (options.max_receive_bytes <= 0) {
    return absl::InvalidArgumentError("ServerOptions.max_receive_bytes: must be positive");
  }
  for (grpc::Service* service : services) {
    if (service == nullptr) return absl::InvalidArgumentError("services: null service");
  }
  // Both are process-wide switches read when a ServerBuilder is created / a server starts.
  static std::once_flag once;
  std::call_once(once, [] {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  });

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &port);
  // Without this, a second process could bind the same port and silently share the traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::vector<std::string> names;
  builder.SetOption(std::make_unique<ServiceNamesOption>(&names));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<CallInterceptorFactory>(options.metrics));
  builder.experimental().SetInterceptorCreators(std::move(creators));

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("gRPC server could not listen on ", options.address,
                     " (address in use, not local, or malformed)"));
  }
  auto result = std::unique_ptr<GrpcServer>(new GrpcServer(std::move(server), port, names));
  result->SetServing(false);  // the default health service starts "" as SERVING
  log::Info("grpc server listening", {{"server", options.service_name},
                                      {"address", options.address},
                                      {"port", std::to_string(port)}});
  return result;
}

GrpcServer::GrpcServer(std::unique_ptr<grpc::Server> server, int port,
                       std::vector<std::string> service_names)
    : server_(std::move(server)), port_(port), service_names_(std::move(service_names)) {}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  for (const std::string& name : service_names_) health->SetServingStatus(name, serving);
}

void GrpcServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    // NOT_SERVING for everything; later SetServingStatus calls are ignored by gRPC.
    if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
      health->Shutdown();
    }
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace switchboard::rpc
