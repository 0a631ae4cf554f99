#include "services/carrier/webhooks.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/crypto/encoding.h"
#include "libs/events/event.h"
#include "libs/http/url.h"
#include "nlohmann/json.hpp"
#include "services/carrier/proto_convert.h"
#include "services/carrier/signature.h"
#include "services/carrier/twiml.h"

namespace switchboard::carrier {
namespace {

using json = nlohmann::json;

bool ValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int n = 0;
    if (c < 0x80) n = 0;
    else if ((c & 0xE0) == 0xC0 && c >= 0xC2) n = 1;
    else if ((c & 0xF0) == 0xE0) n = 2;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4) n = 3;
    else return false;
    if (n > 0 && i + n >= s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string Param(const FormParams& params, absl::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

bool HasContentType(const http::Request& r, absl::string_view type) {
  std::optional<std::string> ct = r.Header("Content-Type");
  return ct.has_value() && absl::StartsWithIgnoreCase(*ct, type);
}

const char* KindName(const CarrierEventKind& kind) {
  struct V {
    const char* operator()(const CallIncoming&) const { return "call_incoming"; }
    const char* operator()(const CallAnswered&) const { return "call_answered"; }
    const char* operator()(const CallCompleted&) const { return "call_completed"; }
    const char* operator()(const DigitsGathered&) const { return "digits_gathered"; }
    const char* operator()(const DialResult&) const { return "dial_result"; }
    const char* operator()(const RecordingReady&) const { return "recording_ready"; }
    const char* operator()(const PromptEnded&) const { return "prompt_ended"; }
    const char* operator()(const SmsReceived&) const { return "sms_received"; }
    const char* operator()(const SmsStatus&) const { return "sms_status"; }
    const char* operator()(const NumberOrderStatus&) const { return "number_order_status"; }
    const char* operator()(const PortStatus&) const { return "port_status"; }
    const char* operator()(const ConferenceUpdate&) const { return "conference_update"; }
  };
  return std::visit(V{}, kind);
}

std::string AggregateId(const CarrierEvent& e) {
  // Routing finds a conference's call by its name ("sb-<call id>").
  if (const auto* update = std::get_if<ConferenceUpdate>(&e.kind); update != nullptr) {
    return update->conference;
  }
  for (const std::string* id : {&e.ids.call_session_id, &e.ids.call_sid, &e.ids.message_id,
                                &e.ids.order_id, &e.ids.port_order_id, &e.ids.call_control_id}) {
    if (!id->empty()) return *id;
  }
  return e.dedupe_key;
}

// Telnyx numbers may be a string, {"phone_number": ...}, or an array of either.
void CollectNumbers(const json& v, std::vector<std::string>* out) {
  if (v.is_string()) {
    out->push_back(v.get<std::string>());
  } else if (v.is_object() && v.contains("phone_number") && v["phone_number"].is_string()) {
    out->push_back(v["phone_number"].get<std::string>());
  } else if (v.is_array()) {
    for (const auto& x : v) CollectNumbers(x, out);
  }
}

std::string JsonStr(const json& obj, const char* key) {
  if (obj.is_object() && obj.contains(key) && obj[key].is_string()) {
    return obj[key].get<std::string>();
  }
  return "";
}

const char* TwilioRouteName(TwilioWebhookKind k) {
  switch (k) {
    case TwilioWebhookKind::kVoice: return "voice";
    case TwilioWebhookKind::kCallStatus: return "status";
    case TwilioWebhookKind::kGatherAction: return "gather";
    case TwilioWebhookKind::kDialAction: return "dial";
    case TwilioWebhookKind::kRecordAction: return "record";
    case TwilioWebhookKind::kRecordingStatus: return "recording";
    case TwilioWebhookKind::kMessagingInbound: return "sms";
    case TwilioWebhookKind::kMessagingStatus: return "sms-status";
    case TwilioWebhookKind::kConferenceStatus: return "conference";
    case TwilioWebhookKind::kConferenceParticipant: return "conference-participant";
  }
  return "unknown";
}

bool AnswersWithInstructions(TwilioWebhookKind k) {
  return k == TwilioWebhookKind::kVoice || k == TwilioWebhookKind::kGatherAction ||
         k == TwilioWebhookKind::kDialAction || k == TwilioWebhookKind::kRecordAction;
}

http::Response Xml(std::string body) {
  http::Response r{.status = 200, .body = std::move(body)};
  r.headers.emplace_back("Content-Type", "text/xml; charset=utf-8");
  return r;
}

constexpr char kEmptyTwiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

}  // namespace

std::string CarrierEventType(const CarrierEvent& event) {
  return absl::StrCat("carrier.", KindName(event.kind));
}

WebhookHandler::WebhookHandler(CarrierCore& core, CarrierStore& store,
                               InstructionSource& instructions, const Clock& clock,
                               metrics::Registry& registry, WebhookOptions options)
    : core_(core), store_(store), instructions_(instructions), clock_(clock),
      registry_(registry), options_(std::move(options)) {
  for (int i = 0; i < std::max(1, options_.command_workers); ++i) {
    workers_.emplace_back([this] { Worker(); });
  }
}

WebhookHandler::~WebhookHandler() { Stop(); }

void WebhookHandler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  workers_.clear();
}

int64_t WebhookHandler::CommandsSentForTest() const { return commands_done_.load(); }

void WebhookHandler::Register(http::Router& router) {
  for (TwilioWebhookKind k :
       {TwilioWebhookKind::kVoice, TwilioWebhookKind::kCallStatus,
        TwilioWebhookKind::kGatherAction, TwilioWebhookKind::kDialAction,
        TwilioWebhookKind::kRecordAction, TwilioWebhookKind::kRecordingStatus,
        TwilioWebhookKind::kMessagingInbound, TwilioWebhookKind::kMessagingStatus,
        TwilioWebhookKind::kConferenceStatus, TwilioWebhookKind::kConferenceParticipant}) {
    router.Add("POST", absl::StrCat("/webhooks/twilio/", TwilioRouteName(k)),
               [this, k](const http::Request& r) { return HandleTwilio(k, r); });
  }
  for (const char* route : {"call-control", "messaging", "numbers"}) {
    router.Add("POST", absl::StrCat("/webhooks/telnyx/", route),
               [this](const http::Request& r) { return HandleTelnyx(r); });
  }
}

http::Response WebhookHandler::Reject(int status, absl::string_view code,
                                      absl::string_view message, absl::string_view route) {
  registry_
      .GetCounter("carrier_webhooks_rejected_total", "Webhooks answered with 4xx/5xx",
                  {{"route", std::string(route)}, {"status", std::to_string(status)}})
      .Inc();
  log::Warn("webhook rejected", {{"route", std::string(route)},
                                 {"status", std::to_string(status)},
                                 {"reason", std::string(message)}});
  return http::Response::JsonError(status, code, message);
}

absl::StatusOr<std::string> WebhookHandler::ResolveCompany(
    const std::string& call_id, const std::string& account_id,
    const std::vector<std::string>& numbers) {
  // The account first: it is cached (found or not), and when one company owns it the answer
  // needs no query at all; a call id is asked only when several companies share the account
  // (a new call's id is never cached, so asking it first cost a query per new call).
  std::vector<AccountRow> accounts;
  if (!account_id.empty()) {
    absl::StatusOr<std::vector<AccountRow>> found =
        store_.FindAccountsByProviderAccountId(account_id);
    if (!found.ok()) return found.status();
    accounts = std::move(*found);
    if (accounts.size() == 1) return accounts[0].company_id;
  }
  if (!call_id.empty()) {
    absl::StatusOr<CallRow> call = store_.FindCall(call_id);
    if (call.ok()) return call->company_id;
    if (!absl::IsNotFound(call.status())) return call.status();
  }
  for (const std::string& n : numbers) {
    if (n.empty()) continue;
    absl::StatusOr<NumberRow> number = store_.FindNumber(n);
    if (number.ok()) return number->company_id;
    if (!absl::IsNotFound(number.status())) return number.status();
  }
  if (!accounts.empty()) return accounts[0].company_id;
  return absl::NotFoundError("no company for this webhook");
}

absl::StatusOr<bool> WebhookHandler::Record(const std::string& company_id, CarrierEvent& event,
                                            const BridgeChange& bridge) {
  event.company_id = company_id;
  events::v1::Event envelope = events::NewEvent(CarrierEventType(event), company_id,
                                                AggregateId(event), core_.options().source,
                                                clock_);
  CarrierEventToProto(event, envelope.mutable_carrier_event());
  std::optional<CallRow> call;
  if (std::holds_alternative<CallIncoming>(event.kind)) {
    const std::string& call_id =
        event.ids.call_control_id.empty() ? event.ids.call_sid : event.ids.call_control_id;
    if (!call_id.empty()) {
      call = CallRow{.call_id = call_id, .company_id = company_id,
                     .provider = std::string(ProviderName(event.provider))};
    }
  }
  // Dedupe row, outbox row and the call in one transaction (one statement on Postgres).
  absl::StatusOr<bool> fresh =
      store_.RecordWebhook(company_id, event.dedupe_key, envelope, call, bridge);
  if (!fresh.ok()) return fresh.status();
  registry_
      .GetCounter("carrier_webhooks_accepted_total", "Webhooks stored as carrier.v1 events",
                  {{"provider", ProviderName(event.provider)},
                   {"duplicate", *fresh ? "false" : "true"}})
      .Inc();
  return fresh;
}

absl::StatusOr<CallEventAnswer> WebhookHandler::InstructionsFor(
    const std::string& company_id, const CarrierEvent& event, absl::string_view current_id) {
  absl::StatusOr<CallEventAnswer> instructions =
      instructions_.ForCallEvent(company_id, event, current_id);
  if (!instructions.ok() && !absl::IsNotFound(instructions.status())) {
    log::Error("instructions lookup failed",
               {{"company_id", company_id},
                {"call_id", AggregateId(event)},
                {"error", std::string(instructions.status().message())}});
  }
  return instructions;
}

std::string WebhookHandler::TwimlFor(const std::string& company_id, TwilioWebhookKind kind,
                                     const CarrierEvent& event, const FormParams& query) {
  TwimlOptions opts = core_.TwilioTwimlOptions();
  // An action URL names the running set (i) and the verb that reported (s).
  std::string current_id;
  int step = -1;
  if (kind != TwilioWebhookKind::kVoice && absl::SimpleAtoi(Param(query, "s"), &step) &&
      step >= 0) {
    current_id = Param(query, "i");
  }
  // (The status route's child-leg callbacks carry i/s too: the source learns which set's Dial
  // was answered.) Twilio pulls, so a replayed answer is rendered like any other.
  absl::StatusOr<CallEventAnswer> answer = InstructionsFor(company_id, event, current_id);
  if (!AnswersWithInstructions(kind) || !answer.ok()) return kEmptyTwiml;
  // The same set continues after the verb that reported; a new set starts at its first verb.
  if (!current_id.empty() && answer->instructions.id == current_id) opts.start_index = step + 1;
  return RenderTwiml(answer->instructions, opts);
}

http::Response WebhookHandler::HandleTwilio(TwilioWebhookKind kind, const http::Request& request) {
  const std::string route = absl::StrCat("twilio/", TwilioRouteName(kind));
  if (!HasContentType(request, "application/x-www-form-urlencoded")) {
    return Reject(415, "unsupported_media_type",
                  "Content-Type must be application/x-www-form-urlencoded", route);
  }
  FormParams params = http::ParseForm(request.body);
  FormParams query = http::ParseQuery(request.query);
  for (const auto& [k, v] : params) {
    if (!ValidUtf8(k) || !ValidUtf8(v)) {
      return Reject(400, "invalid_argument", "body: invalid UTF-8", route);
    }
  }
  const std::string account_sid = Param(params, "AccountSid");
  if (account_sid.empty()) {
    return Reject(400, "invalid_argument", "AccountSid: required", route);
  }
  const bool outbound = absl::StartsWith(Param(params, "Direction"), "outbound");
  std::vector<std::string> numbers = outbound
      ? std::vector<std::string>{Param(params, "From"), Param(params, "To")}
      : std::vector<std::string>{Param(params, "To"), Param(params, "From")};
  // A dialled child leg's callback belongs to its parent call (the child's sid is not stored).
  const std::string parent_sid = Param(params, "ParentCallSid");
  absl::StatusOr<std::string> company = ResolveCompany(
      parent_sid.empty() ? Param(params, "CallSid") : parent_sid, account_sid, numbers);
  if (!company.ok() && !absl::IsNotFound(company.status())) {
    return Reject(503, "unavailable", "store unavailable; retry", route);
  }
  bool verified = false;
  if (company.ok()) {
    absl::StatusOr<std::shared_ptr<const CompanyCarrier>> carrier = core_.CarrierFor(*company);
    if (!carrier.ok() && absl::IsUnavailable(carrier.status())) {
      return Reject(503, "unavailable", "store unavailable; retry", route);
    }
    const std::string header = request.Header("X-Twilio-Signature").value_or("");
    const std::string url = absl::StrCat(core_.options().public_base_url, request.target);
    if (carrier.ok() && !header.empty()) {
      for (const ProviderConfig* c : {&(*carrier)->settings.primary,
                                      (*carrier)->settings.secondary.has_value()
                                          ? &*(*carrier)->settings.secondary
                                          : nullptr}) {
        if (c == nullptr || c->wire != Wire::kTwilio) continue;
        if (VerifyTwilioSignature(c->twilio.auth_token, url, params, header, request.body)) {
          verified = true;
          break;
        }
      }
    }
  }
  if (!verified) return Reject(403, "forbidden", "missing or invalid X-Twilio-Signature", route);

  absl::StatusOr<CarrierEvent> event = NormalizeTwilio(
      TwilioWebhook{.kind = kind, .params = params, .query = query, .received_at = clock_.Now()});
  if (absl::IsNotFound(event.status())) {
    registry_.GetCounter("carrier_webhooks_ignored_total", "Webhooks of types not turned into events",
                         {{"route", route}}).Inc();
    return Xml(kEmptyTwiml);
  }
  if (!event.ok()) return Reject(400, "invalid_argument", event.status().message(), route);
  // The bridge bookkeeping (ConferenceControl MOVE_BRIDGE): the answered child leg's callback
  // records A -> B (new deliveries only); A's Dial action (the Dial is over) and A's own end
  // remove it.
  BridgeChange bridge;
  if (const DialResult* dial = std::get_if<DialResult>(&event->kind); dial != nullptr) {
    if (dial->at_answer && !event->ids.parent_call_sid.empty() && !dial->dialed_call_id.empty()) {
      bridge = BridgeChange{.op = BridgeChange::Op::kSet, .a_leg = event->ids.parent_call_sid,
                            .b_leg = dial->dialed_call_id};
    } else if (!dial->at_answer && kind == TwilioWebhookKind::kDialAction) {
      bridge = BridgeChange{.op = BridgeChange::Op::kClear, .a_leg = event->ids.call_sid};
    }
  } else if (std::holds_alternative<CallCompleted>(event->kind) &&
             event->ids.parent_call_sid.empty()) {
    bridge = BridgeChange{.op = BridgeChange::Op::kClear, .a_leg = event->ids.call_sid};
  }
  absl::StatusOr<bool> recorded = Record(*company, *event, bridge);
  if (!recorded.ok()) {
    log::Error("webhook not stored", {{"route", route},
                                      {"error", std::string(recorded.status().message())}});
    return http::Response::JsonError(503, "unavailable", "event not stored; retry");
  }
  if (std::holds_alternative<ConferenceUpdate>(event->kind)) {
    // Routing learns of it (HandleCallEvent); its answer changes nothing here.
    (void)InstructionsFor(*company, *event, "");
    return Xml(kEmptyTwiml);
  }
  if (!IsCallEvent(event->kind)) return Xml(kEmptyTwiml);
  return Xml(TwimlFor(*company, kind, *event, query));
}

http::Response WebhookHandler::HandleTelnyx(const http::Request& request) {
  const std::string route = absl::StrCat("telnyx", request.path.substr(request.path.rfind('/')));
  if (!HasContentType(request, "application/json")) {
    return Reject(415, "unsupported_media_type", "Content-Type must be application/json", route);
  }
  if (!ValidUtf8(request.body)) return Reject(400, "invalid_argument", "body: invalid UTF-8", route);
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("data") ||
      !body["data"].is_object()) {
    return Reject(400, "invalid_argument", "data: required JSON object", route);
  }
  const json& data = body["data"];
  const json payload = data.contains("payload") ? data["payload"] : json::object();
  std::vector<std::string> numbers;
  const bool outgoing = JsonStr(payload, "direction") == "outgoing" ||
                        JsonStr(payload, "direction") == "outbound";
  if (payload.is_object()) {
    for (const char* key : outgoing ? std::vector<const char*>{"from", "to", "phone_numbers"}
                                    : std::vector<const char*>{"to", "from", "phone_numbers"}) {
      if (payload.contains(key)) CollectNumbers(payload[key], &numbers);
    }
  }
  absl::StatusOr<std::string> company = ResolveCompany(
      JsonStr(payload, "call_control_id"), JsonStr(payload, "connection_id"), numbers);
  if (!company.ok() && !absl::IsNotFound(company.status())) {
    return Reject(503, "unavailable", "store unavailable; retry", route);
  }
  bool verified = false;
  if (company.ok()) {
    absl::StatusOr<std::shared_ptr<const CompanyCarrier>> carrier = core_.CarrierFor(*company);
    if (!carrier.ok() && absl::IsUnavailable(carrier.status())) {
      return Reject(503, "unavailable", "store unavailable; retry", route);
    }
    const std::string signature = request.Header("telnyx-signature-ed25519").value_or("");
    const std::string timestamp = request.Header("telnyx-timestamp").value_or("");
    if (carrier.ok()) {
      for (const ProviderConfig* c : {&(*carrier)->settings.primary,
                                      (*carrier)->settings.secondary.has_value()
                                          ? &*(*carrier)->settings.secondary
                                          : nullptr}) {
        if (c == nullptr || c->wire != Wire::kTelnyx) continue;
        if (VerifyTelnyxSignature(c->telnyx.public_key, signature, timestamp, request.body,
                                  clock_.Now())
                .ok()) {
          verified = true;
          break;
        }
      }
    }
  }
  if (!verified) {
    return Reject(403, "forbidden", "missing or invalid telnyx-signature-ed25519", route);
  }
  absl::StatusOr<CarrierEvent> event = NormalizeTelnyx(request.body);
  if (absl::IsNotFound(event.status())) {
    registry_.GetCounter("carrier_webhooks_ignored_total", "Webhooks of types not turned into events",
                         {{"route", route}}).Inc();
    return http::Response::Json(200, "{}");
  }
  if (!event.ok()) return Reject(400, "invalid_argument", event.status().message(), route);
  if (std::holds_alternative<ConferenceUpdate>(event->kind) ||
      DecodeConferenceLegState(event->client_state).has_value()) {
    return HandleTelnyxConference(*company, *event, route);
  }
  // The bridge bookkeeping of a transfer's target leg (CarrierCore::InstructCall): its answer
  // records it as the A leg's bridged leg, its end removes it, as does the A leg's own end.
  BridgeChange bridge;
  bool bridge_ended = false;
  if (const DialResult* dial = std::get_if<DialResult>(&event->kind);
      dial != nullptr && !event->ids.parent_call_sid.empty() && !dial->dialed_call_id.empty()) {
    bridge = BridgeChange{.op = dial->at_answer ? BridgeChange::Op::kSet
                                                : BridgeChange::Op::kClear,
                          .a_leg = event->ids.parent_call_sid,
                          .b_leg = dial->dialed_call_id};
    if (!dial->at_answer) {
      // Was it still the A leg's bridged leg (not one ModifyCall INSTRUCT dropped)? Asked
      // before the webhook's transaction removes it.
      absl::StatusOr<std::string> bridged = store_.GetBridgedLeg(*company, bridge.a_leg);
      if (!bridged.ok() && !absl::IsNotFound(bridged.status())) {
        return Reject(503, "unavailable", "store unavailable; retry", route);
      }
      bridge_ended = bridged.ok() && *bridged == bridge.b_leg;
    }
  } else if (std::holds_alternative<CallCompleted>(event->kind) &&
             !event->ids.call_control_id.empty()) {
    bridge = BridgeChange{.op = BridgeChange::Op::kClear, .a_leg = event->ids.call_control_id};
  }
  absl::StatusOr<bool> recorded = Record(*company, *event, bridge);
  if (!recorded.ok()) {
    log::Error("webhook not stored", {{"route", route},
                                      {"error", std::string(recorded.status().message())}});
    return http::Response::JsonError(503, "unavailable", "event not stored; retry");
  }
  // Duplicates re-issue the same commands (same command_id): Telnyx drops the repeats.
  PlanTelnyx(*company, *event, bridge_ended);
  return http::Response::Json(200, "{}");
}

