// Call control on live calls (issue 5) across the services as deployed: identity, numbers,
// routing (PlaceCall, asking the carrier to place the call), carrier (placing it, then asking
// routing.HandleCallEvent for every event of the new call) and the carrier emulator, each a
// process configured through the environment. One company per wire format (a Twilio-wire and a
// Telnyx-wire EMULATOR account), seeded through the APIs: people, carrier account, a main line,
// Mike's direct line, and the Powers Electric routing (routing-seed).
//
// Click-to-call: Mike (a tech) places a call to a customer; the emulator rings Mike's forward-to
// phone first (the call's first webhook may reach routing before PlaceCall returned: the call is
// stored before it is placed and recognised by the client state the carrier carries), then,
// once Mike answers, the customer with the chosen business caller ID (Twilio: the main line,
// Telnyx: Mike's direct line). Checked: the emulator's steps, the outbound call log row and its
// calls.v1 events; a customer who does not answer (missed, the user hears why); RBAC and bad
// input over gRPC.
//
// Live call control: a customer calls the main line in business hours and presses 1; Sarah
// answers and stays on the line (the emulator keeps the bridge up until the call is modified).
// While connected she records the call on demand (policy ON_DEMAND), stops the recording, then
// blind-transfers the caller to Mike, who answers and talks. Checked: the emulator's steps (the
// bridge to Sarah ended by the modification, the transfer announcement, Mike's dial), the call
// log (answered by Mike, the transfer and recording on the path, the recording referenced) and
// the calls.v1 events (answered twice, one end). Then the conference: the caller is put on hold
// and resumed, a guest number is added and removed, and a warm transfer hands the caller from
// Sarah to Mike; the caller hangs up (the emulator's party hangs up on request). Checked: the
// participants as routing lists them, the path and the events.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/grpc/principal.h"
#include "libs/http/client.h"
#include "libs/http/url.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/events/v1/event.pb.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"
#include "switchboard/numbers/v1/numbers.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/stack.h"

