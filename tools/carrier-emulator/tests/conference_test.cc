// Conferences: a held bridge moved into a conference (Twilio child-leg redirect + Dial action,
// Telnyx create + join), hold/unhold, added participants, removal, the admin hangup that ends
// the conference, and the webhooks on both wire formats.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/crypto/encoding.h"
#include "tools/carrier-emulator/emulator.h"
#include "tools/carrier-emulator/tests/fixture.h"

namespace switchboard::carrier_emulator::testing {
namespace {

using nlohmann::json;

// The admin view of conference `name` of `carrier` (null when there is none).
json ConferenceNamed(Fixture& f, const std::string& carrier, const std::string& name) {
  auto r = f.Send("GET", "/emulator/conferences");
  REQUIRE(r.status == 200);
  const json all = json::parse(r.body);
  for (const json& c : all["conferences"]) {
    if (c["carrier"] == carrier && c["name"] == name) return c;
  }
  return json();
}

// Polls the admin view (deadline 10 s) until `pred` holds for conference `name`.
json PollConference(Fixture& f, const std::string& carrier, const std::string& name,
                    const std::function<bool(const json&)>& pred) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  json conf;
  while (absl::Now() < deadline) {
    conf = ConferenceNamed(f, carrier, name);
    if (!conf.is_null() && pred(conf)) return conf;
    absl::SleepFor(absl::Milliseconds(10));
  }
  FAIL("conference " << name << " did not reach the expected state: " << conf.dump());
  return conf;
}

int Joined(const json& conf) {
  int n = 0;
  for (const json& p : conf["participants"]) n += p["status"] == "joined";
  return n;
}

json Participant(const json& conf, const std::string& call_id) {
  for (const json& p : conf["participants"]) {
    if (p["call_id"] == call_id) return p;
  }
  return json();
}

// The step of `result` with `verb` (the last one), or null.
json LastStep(const json& result, const std::string& verb) {
  json found;
  for (const json& s : result["steps"]) {
    if (s["verb"] == verb) found = s;
  }
  return found;
}

TEST_CASE("Twilio conference: a held bridge moved into a conference, hold, add, remove, end",
          "[emulator][twilio][conference]") {
  Receiver receiver({
      {"/voice",
       [](const http::Request&) {
         return Twiml("<Dial action=\"/dialed\"><Client statusCallback=\"/leg\" "
                      "statusCallbackEvent=\"answered completed\">sarah</Client></Dial>");
       }},
      {"/dialed",
       [](const http::Request&) {
         return Twiml("<Dial><Conference startConferenceOnEnter=\"true\" "
                      "endConferenceOnExit=\"true\" statusCallback=\"/conf\" "
                      "statusCallbackEvent=\"join leave end hold\">room-1</Conference></Dial>");
       }},
  });
  Fixture f;
  REQUIRE(f.Send("POST", "/emulator/callees",
                 json{{"client:sarah", {{"answer_after_s", 1}, {"hold", true}}},
                      {"+19175550111", {{"answer_after_s", 2}, {"hold", true}}},
                      {"+19175550122", "no-answer"}}
                     .dump())
              .status == 200);
  auto created = f.Twilio("POST", "/Calls.json",
                          {{"To", "+19175550100"}, {"From", "+14155550100"},
                           {"Url", receiver.url() + "/voice"},
                           {"StatusCallback", receiver.url() + "/status"}});
  REQUIRE(created.status == 201);
  const std::string a = json::parse(created.body)["sid"];
  const json bridged = f.PollCall(a, [](const json& r) { return r.contains("bridged_leg"); });
  const std::string b = bridged["bridged_leg"]["id"];
  auto of = [&](const std::string& path) {
    std::vector<Received> out;
    for (const Received& r : receiver.received()) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  };

  // The child leg is redirected into the conference: it leaves the bridge alive.
  const std::string conf_twiml = absl::StrCat(
      "<Response><Dial><Conference startConferenceOnEnter=\"true\" endConferenceOnExit=\"false\" "
      "statusCallback=\"",
      receiver.url(), "/conf\" statusCallbackEvent=\"join leave end hold\">room-1</Conference>"
      "</Dial></Response>");
  REQUIRE(f.Twilio("POST", "/Calls/" + b + ".json", {{"Twiml", conf_twiml}}).status == 200);
  json conf = PollConference(f, "twilio", "room-1", [](const json& c) { return Joined(c) == 2; });
  const std::string cf = conf["id"];
  CHECK(cf.rfind("CF", 0) == 0);
  CHECK(conf["status"] == "in-progress");
  // The parent's Dial completed and its action was requested.
  const std::vector<Received> dialed = of("/dialed");
  REQUIRE(dialed.size() == 1);
  CHECK(TwilioSignatureValid(receiver.url(), dialed[0]));
  CHECK(FormValue(dialed[0].body, "DialCallStatus") == "completed");
  CHECK(FormValue(dialed[0].body, "DialCallSid") == b);
  CHECK(FormValue(dialed[0].body, "DialBridged") == "true");
  json ra = f.PollCall(a, [](const json&) { return true; });
  CHECK(Steps(ra) == std::vector<std::string>{"Call:answered", "Dial:completed",
                                              "Conference:waiting"});
  CHECK(ra["conference"] == cf);
  CHECK(ra["steps"][2]["details"]["conference_sid"] == cf);
  CHECK(ra["steps"][2]["details"]["end_conference_on_exit"] == true);
  json rb = f.PollCall(b, [](const json&) { return true; });
  CHECK(rb["status"] == "in-progress");
  CHECK(LastStep(rb, "Conference")["outcome"] == "waiting");
  CHECK(of("/leg").size() == 1);  // answered only: the leg is still up

  // REST views.
  auto listed = f.Twilio("GET", "/Conferences.json",
                         {{"FriendlyName", "room-1"}, {"Status", "in-progress"}});
  REQUIRE(listed.status == 200);
  const json list = json::parse(listed.body)["conferences"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["sid"] == cf);
  CHECK(list[0]["friendly_name"] == "room-1");
  CHECK(json::parse(f.Twilio("GET", "/Conferences/" + cf + ".json").body)["status"] ==
        "in-progress");
  CHECK(json::parse(f.Twilio("GET", "/Conferences/" + cf + "/Participants.json").body)
            ["participants"].size() == 2);

  // Hold and unhold A.
  auto held = f.Twilio("POST", "/Conferences/" + cf + "/Participants/" + a + ".json",
                       {{"Hold", "true"}, {"HoldUrl", "http://music.example/hold.xml"}});
  REQUIRE(held.status == 200);
  CHECK(json::parse(held.body)["hold"] == true);
  CHECK(Participant(ConferenceNamed(f, "twilio", "room-1"), a)["hold"] == true);
  CHECK(f.PollCall(a, [](const json&) { return true; })["steps"][2]["details"]["hold"] == true);
  CHECK(f.Twilio("POST", "/Conferences/" + cf + "/Participants/" + a + ".json",
                 {{"Hold", "maybe"}})
            .status == 400);
  REQUIRE(f.Twilio("POST", "/Conferences/" + cf + "/Participants/" + a + ".json",
                   {{"Hold", "false"}})
              .status == 200);
  CHECK(Participant(ConferenceNamed(f, "twilio", "room-1"), a)["hold"] == false);

  // Add a participant who answers and one who does not.
  auto added = f.Twilio("POST", "/Conferences/" + cf + "/Participants.json",
                        {{"From", "+14155550100"}, {"To", "+19175550111"},
                         {"StatusCallback", receiver.url() + "/p-status"},
                         {"StatusCallbackEvent", "initiated ringing answered completed"},
                         {"EndConferenceOnExit", "false"}});
  REQUIRE(added.status == 201);
  const json added_json = json::parse(added.body);
  const std::string c = added_json["call_sid"];
  CHECK(added_json["conference_sid"] == cf);
  CHECK(added_json["hold"] == false);
  PollConference(f, "twilio", "room-1", [](const json& x) { return Joined(x) == 3; });
  auto missed = f.Twilio("POST", "/Conferences/" + cf + "/Participants.json",
                         {{"From", "+14155550100"}, {"To", "+19175550122"}, {"Timeout", "20"},
                          {"StatusCallback", receiver.url() + "/p-status"}});
  REQUIRE(missed.status == 201);
  const std::string d = json::parse(missed.body)["call_sid"];
  json rd = f.WaitDone(d);
  CHECK(rd["status"] == "no-answer");
  CHECK(f.Twilio("POST", "/Conferences/" + cf + "/Participants.json", {{"From", "+14155550100"}})
            .status == 400);  // To missing
  CHECK(f.Twilio("POST", "/Conferences/CF0/Participants.json",
                 {{"From", "+14155550100"}, {"To", "+19175550111"}})
            .status == 404);

  // Remove the added participant: it hangs up.
  CHECK(f.Twilio("DELETE", "/Conferences/" + cf + "/Participants/" + c + ".json").status == 204);
  json rc = f.WaitDone(c);
  CHECK(rc["status"] == "completed");
  CHECK(Steps(rc) == std::vector<std::string>{"Call:answered", "Conference:left",
                                              "Hangup:hung up"});
  CHECK(f.Twilio("DELETE", "/Conferences/" + cf + "/Participants/" + c + ".json").status == 404);
  auto statuses = [&](const std::string& sid) {
    std::vector<std::string> out;
    for (const Received& r : of("/p-status")) {
      if (FormValue(r.body, "CallSid") == sid) out.push_back(FormValue(r.body, "CallStatus"));
    }
    return out;
  };
  CHECK(statuses(c) ==
        std::vector<std::string>{"initiated", "ringing", "in-progress", "completed"});
  CHECK(statuses(d) == std::vector<std::string>{"no-answer"});
  for (const Received& r : of("/p-status")) {
    CHECK(TwilioSignatureValid(receiver.url(), r));
    if (FormValue(r.body, "CallSid") == d) CHECK(FormValue(r.body, "To") == "+19175550122");
  }

  // The caller hangs up: A had endConferenceOnExit, the conference ends, B is dropped.
  REQUIRE(f.Send("POST", "/emulator/calls/" + a + "/hangup").status == 200);
  ra = f.WaitDone(a);
  rb = f.WaitDone(b);
  CHECK(f.Send("POST", "/emulator/calls/" + a + "/hangup").status == 409);
  CHECK(f.Send("POST", "/emulator/calls/CA404/hangup").status == 404);
  CHECK(ra["status"] == "completed");
  CHECK(LastStep(ra, "Conference")["outcome"] == "left");
  CHECK(rb["status"] == "completed");
  CHECK(LastStep(rb, "Conference")["outcome"] == "ended");
  conf = ConferenceNamed(f, "twilio", "room-1");
  CHECK(conf["status"] == "completed");
  CHECK(Joined(conf) == 0);
  CHECK(json::parse(f.Twilio("GET", "/Conferences/" + cf + ".json").body)["status"] ==
        "completed");
  // The child's noun callback: completed once it ended.
  REQUIRE(of("/leg").size() == 2);
  CHECK(FormValue(of("/leg")[1].body, "CallSid") == b);
  CHECK(FormValue(of("/leg")[1].body, "CallStatus") == "completed");
  CHECK(FormValue(of("/leg")[1].body, "ParentCallSid") == a);

  // Conference status callbacks, in order (the first two joins may come either way round).
  std::vector<std::string> events;
  for (const Received& r : of("/conf")) {
    CHECK(TwilioSignatureValid(receiver.url(), r));
    CHECK(FormValue(r.body, "ConferenceSid") == cf);
    CHECK(FormValue(r.body, "FriendlyName") == "room-1");
    CHECK(FormValue(r.body, "AccountSid") == kSid);
    const std::string sid = FormValue(r.body, "CallSid");
    events.push_back(FormValue(r.body, "StatusCallbackEvent") + ":" +
                     (sid == a ? "A" : sid == b ? "B" : sid == c ? "C" : sid));
  }
  REQUIRE(events.size() == 9);
  CHECK(((events[0] == "participant-join:A" && events[1] == "participant-join:B") ||
         (events[0] == "participant-join:B" && events[1] == "participant-join:A")));
  CHECK(std::vector<std::string>(events.begin() + 2, events.end()) ==
        std::vector<std::string>{"participant-hold:A", "participant-unhold:A",
                                 "participant-join:C", "participant-leave:C",
                                 "participant-leave:A", "participant-leave:B",
                                 "conference-end:"});
  const Received& end = of("/conf").back();
  CHECK(FormValue(end.body, "ReasonConferenceEnded") ==
        "participant-with-end-conference-on-exit-left");
  CHECK(FormValue(end.body, "CallSidEndingConference") == a);
  const Received& hold = of("/conf")[2];
  CHECK(FormValue(hold.body, "Hold") == "true");
  CHECK(FormValue(hold.body, "EndConferenceOnExit") == "true");
  CHECK(FormValue(hold.body, "StartConferenceOnEnter") == "true");
  CHECK(FormValue(hold.body, "Muted") == "false");
  CHECK(FormValue(hold.body, "SequenceNumber") == "3");
}

TEST_CASE("Telnyx conference: create with A out of a held bridge, join B, hold, add, leave, end",
          "[emulator][telnyx][conference]") {
  Receiver receiver({});
  Fixture f;
  const std::string public_key =
      json::parse(f.Send("GET", "/emulator/info").body)["telnyx_public_key"];
  auto state = [](const std::string& s) { return crypto::Base64Encode(s); };
  REQUIRE(f.Send("POST", "/emulator/callees",
                 json{{"client:sarah", {{"answer_after_s", 1}, {"hold", true}}},
                      {"+19175550122", "no-answer"}}
                     .dump())
              .status == 200);
  auto command = [&](const std::string& id, const std::string& action, const json& body) {
    return f.Telnyx("POST", "/calls/" + http::PercentEncode(id) + "/actions/" + action, body);
  };
  auto dial = [&](const std::string& to, const std::string& client_state) {
    auto r = f.Telnyx("POST", "/calls",
                      json{{"connection_id", "1494404757140276705"},
                           {"from", "+14155550100"},
                           {"to", to},
                           {"client_state", state(client_state)},
                           {"webhook_url", receiver.url() + "/cc"}});
    REQUIRE(r.status == 200);
    return json::parse(r.body)["data"]["call_control_id"].get<std::string>();
  };
  const std::string a = dial("+19175550160", "a");
  f.PollCall(a, [](const json& r) { return r["status"] == "in-progress"; });
  REQUIRE(command(a, "transfer",
                  {{"to", "sip:sarah@sip.telnyx.com"},
                   {"park_after_unbridge", "self"},
                   {"target_leg_client_state", state("leg")}})
              .status == 200);
  const json bridged = f.PollCall(a, [](const json& r) { return r.contains("bridged_leg"); });
  const std::string b = bridged["bridged_leg"]["id"];

  // Create with A: A leaves the bridge, B stays up.
  CHECK(f.Telnyx("POST", "/conferences", json{{"name", "room-t"}}).status == 422);
  auto created = f.Telnyx("POST", "/conferences",
                          json{{"call_control_id", a}, {"name", "room-t"},
                               {"beep_enabled", "never"}});
  REQUIRE(created.status == 200);
  const json data = json::parse(created.body)["data"];
  const std::string id = data["id"];
  CHECK(data["record_type"] == "conference");
  CHECK(data["name"] == "room-t");
  CHECK(data["status"] == "in_progress");
  json ra = f.PollCall(a, [](const json&) { return true; });
  CHECK(!ra.contains("bridged_leg"));
  CHECK(Steps(ra) == std::vector<std::string>{"dial:answered", "transfer:completed",
                                              "conference:waiting"});
  CHECK(f.PollCall(b, [](const json&) { return true; })["status"] == "in-progress");
  REQUIRE(f.Telnyx("POST", "/conferences/" + id + "/actions/join",
                   json{{"call_control_id", b}, {"client_state", state("b-conf")}})
              .status == 200);
  CHECK(f.Telnyx("POST", "/conferences/" + id + "/actions/join", json{{"call_control_id", b}})
            .status == 422);  // already in it
  json conf = PollConference(f, "telnyx", "room-t", [](const json& c) { return Joined(c) == 2; });
  CHECK(conf["creator"] == a);
  auto listed = f.Telnyx("GET", "/conferences?filter%5Bname%5D=room-t");
  REQUIRE(listed.status == 200);
  REQUIRE(json::parse(listed.body)["data"].size() == 1);
  CHECK(json::parse(listed.body)["data"][0]["id"] == id);

  // Hold and unhold A.
  REQUIRE(f.Telnyx("POST", "/conferences/" + id + "/actions/hold",
                   json{{"call_control_ids", {a}}, {"audio_url", "http://music.example/a.wav"}})
              .status == 200);
  CHECK(Participant(ConferenceNamed(f, "telnyx", "room-t"), a)["hold"] == true);
  CHECK(LastStep(f.PollCall(a, [](const json&) { return true; }), "conference")["details"]
                ["hold"] == true);
  CHECK(f.Telnyx("POST", "/conferences/" + id + "/actions/hold",
                 json{{"call_control_ids", {"v3:nobody"}}})
            .status == 422);
  REQUIRE(f.Telnyx("POST", "/conferences/" + id + "/actions/unhold",
                   json{{"call_control_ids", {a}}})
              .status == 200);
  CHECK(Participant(ConferenceNamed(f, "telnyx", "room-t"), a)["hold"] == false);

  // An added participant: dialled, joined on answer; one who does not answer never joins.
  const std::string c = dial("+19175550111", "c");
  f.PollCall(c, [](const json& r) { return r["status"] == "in-progress"; });
  REQUIRE(f.Telnyx("POST", "/conferences/" + id + "/actions/join", json{{"call_control_id", c}})
              .status == 200);
  PollConference(f, "telnyx", "room-t", [](const json& x) { return Joined(x) == 3; });
  const std::string d = dial("+19175550122", "d");
  CHECK(f.WaitDone(d)["status"] == "no-answer");
  CHECK(f.Telnyx("POST", "/conferences/" + id + "/actions/join", json{{"call_control_id", d}})
            .status == 422);  // ended

  // C leaves: it stays up, parked; then it hangs up as any call.
  REQUIRE(f.Telnyx("POST", "/conferences/" + id + "/actions/leave", json{{"call_control_id", c}})
              .status == 200);
  conf = ConferenceNamed(f, "telnyx", "room-t");
  CHECK(Joined(conf) == 2);
  CHECK(Participant(conf, c)["status"] == "left");
  CHECK(f.PollCall(c, [](const json&) { return true; })["status"] == "in-progress");
  REQUIRE(command(c, "hangup", json::object()).status == 200);
  CHECK(f.WaitDone(c)["status"] == "completed");

  // The creator hangs up: the conference ends and B is hung up.
  REQUIRE(f.Send("POST", "/emulator/calls/" + http::PercentEncode(a) + "/hangup").status == 200);
  ra = f.WaitDone(a);
  json rb = f.WaitDone(b);
  CHECK(f.Send("POST", "/emulator/calls/" + http::PercentEncode(a) + "/hangup").status == 409);
  CHECK(ra["status"] == "completed");
  CHECK(LastStep(ra, "conference")["outcome"] == "left");
  CHECK(rb["status"] == "completed");
  CHECK(LastStep(rb, "conference")["outcome"] == "ended");
  conf = ConferenceNamed(f, "telnyx", "room-t");
  CHECK(conf["status"] == "completed");
  CHECK(conf["end_reason"] == "host_left");
  CHECK(json::parse(f.Telnyx("GET", "/conferences/" + id).body)["data"]["status"] ==
        "completed");
  CHECK(f.Telnyx("POST", "/conferences/" + id + "/actions/join", json{{"call_control_id", a}})
            .status == 422);

  // Webhooks: "who type:client_state" for the conference events and the hangups.
  std::vector<std::string> events;
  json created_payload, joined_b;
  for (const Received& r : receiver.received()) {
    CHECK(TelnyxSignatureValid(public_key, r));
    const json e = json::parse(r.body)["data"];
    const std::string type = e["event_type"];
    const json& p = e["payload"];
    if (type.rfind("conference.", 0) != 0 && type != "call.hangup") continue;
    const std::string who = p.value("call_control_id", "");
    if (type == "conference.created") created_payload = p;
    if (type == "conference.participant.joined" && who == b) joined_b = p;
    if (type != "conference.created" && type != "conference.ended") {
      CHECK(p.value("conference_id", id) == id);
    }
    events.push_back((who == a ? "A " : who == b ? "B " : who == c ? "C " : who == d ? "D " : "- ") +
                     type + ":" +
                     crypto::Base64Decode(p.value("client_state", "")).value_or(""));
  }
  CHECK(events == std::vector<std::string>{
                      "A conference.created:a", "A conference.participant.joined:a",
                      "B conference.participant.joined:b-conf",
                      "C conference.participant.joined:c", "D call.hangup:d",
                      "C conference.participant.left:c", "C call.hangup:",
                      "A call.hangup:", "A conference.participant.left:a",
                      "B conference.participant.left:b-conf", "B call.hangup:",
                      "- conference.ended:a"});
  CHECK(created_payload["conference_id"] == id);
  CHECK(created_payload["name"] == "room-t");
  CHECK(joined_b["call_leg_id"] == b);
  CHECK(!joined_b["call_session_id"].get<std::string>().empty());
}

TEST_CASE("Admin hangup and conference errors", "[emulator][conference]") {
  Fixture f;
  CHECK(f.Send("POST", "/emulator/calls/nope/hangup").status == 404);
  CHECK(f.Twilio("GET", "/Conferences/CF0.json").status == 404);
  CHECK(f.Telnyx("GET", "/conferences/nope").status == 404);
  CHECK(f.Telnyx("POST", "/conferences", json{{"call_control_id", "v3:x"}, {"name", "n"}})
            .status == 422);
  auto listed = f.Twilio("GET", "/Conferences.json");
  REQUIRE(listed.status == 200);
  CHECK(json::parse(listed.body)["conferences"].empty());
  CHECK(json::parse(f.Send("GET", "/emulator/conferences").body)["conferences"].empty());
}

}  // namespace
}  // namespace switchboard::carrier_emulator::testing
