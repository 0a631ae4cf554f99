#include "services/carrier/telnyx_plan.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"

namespace switchboard::carrier {
namespace {

using nlohmann::json;

// What resumes the plan after a step.
enum class Completion { kAnswered, kPromptEnded, kDigits, kDial, kRecording, kNone };

struct Step {
  std::string action;  // "" for a redirect (no command)
  int instruction_index = -1;
  json body = json::object();
  Completion completion = Completion::kNone;
  // For a transfer: the step to go to when the target answered (after the Dial's targets).
  int after_dial = -1;
  bool terminal = false;  // hangup, redirect or conference
  std::string redirect_url;
  std::string conference;  // a Dial of a conference: no command (see Expand)
};

json SpeakBody(const Say& say, const TelnyxPlanOptions& options) {
  json body = {{"payload", say.text},
               {"payload_type", "text"},
               {"voice", say.voice.empty() ? options.default_voice : say.voice},
               {"language", say.language.empty() ? options.default_language : say.language}};
  if (say.loop > 1) body["loop"] = say.loop;
  return body;
}

json PlaybackBody(const Play& play) {
  json body = {{"audio_url", play.url}};
  if (play.loop > 1) body["loop"] = play.loop;
  return body;
}

void AddDigitFields(const Gather& gather, json& body) {
  int timeout_ms = (gather.timeout_s > 0 ? gather.timeout_s : 5) * 1000;
  body["minimum_digits"] = 1;
  body["maximum_digits"] = gather.num_digits > 0 ? gather.num_digits : 128;
  body["maximum_tries"] = 1;
  body["inter_digit_timeout_millis"] = timeout_ms;
  if (gather.finish_on_key.has_value() && gather.finish_on_key->size() == 1) {
    body["terminating_digit"] = *gather.finish_on_key;
  }
}

absl::Status Invalid(size_t index, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("instructions[", index, "]: ", what));
}

absl::Status CheckPrompt(const Prompt& prompt, size_t index) {
  if (const Say* say = std::get_if<Say>(&prompt); say != nullptr && say->text.empty()) {
    return Invalid(index, "gather prompt say.text is empty");
  }
  if (const Play* play = std::get_if<Play>(&prompt); play != nullptr && play->url.empty()) {
    return Invalid(index, "gather prompt play.url is empty");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Step>> Expand(const CallInstructions& instructions, bool answer,
                                         const TelnyxPlanOptions& options) {
  if (instructions.id.empty()) return absl::InvalidArgumentError("instructions.id is empty");
  std::vector<Step> steps;
  if (answer) steps.push_back(Step{.action = "answer", .completion = Completion::kAnswered});
  bool ended = false;
  for (size_t i = 0; i < instructions.instructions.size() && !ended; ++i) {
    const int idx = static_cast<int>(i);
    const Instruction& instruction = instructions.instructions[i];
    if (const Say* say = std::get_if<Say>(&instruction)) {
      if (say->text.empty()) return Invalid(i, "say.text is empty");
      steps.push_back(Step{.action = "speak", .instruction_index = idx,
                           .body = SpeakBody(*say, options),
                           .completion = Completion::kPromptEnded});
    } else if (const Play* play = std::get_if<Play>(&instruction)) {
      if (play->url.empty()) return Invalid(i, "play.url is empty");
      steps.push_back(Step{.action = "playback_start", .instruction_index = idx,
                           .body = PlaybackBody(*play), .completion = Completion::kPromptEnded});
    } else if (const Pause* pause = std::get_if<Pause>(&instruction)) {
      int seconds = pause->length_s > 0 ? pause->length_s : 1;
      json body = {{"payload", absl::StrCat("<speak><break time=\"", seconds, "s\"/></speak>")},
                   {"payload_type", "ssml"},
                   {"voice", options.default_voice},
                   {"language", options.default_language}};
      steps.push_back(Step{.action = "speak", .instruction_index = idx, .body = body,
                           .completion = Completion::kPromptEnded});
    } else if (const Gather* gather = std::get_if<Gather>(&instruction)) {
      for (const Prompt& prompt : gather->prompts) RETURN_IF_ERROR(CheckPrompt(prompt, i));
      size_t n = gather->prompts.size();
      for (size_t p = 0; p + 1 < n; ++p) {
        if (const Say* say = std::get_if<Say>(&gather->prompts[p])) {
          steps.push_back(Step{.action = "speak", .instruction_index = idx,
                               .body = SpeakBody(*say, options),
                               .completion = Completion::kPromptEnded});
        } else {
          steps.push_back(Step{.action = "playback_start", .instruction_index = idx,
                               .body = PlaybackBody(std::get<Play>(gather->prompts[p])),
                               .completion = Completion::kPromptEnded});
        }
      }
      int timeout_ms = (gather->timeout_s > 0 ? gather->timeout_s : 5) * 1000;
      Step step{.instruction_index = idx, .completion = Completion::kDigits};
      if (n == 0) {
        step.action = "gather";
        step.body = {{"initial_timeout_millis", timeout_ms}};
      } else if (const Say* say = std::get_if<Say>(&gather->prompts[n - 1])) {
        step.action = "gather_using_speak";
        step.body = SpeakBody(*say, options);
        step.body.erase("loop");
        step.body["timeout_millis"] = timeout_ms;
      } else {
        step.action = "gather_using_audio";
        step.body = {{"audio_url", std::get<Play>(gather->prompts[n - 1]).url},
                     {"timeout_millis", timeout_ms}};
      }
      AddDigitFields(*gather, step.body);
      steps.push_back(std::move(step));
    } else if (const Dial* dial = std::get_if<Dial>(&instruction)) {
      if (dial->targets.empty()) return Invalid(i, "dial has no targets");
      bool conference = false;
      for (const DialTarget& target : dial->targets) {
        if (target.kind != DialTarget::Kind::kConference) continue;
        if (dial->targets.size() != 1) {
          return Invalid(i, "dial with a conference target has other targets");
        }
        absl::Status name = ValidateConferenceName("conference.name", target.value);
        if (!name.ok()) return Invalid(i, name.message());
        conference = true;
      }
      if (conference) {
        // Call Control has no "join the conference named X" command for a plan to send (a
        // conference is created with a leg and joined by id): the leg is put into it by
        // CarrierCore::ConferenceControl. The plan stops here, sending nothing.
        steps.push_back(Step{.instruction_index = idx, .terminal = true,
                             .conference = dial->targets.front().value});
        ended = true;
        continue;
      }
      size_t first = steps.size();
      for (const DialTarget& target : dial->targets) {
        if (target.value.empty()) return Invalid(i, "dial target value is empty");
        std::string to = target.value;
        if (target.kind == DialTarget::Kind::kClient) {
          to = absl::StrCat("sip:", target.value, "@", options.client_sip_domain);
        }
        json body = {{"to", to},
                     {"timeout_secs", dial->timeout_s > 0 ? dial->timeout_s : 30},
                     {"park_after_unbridge", "self"}};
        if (!dial->caller_id.empty()) body["from"] = dial->caller_id;
        if (dial->record) body["record"] = "record-from-answer";
        steps.push_back(Step{.action = "transfer", .instruction_index = idx, .body = body,
                             .completion = Completion::kDial});
      }
      for (size_t s = first; s < steps.size(); ++s) {
        steps[s].after_dial = static_cast<int>(steps.size());
      }
    } else if (const Record* record = std::get_if<Record>(&instruction)) {
      json body = {{"format", options.record_format},
                   {"channels", "single"},
                   {"play_beep", record->play_beep}};
      if (record->max_length_s > 0) body["max_length"] = record->max_length_s;
      if (record->timeout_s > 0) body["timeout_secs"] = record->timeout_s;
      steps.push_back(Step{.action = "record_start", .instruction_index = idx, .body = body,
                           .completion = Completion::kRecording});
    } else if (const Redirect* redirect = std::get_if<Redirect>(&instruction)) {
      if (redirect->url.empty()) return Invalid(i, "redirect.url is empty");
      steps.push_back(Step{.instruction_index = idx, .terminal = true,
                           .redirect_url = redirect->url});
      ended = true;
    } else if (std::holds_alternative<Hangup>(instruction)) {
      steps.push_back(Step{.action = "hangup", .instruction_index = idx, .terminal = true});
      ended = true;
    }
  }
  if (!ended) steps.push_back(Step{.action = "hangup", .terminal = true});
  return steps;
}

std::string CommandId(absl::string_view call_control_id, absl::string_view instructions_id,
                      int step) {
  std::string digest =
      crypto::HexEncode(crypto::Sha256(absl::StrCat(call_control_id, "|", instructions_id, "|",
                                                    step)));
  return digest.substr(0, 32);
}

// Commands for step `index` on `call_control_id`.
TelnyxPlanOutput Emit(const std::vector<Step>& steps, int index,
                      const std::string& instructions_id, absl::string_view call_control_id,
                      bool answer_step) {
  TelnyxPlanOutput out;
  const Step& step = steps[static_cast<size_t>(index)];
  out.finished = step.terminal;
  if (!step.redirect_url.empty()) {
    out.redirect_url = step.redirect_url;
    return out;
  }
  if (!step.conference.empty()) {
    out.conference = step.conference;
    return out;
  }
  TelnyxCommand command{.call_control_id = std::string(call_control_id), .action = step.action,
                        .body = step.body};
  TelnyxPlanState state{.instructions_id = instructions_id, .step = index,
                        .answer_step = answer_step};
  command.body["client_state"] = EncodeClientState(state);
  command.body["command_id"] = CommandId(call_control_id, instructions_id, index);
  if (step.action == "transfer") {
    TelnyxPlanState target{.instructions_id = instructions_id,
                           .step = index,
                           .a_leg_call_control_id = std::string(call_control_id),
                           .dial_leg = true,
                           .answer_step = answer_step};
    command.body["target_leg_client_state"] = EncodeClientState(target);
  }
  out.commands.push_back(std::move(command));
  return out;
}

bool Completes(Completion completion, const CarrierEventKind& kind) {
  switch (completion) {
    case Completion::kAnswered: return std::holds_alternative<CallAnswered>(kind);
    case Completion::kPromptEnded: return std::holds_alternative<PromptEnded>(kind);
    case Completion::kDigits: return std::holds_alternative<DigitsGathered>(kind);
    case Completion::kDial: return std::holds_alternative<DialResult>(kind);
    case Completion::kRecording: return std::holds_alternative<RecordingReady>(kind);
    case Completion::kNone: return false;
  }
  return false;
}

}  // namespace

std::string EncodeClientState(const TelnyxPlanState& state) {
  json j = {{"i", state.instructions_id}, {"s", state.step}};
  if (state.dial_leg) {
    j["d"] = 1;
    j["a"] = state.a_leg_call_control_id;
  }
  if (!state.answer_step) j["n"] = 1;
  return crypto::Base64Encode(j.dump());
}

absl::StatusOr<TelnyxPlanState> DecodeClientState(absl::string_view client_state_base64) {
  absl::StatusOr<std::string> raw = crypto::Base64Decode(client_state_base64);
  if (!raw.ok()) return absl::InvalidArgumentError("client_state: not base64");
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError("client_state: not a JSON object");
  auto i = j.find("i");
  auto s = j.find("s");
  if (i == j.end() || !i->is_string()) return absl::InvalidArgumentError("client_state.i: missing");
  if (s == j.end() || !s->is_number_integer() || s->get<int64_t>() < 0 ||
      s->get<int64_t>() > 1'000'000) {
    return absl::InvalidArgumentError("client_state.s: missing or out of range");
  }
  TelnyxPlanState state{.instructions_id = i->get<std::string>(),
                        .step = static_cast<int>(s->get<int64_t>())};
  if (auto d = j.find("d"); d != j.end() && d->is_number_integer() && d->get<int>() == 1) {
    auto a = j.find("a");
    if (a == j.end() || !a->is_string() || a->get<std::string>().empty()) {
      return absl::InvalidArgumentError("client_state.a: missing on a dialled leg");
    }
    state.dial_leg = true;
    state.a_leg_call_control_id = a->get<std::string>();
  }
  if (auto n = j.find("n"); n != j.end() && n->is_number_integer() && n->get<int>() == 1) {
    state.answer_step = false;
  }
  return state;
}

std::vector<TelnyxStepInfo> TelnyxPlanSteps(const CallInstructions& instructions, bool answer) {
  std::vector<TelnyxStepInfo> out;
  absl::StatusOr<std::vector<Step>> steps = Expand(instructions, answer, TelnyxPlanOptions{});
  if (!steps.ok()) return out;
  for (const Step& step : *steps) {
    out.push_back(TelnyxStepInfo{
        .action = !step.action.empty()     ? step.action
                  : !step.conference.empty() ? std::string("conference")
                                             : std::string("redirect"),
        .instruction_index = step.instruction_index});
  }
  return out;
}

absl::StatusOr<TelnyxPlanOutput> StartTelnyxPlan(const CallInstructions& instructions,
                                                 absl::string_view call_control_id, bool answer,
                                                 const TelnyxPlanOptions& options) {
  if (call_control_id.empty()) return absl::InvalidArgumentError("call_control_id is empty");
  absl::StatusOr<std::vector<Step>> steps = Expand(instructions, answer, options);
  if (!steps.ok()) return steps.status();
  return Emit(*steps, 0, instructions.id, call_control_id, answer);
}

absl::StatusOr<TelnyxPlanOutput> NextTelnyxCommands(const CallInstructions& instructions,
                                                    const TelnyxPlanState& state,
                                                    const CarrierEvent& event,
                                                    const TelnyxPlanOptions& options) {
  const bool answer = state.answer_step;
  if (state.instructions_id != instructions.id) {
    return absl::InvalidArgumentError("client_state.i: does not name these instructions");
  }
  absl::StatusOr<std::vector<Step>> steps = Expand(instructions, answer, options);
  if (!steps.ok()) return steps.status();
  if (state.step < 0 || static_cast<size_t>(state.step) >= steps->size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("client_state.s: step ", state.step, " out of range"));
  }
  TelnyxPlanOutput none;
  // The plan's own leg ended: nothing more to send.
  if (!state.dial_leg && std::holds_alternative<CallCompleted>(event.kind)) {
    none.finished = true;
    return none;
  }
  if (event.provider_status == "call_hangup") {
    none.finished = true;
    return none;
  }
  // The dialled leg answered (the bridge is up): the transfer step ends with the leg's end.
  if (const DialResult* dial = std::get_if<DialResult>(&event.kind);
      dial != nullptr && dial->at_answer) {
    return none;
  }
  const Step& step = (*steps)[static_cast<size_t>(state.step)];
  // Only the dialled leg's result resumes a transfer; other events of that leg are ignored.
  if (state.dial_leg != (step.completion == Completion::kDial)) return none;
  if (!Completes(step.completion, event.kind)) return none;
  int next = state.step + 1;
  std::string leg = state.dial_leg ? state.a_leg_call_control_id : event.ids.call_control_id;
  if (const DialResult* dial = std::get_if<DialResult>(&event.kind)) {
    if (dial->status == DialStatus::kAnswered) next = step.after_dial;
  }
  if (leg.empty()) return absl::InvalidArgumentError("call_control_id: missing on the event");
  if (static_cast<size_t>(next) >= steps->size()) {
    none.finished = true;  // cannot happen: the plan always ends with a terminal step
    return none;
  }
  return Emit(*steps, next, instructions.id, leg, answer);
}

}  // namespace switchboard::carrier
