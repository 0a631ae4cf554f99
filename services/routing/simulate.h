// The dry run: drives the SAME CallEngine as live calls with synthetic carrier events and returns
// the exact path (greetings, menus, keys, who rings in which order, where it ends). No carrier,
// no storage. Round robin runs on an in-memory counter (InMemoryRoundRobin), so a dry run never
// moves the live rotation unless the caller passes the live RoundRobin on purpose.
//
// Driving rules, per instruction set the engine answers with (by its last instruction):
//   Gather -> the next entry of `key_presses` ("" or none left = timeout);
//   Dial   -> the first leg whose user id or number/client is listed ANSWER answers (then the
//             call completes after `talk_seconds`), else BUSY if one is listed so, else no
//             answer; the clock advances by the ring time;
//   Record -> a RecordingReady when `leave_voicemail`, else the caller hangs up;
//   Hangup -> CallCompleted.
// At most kMaxSteps events; a flow that would go on longer ends with FAILED_PRECONDITION.
//
// Errors: those of CallEngine (INVALID_ARGUMENT for a flow without a kind, ...).
// Thread-safety: a call to SimulateCall is self-contained; the ports must allow their use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/routing/engine.h"

namespace switchboard::routing {

class InMemoryRoundRobin final : public RoundRobin {
 public:
  absl::StatusOr<int64_t> Next(absl::string_view ring_group_id) override;

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> next_ ABSL_GUARDED_BY(mu_);
};

enum class SimulatedOutcome { kAnswer, kNoAnswer, kBusy };

struct SimulationInput {
  std::string call_id = "sim";
  std::string company_id;
  std::string from;
  std::string to;
  absl::Time at;
  std::vector<std::string> key_presses;
  // User id or dialled number/client -> what it does when rung. Absent = no answer.
  absl::flat_hash_map<std::string, SimulatedOutcome> answers;
  bool leave_voicemail = true;
  int talk_seconds = 60;
};

struct SimulationResult {
  std::vector<v1::PathEntry> path;
  v1::CallStatus status = v1::CALL_STATUS_UNSPECIFIED;
  std::string answered_by;
  std::vector<carrier::v1::CallInstructions> instructions;
  std::vector<std::string> rang;  // users (ids) or numbers in the order they were rung
  std::vector<LifecycleEvent> events;
  v1::CallState final_state;
};

inline constexpr int kMaxSimulationSteps = 64;

absl::StatusOr<SimulationResult> SimulateCall(const v1::FlowBundle& bundle, EngineDeps deps,
                                              const SimulationInput& input);

}  // namespace switchboard::routing
