// Shared setup for the carrier service tests: a CarrierCore + WebhookHandler over a given store,
// with Twilio and Telnyx stand-ins (FakeHttpServer) and helpers to sign webhooks as the
// carriers do.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/encoding.h"
#include "libs/http/client.h"
#include "libs/http/url.h"
#include "libs/metrics/registry.h"
#include "services/carrier/core.h"
#include "services/carrier/signature.h"
#include "services/carrier/tests/fake_http_server.h"
#include "services/carrier/webhooks.h"

namespace switchboard::carrier::testing {

inline constexpr char kTwilioSid[] = "AC00000000000000000000000000000001";
inline constexpr char kTwilioToken[] = "twilio-secret-token-xyz";
inline constexpr char kTelnyxKey[] = "KEYtelnyx-secret-api-key";
inline constexpr char kPublicBase[] = "https://hooks.example.test";
inline const std::string kTwilioAccountPath = std::string("/2010-04-01/Accounts/") + kTwilioSid;

inline std::string FormEncode(const FormParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += "&";
    out += http::PercentEncode(k) + "=" + http::PercentEncode(v);
  }
  return out;
}

class ServiceHarness {
 public:
  explicit ServiceHarness(CarrierStore& store) : store_(store) {}

  FakeHttpServer twilio;  // register routes before Start()
  FakeHttpServer telnyx;
  crypto::Ed25519KeyPair telnyx_keys = crypto::Ed25519Generate();
  metrics::Registry registry;

  // `source` replaces the static instructions (owned by the caller; must outlive the harness).
  void Start(InstructionSource* source = nullptr) {
    twilio.Start();
    telnyx.Start();
    auto c = http::CurlHttpClient::Create();
    REQUIRE(c.ok());
    client_ = std::move(*c);
    auto core = CarrierCore::Create(
        store_, *client_, SystemClock(), registry,
        CoreOptions{.key_encryption_key = std::string(32, 'k'),
                    .public_base_url = kPublicBase,
                    .twilio_api_base_url = twilio.base(),
                    .twilio_numbers_base_url = twilio.base(),
                    .telnyx_base_url = telnyx.base(),
                    .http_timeout = absl::Seconds(5),
                    .retry = http::RetryPolicy{.max_attempts = 1}});
    REQUIRE(core.ok());
    core_ = std::move(*core);
    source_ = std::make_unique<StaticInstructionSource>(store_);
    hooks_ = std::make_unique<WebhookHandler>(*core_, store_,
                                              source != nullptr ? *source : *source_,
                                              SystemClock(), registry, WebhookOptions{});
    hooks_->Register(router_);
  }

  CarrierCore& core() { return *core_; }
  WebhookHandler& hooks() { return *hooks_; }
  http::Router& router() { return router_; }

  ProviderConfig TwilioConfig() const {
    return ProviderConfig{.provider = Provider::kTwilio,
                          .wire = Wire::kTwilio,
                          .twilio = {.account_sid = kTwilioSid, .auth_token = kTwilioToken}};
  }
  ProviderConfig TelnyxConfig() const {
    return ProviderConfig{.provider = Provider::kTelnyx,
                          .wire = Wire::kTelnyx,
                          .telnyx = {.api_key = kTelnyxKey,
                                     .public_key = crypto::Base64Encode(telnyx_keys.public_key),
                                     .connection_id = "conn-1"}};
  }

  // A Twilio form webhook on `path_and_query`, signed with `token` ("" = no signature header).
  http::Request TwilioRequest(const std::string& path_and_query, const FormParams& params,
                              const std::string& token = kTwilioToken) const {
    http::Request r;
    r.method = "POST";
    r.target = path_and_query;
    const size_t q = path_and_query.find('?');
    r.path = path_and_query.substr(0, q);
    r.query = q == std::string::npos ? "" : path_and_query.substr(q + 1);
    r.body = FormEncode(params);
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (!token.empty()) {
      r.headers.emplace_back("X-Twilio-Signature",
                             TwilioSignature(token, std::string(kPublicBase) + path_and_query,
                                             params));
    }
    return r;
  }

  // A Telnyx JSON webhook signed with this harness's key at `when`.
  http::Request TelnyxRequest(const std::string& path, const std::string& body,
                              absl::Time when = absl::Now()) const {
    http::Request r;
    r.method = "POST";
    r.target = path;
    r.path = path;
    r.body = body;
    const std::string ts = std::to_string(absl::ToUnixSeconds(when));
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("telnyx-timestamp", ts);
    r.headers.emplace_back("telnyx-signature-ed25519",
                           TelnyxSign(telnyx_keys.secret_key, ts, body));
    return r;
  }

 private:
  CarrierStore& store_;
  std::unique_ptr<http::CurlHttpClient> client_;
  std::unique_ptr<CarrierCore> core_;
  std::unique_ptr<StaticInstructionSource> source_;
  std::unique_ptr<WebhookHandler> hooks_;
  http::Router router_;
};

inline FormParams TwilioVoiceParams(const std::string& call_sid, const std::string& to) {
  return {{"CallSid", call_sid},       {"AccountSid", kTwilioSid}, {"From", "+15550001111"},
          {"To", to},                  {"Direction", "inbound"},   {"CallStatus", "ringing"}};
}

inline std::string TelnyxEnvelope(const std::string& type, const std::string& event_id,
                                  const std::string& payload) {
  return R"({"data":{"record_type":"event","event_type":")" + type + R"(","id":")" + event_id +
         R"(","occurred_at":"2026-01-02T03:04:05.000000Z","payload":)" + payload + "}}";
}

// Greeting, gather one digit, then a second prompt.
inline CallInstructions GreetingInstructions() {
  CallInstructions in;
  in.id = "greet";
  in.instructions.push_back(Say{.text = "Hello from Switchboard"});
  in.instructions.push_back(Gather{.num_digits = 1, .prompts = {Say{.text = "Press one"}}});
  in.instructions.push_back(Say{.text = "Goodbye"});
  in.instructions.push_back(Hangup{});
  return in;
}

}  // namespace switchboard::carrier::testing
