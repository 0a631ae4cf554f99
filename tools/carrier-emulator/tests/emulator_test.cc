// In-process tests: the emulator on 127.0.0.1:0, plus a libs/http Server on port 0 acting as
// the service's webhook receiver (fixed TwiML; Call Control commands sent back with the
// HttpClient).
#include "tools/carrier-emulator/emulator.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/encoding.h"
#include "libs/http/client.h"
#include "libs/http/url.h"
#include "services/carrier/signature.h"
#include "tools/carrier-emulator/signing.h"
#include "tools/carrier-emulator/tests/fixture.h"

namespace switchboard::carrier_emulator {
namespace {

using nlohmann::json;

using namespace testing;  // NOLINT: the shared fixture (tests/fixture.h)

json Parse(const std::string& s) { return json::parse(s); }

TEST_CASE("Twilio signing matches the twilio-python published vector", "[emulator]") {
  // twilio-python tests/unit/test_request_validator.py
  const http::Params params = {{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675309"},
                               {"Digits", "1234"},             {"From", "+14158675309"},
                               {"To", "+18005551212"}};
  CHECK(TwilioWebhookSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params) ==
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST_CASE("WAV recordings have a valid RIFF header", "[emulator]") {
  const std::string wav = MakeWav(1.0);
  REQUIRE(wav.size() == 44 + 16000);
  CHECK(wav.compare(0, 4, "RIFF") == 0);
  CHECK(wav.compare(8, 8, "WAVEfmt ") == 0);
  CHECK(wav.compare(36, 4, "data") == 0);
}

TEST_CASE("Faults are validated", "[emulator]") {
  CHECK_FALSE(ParseFaults(json{{"path_prefix", "/x"}, {"kind", "webhook"}, {"status", 503}}).ok());
  CHECK_FALSE(ParseFaults(json{{"path_prefix", "/x"}, {"duplicate", true}}).ok());  // request kind
  CHECK_FALSE(ParseFaults(json{{"path_prefix", "/x"}, {"kind", "other"}}).ok());
  CHECK_FALSE(ParseFaults(json{{"status", 503}}).ok());                       // no path_prefix
  CHECK_FALSE(ParseFaults(json{{"path_prefix", "/v2/"}, {"status", 200}}).ok());
  CHECK_FALSE(ParseFaults(json{{"path_prefix", "/v2/"}, {"delay_ms", -1}}).ok());
  auto ok = ParseFaults(json::array({{{"path_prefix", "/v2/"}, {"times", 2}}}));
  REQUIRE(ok.ok());
  CHECK((*ok)[0].status == 503);
  CHECK((*ok)[0].times == 2);
}

TEST_CASE("Twilio REST: auth, numbers, calls, errors", "[emulator][twilio]") {
  Receiver receiver({});
  Fixture f;
  const std::string prefix = absl::StrCat("/2010-04-01/Accounts/", kSid);

  SECTION("wrong credentials get 401 with Twilio's error JSON") {
    auto r = f.Send("GET", prefix + "/AvailablePhoneNumbers/US/Local.json", "",
                    {http::BasicAuthHeader(kSid, "wrong")});
    CHECK(r.status == 401);
    json body = Parse(r.body);
    CHECK(body["code"] == 20003);
    CHECK(body["status"] == 401);
    CHECK(body["more_info"] == "https://www.twilio.com/docs/errors/20003");
    CHECK(f.Send("GET", prefix + "/Calls.json").status == 401);  // no Authorization at all
  }
  SECTION("search, buy, update, release") {
    auto search = f.Twilio("GET", "/AvailablePhoneNumbers/US/Local.json",
                           {{"AreaCode", "415"}, {"Contains", "0107"}});
    REQUIRE(search.status == 200);
    json found = Parse(search.body)["available_phone_numbers"];
    REQUIRE(found.size() == 1);
    CHECK(found[0]["phone_number"] == "+14155550107");
    CHECK(f.Twilio("GET", "/AvailablePhoneNumbers/US/Local.json", {{"AreaCode", "4x5"}}).status ==
          400);
    auto toll_free = f.Twilio("GET", "/AvailablePhoneNumbers/US/TollFree.json",
                              {{"PageSize", "3"}});
    CHECK(Parse(toll_free.body)["available_phone_numbers"].size() == 3);

    auto bought = f.Twilio("POST", "/IncomingPhoneNumbers.json",
                           {{"PhoneNumber", "+14155550107"},
                            {"VoiceUrl", receiver.url() + "/voice"},
                            {"SmsUrl", receiver.url() + "/sms"}});
    REQUIRE(bought.status == 201);
    json number = Parse(bought.body);
    const std::string sid = number["sid"];
    CHECK(absl::StartsWith(sid, "PN"));
    CHECK(number["voice_url"] == receiver.url() + "/voice");
    auto again = f.Twilio("POST", "/IncomingPhoneNumbers.json", {{"PhoneNumber", "+14155550107"}});
    CHECK(again.status == 400);
    CHECK(Parse(again.body)["code"] == 21422);
    // Owned numbers leave the pool.
    CHECK(Parse(f.Twilio("GET", "/AvailablePhoneNumbers/US/Local.json",
                         {{"AreaCode", "415"}, {"Contains", "0107"}}).body)
              ["available_phone_numbers"].empty());

    auto updated = f.Twilio("POST", "/IncomingPhoneNumbers/" + sid + ".json",
                            {{"VoiceUrl", receiver.url() + "/voice2"}});
    REQUIRE(updated.status == 200);
    CHECK(Parse(updated.body)["voice_url"] == receiver.url() + "/voice2");
    CHECK(f.Twilio("POST", "/IncomingPhoneNumbers/" + sid + ".json", {{"VoiceUrl", "ftp://x"}})
              .status == 400);
    CHECK(f.Twilio("DELETE", "/IncomingPhoneNumbers/" + sid + ".json").status == 204);
    auto gone = f.Twilio("DELETE", "/IncomingPhoneNumbers/" + sid + ".json");
    CHECK(gone.status == 404);
    CHECK(Parse(gone.body)["code"] == 20404);
  }
  SECTION("calls: create, invalid To, redirect, hang up, recordings") {
    auto bad = f.Twilio("POST", "/Calls.json",
                        {{"To", "12"}, {"From", "+14155550100"}, {"Url", receiver.url()}});
    CHECK(bad.status == 400);
    CHECK(Parse(bad.body)["code"] == 21211);
    // The callee keeps both Gathers open, so the call stays in progress until hung up.
    const json hold = {{"on", "gather"}, {"hold", true}};
    REQUIRE(f.Send("POST", "/emulator/callees",
                   json{{"default", {{"actions", json::array({hold, hold})}}}}.dump())
                .status == 200);
    auto created = f.Twilio("POST", "/Calls.json",
                            {{"To", "+19175550100"}, {"From", "+14155550100"},
                             {"Twiml", "<Response><Gather/></Response>"},
                             {"StatusCallback", receiver.url() + "/status"}});
    REQUIRE(created.status == 201);
    const std::string call = Parse(created.body)["sid"];
    CHECK(absl::StartsWith(call, "CA"));
    CHECK(call.size() == 34);
    CHECK(f.Twilio("POST", "/Calls/" + call + ".json",
                   {{"Twiml", "<Response><Gather/></Response>"}})
              .status == 200);
    auto rec = f.Twilio("POST", "/Calls/" + call + "/Recordings.json");
    REQUIRE(rec.status == 201);
    const std::string rec_sid = Parse(rec.body)["sid"];
    auto stopped = f.Twilio("POST", "/Calls/" + call + "/Recordings/" + rec_sid + ".json",
                            {{"Status", "stopped"}});
    REQUIRE(stopped.status == 200);
    CHECK(Parse(stopped.body)["status"] == "stopped");
    auto media = f.Twilio("GET", "/Recordings/" + rec_sid + ".wav");
    CHECK(media.status == 200);
    CHECK(media.body.compare(0, 4, "RIFF") == 0);
    auto hung = f.Twilio("POST", "/Calls/" + call + ".json", {{"Status", "completed"}});
    REQUIRE(hung.status == 200);
    CHECK(Parse(hung.body)["status"] == "completed");
    CHECK(f.Twilio("POST", "/Calls/" + call + ".json", {{"Status", "completed"}}).status == 400);
    CHECK(f.Twilio("POST", "/Calls/CA0000.json", {{"Status", "completed"}}).status == 404);
  }
}

TEST_CASE("Fault injection answers 503 for the configured requests only", "[emulator]") {
  Fixture f;
  auto added = f.Send("POST", "/emulator/faults",
                      json{{"method", "POST"}, {"path_prefix", "/2010-04-01/"}, {"status", 503},
                           {"times", 1}}.dump());
  REQUIRE(added.status == 201);
  const http::Params sms = {{"To", "+19175550100"}, {"From", "+14155550100"}, {"Body", "hi"}};
  auto first = f.Twilio("POST", "/Messages.json", sms);
  CHECK(first.status == 503);
  CHECK(Parse(first.body)["status"] == 503);
  CHECK(f.Twilio("POST", "/Messages.json", sms).status == 201);  // times: 1 used up

  REQUIRE(f.Send("POST", "/emulator/faults",
                 json{{"path_prefix", "/v2/messages"}, {"status", 500}, {"times", 0}}.dump())
              .status == 201);
  const json telnyx_sms = {{"to", "+19175550100"}, {"from", "+14155550100"}, {"text", "hi"}};
  for (int i = 0; i < 3; ++i) {
    auto r = f.Telnyx("POST", "/messages", telnyx_sms);
    CHECK(r.status == 500);
    CHECK(Parse(r.body)["errors"].size() == 1);
  }
  CHECK(f.Telnyx("GET", "/available_phone_numbers").status == 200);  // other prefix unaffected
  CHECK(f.Send("DELETE", "/emulator/faults").status == 200);
  CHECK(f.Telnyx("POST", "/messages", telnyx_sms).status == 200);
  CHECK(f.Send("POST", "/emulator/faults", "{\"status\":503}").status == 400);
  CHECK(f.Send("POST", "/emulator/faults", "not json").status == 400);
}

TEST_CASE("Webhook faults duplicate and reorder asynchronous webhooks", "[emulator]") {
  Receiver receiver({});
  Fixture f;
  auto statuses = [&](const std::string& path) {
    std::vector<std::string> out;
    for (const auto& r : receiver.received()) {
      if (r.path == path) out.push_back(FormValue(r.body, "MessageStatus"));
    }
    return out;
  };
  auto count_is = [&](const std::string& path, size_t n) {
    return receiver.WaitFor([&](const std::vector<Received>& all) {
      size_t c = 0;
      for (const auto& r : all) c += r.path == path;
      return c == n;
    });
  };
  REQUIRE(f.Send("POST", "/emulator/faults",
                 json::array({{{"kind", "webhook"}, {"path_prefix", "/dup"}, {"duplicate", true}},
                              {{"kind", "webhook"}, {"path_prefix", "/reorder"},
                               {"reorder", true}}}).dump())
              .status == 201);
  for (const char* path : {"/dup", "/reorder"}) {
    REQUIRE(f.Twilio("POST", "/Messages.json",
                     {{"To", "+19175550100"}, {"From", "+14155550100"}, {"Body", "x"},
                      {"StatusCallback", receiver.url() + path}}).status == 201);
  }
  REQUIRE(count_is("/dup", 3));
  CHECK(statuses("/dup") == std::vector<std::string>{"sent", "sent", "delivered"});
  REQUIRE(count_is("/reorder", 2));
  CHECK(statuses("/reorder") == std::vector<std::string>{"delivered", "sent"});
}

TEST_CASE("Telnyx REST: auth, numbers, porting, recordings 404", "[emulator][telnyx]") {
  Fixture f;
  auto unauth = f.Send("GET", "/v2/available_phone_numbers", "",
                       {http::BearerAuthHeader("wrong")});
  CHECK(unauth.status == 401);
  CHECK(Parse(unauth.body)["errors"][0]["code"] == "10009");

  auto search = f.Telnyx("GET",
                         "/available_phone_numbers?filter%5Bnational_destination_code%5D=212"
                         "&filter%5Blimit%5D=2&filter%5Bphone_number_type%5D=local");
  REQUIRE(search.status == 200);
  json found = Parse(search.body);
  REQUIRE(found["data"].size() == 2);
  CHECK(found["data"][0]["phone_number"] == "+12125550100");
  CHECK(found["data"][0]["cost_information"]["monthly_cost"] == "1.15");
  CHECK(found["meta"]["total_results"] == 2);

  auto order = f.Telnyx("POST", "/number_orders",
                        json{{"phone_numbers", json::array({{{"phone_number", "+12125550100"}}})},
                             {"connection_id", "conn-1"}});
  REQUIRE(order.status == 200);
  json data = Parse(order.body)["data"];
  CHECK(data["status"] == "success");
  const std::string id = data["phone_numbers"][0]["id"];
  auto dup = f.Telnyx("POST", "/number_orders",
                      json{{"phone_numbers", json::array({{{"phone_number", "+12125550100"}}})}});
  CHECK(dup.status == 422);
  CHECK(f.Telnyx("POST", "/number_orders", json::object()).status == 422);

  auto patched = f.Telnyx("PATCH", "/phone_numbers/" + id, json{{"connection_id", "conn-2"}});
  REQUIRE(patched.status == 200);
  CHECK(Parse(patched.body)["data"]["connection_id"] == "conn-2");
  auto deleted = f.Telnyx("DELETE", "/phone_numbers/" + id);
  CHECK(deleted.status == 200);
  CHECK(f.Telnyx("DELETE", "/phone_numbers/" + id).status == 404);

  auto port = f.Telnyx("POST", "/porting_orders",
                       json{{"phone_numbers", json::array({"+13125550199"})}});
  REQUIRE(port.status == 201);
  const std::string port_id = Parse(port.body)["data"][0]["id"];
  auto got = f.Telnyx("GET", "/porting_orders/" + port_id);
  REQUIRE(got.status == 200);
  CHECK(Parse(got.body)["data"]["status"]["value"] == "draft");
  CHECK(f.Telnyx("POST", "/porting_orders", json{{"phone_numbers", json::array({"555"})}})
            .status == 422);
  CHECK(f.Telnyx("GET", "/recordings/nope").status == 404);
  CHECK(f.Telnyx("POST", "/calls/v3:none/actions/answer", json::object()).status == 404);
  auto bad_dial = f.Telnyx("POST", "/calls", json{{"connection_id", "c"}, {"to", "x"},
                                                   {"from", "+14155550100"}});
  CHECK(bad_dial.status == 422);
  CHECK(Parse(bad_dial.body)["errors"][0]["source"]["pointer"] == "/to");
}

TEST_CASE("Number orders: pending then number_order.complete; after-faults; port status",
          "[emulator][telnyx]") {
  Receiver receiver({});
  Fixture f(receiver.url());
  // Pending: the order answers pending, the signed webhook follows with the outcome.
  REQUIRE(f.Send("POST", "/emulator/number-orders",
                 json{{"mode", "pending"}, {"outcome", "success"}, {"delay_ms", 10}}.dump())
              .status == 200);
  auto order = f.Telnyx("POST", "/number_orders",
                        json{{"phone_numbers", json::array({{{"phone_number", "+13125550150"}}})},
                             {"connection_id", "conn-9"}});
  REQUIRE(order.status == 200);
  const json data = Parse(order.body)["data"];
  CHECK(data["status"] == "pending");
  CHECK(data["phone_numbers"][0]["status"] == "pending");
  REQUIRE(receiver.WaitFor([](const std::vector<Received>& all) {
    for (const auto& r : all) {
      if (r.path == "/webhooks/telnyx/numbers") return true;
    }
    return false;
  }));
  Received hook;
  for (const auto& r : receiver.received()) {
    if (r.path == "/webhooks/telnyx/numbers") hook = r;
  }
  CHECK(TelnyxSignatureValid(f.emulator->TelnyxPublicKeyBase64(), hook));
  const json event = Parse(hook.body)["data"];
  CHECK(event["event_type"] == "number_order.complete");
  CHECK(event["payload"]["id"] == data["id"]);
  CHECK(event["payload"]["status"] == "success");
  CHECK(event["payload"]["connection_id"] == "conn-9");
  CHECK(event["payload"]["phone_numbers"][0]["phone_number"] == "+13125550150");
  // Failure frees the number; bad modes are refused.
  REQUIRE(f.Send("POST", "/emulator/number-orders",
                 json{{"mode", "pending"}, {"outcome", "failure"}, {"delay_ms", 0}}.dump())
              .status == 200);
  REQUIRE(f.Telnyx("POST", "/number_orders",
                   json{{"phone_numbers", json::array({{{"phone_number", "+13125550151"}}})}})
              .status == 200);
  CHECK(receiver.WaitFor([&](const std::vector<Received>&) {
    return Parse(f.Telnyx("GET", "/phone_numbers?filter%5Bphone_number%5D=%2B13125550151").body)
               ["data"].empty();
  }));
  CHECK(f.Send("POST", "/emulator/number-orders", json{{"mode", "later"}}.dump()).status == 400);
  REQUIRE(f.Send("POST", "/emulator/number-orders", json{{"mode", "instant"}}.dump()).status ==
          200);

  // An "after" fault: the purchase happens, the answer is a 503.
  REQUIRE(f.Send("POST", "/emulator/faults",
                 json{{"method", "POST"}, {"path_prefix", "/2010-04-01/"}, {"status", 503},
                      {"after", true}}.dump())
              .status == 201);
  auto bought = f.Twilio("POST", "/IncomingPhoneNumbers.json", {{"PhoneNumber", "+13125550152"}});
  CHECK(bought.status == 503);
  auto listed = f.Twilio("GET", "/IncomingPhoneNumbers.json", {{"PhoneNumber", "+13125550152"}});
  REQUIRE(listed.status == 200);
  REQUIRE(Parse(listed.body)["incoming_phone_numbers"].size() == 1);
  CHECK(f.Send("POST", "/emulator/faults",
               json{{"kind", "webhook"}, {"path_prefix", "/x"}, {"after", true}}.dump())
            .status == 400);

  // Port status set by the admin endpoint; a ported order's numbers become owned.
  auto port = f.Telnyx("POST", "/porting_orders",
                       json{{"phone_numbers", json::array({"+13125557700"})}});
  REQUIRE(port.status == 201);
  const std::string port_id = Parse(port.body)["data"][0]["id"];
  CHECK(f.Send("POST", "/emulator/port-orders/" + port_id, json{{"status", "ported"}}.dump())
            .status == 200);
  CHECK(Parse(f.Telnyx("GET", "/porting_orders/" + port_id).body)["data"]["status"]["value"] ==
        "ported");
  CHECK(Parse(f.Telnyx("GET", "/phone_numbers?filter%5Bphone_number%5D=%2B13125557700").body)
            ["data"].size() == 1);
  CHECK(f.Send("POST", "/emulator/port-orders/nope", json{{"status", "ported"}}.dump()).status ==
        404);
}

TEST_CASE("Messaging: status callbacks and signed inbound webhooks", "[emulator][messaging]") {
  Receiver receiver({});
  Fixture f(receiver.url());
  const std::string public_key = Parse(f.Send("GET", "/emulator/info").body)["telnyx_public_key"];

  auto sent = f.Twilio("POST", "/Messages.json",
                       {{"To", "+19175550100"}, {"From", "+14155550100"}, {"Body", "hello"},
                        {"StatusCallback", receiver.url() + "/sms-status"}});
  REQUIRE(sent.status == 201);
  CHECK(Parse(sent.body)["status"] == "queued");
  auto failed = f.Twilio("POST", "/Messages.json",
                         {{"To", "+15005550009"}, {"From", "+14155550100"}, {"Body", "x"},
                          {"StatusCallback", receiver.url() + "/sms-status"}});
  REQUIRE(failed.status == 201);
  CHECK(f.Twilio("POST", "/Messages.json", {{"To", "abc"}, {"From", "+14155550100"},
                                            {"Body", "x"}}).status == 400);
  REQUIRE(receiver.WaitFor([](const std::vector<Received>& r) {
    int n = 0;
    for (const auto& x : r) n += x.path == "/sms-status";
    return n == 4;
  }));
  std::vector<std::string> statuses;
  for (const auto& r : receiver.received()) {
    if (r.path != "/sms-status") continue;
    CHECK(TwilioSignatureValid(receiver.url(), r));
    statuses.push_back(FormValue(r.body, "To") + ":" + FormValue(r.body, "MessageStatus"));
  }
  CHECK(statuses == std::vector<std::string>{"+19175550100:sent", "+19175550100:delivered",
                                             "+15005550009:sent", "+15005550009:failed"});

  auto telnyx = f.Telnyx("POST", "/messages",
                         json{{"to", "+19175550100"}, {"from", "+14155550100"}, {"text", "yo"},
                              {"webhook_url", receiver.url() + "/telnyx-status"}});
  REQUIRE(telnyx.status == 200);
  REQUIRE(receiver.WaitFor([](const std::vector<Received>& r) {
    int n = 0;
    for (const auto& x : r) n += x.path == "/telnyx-status";
    return n == 2;
  }));
  std::vector<std::string> events;
  for (const auto& r : receiver.received()) {
    if (r.path != "/telnyx-status") continue;
    CHECK(TelnyxSignatureValid(public_key, r));
    json e = Parse(r.body)["data"];
    events.push_back(e["event_type"].get<std::string>() + ":" +
                     e["payload"]["to"][0]["status"].get<std::string>());
  }
  CHECK(events == std::vector<std::string>{"message.sent:sent", "message.finalized:delivered"});

  // Inbound: default webhook routes under the base URL.
  auto inbound = f.Send("POST", "/emulator/messages/inbound",
                        json{{"carrier", "twilio"}, {"from", "+19175550100"},
                             {"to", "+14155550100"}, {"body", "STOP"}}.dump());
  REQUIRE(inbound.status == 200);
  CHECK(Parse(inbound.body)["webhook_status"] == 200);
  auto inbound_tx = f.Send("POST", "/emulator/messages/inbound",
                           json{{"carrier", "telnyx"}, {"from", "+19175550100"},
                                {"to", "+14155550100"}, {"body", "hi"}}.dump());
  REQUIRE(inbound_tx.status == 200);
  bool saw_twilio = false, saw_telnyx = false;
  for (const auto& r : receiver.received()) {
    if (r.path == "/webhooks/twilio/sms") {
      saw_twilio = true;
      CHECK(TwilioSignatureValid(receiver.url(), r));
      CHECK(FormValue(r.body, "Body") == "STOP");
    }
    if (r.path == "/webhooks/telnyx/messaging") {
      saw_telnyx = true;
      CHECK(TelnyxSignatureValid(public_key, r));
      CHECK(Parse(r.body)["data"]["event_type"] == "message.received");
    }
  }
  CHECK(saw_twilio);
  CHECK(saw_telnyx);
  CHECK(f.Send("POST", "/emulator/messages/inbound", "{}").status == 400);
}

http::Response Twiml(const std::string& body) {
  http::Response r;
  r.headers = {{"Content-Type", "application/xml"}};
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>" + body + "</Response>";
  return r;
}

TEST_CASE("Twilio Dial: the nouns ring at once, the earliest answer wins and its child leg "
          "reports through its statusCallback before the action",
          "[emulator][twilio][scenario][dial]") {
  Receiver receiver({
      {"/voice",
       [](const http::Request&) {
         return Twiml(
             "<Dial timeout=\"20\" action=\"/dialed\">"
             "<Number statusCallback=\"/child\" "
             "statusCallbackEvent=\"initiated ringing answered completed\">+19175550101"
             "</Number>"
             "<Client statusCallback=\"/child\" statusCallbackEvent=\"answered\">alice</Client>"
             "<Number statusCallback=\"/child\" statusCallbackEvent=\"answered completed\">"
             "+19175550102</Number></Dial>");
       }},
      {"/dialed", [](const http::Request&) { return Twiml("<Hangup/>"); }},
  });
  Fixture f;
  f.AddNumber("twilio", "+14155550100", receiver.url() + "/voice", receiver.url() + "/status");
  json scenario = {{"carrier", "twilio"},
                   {"from", "+13125550111"},
                   {"to", "+14155550100"},
                   {"callees",
                    {{"+19175550101", "no-answer"},
                     {"client:alice", {{"answer_after_s", 6}, {"talk_s", 5}}},
                     {"+19175550102", {{"answer_after_s", 3}, {"talk_s", 10}}}}}};
  auto http_result = f.Send("POST", "/emulator/calls", scenario.dump());
  REQUIRE(http_result.status == 200);
  json result = Parse(http_result.body);
  INFO(result.dump());
  CHECK(Steps(result) == std::vector<std::string>{"Dial:completed", "Hangup:hung up"});
  const json& dial = result["steps"][0];
  CHECK(dial["at_s"] == 13.0);  // answered after 3 s (not 6, not the 20 s timeout), 10 s talk
  CHECK(dial["details"]["ring"] == "simultaneous");
  CHECK(dial["details"]["answered"] == "+19175550102");
  CHECK(dial["details"]["targets"] ==
        json::array({"+19175550101", "client:alice", "+19175550102"}));
  const json& legs = dial["details"]["legs"];
  REQUIRE(legs.size() == 3);
  CHECK(legs[0]["outcome"] == "canceled");
  CHECK(legs[1]["outcome"] == "canceled");
  CHECK(legs[2]["outcome"] == "answered");
  const std::string child_sid = legs[2]["call_sid"];
  CHECK(dial["details"]["dial_call_sid"] == child_sid);
  CHECK(child_sid.size() == 34);
  CHECK(absl::StartsWith(child_sid, "CA"));
  CHECK(child_sid != result["call_id"]);
  CHECK(legs[0]["call_sid"] != child_sid);

  // Child-leg callbacks only for the events each noun asked for; the answer before the action.
  const auto received = receiver.received();
  std::vector<std::string> hooks;
  for (const Received& r : received) {
    CHECK(TwilioSignatureValid(receiver.url(), r));
    hooks.push_back(r.path + ":" + FormValue(r.body, "CallStatus") + ":" +
                    FormValue(r.body, "To"));
  }
  CHECK(hooks == std::vector<std::string>{
                     "/voice:ringing:+14155550100", "/child:initiated:+19175550101",
                     "/child:ringing:+19175550101", "/child:in-progress:+19175550102",
                     "/child:canceled:+19175550101", "/child:completed:+19175550102",
                     "/dialed:in-progress:+14155550100", "/status:completed:+14155550100"});
  REQUIRE(received.size() == 8);
  const Received& answered = received[3];
  CHECK(FormValue(answered.body, "CallSid") == child_sid);
  CHECK(FormValue(answered.body, "ParentCallSid") == result["call_id"]);
  CHECK(FormValue(answered.body, "AccountSid") == kSid);
  CHECK(FormValue(answered.body, "From") == "+13125550111");
  CHECK(FormValue(answered.body, "Direction") == "outbound-dial");
  CHECK(FormValue(answered.body, "CallbackSource") == "call-progress-events");
  CHECK(FormValue(answered.body, "SequenceNumber") == "0");
  CHECK_FALSE(FormValue(answered.body, "Timestamp").empty());
  CHECK(FormValue(received[5].body, "SequenceNumber") == "1");
  CHECK(FormValue(received[5].body, "CallDuration") == "10");
  CHECK(FormValue(received[4].body, "SequenceNumber") == "2");  // the first leg's third
  // The action names the same child call.
  CHECK(FormValue(received[6].body, "DialCallStatus") == "completed");
  CHECK(FormValue(received[6].body, "DialCallSid") == child_sid);
  CHECK(FormValue(received[6].body, "DialCallDuration") == "10");
  CHECK(FormValue(received[6].body, "CallSid") == result["call_id"]);

  SECTION("nobody answers: busy only when all are busy, failed only when all failed") {
    struct Case {
      json callees;
      std::string status;
      double at_s;
    };
    const Case cases[] = {
        {{{"+19175550101", "busy"}, {"+19175550102", "busy"}, {"default", "busy"}}, "busy", 2},
        {{{"default", "failed"}}, "failed", 1},
        {{{"+19175550101", "busy"}, {"+19175550102", "failed"}, {"default", "busy"}},
         "no-answer", 2},
        // An answer after the Dial timeout is no answer.
        {{{"+19175550102", {{"answer_after_s", 25}}}, {"default", "busy"}}, "no-answer", 20}};
    for (const Case& c : cases) {
      scenario["callees"] = c.callees;
      auto r = f.Send("POST", "/emulator/calls", scenario.dump());
      REQUIRE(r.status == 200);
      json res = Parse(r.body);
      INFO(res.dump());
      REQUIRE_FALSE(res["steps"].empty());
      CHECK(res["steps"][0]["verb"] == "Dial");
      CHECK(res["steps"][0]["outcome"] == c.status);
      CHECK(res["steps"][0]["at_s"] == c.at_s);
      CHECK(res["steps"][0]["details"]["answered"] == "");
      // No leg answered: no answered callback.
      for (const Received& h : receiver.received()) {
        if (FormValue(h.body, "ParentCallSid") == res["call_id"]) {
          CHECK(FormValue(h.body, "CallStatus") != "in-progress");
        }
      }
    }
  }
  SECTION("a Client noun is the callee client:<identity>") {
    scenario["callees"] = {{"client:alice", {{"answer_after_s", 1}, {"talk_s", 2}}},
                           {"default", "no-answer"}};
    auto r = f.Send("POST", "/emulator/calls", scenario.dump());
    REQUIRE(r.status == 200);
    json res = Parse(r.body);
    CHECK(res["steps"][0]["outcome"] == "completed");
    CHECK(res["steps"][0]["details"]["answered"] == "client:alice");
    bool reported = false;
    for (const Received& h : receiver.received()) {
      if (FormValue(h.body, "ParentCallSid") != res["call_id"]) continue;
      reported = reported || (FormValue(h.body, "CallStatus") == "in-progress" &&
                              FormValue(h.body, "To") == "client:alice");
    }
    CHECK(reported);
  }
}

TEST_CASE("Twilio Dial sequential=\"true\" rings the nouns in turn",
          "[emulator][twilio][scenario][dial]") {
  Receiver receiver({{"/voice", [](const http::Request&) {
                        return Twiml("<Dial timeout=\"20\" sequential=\"true\">"
                                     "<Number>+19175550101</Number><Number>+19175550102</Number>"
                                     "<Number>+19175550103</Number></Dial>");
                      }}});
  Fixture f;
  f.AddNumber("twilio", "+14155550100", receiver.url() + "/voice");
  const json scenario = {{"carrier", "twilio"},
                         {"from", "+13125550111"},
                         {"to", "+14155550100"},
                         {"callees",
                          {{"+19175550101", "no-answer"},
                           {"+19175550102", {{"answer_after_s", 3}, {"talk_s", 4}}},
                           {"+19175550103", {{"answer_after_s", 1}, {"talk_s", 4}}}}}};
  auto r = f.Send("POST", "/emulator/calls", scenario.dump());
  REQUIRE(r.status == 200);
  json res = Parse(r.body);
  INFO(res.dump());
  REQUIRE_FALSE(res["steps"].empty());
  const json& dial = res["steps"][0];
  CHECK(dial["outcome"] == "completed");
  CHECK(dial["details"]["ring"] == "sequential");
  CHECK(dial["details"]["answered"] == "+19175550102");  // the earlier-listed, not the quicker
  CHECK(dial["at_s"] == 27.0);                          // 20 s unanswered + 3 s + 4 s talk
  CHECK(dial["details"]["legs"][0]["outcome"] == "no-answer");
  CHECK(dial["details"]["legs"][2]["outcome"] == "not-dialed");
}

TEST_CASE("Twilio scenario: greeting, gather 1, dial no-answer, record, hang up",
          "[emulator][twilio][scenario]") {
  Receiver receiver({
      {"/voice",
       [](const http::Request&) {
         return Twiml(
             "<Say voice=\"alice\">Welcome to Acme</Say>"
             "<Gather numDigits=\"1\" action=\"/gather\" timeout=\"5\"><Say>Press 1 for sales"
             "</Say></Gather><Hangup/>");
       }},
      {"/gather",
       [](const http::Request& r) {
         if (FormValue(r.body, "Digits") != "1") return Twiml("<Hangup/>");
         return Twiml(
             "<Dial timeout=\"20\" action=\"/dial?step=2\"><Number>+19175550100</Number></Dial>");
       }},
      {"/dial",
       [](const http::Request& r) {
         if (FormValue(r.body, "DialCallStatus") != "no-answer") return Twiml("<Hangup/>");
         return Twiml(
             "<Say>Please leave a message</Say><Record maxLength=\"30\" action=\"/recorded\" "
             "recordingStatusCallback=\"/recording-status\"/>");
       }},
      {"/recorded", [](const http::Request&) { return Twiml("<Hangup/>"); }},
  });
  Fixture f;
  f.AddNumber("twilio", "+14155550100", receiver.url() + "/voice", receiver.url() + "/status");
  const json scenario = {
      {"carrier", "twilio"},
      {"from", "+13125550111"},
      {"to", "+14155550100"},
      {"caller", json::array({{{"on", "gather"}, {"press", "1"}},
                              {{"on", "record"}, {"speak", "Hi it is Bob call me back"}}})},
      {"callees", {{"+19175550100", "no-answer"}, {"default", "busy"}}}};
  auto http_result = f.Send("POST", "/emulator/calls", scenario.dump());
  REQUIRE(http_result.status == 200);
  json result = Parse(http_result.body);
  CHECK(result["carrier"] == "twilio");
  CHECK(result["status"] == "completed");
  std::vector<std::string> steps;
  for (const auto& s : result["steps"]) {
    steps.push_back(s["verb"].get<std::string>() + ":" + s["outcome"].get<std::string>());
  }
  CHECK(steps == std::vector<std::string>{"Say:spoken", "Gather:digits:1", "Dial:no-answer",
                                          "Say:spoken", "Record:recorded", "Hangup:hung up"});
  CHECK(result["steps"][2]["details"]["targets"][0] == "+19175550100");
  CHECK(result["duration_s"].get<double>() >= 20);  // the dial timeout ran in simulated time

  // Every webhook arrived signed over the exact URL, in order.
  std::vector<std::string> paths;
  for (const auto& r : receiver.received()) {
    paths.push_back(r.path);
    CHECK(TwilioSignatureValid(receiver.url(), r));
    CHECK(FormValue(r.body, "CallSid") == result["call_id"]);
  }
  CHECK(paths == std::vector<std::string>{"/voice", "/gather", "/dial", "/recording-status",
                                          "/recorded", "/status"});
  const auto received = receiver.received();
  CHECK(FormValue(received[0].body, "CallStatus") == "ringing");
  CHECK(FormValue(received[2].body, "DialCallStatus") == "no-answer");
  CHECK(received[2].query == "step=2");
  CHECK(FormValue(received[5].body, "CallStatus") == "completed");
  const std::string recording_url = FormValue(received[4].body, "RecordingUrl");
  REQUIRE(absl::StartsWith(recording_url, f.base));
  auto media = f.Send("GET", recording_url.substr(f.base.size()) + ".wav", "",
                      {http::BasicAuthHeader(kSid, kToken)});
  CHECK(media.status == 200);
  CHECK(media.body.compare(0, 4, "RIFF") == 0);

  SECTION("voicemail audio from a WAV file") {
    const std::string path = "/tmp/carrier_emulator_test_" + std::to_string(::getpid()) + ".wav";
    {
      std::ofstream out(path, std::ios::binary);
      out << MakeWav(2.0);
    }
    json with_audio = scenario;
    with_audio["caller"][1] = {{"on", "record"}, {"audio", path}};
    auto r = Parse(f.Send("POST", "/emulator/calls", with_audio.dump()).body);
    std::remove(path.c_str());
    CHECK(r["steps"][4]["details"]["audio"] == path);
    CHECK(r["steps"][4]["details"]["duration"] == "2");
  }
  SECTION("no input: the Gather times out and the next verb runs") {
    json silent = scenario;
    silent["caller"] = json::array();
    auto r = Parse(f.Send("POST", "/emulator/calls", silent.dump()).body);
    std::vector<std::string> s;
    for (const auto& step : r["steps"]) {
      s.push_back(step["verb"].get<std::string>() + ":" + step["outcome"].get<std::string>());
    }
    CHECK(s == std::vector<std::string>{"Say:spoken", "Gather:timeout", "Hangup:hung up"});
  }
  SECTION("bad scenarios are 4xx naming the field") {
    auto r = f.Send("POST", "/emulator/calls", json{{"carrier", "sprint"}}.dump());
    CHECK(r.status == 400);
    CHECK(absl::StrContains(r.body, "scenario.carrier"));
    json unknown = scenario;
    unknown["to"] = "+18885550100";
    CHECK(f.Send("POST", "/emulator/calls", unknown.dump()).status == 404);
  }
}

TEST_CASE("Telnyx scenario driven by Call Control commands", "[emulator][telnyx][scenario]") {
  std::unique_ptr<Fixture> fixture;  // set before any call is placed
  absl::Mutex errors_mu;
  std::vector<std::string> errors;
  std::string main_call;
  auto command = [&](const std::string& call_id, const std::string& action, json body) {
    http::HttpRequest request;
    request.method = "POST";
    request.url = absl::StrCat(fixture->base, "/v2/calls/", http::PercentEncode(call_id),
                               "/actions/", action);
    request.headers = {http::BearerAuthHeader(kApiKey), {"Content-Type", "application/json"}};
    request.body = body.dump();
    auto response = fixture->client->Send(request);
    if (!response.ok() || response->status != 200) {
      absl::MutexLock lock(&errors_mu);
      errors.push_back(action + ": " + (response.ok() ? response->body
                                                      : std::string(response.status().message())));
    }
  };
  auto state = [](const std::string& s) { return crypto::Base64Encode(s); };
  Receiver receiver({{"/cc", [&](const http::Request& r) {
    json event = json::parse(r.body)["data"];
    const std::string type = event["event_type"];
    json p = event["payload"];
    const std::string id = p["call_control_id"];
    const std::string cs = p.value("client_state", "");
    if (type == "call.initiated") {
      main_call = id;
      command(id, "answer", {{"client_state", state("answered")}, {"command_id", "c1"}});
    } else if (type == "call.answered") {
      command(id, "speak", {{"payload", "Welcome to Acme"}, {"voice", "female"},
                            {"client_state", state("greeting")}});
    } else if (type == "call.speak.ended" && cs == state("greeting")) {
      command(id, "gather_using_speak",
              {{"payload", "Press 1 for sales"}, {"voice", "female"}, {"maximum_digits", 1},
               {"client_state", state("menu")}});
    } else if (type == "call.gather.ended" && p["digits"] == "1") {
      command(id, "transfer", {{"to", "+19175550100"}, {"timeout_secs", 20},
                               {"client_state", state("transfer")}});
    } else if (type == "call.hangup" && id != main_call) {
      command(main_call, "speak", {{"payload", "Please leave a message"}, {"voice", "female"},
                                   {"client_state", state("voicemail")}});
    } else if (type == "call.speak.ended" && cs == state("voicemail")) {
      command(id, "record_start", {{"format", "wav"}, {"channels", "single"},
                                   {"client_state", state("recording")}});
    }
    return http::Response::Text(200, "");
  }}});
  fixture = std::make_unique<Fixture>();
  Fixture& f = *fixture;
  f.AddNumber("telnyx", "+14155550100", receiver.url() + "/cc");
  const std::string public_key = Parse(f.Send("GET", "/emulator/info").body)["telnyx_public_key"];
  const json scenario = {
      {"carrier", "telnyx"},
      {"from", "+13125550111"},
      {"to", "+14155550100"},
      {"caller", json::array({{{"on", "gather"}, {"press", "1"}},
                              {{"on", "record"}, {"speak", "Hi it is Bob"}}})},
      {"callees", {{"default", "no-answer"}}}};
  auto http_result = f.Send("POST", "/emulator/calls", scenario.dump());
  REQUIRE(http_result.status == 200);
  json result = Parse(http_result.body);
  {
    absl::MutexLock lock(&errors_mu);
    CHECK(errors.empty());
  }
  CHECK(result["carrier"] == "telnyx");
  CHECK(result["status"] == "completed");
  CHECK(result["call_id"] == main_call);
  std::vector<std::string> steps;
  for (const auto& s : result["steps"]) {
    steps.push_back(s["verb"].get<std::string>() + ":" + s["outcome"].get<std::string>());
  }
  CHECK(steps == std::vector<std::string>{"answer:answered", "speak:spoken",
                                          "gather_using_speak:digits:1", "transfer:no-answer",
                                          "speak:spoken", "record_start:recording",
                                          "hangup:caller hung up"});
  std::vector<std::string> events;
  std::string recording_id;
  for (const auto& r : receiver.received()) {
    CHECK(TelnyxSignatureValid(public_key, r));
    json e = Parse(r.body)["data"];
    events.push_back(e["event_type"]);
    if (e["event_type"] == "call.recording.saved") {
      recording_id = e["payload"]["recording_id"];
      CHECK(e["payload"]["client_state"] == state("recording"));
    }
    if (e["event_type"] == "call.gather.ended") {
      CHECK(e["payload"]["client_state"] == state("menu"));
    }
  }
  CHECK(events == std::vector<std::string>{
                      "call.initiated", "call.answered", "call.speak.started", "call.speak.ended",
                      "call.gather.ended", "call.hangup", "call.speak.started", "call.speak.ended",
                      "call.recording.saved", "call.hangup"});
  REQUIRE(!recording_id.empty());
  auto rec = f.Telnyx("GET", "/recordings/" + recording_id);
  REQUIRE(rec.status == 200);
  const std::string wav_url = Parse(rec.body)["data"]["download_urls"]["wav"];
  auto media = f.Send("GET", wav_url.substr(f.base.size()));
  CHECK(media.status == 200);
  CHECK(media.body.compare(0, 4, "RIFF") == 0);
  // Commands on the ended call are refused with Telnyx's error shape.
  auto late = f.Telnyx("POST", "/calls/" + http::PercentEncode(main_call) + "/actions/hangup",
                       json::object());
  CHECK(late.status == 422);
  CHECK(Parse(late.body)["errors"][0]["code"] == "90018");

  // Wrong field types are 422 in Telnyx's shape, never a crash.
  auto typed = f.Telnyx("POST", "/messages", json{{"to", 5}, {"from", "+14155550100"}});
  CHECK(typed.status == 422);
  CHECK(Parse(typed.body)["errors"][0]["code"] == "10015");
  auto bad_scenario = scenario;
  bad_scenario["callees"] = {{"+19175550100", {{"answer_after_s", "soon"}}}};
  CHECK(f.Send("POST", "/emulator/calls", bad_scenario.dump()).status == 400);

  // A webhook that fails ends the call at once as failed.
  f.AddNumber("telnyx", "+14155550199", receiver.url() + "/nothing-here-500");
  json unanswered = scenario;
  unanswered["to"] = "+14155550199";
  auto failed = f.Send("POST", "/emulator/calls", unanswered.dump());
  REQUIRE(failed.status == 200);
  CHECK(Parse(failed.body)["status"] == "failed");
}

}  // namespace
}  // namespace switchboard::carrier_emulator
