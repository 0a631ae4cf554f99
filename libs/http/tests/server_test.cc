#include "libs/http/server.h"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/synchronization/notification.h"
#include "libs/http/tests/test_client.h"

namespace switchboard::http {
namespace {

using testing::TestClient;

Router TestRouter() {
  Router router;
  router.Add("GET", "/hello", [](const Request&) { return Response::Text(200, "hello"); });
  router.Add("POST", "/echo", [](const Request& r) {
    Response response = Response::Text(200, r.body);
    response.headers.emplace_back("X-Query", r.query);
    response.headers.emplace_back("X-Path", r.path);
    response.headers.emplace_back("X-Remote", r.remote_address);
    response.headers.emplace_back("X-Token", r.Header("x-TOKEN").value_or("<none>"));
    return response;
  });
  router.Add("PUT", "/echo", [](const Request&) { return Response::Text(200, "put"); });
  router.Add("GET", "/throw", [](const Request&) -> Response {
    throw std::runtime_error("boom");
  });
  return router;
}

std::unique_ptr<Server> StartOrDie(ServerOptions options = {}, Router router = TestRouter()) {
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, std::move(router));
  REQUIRE(server.ok());
  REQUIRE((*server)->port() > 0);
  return std::move(*server);
}

TEST_CASE("Server routes requests to handlers", "[http][server]") {
  auto server = StartOrDie();
  TestClient client(server->port());

  SECTION("GET returns the handler's response") {
    client.Send(TestClient::Get("/hello"));
    auto response = client.Read();
    CHECK(response.result_int() == 200);
    CHECK(response.body() == "hello");
    CHECK(response[boost::beast::http::field::content_type] == "text/plain; charset=utf-8");
  }
  SECTION("request fields reach the handler") {
    client.Send(TestClient::Post("/echo?a=1&b=2", "payload", "X-Token: t0k\r\n"));
    auto response = client.Read();
    CHECK(response.result_int() == 200);
    CHECK(response.body() == "payload");
    CHECK(response["X-Query"] == "a=1&b=2");
    CHECK(response["X-Path"] == "/echo");
    CHECK(response["X-Remote"] == "127.0.0.1");
    CHECK(response["X-Token"] == "t0k");
  }
  SECTION("unknown path is a JSON 404") {
    client.Send(TestClient::Get("/nope"));
    auto response = client.Read();
    CHECK(response.result_int() == 404);
    CHECK(response[boost::beast::http::field::content_type] == "application/json");
    CHECK(response.body() ==
          R"({"error":{"code":"not_found","message":"no route for /nope"}})");
  }
  SECTION("wrong method is 405 with Allow") {
    client.Send(TestClient::Get("/echo"));
    auto response = client.Read();
    CHECK(response.result_int() == 405);
    CHECK(response[boost::beast::http::field::allow] == "POST, PUT");
    CHECK(response.body().find("method_not_allowed") != std::string::npos);
  }
  SECTION("a throwing handler is a 500 and the connection keeps working") {
    client.Send(TestClient::Get("/throw"));
    auto response = client.Read();
    CHECK(response.result_int() == 500);
    CHECK(response.body() == R"({"error":{"code":"internal","message":"internal error"}})");
    client.Send(TestClient::Get("/hello"));
    CHECK(client.Read().body() == "hello");
  }
}

TEST_CASE("Server keeps connections alive and answers pipelined requests in order",
          "[http][server]") {
  auto server = StartOrDie();
  TestClient client(server->port());

  SECTION("two sequential requests on one connection") {
    client.Send(TestClient::Get("/hello"));
    auto first = client.Read();
    CHECK(first.result_int() == 200);
    CHECK(first.keep_alive());
    client.Send(TestClient::Post("/echo", "second"));
    CHECK(client.Read().body() == "second");
  }
  SECTION("three pipelined requests in one write") {
    client.Send(TestClient::Post("/echo", "one") + TestClient::Get("/nope") +
                TestClient::Post("/echo", "three"));
    CHECK(client.Read().body() == "one");
    CHECK(client.Read().result_int() == 404);
    CHECK(client.Read().body() == "three");
  }
  SECTION("Connection: close is honoured") {
    client.Send(TestClient::Get("/hello", "Connection: close\r\n"));
    auto response = client.Read();
    CHECK(response.result_int() == 200);
    CHECK_FALSE(response.keep_alive());
    CHECK(client.ClosedByServer());
  }
  SECTION("HTTP/1.0 without keep-alive closes") {
    client.Send("GET /hello HTTP/1.0\r\n\r\n");
    CHECK(client.Read().body() == "hello");
    CHECK(client.ClosedByServer());
  }
}

TEST_CASE("Server serves many connections concurrently", "[http][server]") {
  ServerOptions options;
  options.threads = 4;
  auto server = StartOrDie(options);
  constexpr int kClients = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      TestClient client(server->port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = std::to_string(c) + "/" + std::to_string(i);
        client.Send(TestClient::Post("/echo", body));
        boost::beast::error_code ec;
        auto response = client.Read(ec);
        if (!ec && response.body() == body) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok.load() == kClients * kRequests);
}

TEST_CASE("Server enforces the body limit with 413", "[http][server]") {
  ServerOptions options;
  options.body_limit = 16;
  auto server = StartOrDie(options);

  SECTION("at the limit is accepted") {
    TestClient client(server->port());
    client.Send(TestClient::Post("/echo", std::string(16, 'x')));
    CHECK(client.Read().result_int() == 200);
  }
  SECTION("declared length over the limit is rejected and the connection closed") {
    TestClient client(server->port());
    client.Send(TestClient::Post("/echo", std::string(17, 'x')));
    auto response = client.Read();
    CHECK(response.result_int() == 413);
    CHECK(response.body().find("payload_too_large") != std::string::npos);
    CHECK(client.ClosedByServer());
  }
  SECTION("a chunked body over the limit is rejected") {
    TestClient client(server->port());
    client.Send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    CHECK(client.Read().result_int() == 413);
  }
}

TEST_CASE("Server rejects malformed and oversized requests", "[http][server]") {
  auto server = StartOrDie();
  TestClient client(server->port());

  SECTION("garbage request line is 400") {
    client.Send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(client.Read().result_int() == 400);
    CHECK(client.ClosedByServer());
  }
  SECTION("headers over 8 KiB are 431") {
    client.Send(TestClient::Get("/hello", "X-Big: " + std::string(9000, 'a') + "\r\n"));
    CHECK(client.Read().result_int() == 431);
  }
}

TEST_CASE("Server answers Expect: 100-continue before reading the body", "[http][server]") {
  auto server = StartOrDie();
  TestClient client(server->port());
  client.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.Read();
  CHECK(interim.result_int() == 100);
  client.Send("body");
  auto response = client.Read();
  CHECK(response.result_int() == 200);
  CHECK(response.body() == "body");
}

TEST_CASE("Server closes connections that stall past read_timeout", "[http][server]") {
  ServerOptions options;
  options.read_timeout = absl::Milliseconds(200);
  auto server = StartOrDie(options);

  SECTION("idle keep-alive connection") {
    TestClient client(server->port());
    client.Send(TestClient::Get("/hello"));
    CHECK(client.Read().result_int() == 200);
    CHECK(client.ClosedByServer());  // within the 5 s client timeout, so the server closed it
  }
  SECTION("half-sent headers") {
    TestClient client(server->port());
    client.Send("GET /hello HTTP/1.1\r\nHost:");
    CHECK(client.ClosedByServer());
  }
  SECTION("body shorter than Content-Length") {
    TestClient client(server->port());
    client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(client.ClosedByServer());
  }
}

TEST_CASE("Server::Stop finishes in-flight requests and refuses new ones", "[http][server]") {
  absl::Notification handler_entered;
  absl::Notification release_handler;
  Router router;
  router.Add("GET", "/slow", [&](const Request&) {
    handler_entered.Notify();
    release_handler.WaitForNotification();
    return Response::Text(200, "done");
  });
  router.Add("GET", "/fast", [](const Request&) { return Response::Text(200, "fast"); });
  auto server = StartOrDie({}, std::move(router));
  const int port = server->port();

  TestClient idle(port);
  idle.Send(TestClient::Get("/fast"));
  CHECK(idle.Read().body() == "fast");

  TestClient busy(port);
  busy.Send(TestClient::Get("/slow"));
  handler_entered.WaitForNotification();

  std::thread stopper([&] { server->Stop(); });
  CHECK(idle.ClosedByServer());  // the idle keep-alive connection is closed promptly
  release_handler.Notify();
  auto response = busy.Read();
  CHECK(response.result_int() == 200);
  CHECK(response.body() == "done");
  CHECK_FALSE(response.keep_alive());
  stopper.join();

  // The listener is gone.
  CHECK_THROWS(TestClient(port));
  server->Stop();  // idempotent
}

TEST_CASE("Server::Start reports bad options and bind failures", "[http][server]") {
  auto first = StartOrDie();

  SECTION("port in use is kUnavailable") {
    ServerOptions options;
    options.port = first->port();
    auto second = Server::Start(options, Router());
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == absl::StatusCode::kUnavailable);
    CHECK(second.status().message().find(std::to_string(first->port())) != std::string::npos);
  }
  SECTION("bad address is kInvalidArgument naming the field") {
    ServerOptions options;
    options.address = "not-an-ip";
    auto server = Server::Start(options, Router());
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(server.status().message().find("address") != std::string::npos);
  }
  SECTION("zero threads is kInvalidArgument") {
    ServerOptions options;
    options.threads = 0;
    CHECK(Server::Start(options, Router()).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Router dispatches without sockets", "[http][router]") {
  Router router = TestRouter();
  Request request;
  request.method = "GET";
  request.path = "/hello";
  CHECK(router.Dispatch(request).body == "hello");
  request.path = "/hello/";
  CHECK(router.Dispatch(request).status == 404);  // exact match only
}

TEST_CASE("Request::Header is case-insensitive and returns the first match", "[http]") {
  Request request;
  request.headers = {{"X-Twilio-Signature", "abc"}, {"x-twilio-signature", "def"}};
  CHECK(request.Header("x-twilio-signature") == std::optional<std::string>("abc"));
  CHECK_FALSE(request.Header("missing").has_value());
}

TEST_CASE("Response::JsonError escapes its fields", "[http]") {
  Response r = Response::JsonError(400, "bad", "quote \" and \\ and \n");
  CHECK(r.body == R"({"error":{"code":"bad","message":"quote \" and \\ and \n"}})");
}

}  // namespace
}  // namespace switchboard::http

namespace switchboard::http {
namespace {

TEST_CASE("Router fallback handles paths without an exact route", "[http][router]") {
  Router router;
  router.Add("GET", "/exact", [](const Request&) { return Response::Text(200, "exact"); });
  router.SetFallback([](const Request& r) { return Response::Text(200, "fallback " + r.path); });
  Request request;
  request.method = "GET";
  request.path = "/exact";
  CHECK(router.Dispatch(request).body == "exact");
  request.path = "/items/42";
  CHECK(router.Dispatch(request).body == "fallback /items/42");
  request.method = "POST";
  request.path = "/exact";  // exact path, other method: still 405, the fallback is not consulted
  CHECK(router.Dispatch(request).status == 405);
}

}  // namespace
}  // namespace switchboard::http
