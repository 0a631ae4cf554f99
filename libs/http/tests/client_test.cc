#include "libs/http/client.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "libs/http/server.h"

namespace switchboard::http {
namespace {

struct Seen {
  absl::Mutex mu;
  std::set<int> ports ABSL_GUARDED_BY(mu);
  std::vector<Request> requests ABSL_GUARDED_BY(mu);
};

std::unique_ptr<Server> StartServer(Seen& seen, absl::Notification* release = nullptr) {
  Router router;
  auto record = [&seen](const Request& r) {
    absl::MutexLock lock(&seen.mu);
    seen.ports.insert(r.remote_port);
    seen.requests.push_back(r);
  };
  router.Add("GET", "/hello", [record](const Request& r) {
    record(r);
    Response response = Response::Text(200, "hello " + r.query);
    response.headers.emplace_back("X-Reply", "yes");
    return response;
  });
  router.Add("POST", "/echo", [record](const Request& r) {
    record(r);
    Response response = Response::Text(201, r.body);
    response.headers.emplace_back("X-Content-Type", r.Header("Content-Type").value_or("<none>"));
    return response;
  });
  router.Add("DELETE", "/thing", [record](const Request& r) {
    record(r);
    return Response{.status = 204};
  });
  router.Add("GET", "/fail", [record](const Request& r) {
    record(r);
    return Response::Json(503, R"({"code":20003,"message":"down"})");
  });
  router.Add("GET", "/slow", [release](const Request&) {
    if (release != nullptr) release->WaitForNotificationWithTimeout(absl::Seconds(10));
    return Response::Text(200, "late");
  });
  ServerOptions options{.port = 0, .threads = 2, .body_limit = 16 << 20};
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, std::move(router));
  REQUIRE(server.ok());
  return std::move(*server);
}

std::unique_ptr<CurlHttpClient> NewClient() {
  auto client = CurlHttpClient::Create();
  REQUIRE(client.ok());
  return std::move(*client);
}

std::string Base(const Server& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

TEST_CASE("client GET and POST round trip with headers", "[http_client]") {
  Seen seen;
  auto server = StartServer(seen);
  auto client = NewClient();

  absl::StatusOr<HttpResponse> get = client->Send(
      {.method = "GET", .url = Base(*server) + "/hello?a=1", .headers = {{"X-Token", "t1"}}});
  REQUIRE(get.ok());
  CHECK(get->status == 200);
  CHECK(get->body == "hello a=1");
  CHECK(get->Header("x-reply") == std::optional<std::string>("yes"));
  CHECK(get->Header("X-Missing") == std::nullopt);

  absl::StatusOr<HttpResponse> post =
      client->Send({.method = "POST",
                    .url = Base(*server) + "/echo",
                    .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                                BasicAuthHeader("AC123", "secret")},
                    .body = "To=%2B15551234567&Body=hi"});
  REQUIRE(post.ok());
  CHECK(post->status == 201);
  CHECK(post->body == "To=%2B15551234567&Body=hi");
  CHECK(post->Header("X-Content-Type") ==
        std::optional<std::string>("application/x-www-form-urlencoded"));

  absl::StatusOr<HttpResponse> del =
      client->Send({.method = "DELETE", .url = Base(*server) + "/thing",
                    .headers = {BearerAuthHeader("KEY123")}});
  REQUIRE(del.ok());
  CHECK(del->status == 204);

  absl::MutexLock lock(&seen.mu);
  REQUIRE(seen.requests.size() == 3);
  CHECK(seen.requests[0].Header("X-Token") == std::optional<std::string>("t1"));
  // base64("AC123:secret") = QUMxMjM6c2VjcmV0
  CHECK(seen.requests[1].Header("Authorization") ==
        std::optional<std::string>("Basic QUMxMjM6c2VjcmV0"));
  CHECK(seen.requests[1].method == "POST");
  CHECK(seen.requests[2].method == "DELETE");
  CHECK(seen.requests[2].Header("Authorization") == std::optional<std::string>("Bearer KEY123"));
  CHECK(seen.requests[2].body.empty());
}

TEST_CASE("client POST without Content-Type sends none", "[http_client]") {
  Seen seen;
  auto server = StartServer(seen);
  auto client = NewClient();
  auto post = client->Send({.method = "POST", .url = Base(*server) + "/echo", .body = "x"});
  REQUIRE(post.ok());
  CHECK(post->Header("X-Content-Type") == std::optional<std::string>("<none>"));
}

TEST_CASE("client HTTP error statuses are responses, not errors", "[http_client]") {
  Seen seen;
  auto server = StartServer(seen);
  auto client = NewClient();
  auto r = client->Send({.method = "GET", .url = Base(*server) + "/fail"});
  REQUIRE(r.ok());
  CHECK(r->status == 503);
  CHECK(r->body == R"({"code":20003,"message":"down"})");
  auto missing = client->Send({.method = "GET", .url = Base(*server) + "/nope"});
  REQUIRE(missing.ok());
  CHECK(missing->status == 404);
}

TEST_CASE("client reuses one connection for sequential requests", "[http_client]") {
  Seen seen;
  auto server = StartServer(seen);
  auto client = NewClient();
  for (int i = 0; i < 5; ++i) {
    auto r = client->Send({.method = i % 2 == 0 ? "GET" : "POST",
                           .url = Base(*server) + (i % 2 == 0 ? "/hello" : "/echo"),
                           .body = i % 2 == 0 ? "" : "body"});
    REQUIRE(r.ok());
  }
  absl::MutexLock lock(&seen.mu);
  CHECK(seen.requests.size() == 5);
  CHECK(seen.ports.size() == 1);
}

TEST_CASE("client is usable from several threads", "[http_client]") {
  Seen seen;
  auto server = StartServer(seen);
  auto client = NewClient();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        auto r = client->Send({.method = "POST", .url = Base(*server) + "/echo", .body = body});
        if (r.ok() && r->status == 201 && r->body == body) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 40);
  absl::MutexLock lock(&seen.mu);
  CHECK(seen.ports.size() <= 4);  // connections are pooled, not one per request
}

