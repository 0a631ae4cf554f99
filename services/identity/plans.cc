#include "services/identity/plans.h"

#include "absl/strings/str_cat.h"

namespace switchboard::identity {

PlanLimits LimitsOf(Plan plan) {
  switch (plan) {
    case Plan::kSolo: return {1, 1, 500};
    case Plan::kTeam: return {3, 5, 2000};
    case Plan::kBusiness: return {10, 20, 5000};
    case Plan::kEnterprise: return {0, 0, 0};
  }
  return {};
}

absl::Status UserLimitError(Plan plan) {
  const int max = LimitsOf(plan).max_users;
  return absl::FailedPreconditionError(absl::StrCat(
      "user limit reached: plan '", PlanName(plan), "' allows at most ", max,
      max == 1 ? " user" : " users", " (max_users)"));
}

bool WithinUserLimit(Plan plan, int users) {
  const int max = LimitsOf(plan).max_users;
  return max == 0 || users <= max;
}

}  // namespace switchboard::identity
