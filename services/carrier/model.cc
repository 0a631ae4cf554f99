#include "services/carrier/model.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace switchboard::carrier {

const char* ProviderName(Provider p) {
  switch (p) {
    case Provider::kTwilio: return "twilio";
    case Provider::kTelnyx: return "telnyx";
    case Provider::kEmulator: return "emulator";
    case Provider::kUnspecified: break;
  }
  return "unspecified";
}

const char* CallEndReasonName(CallEndReason r) {
  switch (r) {
    case CallEndReason::kCompleted: return "completed";
    case CallEndReason::kBusy: return "busy";
    case CallEndReason::kNoAnswer: return "no-answer";
    case CallEndReason::kFailed: return "failed";
    case CallEndReason::kCanceled: return "canceled";
  }
  return "failed";
}

const char* DialStatusName(DialStatus s) {
  switch (s) {
    case DialStatus::kAnswered: return "answered";
    case DialStatus::kNoAnswer: return "no-answer";
    case DialStatus::kBusy: return "busy";
    case DialStatus::kFailed: return "failed";
    case DialStatus::kCanceled: return "canceled";
  }
  return "failed";
}

const char* SmsDeliveryStatusName(SmsDeliveryStatus s) {
  switch (s) {
    case SmsDeliveryStatus::kQueued: return "queued";
    case SmsDeliveryStatus::kSent: return "sent";
    case SmsDeliveryStatus::kDelivered: return "delivered";
    case SmsDeliveryStatus::kUndelivered: return "undelivered";
    case SmsDeliveryStatus::kFailed: return "failed";
  }
  return "failed";
}

const char* NumberOrderStateName(NumberOrderState s) {
  switch (s) {
    case NumberOrderState::kPending: return "pending";
    case NumberOrderState::kSuccess: return "success";
    case NumberOrderState::kFailure: return "failure";
  }
  return "failure";
}

const char* PortStateName(PortState s) {
  switch (s) {
    case PortState::kDraft: return "draft";
    case PortState::kInProcess: return "in-process";
    case PortState::kSubmitted: return "submitted";
    case PortState::kException: return "exception";
    case PortState::kFocDateConfirmed: return "foc-date-confirmed";
    case PortState::kPorted: return "ported";
    case PortState::kCancelled: return "cancelled";
    case PortState::kCancelPending: return "cancel-pending";
  }
  return "exception";
}

const char* ConferenceUpdateKindName(ConferenceUpdateKind k) {
  switch (k) {
    case ConferenceUpdateKind::kJoined: return "joined";
    case ConferenceUpdateKind::kLeft: return "left";
    case ConferenceUpdateKind::kNotAnswered: return "not-answered";
    case ConferenceUpdateKind::kEnded: return "ended";
  }
  return "ended";
}

absl::Status ValidateConferenceName(absl::string_view field, absl::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be 1-64 characters"));
  }
  for (char ch : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') {
      return absl::InvalidArgumentError(absl::StrCat(field, ": must be [A-Za-z0-9_-]"));
    }
  }
  return absl::OkStatus();
}

bool IsCallEvent(const CarrierEventKind& kind) {
  return std::holds_alternative<CallIncoming>(kind) || std::holds_alternative<CallAnswered>(kind) ||
         std::holds_alternative<CallCompleted>(kind) ||
         std::holds_alternative<DigitsGathered>(kind) ||
         std::holds_alternative<DialResult>(kind) || std::holds_alternative<RecordingReady>(kind) ||
         std::holds_alternative<PromptEnded>(kind);
}

}  // namespace switchboard::carrier
