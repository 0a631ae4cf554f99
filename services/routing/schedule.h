// Business hours, holidays and temporary overrides: is a company open at an instant, why, and
// when does that change. Pure domain code over switchboard.routing.v1.Schedule
// (protos/switchboard/routing/v1/schedule.proto); the only I/O is absl::LoadTimeZone reading the
// system tz database (Debian package `tzdata`).
//
// Local-time semantics. Every rule is a local wall-clock rule. An instant t is turned into the
// absl::CivilSecond the zone's clocks show at t, and that civil time is compared with the
// "HH:MM" boundaries. Consequences on DST days (documented, and pinned by the unit tests):
//   - Spring forward (02:00 -> 03:00 in New York): a range 01:30-03:00 is open 01:30-01:59:59
//     EST and closes at the jump, because the clock then reads 03:00. A range 02:30-04:00 opens at
//     the jump (03:00 EDT). A boundary inside the skipped hour takes effect at the transition.
//   - Fall back (02:00 EDT -> 01:00 EST): the hour 01:00-01:59 happens twice and a boundary inside
//     it is crossed twice. A range 01:30-03:00 is open 01:30 EDT-02:00 EDT, closed again from
//     01:00 EST to 01:30 EST (the clock reads 01:00-01:29), then open until 03:00 EST. Ranges with
//     boundaries outside 01:00-02:00 (i.e. all ordinary business hours) are unaffected.
//   - A "day" (holiday, weekday) is the local calendar day 00:00 to 24:00 on the wall clock.
//
// Precedence at an instant: the active override that started last (tie: closed wins), then a
// full-day holiday on the local date, then a partial-day closure covering the local time, then
// the weekly hours. An overnight range belongs to the day it opens on; on a full-day holiday it
// is closed even if it opened the evening before.
//
// Thread-safety: free functions are reentrant; CompiledSchedule is immutable after Compile() and
// safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "switchboard/routing/v1/schedule.pb.h"

namespace switchboard::routing {

// Loads an IANA zone ("America/New_York") from the system tz database.
// Returns kInvalidArgument for an empty, malformed (path-like, "localtime") or unknown name.
[[nodiscard]] absl::StatusOr<absl::TimeZone> LoadZone(absl::string_view iana);

// One validation problem: `path` names the field ("schedule.weekly.monday[1].close"),
// `message` says what is wrong with it.
struct ScheduleProblem {
  std::string path;
  std::string message;

  bool operator==(const ScheduleProblem&) const = default;
};

// Why a schedule is open or closed at an instant.
enum class ScheduleReason {
  kRegularHours,    // open: inside a weekly range
  kOutsideHours,    // closed: no weekly range covers the time
  kHoliday,         // closed: full-day holiday (detail = holiday name)
  kPartialClosure,  // closed: a holiday's partial-day closure (detail = holiday name)
  kOverrideClosed,  // closed by an override (detail = its message)
  kOverrideOpen,    // open by an override (detail = its message)
};

// "regular_hours", "outside_hours", "holiday", "partial_closure", "override_closed",
// "override_open".
absl::string_view ScheduleReasonName(ScheduleReason reason);

// How far EvaluateSchedule looks for the next change.
inline constexpr absl::Duration kNextChangeHorizon = absl::Hours(24 * 14);

struct ScheduleDecision {
  bool open = false;
  ScheduleReason reason = ScheduleReason::kOutsideHours;
  std::string detail;  // holiday name or override message; empty for weekly hours
  // The first instant after `t` at which `open` differs from now, if within
  // kNextChangeHorizon; otherwise absl::InfiniteFuture(). Changes of reason alone (holiday ->
  // outside hours) do not count.
  absl::Time next_change = absl::InfiniteFuture();
};

// Returns every problem of `schedule` at once (empty = valid). Paths start with `path_prefix`
// ("schedule" gives "schedule.weekly.monday[1].close"; "" gives "weekly.monday[1].close").
// Checks: "HH:MM" syntax and range, overlapping weekly ranges (overnight spill-over included),
// holiday name, exactly one date kind, month/day validity (Feb 30), year 1900..9999, nth 1..5 or
// -1, weekday set, Easter offset -200..200, partial closure close after open, `observed` only on
// fixed/recurring dates, known presets, override mode set, end_time set and after start_time,
// timestamps in range.
std::vector<ScheduleProblem> ValidateSchedule(const v1::Schedule& schedule,
                                              absl::string_view path_prefix);

// A validated, parsed schedule, cheap to evaluate repeatedly (the call engine keeps one per
// flow version).
class CompiledSchedule {
 public:
  // Returns kInvalidArgument listing every ValidateSchedule problem ("path: message; ...").
  [[nodiscard]] static absl::StatusOr<CompiledSchedule> Compile(const v1::Schedule& schedule);