http::Response WebhookHandler::HandleTelnyxConference(const std::string& company_id,
                                                      CarrierEvent& event,
                                                      const std::string& route) {
  auto unavailable = [&](const absl::Status& status) {
    log::Error("conference webhook: store failed",
               {{"route", route}, {"error", std::string(status.message())}});
    return http::Response::JsonError(503, "unavailable", "store unavailable; retry");
  };
  bool forward = false;
  std::optional<TelnyxCommand> join;
  if (auto* update = std::get_if<ConferenceUpdate>(&event.kind); update != nullptr) {
    // conference.*: the name from our conference table (by id; A's own join may come before
    // Telnyx answered the create, then through A's leg).
    absl::StatusOr<ConferenceRow> conference =
        store_.FindConference(company_id, update->provider_conference_id, update->leg);
    if (absl::IsNotFound(conference.status())) {
      registry_.GetCounter("carrier_webhooks_ignored_total",
                           "Webhooks of types not turned into events", {{"route", route}})
          .Inc();
      log::Warn("conference webhook of an unknown conference ignored",
                {{"company_id", company_id},
                 {"conference_id", update->provider_conference_id}});
      return http::Response::Json(200, "{}");
    }
    if (!conference.ok()) return unavailable(conference.status());
    update->conference = conference->name;
    if (update->kind == ConferenceUpdateKind::kJoined) {
      absl::StatusOr<bool> marked = store_.MarkConferenceLegJoined(company_id, update->leg);
      if (!marked.ok()) return unavailable(marked.status());
    }
    forward = true;
  } else {
    // A leg ConferenceControl ADD dialled: never an ordinary call event (routing does not know
    // the leg). Its answer joins it to the conference; its end before joining is NOT_ANSWERED;
    // anything else is only recorded.
    const ConferenceLegState leg = *DecodeConferenceLegState(event.client_state);
    if (std::holds_alternative<CallAnswered>(event.kind)) {
      join = TelnyxCommand{.call_control_id = event.ids.call_control_id,
                           .action = "join",
                           .body = json{{"call_control_id", event.ids.call_control_id}},
                           .conference_id = leg.conference_id};
    } else if (std::holds_alternative<CallCompleted>(event.kind)) {
      absl::StatusOr<bool> joined =
          store_.ConferenceLegJoined(company_id, event.ids.call_control_id);
      if (!joined.ok() && !absl::IsNotFound(joined.status())) return unavailable(joined.status());
      if (!joined.ok() || !*joined) {
        event.kind = ConferenceUpdate{.conference = leg.conference,
                                      .leg = event.ids.call_control_id,
                                      .kind = ConferenceUpdateKind::kNotAnswered,
                                      .to = event.to,
                                      .reason = NotAnsweredReason(event.provider_status),
                                      .provider_conference_id = leg.conference_id};
        forward = true;
      }
    }
  }
  absl::StatusOr<bool> recorded = Record(company_id, event, BridgeChange{});
  if (!recorded.ok()) {
    log::Error("webhook not stored", {{"route", route},
                                      {"error", std::string(recorded.status().message())}});
    return http::Response::JsonError(503, "unavailable", "event not stored; retry");
  }
  // Never a plan (whatever client_state the event carries); routing learns of the update.
  if (forward) (void)InstructionsFor(company_id, event, "");
  if (join.has_value()) Enqueue(Job{company_id, *std::move(join)});
  return http::Response::Json(200, "{}");
}

