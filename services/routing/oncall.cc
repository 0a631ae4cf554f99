#include "services/routing/oncall.h"

#include <cstdint>
#include <map>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"

namespace switchboard::routing {
namespace {

constexpr int kMaxPeriodDays = 366;

std::string Join(absl::string_view prefix, absl::string_view field) {
  if (prefix.empty()) return std::string(field);
  return absl::StrCat(prefix, ".", field);
}

bool Blank(absl::string_view text) { return absl::StripAsciiWhitespace(text).empty(); }

// Floor division and non-negative modulo, for days before the anchor.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t PositiveMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return r < 0 ? r + b : r;
}

}  // namespace

std::vector<ScheduleProblem> ValidateRotation(const v1::OnCallRotation& rotation,
                                              absl::string_view path_prefix) {
  std::vector<ScheduleProblem> problems;
  std::string prefix(path_prefix);
  if (rotation.user_ids_size() == 0) {
    problems.push_back({Join(prefix, "user_ids"), "at least one user is required"});
  }
  for (int i = 0; i < rotation.user_ids_size(); ++i) {
    if (Blank(rotation.user_ids(i))) {
      problems.push_back({absl::StrCat(Join(prefix, "user_ids"), "[", i, "]"), "empty user id"});
    }
  }
  if (rotation.period_days() < 1 || rotation.period_days() > kMaxPeriodDays) {
    problems.push_back({Join(prefix, "period_days"),
                        absl::StrCat("must be 1..", kMaxPeriodDays, " (7 = weekly), got ",
                                     rotation.period_days())});
  }
  if (!ParseIsoDate(rotation.anchor_date())) {
    problems.push_back({Join(prefix, "anchor_date"),
                        absl::StrCat("must be a date \"YYYY-MM-DD\", got \"",
                                     rotation.anchor_date(), "\"")});
  }
  if (!ParseClockTime(rotation.handover_time(), /*allow_24=*/false)) {
    problems.push_back({Join(prefix, "handover_time"),
                        absl::StrCat("must be \"HH:MM\" (00:00-23:59), got \"",
                                     rotation.handover_time(), "\"")});
  }
  std::map<absl::CivilDay, int> seen;
  for (int i = 0; i < rotation.overrides_size(); ++i) {
    const auto& override_rule = rotation.overrides(i);
    std::string path = absl::StrCat(Join(prefix, "overrides"), "[", i, "]");
    std::optional<absl::CivilDay> date = ParseIsoDate(override_rule.date());
    if (!date) {
      problems.push_back({Join(path, "date"),
                          absl::StrCat("must be a date \"YYYY-MM-DD\", got \"",
                                       override_rule.date(), "\"")});
    } else if (auto [it, inserted] = seen.emplace(*date, i); !inserted) {
      problems.push_back({Join(path, "date"),
                          absl::StrCat("duplicate of overrides[", it->second, "]")});
    }
    if (Blank(override_rule.user_id())) {
      problems.push_back({Join(path, "user_id"), "required"});
    }
  }
  return problems;
}

absl::StatusOr<std::string> OnCallUserAt(const v1::OnCallRotation& rotation,
                                         absl::TimeZone zone, absl::Time t) {
  std::vector<ScheduleProblem> problems = ValidateRotation(rotation, "rotation");
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(
        problems, "; ", [](std::string* out, const ScheduleProblem& problem) {
          absl::StrAppend(out, problem.path, ": ", problem.message);
        }));
  }
  if (absl::Status status = CheckInstantInRange(t, "time"); !status.ok()) return status;
  const absl::CivilDay anchor = *ParseIsoDate(rotation.anchor_date());
  const int handover = *ParseClockTime(rotation.handover_time(), false);

  const absl::CivilSecond local = zone.At(t).cs;
  absl::CivilDay shift_day(local);
  if (local - absl::CivilSecond(shift_day) < handover) --shift_day;

  for (const auto& override_rule : rotation.overrides()) {
    if (*ParseIsoDate(override_rule.date()) == shift_day) return override_rule.user_id();
  }
  const int64_t shift = FloorDiv(shift_day - anchor, rotation.period_days());
  return rotation.user_ids(static_cast<int>(PositiveMod(shift, rotation.user_ids_size())));
}

}  // namespace switchboard::routing
