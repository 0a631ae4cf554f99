// Telnyx Call Control rendering of CallInstructions (carriers.md §3.3, §6). Telnyx pushes: the
// webhook is answered 200 at once and the service then sends REST commands
// (POST /v2/calls/{call_control_id}/actions/{action}). The plan is one command at a time; each
// waits for the webhook that says it finished, and the step travels in `client_state`, so no
// server-side plan state is needed: the next step is computed from the webhook alone.
//
// Mapping (instruction -> steps; "waits for" = normalised event that resumes the plan):
//   (inbound call)  answer {}                                            waits for CallAnswered
//   Say      speak {payload, payload_type:"text", voice, language, loop?} waits for PromptEnded
//   Play     playback_start {audio_url, loop?}                           waits for PromptEnded
//   Pause    speak {payload:"<speak><break time=\"Ns\"/></speak>", payload_type:"ssml", voice}
//                                                                        waits for PromptEnded
//   Gather   prompts before the last: speak / playback_start steps as above; then
//            last prompt Say  -> gather_using_speak {payload, voice, language, ...digits}
//            last prompt Play -> gather_using_audio {audio_url, ...digits}
//            no prompt        -> gather {initial_timeout_millis, ...digits}
//            digits = minimum_digits 1, maximum_digits (num_digits or 128), maximum_tries 1,
//            timeout_millis / inter_digit_timeout_millis = timeout_s*1000 (default 5000),
//            terminating_digit = finish_on_key when it is one key   waits for DigitsGathered
//   Dial     one transfer per target, tried in order (Telnyx transfer has one `to`; Twilio
//            rings all at once — the one deviation): transfer {to, from?=caller_id,
//            timeout_secs, park_after_unbridge:"self", record?:"record-from-answer",
//            target_leg_client_state = state with the A leg id and dial flag}. The dialled
//            leg's call.answered / call.bridged normalise to a DialResult with at_answer (who
//            answered, reported at once; the plan does NOT advance on it), its call.hangup to
//            the DialResult that ends the step; when answered the rest of the Dial's targets
//            are skipped.                                  waits for DialResult (not at_answer)
//            Client targets become "sip:<identity>@<client_sip_domain>".
//            A conference target (the Dial's only target; name [A-Za-z0-9_-]{1,64}) is NOT
//            rendered: Call Control has no command that joins a conference by name (one is
//            created with a leg, POST /v2/conferences, and joined by id), so the plan stops
//            there without a command (output.conference = the name, finished) and the webhook
//            handler logs it. Conferences are driven by CarrierCore::ConferenceControl.
//   Record   record_start {format, channels:"single", play_beep, max_length?, timeout_secs?}
//            (finish_on_key has no Telnyx equivalent and is not sent) waits for RecordingReady
//   Redirect no command: the output carries redirect_url (fetch new instructions, new plan).
//   Hangup   hangup {}; the plan is finished.
//   (end of the list) hangup {} as Twilio hangs up when a TwiML document ends.
// Every body has client_state = base64(JSON {"i": instructions id, "s": step index}) (plus
// "a": A-leg call_control_id and "d": 1 on a dialled leg, "n": 1 when the plan has no answer step) and command_id = hex of SHA-256 of
// "call_control_id|instructions id|step" truncated to 32 chars, so a duplicated or re-ordered
// webhook re-issues the identical command and Telnyx drops it (60 s command_id window).
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "services/carrier/model.h"

namespace switchboard::carrier {

struct TelnyxCommand {
  std::string call_control_id;  // leg the command is sent to
  std::string action;           // "answer", "speak", "playback_start", "gather_using_speak",
                                // "gather_using_audio", "gather", "transfer", "record_start",
                                // "hangup"
  nlohmann::json body;          // JSON body, including client_state and command_id
  // Set for a conference action instead (POST /conferences/{id}/actions/{action}, e.g. the
  // "join" of a leg ConferenceControl ADD dialled, sent by the webhook handler on its answer).
  std::string conference_id;
};

// What travels in client_state.
struct TelnyxPlanState {
  std::string instructions_id;
  int step = 0;
  // Set on a dialled (transfer target) leg: the call_control_id of the leg that runs the plan.
  std::string a_leg_call_control_id;
  bool dial_leg = false;
  // The plan began with an `answer` step (an inbound call it answered). False for a plan started
  // on a call already answered (an outbound call, new instructions mid-call): encoded "n":1.
  bool answer_step = true;
};

std::string EncodeClientState(const TelnyxPlanState& state);
// kInvalidArgument ("client_state: ...") on bad base64, bad JSON or missing "i"/"s".
absl::StatusOr<TelnyxPlanState> DecodeClientState(absl::string_view client_state_base64);

struct TelnyxPlanOptions {
  std::string default_voice = "female";   // used when Say.voice is empty (speak requires one)
  std::string default_language = "en-US";
  std::string record_format = "mp3";      // "mp3" | "wav"
  std::string client_sip_domain = "sip.telnyx.com";
};

struct TelnyxPlanOutput {
  std::vector<TelnyxCommand> commands;
  // Set when the plan reached a Redirect: fetch new instructions from it and start a new plan.
  std::optional<std::string> redirect_url;
  // Set when the plan reached a Dial of a conference (the name): no command is sent and the
  // plan ends there; the leg is put into the conference by CarrierCore::ConferenceControl.
  std::optional<std::string> conference;
  bool finished = false;  // hangup sent, redirect or conference reached, or the call ended
};

// The steps of a plan, as (action, instruction index) pairs; exposed for tests and docs.
struct TelnyxStepInfo {
  std::string action;
  int instruction_index = -1;  // -1 for the initial answer and the implicit final hangup
};
std::vector<TelnyxStepInfo> TelnyxPlanSteps(const CallInstructions& instructions, bool answer);

// First commands for `call_control_id`: answer (when `answer`, i.e. an inbound call) or the
// first instruction (an outbound call already answered). kInvalidArgument when the
// instructions are invalid (empty id, empty Say text / Play or Redirect URL, Dial without
// targets, empty target value).
absl::StatusOr<TelnyxPlanOutput> StartTelnyxPlan(const CallInstructions& instructions,
                                                 absl::string_view call_control_id, bool answer,
                                                 const TelnyxPlanOptions& options = {});

// Resumes the plan after `event`, whose client_state decoded to `state` (state.answer_step says
// whether StartTelnyxPlan was called with answer; it shifts step indices). Returns no commands
// when the event is not the completion of the current step (e.g. the dialled leg's answer, a
// DialResult with at_answer, or an on-demand recording while the plan waits for a transfer),
// and `finished` when
// the call ended (CallCompleted on the plan's leg, or a prompt/gather ended by "call_hangup").
// kInvalidArgument when state.instructions_id differs from instructions.id or the step is out
// of range.
absl::StatusOr<TelnyxPlanOutput> NextTelnyxCommands(const CallInstructions& instructions,
                                                    const TelnyxPlanState& state,
                                                    const CarrierEvent& event,
                                                    const TelnyxPlanOptions& options = {});

}  // namespace switchboard::carrier