void WebhookHandler::PlanTelnyx(const std::string& company_id, const CarrierEvent& event,
                                bool bridge_ended) {
  if (event.ids.call_control_id.empty() || !IsCallEvent(event.kind)) return;
  // Our client_state names the running set and step; anything else is a call without a plan.
  std::optional<TelnyxPlanState> state;
  if (!event.client_state.empty()) {
    absl::StatusOr<TelnyxPlanState> decoded =
        DecodeClientState(crypto::Base64Encode(event.client_state));
    if (decoded.ok()) state = *decoded;
  }
  const bool incoming = std::holds_alternative<CallIncoming>(event.kind);
  absl::StatusOr<CallEventAnswer> answer =
      InstructionsFor(company_id, event, state.has_value() ? state->instructions_id : "");
  if (!answer.ok()) {
    if (incoming) {
      log::Warn("no instructions for incoming call; hanging up",
                {{"company_id", company_id}, {"to", event.to}});
      Enqueue(Job{company_id, TelnyxCommand{.call_control_id = event.ids.call_control_id,
                                            .action = "hangup",
                                            .body = json::object()}});
    }
    return;
  }
  const CallInstructions& instr = answer->instructions;
  auto skip = [&](const char* reason) {
    registry_.GetCounter("carrier_telnyx_plan_skipped_total",
                         "Telnyx call events on which no plan was started or resumed",
                         {{"reason", reason}}).Inc();
    log::Debug("telnyx plan: nothing to start", {{"company_id", company_id},
                                                 {"call_control_id", event.ids.call_control_id},
                                                 {"reason", reason}});
  };
  // The dialled leg answered: the source now knows who, and nothing runs on the A leg while
  // the bridge is up (the plan resumes with that leg's end; ModifyCall INSTRUCT replaces it).
  if (const DialResult* dial = std::get_if<DialResult>(&event.kind);
      dial != nullptr && dial->at_answer) {
    skip("dial_leg_answered");
    return;
  }
  absl::StatusOr<TelnyxPlanOutput> plan = absl::NotFoundError("no plan");
  if (state.has_value() && state->instructions_id == instr.id) {
    plan = NextTelnyxCommands(instr, *state, event, core_.options().telnyx_plan);
  } else {
    // A new set: on the leg that runs the plan (the A leg when a dialled leg reported), with an
    // answer step only for a call not answered yet. Nothing starts on a leg that has ended.
    const bool dial_leg = state.has_value() && state->dial_leg;
    const bool own_leg_ended = std::holds_alternative<CallCompleted>(event.kind) && !dial_leg;
    if (own_leg_ended) return;
    // Without a plan state only a new call starts one (incoming, or a placed call answered);
    // e.g. the recording of an on-demand record_start carries none and changes nothing.
    if (!state.has_value() && !incoming && !std::holds_alternative<CallAnswered>(event.kind)) {
      skip("no_plan_state");
      return;
    }
    // A stale result (its set was replaced): whoever made the current set started it. Except
    // the end of the A leg's bridged leg: the set made at its answer was held back until now.
    if (answer->replayed && state.has_value() && !bridge_ended) {
      skip("replayed");
      return;
    }
    // An event of the A leg itself while it is bridged (e.g. an on-demand recording's): the
    // bridge goes on; only ModifyCall INSTRUCT changes what the A leg does.
    if (!dial_leg && !incoming) {
      absl::StatusOr<std::string> bridged =
          store_.GetBridgedLeg(company_id, event.ids.call_control_id);
      if (bridged.ok() || !absl::IsNotFound(bridged.status())) {
        if (!bridged.ok()) {
          log::Error("telnyx plan: bridge lookup failed; nothing started",
                     {{"company_id", company_id},
                      {"error", std::string(bridged.status().message())}});
        }
        skip("bridged");
        return;
      }
    }
    const std::string leg = dial_leg ? state->a_leg_call_control_id : event.ids.call_control_id;
    plan = StartTelnyxPlan(instr, leg, /*answer=*/incoming, core_.options().telnyx_plan);
  }
  if (!plan.ok()) {
    log::Error("telnyx plan failed", {{"company_id", company_id},
                                      {"error", std::string(plan.status().message())}});
    return;
  }
  if (plan->conference.has_value()) {
    registry_.GetCounter("carrier_telnyx_plan_skipped_total",
                         "Telnyx call events on which no plan was started or resumed",
                         {{"reason", "conference_dial"}}).Inc();
    log::Warn("telnyx plan reached a Dial of a conference; Call Control cannot join one by "
              "name (ConferenceControl puts legs into conferences); nothing sent",
              {{"company_id", company_id}, {"conference", *plan->conference}});
  }
  if (plan->redirect_url.has_value()) {
    log::Warn("telnyx plan reached a Redirect; Call Control cannot fetch remote instructions "
              "(use ModifyCall INSTRUCT)",
              {{"company_id", company_id}});
  }
  for (TelnyxCommand& c : plan->commands) Enqueue(Job{company_id, std::move(c)});
}

