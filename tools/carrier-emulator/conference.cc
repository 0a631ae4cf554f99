// Conferences on both wire formats: Twilio <Dial><Conference> and the Conferences/Participants
// REST resources; Telnyx /v2/conferences (create, join, leave, hold, unhold) and conference.*
// webhooks. Also the admin hangup of any live call and the admin conference listing.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/http/url.h"
#include "tools/carrier-emulator/emulator.h"
#include "tools/carrier-emulator/wire.h"

namespace switchboard::carrier_emulator {

using nlohmann::json;
using Participant = CarrierEmulator::Conference::Participant;

using namespace wire;  // NOLINT: the shared wire helpers

namespace {

std::string Bool(bool b) { return b ? "true" : "false"; }

// The statusCallbackEvent keyword that selects a Twilio conference event.
std::string EventKey(const std::string& event) {
  if (event == "participant-join") return "join";
  if (event == "participant-leave") return "leave";
  if (event == "participant-hold" || event == "participant-unhold") return "hold";
  if (event == "participant-mute" || event == "participant-unmute") return "mute";
  if (event == "conference-end") return "end";
  return event;
}

// "true" | "false" form value into *out (absent: unchanged). False when malformed.
bool ParseBool(const http::Params& form, const char* name, bool* out) {
  if (!Has(form, name)) return true;
  const std::string v = First(form, name);
  if (v != "true" && v != "false") return false;
  *out = v == "true";
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Shared conference state
// ------------------------------------------------------------------------------------------

CarrierEmulator::Conference* CarrierEmulator::FindLiveConferenceLocked(const std::string& carrier,
                                                                       const std::string& name) {
  for (auto& [id, conf] : conferences_) {
    if (conf.carrier == carrier && conf.name == name && conf.active()) return &conf;
  }
  return nullptr;
}

void CarrierEmulator::JoinConferenceLocked(Conference& conf, Participant p,
                                           const std::string& verb) {
  Call& c = calls_[p.call_id];
  c.conference = conf.id;
  p.to = c.to;
  p.joined = absl::Now();
  json details = {{"name", conf.name},
                  {conf.carrier == "twilio" ? "conference_sid" : "conference_id", conf.id},
                  {"hold", p.hold},
                  {"muted", p.muted},
                  {"end_conference_on_exit", p.end_on_exit}};
  if (conf.carrier == "twilio") details["start_conference_on_enter"] = p.start_on_enter;
  c.steps.push_back({{"verb", verb}, {"details", details}, {"outcome", "waiting"},
                     {"at_s", c.sim_time}});
  p.step = c.steps.size() - 1;
  conf.participants.push_back(std::move(p));
  const Participant& joined = conf.participants.back();
  if (conf.carrier == "twilio") {
    QueueTwilioConferenceCallbackLocked(conf, "participant-join", &joined, joined.call_id);
  } else {
    QueueTelnyxEventLocked(joined.call_id, "conference.participant.joined",
                           {{"conference_id", conf.id},
                            {"call_control_id", c.id},
                            {"call_leg_id", c.leg_id},
                            {"call_session_id", c.session_id},
                            {"connection_id", "1494404757140276705"}},
                           joined.client_state, /*call_fields=*/false);
  }
}

void CarrierEmulator::LeaveConferenceLocked(Conference& conf, const std::string& call_id,
                                            const std::string& outcome) {
  Participant* p = conf.Find(call_id);
  if (p == nullptr) return;
  p->left = true;
  if (auto it = calls_.find(call_id); it != calls_.end()) {
    Call& c = it->second;
    if (c.conference == conf.id) c.conference.clear();
    if (p->step < c.steps.size()) {
      json& step = c.steps[p->step];
      step["outcome"] = outcome;
      step["details"]["hold"] = p->hold;
      step["details"]["duration_s"] = LiveSeconds(p->joined);
    }
    if (conf.carrier == "twilio") {
      QueueTwilioConferenceCallbackLocked(conf, "participant-leave", p, call_id);
    } else {
      QueueTelnyxEventLocked(call_id, "conference.participant.left",
                             {{"conference_id", conf.id},
                              {"call_control_id", c.id},
                              {"call_leg_id", c.leg_id},
                              {"call_session_id", c.session_id},
                              {"connection_id", "1494404757140276705"}},
                             p->client_state, /*call_fields=*/false);
    }
  }
  if (!conf.active()) return;  // the conference is ending: EndConferenceLocked goes on
  const bool others = std::any_of(conf.participants.begin(), conf.participants.end(),
                                  [](const Participant& q) { return !q.left; });
  const bool host = conf.carrier == "telnyx" && call_id == conf.creator;
  if (p->end_on_exit || host) {
    EndConferenceLocked(conf,
                        conf.carrier == "twilio" ? "participant-with-end-conference-on-exit-left"
                                                 : "host_left",
                        call_id);
  } else if (!others) {
    EndConferenceLocked(conf, conf.carrier == "twilio" ? "last-participant-left" : "all_left",
                        call_id);
  }
}

void CarrierEmulator::EndConferenceLocked(Conference& conf, const std::string& reason,
                                          const std::string& by_call) {
  if (!conf.active()) return;
  conf.status = "completed";
  conf.end_reason = reason;
  for (size_t i = 0; i < conf.participants.size(); ++i) {
    if (conf.participants[i].left) continue;
    const std::string id = conf.participants[i].call_id;
    LeaveConferenceLocked(conf, id, "ended");
    if (conf.carrier != "telnyx") continue;  // Twilio: the call continues after its Dial
    // Telnyx: the other participants are hung up.
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second.ended) continue;
    Call& c = it->second;
    c.status = "completed";
    c.ended = true;
    c.end_reason = "conference ended";
    c.steps.push_back({{"verb", "hangup"}, {"details", {{"source", "conference"}}},
                       {"outcome", "hung up"}, {"at_s", c.sim_time}});
    QueueTelnyxEventLocked(id, "call.hangup",
                           {{"hangup_cause", "normal_clearing"},
                            {"hangup_source", "unknown"},
                            {"state", "hangup"}},
                           "");
  }
  if (conf.carrier == "twilio") {
    QueueTwilioConferenceCallbackLocked(
        conf, "conference-end", nullptr, by_call,
        {{"ReasonConferenceEnded", reason}, {"CallSidEndingConference", by_call}});
  } else {
    std::string client_state;
    if (!conf.participants.empty()) client_state = conf.participants.front().client_state;
    QueueTelnyxEventLocked(conf.creator, "conference.ended",
                           {{"conference_id", conf.id},
                            {"name", conf.name},
                            {"reason", reason},
                            {"connection_id", "1494404757140276705"}},
                           client_state, /*call_fields=*/false);
  }
}

void CarrierEmulator::QueueTwilioConferenceCallbackLocked(Conference& conf,
                                                          const std::string& event,
                                                          const Participant* p,
                                                          const std::string& call_id,
                                                          http::Params extra) {
  if (conf.status_callback.empty() || conf.events.count(EventKey(event)) == 0) return;
  http::Params params = {{"AccountSid", options_.twilio_account_sid},
                         {"ConferenceSid", conf.id},
                         {"FriendlyName", conf.name},
                         {"StatusCallbackEvent", event},
                         {"SequenceNumber", absl::StrCat(++conf.sequence)},
                         {"Timestamp", Rfc2822(absl::Now())}};
  if (p != nullptr) {
    params.emplace_back("CallSid", p->call_id);
    params.emplace_back("Hold", Bool(p->hold));
    params.emplace_back("Muted", Bool(p->muted));
    params.emplace_back("EndConferenceOnExit", Bool(p->end_on_exit));
    params.emplace_back("StartConferenceOnEnter", Bool(p->start_on_enter));
    params.emplace_back("Coaching", "false");
  }
  for (auto& kv : extra) params.push_back(std::move(kv));
  const std::string url = conf.status_callback, method = conf.status_callback_method;
  auto call = calls_.find(call_id);
  if (call != calls_.end()) ++call->second.pending_events;  // not done before it went out
  const std::string owner = call != calls_.end() ? call_id : "";
  Enqueue([this, owner, url, method, params = std::move(params)] {
    (void)FetchTwiml(owner, url, method, params, "conference-status");
    if (owner.empty()) return;
    absl::MutexLock lock(&mu_);
    --calls_[owner].pending_events;
  });
}

CarrierEmulator::ConferenceExit CarrierEmulator::WaitInConference(const std::string& call_id,
                                                                  const std::string& conf_id,
                                                                  double* talk_s) {
  absl::MutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  absl::Time deadline = start + options_.scenario_timeout;
  bool talk_limit = false;
  double talk_left = 0;
  {
    const Call& c = calls_[call_id];
    if (c.hangup_at_s > 0) {
      talk_left = std::max(0.0, c.hangup_at_s - c.sim_time);
      const absl::Time at = start + absl::Seconds(talk_left);
      if (at < deadline) {
        deadline = at;
        talk_limit = true;
      }
    }
  }
  auto done = [this, &call_id, &conf_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const Call& c = calls_[call_id];
    return c.pending.has_value() || c.ended || shutting_down_ || c.conference != conf_id;
  };
  const bool updated = mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  *talk_s = LiveSeconds(start);
  const Call& c = calls_[call_id];
  if (!updated) {
    if (talk_limit) *talk_s = talk_left;
    return talk_limit ? ConferenceExit::kTalkOver : ConferenceExit::kTimeout;
  }
  if (c.ended || shutting_down_) return ConferenceExit::kCallEnded;
  if (c.pending.has_value()) return ConferenceExit::kModified;
  return ConferenceExit::kRemoved;
}

CarrierEmulator::ConferenceExit CarrierEmulator::RunTwilioConference(
    const std::string& call_id, const std::string& name,
    const std::map<std::string, std::string>& attrs, const std::string& doc_url, double* talk_s) {
  auto attr = [&](const char* key, const char* fallback) {
    auto it = attrs.find(key);
    return it == attrs.end() ? std::string(fallback) : it->second;
  };
  std::string conf_id;
  {
    absl::MutexLock lock(&mu_);
    Conference* conf = FindLiveConferenceLocked("twilio", name);
    if (conf == nullptr) {
      const std::string id = absl::StrFormat("CF%032x", next_id_++);
      conf = &conferences_[id];
      conf->id = id;
      conf->carrier = "twilio";
      conf->name = name;
      conf->status = "in-progress";
      conf->date_created = Rfc2822(absl::Now());
    }
    // The first participant naming a statusCallback sets the conference's.
    if (conf->status_callback.empty() && !attr("statusCallback", "").empty()) {
      const std::string callback = attr("statusCallback", "");
      conf->status_callback = callback.empty() ? std::string() : Resolve(doc_url, callback);
      conf->status_callback_method = attr("statusCallbackMethod", "POST");
      for (absl::string_view e :
           absl::StrSplit(attr("statusCallbackEvent", ""), ' ', absl::SkipEmpty())) {
        conf->events.insert(std::string(e));
      }
      if (conf->events.empty()) conf->events.insert("end");
    }
    Participant p;
    p.call_id = call_id;
    p.start_on_enter = attr("startConferenceOnEnter", "true") != "false";
    p.end_on_exit = attr("endConferenceOnExit", "false") == "true";
    p.muted = attr("muted", "false") == "true";
    JoinConferenceLocked(*conf, std::move(p), "Conference");
    conf_id = conf->id;
  }
  const ConferenceExit exit = WaitInConference(call_id, conf_id, talk_s);
  absl::MutexLock lock(&mu_);
  calls_[call_id].sim_time += *talk_s;
  LeaveConferenceLocked(conferences_[conf_id], call_id, "left");  // no-op when removed
  return exit;
}

void CarrierEmulator::PlayTwilioParticipant(const std::string& call_id,
                                            const std::string& conf_id, Participant joining) {
  Callee far_end;
  std::string url, method, to, from;
  std::set<std::string> events;
  int sequence = 0;
  {
    absl::MutexLock lock(&mu_);
    const Call& c = calls_[call_id];
    far_end = FindCallee(c.callees, c.default_callee, c.to);
    url = c.status_callback;
    method = c.status_callback_method;
    events = c.status_events;
    to = c.to;
    from = c.from;
  }
  // The call's StatusCallback for `event` (completed always; others when asked for).
  auto status_callback = [&](const std::string& event, const std::string& status,
                             double duration) {
    if (url.empty() || (event != "completed" && events.count(event) == 0)) return;
    http::Params params = {{"AccountSid", options_.twilio_account_sid},
                           {"ApiVersion", "2010-04-01"},
                           {"CallSid", call_id},
                           {"CallStatus", status},
                           {"CallbackSource", "call-progress-events"},
                           {"Called", to},
                           {"Caller", from},
                           {"Direction", "outbound-api"},
                           {"From", from},
                           {"SequenceNumber", absl::StrCat(sequence++)},
                           {"Timestamp", Rfc2822(absl::Now())},
                           {"To", to}};
    if (event == "completed") params.emplace_back("CallDuration", absl::StrCat(std::llround(duration)));
    (void)FetchTwiml(call_id, url, method, params, "status");
  };
  status_callback("initiated", "initiated", 0);
  status_callback("ringing", "ringing", 0);
  bool answered = false;
  std::string outcome;
  {
    absl::MutexLock lock(&mu_);
    Call& c = calls_[call_id];
    auto conf = conferences_.find(conf_id);
    json details = {{"to", c.to}, {"from", c.from}, {"timeout", c.ring_timeout_s},
                    {"conference_sid", conf_id}};
    if (c.ended) {
      outcome = c.status;  // canceled through the REST API before it rang
    } else {
      outcome = RingCallee(c, far_end);
      answered = outcome == "answered";
    }
    c.steps.push_back({{"verb", "Call"}, {"details", details}, {"outcome", outcome},
                       {"at_s", c.sim_time}});
    if (answered && (conf == conferences_.end() || !conf->second.active())) {
      // The conference ended while it rang: the callee is hung up at once.
      c.steps.push_back({{"verb", "Hangup"}, {"details", {{"source", "conference"}}},
                         {"outcome", "hung up"}, {"at_s", c.sim_time}});
      c.status = "completed";
      answered = false;
    } else if (answered) {
      JoinConferenceLocked(conf->second, std::move(joining), "Conference");
    }
    if (!answered) {
      c.ended = true;
      if (c.end_reason.empty()) c.end_reason = outcome;
    }
  }
  if (answered) {
    status_callback("answered", "in-progress", 0);
    double talk = 0;
    const ConferenceExit exit = WaitInConference(call_id, conf_id, &talk);
    {
      absl::MutexLock lock(&mu_);
      calls_[call_id].sim_time += talk;
      LeaveConferenceLocked(conferences_[conf_id], call_id, "left");
    }
    if (exit == ConferenceExit::kModified) {
      // New TwiML for the participant: it runs (an empty document takes the modification).
      InterpretTwiml(call_id, "", std::string("<Response/>"));
    }
    absl::MutexLock lock(&mu_);
    Call& c = calls_[call_id];
    if (!c.ended) {
      // Removed, the conference ended, the talk time is over or scenario_timeout: hung up.
      const std::string source = exit == ConferenceExit::kRemoved    ? "conference"
                                 : exit == ConferenceExit::kTimeout ? "timeout"
                                                                    : "callee";
      c.steps.push_back({{"verb", "Hangup"}, {"details", {{"source", source}}},
                         {"outcome", "hung up"}, {"at_s", c.sim_time}});
      c.ended = true;
      c.end_reason = source;
    }
    if (c.status == "in-progress") c.status = "completed";
    outcome = c.status;
  }
  double duration = 0;
  {
    absl::MutexLock lock(&mu_);
    const Call& c = calls_[call_id];
    if (answered) duration = c.sim_time - c.answered_at_s;
  }
  status_callback("completed", outcome, duration);
  absl::MutexLock lock(&mu_);
  calls_[call_id].finished = true;
}

void CarrierEmulator::SettleTelnyxConference(const std::string& call_id) {
  absl::MutexLock lock(&mu_);
  SettleTelnyxConferenceLocked(call_id);
}

void CarrierEmulator::SettleTelnyxConferenceLocked(const std::string& call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end() || !it->second.ended || it->second.conference.empty()) return;
  auto conf = conferences_.find(it->second.conference);
  if (conf == conferences_.end()) {
    it->second.conference.clear();
    return;
  }
  LeaveConferenceLocked(conf->second, call_id, "left");
}

// ------------------------------------------------------------------------------------------
// Twilio REST: /Conferences
// ------------------------------------------------------------------------------------------

http::Response CarrierEmulator::HandleTwilioConferences(const http::Request& request,
                                                        const std::vector<std::string>& parts,
                                                        const http::Params& form) {
  const std::string prefix = absl::StrCat("/2010-04-01/Accounts/", options_.twilio_account_sid);
  const std::string now = Rfc2822(absl::Now());
  auto not_found = [&]() {
    return TwilioError(404, 20404,
                       absl::StrCat("The requested resource ", request.path, " was not found"));
  };
  auto conference_json = [&](const Conference& conf) {
    const std::string uri = absl::StrCat(prefix, "/Conferences/", conf.id);
    return json{{"sid", conf.id},
                {"account_sid", options_.twilio_account_sid},
                {"friendly_name", conf.name},
                {"status", conf.status},
                {"region", "us1"},
                {"api_version", "2010-04-01"},
                {"date_created", conf.date_created},
                {"date_updated", now},
                {"reason_conference_ended",
                 conf.end_reason.empty() ? json(nullptr) : json(conf.end_reason)},
                {"uri", uri + ".json"},
                {"subresource_uris", {{"participants", uri + "/Participants.json"}}}};
  };
  auto participant_json = [&](const Conference& conf, const Participant& p,
                              const std::string& status) {
    return json{{"account_sid", options_.twilio_account_sid},
                {"call_sid", p.call_id},
                {"conference_sid", conf.id},
                {"label", nullptr},
                {"call_sid_to_coach", nullptr},
                {"coaching", false},
                {"date_created", now},
                {"date_updated", now},
                {"end_conference_on_exit", p.end_on_exit},
                {"start_conference_on_enter", p.start_on_enter},
                {"muted", p.muted},
                {"hold", p.hold},
                {"status", status},
                {"uri", absl::StrCat(prefix, "/Conferences/", conf.id, "/Participants/",
                                     p.call_id, ".json")}};
  };
  auto strip_json = [](const std::string& s) {
    return absl::EndsWith(s, ".json") ? s.substr(0, s.size() - 5) : s;
  };

  // GET /Conferences.json?FriendlyName=&Status=
  if (parts.size() == 1 && parts[0] == "Conferences.json" && request.method == "GET") {
    const std::string name = First(form, "FriendlyName");
    const std::string status = First(form, "Status");
    json list = json::array();
    absl::MutexLock lock(&mu_);
    for (const auto& [id, conf] : conferences_) {
      if (conf.carrier != "twilio") continue;
      if (!name.empty() && conf.name != name) continue;
      if (!status.empty() && conf.status != status) continue;
      list.push_back(conference_json(conf));
    }
    return http::Response::Json(200, json{{"conferences", list},
                                          {"page", 0},
                                          {"page_size", 50},
                                          {"start", 0},
                                          {"next_page_uri", nullptr},
                                          {"uri", request.target}}
                                         .dump());
  }
  if (parts.size() < 2 || parts[0] != "Conferences") return not_found();
  const std::string conf_id = strip_json(parts[1]);
  absl::MutexLock lock(&mu_);
  auto it = conferences_.find(conf_id);
  if (it == conferences_.end() || it->second.carrier != "twilio") return not_found();
  Conference& conf = it->second;

  // GET|POST /Conferences/{CF}.json (POST Status=completed ends it)
  if (parts.size() == 2 && absl::EndsWith(parts[1], ".json")) {
    if (request.method == "GET") return http::Response::Json(200, conference_json(conf).dump());
    if (request.method != "POST") return TwilioError(405, 20004, "Method not allowed");
    if (Has(form, "Status")) {
      if (First(form, "Status") != "completed") {
        return TwilioError(400, 21218, "Status: only 'completed' is accepted");
      }
      EndConferenceLocked(conf, "conference-ended-via-api", "");
    }
    return http::Response::Json(200, conference_json(conf).dump());
  }
  if (parts.size() < 3 || parts[2].rfind("Participants", 0) != 0) return not_found();

  // GET /Conferences/{CF}/Participants.json (the participants in it now)
  if (parts.size() == 3 && parts[2] == "Participants.json" && request.method == "GET") {
    json list = json::array();
    for (const Participant& p : conf.participants) {
      if (!p.left) list.push_back(participant_json(conf, p, "connected"));
    }
    return http::Response::Json(200, json{{"participants", list},
                                          {"page", 0},
                                          {"page_size", 50},
                                          {"start", 0},
                                          {"next_page_uri", nullptr},
                                          {"uri", request.target}}
                                         .dump());
  }

  // POST /Conferences/{CF}/Participants.json: dial a participant into the conference.
  if (parts.size() == 3 && parts[2] == "Participants.json" && request.method == "POST") {
    const std::string to = First(form, "To");
    const std::string from = First(form, "From");
    if (to.empty()) return TwilioError(400, 21201, "No 'To' number is specified");
    if (!IsE164(to) && !absl::StartsWith(to, "client:")) {
      return TwilioError(400, 21211,
                         absl::StrCat("The 'To' number ", to, " is not a valid phone number."));
    }
    if (from.empty()) return TwilioError(400, 21213, "No 'From' number is specified");
    if (!IsE164(from)) {
      return TwilioError(400, 21212, absl::StrCat("The 'From' number ", from,
                                                  " is not a valid phone number."));
    }
    int timeout = 30;
    if (Has(form, "Timeout") && (!absl::SimpleAtoi(First(form, "Timeout"), &timeout) ||
                                 timeout < 5 || timeout > 600)) {
      return TwilioError(400, 20001, "Timeout: must be an integer 5..600");
    }
    for (const char* f : {"StatusCallback", "ConferenceStatusCallback"}) {
      const std::string v = First(form, f);
      if (!v.empty() && !IsHttpUrl(v)) {
        return TwilioError(400, 21609, absl::StrCat(f, " is not a valid URL: ", v));
      }
    }
    for (const char* f : {"StatusCallbackMethod", "ConferenceStatusCallbackMethod"}) {
      if (Has(form, f) && First(form, f) != "GET" && First(form, f) != "POST") {
        return TwilioError(400, 20001, absl::StrCat(f, ": must be GET or POST"));
      }
    }
    std::set<std::string> events;
    for (const auto& [k, v] : form) {
      if (k != "StatusCallbackEvent") continue;
      for (absl::string_view e : absl::StrSplit(v, ' ', absl::SkipEmpty())) {
        if (e != "initiated" && e != "ringing" && e != "answered" && e != "completed") {
          return TwilioError(400, 20001,
                             absl::StrCat("StatusCallbackEvent: '", e,
                                          "' is not one of initiated, ringing, answered, "
                                          "completed"));
        }
        events.insert(std::string(e));
      }
    }
    Participant joining;
    if (!ParseBool(form, "EndConferenceOnExit", &joining.end_on_exit) ||
        !ParseBool(form, "StartConferenceOnEnter", &joining.start_on_enter) ||
        !ParseBool(form, "Muted", &joining.muted) || !ParseBool(form, "Hold", &joining.hold)) {
      return TwilioError(400, 20001,
                         "EndConferenceOnExit, StartConferenceOnEnter, Muted, Hold: must be "
                         "true or false");
    }
    if (!conf.active()) {
      return TwilioError(400, 20001, absl::StrCat("Conference ", conf.id, " is not in-progress"));
    }
    if (conf.status_callback.empty() && !First(form, "ConferenceStatusCallback").empty()) {
      conf.status_callback = First(form, "ConferenceStatusCallback");
      if (Has(form, "ConferenceStatusCallbackMethod")) {
        conf.status_callback_method = First(form, "ConferenceStatusCallbackMethod");
      }
      for (const auto& [k, v] : form) {
        if (k != "ConferenceStatusCallbackEvent") continue;
        for (absl::string_view e : absl::StrSplit(v, ' ', absl::SkipEmpty())) {
          conf.events.insert(std::string(e));
        }
      }
      if (conf.events.empty()) conf.events.insert("end");
    }
    Call c;
    c.id = absl::StrFormat("CA%032x", next_id_++);
    c.carrier = "twilio";
    c.from = from;
    c.to = to;
    c.direction = "outbound-api";
    c.status = "queued";
    c.ring_timeout_s = timeout;
    c.status_callback = First(form, "StatusCallback");
    if (Has(form, "StatusCallbackMethod")) c.status_callback_method = First(form, "StatusCallbackMethod");
    c.status_events = events;
    c.callees = rest_callees_;
    c.default_callee = rest_default_callee_;
    joining.call_id = c.id;
    joining.to = to;
    calls_[c.id] = c;
    const std::string call_id = c.id, id = conf.id;
    StartPlayer([this, call_id, id, joining] { PlayTwilioParticipant(call_id, id, joining); });
    return http::Response::Json(201, participant_json(conf, joining, "queued").dump());
  }

  // /Conferences/{CF}/Participants/{CA}.json: GET, POST (Hold, HoldUrl, Muted), DELETE.
  if (parts.size() == 4 && parts[2] == "Participants" && absl::EndsWith(parts[3], ".json")) {
    const std::string call_sid = strip_json(parts[3]);
    Participant* p = conf.Find(call_sid);
    if (p == nullptr) return not_found();
    if (request.method == "GET") {
      return http::Response::Json(200, participant_json(conf, *p, "connected").dump());
    }
    if (request.method == "DELETE") {
      LeaveConferenceLocked(conf, call_sid, "left");
      return http::Response{.status = 204};
    }
    if (request.method != "POST") return TwilioError(405, 20004, "Method not allowed");
    bool hold = p->hold, muted = p->muted;
    if (!ParseBool(form, "Hold", &hold) || !ParseBool(form, "Muted", &muted)) {
      return TwilioError(400, 20001, "Hold, Muted: must be true or false");
    }
    const std::string hold_url = First(form, "HoldUrl");
    if (!hold_url.empty() && !IsHttpUrl(hold_url)) {
      return TwilioError(400, 21205, absl::StrCat("HoldUrl is not a valid URL: ", hold_url));
    }
    Call& c = calls_[call_sid];
    json& details = c.steps[p->step]["details"];
    if (hold != p->hold) {
      p->hold = hold;
      QueueTwilioConferenceCallbackLocked(conf, hold ? "participant-hold" : "participant-unhold",
                                          p, call_sid);
    }
    if (muted != p->muted) {
      p->muted = muted;
      QueueTwilioConferenceCallbackLocked(conf, muted ? "participant-mute" : "participant-unmute",
                                          p, call_sid);
    }
    if (Has(form, "HoldUrl")) p->hold_url = hold_url;
    details["hold"] = p->hold;
    details["muted"] = p->muted;
    if (!p->hold_url.empty()) details["hold_url"] = p->hold_url;
    return http::Response::Json(200, participant_json(conf, *p, "connected").dump());
  }
  return not_found();
}

// ------------------------------------------------------------------------------------------
// Telnyx REST: /v2/conferences
// ------------------------------------------------------------------------------------------

http::Response CarrierEmulator::HandleTelnyxConferences(const http::Request& request,
                                                        const std::vector<std::string>& parts,
                                                        const json& body) {
  auto not_found = [] {
    return TelnyxError(404, "10005", "Resource not found", "Conference not found.");
  };
  auto conference_json = [](const Conference& conf) {
    json data = {{"record_type", "conference"},
                 {"id", conf.id},
                 {"name", conf.name},
                 {"status", conf.status},
                 {"created_at", conf.date_created},
                 {"updated_at", Iso(absl::Now())},
                 {"connection_id", "1494404757140276705"}};
    if (!conf.end_reason.empty()) data["end_reason"] = conf.end_reason;
    return data;
  };
  for (const char* f : {"call_control_id", "name", "client_state", "audio_url"}) {
    if (body.contains(f) && !body[f].is_string()) {
      return TelnyxError(422, "10015", "Invalid parameter", absl::StrCat(f, ": must be a string"),
                         absl::StrCat("/", f));
    }
  }
  const std::string ccid = body.value("call_control_id", "");
  const std::string client_state = body.value("client_state", "");
  // The live, answered, unbridged call `ccid`, or an error.
  auto usable_call = [&](Call** out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)
                         -> std::optional<http::Response> {
    if (ccid.empty()) {
      return TelnyxError(422, "10005", "Missing required parameter",
                         "The 'call_control_id' parameter is required.", "/call_control_id");
    }
    auto it = calls_.find(ccid);
    if (it == calls_.end() || it->second.carrier != "telnyx") {
      return TelnyxError(422, "10015", "Invalid parameter",
                         "call_control_id: no such call", "/call_control_id");
    }
    Call& c = it->second;
    if (c.ended) {
      return TelnyxError(422, "90018", "Call has already ended",
                         "This call is no longer active and can't receive commands.");
    }
    if (c.status != "in-progress") {
      return TelnyxError(422, "90020", "Call not answered",
                         "The call must be answered before this command.");
    }
    if (!c.conference.empty()) {
      return TelnyxError(422, "10015", "Invalid parameter",
                         "call_control_id: the call is already in a conference",
                         "/call_control_id");
    }
    *out = &c;
    return std::nullopt;
  };

  // POST /v2/conferences: create with a call (unbridged from a held bridge, B stays up).
  if (parts.size() == 1 && request.method == "POST") {
    const std::string name = body.value("name", "");
    if (name.empty()) {
      return TelnyxError(422, "10005", "Missing required parameter",
                         "The 'name' parameter is required.", "/name");
    }
    QueuedCommands replay;
    json data;
    {
      absl::MutexLock lock(&mu_);
      Call* c = nullptr;
      if (auto error = usable_call(&c)) return *error;
      if (!c->parent_call.empty()) {
        auto parent = calls_.find(c->parent_call);
        if (parent != calls_.end() && parent->second.bridge &&
            parent->second.bridge->leg == c->id) {
          return TelnyxError(422, "10015", "Invalid parameter",
                             "call_control_id: a bridged target leg cannot create a conference",
                             "/call_control_id");
        }
      }
      if (c->bridge) {
        // The call leaves its held bridge; the other leg stays up, parked.
        Call::Bridge bridge = std::move(*c->bridge);
        c->bridge.reset();
        const double talk = LiveSeconds(bridge.started);
        c->sim_time += talk;
        json& step = c->steps[bridge.step];
        step["outcome"] = "completed";
        step["details"]["duration_s"] = talk;
        step["details"]["unbridged"] = "conference";
        Call& leg = calls_[bridge.leg];
        leg.sim_time = talk;
        leg.steps.push_back({{"verb", "unbridge"}, {"details", {{"reason", "conference"}}},
                             {"outcome", "parked"}, {"at_s", talk}});
        replay = std::move(bridge.queued);
      }
      const std::string id = absl::StrFormat("30000000-0000-4000-8000-%012x", next_id_++);
      Conference& conf = conferences_[id];
      conf.id = id;
      conf.carrier = "telnyx";
      conf.name = name;
      conf.status = "in_progress";
      conf.creator = c->id;
      conf.date_created = Iso(absl::Now());
      Participant p;
      p.call_id = c->id;
      p.client_state = client_state.empty() ? c->client_state : client_state;
      QueueTelnyxEventLocked(c->id, "conference.created",
                             {{"conference_id", id},
                              {"name", name},
                              {"call_control_id", c->id},
                              {"call_leg_id", c->leg_id},
                              {"call_session_id", c->session_id},
                              {"connection_id", "1494404757140276705"}},
                             p.client_state, /*call_fields=*/false);
      JoinConferenceLocked(conf, std::move(p), "conference");
      data = conference_json(conf);
    }
    // Commands sent to the call while it was bridged run now, in order.
    for (auto& [action, command] : replay) (void)HandleTelnyxAction(ccid, action, command, true);
    return http::Response::Json(200, json{{"data", data}}.dump());
  }

  // GET /v2/conferences?filter[name]=&filter[status]=
  if (parts.size() == 1 && request.method == "GET") {
    const http::Params query = http::ParseQuery(request.query);
    const std::string name = First(query, "filter[name]");
    const std::string status = First(query, "filter[status]");
    json list = json::array();
    absl::MutexLock lock(&mu_);
    for (const auto& [id, conf] : conferences_) {
      if (conf.carrier != "telnyx") continue;
      if (!name.empty() && conf.name != name) continue;
      if (!status.empty() && conf.status != status) continue;
      list.push_back(conference_json(conf));
    }
    const size_t n = list.size();
    return http::Response::Json(
        200, json{{"data", list},
                  {"meta", {{"page_number", 1}, {"page_size", 20}, {"total_pages", 1},
                            {"total_results", n}}}}
                 .dump());
  }
  if (parts.size() < 2) return not_found();
  absl::MutexLock lock(&mu_);
  auto it = conferences_.find(parts[1]);
  if (it == conferences_.end() || it->second.carrier != "telnyx") return not_found();
  Conference& conf = it->second;
  if (parts.size() == 2 && request.method == "GET") {
    return http::Response::Json(200, json{{"data", conference_json(conf)}}.dump());
  }
  if (parts.size() == 3 && parts[2] == "participants" && request.method == "GET") {
    json list = json::array();
    for (const Participant& p : conf.participants) {
      const Call& c = calls_[p.call_id];
      list.push_back({{"record_type", "participant"},
                      {"call_control_id", p.call_id},
                      {"call_leg_id", c.leg_id},
                      {"conference", {{"id", conf.id}, {"name", conf.name}}},
                      {"status", p.left ? "left" : "joined"},
                      {"on_hold", p.hold},
                      {"muted", p.muted},
                      {"end_conference_on_exit", p.end_on_exit}});
    }
    return http::Response::Json(200, json{{"data", list}}.dump());
  }
  if (parts.size() != 4 || parts[2] != "actions" || request.method != "POST") return not_found();
  const std::string& action = parts[3];
  const json ok = {{"data", {{"result", "ok"}}}};
  if (!conf.active()) {
    return TelnyxError(422, "90019", "Conference has ended",
                       "This conference is no longer active.");
  }
  if (action == "join") {
    for (const char* f : {"hold", "mute", "end_conference_on_exit"}) {
      if (body.contains(f) && !body[f].is_boolean()) {
        return TelnyxError(422, "10015", "Invalid parameter",
                           absl::StrCat(f, ": must be a boolean"), absl::StrCat("/", f));
      }
    }
    Call* c = nullptr;
    if (auto error = usable_call(&c)) return *error;
    auto parent = c->parent_call.empty() ? calls_.end() : calls_.find(c->parent_call);
    if (c->bridge || (parent != calls_.end() && parent->second.bridge &&
                      parent->second.bridge->leg == c->id)) {
      return TelnyxError(422, "10015", "Invalid parameter",
                         "call_control_id: the call is in a bridge", "/call_control_id");
    }
    Participant p;
    p.call_id = c->id;
    p.client_state = client_state.empty() ? c->client_state : client_state;
    p.hold = body.value("hold", false);
    p.muted = body.value("mute", false);
    p.end_on_exit = body.value("end_conference_on_exit", false);
    JoinConferenceLocked(conf, std::move(p), "conference");
    return http::Response::Json(200, ok.dump());
  }
  if (action == "leave") {
    if (ccid.empty()) {
      return TelnyxError(422, "10005", "Missing required parameter",
                         "The 'call_control_id' parameter is required.", "/call_control_id");
    }
    if (conf.Find(ccid) == nullptr) {
      return TelnyxError(422, "10015", "Invalid parameter",
                         "call_control_id: not a participant of the conference",
                         "/call_control_id");
    }
    LeaveConferenceLocked(conf, ccid, "left");
    return http::Response::Json(200, ok.dump());
  }
  if (action == "hold" || action == "unhold") {
    std::vector<std::string> ids;
    if (body.contains("call_control_ids")) {
      const json& list = body["call_control_ids"];
      if (!list.is_array()) {
        return TelnyxError(422, "10015", "Invalid parameter",
                           "call_control_ids: must be an array of strings", "/call_control_ids");
      }
      for (const json& id : list) {
        if (!id.is_string()) {
          return TelnyxError(422, "10015", "Invalid parameter",
                             "call_control_ids: must be an array of strings",
                             "/call_control_ids");
        }
        ids.push_back(id.get<std::string>());
      }
    }
    if (ids.empty()) {
      if (action == "unhold") {
        return TelnyxError(422, "10005", "Missing required parameter",
                           "The 'call_control_ids' parameter is required.", "/call_control_ids");
      }
      for (const Participant& p : conf.participants) {
        if (!p.left) ids.push_back(p.call_id);  // hold without ids: everyone
      }
    }
    for (const std::string& id : ids) {
      if (conf.Find(id) == nullptr) {
        return TelnyxError(422, "10015", "Invalid parameter",
                           absl::StrCat("call_control_ids: ", id,
                                        " is not a participant of the conference"),
                           "/call_control_ids");
      }
    }
    for (const std::string& id : ids) {
      Participant* p = conf.Find(id);
      p->hold = action == "hold";
      if (action == "hold") p->hold_url = body.value("audio_url", "");
      json& details = calls_[id].steps[p->step]["details"];
      details["hold"] = p->hold;
      if (!p->hold_url.empty()) details["hold_audio_url"] = p->hold_url;
    }
    return http::Response::Json(200, ok.dump());
  }
  return TelnyxError(404, "10005", "Resource not found",
                     absl::StrCat("Unknown conference command '", action, "'."));
}

// ------------------------------------------------------------------------------------------
// Admin
// ------------------------------------------------------------------------------------------

http::Response CarrierEmulator::AdminHangup(const std::string& id) {
  std::string bridge_parent, bridge_leg;
  bool parent_side = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(id);
    if (it == calls_.end()) return http::Response::JsonError(404, "not_found", "call not found");
    Call& c = it->second;
    if (c.ended) return http::Response::JsonError(409, "already_ended", "the call has ended");
    const std::string source =
        c.direction == "inbound" || c.direction == "incoming" ? "caller" : "callee";
    auto parent = c.parent_call.empty() ? calls_.end() : calls_.find(c.parent_call);
    const bool bridged_leg = parent != calls_.end() && parent->second.bridge &&
                             parent->second.bridge->leg == c.id;
    if (c.carrier == "twilio") {
      c.ended = true;
      if (bridged_leg) {
        // The parent's Dial sees its leg end (as for Status=completed on the leg).
        c.end_reason = "callee";
      } else {
        if (c.status == "in-progress") c.status = "completed";
        if (c.status == "queued" || c.status == "ringing") c.status = "canceled";
        c.end_reason = "hangup";
        c.steps.push_back({{"verb", "Hangup"}, {"details", {{"source", source}}},
                           {"outcome", "hung up"}, {"at_s", c.sim_time}});
      }
      return http::Response::Json(200, json{{"call_id", id}, {"hung_up", true}}.dump());
    }
    if (c.bridge) {
      bridge_parent = c.id;
      bridge_leg = c.bridge->leg;
      parent_side = true;
    } else if (bridged_leg) {
      bridge_parent = parent->second.id;
      bridge_leg = c.id;
    } else {
      if (c.held_gather_step >= 0) {
        c.steps[static_cast<size_t>(c.held_gather_step)]["outcome"] = "interrupted";
        c.held_gather_step = -1;
        QueueTelnyxEventLocked(id, "call.gather.ended", {{"digits", ""}, {"status", "call_hangup"}},
                               c.held_gather_client_state);
      }
      std::vector<TelnyxEvent> saved;
      SaveTelnyxLiveRecordingLocked(c, &saved);
      for (TelnyxEvent& e : saved) QueueTelnyxEventLocked(id, e.type, e.extra, e.client_state);
      c.status = "completed";
      c.ended = true;
      c.end_reason = "normal_clearing";
      c.bridge.reset();
      c.steps.push_back({{"verb", "hangup"}, {"details", {{"source", source}}},
                         {"outcome", "hung up"}, {"at_s", c.sim_time}});
      QueueTelnyxEventLocked(id, "call.hangup",
                             {{"hangup_cause", "normal_clearing"},
                              {"hangup_source", source},
                              {"state", "hangup"}},
                             "");
      SettleTelnyxConferenceLocked(id);
      return http::Response::Json(200, json{{"call_id", id}, {"hung_up", true}}.dump());
    }
  }
  // A Telnyx held bridge: its caller (A) or its far end (B) hangs up.
  EndTelnyxBridge(bridge_parent, bridge_leg, /*caller_hung_up=*/parent_side);
  SettleTelnyxConference(bridge_parent);
  return http::Response::Json(200, json{{"call_id", id}, {"hung_up", true}}.dump());
}

json CarrierEmulator::ConferencesJson() const {
  absl::MutexLock lock(&mu_);
  json list = json::array();
  for (const auto& [id, conf] : conferences_) {
    json participants = json::array();
    for (const Participant& p : conf.participants) {
      auto c = calls_.find(p.call_id);
      participants.push_back({{"call_id", p.call_id},
                              {"from", c != calls_.end() ? c->second.from : ""},
                              {"to", p.to},
                              {"hold", p.hold},
                              {"muted", p.muted},
                              {"end_conference_on_exit", p.end_on_exit},
                              {"status", p.left ? "left" : "joined"}});
    }
    json entry = {{"id", id},
                  {"carrier", conf.carrier},
                  {"name", conf.name},
                  {"status", conf.status},
                  {"participants", participants}};
    if (!conf.end_reason.empty()) entry["end_reason"] = conf.end_reason;
    if (!conf.creator.empty()) entry["creator"] = conf.creator;
    list.push_back(std::move(entry));
  }
  return json{{"conferences", list}};
}

}  // namespace switchboard::carrier_emulator
