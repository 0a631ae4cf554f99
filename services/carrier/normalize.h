// Normalisation of carrier webhooks into CarrierEvent (carriers.md §1-3). Pure functions,
// thread-safe. Signatures are checked before (signature.h); these functions trust the input
// only as far as its shape goes.
//
// Result codes (what the listener answers):
//   OK               -> store the event (outbox), 200
//   kInvalidArgument -> a required field is missing or malformed; message names the field; 400
//   kNotFound        -> an event type / status this service does not turn into an event
//                       (unknown or intentionally ignored, e.g. "ringing", the A leg's
//                       call.bridged);
//                       acknowledge 200 and count it (the carriers add new types)
//
// Dedupe keys (equal for redeliveries of one provider event):
//   Twilio voice           twilio:voice:<CallSid>
//          call status     twilio:status:<CallSid>:<CallStatus>[:<SequenceNumber>]
//          dialled leg ans. twilio:dial-answered:<ParentCallSid>:<CallSid>
//          gather action   twilio:gather:<CallSid>:<i>:<s>   (i, s = action URL query)
//          dial action     twilio:dial:<CallSid>:<i>:<s>:<DialCallSid>
//          record action   twilio:record:<CallSid>:<RecordingSid or RecordingUrl>
//          recording stat. twilio:recording:<RecordingSid>:<RecordingStatus>
//          SMS inbound     twilio:sms:<MessageSid>
//          SMS status      twilio:sms-status:<MessageSid>:<MessageStatus>
//          conference      twilio:conference:<ConferenceSid>:<CallSid>:<StatusCallbackEvent>:
//                            <SequenceNumber>
//          added particip. twilio:conference-participant:<CallSid>:<CallStatus>
//   Telnyx                 telnyx:<data.id>
//          dialled leg ans. telnyx:dial-answered:<A leg call_control_id>:<target leg's>
//                           (call.answered and call.bridged of the target leg: one event)
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/carrier/model.h"