void WebhookHandler::Enqueue(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_ && queue_.size() < options_.command_queue_limit) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  registry_.GetCounter("carrier_telnyx_commands_total", "Call Control commands by result",
                       {{"result", "dropped"}}).Inc();
  log::Error("telnyx command dropped (queue full or stopping)",
             {{"company_id", job.company_id}, {"action", job.command.action}});
}

void WebhookHandler::Worker() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    absl::Status sent = absl::FailedPreconditionError("company has no Telnyx provider");
    absl::StatusOr<std::shared_ptr<const CompanyCarrier>> carrier = core_.CarrierFor(job.company_id);
    if (!carrier.ok()) {
      sent = carrier.status();
    } else if ((*carrier)->telnyx != nullptr && !job.command.conference_id.empty()) {
      sent = (*carrier)->telnyx->ExecuteConferenceCommand(job.command.conference_id,
                                                          job.command.action, job.command.body);
    } else if ((*carrier)->telnyx != nullptr) {
      sent = (*carrier)->telnyx->ExecuteCallCommand(job.command.call_control_id,
                                                    job.command.action, job.command.body);
    }
    // A hangup racing the caller's own hang-up finds the call already ended (Telnyx 90018,
    // kFailedPrecondition): what the command wanted is done, so it is not an error.
    const bool already_ended = !sent.ok() && job.command.action == "hangup" &&
                               sent.code() == absl::StatusCode::kFailedPrecondition;
    registry_.GetCounter("carrier_telnyx_commands_total", "Call Control commands by result",
                         {{"result", sent.ok() ? "ok" : already_ended ? "already_ended" : "error"}})
        .Inc();
    if (!sent.ok() && !already_ended) {
      log::Error("telnyx command failed", {{"company_id", job.company_id},
                                           {"action", job.command.action},
                                           {"error", std::string(sent.message())}});
    }
    commands_done_.fetch_add(1);
  }
}

}  // namespace switchboard::carrier
