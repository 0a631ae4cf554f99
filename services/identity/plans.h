// Plan limits (numbers, users, minutes). Pure, thread-safe.
#pragma once

#include "absl/status/status.h"
#include "services/identity/model.h"

namespace switchboard::identity {

// Solo 1/1/500, Team 3/5/2000, Business 10/20/5000, Enterprise unlimited (all 0).
PlanLimits LimitsOf(Plan plan);

// kFailedPrecondition naming the plan's user limit ("plan 'solo' allows at most 1 user").
absl::Status UserLimitError(Plan plan);

// OK when a company on `plan` may hold `users` counted users (0 limit = unlimited).
bool WithinUserLimit(Plan plan, int users);

}  // namespace switchboard::identity