namespace switchboard {
namespace {

namespace nv1 = switchboard::numbers::v1;
namespace rv1 = switchboard::routing::v1;
namespace ev1 = switchboard::events::v1;
using json = nlohmann::json;
using e2e::CallIdOf;
using e2e::DialSteps;
using e2e::PathText;
using e2e::RequireOk;
using e2e::Rpc;
using e2e::Tail;

constexpr const char* kTwilioToken = testing::kStackTwilioToken;
constexpr const char* kTelnyxKey = testing::kStackTelnyxKey;

// Every Say / speak text, in order.
std::vector<std::string> Spoken(const json& steps) {
  std::vector<std::string> out;
  for (const json& s : steps) {
    const std::string verb = s.value("verb", "");
    if (verb == "Say" || verb == "speak") {
      const json& d = s["details"];
      out.push_back(d.value("text", d.value("payload", "")));
    }
  }
  return out;
}

struct Tenant {
  std::string carrier;  // "twilio" | "telnyx"
  std::string company;
  rpc::Principal owner;
  std::string robert, sarah, mike, jake, tyler;
  std::map<std::string, std::string> forward;  // user id -> forward-to E.164
  std::string main_number;
  std::string mike_line;  // Mike's direct line
};

// What a click-to-call expects, checked on its events once every call ran.
struct Expected {
  const Tenant* tenant = nullptr;
  std::string call_id;
  std::string from;  // the caller ID
  std::string to;    // the customer
  std::string ended_status;
  std::string answered_by;  // "" = nobody
};

TEST_CASE("click-to-call through the emulator on Twilio and Telnyx", "[e2e][routing][control]") {
  // The deployed stack without media (tests/support/stack.h).
  auto started = testing::Stack::Start({.media = false});
  INFO((started.ok() ? std::string() : started.status().ToString()));
  REQUIRE(started.ok());
  testing::Stack& st = **started;
  auto web = testing::ValueOrFail(http::CurlHttpClient::Create(), "curl");
  const std::string emulator_url = st.emulator_url();
  testing::ServiceProcess* carrier = &st.carrier();
  testing::ServiceProcess* routing = &st.routing();
  nv1::Numbers::Stub* numbers_stub = &st.numbers_stub();
  rv1::Routing::Stub* routing_stub = &st.routing_stub();
  testing::KafkaTestTopic* calls_topic = &st.calls_topic();

  // --- seeding: Powers Electric through the APIs, plus a direct line for Mike -----------------
  auto seed = [&](const std::string& wire, const std::string& area_code,
                  const std::string& forward_prefix) {
    absl::StatusOr<testing::PowersTenant> p =
        st.SeedPowersElectric(wire, area_code, forward_prefix);
    INFO((p.ok() ? std::string() : p.status().ToString() + "\n" + st.LogTails()));
    REQUIRE(p.ok());
    Tenant t{.carrier = p->carrier,
             .company = p->company,
             .owner = p->owner,
             .robert = p->users.robert,
             .sarah = p->users.sarah,
             .mike = p->users.mike,
             .jake = p->users.jake,
             .tyler = p->users.tyler,
             .forward = p->forward,
             .main_number = p->main_number};
    nv1::SearchNumbersRequest search;
    search.set_area_code(area_code);
    search.set_limit(5);
    nv1::SearchNumbersResponse found;
    RequireOk(Rpc(*numbers_stub, &nv1::Numbers::Stub::SearchNumbers, t.owner, search, &found),
              "numbers SearchNumbers");
    std::string free_number;
    for (const auto& n : found.numbers()) {
      if (n.e164() != t.main_number) {
        free_number = n.e164();
        break;
      }
    }
    REQUIRE_FALSE(free_number.empty());
    nv1::ProvisionNumberRequest req;
    req.set_e164(free_number);
    req.set_line_type(nv1::LINE_DIRECT);
    nv1::Number direct;
    RequireOk(Rpc(*numbers_stub, &nv1::Numbers::Stub::ProvisionNumber, t.owner, req, &direct),
              "numbers ProvisionNumber");
    REQUIRE(direct.status() == nv1::NUMBER_ACTIVE);
    REQUIRE(direct.e164() != t.main_number);
    nv1::AssignLineRequest assign;
    assign.set_line_id(direct.line_id());
    assign.set_user_id(t.mike);
    nv1::Number assigned;
    RequireOk(Rpc(*numbers_stub, &nv1::Numbers::Stub::AssignLine, t.owner, assign, &assigned),
              "numbers AssignLine");
    t.mike_line = direct.e164();
    return t;
  };
  std::vector<Tenant> tenants;
  tenants.reserve(2);
  tenants.push_back(seed("twilio", "415", "+1917555870"));
  tenants.push_back(seed("telnyx", "646", "+1917555860"));

  // The far ends: each customer number behaves as configured.
  auto callees = [&](const json& config) {
    absl::StatusOr<http::HttpResponse> r =
        web->Send({.method = "POST",
                   .url = emulator_url + "/emulator/callees",
                   .headers = {{"Content-Type", "application/json"}},
                   .body = config.dump()});
    REQUIRE(r.ok());
    INFO(r->body);
    REQUIRE(r->status == 200);
  };
  // The emulator's record of a carrier call once it is done.
  auto emulated = [&](const std::string& carrier_call_id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    json result;
    while (true) {
      absl::StatusOr<http::HttpResponse> r = web->Send(
          {.url = absl::StrCat(emulator_url, "/emulator/calls/",
                               http::PercentEncode(carrier_call_id))});
      REQUIRE(r.ok());
      if (r->status == 200) {
        result = json::parse(r->body, nullptr, false);
        if (result.is_object() && result.value("done", false)) break;
      }
      if (absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(100));  // polling interval, bounded by the deadline
    }
    INFO("emulator: " << result.dump());
    REQUIRE(result.is_object());
    REQUIRE(result.value("done", false));
    return result;
  };
  // Routing's call log row once it has `want` (or whatever it has after 30 s).
  auto logged = [&](const Tenant& t, const std::string& call_id, rv1::CallStatus want) {
    rv1::GetCallRequest get;
    get.set_call_id(call_id);
    rv1::CallRecord row;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (true) {
      row.Clear();
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::GetCall, t.owner, get, &row), "GetCall");
      if (row.status() == want || absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(100));  // polling interval, bounded by the deadline
    }
    return row;
  };

