// Twilio vectors from the official SDKs (testdata/twilio-vectors.json) and Telnyx Ed25519
// round trips with a generated key.
#include "services/carrier/signature.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "nlohmann/json.hpp"

namespace switchboard::carrier {
namespace {

nlohmann::json LoadVectors() {
  std::ifstream in(SB_CARRIER_TESTDATA_DIR "/twilio-vectors.json");
  REQUIRE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::json::parse(buffer.str());
}

FormParams ParamsOf(const nlohmann::json& params) {
  FormParams out;
  for (const auto& [key, value] : params.items()) {
    if (value.is_array()) {
      for (const auto& v : value) out.emplace_back(key, v.get<std::string>());
    } else {
      out.emplace_back(key, value.get<std::string>());
    }
  }
  return out;
}

TEST_CASE("every Twilio signature vector of the official SDKs", "[signature][twilio]") {
  nlohmann::json vectors = LoadVectors()["twilio_signature"]["vectors"];
  REQUIRE(vectors.size() >= 30);
  int positives = 0;
  int negatives = 0;
  for (const auto& v : vectors) {
    std::string id = v["id"].get<std::string>();
    INFO("vector " << id);
    std::string raw_body = v.value("raw_body", "");
    FormParams params = ParamsOf(v["params"]);
    bool valid = VerifyTwilioSignature(v["auth_token"].get<std::string>(),
                                       v["url"].get<std::string>(), params,
                                       v["x_twilio_signature"].get<std::string>(), raw_body);
    CHECK(valid == v["expect_valid"].get<bool>());
    (v["expect_valid"].get<bool>() ? positives : negatives)++;
    if (v.contains("string_to_sign") && v["expect_valid"].get<bool>()) {
      // The signature is HMAC over exactly the published string.
      std::string sts = v["string_to_sign"].get<std::string>();
      CHECK(crypto::Base64Encode(crypto::HmacSha1(v["auth_token"].get<std::string>(), sts)) ==
            v["x_twilio_signature"].get<std::string>());
      if (raw_body.empty() && sts.find('%') == std::string::npos) {
        // String-to-sign construction for vectors signed over one of our URL variants.
        bool matched = false;
        for (const std::string& url : TwilioUrlVariants(v["url"].get<std::string>())) {
          matched |= TwilioStringToSign(url, params) == sts;
        }
        CHECK(matched);
      }
    }
  }
  CHECK(positives >= 20);
  CHECK(negatives >= 9);
}

TEST_CASE("Twilio body hash vectors", "[signature][twilio]") {
  for (const auto& v : LoadVectors()["twilio_body_hash"]) {
    INFO(v["id"].get<std::string>());
    std::string body = v["body"].get<std::string>();
    CHECK(crypto::HexEncode(crypto::Sha256(body)) == v["sha256_hex"].get<std::string>());
    std::string url = TwilioBodyHashUrl("https://mycompany.com/myapp.php", body);
    CHECK(url == "https://mycompany.com/myapp.php?bodySHA256=" +
                     v["sha256_hex"].get<std::string>());
  }
}

TEST_CASE("Twilio sign then verify, and rejections", "[signature][twilio]") {
  FormParams params = {{"CallSid", "CA1"}, {"From", "+15551230000"}, {"Digits", "5"}};
  const std::string url = "https://hooks.example.com/webhooks/twilio/gather?i=x&s=2";
  std::string sig = TwilioSignature("token", url, params);
  CHECK(VerifyTwilioSignature("token", url, params, sig));
  CHECK_FALSE(VerifyTwilioSignature("other", url, params, sig));
  CHECK_FALSE(VerifyTwilioSignature("token", url, params, ""));
  FormParams tampered = params;
  tampered[2].second = "6";
  CHECK_FALSE(VerifyTwilioSignature("token", url, tampered, sig));
  FormParams extra = params;
  extra.emplace_back("Extra", "1");
  CHECK_FALSE(VerifyTwilioSignature("token", url, extra, sig));

  // JSON variant: signature over the URL with bodySHA256; body must match; params must be empty.
  std::string body = R"({"a":1})";
  std::string json_url = TwilioBodyHashUrl(url, body);
  std::string json_sig = TwilioSignature("token", json_url, {});
  CHECK(VerifyTwilioSignature("token", json_url, {}, json_sig, body));
  CHECK_FALSE(VerifyTwilioSignature("token", json_url, {}, json_sig, R"({"a":2})"));
  CHECK_FALSE(VerifyTwilioSignature("token", json_url, params, json_sig, body));
}

TEST_CASE("Twilio URL variants", "[signature][twilio]") {
  CHECK(TwilioUrlVariants("https://a.com/x") ==
        std::vector<std::string>{"https://a.com/x", "https://a.com:443/x"});
  CHECK(TwilioUrlVariants("http://a.com:80/x") ==
        std::vector<std::string>{"http://a.com:80/x", "http://a.com/x"});
  CHECK(TwilioUrlVariants("https://u:p@a.com:8443/x?q='") ==
        std::vector<std::string>{"https://u:p@a.com:8443/x?q='", "https://u:p@a.com/x?q='",
                                 "https://u:p@a.com:8443/x?q=%27",
                                 "https://u:p@a.com/x?q=%27"});
  CHECK(TwilioUrlVariants("not a url") == std::vector<std::string>{"not a url"});
}

struct TelnyxFixture {
  crypto::Ed25519KeyPair keys = crypto::Ed25519Generate();
  std::string public_b64 = crypto::Base64Encode(keys.public_key);
  std::string body = R"({"data":{"event_type":"call.initiated","id":"e1"}})";
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  std::string ts = "1700000000";
};

TEST_CASE("Telnyx accepts a signature made with the account key", "[signature][telnyx]") {
  TelnyxFixture f;
  std::string sig = TelnyxSign(f.keys.secret_key, f.ts, f.body);
  REQUIRE_FALSE(sig.empty());
  CHECK(VerifyTelnyxSignature(f.public_b64, sig, f.ts, f.body, f.now).ok());
  // Inside the window on both sides.
  CHECK(VerifyTelnyxSignature(f.public_b64, sig, f.ts, f.body, f.now + absl::Seconds(300)).ok());
  CHECK(VerifyTelnyxSignature(f.public_b64, sig, f.ts, f.body, f.now - absl::Seconds(300)).ok());
}

TEST_CASE("Telnyx rejects tampering, stale/future timestamps, wrong key", "[signature][telnyx]") {
  TelnyxFixture f;
  std::string sig = TelnyxSign(f.keys.secret_key, f.ts, f.body);
  auto expect_denied = [](const absl::Status& status, absl::string_view why) {
    CHECK(status.code() == absl::StatusCode::kPermissionDenied);
    CHECK(std::string(status.message()).find(std::string(why)) != std::string::npos);
  };
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, f.ts, f.body + " ", f.now),
                "signature mismatch");
  // Re-serialised JSON of the same content fails: verify the raw body.
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, f.ts,
                                      R"({"data": {"event_type": "call.initiated", "id": "e1"}})",
                                      f.now),
                "signature mismatch");
  // Tampered timestamp (still inside the window).
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, "1700000001", f.body, f.now),
                "signature mismatch");
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, f.ts, f.body, f.now + absl::Seconds(301)),
                "stale");
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, f.ts, f.body, f.now - absl::Seconds(301)),
                "future");
  crypto::Ed25519KeyPair other = crypto::Ed25519Generate();
  expect_denied(VerifyTelnyxSignature(crypto::Base64Encode(other.public_key), sig, f.ts, f.body,
                                      f.now),
                "signature mismatch");
  expect_denied(VerifyTelnyxSignature("AAAA", sig, f.ts, f.body, f.now), "malformed public key");
  expect_denied(VerifyTelnyxSignature(f.public_b64, "!!notbase64", f.ts, f.body, f.now),
                "malformed signature");
  expect_denied(VerifyTelnyxSignature(f.public_b64, crypto::Base64Encode("short"), f.ts, f.body,
                                      f.now),
                "malformed signature");
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, "17e8", f.body, f.now),
                "malformed timestamp");
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, "-1", f.body, f.now),
                "malformed timestamp");
  expect_denied(VerifyTelnyxSignature(f.public_b64, "", f.ts, f.body, f.now), "missing");
  expect_denied(VerifyTelnyxSignature(f.public_b64, sig, "", f.body, f.now), "missing");
  // The message is timestamp|body, nothing else.
  CHECK(crypto::Ed25519Verify(f.keys.public_key, f.ts + "|" + f.body,
                              *crypto::Base64Decode(sig)));
  CHECK(TelnyxSign("short key", f.ts, f.body).empty());
}

}  // namespace
}  // namespace switchboard::carrier
