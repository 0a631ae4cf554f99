// Played calls: espeak-ng speech in recordings, REST-created calls (Twilio Calls.json, Telnyx
// POST /v2/calls) played against /emulator/callees, and live modification of calls in progress.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/crypto/encoding.h"
#include "tools/carrier-emulator/emulator.h"
#include "tools/carrier-emulator/speech.h"
#include "tools/carrier-emulator/tests/fixture.h"

namespace switchboard::carrier_emulator::testing {
namespace {

using nlohmann::json;

uint32_t Le(const std::string& s, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  }
  return v;
}

std::vector<int16_t> Samples(const std::string& wav) {
  std::vector<int16_t> out((wav.size() - 44) / 2);
  std::memcpy(out.data(), wav.data() + 44, out.size() * 2);
  return out;
}

// Normalised correlation of `samples` with a 440 Hz sine (the emulator's tone is ~1).
double ToneCorrelation(const std::vector<int16_t>& samples) {
  double best = 0;
  for (double phase : {0.0, M_PI / 2}) {
    double dot = 0, energy = 0, ref = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const double s = std::sin(2 * M_PI * 440.0 * i / 8000 + phase);
      dot += samples[i] * s;
      energy += static_cast<double>(samples[i]) * samples[i];
      ref += s * s;
    }
    if (energy > 0) best = std::max(best, std::fabs(dot) / std::sqrt(energy * ref));
  }
  return best;
}

