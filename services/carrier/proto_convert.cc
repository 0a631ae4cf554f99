#include "services/carrier/proto_convert.h"

#include <type_traits>

#include "absl/strings/str_cat.h"

namespace switchboard::carrier {
namespace {

v1::Say SayToProto(const Say& s) {
  v1::Say p;
  p.set_text(s.text);
  p.set_voice(s.voice);
  p.set_language(s.language);
  p.set_loop(s.loop);
  return p;
}
Say SayFromProto(const v1::Say& p) {
  return Say{.text = p.text(), .voice = p.voice(), .language = p.language(), .loop = p.loop()};
}
v1::Play PlayToProto(const Play& s) {
  v1::Play p;
  p.set_url(s.url);
  p.set_loop(s.loop);
  return p;
}
Play PlayFromProto(const v1::Play& p) { return Play{.url = p.url(), .loop = p.loop()}; }

struct ToProto {
  v1::Instruction* out;
  void operator()(const Say& s) const { *out->mutable_say() = SayToProto(s); }
  void operator()(const Play& s) const { *out->mutable_play() = PlayToProto(s); }
  void operator()(const Gather& g) const {
    v1::Gather* p = out->mutable_gather();
    p->set_num_digits(g.num_digits);
    p->set_timeout_s(g.timeout_s);
    if (g.finish_on_key.has_value()) p->set_finish_on_key(*g.finish_on_key);
    for (const Prompt& prompt : g.prompts) {
      v1::Prompt* pp = p->add_prompts();
      if (const Say* say = std::get_if<Say>(&prompt)) {
        *pp->mutable_say() = SayToProto(*say);
      } else {
        *pp->mutable_play() = PlayToProto(std::get<Play>(prompt));
      }
    }
  }
  void operator()(const Dial& d) const {
    v1::Dial* p = out->mutable_dial();
    for (const DialTarget& t : d.targets) {
      v1::DialTarget* pt = p->add_targets();
      switch (t.kind) {
        case DialTarget::Kind::kNumber: pt->set_number(t.value); break;
        case DialTarget::Kind::kClient: pt->set_client(t.value); break;
        case DialTarget::Kind::kSip: pt->set_sip(t.value); break;
        case DialTarget::Kind::kConference:
          pt->mutable_conference()->set_name(t.value);
          pt->mutable_conference()->set_end_on_exit(t.end_on_exit);
          break;
      }
    }
    p->set_timeout_s(d.timeout_s);
    p->set_caller_id(d.caller_id);
    p->set_record(d.record);
  }
  void operator()(const Record& r) const {
    v1::Record* p = out->mutable_record();
    p->set_max_length_s(r.max_length_s);
    p->set_play_beep(r.play_beep);
    if (r.finish_on_key.has_value()) p->set_finish_on_key(*r.finish_on_key);
    p->set_timeout_s(r.timeout_s);
  }
  void operator()(const Redirect& r) const { out->mutable_redirect()->set_url(r.url); }
  void operator()(const Pause& r) const { out->mutable_pause()->set_length_s(r.length_s); }
  void operator()(const Hangup&) const { out->mutable_hangup(); }
};

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Time TimeFromProto(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return absl::InfinitePast();
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

template <typename Proto, typename Enum>
absl::StatusOr<Enum> EnumFromProto(Proto value, Proto base, const char* field) {
  int offset = static_cast<int>(value) - static_cast<int>(base);
  if (offset < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": unspecified"));
  return static_cast<Enum>(offset);
}

}  // namespace

absl::StatusOr<CallInstructions> CallInstructionsFromProto(const v1::CallInstructions& proto) {
  CallInstructions out{.id = proto.id()};
  for (int i = 0; i < proto.instructions_size(); ++i) {
    const v1::Instruction& in = proto.instructions(i);
    std::string path = absl::StrCat("instructions[", i, "]");
    switch (in.instruction_case()) {
      case v1::Instruction::kSay: out.instructions.push_back(SayFromProto(in.say())); break;
      case v1::Instruction::kPlay: out.instructions.push_back(PlayFromProto(in.play())); break;
      case v1::Instruction::kGather: {
        const v1::Gather& g = in.gather();
        Gather gather{.num_digits = g.num_digits(), .timeout_s = g.timeout_s()};
        if (g.has_finish_on_key()) gather.finish_on_key = g.finish_on_key();
        for (int k = 0; k < g.prompts_size(); ++k) {
          const v1::Prompt& p = g.prompts(k);
          if (p.has_say()) {
            gather.prompts.push_back(SayFromProto(p.say()));
          } else if (p.has_play()) {
            gather.prompts.push_back(PlayFromProto(p.play()));
          } else {
            return Invalid(absl::StrCat(path, ".gather.prompts[", k, "]"), "empty prompt");
          }
        }
        out.instructions.push_back(std::move(gather));
        break;
      }
      case v1::Instruction::kDial: {
        const v1::Dial& d = in.dial();
        Dial dial{.timeout_s = d.timeout_s(), .caller_id = d.caller_id(), .record = d.record()};
        for (int k = 0; k < d.targets_size(); ++k) {
          const v1::DialTarget& t = d.targets(k);
          switch (t.target_case()) {
            case v1::DialTarget::kNumber:
              dial.targets.push_back({DialTarget::Kind::kNumber, t.number()});
              break;
            case v1::DialTarget::kClient:
              dial.targets.push_back({DialTarget::Kind::kClient, t.client()});
              break;
            case v1::DialTarget::kSip:
              dial.targets.push_back({DialTarget::Kind::kSip, t.sip()});
              break;
            case v1::DialTarget::kConference:
              dial.targets.push_back({.kind = DialTarget::Kind::kConference,
                                      .value = t.conference().name(),
                                      .end_on_exit = t.conference().end_on_exit()});
              break;
            case v1::DialTarget::TARGET_NOT_SET:
              return Invalid(absl::StrCat(path, ".dial.targets[", k, "]"), "no target");
          }
        }
        out.instructions.push_back(std::move(dial));
        break;
      }
      case v1::Instruction::kRecord: {
        const v1::Record& r = in.record();
        Record record{.max_length_s = r.max_length_s(),
                      .play_beep = r.has_play_beep() ? r.play_beep() : true,
                      .timeout_s = r.timeout_s()};
        if (r.has_finish_on_key()) record.finish_on_key = r.finish_on_key();
        out.instructions.push_back(std::move(record));
        break;
      }
      case v1::Instruction::kRedirect:
        out.instructions.push_back(Redirect{.url = in.redirect().url()});
        break;
      case v1::Instruction::kPause:
        out.instructions.push_back(Pause{.length_s = in.pause().length_s()});
        break;
      case v1::Instruction::kHangup: out.instructions.push_back(Hangup{}); break;
      case v1::Instruction::INSTRUCTION_NOT_SET: return Invalid(path, "empty instruction");
    }
  }
  return out;
}

void CallInstructionsToProto(const CallInstructions& in, v1::CallInstructions* out) {
  out->Clear();
  out->set_id(in.id);
  for (const Instruction& instruction : in.instructions) {
    std::visit(ToProto{out->add_instructions()}, instruction);
  }
}

void CarrierEventToProto(const CarrierEvent& in, v1::CarrierEvent* out) {
  out->Clear();
  out->set_provider(static_cast<v1::Provider>(static_cast<int>(in.provider)));
  v1::ProviderIds* ids = out->mutable_ids();
  ids->set_account_id(in.ids.account_id);
  ids->set_call_sid(in.ids.call_sid);
  ids->set_parent_call_sid(in.ids.parent_call_sid);
  ids->set_call_control_id(in.ids.call_control_id);
  ids->set_call_session_id(in.ids.call_session_id);
  ids->set_call_leg_id(in.ids.call_leg_id);
  ids->set_message_id(in.ids.message_id);
  ids->set_order_id(in.ids.order_id);
  ids->set_port_order_id(in.ids.port_order_id);
  ids->set_event_id(in.ids.event_id);
  out->set_company_id(in.company_id);
  out->set_from(in.from);
  out->set_to(in.to);
  out->set_direction(static_cast<v1::CallDirection>(static_cast<int>(in.direction)));
  if (in.occurred_at != absl::InfinitePast()) {
    absl::Duration since = in.occurred_at - absl::UnixEpoch();
    int64_t seconds = absl::ToInt64Seconds(since);
    out->mutable_occurred_at()->set_seconds(seconds);
    out->mutable_occurred_at()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(since - absl::Seconds(seconds))));
  }
  out->set_dedupe_key(in.dedupe_key);
  out->set_client_state(in.client_state);
  out->set_provider_status(in.provider_status);
  std::visit(
      [out](const auto& k) {
        using T = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<T, CallIncoming>) {
          out->mutable_call_incoming()->set_caller_name(k.caller_name);
        } else if constexpr (std::is_same_v<T, CallAnswered>) {
          out->mutable_call_answered();
        } else if constexpr (std::is_same_v<T, CallCompleted>) {
          v1::CallCompleted* p = out->mutable_call_completed();
          p->set_reason(static_cast<v1::CallEndReason>(static_cast<int>(k.reason) + 1));
          p->set_duration_s(k.duration_s);
          p->set_provider_cause(k.provider_cause);
        } else if constexpr (std::is_same_v<T, DigitsGathered>) {
          out->mutable_digits_gathered()->set_digits(k.digits);
          out->mutable_digits_gathered()->set_timed_out(k.timed_out);
        } else if constexpr (std::is_same_v<T, DialResult>) {
          v1::DialResult* p = out->mutable_dial_result();
          p->set_status(static_cast<v1::DialStatus>(static_cast<int>(k.status) + 1));
          p->set_dialed(k.dialed);
          p->set_dialed_call_id(k.dialed_call_id);
          p->set_duration_s(k.duration_s);
        } else if constexpr (std::is_same_v<T, RecordingReady>) {
          v1::RecordingReady* p = out->mutable_recording_ready();
          p->set_recording_id(k.recording_id);
          p->set_url(k.url);
          p->set_duration_s(k.duration_s);
          p->set_format(k.format);
        } else if constexpr (std::is_same_v<T, PromptEnded>) {
          out->mutable_prompt_ended()->set_status(k.status);
        } else if constexpr (std::is_same_v<T, SmsReceived>) {
          v1::SmsReceived* p = out->mutable_sms_received();
          p->set_body(k.body);
          for (const std::string& url : k.media_urls) p->add_media_urls(url);
        } else if constexpr (std::is_same_v<T, SmsStatus>) {
          v1::SmsStatus* p = out->mutable_sms_status();
          p->set_status(static_cast<v1::SmsDeliveryStatus>(static_cast<int>(k.status) + 1));
          p->set_error_code(k.error_code);
        } else if constexpr (std::is_same_v<T, NumberOrderStatus>) {
          v1::NumberOrderStatus* p = out->mutable_number_order_status();
          p->set_order_id(k.order_id);
          p->set_status(static_cast<v1::NumberOrderState>(static_cast<int>(k.status) + 1));
          for (const std::string& n : k.numbers) p->add_numbers(n);
        } else if constexpr (std::is_same_v<T, PortStatus>) {
          v1::PortStatus* p = out->mutable_port_status();
          p->set_port_order_id(k.port_order_id);
          p->set_status(static_cast<v1::PortState>(static_cast<int>(k.status) + 1));
          p->set_reason(k.reason);
        } else if constexpr (std::is_same_v<T, ConferenceUpdate>) {
          v1::ConferenceUpdate* p = out->mutable_conference_update();
          p->set_conference(k.conference);
          p->set_leg(k.leg);
          p->set_kind(static_cast<v1::ConferenceUpdate::Kind>(static_cast<int>(k.kind) + 1));
          p->set_to(k.to);
          p->set_reason(k.reason);
        }
      },
      in.kind);
}

