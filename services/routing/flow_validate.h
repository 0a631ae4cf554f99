// Validation of a flow with the ring groups and voicemail boxes it can reach. Returns EVERY
// problem at once, each with its path ("menus[main].keys[3].action.ring_user.user_id") and a
// message ("unknown user u_42"), in document order; empty = valid. The service turns a non-empty
// list into INVALID_ARGUMENT (one "<path>: <message>" per line) and refuses to save.
//
// Checks: ids and kind present; every reference resolves (users, groups, boxes, menus, rotations,
// schedule); E.164 numbers; keys 0-9*# and unique per menu; ring seconds 5-120, menu timeout
// 1-30, attempts 1-5, voicemail length 10-600, greeting text <= 1000 chars and not empty; groups
// not empty, strategy set, no duplicate members; menus that cannot reach an end (a cycle of
// submenus, repeats and information with no way out); a default action that loops back without
// caller input; a ring group whose no-answer fallback cycles back to itself; the operator action
// when a key uses it; a direct line with nowhere to leave a message.
//
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "switchboard/routing/v1/flow.pb.h"

namespace switchboard::routing {

struct ValidationProblem {
  std::string path;
  std::string message;
  std::string ToString() const;  // "<path>: <message>"
};

// What exists outside the bundle (users from the directory, the company's schedules and
// rotations).
struct ValidationContext {
  absl::flat_hash_set<std::string> user_ids;
  absl::flat_hash_set<std::string> schedule_ids;
  absl::flat_hash_set<std::string> rotation_ids;
};

std::vector<ValidationProblem> ValidateFlow(const v1::FlowBundle& bundle,
                                            const ValidationContext& context);

// Problems of one ring group / voicemail box on its own (used by their Save RPCs and by
// ValidateFlow for the ones the flow reaches). Paths start with `prefix`.
void ValidateRingGroup(const v1::RingGroup& group, const ValidationContext& context,
                       const std::string& prefix, const v1::FlowBundle* bundle,
                       std::vector<ValidationProblem>* problems);
void ValidateVoicemailBox(const v1::VoicemailBox& box, const ValidationContext& context,
                          const std::string& prefix, std::vector<ValidationProblem>* problems);

}  // namespace switchboard::routing