// WAV 8 kHz mono 16-bit PCM speech of a plausible length, not the tone, not silence.
void CheckSpeechWav(const std::string& wav, double min_s, double max_s) {
  REQUIRE(wav.size() > 44);
  CHECK(wav.compare(0, 4, "RIFF") == 0);
  CHECK(Le(wav, 4, 4) == wav.size() - 8);
  CHECK(wav.compare(8, 8, "WAVEfmt ") == 0);
  CHECK(Le(wav, 20, 2) == 1);      // PCM
  CHECK(Le(wav, 22, 2) == 1);      // mono
  CHECK(Le(wav, 24, 4) == 8000);   // sample rate
  CHECK(Le(wav, 28, 4) == 16000);  // byte rate
  CHECK(Le(wav, 34, 2) == 16);     // bits per sample
  CHECK(wav.compare(36, 4, "data") == 0);
  CHECK(Le(wav, 40, 4) == wav.size() - 44);
  const double seconds = (wav.size() - 44) / 16000.0;
  CHECK(seconds >= min_s);
  CHECK(seconds <= max_s);
  const std::vector<int16_t> samples = Samples(wav);
  int peak = 0;
  for (int16_t s : samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  CHECK(peak > 1000);  // not silence
  CHECK(ToneCorrelation(samples) < 0.3);
  CHECK(ToneCorrelation(Samples(MakeWav(seconds))) > 0.9);  // the check does tell the tone apart
}

TEST_CASE("espeak-ng speech resampled to 8 kHz mono 16-bit WAV", "[emulator][speech]") {
  auto wav = SpeakWav("Hi it is Bob, please call me back");
  REQUIRE(wav.ok());
  CheckSpeechWav(*wav, 1.0, 6.0);
  auto longer = SpeakWav("Hi it is Bob, please call me back. I will be in the office all day "
                         "tomorrow and on Friday morning.");
  REQUIRE(longer.ok());
  CHECK(longer->size() > wav->size() * 2);  // duration follows the text
  CHECK(absl::IsInvalidArgument(SpeakWav("").status()));
  CHECK(absl::IsInvalidArgument(SpeakWav(std::string(5000, 'a')).status()));
}

TEST_CASE("A scenario's speak action is the recording the emulator serves",
          "[emulator][speech][scenario]") {
  Receiver receiver({{"/voice", [](const http::Request&) {
                        return Twiml("<Record maxLength=\"30\" action=\"/recorded\"/>");
                      }},
                     {"/recorded", [](const http::Request&) { return Twiml("<Hangup/>"); }}});
  Fixture f;
  f.AddNumber("twilio", "+14155550100", receiver.url() + "/voice");
  const json scenario = {{"carrier", "twilio"},
                         {"from", "+13125550111"},
                         {"to", "+14155550100"},
                         {"caller", json::array({{{"on", "record"},
                                                  {"speak", "Hi it is Bob, call me back"}}})}};
  auto http_result = f.Send("POST", "/emulator/calls", scenario.dump());
  REQUIRE(http_result.status == 200);
  json result = json::parse(http_result.body);
  CHECK(Steps(result) == std::vector<std::string>{"Record:recorded", "Hangup:hung up"});
  CHECK(result["steps"][0]["details"]["audio"] == "speak: Hi it is Bob, call me back");
  const std::string url = result["steps"][0]["details"]["recording_url"];
  REQUIRE(absl::StartsWith(url, f.base));
  auto media = f.Send("GET", url.substr(f.base.size()) + ".wav", "",
                      {http::BasicAuthHeader(kSid, kToken)});
  REQUIRE(media.status == 200);
  CheckSpeechWav(media.body, 1.0, 6.0);
  // The announced duration is the speech's.
  const int announced = std::stoi(FormValue(receiver.received()[1].body, "RecordingDuration"));
  CHECK(std::abs(announced - (media.body.size() - 44) / 16000.0) <= 0.5);
}

TEST_CASE("Twilio REST calls are played against the configured callees",
          "[emulator][twilio][rest-calls]") {
  Receiver receiver({
      {"/outbound",
       [](const http::Request&) {
         return Twiml("<Say>Hello from Acme</Say><Gather numDigits=\"1\" action=\"/menu\">"
                      "<Say>Press 2 to talk to sales</Say></Gather><Hangup/>");
       }},
      {"/menu",
       [](const http::Request& r) {
         if (FormValue(r.body, "Digits") != "2") return Twiml("<Hangup/>");
         return Twiml("<Dial timeout=\"20\" action=\"/dialed\"><Number>+19175550111</Number>"
                      "</Dial>");
       }},
      {"/dialed", [](const http::Request&) { return Twiml("<Say>Sorry</Say><Hangup/>"); }},
  });
  Fixture f;
  auto configured = f.Send(
      "POST", "/emulator/callees",
      json{{"+19175550100",
            {{"answer_after_s", 4},
             {"actions", json::array({{{"on", "gather"}, {"press", "2"}}})}}},
           {"+19175550111", "busy"},
           {"+19175550122", "no-answer"},
           {"client:alice", {{"answer_after_s", 1}, {"talk_s", 2}}}}
          .dump());
  REQUIRE(configured.status == 200);

  auto created = f.Twilio("POST", "/Calls.json",
                          {{"To", "+19175550100"}, {"From", "+14155550100"},
                           {"Url", receiver.url() + "/outbound"},
                           {"StatusCallback", receiver.url() + "/status"}});
  REQUIRE(created.status == 201);
  const std::string sid = json::parse(created.body)["sid"];
  CHECK(json::parse(created.body)["status"] == "queued");
  json result = f.WaitDone(sid);
  CHECK(result["status"] == "completed");
  CHECK(result["direction"] == "outbound-api");
  CHECK(Steps(result) == std::vector<std::string>{"Call:answered", "Say:spoken",
                                                  "Gather:digits:2", "Dial:busy", "Say:spoken",
                                                  "Hangup:hung up"});
  CHECK(result["steps"][0]["at_s"] == 4.0);  // answered after 4 simulated seconds
  auto fetched = f.Twilio("GET", "/Calls/" + sid + ".json");
  CHECK(json::parse(fetched.body)["status"] == "completed");

  std::vector<std::string> paths;
  for (const Received& r : receiver.received()) {
    if (FormValue(r.body, "CallSid") != sid) continue;
    paths.push_back(r.path);
    CHECK(TwilioSignatureValid(receiver.url(), r));
    CHECK(FormValue(r.body, "Direction") == "outbound-api");
    CHECK(FormValue(r.body, "To") == "+19175550100");
  }
  CHECK(paths == std::vector<std::string>{"/outbound", "/menu", "/dialed", "/status"});
  const auto received = receiver.received();
  CHECK(FormValue(received[0].body, "CallStatus") == "in-progress");
  CHECK(FormValue(received[3].body, "CallStatus") == "completed");
  CHECK(!FormValue(received[3].body, "CallDuration").empty());

  SECTION("no-answer, busy and failed end the call without fetching the Url") {
    auto unanswered = f.Twilio("POST", "/Calls.json",
                               {{"To", "+19175550122"}, {"From", "+14155550100"},
                                {"Url", receiver.url() + "/outbound"},
                                {"StatusCallback", receiver.url() + "/status"},
                                {"Timeout", "15"}});
    REQUIRE(unanswered.status == 201);
    const std::string id = json::parse(unanswered.body)["sid"];
    json r = f.WaitDone(id);
    CHECK(r["status"] == "no-answer");
    CHECK(Steps(r) == std::vector<std::string>{"Call:no-answer"});
    CHECK(r["duration_s"] == 15.0);
    std::vector<std::string> hooks;
    for (const Received& h : receiver.received()) {
      if (FormValue(h.body, "CallSid") == id) hooks.push_back(h.path + ":" +
                                                              FormValue(h.body, "CallStatus"));
    }
    CHECK(hooks == std::vector<std::string>{"/status:no-answer"});

    REQUIRE(f.Send("POST", "/emulator/callees", json{{"default", "failed"}}.dump()).status ==
            200);
    auto failing = f.Twilio("POST", "/Calls.json",
                            {{"To", "+19175559999"}, {"From", "+14155550100"},
                             {"Url", receiver.url() + "/outbound"}});
    CHECK(f.WaitDone(json::parse(failing.body)["sid"])["status"] == "failed");
  }
  SECTION("inline Twiml to a client identity; the callee hangs up after talk_s") {
    auto inline_call = f.Twilio(
        "POST", "/Calls.json",
        {{"To", "client:alice"}, {"From", "+14155550100"},
         {"Twiml", "<Response><Say>One</Say><Pause length=\"5\"/><Say>Two</Say></Response>"}});
    REQUIRE(inline_call.status == 201);
    json r = f.WaitDone(json::parse(inline_call.body)["sid"]);
    CHECK(r["status"] == "completed");
    CHECK(Steps(r) == std::vector<std::string>{"Call:answered", "Say:spoken", "Pause:paused",
                                               "Hangup:callee hung up"});
  }
  SECTION("bad configuration and unknown calls are 4xx") {
    auto bad = f.Send("POST", "/emulator/callees",
                      json{{"+19175550100", {{"answer_after_s", "soon"}}}}.dump());
    CHECK(bad.status == 400);
    CHECK(absl::StrContains(bad.body, "callees.+19175550100.answer_after_s"));
    auto bad_key = f.Send("POST", "/emulator/callees", json{{"bob", "busy"}}.dump());
    CHECK(bad_key.status == 400);
    CHECK(absl::StrContains(bad_key.body, "callees.bob"));
    auto bad_action = f.Send("POST", "/emulator/callees",
                             json{{"default", {{"actions", json::array({{{"on", "dance"}}})}}}}
                                 .dump());
    CHECK(bad_action.status == 400);
    CHECK(absl::StrContains(bad_action.body, "callees.default.actions[].on"));
    CHECK(f.Send("GET", "/emulator/calls/CA404").status == 404);
    CHECK(f.Twilio("POST", "/Calls.json",
                   {{"To", "+19175550100"}, {"From", "+14155550100"},
                    {"Url", receiver.url()}, {"Timeout", "0"}})
              .status == 400);
    CHECK(f.Send("DELETE", "/emulator/callees").status == 200);
  }
}

TEST_CASE("Twilio live modification interrupts the current verb",
          "[emulator][twilio][modify]") {
  Receiver receiver({
      {"/voice",
       [](const http::Request&) {
         return Twiml("<Say>Please hold</Say><Gather action=\"/never\"><Say>Menu</Say></Gather>"
                      "<Say>not reached</Say>");
       }},
      {"/next", [](const http::Request&) { return Twiml("<Say>Moved</Say><Hangup/>"); }},
  });
  Fixture f;
  const json kHold = {{"on", "gather"}, {"hold", true}};
  auto waiting = [](const json& r) {
    return !r["steps"].empty() && r["steps"].back()["outcome"] == "waiting";
  };

  SECTION("REST call: Twiml replaces the document") {
    REQUIRE(f.Send("POST", "/emulator/callees",
                   json{{"default", {{"actions", json::array({kHold})}}},
                        {"+19175550133", {{"answer_after_s", 2}, {"talk_s", 10}}}}
                       .dump())
                .status == 200);
    auto created = f.Twilio("POST", "/Calls.json",
                            {{"To", "+19175550100"}, {"From", "+14155550100"},
                             {"Url", receiver.url() + "/voice"}});
    REQUIRE(created.status == 201);
    const std::string sid = json::parse(created.body)["sid"];
    f.PollCall(sid, waiting);
    auto modified = f.Twilio(
        "POST", "/Calls/" + sid + ".json",
        {{"Twiml", "<Response><Say>Transferring</Say><Dial><Number>+19175550133</Number>"
                   "</Dial></Response>"}});
    REQUIRE(modified.status == 200);
    json r = f.WaitDone(sid);
    CHECK(r["status"] == "completed");
    CHECK(Steps(r) == std::vector<std::string>{"Call:answered", "Say:spoken",
                                               "Gather:interrupted", "Modify:redirected",
                                               "Say:spoken", "Dial:completed"});
    CHECK(r["steps"][4]["details"]["text"] == "Transferring");
  }
  SECTION("REST call: Status=completed hangs up a held call") {
    REQUIRE(f.Send("POST", "/emulator/callees",
                   json{{"default", {{"actions", json::array({kHold})}}}}
                       .dump())
                .status == 200);
    auto created = f.Twilio("POST", "/Calls.json",
                            {{"To", "+19175550100"}, {"From", "+14155550100"},
                             {"Url", receiver.url() + "/voice"}});
    const std::string sid = json::parse(created.body)["sid"];
    f.PollCall(sid, waiting);
    REQUIRE(f.Twilio("POST", "/Calls/" + sid + ".json", {{"Status", "completed"}}).status == 200);
    json r = f.WaitDone(sid);
    CHECK(r["status"] == "completed");
    CHECK(Steps(r) == std::vector<std::string>{"Call:answered", "Say:spoken",
                                               "Gather:interrupted", "Modify:completed"});
  }
  SECTION("scenario call: Url fetches the new document") {
    f.AddNumber("twilio", "+14155550100", receiver.url() + "/voice");
    const json scenario = {{"carrier", "twilio"},
                           {"from", "+13125550111"},
                           {"to", "+14155550100"},
                           {"caller", json::array({{{"on", "gather"}, {"hold", true}}})}};
    json result;
    std::thread player([&] {
      auto r = f.Send("POST", "/emulator/calls", scenario.dump());
      result = json::parse(r.body);
    });
    std::string sid;
    CHECK(receiver.WaitFor([&](const std::vector<Received>& all) {
      for (const Received& r : all) {
        if (r.path == "/voice") sid = FormValue(r.body, "CallSid");
      }
      return !sid.empty();
    }));
    if (!sid.empty()) {
      f.PollCall(sid, waiting);
      CHECK(f.Twilio("POST", "/Calls/" + sid + ".json", {{"Url", receiver.url() + "/next"}})
                .status == 200);
    }
    player.join();
    CHECK(result["status"] == "completed");
    CHECK(Steps(result) == std::vector<std::string>{"Say:spoken", "Gather:interrupted",
                                                    "Modify:redirected", "Say:spoken",
                                                    "Hangup:hung up"});
    bool fetched = false;
    for (const Received& r : receiver.received()) {
      if (r.path != "/next") continue;
      fetched = true;
      CHECK(TwilioSignatureValid(receiver.url(), r));
      CHECK(FormValue(r.body, "CallSid") == sid);
      CHECK(FormValue(r.body, "CallStatus") == "in-progress");
    }
    CHECK(fetched);
  }
}

TEST_CASE("Telnyx REST calls: events to webhook_url, commands obeyed in order",
          "[emulator][telnyx][rest-calls]") {
  std::unique_ptr<Fixture> fixture;  // set before any call is placed
  absl::Mutex errors_mu;
  std::vector<std::string> errors;
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
  // The service side: speak, gather, then (after the gather) speak AND transfer at once.
  Receiver receiver({{"/cc", [&](const http::Request& r) {
    json event = json::parse(r.body)["data"];
    const std::string type = event["event_type"];
    json p = event["payload"];
    const std::string id = p["call_control_id"];
    const std::string cs = p.value("client_state", "");
    if (cs == state("manual")) return http::Response::Text(200, "");
    // A transfer's new leg (its webhooks carry the transfer's empty target_leg_client_state):
    // nothing to command there.
    if (cs.empty()) return http::Response::Text(200, "");
    if (type == "call.answered") {
      command(id, "speak", {{"payload", "Hello from Acme"}, {"voice", "female"},
                            {"client_state", state("greeting")}});
    } else if (type == "call.speak.ended" && cs == state("greeting")) {
      command(id, "gather_using_speak", {{"payload", "Press 3"}, {"voice", "female"},
                                         {"maximum_digits", 1}, {"client_state", state("menu")}});
    } else if (type == "call.gather.ended" && p["digits"] == "3") {
      command(id, "speak", {{"payload", "Connecting you"}, {"voice", "female"},
                            {"client_state", state("connect")}});
      command(id, "transfer", {{"to", "+19175550144"}, {"client_state", state("transfer")}});
    }
    return http::Response::Text(200, "");
  }}});
  fixture = std::make_unique<Fixture>();
  Fixture& f = *fixture;
  const std::string public_key =
      json::parse(f.Send("GET", "/emulator/info").body)["telnyx_public_key"];
  REQUIRE(f.Send("POST", "/emulator/callees",
                 json{{"+19175550140",
                       {{"answer_after_s", 2},
                        {"actions", json::array({{{"on", "gather"}, {"press", "3"}}})}}},
                      {"+19175550144", {{"answer_after_s", 1}, {"talk_s", 5}}},
                      {"+19175550145", "busy"},
                      {"client:alice", "no-answer"}}
                     .dump())
              .status == 200);
  auto events_of = [&](const std::string& id) {
    std::vector<std::string> events;
    for (const Received& r : receiver.received()) {
      json e = json::parse(r.body)["data"];
      if (e["payload"]["call_control_id"] != id) continue;
      CHECK(TelnyxSignatureValid(public_key, r));
      events.push_back(e["event_type"]);
    }
    return events;
  };
  auto dial = [&](const std::string& to, const std::string& client_state) {
    auto r = f.Telnyx("POST", "/calls",
                      json{{"connection_id", "1494404757140276705"}, {"from", "+14155550100"},
                           {"to", to}, {"webhook_url", receiver.url() + "/cc"},
                           {"client_state", client_state}});
    REQUIRE(r.status == 200);
    return json::parse(r.body)["data"]["call_control_id"].get<std::string>();
  };

  const std::string id = dial("+19175550140", state("outbound-1"));
  json result = f.WaitDone(id);
  {
    absl::MutexLock lock(&errors_mu);
    CHECK(errors.empty());
  }
  CHECK(result["status"] == "completed");
  CHECK(Steps(result) == std::vector<std::string>{"dial:answered", "speak:spoken",
                                                  "gather_using_speak:digits:3", "speak:spoken",
                                                  "transfer:completed"});
  CHECK(events_of(id) == std::vector<std::string>{
                             "call.initiated", "call.answered", "call.speak.started",
                             "call.speak.ended", "call.gather.ended", "call.speak.started",
                             "call.speak.ended", "call.bridged", "call.hangup"});
  for (const Received& r : receiver.received()) {
    json e = json::parse(r.body)["data"];
    if (e["payload"]["call_control_id"] != id) continue;
    if (e["event_type"] == "call.initiated" || e["event_type"] == "call.answered") {
      CHECK(e["payload"]["direction"] == "outgoing");
      CHECK(e["payload"]["client_state"] == state("outbound-1"));
    }
  }

  SECTION("busy and no-answer far ends: call.hangup with the cause") {
    const std::string busy = dial("+19175550145", state("b"));
    json r = f.WaitDone(busy);
    CHECK(r["status"] == "busy");
    CHECK(events_of(busy) == std::vector<std::string>{"call.initiated", "call.hangup"});
    const std::string softphone = dial("sip:alice@sip.telnyx.com", state("a"));
    CHECK(f.WaitDone(softphone)["status"] == "no-answer");
    for (const Received& h : receiver.received()) {
      json e = json::parse(h.body)["data"];
      if (e["event_type"] != "call.hangup") continue;
      if (e["payload"]["call_control_id"] == busy) {
        CHECK(e["payload"]["hangup_cause"] == "user_busy");
      }
      if (e["payload"]["call_control_id"] == softphone) {
        CHECK(e["payload"]["hangup_cause"] == "timeout");
        CHECK(e["payload"]["client_state"] == state("a"));
      }
    }
    // A command on the ended call is refused.
    CHECK(f.Telnyx("POST", "/calls/" + http::PercentEncode(busy) + "/actions/speak",
                   json{{"payload", "x"}, {"voice", "female"}})
              .status == 422);
  }
  SECTION("a held gather ends (cancelled) when the next command arrives") {
    REQUIRE(f.Send("POST", "/emulator/callees",
                   json{{"+19175550150",
                         {{"actions", json::array({{{"on", "gather"}, {"hold", true}}})}}}}
                       .dump())
                .status == 200);
    const std::string held = dial("+19175550150", state("manual"));
    f.PollCall(held, [](const json& r) { return r["status"] == "in-progress"; });
    command(held, "gather", {{"maximum_digits", 1}, {"client_state", state("manual")}});
    f.PollCall(held, [](const json& r) {
      return !r["steps"].empty() && r["steps"].back()["outcome"] == "waiting";
    });
    command(held, "speak", {{"payload", "Still there?"}, {"voice", "female"},
                            {"client_state", state("manual")}});
    command(held, "hangup", {{"client_state", state("manual")}});
    json r = f.WaitDone(held);
    CHECK(Steps(r) == std::vector<std::string>{"dial:answered", "gather:interrupted",
                                               "speak:spoken", "hangup:hung up"});
    std::vector<std::string> events = events_of(held);
    CHECK(events == std::vector<std::string>{"call.initiated", "call.answered",
                                             "call.gather.ended", "call.speak.started",
                                             "call.speak.ended", "call.hangup"});
    for (const Received& h : receiver.received()) {
      json e = json::parse(h.body)["data"];
      if (e["payload"]["call_control_id"] == held && e["event_type"] == "call.gather.ended") {
        CHECK(e["payload"]["status"] == "cancelled");
        CHECK(e["payload"]["digits"] == "");
      }
    }
    absl::MutexLock lock(&errors_mu);
    CHECK(errors.empty());
  }
}

TEST_CASE("Telnyx scenario call: a held gather ends when the service sends new commands",
          "[emulator][telnyx][scenario][modify]") {
  std::unique_ptr<Fixture> fixture;  // set before the call is placed
  auto command = [&](const std::string& call_id, const std::string& action, json body) {
    http::HttpRequest request;
    request.method = "POST";
    request.url = absl::StrCat(fixture->base, "/v2/calls/", http::PercentEncode(call_id),
                               "/actions/", action);
    request.headers = {http::BearerAuthHeader(kApiKey), {"Content-Type", "application/json"}};
    request.body = body.dump();
    auto response = fixture->client->Send(request);
    return response.ok() ? response->status : 0;
  };
  auto state = [](const std::string& s) { return crypto::Base64Encode(s); };
  absl::Mutex mu;
  std::string call_id;
  Receiver receiver({{"/cc", [&](const http::Request& r) {
    json event = json::parse(r.body)["data"];
    const std::string id = event["payload"]["call_control_id"];
    if (event["event_type"] == "call.initiated") {
      {
        absl::MutexLock lock(&mu);
        call_id = id;
      }
      command(id, "answer", {{"client_state", state("answer")}});
    } else if (event["event_type"] == "call.answered") {
      command(id, "gather_using_speak", {{"payload", "Press a key"}, {"voice", "female"},
                                         {"client_state", state("menu")}});
    }
    return http::Response::Text(200, "");
  }}});
  fixture = std::make_unique<Fixture>();
  Fixture& f = *fixture;
  f.AddNumber("telnyx", "+14155550100", receiver.url() + "/cc");
  const json scenario = {{"carrier", "telnyx"},
                         {"from", "+13125550111"},
                         {"to", "+14155550100"},
                         {"caller", json::array({{{"on", "gather"}, {"hold", true}}})},
                         {"callees", {{"default", {{"answer_after_s", 1}, {"talk_s", 3}}}}}};
  json result;
  std::thread player([&] {
    auto r = f.Send("POST", "/emulator/calls", scenario.dump());
    result = json::parse(r.body);
  });
  std::string id;
  CHECK(receiver.WaitFor([&](const std::vector<Received>&) {
    absl::MutexLock lock(&mu);
    id = call_id;
    return !id.empty();
  }));
  if (!id.empty()) {
    f.PollCall(id, [](const json& r) {
      return !r["steps"].empty() && r["steps"].back()["outcome"] == "waiting";
    });
    // After the gather: a new speak, then a transfer, interpreted in this order.
    CHECK(command(id, "speak", {{"payload", "Transferring"}, {"voice", "female"},
                                {"client_state", state("transfer-prompt")}}) == 200);
    CHECK(command(id, "transfer", {{"to", "+19175550100"}, {"client_state", state("transfer")}}) ==
          200);
  }
  player.join();
  CHECK(result["status"] == "completed");
  CHECK(Steps(result) == std::vector<std::string>{"answer:answered",
                                                  "gather_using_speak:interrupted",
                                                  "speak:spoken", "transfer:completed"});
  std::vector<std::string> events;
  for (const Received& r : receiver.received()) {
    json e = json::parse(r.body)["data"];
    events.push_back(e["event_type"].get<std::string>() + ":" +
                     crypto::Base64Decode(e["payload"].value("client_state", "")).value_or(""));
  }
  CHECK(events == std::vector<std::string>{
                      "call.initiated:", "call.answered:answer", "call.gather.ended:menu",
                      "call.speak.started:transfer-prompt", "call.speak.ended:transfer-prompt",
                      "call.answered:", "call.bridged:",  // the new leg's
                      "call.bridged:transfer", "call.hangup:transfer"});
}

TEST_CASE("Twilio held bridge: a Dial to a hold callee stays up until it is ended",
          "[emulator][twilio][bridge]") {
  Receiver receiver({
      {"/voice",
       [](const http::Request&) {
         return Twiml("<Say>Connecting</Say><Dial action=\"/dialed\"><Client statusCallback="
                      "\"/leg\" statusCallbackEvent=\"answered completed\">sarah</Client></Dial>"
                      "<Say>not reached</Say>");
       }},
      {"/dialed", [](const http::Request&) { return Twiml("<Say>Dial over</Say><Hangup/>"); }},
      {"/next", [](const http::Request&) { return Twiml("<Say>Moved</Say><Hangup/>"); }},
  });
  Fixture f;
  REQUIRE(f.Send("POST", "/emulator/callees",
                 json{{"client:sarah", {{"answer_after_s", 2}, {"hold", true}}}}.dump())
              .status == 200);
  auto created = f.Twilio("POST", "/Calls.json",
                          {{"To", "+19175550100"}, {"From", "+14155550100"},
                           {"Url", receiver.url() + "/voice"},
                           {"StatusCallback", receiver.url() + "/status"}});
  REQUIRE(created.status == 201);
  const std::string sid = json::parse(created.body)["sid"];
  const json bridged = f.PollCall(sid, [](const json& r) {
    return !r["steps"].empty() && r["steps"].back()["verb"] == "Dial" &&
           r["steps"].back()["outcome"] == "waiting";
  });
  const json dial = bridged["steps"].back()["details"];
  CHECK(dial["answered"] == "client:sarah");
  CHECK(bridged["bridged_leg"]["to"] == "client:sarah");
  const std::string child = dial["dial_call_sid"];
  CHECK(bridged["bridged_leg"]["id"] == child);
  CHECK(child != sid);
  CHECK(f.Twilio("GET", "/Calls/" + child + ".json").status == 200);
  // Only the answered callback so far; the Dial action is not requested while bridged.
  auto of = [&](const std::string& path) {
    std::vector<Received> out;
    for (const Received& r : receiver.received()) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  };
  REQUIRE(receiver.WaitFor([&](const std::vector<Received>&) { return of("/leg").size() == 1; }));
  CHECK(FormValue(of("/leg")[0].body, "CallStatus") == "in-progress");
  CHECK(of("/dialed").empty());

  SECTION("a parent redirect ends the bridge: child completed, no Dial action, new TwiML runs") {
    // An on-demand recording during the bridge, stopped through Twilio.CURRENT.
    auto rec = f.Twilio("POST", "/Calls/" + sid + "/Recordings.json",
                        {{"RecordingStatusCallback", receiver.url() + "/rec"},
                         {"RecordingStatusCallbackEvent", "in-progress completed"}});
    REQUIRE(rec.status == 201);
    const std::string rec_sid = json::parse(rec.body)["sid"];
    auto stopped = f.Twilio("POST", "/Calls/" + sid + "/Recordings/Twilio.CURRENT.json",
                            {{"Status", "stopped"}});
    REQUIRE(stopped.status == 200);
    CHECK(json::parse(stopped.body)["status"] == "stopped");
    REQUIRE(receiver.WaitFor([&](const std::vector<Received>&) { return of("/rec").size() == 2; }));
    const std::vector<Received> callbacks = of("/rec");
    CHECK(FormValue(callbacks[0].body, "RecordingStatus") == "in-progress");
    const Received& done = callbacks[1];
    CHECK(TwilioSignatureValid(receiver.url(), done));
    CHECK(FormValue(done.body, "RecordingStatus") == "completed");
    CHECK(FormValue(done.body, "AccountSid") == kSid);
    CHECK(FormValue(done.body, "CallSid") == sid);
    CHECK(FormValue(done.body, "RecordingSid") == rec_sid);
    CHECK(FormValue(done.body, "RecordingChannels") == "1");
    CHECK(FormValue(done.body, "RecordingSource") == "StartCallRecordingAPI");
    CHECK(!FormValue(done.body, "RecordingStartTime").empty());
    int duration = 0;
    CHECK(absl::SimpleAtoi(FormValue(done.body, "RecordingDuration"), &duration));
    CHECK(duration >= 1);
    const std::string url = FormValue(done.body, "RecordingUrl");
    CHECK(absl::EndsWith(url, "/Recordings/" + rec_sid));
    auto media = f.Twilio("GET", "/Recordings/" + rec_sid + ".wav");
    CHECK(media.status == 200);
    CHECK(media.body.compare(0, 4, "RIFF") == 0);
    CHECK(json::parse(f.Twilio("GET", "/Recordings/" + rec_sid + ".json").body)["status"] ==
          "completed");
    // Stopping it again is refused.
    CHECK(f.Twilio("POST", "/Calls/" + sid + "/Recordings/" + rec_sid + ".json",
                   {{"Status", "stopped"}})
              .status == 400);

    REQUIRE(f.Twilio("POST", "/Calls/" + sid + ".json", {{"Url", receiver.url() + "/next"}})
                .status == 200);
    json r = f.WaitDone(sid);
    CHECK(r["status"] == "completed");
    CHECK(Steps(r) == std::vector<std::string>{"Call:answered", "Say:spoken", "Dial:interrupted",
                                               "Modify:redirected", "Say:spoken",
                                               "Hangup:hung up"});
    CHECK(r["steps"][4]["details"]["text"] == "Moved");
    CHECK(r["steps"][2]["details"]["duration"].get<double>() >= 1);
    CHECK(of("/dialed").empty());
    const std::vector<Received> leg = of("/leg");
    REQUIRE(leg.size() == 2);
    CHECK(TwilioSignatureValid(receiver.url(), leg[1]));
    CHECK(FormValue(leg[1].body, "CallSid") == child);
    CHECK(FormValue(leg[1].body, "ParentCallSid") == sid);
    CHECK(FormValue(leg[1].body, "CallStatus") == "completed");
    CHECK(FormValue(leg[1].body, "CallDuration") != "0");
    json leg_result = f.WaitDone(child);
    CHECK(leg_result["status"] == "completed");
    CHECK(leg_result["parent_call"] == sid);
    // The child leg has ended: hanging it up again is refused.
    CHECK(f.Twilio("POST", "/Calls/" + child + ".json", {{"Status", "completed"}}).status == 400);
  }
  SECTION("the child leg hung up: the Dial action gets completed, the call continues") {
    // A recording still running when the call ends completes with it.
    auto rec = f.Twilio("POST", "/Calls/" + sid + "/Recordings.json",
                        {{"RecordingStatusCallback", receiver.url() + "/rec"},
                         {"RecordingStatusCallbackMethod", "GET"}});
    REQUIRE(rec.status == 201);
    const std::string rec_sid = json::parse(rec.body)["sid"];
    REQUIRE(f.Twilio("POST", "/Calls/" + child + ".json", {{"Status", "completed"}}).status ==
            200);
    json r = f.WaitDone(sid);
    CHECK(Steps(r) == std::vector<std::string>{"Call:answered", "Say:spoken", "Dial:completed",
                                               "Say:spoken", "Hangup:hung up"});
    CHECK(r["steps"][3]["details"]["text"] == "Dial over");
    const std::vector<Received> dialed = of("/dialed");
    REQUIRE(dialed.size() == 1);
    CHECK(TwilioSignatureValid(receiver.url(), dialed[0]));
    CHECK(FormValue(dialed[0].body, "DialCallStatus") == "completed");
    CHECK(FormValue(dialed[0].body, "DialCallSid") == child);
    CHECK(FormValue(dialed[0].body, "DialBridged") == "true");
    int talked = 0;
    CHECK(absl::SimpleAtoi(FormValue(dialed[0].body, "DialCallDuration"), &talked));
    CHECK(talked >= 1);
    const std::vector<Received> leg = of("/leg");
    REQUIRE(leg.size() == 2);
    CHECK(FormValue(leg[1].body, "CallStatus") == "completed");
    CHECK(FormValue(leg[1].body, "CallDuration") == absl::StrCat(talked));
    // Done includes the recording callback (GET, signed over the URL with its query).
    const std::vector<Received> callbacks = of("/rec");
    REQUIRE(callbacks.size() == 1);
    CHECK(callbacks[0].method == "GET");
    CHECK(TwilioSignatureValid(receiver.url(), callbacks[0]));
    CHECK(FormValue(callbacks[0].query, "RecordingStatus") == "completed");
    CHECK(FormValue(callbacks[0].query, "RecordingSid") == rec_sid);
  }
  SECTION("Status=completed on the parent hangs up both legs") {
    REQUIRE(f.Twilio("POST", "/Calls/" + sid + ".json", {{"Status", "completed"}}).status == 200);
    json r = f.WaitDone(sid);
    CHECK(r["status"] == "completed");
    CHECK(Steps(r) == std::vector<std::string>{"Call:answered", "Say:spoken", "Dial:interrupted",
                                               "Modify:completed"});
    CHECK(of("/dialed").empty());
    REQUIRE(of("/leg").size() == 2);
    CHECK(FormValue(of("/leg")[1].body, "CallStatus") == "completed");
    const std::vector<Received> status = of("/status");
    REQUIRE(status.size() == 1);
    CHECK(FormValue(status[0].body, "CallStatus") == "completed");
  }
  SECTION("bad recording parameters are 400") {
    CHECK(f.Twilio("POST", "/Calls/" + sid + "/Recordings.json",
                   {{"RecordingStatusCallbackEvent", "done"}})
              .status == 400);
    CHECK(f.Twilio("POST", "/Calls/" + sid + "/Recordings.json",
                   {{"RecordingStatusCallback", "ftp://x"}})
              .status == 400);
    REQUIRE(f.Twilio("POST", "/Calls/" + sid + ".json", {{"Status", "completed"}}).status == 200);
    f.WaitDone(sid);
  }
}

TEST_CASE("Telnyx held bridge: a transfer to a hold callee stays up until a leg hangs up",
          "[emulator][telnyx][bridge]") {
  Receiver receiver({});
  Fixture f;
  const std::string public_key =
      json::parse(f.Send("GET", "/emulator/info").body)["telnyx_public_key"];
  auto state = [](const std::string& s) { return crypto::Base64Encode(s); };
  REQUIRE(f.Send("POST", "/emulator/callees",
                 json{{"client:sarah", {{"answer_after_s", 2}, {"hold", true}}}}.dump())
              .status == 200);
  auto command = [&](const std::string& id, const std::string& action, const json& body) {
    return f.Telnyx("POST", "/calls/" + http::PercentEncode(id) + "/actions/" + action, body);
  };
  auto dialled = f.Telnyx("POST", "/calls",
                          json{{"connection_id", "1494404757140276705"},
                               {"from", "+14155550100"},
                               {"to", "+19175550160"},
                               {"webhook_url", receiver.url() + "/cc"}});
  REQUIRE(dialled.status == 200);
  const std::string a = json::parse(dialled.body)["data"]["call_control_id"];
  f.PollCall(a, [](const json& r) { return r["status"] == "in-progress"; });
  REQUIRE(command(a, "transfer",
                  {{"to", "sip:sarah@sip.telnyx.com"},
                   {"park_after_unbridge", "self"},
                   {"client_state", state("transfer")},
                   {"target_leg_client_state", state("leg")}})
              .status == 200);
  const json bridged = f.PollCall(a, [](const json& r) {
    return !r["steps"].empty() && r["steps"].back()["verb"] == "transfer" &&
           r["steps"].back()["outcome"] == "waiting";
  });
  CHECK(bridged["steps"].back()["details"]["answered"] == "sip:sarah@sip.telnyx.com");
  const std::string b = bridged["steps"].back()["details"]["target_leg"];
  CHECK(bridged["bridged_leg"]["id"] == b);
  // Events of either leg, "type:client_state", with the leg named.
  auto events = [&]() {
    std::vector<std::string> out;
    for (const Received& r : receiver.received()) {
      json e = json::parse(r.body)["data"];
      CHECK(TelnyxSignatureValid(public_key, r));
      const std::string id = e["payload"]["call_control_id"];
      out.push_back((id == a ? "A " : id == b ? "B " : "? ") + e["event_type"].get<std::string>() +
                    ":" +
                    crypto::Base64Decode(e["payload"].value("client_state", "")).value_or(""));
    }
    return out;
  };
  auto event = [&](const std::string& leg_id, const std::string& type) {
    for (const Received& r : receiver.received()) {
      json e = json::parse(r.body)["data"];
      if (e["payload"]["call_control_id"] == leg_id && e["event_type"] == type) return e;
    }
    return json();
  };
  // Commands on the target leg other than hangup are not emulated.
  CHECK(command(b, "speak", {{"payload", "hi"}, {"voice", "female"}}).status == 422);

  // A call recording during the bridge: the call stays up.
  auto started = command(a, "record_start", {{"format", "wav"}, {"channels", "single"},
                                             {"client_state", state("rec")}});
  REQUIRE(started.status == 200);
  const std::string rec_id = json::parse(started.body)["data"]["recording_id"];
  CHECK(f.PollCall(a, [](const json& r) { return true; })["status"] == "in-progress");

  SECTION("the target leg hung up: A stays up, parked, and runs the commands sent meanwhile") {
    REQUIRE(command(a, "record_stop", {{"client_state", state("rec-stop")}}).status == 200);
    REQUIRE(receiver.WaitFor([&](const std::vector<Received>&) {
      return !event(a, "call.recording.saved").is_null();
    }));
    const json saved = event(a, "call.recording.saved")["payload"];
    CHECK(saved["recording_id"] == rec_id);
    const std::string wav_url = saved["recording_urls"]["wav"];
    CHECK(absl::EndsWith(wav_url, "/emulator/recordings/" + rec_id + ".wav"));
    auto media = f.Send("GET", "/emulator/recordings/" + rec_id + ".wav");
    CHECK(media.status == 200);
    CHECK(media.body.size() >= 44 + 16000);  // at least 1 s of 8 kHz 16-bit audio
    CHECK(json::parse(f.Telnyx("GET", "/recordings/" + rec_id).body)["data"]["status"] ==
          "completed");

    // Sent while bridged: runs once the bridge ends.
    REQUIRE(command(a, "speak", {{"payload", "Back with you"}, {"voice", "female"},
                                 {"client_state", state("after")}})
                .status == 200);
    CHECK(Steps(f.PollCall(a, [](const json&) { return true; })).back() ==
          "record_stop:stopped");
    REQUIRE(command(b, "hangup", {{"client_state", state("b-hangup")}}).status == 200);
    CHECK(command(b, "hangup", json::object()).status == 422);  // ended
    f.PollCall(a, [](const json& r) {
      return !r["steps"].empty() && r["steps"].back()["verb"] == "speak";
    });
    REQUIRE(command(a, "hangup", {{"client_state", state("bye")}}).status == 200);
    json r = f.WaitDone(a);
    CHECK(r["status"] == "completed");
    CHECK(Steps(r) == std::vector<std::string>{"dial:answered", "transfer:completed",
                                               "record_start:recording", "record_stop:stopped",
                                               "speak:spoken", "hangup:hung up"});
    CHECK(events() == std::vector<std::string>{
                          "A call.initiated:", "A call.answered:", "B call.answered:leg",
                          "B call.bridged:leg", "A call.bridged:transfer",
                          "A call.recording.saved:rec-stop", "B call.hangup:leg",
                          "A call.speak.started:after", "A call.speak.ended:after",
                          "A call.hangup:bye"});
    const json b_hangup = event(b, "call.hangup")["payload"];
    CHECK(b_hangup["hangup_cause"] == "normal_clearing");
    CHECK(b_hangup["hangup_source"] == "caller");
    CHECK(b_hangup["to"] == "sip:sarah@sip.telnyx.com");
    CHECK(f.WaitDone(b)["status"] == "completed");
  }
  SECTION("a hangup of A ends both legs and saves the recording") {
    REQUIRE(command(a, "hangup", {{"client_state", state("bye")}}).status == 200);
    json r = f.WaitDone(a);
    CHECK(Steps(r) == std::vector<std::string>{"dial:answered", "transfer:interrupted",
                                               "record_start:recording", "hangup:hung up"});
    CHECK(events() == std::vector<std::string>{
                          "A call.initiated:", "A call.answered:", "B call.answered:leg",
                          "B call.bridged:leg", "A call.bridged:transfer", "B call.hangup:leg",
                          "A call.recording.saved:bye", "A call.hangup:bye"});
    CHECK(f.WaitDone(b)["status"] == "completed");
    CHECK(command(b, "hangup", json::object()).status == 422);
  }
}

}  // namespace
}  // namespace switchboard::carrier_emulator::testing