namespace switchboard::carrier {

enum class TwilioWebhookKind {
  kVoice,            // /webhooks/twilio/voice: incoming call (or outbound call answered)
  kCallStatus,       // /webhooks/twilio/status: StatusCallback
  kGatherAction,     // /webhooks/twilio/gather: <Gather action>
  kDialAction,       // /webhooks/twilio/dial: <Dial action>
  kRecordAction,     // /webhooks/twilio/record: <Record action>
  kRecordingStatus,  // /webhooks/twilio/recording: recordingStatusCallback
  kMessagingInbound, // /webhooks/twilio/sms
  kMessagingStatus,  // /webhooks/twilio/sms-status
  kConferenceStatus,       // /webhooks/twilio/conference: <Conference statusCallback>
  kConferenceParticipant,  // /webhooks/twilio/conference-participant?conference=<name>
};

struct TwilioWebhook {
  TwilioWebhookKind kind = TwilioWebhookKind::kVoice;
  FormParams params;  // POST form fields (or GET query parameters)
  FormParams query;   // query parameters of the action URL (i, s), may be empty
  absl::Time received_at = absl::InfinitePast();  // used when the request carries no Timestamp
};

// Every Twilio call event's client_state is the query parameter `cs` of the URL it came to (the
// PlaceCall client state on a placed call's voice and status URLs), "" when absent.
// Mapping: voice -> CallIncoming (Direction inbound) or CallAnswered (outbound-*);
// call status in-progress -> CallAnswered, completed|busy|no-answer|failed|canceled ->
// CallCompleted (queued|initiated|ringing -> kNotFound). A status callback WITH ParentCallSid
// comes from a dialled child leg (a Dial noun's statusCallback): in-progress|answered ->
// DialResult{answered, dialed = To, dialed_call_id = CallSid, at_answer} on the PARENT call
// (ids.call_sid = ParentCallSid, ids.parent_call_sid kept; To required), which names who
// answered a Dial that rang several targets; any other status of a child leg -> kNotFound (a
// child leg completing is not the call completing). The Dial noun's statusCallback URL carries
// the set's `i`/`s` (twiml.h), so the webhook handler passes `i` as the running set.
// gather -> DigitsGathered (no Digits = timed out); dial -> DialResult (DialCallStatus completed|answered -> answered); record action
// and recording status "completed" -> RecordingReady (other statuses -> kNotFound); SMS inbound
// -> SmsReceived (MediaUrl0..NumMedia-1); SMS status -> SmsStatus (queued|accepted|scheduled ->
// queued, sending|sent -> sent, delivered|read -> delivered, undelivered|partially_delivered ->
// undelivered, failed|canceled -> failed).
// Conference (live call control): the <Conference> noun's statusCallback: StatusCallbackEvent
// participant-join -> ConferenceUpdate JOINED, participant-leave -> LEFT, conference-end ->
// ENDED (leg ""); other events -> kNotFound. conference = FriendlyName, leg = ids.call_sid =
// CallSid (required except for conference-end), provider_conference_id = ConferenceSid. The
// Participants API's StatusCallback of an added participant (route conference-participant,
// the name in the URL query `conference`): CallStatus no-answer|busy|failed -> NOT_ANSWERED
// with that reason, canceled -> NOT_ANSWERED "no-answer" (it was never answered), to = To,
// leg = ids.call_sid = CallSid; other statuses -> kNotFound (join/leave come from the
// conference's own callback).
absl::StatusOr<CarrierEvent> NormalizeTwilio(const TwilioWebhook& webhook);

// Telnyx webhook envelope {"data":{"event_type","id","occurred_at","payload"}}.
// call.initiated (incoming) -> CallIncoming; call.answered -> CallAnswered, except on a dialled
// leg (our client_state with "d", i.e. a transfer's target_leg_client_state): call.answered and
// call.bridged of that leg -> DialResult{answered, dialed = to, dialed_call_id = the leg's
// call_control_id, at_answer} of the A leg (ids.parent_call_sid = "a"; ids.call_control_id
// stays the target leg's), one dedupe key for both; call.hangup ->
// CallCompleted (hangup_cause normal_clearing|time_limit -> completed, user_busy -> busy,
// timeout|no_answer -> no-answer, originator_cancel -> canceled, others -> failed) or, on a
// dialled leg (client_state with "d"), DialResult (normal_clearing|time_limit -> answered,
// timeout|no_answer -> no-answer, user_busy -> busy, originator_cancel -> canceled, others ->
// failed); call.gather.ended -> DigitsGathered (status timeout -> timed out);
// call.speak.ended / call.playback.ended -> PromptEnded; call.recording.saved ->
// RecordingReady (also an on-demand record_start's, which carries no plan step of its own);
// message.received -> SmsReceived; message.sent / message.finalized ->
// SmsStatus from to[0].status; number_order.complete -> NumberOrderStatus;
// porting_order.status_changed -> PortStatus. conference.participant.joined / .left ->
// ConferenceUpdate JOINED / LEFT (leg = ids.call_control_id = payload.call_control_id),
// conference.ended -> ENDED (leg ""); payload.conference_id (required) goes to
// provider_conference_id and `conference` (the name) stays "" for the webhook handler to fill
// in from its conference table; conference.created and other conference.* -> kNotFound. The
// call.* events of a leg added to a conference (client_state = a ConferenceLegState marker)
// normalise as any call's (the handler tells them apart). call.initiated (outgoing),
// call.bridged of a leg that is not a dialled one (the A leg's) and other known types ->
// kNotFound; unknown types -> kNotFound "unknown event type".
absl::StatusOr<CarrierEvent> NormalizeTelnyx(absl::string_view raw_body);

// The client_state of a Telnyx leg ConferenceControl ADD dialled: base64 of
// {"cf": <Telnyx conference id>, "cn": <conference name>}. Its call.* webhooks never reach the
// InstructionSource as call events: call.answered -> join the conference; call.hangup before
// it joined -> ConferenceUpdate NOT_ANSWERED.
struct ConferenceLegState {
  std::string conference_id;
  std::string conference;  // name
};
std::string EncodeConferenceLegState(const ConferenceLegState& state);  // raw JSON (not base64)
// From the decoded (raw) client_state; nullopt unless it is such a marker.
std::optional<ConferenceLegState> DecodeConferenceLegState(absl::string_view raw_client_state);
// Telnyx hangup_cause of a leg that did not join -> NOT_ANSWERED reason: timeout|no_answer ->
// "no-answer", user_busy -> "busy", anything else -> "failed".
std::string NotAnsweredReason(absl::string_view hangup_cause);

}  // namespace switchboard::carrier
