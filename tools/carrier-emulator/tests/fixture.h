// Shared test fixture for the emulator's tests: the emulator on 127.0.0.1:0 and a libs/http
// Server on port 0 acting as the service's webhook receiver.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/http/client.h"
#include "libs/http/url.h"
#include "services/carrier/signature.h"
#include "tools/carrier-emulator/emulator.h"

namespace switchboard::carrier_emulator::testing {

inline constexpr char kSid[] = "AC0123456789abcdef0123456789abcdef";
inline constexpr char kToken[] = "test-auth-token";
inline constexpr char kApiKey[] = "KEYtest";

struct Received {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }
};

// Records every request; handlers answer per path, else 500 for a path containing "500" (a
// failing receiver), else 200 "".
class Receiver {
 public:
  using Handler = std::function<http::Response(const http::Request&)>;
  explicit Receiver(std::map<std::string, Handler> routes) {
    http::Router router;
    router.SetFallback([this, routes](const http::Request& r) {
      {
        absl::MutexLock lock(&mu_);
        received_.push_back({r.method, r.path, r.query, r.headers, r.body});
      }
      auto it = routes.find(r.path);
      if (it != routes.end()) return it->second(r);
      if (absl::StrContains(r.path, "500")) return http::Response::Text(500, "down");
      return http::Response::Text(200, "");
    });
    auto server = http::Server::Start({.threads = 4}, std::move(router));
    REQUIRE(server.ok());
    server_ = std::move(*server);
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", server_->port()); }
  std::vector<Received> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  // Polls (deadline 10 s) until `pred` holds for the received list.
  bool WaitFor(const std::function<bool(const std::vector<Received>&)>& pred) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (pred(received())) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

 private:
  absl::Mutex mu_;
  std::vector<Received> received_;
  std::unique_ptr<http::Server> server_;
};

struct Fixture {
  std::unique_ptr<CarrierEmulator> emulator;
  std::unique_ptr<http::HttpClient> client;
  std::string base;

  explicit Fixture(std::string webhook_base = "") {
    auto client_or = http::CurlHttpClient::Create();
    REQUIRE(client_or.ok());
    auto emulator_client = http::CurlHttpClient::Create();
    REQUIRE(emulator_client.ok());
    EmulatorOptions options;
    options.twilio_account_sid = kSid;
    options.twilio_auth_token = kToken;
    options.telnyx_api_key = kApiKey;
    options.webhook_base_url = std::move(webhook_base);
    options.failing_numbers = {"+15005550009"};  // messages to it fail (30003)
    options.scenario_timeout = absl::Seconds(10);
    auto created = CarrierEmulator::Create(options, std::move(*emulator_client));
    REQUIRE(created.ok());
    emulator = std::move(*created);
    REQUIRE(emulator->Start({.threads = 4}).ok());
    client = std::move(*client_or);
    base = absl::StrCat("http://127.0.0.1:", emulator->port());
  }

  http::HttpResponse Send(std::string method, std::string path, std::string body = "",
                          http::HeaderList headers = {}) {
    http::HttpRequest request;
    request.method = std::move(method);
    request.url = base + path;
    request.body = std::move(body);
    request.headers = std::move(headers);
    auto response = client->Send(request);
    REQUIRE(response.ok());
    return *response;
  }
  http::HttpResponse Twilio(std::string method, std::string path, http::Params form = {}) {
    http::HeaderList headers = {http::BasicAuthHeader(kSid, kToken)};
    std::string body;
    if (method == "POST") {
      headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      body = EncodeForm(form);
    } else if (!form.empty()) {
      path += "?" + EncodeForm(form);
    }
    return Send(std::move(method), absl::StrCat("/2010-04-01/Accounts/", kSid, path),
                std::move(body), std::move(headers));
  }
  http::HttpResponse Telnyx(std::string method, std::string path,
                            const nlohmann::json& body = nullptr) {
    http::HeaderList headers = {http::BearerAuthHeader(kApiKey)};
    std::string text;
    if (!body.is_null()) {
      headers.emplace_back("Content-Type", "application/json");
      text = body.dump();
    }
    return Send(std::move(method), "/v2" + path, std::move(text), std::move(headers));
  }
  void AddNumber(const std::string& carrier, const std::string& number, const std::string& voice,
                 const std::string& status_callback = "") {
    auto r = Send("POST", "/emulator/numbers",
                  nlohmann::json{{"carrier", carrier}, {"phone_number", number},
                                 {"voice_url", voice}, {"status_callback", status_callback}}
                      .dump());
    REQUIRE(r.status == 201);
  }
  // GET /emulator/calls/{id}, polled (deadline 10 s) until `pred` holds; the last result.
  nlohmann::json PollCall(const std::string& id,
                          const std::function<bool(const nlohmann::json&)>& pred) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    nlohmann::json result;
    while (absl::Now() < deadline) {
      auto r = Send("GET", "/emulator/calls/" + http::PercentEncode(id));
      REQUIRE(r.status == 200);
      result = nlohmann::json::parse(r.body);
      if (pred(result)) return result;
      absl::SleepFor(absl::Milliseconds(10));
    }
    FAIL("call " << id << " did not reach the expected state: " << result.dump());
    return result;
  }
  nlohmann::json WaitDone(const std::string& id) {
    return PollCall(id, [](const nlohmann::json& r) { return r["done"] == true; });
  }
};

inline std::string FormValue(const std::string& body, const std::string& name) {
  for (const auto& [k, v] : http::ParseForm(body)) {
    if (k == name) return v;
  }
  return "";
}

// "verb:outcome" of every step.
inline std::vector<std::string> Steps(const nlohmann::json& result) {
  std::vector<std::string> steps;
  for (const auto& s : result["steps"]) {
    steps.push_back(s["verb"].get<std::string>() + ":" + s["outcome"].get<std::string>());
  }
  return steps;
}

inline bool TwilioSignatureValid(const std::string& receiver_url, const Received& r) {
  const std::string url = receiver_url + r.path + (r.query.empty() ? "" : "?" + r.query);
  return carrier::VerifyTwilioSignature(kToken, url, http::ParseForm(r.body),
                                        r.Header("X-Twilio-Signature"));
}

inline bool TelnyxSignatureValid(const std::string& public_key_b64, const Received& r) {
  return carrier::VerifyTelnyxSignature(public_key_b64, r.Header("telnyx-signature-ed25519"),
                                        r.Header("telnyx-timestamp"), r.body, absl::Now())
      .ok();
}

inline http::Response Twiml(const std::string& inner) {
  http::Response r;
  r.headers = {{"Content-Type", "text/xml"}};
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>" + inner + "</Response>";
  return r;
}

}  // namespace switchboard::carrier_emulator::testing
