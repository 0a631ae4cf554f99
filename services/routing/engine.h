// The live call engine: a pure state machine over one flow. No I/O of its own; it asks the
// ports of interfaces.h (directory, schedule oracle, round robin, caller matcher, greeting URLs).
//
//   Start(facts)                  -> Step   (a new call: greeting/menu, direct line, smart routing)
//   StartOutbound(facts)          -> Step   (a click-to-call: the user's device rings first)
//   OnEvent(state, event, now)    -> Step   (DigitsGathered, DialResult, RecordingReady,
//                                            CallCompleted, CallAnswered of a click-to-call;
//                                            anything else is ignored)
//   Transfer(state, target, now)  -> Step   (blind transfer of a connected call)
//   SetRecording(state, on, ...)  -> Step   (on-demand recording switched on/off)
//
// A RecordingReady outside the voicemail phase of a call that was answered (or is being recorded)
// is a recording of the conversation, whenever it arrives (during a transfer, after the end):
// Step.recording_id/url for the call log, the instructions unchanged.
//
// A Step carries the new CallState (the service stores it, e.g. in Redis), the CallInstructions to
// answer the carrier with, the path entries and lifecycle events produced by the transition, and,
// when the call ended (or its status changed after the end), the final status and answered_by.
//
// Idempotence: an event whose dedupe key was already seen, or that does not fit the call's phase
// (a stale DialResult, a DigitsGathered while ringing, a second CallCompleted, a redelivered
// CallIncoming, ...), returns Unchanged(state): changed=false, the same state, and the call's last
// instructions to replay, with no path entries or events.
//
// Failures of the ports never leave a caller in silence: a directory error makes the user
// unreachable (next member / fallback), a schedule error counts as open, a round-robin error
// starts at member 0, an unresolvable greeting audio falls back to its text.
//
// Errors (Status): INVALID_ARGUMENT for facts without a call id or a flow without a kind;
// FAILED_PRECONDITION when the state belongs to another flow id or version than the engine's.
//
// Thread-safety: a CallEngine holds references to the bundle and the ports and no mutable state;
// it may be used from several threads if the ports allow it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/routing/flow_index.h"
#include "services/routing/interfaces.h"
#include "switchboard/carrier/v1/carrier.pb.h"
#include "switchboard/routing/v1/call.pb.h"
#include "switchboard/routing/v1/flow.pb.h"

namespace switchboard::routing {

// What is known when a call comes in.
struct CallFacts {
  std::string call_id;  // required; the service's id for the call
  std::string company_id;
  std::string from;  // caller, E.164 when known
  std::string to;    // the company number called
  absl::Time at;     // when the call arrived (schedule and on-call are evaluated at it)
  std::string carrier_call_id;  // the caller's leg at the carrier (live call control acts on it)
};

// Where a blind transfer sends a connected call: exactly one of the four targets.
struct TransferTarget {
  std::string user_id;           // all the user's devices, then the user's voicemail
  std::string ring_group_id;     // the group's strategy and no-answer action
  std::string external_number;   // E.164, then the company voicemail
  std::string voicemail_box_id;  // straight to the box
  int ring_seconds = 0;          // user / external number; 0 = default, at most 120
  std::string by_user_id;        // who transfers (for the path)
};

// A click-to-call (PlaceCall): the carrier rings `device` of `user_id` first; once answered,
// the engine dials `to` with `caller_id`.
struct OutboundFacts {
  std::string call_id;  // required
  std::string company_id;
  std::string user_id;    // required: who places the call
  std::string device;     // required: E.164 or "client:<identity>" the carrier rings first
  std::string to;         // required: the customer, E.164
  std::string caller_id;  // required: the business number the customer sees, E.164
  absl::Time at;
};

enum class LifecycleKind { kRouted, kRinging, kAnswered, kMissed, kVoicemailLeft, kEnded };
absl::string_view LifecycleName(LifecycleKind kind);

// A calls.v1 event to emit (through the outbox) for a transition.
struct LifecycleEvent {
  LifecycleKind kind;
  std::string detail;                 // human readable
  std::vector<std::string> user_ids;  // ringing: who; answered: who answered
  std::string voicemail_box_id;       // voicemail_left
  std::optional<std::string> box_owner_user_id;  // voicemail_left: the box's user ("" = shared)
  std::string recording_id;           // voicemail_left
  std::string recording_url;          // voicemail_left
  // voicemail_left: message length; ended: call length; answered: talk time (Twilio and Telnyx
  // report a Dial's outcome when the dialled leg ends, so answered_at = now - duration_s).
  int duration_s = 0;
};

// Who AddParticipant / a warm transfer rings: a user (their softphone, else their forward-to
// phone) or an external number.
struct PartyTarget {
  std::string user_id;
  std::string external_number;  // E.164
};

struct Step {
  v1::CallState state;
  carrier::v1::CallInstructions instructions;
  std::vector<v1::PathEntry> path;
  std::vector<LifecycleEvent> events;
  std::optional<v1::CallStatus> final_status;
  // Conference: participant legs the carrier must hang up (warm transfer completed/cancelled,
  // a participant removed), and the participant added (its `number` is what to dial).
  std::vector<std::string> removed_legs;
  std::optional<v1::Participant> added;
  // Follow-ups the service asks of the carrier after storing the step: the caller taken off hold
  // (the warm-transfer target left), the call ended (everyone but the caller left).
  bool resume_caller = false;
  bool hang_up_caller = false;
  // A recording of the conversation (policy or on demand) to reference on the call log.
  std::string recording_id;
  std::string recording_url;
  std::string answered_by;  // user id or E.164; with final_status
  bool changed = false;     // false: the event was a duplicate or stale; nothing to store
};

struct EngineDeps {
  const Directory& directory;
  ScheduleOracle& schedule;
  RoundRobin& round_robin;
  CallerMatcher& callers;
  const GreetingUrlResolver& greetings;
};

class CallEngine {
 public:
  // Without transitions that take no caller input (fallback -> group -> fallback ...), a flow
  // that passed validation cannot loop; this bound guards an unvalidated one.
  static constexpr int kMaxHops = 16;
  static constexpr int kMaxRecentEventKeys = 8;
  static constexpr int kMaxDirectoryMatches = 9;

