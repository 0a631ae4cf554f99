#include "services/routing/schedule.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace switchboard::routing {
namespace {

using v1::Schedule;

constexpr int kDaySeconds = 24 * 60 * 60;
constexpr int kWeekMinutes = 7 * 24 * 60;
constexpr int kMaxEasterOffset = 200;
constexpr int64_t kMinYear = 1900;
constexpr int64_t kMaxYear = 9999;
// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

constexpr std::array<absl::string_view, 7> kDayFields = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

// Index 0 = Monday, matching Schedule.Weekly's field order.
int DayIndex(absl::Weekday weekday) {
  switch (weekday) {
    case absl::Weekday::monday: return 0;
    case absl::Weekday::tuesday: return 1;
    case absl::Weekday::wednesday: return 2;
    case absl::Weekday::thursday: return 3;
    case absl::Weekday::friday: return 4;
    case absl::Weekday::saturday: return 5;
    case absl::Weekday::sunday: return 6;
  }
  return 0;
}

std::optional<absl::Weekday> FromProtoWeekday(int weekday) {
  switch (weekday) {
    case Schedule::MONDAY: return absl::Weekday::monday;
    case Schedule::TUESDAY: return absl::Weekday::tuesday;
    case Schedule::WEDNESDAY: return absl::Weekday::wednesday;
    case Schedule::THURSDAY: return absl::Weekday::thursday;
    case Schedule::FRIDAY: return absl::Weekday::friday;
    case Schedule::SATURDAY: return absl::Weekday::saturday;
    case Schedule::SUNDAY: return absl::Weekday::sunday;
    default: return std::nullopt;
  }
}

const google::protobuf::RepeatedPtrField<Schedule::TimeRange>& DayRanges(
    const Schedule::Weekly& weekly, int index) {
  switch (index) {
    case 0: return weekly.monday();
    case 1: return weekly.tuesday();
    case 2: return weekly.wednesday();
    case 3: return weekly.thursday();
    case 4: return weekly.friday();
    case 5: return weekly.saturday();
    default: return weekly.sunday();
  }
}

std::string Join(absl::string_view prefix, absl::string_view field) {
  if (prefix.empty()) return std::string(field);
  return absl::StrCat(prefix, ".", field);
}

bool ValidDate(int64_t year, int month, int day) {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  absl::CivilDay civil(year, month, day);
  return civil.year() == year && civil.month() == month && civil.day() == day;
}

bool TimestampInRange(const google::protobuf::Timestamp& ts) {
  return ts.seconds() >= kMinTimestampSeconds && ts.seconds() <= kMaxTimestampSeconds &&
         ts.nanos() >= 0 && ts.nanos() <= 999'999'999;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Checks one TimeRange; appends problems. `partial` ranges may not run overnight.
void ValidateRange(const Schedule::TimeRange& range, const std::string& path, bool partial,
                   std::vector<ScheduleProblem>& problems) {
  std::optional<int> open = ParseClockTime(range.open(), /*allow_24=*/false);
  std::optional<int> close = ParseClockTime(range.close(), /*allow_24=*/true);
  if (!open) {
    problems.push_back({Join(path, "open"),
                        absl::StrCat("must be \"HH:MM\" (00:00-23:59), got \"", range.open(),
                                     "\"")});
  }
  if (!close) {
    problems.push_back({Join(path, "close"),
                        absl::StrCat("must be \"HH:MM\" (00:00-24:00), got \"", range.close(),
                                     "\"")});
  }
  if (partial && open && close && *close <= *open) {
    problems.push_back({Join(path, "close"),
                        absl::StrCat("must be after open (", range.open(),
                                     "); a partial closure cannot run overnight")});
  }
}

// A weekly range as minutes of the week: [start, end), end may pass the end of the week.
struct WeekInterval {
  int day = 0;
  int index = 0;
  int start = 0;
  int end = 0;
  std::string text;
};

bool Overlap(const WeekInterval& a, const WeekInterval& b) {
  for (int shift : {-kWeekMinutes, 0, kWeekMinutes}) {
    if (std::max(a.start, b.start + shift) < std::min(a.end, b.end + shift)) return true;
  }
  return false;
}

void ValidateWeekly(const Schedule::Weekly& weekly, const std::string& path,
                    std::vector<ScheduleProblem>& problems) {
  std::vector<WeekInterval> intervals;
  for (int day = 0; day < 7; ++day) {
    const auto& ranges = DayRanges(weekly, day);
    for (int i = 0; i < ranges.size(); ++i) {
      std::string range_path = absl::StrCat(Join(path, kDayFields[day]), "[", i, "]");
      size_t before = problems.size();
      ValidateRange(ranges[i], range_path, /*partial=*/false, problems);
      if (problems.size() != before) continue;
      int open = *ParseClockTime(ranges[i].open(), false) / 60;
      int close = *ParseClockTime(ranges[i].close(), true) / 60;
      if (close <= open) close += 24 * 60;  // overnight
      intervals.push_back({day, i, day * 24 * 60 + open, day * 24 * 60 + close,
                           absl::StrCat(kDayFields[day], "[", i, "] (", ranges[i].open(), "-",
                                        ranges[i].close(), ")")});
    }
  }
  for (size_t b = 0; b < intervals.size(); ++b) {
    for (size_t a = 0; a < b; ++a) {
      if (!Overlap(intervals[a], intervals[b])) continue;
      problems.push_back(
          {absl::StrCat(Join(path, kDayFields[intervals[b].day]), "[", intervals[b].index, "]"),
           absl::StrCat("overlaps ", intervals[a].text)});
      break;  // one report per range is enough
    }
  }
}

void ValidateHoliday(const Schedule::Holiday& holiday, const std::string& path,
                     std::vector<ScheduleProblem>& problems) {
  if (absl::StripAsciiWhitespace(holiday.name()).empty()) {
    problems.push_back({Join(path, "name"), "required"});
  }
  switch (holiday.date_case()) {
    case Schedule::Holiday::kFixed: {
      const auto& fixed = holiday.fixed();
      std::string fixed_path = Join(path, "fixed");
      if (fixed.year() < kMinYear || fixed.year() > kMaxYear) {
        problems.push_back({Join(fixed_path, "year"),
                            absl::StrCat("must be ", kMinYear, "..", kMaxYear, ", got ",
                                         fixed.year())});
      } else if (fixed.month() < 1 || fixed.month() > 12) {
        problems.push_back({Join(fixed_path, "month"),
                            absl::StrCat("must be 1..12, got ", fixed.month())});
      } else if (!ValidDate(fixed.year(), fixed.month(), fixed.day())) {
        problems.push_back(
            {Join(fixed_path, "day"),
             absl::StrFormat("%04d-%02d-%02d is not a date", fixed.year(), fixed.month(),
                             fixed.day())});
      }
      break;
    }
    case Schedule::Holiday::kRecurring: {
      const auto& recurring = holiday.recurring();
      std::string recurring_path = Join(path, "recurring");
      if (recurring.month() < 1 || recurring.month() > 12) {
        problems.push_back({Join(recurring_path, "month"),
                            absl::StrCat("must be 1..12, got ", recurring.month())});
      } else if (!ValidDate(2000, recurring.month(), recurring.day())) {  // 2000: a leap year
        problems.push_back({Join(recurring_path, "day"),
                            absl::StrFormat("%02d-%02d is not a date in any year",
                                            recurring.month(), recurring.day())});
      }
      break;
    }
    case Schedule::Holiday::kNthWeekday: {
      const auto& nth = holiday.nth_weekday();
      std::string nth_path = Join(path, "nth_weekday");
      if (nth.month() < 1 || nth.month() > 12) {
        problems.push_back(
            {Join(nth_path, "month"), absl::StrCat("must be 1..12, got ", nth.month())});
      }
      if (!FromProtoWeekday(nth.weekday())) {
        problems.push_back({Join(nth_path, "weekday"), "required (MONDAY..SUNDAY)"});
      }
      if (!((nth.nth() >= 1 && nth.nth() <= 5) || nth.nth() == -1)) {
        problems.push_back({Join(nth_path, "nth"),
                            absl::StrCat("must be 1..5 or -1 (last), got ", nth.nth())});
      }
      break;
    }
    case Schedule::Holiday::kEaster: {
      int offset = holiday.easter().offset_days();
      if (offset < -kMaxEasterOffset || offset > kMaxEasterOffset) {
        problems.push_back({Join(Join(path, "easter"), "offset_days"),
                            absl::StrCat("must be ", -kMaxEasterOffset, "..", kMaxEasterOffset,
                                         ", got ", offset)});
      }
      break;
    }
    case Schedule::Holiday::DATE_NOT_SET:
      problems.push_back(
          {path, "a date is required: one of fixed, recurring, nth_weekday, easter"});
      break;
  }
  if (holiday.has_partial()) {
    ValidateRange(holiday.partial(), Join(path, "partial"), /*partial=*/true, problems);
  }
  if (holiday.observed() && holiday.date_case() != Schedule::Holiday::kFixed &&
      holiday.date_case() != Schedule::Holiday::kRecurring) {
    problems.push_back(
        {Join(path, "observed"), "applies only to fixed and recurring dates"});
  }
}

void ValidateOverride(const Schedule::Override& override_rule, const std::string& path,
                      std::vector<ScheduleProblem>& problems) {
  if (override_rule.mode() != Schedule::Override::FORCE_CLOSED &&
      override_rule.mode() != Schedule::Override::FORCE_OPEN) {
    problems.push_back({Join(path, "mode"), "required (FORCE_CLOSED or FORCE_OPEN)"});
  }
  bool start_ok = true;
  if (override_rule.has_start_time() && !TimestampInRange(override_rule.start_time())) {
    problems.push_back({Join(path, "start_time"), "out of range"});
    start_ok = false;
  }
  if (!override_rule.has_end_time()) {
    problems.push_back({Join(path, "end_time"), "required (overrides expire by themselves)"});
  } else if (!TimestampInRange(override_rule.end_time())) {
    problems.push_back({Join(path, "end_time"), "out of range"});
  } else if (start_ok && override_rule.has_start_time() &&
             FromTimestamp(override_rule.end_time()) <=
                 FromTimestamp(override_rule.start_time())) {
    problems.push_back({Join(path, "end_time"), "must be after start_time"});
  }
}

// The civil boundaries of `range` placed on `day`.
void AddRangeBoundaries(absl::CivilDay day, int open_s, int close_s, bool overnight,
                        std::vector<absl::CivilSecond>& out) {
  absl::CivilSecond midnight(day);
  out.push_back(midnight + open_s);
  out.push_back(overnight ? absl::CivilSecond(day + 1) + close_s : midnight + close_s);
}

}  // namespace

absl::StatusOr<absl::TimeZone> LoadZone(absl::string_view iana) {
  auto bad = [&](absl::string_view why) {
    // Escaped and cut short: the name is caller input and ends up in logs.
    return absl::InvalidArgumentError(
        absl::StrCat("time_zone: \"", absl::CHexEscape(iana.substr(0, 64)), "\" ", why));
  };
  if (iana.empty()) {
    return absl::InvalidArgumentError("time_zone: required (IANA name like America/New_York)");
  }
  if (iana.size() > 64) return bad("is too long for an IANA time zone name");
  for (char c : iana) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '+' || c == '/')) {
      return bad("is not an IANA time zone name like America/New_York");
    }
  }
  // Names are paths below the zoneinfo directory: refuse anything that could leave it, and
  // "localtime", which means the machine's zone rather than the company's.
  if (iana.front() == '/' || iana.back() == '/' || absl::StrContains(iana, "//") ||
      iana == "localtime") {
    return bad("is not an IANA time zone name like America/New_York");
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(std::string(iana), &zone)) {
    return bad("is not a known IANA time zone (or the tz database, Debian package tzdata, is "
               "missing)");
  }
  return zone;
}

