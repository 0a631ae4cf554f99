// Renders abstract CallInstructions as Twilio TwiML (carriers.md §1.4-1.8), and parses TwiML
// back into a generic tree (used by tests and by tools/carrier-emulator to interpret answers).
// Pure functions, thread-safe.
//
// Rendering rules (attribute names are Twilio's, values as Twilio documents them):
//   Say      -> <Say voice language loop>text</Say>
//   Play     -> <Play loop>url</Play>
//   Gather   -> <Gather input="dtmf" numDigits timeout finishOnKey action method="POST"
//                       actionOnEmptyResult="true"> nested <Say>/<Play> </Gather>
//               (actionOnEmptyResult makes Twilio call the action on a timeout too, so a
//               DigitsGathered event always follows, as with Telnyx's call.gather.ended)
//   Dial     -> <Dial timeout callerId record="record-from-answer" action method="POST">
//                 <Number>e164</Number> | <Client>identity</Client> | <Sip>uri</Sip> </Dial>
//               each noun with statusCallbackEvent="answered" statusCallback (with `i`/`s`
//               like the action URLs) statusCallbackMethod="POST" when
//               TwimlOptions.dial_status_callback_url is set (all nouns ring at once; the
//               answered leg's callback names who answered, and which set's Dial it was)
//               A conference target (the Dial's only one) renders as
//                 <Conference startConferenceOnEnter="true" endConferenceOnExit="true|false"
//                   statusCallback statusCallbackEvent="join leave end"
//                   statusCallbackMethod="POST">name</Conference>
//               (statusCallback = TwimlOptions.conference_status_callback_url, verbatim: the
//               conference's callbacks name it by FriendlyName; no i/s)
//   Record   -> <Record maxLength playBeep finishOnKey timeout action method="POST"
//                       recordingStatusCallback recordingStatusCallbackMethod="POST"/>
//   Redirect -> <Redirect method="POST">url</Redirect>
//   Pause    -> <Pause length/>
//   Hangup   -> <Hangup/>
// Attributes left at their "default" value in the model are omitted. Each action URL (and the
// Dial nouns' statusCallback) gets the query parameters `i=<instructions id>&s=<index of the
// verb>` appended (when the id is set) so the webhook handler can resume the instruction set
// after the verb (TwimlOptions.start_index) and tell the source which set reported.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/carrier/model.h"

namespace switchboard::carrier {

struct TwimlOptions {
  // Absolute callback URLs, e.g. "<public base>/webhooks/twilio/gather". Empty = no action
  // attribute (Twilio then continues with the next verb).
  std::string gather_action_url;
  std::string dial_action_url;
  std::string record_action_url;
  std::string recording_status_callback_url;
  // The call status webhook (".../webhooks/twilio/status"): every Dial noun gets
  // statusCallback=<it>?i=<id>&s=<index> statusCallbackEvent="answered"
  // statusCallbackMethod="POST", so the
  // answered child leg (CallSid, ParentCallSid, To = the dialled party) reports who answered a
  // Dial that rings several targets at once, and `i` which set's Dial it was (a stale one's,
  // after the call got new instructions, is told apart). Empty = no per-noun callback.
  std::string dial_status_callback_url;
  // The conference status webhook (".../webhooks/twilio/conference") of <Conference> nouns
  // (participant join / leave, conference end). Empty = no callback attributes.
  std::string conference_status_callback_url;
  // Render instructions[start_index..] (indices in action URLs stay absolute). A gather/dial/
  // record action request with s=<n> resumes a static set with start_index = n + 1; past the
  // end the document is an empty <Response/> (Twilio hangs up).
  int start_index = 0;
};

// A generic TwiML element: tag, attributes (in insertion order), text, children.
struct TwimlNode {
  std::string tag;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text;
  std::vector<TwimlNode> children;

  // Value of attribute `name`, or nullptr.
  const std::string* Attr(absl::string_view name) const;
};

// The <Response> tree for `instructions`.
TwimlNode BuildTwimlTree(const CallInstructions& instructions, const TwimlOptions& options);

// `<?xml version="1.0" encoding="UTF-8"?>` followed by the element, unindented, text and
// attribute values XML-escaped.
std::string SerializeTwiml(const TwimlNode& root);

// SerializeTwiml(BuildTwimlTree(instructions, options)).
std::string RenderTwiml(const CallInstructions& instructions, const TwimlOptions& options);

// Parses a TwiML document. kInvalidArgument when it is not well-formed XML or the root element
// is not <Response>. Whitespace-only text is dropped.
absl::StatusOr<TwimlNode> ParseTwiml(absl::string_view xml);

}  // namespace switchboard::carrier