TEST_CASE("client timeout is kDeadlineExceeded", "[http_client]") {
  Seen seen;
  absl::Notification release;
  auto server = StartServer(seen, &release);
  auto client = NewClient();
  auto r = client->Send(
      {.method = "GET", .url = Base(*server) + "/slow", .timeout = absl::Milliseconds(200)});
  release.Notify();
  REQUIRE(!r.ok());
  CHECK(r.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(r.status().message().find("/slow") != absl::string_view::npos);
}

TEST_CASE("client refused port is kUnavailable", "[http_client]") {
  int port = 0;
  {
    Seen seen;
    auto server = StartServer(seen);
    port = server->port();
    server->Stop();
  }
  auto client = NewClient();
  auto r = client->Send({.method = "GET",
                         .url = "http://user:pw@127.0.0.1:" + std::to_string(port) + "/x?k=v"});
  REQUIRE(!r.ok());
  CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  CHECK(r.status().message().find("connection refused") != absl::string_view::npos);
  CHECK(r.status().message().find("pw") == absl::string_view::npos);
  CHECK(r.status().message().find("k=v") == absl::string_view::npos);
}

TEST_CASE("client large bodies both ways", "[http_client]") {
  Seen seen;
  auto server = StartServer(seen);
  auto client = NewClient();
  std::string big(5 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  auto r = client->Send({.method = "POST", .url = Base(*server) + "/echo", .body = big});
  REQUIRE(r.ok());
  CHECK(r->status == 201);
  CHECK(r->body == big);

  auto small = CurlHttpClient::Create({.max_response_bytes = 1024});
  REQUIRE(small.ok());
  auto too_big = (*small)->Send({.method = "POST", .url = Base(*server) + "/echo", .body = big});
  REQUIRE(!too_big.ok());
  CHECK(too_big.status().code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("client rejects malformed requests", "[http_client]") {
  auto client = NewClient();
  CHECK(client->Send({.method = "GET", .url = "ftp://x/"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(client->Send({.method = "", .url = "http://127.0.0.1/"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(client->Send({.method = "GET", .url = "http://127.0.0.1/", .headers = {{"X", "a\r\nB: c"}}})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(client->Send({.method = "GET", .url = "http://127.0.0.1/", .timeout = absl::ZeroDuration()})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(CurlHttpClient::Create({.connect_timeout = absl::ZeroDuration()}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

class ScriptedClient : public HttpClient {
 public:
  explicit ScriptedClient(std::vector<absl::StatusOr<HttpResponse>> script)
      : script_(std::move(script)) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest&) override { return script_.at(calls++); }
  size_t calls = 0;

 private:
  std::vector<absl::StatusOr<HttpResponse>> script_;
};

TEST_CASE("SendWithRetry retries transport errors and 5xx with backoff", "[http_client]") {
  ScriptedClient client({absl::UnavailableError("refused"), HttpResponse{.status = 503},
                         HttpResponse{.status = 200, .body = "ok"}});
  std::vector<absl::Duration> sleeps;
  RetryPolicy policy{.max_attempts = 5, .initial_backoff = absl::Milliseconds(100)};
  auto r = SendWithRetry(client, {.url = "http://x/"}, policy,
                         [&](absl::Duration d) { sleeps.push_back(d); });
  REQUIRE(r.ok());
  CHECK(r->body == "ok");
  CHECK(client.calls == 3);
  CHECK(sleeps == std::vector<absl::Duration>{absl::Milliseconds(100), absl::Milliseconds(200)});
}

TEST_CASE("SendWithRetry stops at max attempts and on non-retryable results", "[http_client]") {
  ScriptedClient failing({absl::DeadlineExceededError("t"), absl::DeadlineExceededError("t"),
                          absl::DeadlineExceededError("t")});
  auto r = SendWithRetry(failing, {.url = "http://x/"}, {.max_attempts = 2},
                         [](absl::Duration) {});
  CHECK(r.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(failing.calls == 2);

  ScriptedClient bad({HttpResponse{.status = 400}, HttpResponse{.status = 200}});
  auto b = SendWithRetry(bad, {.url = "http://x/"}, {.max_attempts = 3}, [](absl::Duration) {});
  REQUIRE(b.ok());
  CHECK(b->status == 400);
  CHECK(bad.calls == 1);
}

}  // namespace
}  // namespace switchboard::http