  // `bundle` and the ports must outlive the engine.
  CallEngine(const v1::FlowBundle& bundle, EngineDeps deps);

  [[nodiscard]] absl::StatusOr<Step> Start(const CallFacts& facts) const;
  // A click-to-call: state PHASE_AGENT_RINGING (outbound), a ringing event for the user, and
  // an empty instruction set (the carrier places the call; the user's answer, CallAnswered,
  // brings the Dial of the customer with the caller ID). The customer's no-answer/busy/failure
  // ends the call with a short message to the user; the call ends `completed` (answered_by =
  // the customer's number) when the customer answered, else `missed` (or `busy`/`failed` when
  // the user's own leg ended so). INVALID_ARGUMENT naming a missing field.
  [[nodiscard]] absl::StatusOr<Step> StartOutbound(const OutboundFacts& facts) const;
  [[nodiscard]] absl::StatusOr<Step> OnEvent(const v1::CallState& state,
                                             const carrier::v1::CarrierEvent& event,
                                             absl::Time now) const;

  // Live call control. Blind transfer of a connected call (PHASE_BRIDGED): "Please hold while I
  // transfer your call", then the target (TransferTarget); a PATH_TRANSFER entry and a routed
  // event; the step's instructions are the new set the carrier must put on the call.
  // INVALID_ARGUMENT / NOT_FOUND naming the target field; FAILED_PRECONDITION when the call is
  // not connected or already connected to the user.
  [[nodiscard]] absl::StatusOr<Step> Transfer(const v1::CallState& state,
                                              const TransferTarget& target, absl::Time now) const;
  // On-demand recording on (a connected call not being recorded) or off (a call being recorded);
  // the instruction set stays the same. FAILED_PRECONDITION otherwise.
  [[nodiscard]] absl::StatusOr<Step> SetRecording(const v1::CallState& state, bool on,
                                                  absl::string_view by_user_id,
                                                  absl::Time now) const;
  // OK when the call is connected (answered, bridged or in its conference, not ended); else
  // FAILED_PRECONDITION.
  static absl::Status CheckConnected(const v1::CallState& state);

  // Conference (live call control): EnterConference moves a bridged call into its conference
  // "sb-<call id>" (PHASE_CONFERENCE; new set: a Dial of the conference that ends it when the
  // caller leaves; caller and the connected party as participants). The others need
  // PHASE_CONFERENCE and keep the instruction set: SetHold (the caller on hold or back),
  // AddParticipant (at most 5 parties ringing or joined; `consult`: a warm transfer, the caller
  // goes on hold; Step.added says whom to dial), NameParticipantLeg (the carrier's leg of the
  // participant dialled as `number`), RemoveParticipant (an added one; Step.removed_legs),
  // CompleteWarmTransfer (the target joined: the transferring user and the original party
  // leave, the caller is resumed, answered_by = the target) and CancelWarmTransfer (the target
  // leaves, the caller is resumed). ConferenceUpdate events (OnEvent) track joins and leaves.
  // FAILED_PRECONDITION when the call is not in the right state, NOT_FOUND / INVALID_ARGUMENT
  // naming the field for a bad target or leg.
  [[nodiscard]] absl::StatusOr<Step> EnterConference(const v1::CallState& state,
                                                     absl::Time now) const;
  [[nodiscard]] absl::StatusOr<Step> SetHold(const v1::CallState& state, bool on_hold,
                                             absl::string_view by_user_id, absl::Time now) const;
  [[nodiscard]] absl::StatusOr<Step> AddParticipant(const v1::CallState& state,
                                                    const PartyTarget& target, bool consult,
                                                    absl::string_view by_user_id,
                                                    absl::Time now) const;
  [[nodiscard]] absl::StatusOr<Step> NameParticipantLeg(const v1::CallState& state,
                                                        absl::string_view number,
                                                        absl::string_view leg,
                                                        absl::Time now) const;
  [[nodiscard]] absl::StatusOr<Step> RemoveParticipant(const v1::CallState& state,
                                                       absl::string_view leg,
                                                       absl::string_view by_user_id,
                                                       absl::Time now) const;
  [[nodiscard]] absl::StatusOr<Step> CompleteWarmTransfer(const v1::CallState& state,
                                                          absl::string_view by_user_id,
                                                          absl::Time now) const;
  [[nodiscard]] absl::StatusOr<Step> CancelWarmTransfer(const v1::CallState& state,
                                                        absl::string_view by_user_id,
                                                        absl::Time now) const;
  static constexpr int kMaxParties = 5;

  // The answer to an event that changes nothing: same state, last instructions.
  static Step Unchanged(const v1::CallState& state);
  // Targets of the last Dial in the call's current instructions (0 when none).
  static int TargetsOfLastDial(const v1::CallState& state);

 private:
  const v1::FlowBundle& bundle_;
  FlowIndex index_;
  EngineDeps deps_;
};

}  // namespace switchboard::routing
