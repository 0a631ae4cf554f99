// On-call rotations: who is on call at an instant. Pure domain code over
// switchboard.routing.v1.OnCallRotation (protos/switchboard/routing/v1/schedule.proto).
//
// Semantics. Member 0 starts at `anchor_date` `handover_time` local; every `period_days` days at
// `handover_time` the next member takes over, wrapping around (and running backwards the same
// way before the anchor). The instant is read on the local wall clock, like schedule.h: its
// "shift day" is its local date, or the day before when the local time is before
// `handover_time`. Counting whole local days keeps a Monday 07:00 handover at 07:00 on both
// sides of a DST change (the shift that spans the change is one hour shorter or longer). A
// handover time inside a skipped hour takes effect at the jump; one inside a repeated hour is
// crossed twice (avoid 01:00-01:59 handovers in zones that fall back at 02:00).
// An override for a date replaces the rotation's member for the shift starting that date.
//
// Thread-safety: reentrant free functions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/routing/schedule.h"
#include "switchboard/routing/v1/schedule.pb.h"

namespace switchboard::routing {

// Returns every problem of `rotation` at once (empty = valid); paths start with `path_prefix`
// ("rotation" gives "rotation.user_ids[1]"). Checks: at least one user, no empty user id,
// period_days 1..366, anchor_date "YYYY-MM-DD", handover_time "HH:MM" (00:00-23:59), each
// override's date and user id, at most one override per date.
std::vector<ScheduleProblem> ValidateRotation(const v1::OnCallRotation& rotation,
                                              absl::string_view path_prefix);

// The user on call at `t` in `zone`. Returns kInvalidArgument listing the ValidateRotation
// problems ("rotation.period_days: ...") when the rotation is invalid, and kInvalidArgument
// when `t` lies outside the years 1900..9999.
[[nodiscard]] absl::StatusOr<std::string> OnCallUserAt(const v1::OnCallRotation& rotation,
                                                       absl::TimeZone zone, absl::Time t);

}  // namespace switchboard::routing
