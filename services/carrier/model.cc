#include "services/carrier/model.h"

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

bool IsCallEvent(const CarrierEventKind& kind) {
  return std::holds_alternative<CallIncoming>(kind) || std::holds_alternative<CallAnswered>(kind) ||
         std::holds_alternative<CallCompleted>(kind) ||
         std::holds_alternative<DigitsGathered>(kind) ||
         std::holds_alternative<DialResult>(kind) || std::holds_alternative<RecordingReady>(kind) ||
         std::holds_alternative<PromptEnded>(kind);
}

}  // namespace switchboard::carrier
