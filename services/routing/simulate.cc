#include "services/routing/simulate.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace switchboard::routing {
namespace {

namespace cv1 = ::switchboard::carrier::v1;

void Collect(Step& step, SimulationResult* result) {
  for (v1::PathEntry& e : step.path) {
    if (e.kind() == v1::PATH_RING) {
      for (const std::string& u : e.user_ids()) result->rang.push_back(u);
      if (e.user_ids_size() == 0) {
        for (const std::string& n : e.numbers()) result->rang.push_back(n);
      }
    }
    result->path.push_back(std::move(e));
  }
  for (LifecycleEvent& ev : step.events) result->events.push_back(std::move(ev));
  result->instructions.push_back(step.instructions);
  if (step.final_status.has_value()) {
    result->status = *step.final_status;
    result->answered_by = step.answered_by;
  }
}

}  // namespace

absl::StatusOr<int64_t> InMemoryRoundRobin::Next(absl::string_view ring_group_id) {
  absl::MutexLock lock(&mu_);
  return next_[ring_group_id]++;
}

absl::StatusOr<SimulationResult> SimulateCall(const v1::FlowBundle& bundle, EngineDeps deps,
                                              const SimulationInput& input) {
  CallEngine engine(bundle, deps);
  SimulationResult result;
  absl::Time now = input.at;
  ASSIGN_OR_RETURN(Step step, engine.Start(CallFacts{.call_id = input.call_id,
                                                     .company_id = input.company_id,
                                                     .from = input.from,
                                                     .to = input.to,
                                                     .at = input.at}));
  Collect(step, &result);
  v1::CallState state = std::move(step.state);
  size_t next_key = 0;
  for (int i = 0; i < kMaxSimulationSteps; ++i) {
    if (state.phase() == v1::PHASE_ENDED) {
      result.final_state = std::move(state);
      return result;
    }
    const cv1::CallInstructions& last = state.last_instructions();
    cv1::CarrierEvent event;
    event.set_dedupe_key(absl::StrCat("sim-", i));
    event.set_from(input.from);
    event.set_to(input.to);
    const cv1::Instruction* tail =
        last.instructions_size() > 0 ? &last.instructions(last.instructions_size() - 1) : nullptr;
    if (tail != nullptr && tail->has_gather()) {
      cv1::DigitsGathered* digits = event.mutable_digits_gathered();
      if (next_key < input.key_presses.size() && !input.key_presses[next_key].empty()) {
        digits->set_digits(input.key_presses[next_key]);
      } else {
        digits->set_timed_out(true);
        now += absl::Seconds(tail->gather().timeout_s());
      }
      ++next_key;
    } else if (tail != nullptr && tail->has_dial()) {
      cv1::DialResult* dial = event.mutable_dial_result();
      dial->set_status(cv1::DIAL_NO_ANSWER);
      bool busy = false;
      for (const v1::DialLeg& leg : state.dialing().legs()) {
        for (const std::string* key : {&leg.user_id(), &leg.number(), &leg.client()}) {
          if (key->empty()) continue;
          auto it = input.answers.find(*key);
          if (it == input.answers.end()) continue;
          if (it->second == SimulatedOutcome::kAnswer &&
              dial->status() != cv1::DIAL_ANSWERED) {
            dial->set_status(cv1::DIAL_ANSWERED);
            dial->set_dialed(!leg.number().empty() ? leg.number() : leg.client());
            dial->set_duration_s(input.talk_seconds);
          } else if (it->second == SimulatedOutcome::kBusy) {
            busy = true;
          }
        }
      }
      if (dial->status() == cv1::DIAL_ANSWERED) {
        now += absl::Seconds(5 + input.talk_seconds);
      } else {
        if (busy) dial->set_status(cv1::DIAL_BUSY);
        now += absl::Seconds(tail->dial().timeout_s());
      }
    } else if (tail != nullptr && tail->has_record() && input.leave_voicemail) {
      cv1::RecordingReady* rec = event.mutable_recording_ready();
      rec->set_recording_id(absl::StrCat(input.call_id, "-vm"));
      rec->set_duration_s(20);
      rec->set_format("wav");
      now += absl::Seconds(20);
    } else {
      cv1::CallCompleted* done = event.mutable_call_completed();
      done->set_reason(cv1::CALL_END_COMPLETED);
      done->set_duration_s(static_cast<int>(absl::ToInt64Seconds(now - input.at)));
    }
    ASSIGN_OR_RETURN(Step next, engine.OnEvent(state, event, now));
    if (!next.changed) {
      return absl::InternalError(
          absl::StrCat("dry run: the engine ignored ",
                       event.GetDescriptor()->FindFieldByNumber(event.kind_case())->name(),
                       " in phase ", v1::CallPhase_Name(state.phase())));
    }
    Collect(next, &result);
    state = std::move(next.state);
  }
  return absl::FailedPreconditionError(
      absl::StrCat("dry run: the call did not end within ", kMaxSimulationSteps, " steps"));
}

}  // namespace switchboard::routing