  // The decision at `t` in `zone` (see the file comment for the semantics). Returns
  // kInvalidArgument when `t` lies outside the years 1900..9999 (infinite instants included).
  [[nodiscard]] absl::StatusOr<ScheduleDecision> Evaluate(absl::TimeZone zone,
                                                          absl::Time t) const;

  // Names of the holidays (rules and presets) falling on local date `day`, full-day or partial,
  // in rule order. For listings ("closed on ...") and tests.
  std::vector<std::string> HolidaysOn(absl::CivilDay day) const;

 private:
  struct Range {
    int open_s = 0;   // seconds after local midnight
    int close_s = 0;  // seconds after local midnight of the same day, or of the next day when
                      // `overnight`
    bool overnight = false;
  };
  enum class DateKind { kFixed, kRecurring, kNthWeekday, kEaster };
  struct HolidayRule {
    std::string name;
    DateKind kind = DateKind::kFixed;
    int64_t year = 0;  // kFixed
    int month = 0;     // kFixed, kRecurring, kNthWeekday
    int day = 0;       // kFixed, kRecurring
    absl::Weekday weekday = absl::Weekday::monday;  // kNthWeekday
    int nth = 0;                                    // kNthWeekday
    int offset_days = 0;                            // kEaster
    std::optional<Range> partial;  // nullopt = full day
    bool observed = false;
  };
  struct OverrideRule {
    bool open = false;
    absl::Time start = absl::InfinitePast();
    absl::Time end = absl::InfiniteFuture();
    std::string message;
  };
  // What the local day `day` contributes: the first full-day holiday, partial closures.
  struct DayInfo {
    std::optional<std::string> full_holiday;
    std::vector<std::pair<Range, std::string>> partials;
  };

  CompiledSchedule() = default;

  bool Occurs(const HolidayRule& rule, absl::CivilDay day) const;
  DayInfo InfoFor(absl::CivilDay day) const;
  // The decision at `t` without next_change. `days` memoises InfoFor across the instants one
  // Evaluate() looks at.
  ScheduleDecision StateAt(absl::TimeZone zone, absl::Time t,
                           std::map<absl::CivilDay, DayInfo>& days) const;

  std::array<std::vector<Range>, 7> weekly_;  // index 0 = Monday
  std::vector<HolidayRule> holidays_;
  std::vector<OverrideRule> overrides_;
};

// Compile + Evaluate. Returns kInvalidArgument when the schedule does not validate or `t` is
// out of range.
[[nodiscard]] absl::StatusOr<ScheduleDecision> EvaluateSchedule(const v1::Schedule& schedule,
                                                                absl::TimeZone zone,
                                                                absl::Time t);

// Calendar helpers (exposed for tests and for the on-call code).

// Western Easter Sunday of `year` (Anonymous Gregorian algorithm).
absl::CivilDay EasterSunday(int64_t year);

// The `nth` (1..5, or -1 = last) `weekday` of `month` in `year`; nullopt when that month has no
// such day (a 5th Monday) or the arguments are out of range.
std::optional<absl::CivilDay> NthWeekdayOf(int64_t year, int month, absl::Weekday weekday,
                                           int nth);

// Parses "HH:MM" (two digits each) into seconds after midnight; 00:00..23:59, plus 24:00 when
// `allow_24` is set. nullopt when malformed.
std::optional<int> ParseClockTime(absl::string_view text, bool allow_24);

// OK when `t` lies in the years 1900..9999 UTC, the range schedules and rotations answer for;
// kInvalidArgument naming `field` otherwise.
absl::Status CheckInstantInRange(absl::Time t, absl::string_view field);

// Parses "YYYY-MM-DD" strictly (a real calendar date, year 1900..9999).
std::optional<absl::CivilDay> ParseIsoDate(absl::string_view text);

}  // namespace switchboard::routing
