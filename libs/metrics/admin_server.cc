#include "libs/metrics/admin_server.h"

#include "absl/strings/str_cat.h"

namespace switchboard::metrics {

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(AdminOptions options,
                                                                Registry& registry,
                                                                std::function<bool()> ready) {
  http::Router router;
  router.Add("GET", "/metrics", [&registry](const http::Request&) {
    http::Response response;
    response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    response.body = registry.Exposition();
    return response;
  });
  router.Add("GET", "/healthz",
             [](const http::Request&) { return http::Response::Text(200, "ok"); });
  router.Add("GET", "/readyz", [ready = std::move(ready)](const http::Request&) {
    if (ready == nullptr || ready()) return http::Response::Text(200, "ready");
    return http::Response::Text(503, "not ready");
  });

  http::ServerOptions server_options;
  server_options.address = std::move(options.address);
  server_options.port = options.port;
  server_options.threads = 1;
  // Scrapes and probes are small and quick; a stuck scraper should not hold a socket for long.
  server_options.body_limit = 64 << 10;
  server_options.read_timeout = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::Start(std::move(server_options), std::move(router));
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("admin server: ", server.status().message()));
  }
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(*server)));
}

}  // namespace switchboard::metrics