absl::string_view ScheduleReasonName(ScheduleReason reason) {
  switch (reason) {
    case ScheduleReason::kRegularHours: return "regular_hours";
    case ScheduleReason::kOutsideHours: return "outside_hours";
    case ScheduleReason::kHoliday: return "holiday";
    case ScheduleReason::kPartialClosure: return "partial_closure";
    case ScheduleReason::kOverrideClosed: return "override_closed";
    case ScheduleReason::kOverrideOpen: return "override_open";
  }
  return "unknown";
}

std::optional<int> ParseClockTime(absl::string_view text, bool allow_24) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  int hours = (text[0] - '0') * 10 + (text[1] - '0');
  int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes > 59) return std::nullopt;
  if (hours == 24 && minutes == 0 && allow_24) return kDaySeconds;
  if (hours > 23) return std::nullopt;
  return hours * 3600 + minutes * 60;
}

std::optional<absl::CivilDay> ParseIsoDate(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (int i = 0; i < 10; ++i) {
    if (i == 4 || i == 7) continue;
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  auto number = [&](int from, int len) {
    int value = 0;
    for (int i = from; i < from + len; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  int year = number(0, 4);
  int month = number(5, 2);
  int day = number(8, 2);
  if (year < kMinYear || !ValidDate(year, month, day)) return std::nullopt;
  return absl::CivilDay(year, month, day);
}

absl::CivilDay EasterSunday(int64_t year) {
  const int64_t a = year % 19;
  const int64_t b = year / 100;
  const int64_t c = year % 100;
  const int64_t d = b / 4;
  const int64_t e = b % 4;
  const int64_t f = (b + 8) / 25;
  const int64_t g = (b - f + 1) / 3;
  const int64_t h = (19 * a + b - d - g + 15) % 30;
  const int64_t i = c / 4;
  const int64_t k = c % 4;
  const int64_t l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int64_t m = (a + 11 * h + 22 * l) / 451;
  const int64_t month = (h + l - 7 * m + 114) / 31;
  const int64_t day = (h + l - 7 * m + 114) % 31 + 1;
  return absl::CivilDay(year, static_cast<int>(month), static_cast<int>(day));
}

std::optional<absl::CivilDay> NthWeekdayOf(int64_t year, int month, absl::Weekday weekday,
                                           int nth) {
  if (month < 1 || month > 12) return std::nullopt;
  if (nth == -1) {
    absl::CivilDay last = absl::CivilDay(absl::CivilMonth(year, month) + 1) - 1;
    return absl::PrevWeekday(last + 1, weekday);
  }
  if (nth < 1 || nth > 5) return std::nullopt;
  absl::CivilDay first(year, month, 1);
  absl::CivilDay day = absl::NextWeekday(first - 1, weekday) + 7 * (nth - 1);
  if (day.month() != month) return std::nullopt;
  return day;
}

std::vector<ScheduleProblem> ValidateSchedule(const v1::Schedule& schedule,
                                              absl::string_view path_prefix) {
  std::vector<ScheduleProblem> problems;
  std::string prefix(path_prefix);
  ValidateWeekly(schedule.weekly(), Join(prefix, "weekly"), problems);
  for (int i = 0; i < schedule.holidays_size(); ++i) {
    ValidateHoliday(schedule.holidays(i), absl::StrCat(Join(prefix, "holidays"), "[", i, "]"),
                    problems);
  }
  for (int i = 0; i < schedule.holiday_presets_size(); ++i) {
    if (schedule.holiday_presets(i) != Schedule::US_FEDERAL) {
      problems.push_back({absl::StrCat(Join(prefix, "holiday_presets"), "[", i, "]"),
                          absl::StrCat("unknown preset ", schedule.holiday_presets(i),
                                       " (known: US_FEDERAL)")});
    }
  }
  for (int i = 0; i < schedule.overrides_size(); ++i) {
    ValidateOverride(schedule.overrides(i),
                     absl::StrCat(Join(prefix, "overrides"), "[", i, "]"), problems);
  }
  return problems;
}

absl::StatusOr<CompiledSchedule> CompiledSchedule::Compile(const v1::Schedule& schedule) {
  std::vector<ScheduleProblem> problems = ValidateSchedule(schedule, "schedule");
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(
        problems, "; ", [](std::string* out, const ScheduleProblem& problem) {
          absl::StrAppend(out, problem.path, ": ", problem.message);
        }));
  }
  CompiledSchedule compiled;
  for (int day = 0; day < 7; ++day) {
    for (const Schedule::TimeRange& range : DayRanges(schedule.weekly(), day)) {
      int open = *ParseClockTime(range.open(), false);
      int close = *ParseClockTime(range.close(), true);
      compiled.weekly_[day].push_back({open, close, close <= open});
    }
  }
  for (const Schedule::Holiday& holiday : schedule.holidays()) {
    HolidayRule rule;
    rule.name = holiday.name();
    rule.observed = holiday.observed();
    switch (holiday.date_case()) {
      case Schedule::Holiday::kFixed:
        rule.kind = DateKind::kFixed;
        rule.year = holiday.fixed().year();
        rule.month = holiday.fixed().month();
        rule.day = holiday.fixed().day();
        break;
      case Schedule::Holiday::kRecurring:
        rule.kind = DateKind::kRecurring;
        rule.month = holiday.recurring().month();
        rule.day = holiday.recurring().day();
        break;
      case Schedule::Holiday::kNthWeekday:
        rule.kind = DateKind::kNthWeekday;
        rule.month = holiday.nth_weekday().month();
        rule.weekday = *FromProtoWeekday(holiday.nth_weekday().weekday());
        rule.nth = holiday.nth_weekday().nth();
        break;
      case Schedule::Holiday::kEaster:
        rule.kind = DateKind::kEaster;
        rule.offset_days = holiday.easter().offset_days();
        break;
      case Schedule::Holiday::DATE_NOT_SET:
        break;  // rejected by ValidateSchedule
    }
    if (holiday.has_partial()) {
      rule.partial = Range{*ParseClockTime(holiday.partial().open(), false),
                           *ParseClockTime(holiday.partial().close(), true), false};
    }
    compiled.holidays_.push_back(std::move(rule));
  }
  bool us_federal = false;
  for (int preset : schedule.holiday_presets()) us_federal |= preset == Schedule::US_FEDERAL;
  if (us_federal) {
    auto fixed = [](absl::string_view name, int month, int day) {
      HolidayRule rule;
      rule.name = std::string(name);
      rule.kind = DateKind::kRecurring;
      rule.month = month;
      rule.day = day;
      rule.observed = true;
      return rule;
    };
    auto nth = [](absl::string_view name, int month, absl::Weekday weekday, int n) {
      HolidayRule rule;
      rule.name = std::string(name);
      rule.kind = DateKind::kNthWeekday;
      rule.month = month;
      rule.weekday = weekday;
      rule.nth = n;
      return rule;
    };
    compiled.holidays_.push_back(fixed("New Year's Day", 1, 1));
    compiled.holidays_.push_back(
        nth("Martin Luther King Jr. Day", 1, absl::Weekday::monday, 3));
    compiled.holidays_.push_back(nth("Presidents' Day", 2, absl::Weekday::monday, 3));
    compiled.holidays_.push_back(nth("Memorial Day", 5, absl::Weekday::monday, -1));
    compiled.holidays_.push_back(fixed("Juneteenth", 6, 19));
    compiled.holidays_.push_back(fixed("Independence Day", 7, 4));
    compiled.holidays_.push_back(nth("Labor Day", 9, absl::Weekday::monday, 1));
    compiled.holidays_.push_back(nth("Columbus Day", 10, absl::Weekday::monday, 2));
    compiled.holidays_.push_back(fixed("Veterans Day", 11, 11));
    compiled.holidays_.push_back(nth("Thanksgiving Day", 11, absl::Weekday::thursday, 4));
    compiled.holidays_.push_back(fixed("Christmas Day", 12, 25));
  }
  for (const Schedule::Override& override_rule : schedule.overrides()) {
    OverrideRule rule;
    rule.open = override_rule.mode() == Schedule::Override::FORCE_OPEN;
    if (override_rule.has_start_time()) rule.start = FromTimestamp(override_rule.start_time());
    rule.end = FromTimestamp(override_rule.end_time());
    rule.message = override_rule.message();
    compiled.overrides_.push_back(std::move(rule));
  }
  return compiled;
}

bool CompiledSchedule::Occurs(const HolidayRule& rule, absl::CivilDay day) const {
  // The rule's date in `year`, if it has one.
  auto date_in = [&](int64_t year) -> std::optional<absl::CivilDay> {
    switch (rule.kind) {
      case DateKind::kFixed:
        if (year != rule.year) return std::nullopt;
        return absl::CivilDay(rule.year, rule.month, rule.day);
      case DateKind::kRecurring:
        if (!ValidDate(year, rule.month, rule.day)) return std::nullopt;  // Feb 29
        return absl::CivilDay(year, rule.month, rule.day);
      case DateKind::kNthWeekday:
        return NthWeekdayOf(year, rule.month, rule.weekday, rule.nth);
      case DateKind::kEaster:
        return EasterSunday(year) + rule.offset_days;
    }
    return std::nullopt;
  };
  // Easter offsets and observed shifts can cross a year boundary, hence the neighbours.
  for (int64_t year = day.year() - 1; year <= day.year() + 1; ++year) {
    std::optional<absl::CivilDay> date = date_in(year);
    if (!date) continue;
    if (*date == day) return true;
    if (rule.observed) {
      absl::Weekday weekday = absl::GetWeekday(*date);
      if (weekday == absl::Weekday::saturday && *date - 1 == day) return true;
      if (weekday == absl::Weekday::sunday && *date + 1 == day) return true;
    }
  }
  return false;
}

CompiledSchedule::DayInfo CompiledSchedule::InfoFor(absl::CivilDay day) const {
  DayInfo info;
  for (const HolidayRule& rule : holidays_) {
    if (!Occurs(rule, day)) continue;
    if (rule.partial) {
      info.partials.emplace_back(*rule.partial, rule.name);
    } else if (!info.full_holiday) {
      info.full_holiday = rule.name;
    }
  }
  return info;
}

std::vector<std::string> CompiledSchedule::HolidaysOn(absl::CivilDay day) const {
  std::vector<std::string> names;
  for (const HolidayRule& rule : holidays_) {
    if (Occurs(rule, day)) names.push_back(rule.name);
  }
  return names;
}

ScheduleDecision CompiledSchedule::StateAt(absl::TimeZone zone, absl::Time t,
                                           std::map<absl::CivilDay, DayInfo>& days) const {
  // Overrides: the one that started last wins; on a tie, closed wins.
  const OverrideRule* winner = nullptr;
  for (const OverrideRule& rule : overrides_) {
    if (t < rule.start || t >= rule.end) continue;
    if (winner == nullptr || rule.start > winner->start ||
        (rule.start == winner->start && winner->open && !rule.open)) {
      winner = &rule;
    }
  }
  if (winner != nullptr) {
    return {.open = winner->open,
            .reason = winner->open ? ScheduleReason::kOverrideOpen
                                   : ScheduleReason::kOverrideClosed,
            .detail = winner->message};
  }

  const absl::CivilSecond local = zone.At(t).cs;
  const absl::CivilDay day(local);
  const int seconds = static_cast<int>(local - absl::CivilSecond(day));
  auto cached = days.find(day);
  if (cached == days.end()) cached = days.emplace(day, InfoFor(day)).first;
  const DayInfo& info = cached->second;
  if (info.full_holiday) {
    return {.open = false, .reason = ScheduleReason::kHoliday, .detail = *info.full_holiday};
  }
  for (const auto& [range, name] : info.partials) {
    if (seconds >= range.open_s && seconds < range.close_s) {
      return {.open = false, .reason = ScheduleReason::kPartialClosure, .detail = name};
    }
  }
  const int today = DayIndex(absl::GetWeekday(day));
  for (const Range& range : weekly_[today]) {
    bool inside = range.overnight ? seconds >= range.open_s
                                  : seconds >= range.open_s && seconds < range.close_s;
    if (inside) return {.open = true, .reason = ScheduleReason::kRegularHours};
  }
  const int yesterday = (today + 6) % 7;
  for (const Range& range : weekly_[yesterday]) {
    if (range.overnight && seconds < range.close_s) {
      return {.open = true, .reason = ScheduleReason::kRegularHours};
    }
  }
  return {.open = false, .reason = ScheduleReason::kOutsideHours};
}

absl::Status CheckInstantInRange(absl::Time t, absl::string_view field) {
  static const absl::Time kFirst =
      absl::FromCivil(absl::CivilSecond(kMinYear, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  static const absl::Time kEnd =
      absl::FromCivil(absl::CivilSecond(kMaxYear + 1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  if (t >= kFirst && t < kEnd) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": out of range (years ", kMinYear, "..", kMaxYear, ")"));
}

absl::StatusOr<ScheduleDecision> CompiledSchedule::Evaluate(absl::TimeZone zone,
                                                            absl::Time t) const {
  if (absl::Status status = CheckInstantInRange(t, "time"); !status.ok()) return status;
  std::map<absl::CivilDay, DayInfo> days;
  ScheduleDecision now = StateAt(zone, t, days);
  const absl::Time horizon = t + kNextChangeHorizon;

  // The answer is a function of the local civil time, the local date and the override windows,
  // so it can only change where the wall clock crosses a boundary (including a DST jump over
  // or back across one) or an override starts or ends. Collect those instants, then evaluate
  // them in order.
  std::vector<absl::CivilSecond> civil;
  const absl::CivilDay first_day = absl::CivilDay(zone.At(t).cs) - 1;
  const absl::CivilDay last_day = absl::CivilDay(zone.At(horizon).cs) + 1;
  for (absl::CivilDay day = first_day; day <= last_day; ++day) {
    civil.push_back(absl::CivilSecond(day));  // holidays start and end at midnight
    for (const Range& range : weekly_[DayIndex(absl::GetWeekday(day))]) {
      AddRangeBoundaries(day, range.open_s, range.close_s, range.overnight, civil);
    }
    for (const HolidayRule& rule : holidays_) {
      if (rule.partial && Occurs(rule, day)) {
        AddRangeBoundaries(day, rule.partial->open_s, rule.partial->close_s, false, civil);
      }
    }
  }
  std::vector<absl::Time> candidates;
  for (const absl::CivilSecond& cs : civil) {
    absl::TimeZone::TimeInfo info = zone.At(cs);
    // Unique: pre == trans == post. Skipped: the clock reaches `cs` at the transition.
    // Repeated: the clock passes `cs` twice (pre, post) and jumps back across it (trans).
    for (absl::Time x : {info.pre, info.trans, info.post}) {
      if (x > t && x <= horizon) candidates.push_back(x);
    }
  }
  for (const OverrideRule& rule : overrides_) {
    for (absl::Time x : {rule.start, rule.end}) {
      if (x > t && x <= horizon) candidates.push_back(x);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (absl::Time x : candidates) {
    if (StateAt(zone, x, days).open != now.open) {
      now.next_change = x;
      return now;
    }
  }
  now.next_change = absl::InfiniteFuture();
  return now;
}

absl::StatusOr<ScheduleDecision> EvaluateSchedule(const v1::Schedule& schedule,
                                                  absl::TimeZone zone, absl::Time t) {
  absl::StatusOr<CompiledSchedule> compiled = CompiledSchedule::Compile(schedule);
  if (!compiled.ok()) return compiled.status();
  return compiled->Evaluate(zone, t);
}

}  // namespace switchboard::routing