absl::StatusOr<CarrierEvent> CarrierEventFromProto(const v1::CarrierEvent& proto) {
  CarrierEvent e;
  e.provider = static_cast<Provider>(static_cast<int>(proto.provider()));
  const v1::ProviderIds& ids = proto.ids();
  e.ids = ProviderIds{.account_id = ids.account_id(),
                      .call_sid = ids.call_sid(),
                      .parent_call_sid = ids.parent_call_sid(),
                      .call_control_id = ids.call_control_id(),
                      .call_session_id = ids.call_session_id(),
                      .call_leg_id = ids.call_leg_id(),
                      .message_id = ids.message_id(),
                      .order_id = ids.order_id(),
                      .port_order_id = ids.port_order_id(),
                      .event_id = ids.event_id()};
  e.company_id = proto.company_id();
  e.from = proto.from();
  e.to = proto.to();
  e.direction = static_cast<CallDirection>(static_cast<int>(proto.direction()));
  e.occurred_at = proto.has_occurred_at() ? TimeFromProto(proto.occurred_at())
                                          : absl::InfinitePast();
  e.dedupe_key = proto.dedupe_key();
  e.client_state = proto.client_state();
  e.provider_status = proto.provider_status();
  switch (proto.kind_case()) {
    case v1::CarrierEvent::kCallIncoming:
      e.kind = CallIncoming{.caller_name = proto.call_incoming().caller_name()};
      break;
    case v1::CarrierEvent::kCallAnswered: e.kind = CallAnswered{}; break;
    case v1::CarrierEvent::kCallCompleted: {
      const auto& p = proto.call_completed();
      absl::StatusOr<CallEndReason> reason = EnumFromProto<v1::CallEndReason, CallEndReason>(
          p.reason(), v1::CALL_END_COMPLETED, "call_completed.reason");
      if (!reason.ok()) return reason.status();
      e.kind = CallCompleted{.reason = *reason, .duration_s = p.duration_s(),
                             .provider_cause = p.provider_cause()};
      break;
    }
    case v1::CarrierEvent::kDigitsGathered:
      e.kind = DigitsGathered{.digits = proto.digits_gathered().digits(),
                              .timed_out = proto.digits_gathered().timed_out()};
      break;
    case v1::CarrierEvent::kDialResult: {
      const auto& p = proto.dial_result();
      absl::StatusOr<DialStatus> status = EnumFromProto<v1::DialStatus, DialStatus>(
          p.status(), v1::DIAL_ANSWERED, "dial_result.status");
      if (!status.ok()) return status.status();
      e.kind = DialResult{.status = *status, .dialed = p.dialed(),
                          .dialed_call_id = p.dialed_call_id(), .duration_s = p.duration_s()};
      break;
    }
    case v1::CarrierEvent::kRecordingReady: {
      const auto& p = proto.recording_ready();
      e.kind = RecordingReady{.recording_id = p.recording_id(), .url = p.url(),
                              .duration_s = p.duration_s(), .format = p.format()};
      break;
    }
    case v1::CarrierEvent::kPromptEnded:
      e.kind = PromptEnded{.status = proto.prompt_ended().status()};
      break;
    case v1::CarrierEvent::kSmsReceived: {
      SmsReceived sms{.body = proto.sms_received().body()};
      for (const std::string& url : proto.sms_received().media_urls()) sms.media_urls.push_back(url);
      e.kind = std::move(sms);
      break;
    }
    case v1::CarrierEvent::kSmsStatus: {
      absl::StatusOr<SmsDeliveryStatus> status =
          EnumFromProto<v1::SmsDeliveryStatus, SmsDeliveryStatus>(
              proto.sms_status().status(), v1::SMS_QUEUED, "sms_status.status");
      if (!status.ok()) return status.status();
      e.kind = SmsStatus{.status = *status, .error_code = proto.sms_status().error_code()};
      break;
    }
    case v1::CarrierEvent::kNumberOrderStatus: {
      const auto& p = proto.number_order_status();
      absl::StatusOr<NumberOrderState> status =
          EnumFromProto<v1::NumberOrderState, NumberOrderState>(
              p.status(), v1::NUMBER_ORDER_PENDING, "number_order_status.status");
      if (!status.ok()) return status.status();
      NumberOrderStatus out{.order_id = p.order_id(), .status = *status};
      for (const std::string& n : p.numbers()) out.numbers.push_back(n);
      e.kind = std::move(out);
      break;
    }
    case v1::CarrierEvent::kPortStatus: {
      const auto& p = proto.port_status();
      absl::StatusOr<PortState> status = EnumFromProto<v1::PortState, PortState>(
          p.status(), v1::PORT_DRAFT, "port_status.status");
      if (!status.ok()) return status.status();
      e.kind = PortStatus{.port_order_id = p.port_order_id(), .status = *status,
                          .reason = p.reason()};
      break;
    }
    case v1::CarrierEvent::kConferenceUpdate: {
      const auto& p = proto.conference_update();
      absl::StatusOr<ConferenceUpdateKind> kind =
          EnumFromProto<v1::ConferenceUpdate::Kind, ConferenceUpdateKind>(
              p.kind(), v1::ConferenceUpdate::JOINED, "conference_update.kind");
      if (!kind.ok()) return kind.status();
      e.kind = ConferenceUpdate{.conference = p.conference(), .leg = p.leg(), .kind = *kind,
                                .to = p.to(), .reason = p.reason()};
      break;
    }
    case v1::CarrierEvent::kProviderFailover:
      // Emitted by the service itself (failover observer), never a normalised webhook.
      return absl::InvalidArgumentError("kind: provider_failover is not a webhook event");
    case v1::CarrierEvent::KIND_NOT_SET: return absl::InvalidArgumentError("kind: not set");
  }
  return e;
}

}  // namespace switchboard::carrier