  std::vector<Expected> expected;
  int customer_seq = 0;
  for (const Tenant& t : tenants) {
    INFO(t.carrier);
    const bool twilio = t.carrier == "twilio";
    const rpc::Principal mike{.company_id = t.company, .user_id = t.mike, .role = "tech"};
    const std::string& mike_fwd = t.forward.at(t.mike);
    const std::string caller_id = twilio ? t.main_number : t.mike_line;

    // Bad input and RBAC over gRPC.
    {
      rv1::PlaceCallRequest req;
      req.set_user_id(t.robert);
      req.set_to("+13125550100");
      rv1::PlaceCallResponse resp;
      grpc::Status denied = Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, mike, req, &resp);
      CHECK(denied.error_code() == grpc::StatusCode::PERMISSION_DENIED);
      req.set_user_id(t.mike);
      req.set_to("555-0100");
      grpc::Status bad = Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, mike, req, &resp);
      CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(absl::StartsWith(bad.error_message(), "to:"));
      req.set_to("+13125550100");
      req.set_user_id("no-such-user");
      grpc::Status unknown =
          Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, t.owner, req, &resp);
      CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
    }

    // 1. Mike calls a customer, who answers.
    {
      const std::string customer = absl::StrCat("+1312555", 3100 + customer_seq++);
      callees({{mike_fwd, {{"answer_after_s", 1}}},
               {customer, {{"answer_after_s", 2}, {"talk_s", 8}}}});
      rv1::PlaceCallRequest req;
      req.set_to(customer);
      req.set_caller_id(twilio ? rv1::CALLER_ID_MAIN_LINE : rv1::CALLER_ID_DIRECT_LINE);
      rv1::PlaceCallResponse placed;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, mike, req, &placed),
                "PlaceCall");
      CHECK(placed.caller_id() == caller_id);
      CHECK(placed.device() == mike_fwd);  // no softphone connected: the forward-to phone
      REQUIRE_FALSE(placed.carrier_call_id().empty());
      json r = emulated(placed.carrier_call_id());
      rv1::CallRecord row = logged(t, placed.call_id(), rv1::COMPLETED);
      INFO("steps: " << r["steps"].dump() << "\npath: " << PathText(row));
      INFO("routing log: " << Tail(routing->Output()));
      INFO("carrier log: " << Tail(carrier->Output()));
      CHECK(r.value("to", "") == mike_fwd);
      std::vector<std::string> spoken = Spoken(r["steps"]);
      CHECK(std::find(spoken.begin(), spoken.end(), "Connecting your call.") != spoken.end());
      std::vector<json> dials = DialSteps(r["steps"]);
      REQUIRE(dials.size() == 1);
      CHECK(absl::StrContains(dials[0].dump(), customer));
      // The customer sees the business caller ID (Twilio <Dial callerId>, Telnyx transfer from).
      CHECK(dials[0]["details"].value(twilio ? "callerId" : "from", "") == caller_id);
      CHECK(dials[0].value("outcome", "") == "completed");
      CHECK(row.direction() == rv1::DIRECTION_OUTBOUND);
      CHECK(row.status() == rv1::COMPLETED);
      CHECK(row.from() == caller_id);
      CHECK(row.to() == customer);
      CHECK(row.answered_by() == customer);
      CHECK(row.flow_id() == "outbound");
      CHECK(row.has_answered_at());
      CHECK(row.has_ended_at());
      CHECK_FALSE(absl::StartsWith(row.call_key(), "pending:"));
      if (twilio) CHECK(row.call_key() == placed.carrier_call_id());
      CHECK(std::find(row.user_ids().begin(), row.user_ids().end(), t.mike) !=
            row.user_ids().end());
      // Mike sees his own call in his history.
      rv1::ListCallsRequest mine;
      mine.set_direction(rv1::DIRECTION_OUTBOUND);
      rv1::ListCallsResponse listed;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::ListCalls, mike, mine, &listed),
                "ListCalls (Mike)");
      bool found = false;
      for (const rv1::CallRecord& c : listed.calls()) found = found || c.id() == row.id();
      CHECK(found);
      expected.push_back(Expected{.tenant = &t, .call_id = placed.call_id(), .from = caller_id,
                                  .to = customer, .ended_status = "completed",
                                  .answered_by = customer});
    }

    // 2. The customer does not answer: Mike hears why; missed.
    {
      const std::string customer = absl::StrCat("+1312555", 3100 + customer_seq++);
      callees({{mike_fwd, {{"answer_after_s", 1}}}, {customer, "no-answer"}});
      rv1::PlaceCallRequest req;
      req.set_user_id(t.mike);
      req.set_to(customer);
      rv1::PlaceCallResponse placed;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, t.owner, req, &placed),
                "PlaceCall (owner for Mike)");
      CHECK(placed.caller_id() == t.main_number);
      json r = emulated(placed.carrier_call_id());
      rv1::CallRecord row = logged(t, placed.call_id(), rv1::MISSED);
      INFO("steps: " << r["steps"].dump() << "\npath: " << PathText(row));
      INFO("routing log: " << Tail(routing->Output()));
      std::vector<json> dials = DialSteps(r["steps"]);
      REQUIRE(dials.size() == 1);
      CHECK(dials[0].value("outcome", "") == "no-answer");
      std::vector<std::string> spoken = Spoken(r["steps"]);
      CHECK(std::find(spoken.begin(), spoken.end(),
                      "The call could not be connected: no answer. Goodbye.") != spoken.end());
      CHECK(row.status() == rv1::MISSED);
      CHECK(row.answered_by().empty());
      expected.push_back(Expected{.tenant = &t, .call_id = placed.call_id(),
                                  .from = t.main_number, .to = customer,
                                  .ended_status = "missed"});
    }
  }

  // --- calls.v1: each call's events ------------------------------------------------------
  {
    std::vector<std::string> ids;
    for (const Expected& e : expected) ids.push_back(e.call_id);
    std::map<std::string, std::vector<ev1::Event>> by_call = e2e::CallEvents(*calls_topic, ids);
    for (const Expected& e : expected) {
      INFO(e.tenant->carrier << " call " << e.call_id << " to " << e.to);
      const std::vector<ev1::Event>& events = by_call[e.call_id];
      const ev1::Event* started = nullptr;
      const ev1::Event* answered = nullptr;
      const ev1::Event* ended = nullptr;
      bool rang_mike = false;
      for (const ev1::Event& ev : events) {
        CHECK(ev.company_id() == e.tenant->company);
        if (ev.has_call_started()) started = &ev;
        if (ev.has_call_answered()) answered = &ev;
        if (ev.has_call_ended()) {
          CHECK(ended == nullptr);  // exactly one
          ended = &ev;
        }
        if (ev.has_call_ringing()) {
          for (const std::string& u : ev.call_ringing().user_ids()) {
            rang_mike = rang_mike || u == e.tenant->mike;
          }
        }
      }
      REQUIRE(started != nullptr);
      CHECK(started->call_started().direction() == "outbound");
      CHECK(started->call_started().from() == e.from);
      CHECK(started->call_started().to() == e.to);
      CHECK(rang_mike);
      REQUIRE(ended != nullptr);
      CHECK(ended->call_ended().status() == e.ended_status);
      CHECK(ended->call_ended().answered_by() == e.answered_by);
      if (e.answered_by.empty()) {
        CHECK(answered == nullptr);
      } else {
        REQUIRE(answered != nullptr);
        CHECK(answered->call_answered().answered_by() == e.answered_by);
      }
    }
  }

  // --- live call control ----------------------------------------------------------------
  // A call from `from` to the tenant's main line in business hours, pressing 1 (Sarah): the
  // scenario runs in the background until the call ends.
  auto start_call = [&](const Tenant& t, const std::string& from, const json& callees) {
    const json scenario = {{"carrier", t.carrier},
                           {"from", from},
                           {"to", t.main_number},
                           {"caller", json::array({json{{"on", "gather"}, {"press", "1"}}})},
                           {"callees", callees}};
    return std::async(std::launch::async, [&web, &emulator_url, body = scenario.dump()] {
      return web->Send({.method = "POST",
                        .url = emulator_url + "/emulator/calls",
                        .headers = {{"Content-Type", "application/json"}},
                        .body = body,
                        .timeout = absl::Seconds(90)});
    });
  };
  // The scenario's result once the call ended.
  auto finished = [&](std::future<absl::StatusOr<http::HttpResponse>>& running) {
    REQUIRE(running.wait_for(std::chrono::seconds(90)) == std::future_status::ready);
    absl::StatusOr<http::HttpResponse> answer = running.get();
    REQUIRE(answer.ok());
    INFO("scenario result: " << answer->body);
    REQUIRE(answer->status == 200);
    json r = json::parse(answer->body, nullptr, false);
    REQUIRE(r.is_object());
    return r;
  };
  // Routing's row of the call from `from` once `ready` holds (30 s at most).
  auto row_when = [&](const Tenant& t, const std::string& from,
                      const std::function<bool(const rv1::CallRecord&)>& ready) {
    rv1::ListCallsRequest list;
    list.set_number(from);
    rv1::CallRecord row;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (true) {
      rv1::ListCallsResponse calls;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::ListCalls, t.owner, list, &calls),
                "ListCalls");
      if (calls.calls_size() == 1) {
        rv1::GetCallRequest get;
        get.set_call_id(calls.calls(0).id());
        row.Clear();
        RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::GetCall, t.owner, get, &row),
                  "GetCall");
        if (ready(row)) break;
      }
      if (absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(100));  // polling interval, bounded by the deadline
    }
    return row;
  };
  // The calls.v1 events of a call once its call_ended is among them (30 s at most).
  // The calls.v1 events of a call once its call_ended is among them (30 s at most).
  auto events_of = [&](const std::string& call_id) {
    return e2e::CallEvents(*calls_topic, {call_id}, absl::Seconds(30))[call_id];
  };
  auto answered_by_events = [](const std::vector<ev1::Event>& events, int* ended,
                               std::string* ended_by) {
    std::string listed;
    for (const ev1::Event& ev : events) absl::StrAppend(&listed, ev.type(), " ");
    UNSCOPED_INFO("events of the call: " << listed);
    std::vector<std::string> answered_by;
    for (const ev1::Event& ev : events) {
      if (ev.has_call_answered()) answered_by.push_back(ev.call_answered().answered_by());
      if (ev.has_call_ended()) {
        ++*ended;
        *ended_by = ev.call_ended().answered_by();
      }
    }
    return answered_by;
  };

  int caller_seq = 0;
  for (const Tenant& t : tenants) {
    const bool twilio = t.carrier == "twilio";
    const rpc::Principal sarah{.company_id = t.company, .user_id = t.sarah, .role = "office"};
    const rpc::Principal jake{.company_id = t.company, .user_id = t.jake, .role = "tech"};
    const std::string& sarah_fwd = t.forward.at(t.sarah);
    const std::string& mike_fwd = t.forward.at(t.mike);
    {
      const absl::Status open = st.ForceSchedule(
          testing::PowersTenant{.carrier = t.carrier,
                                .company = t.company,
                                .owner = t.owner,
                                .users = {t.robert, t.sarah, t.mike, t.jake, t.tyler}},
          /*open=*/true);
      INFO(open.ToString());
      REQUIRE(open.ok());
      rv1::RecordingPolicy on_demand;
      on_demand.set_mode(rv1::RECORDING_ON_DEMAND);
      rv1::RecordingPolicyView view;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::SetRecordingPolicy, t.owner, on_demand,
                    &view),
                "SetRecordingPolicy");
    }

    // 1. On-demand recording, then a blind transfer to Mike.
    {
      INFO(t.carrier << " recording and blind transfer");
      const std::string from = absl::StrCat("+1312555", 4100 + caller_seq++);
      auto running = start_call(t, from,
                                {{sarah_fwd, {{"answer_after_s", 1}, {"hold", true}}},
                                 {mike_fwd, {{"answer_after_s", 2}, {"talk_s", 6}}},
                                 {"default", "no-answer"}});
      rv1::CallRecord live =
          row_when(t, from, [&](const rv1::CallRecord& r) { return r.answered_by() == t.sarah; });
      INFO("routing log: " << Tail(routing->Output()));
      INFO("carrier log: " << Tail(carrier->Output()));
      REQUIRE(live.answered_by() == t.sarah);
      CHECK(live.status() == rv1::CALL_STATUS_UNSPECIFIED);  // still live

      rv1::CallRecordingRequest rec;
      rec.set_call_id(live.id());
      rv1::CallRecord after;
      // Jake is not on the call.
      CHECK(Rpc(*routing_stub, &rv1::Routing::Stub::StartCallRecording, jake, rec, &after)
                .error_code() == grpc::StatusCode::PERMISSION_DENIED);
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::StartCallRecording, sarah, rec, &after),
                "StartCallRecording");
      CHECK(Rpc(*routing_stub, &rv1::Routing::Stub::StartCallRecording, sarah, rec, &after)
                .error_code() == grpc::StatusCode::FAILED_PRECONDITION);
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::StopCallRecording, sarah, rec, &after),
                "StopCallRecording");

      rv1::TransferCallRequest transfer;
      transfer.set_call_id(live.id());
      transfer.set_external_number("not-a-number");
      grpc::Status bad =
          Rpc(*routing_stub, &rv1::Routing::Stub::TransferCall, sarah, transfer, &after);
      CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(absl::StartsWith(bad.error_message(), "external_number:"));
      transfer.set_user_id(t.mike);
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::TransferCall, sarah, transfer, &after),
                "TransferCall");

      const json r = finished(running);
      INFO("steps: " << r["steps"].dump());
      std::vector<json> dials = DialSteps(r["steps"]);
      REQUIRE(dials.size() >= 2);
      CHECK(absl::StrContains(dials.front().dump(), sarah_fwd));
      CHECK(absl::StrContains(dials.back().dump(), mike_fwd));
      CHECK(dials.back().value("outcome", "") == "completed");
      if (twilio) CHECK(dials.front().value("outcome", "") == "interrupted");
      std::vector<std::string> spoken = Spoken(r["steps"]);
      CHECK(std::find(spoken.begin(), spoken.end(), "Please hold while I transfer your call.") !=
            spoken.end());

      // The call log: answered by Mike, the transfer and the recording on the path, the
      // recording referenced (it arrives when the carrier has it).
      rv1::CallRecord row = row_when(t, from, [](const rv1::CallRecord& x) {
        return x.status() == rv1::COMPLETED && !x.recording_id().empty();
      });
      INFO("path: " << PathText(row));
      CHECK(row.status() == rv1::COMPLETED);
      CHECK(row.answered_by() == t.mike);
      CHECK_FALSE(row.recording_id().empty());
      CHECK(absl::StrContains(PathText(row),
                              "PATH_TRANSFER [transferred by Sarah Johnson to Mike Torres]"));
      CHECK(absl::StrContains(PathText(row),
                              "PATH_RECORDING [recording started by Sarah Johnson]"));
      CHECK(absl::StrContains(PathText(row),
                              "PATH_RECORDING [recording stopped by Sarah Johnson]"));
      int ended = 0;
      std::string ended_by;
      CHECK(answered_by_events(events_of(live.id()), &ended, &ended_by) ==
            std::vector<std::string>{t.sarah, t.mike});
      CHECK(ended == 1);
      CHECK(ended_by == t.mike);
    }

    // 2. The conference: hold and resume, a participant added and removed, a warm transfer to
    //    Mike; then the caller hangs up.
    {
      INFO(t.carrier << " conference");
      const std::string from = absl::StrCat("+1312555", 4100 + caller_seq++);
      const std::string guest = absl::StrCat("+1646555", 4100 + caller_seq);
      auto running = start_call(t, from,
                                {{sarah_fwd, {{"answer_after_s", 1}, {"hold", true}}},
                                 {mike_fwd, {{"answer_after_s", 1}, {"hold", true}}},
                                 {guest, {{"answer_after_s", 1}, {"hold", true}}},
                                 {"default", "no-answer"}});
      rv1::CallRecord live =
          row_when(t, from, [&](const rv1::CallRecord& r) { return r.answered_by() == t.sarah; });
      INFO("routing log: " << Tail(routing->Output()));
      INFO("carrier log: " << Tail(carrier->Output()));
      REQUIRE(live.answered_by() == t.sarah);
      rv1::LiveCallRequest call;
      call.set_call_id(live.id());
      rv1::CallRecord after;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::HoldCall, sarah, call, &after), "HoldCall");
      REQUIRE(after.participants_size() == 2);
      CHECK(after.participants(0).on_hold());
      const std::string caller_leg = after.participants(0).leg();
      CHECK(Rpc(*routing_stub, &rv1::Routing::Stub::HoldCall, sarah, call, &after).error_code() ==
            grpc::StatusCode::FAILED_PRECONDITION);
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::ResumeCall, sarah, call, &after),
                "ResumeCall");
      CHECK_FALSE(after.participants(0).on_hold());

      rv1::AddParticipantRequest add;
      add.set_call_id(live.id());
      add.set_external_number(guest);
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::AddParticipant, sarah, add, &after),
                "AddParticipant");
      rv1::CallRecord with_guest = row_when(t, from, [&](const rv1::CallRecord& r) {
        return r.participants_size() == 3 &&
               r.participants(2).status() == rv1::Participant::JOINED;
      });
      REQUIRE(with_guest.participants_size() == 3);
      CHECK(with_guest.participants(2).status() == rv1::Participant::JOINED);
      rv1::RemoveParticipantRequest remove;
      remove.set_call_id(live.id());
      remove.set_leg(with_guest.participants(2).leg());
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::RemoveParticipant, sarah, remove, &after),
                "RemoveParticipant");

      rv1::AddParticipantRequest warm;
      warm.set_call_id(live.id());
      warm.set_user_id(t.mike);
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::StartWarmTransfer, sarah, warm, &after),
                "StartWarmTransfer");
      CHECK(after.participants(0).on_hold());
      rv1::CallRecord consulting = row_when(t, from, [&](const rv1::CallRecord& r) {
        return r.participants_size() == 4 &&
               r.participants(3).status() == rv1::Participant::JOINED;
      });
      INFO("path: " << PathText(consulting));
      REQUIRE(consulting.participants_size() == 4);
      CHECK(consulting.participants(3).user_id() == t.mike);
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::CompleteWarmTransfer, sarah, call, &after),
                "CompleteWarmTransfer");
      CHECK(after.answered_by() == t.mike);
      CHECK_FALSE(after.participants(0).on_hold());

      // The caller hangs up.
      absl::StatusOr<http::HttpResponse> hangup =
          web->Send({.method = "POST",
                     .url = absl::StrCat(emulator_url, "/emulator/calls/",
                                         http::PercentEncode(caller_leg), "/hangup")});
      REQUIRE(hangup.ok());
      INFO(hangup->body);
      CHECK(hangup->status == 200);
      const json r = finished(running);
      rv1::CallRecord row =
          row_when(t, from, [](const rv1::CallRecord& x) { return x.status() == rv1::COMPLETED; });
      INFO("steps: " << r["steps"].dump() << "\npath: " << PathText(row));
      CHECK(row.status() == rv1::COMPLETED);
      CHECK(row.answered_by() == t.mike);
      const std::string path = PathText(row);
      CHECK(absl::StrContains(path, "caller on hold by Sarah Johnson"));
      CHECK(absl::StrContains(path, "caller resumed by Sarah Johnson"));
      CHECK(absl::StrContains(path, absl::StrCat(guest, " joined")));
      CHECK(absl::StrContains(path, absl::StrCat(guest, " removed by Sarah Johnson")));
      CHECK(absl::StrContains(path, "Mike Torres joined"));
      CHECK(absl::StrContains(path,
                              "warm transfer by Sarah Johnson completed: Mike Torres takes the call"));
      int ended = 0;
      std::string ended_by;
      CHECK(answered_by_events(events_of(live.id()), &ended, &ended_by) ==
            std::vector<std::string>{t.sarah, t.mike});
      CHECK(ended == 1);
      CHECK(ended_by == t.mike);
    }
  }

  const absl::Status stopped = st.Stop();
  INFO(stopped.ToString());
  CHECK(stopped.ok());
  CHECK_FALSE(absl::StrContains(carrier->Output(), kTwilioToken));
  CHECK_FALSE(absl::StrContains(carrier->Output(), kTelnyxKey));
}

}  // namespace
}  // namespace switchboard
