// Business hours, holidays and overrides: DST in four zones (both hemispheres and one without
// DST), overnight ranges, floating and observed holidays over several years, partial closures,
// overrides expiring, next_change, validation paths, zone loading.
#include "services/routing/schedule.h"

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace switchboard::routing {
namespace {

using v1::Schedule;

absl::TimeZone Zone(const char* name) {
  absl::StatusOr<absl::TimeZone> zone = LoadZone(name);
  REQUIRE(zone.ok());
  return *zone;
}

// The instant a local wall clock shows; for a repeated (fall-back) time the first occurrence,
// for a skipped one the instant computed with the pre-transition offset.
absl::Time Local(absl::TimeZone zone, int y, int mo, int d, int h, int mi, int s = 0) {
  return zone.At(absl::CivilSecond(y, mo, d, h, mi, s)).pre;
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

std::string Fmt(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "never";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

enum Day { kMon, kTue, kWed, kThu, kFri, kSat, kSun };

google::protobuf::RepeatedPtrField<Schedule::TimeRange>* DayOf(Schedule& s, Day day) {
  Schedule::Weekly* w = s.mutable_weekly();
  switch (day) {
    case kMon: return w->mutable_monday();
    case kTue: return w->mutable_tuesday();
    case kWed: return w->mutable_wednesday();
    case kThu: return w->mutable_thursday();
    case kFri: return w->mutable_friday();
    case kSat: return w->mutable_saturday();
    case kSun: return w->mutable_sunday();
  }
  return w->mutable_sunday();
}

void AddRange(Schedule& s, Day day, const char* open, const char* close) {
  Schedule::TimeRange* range = DayOf(s, day)->Add();
  range->set_open(open);
  range->set_close(close);
}

Schedule WeekdayHours(const char* open, const char* close) {
  Schedule s;
  for (Day day : {kMon, kTue, kWed, kThu, kFri}) AddRange(s, day, open, close);
  return s;
}

Schedule::Holiday* Recurring(Schedule& s, const char* name, int month, int day,
                             bool observed = false) {
  Schedule::Holiday* h = s.add_holidays();
  h->set_name(name);
  h->mutable_recurring()->set_month(month);
  h->mutable_recurring()->set_day(day);
  h->set_observed(observed);
  return h;
}

Schedule::Holiday* Fixed(Schedule& s, const char* name, int year, int month, int day) {
  Schedule::Holiday* h = s.add_holidays();
  h->set_name(name);
  h->mutable_fixed()->set_year(year);
  h->mutable_fixed()->set_month(month);
  h->mutable_fixed()->set_day(day);
  return h;
}

Schedule::Holiday* Nth(Schedule& s, const char* name, int month, Schedule::Weekday weekday,
                       int nth) {
  Schedule::Holiday* h = s.add_holidays();
  h->set_name(name);
  h->mutable_nth_weekday()->set_month(month);
  h->mutable_nth_weekday()->set_weekday(weekday);
  h->mutable_nth_weekday()->set_nth(nth);
  return h;
}

Schedule::Holiday* Easter(Schedule& s, const char* name, int offset) {
  Schedule::Holiday* h = s.add_holidays();
  h->set_name(name);
  h->mutable_easter()->set_offset_days(offset);
  return h;
}

void SetTimestamp(google::protobuf::Timestamp* ts, absl::Time t) {
  ts->set_seconds(absl::ToUnixSeconds(t));
  ts->set_nanos(0);
}

Schedule::Override* AddOverride(Schedule& s, Schedule::Override::Mode mode,
                                std::optional<absl::Time> start, absl::Time end,
                                const char* message) {
  Schedule::Override* o = s.add_overrides();
  o->set_mode(mode);
  if (start) SetTimestamp(o->mutable_start_time(), *start);
  SetTimestamp(o->mutable_end_time(), end);
  o->set_message(message);
  return o;
}

ScheduleDecision Eval(const Schedule& s, absl::TimeZone zone, absl::Time t) {
  absl::StatusOr<ScheduleDecision> decision = EvaluateSchedule(s, zone, t);
  REQUIRE(decision.ok());
  return *decision;
}

ScheduleDecision Ev(const CompiledSchedule& compiled, absl::TimeZone zone, absl::Time t) {
  absl::StatusOr<ScheduleDecision> decision = compiled.Evaluate(zone, t);
  REQUIRE(decision.ok());
  return *decision;
}

// ---- Zones -----------------------------------------------------------------------------------

TEST_CASE("LoadZone accepts IANA names and rejects unknown or unsafe ones", "[unit][schedule]") {
  REQUIRE(LoadZone("America/New_York").ok());
  REQUIRE(LoadZone("Australia/Sydney").ok());
  REQUIRE(LoadZone("UTC").ok());
  for (const char* bad : {"Mars/Olympus_Mons", "", "America/New York", "../../etc/passwd",
                          "/etc/passwd", "localtime", "America//New_York", "Fixed/UTC+05:00"}) {
    INFO(bad);
    absl::StatusOr<absl::TimeZone> zone = LoadZone(bad);
    REQUIRE_FALSE(zone.ok());
    CHECK(zone.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(zone.status().message(), "time_zone"));
  }
  CHECK(LoadZone("Mars/Olympus_Mons").status().message() ==
        "time_zone: \"Mars/Olympus_Mons\" is not a known IANA time zone (or the tz database, "
        "Debian package tzdata, is missing)");
  CHECK(LoadZone("Evil\nName").status().message() ==
        "time_zone: \"Evil\\nName\" is not an IANA time zone name like America/New_York");
}

// ---- Calendar helpers ------------------------------------------------------------------------

TEST_CASE("EasterSunday follows the Gregorian computus", "[unit][schedule]") {
  CHECK(EasterSunday(2024) == absl::CivilDay(2024, 3, 31));
  CHECK(EasterSunday(2025) == absl::CivilDay(2025, 4, 20));
  CHECK(EasterSunday(2026) == absl::CivilDay(2026, 4, 5));
  CHECK(EasterSunday(2027) == absl::CivilDay(2027, 3, 28));
  CHECK(EasterSunday(2000) == absl::CivilDay(2000, 4, 23));
  CHECK(EasterSunday(2038) == absl::CivilDay(2038, 4, 25));  // latest possible date
  CHECK(EasterSunday(2285) == absl::CivilDay(2285, 3, 22));  // earliest possible date
}

TEST_CASE("NthWeekdayOf finds nth and last weekdays", "[unit][schedule]") {
  using absl::Weekday;
  const int thanksgiving[] = {27, 26, 25, 23, 22, 28};  // 2025..2030
  for (int year = 2025; year <= 2030; ++year) {
    INFO(year);
    CHECK(NthWeekdayOf(year, 11, Weekday::thursday, 4) ==
          absl::CivilDay(year, 11, thanksgiving[year - 2025]));
  }
  // May 2027 has five Mondays, May 2026 four.
  CHECK(NthWeekdayOf(2027, 5, Weekday::monday, -1) == absl::CivilDay(2027, 5, 31));
  CHECK(NthWeekdayOf(2026, 5, Weekday::monday, -1) == absl::CivilDay(2026, 5, 25));
  CHECK(NthWeekdayOf(2027, 5, Weekday::monday, 5) == absl::CivilDay(2027, 5, 31));
  CHECK(NthWeekdayOf(2026, 5, Weekday::monday, 5) == std::nullopt);
  CHECK(NthWeekdayOf(2026, 13, Weekday::monday, 1) == std::nullopt);
  CHECK(NthWeekdayOf(2026, 5, Weekday::monday, 0) == std::nullopt);
}

TEST_CASE("ParseClockTime and ParseIsoDate are strict", "[unit][schedule]") {
  CHECK(ParseClockTime("07:00", false) == 7 * 3600);
  CHECK(ParseClockTime("23:59", false) == 23 * 3600 + 59 * 60);
  CHECK(ParseClockTime("24:00", true) == 24 * 3600);
  CHECK(ParseClockTime("24:00", false) == std::nullopt);
  for (const char* bad : {"7:00", "07:60", "25:00", "24:01", "0700", "07-00", " 7:00", "ab:cd"}) {
    INFO(bad);
    CHECK(ParseClockTime(bad, true) == std::nullopt);
  }
  CHECK(ParseIsoDate("2028-02-29") == absl::CivilDay(2028, 2, 29));
  for (const char* bad : {"2026-02-29", "2026-02-30", "2026-13-01", "2026-1-01", "26-01-01",
                          "2026/01/01", "1899-12-31"}) {
    INFO(bad);
    CHECK(ParseIsoDate(bad) == std::nullopt);
  }
}

// ---- Weekly hours ----------------------------------------------------------------------------

TEST_CASE("Weekly hours open and close on the local wall clock", "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  const Schedule s = WeekdayHours("07:00", "17:00");

  SECTION("before opening") {
    ScheduleDecision d = Eval(s, ny, Local(ny, 2026, 11, 16, 6, 59, 59));  // Monday
    CHECK_FALSE(d.open);
    CHECK(d.reason == ScheduleReason::kOutsideHours);
    CHECK(d.detail.empty());
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 16, 7, 0)));
  }
  SECTION("at opening, inclusive") {
    ScheduleDecision d = Eval(s, ny, Local(ny, 2026, 11, 16, 7, 0));
    CHECK(d.open);
    CHECK(d.reason == ScheduleReason::kRegularHours);
    CHECK(ScheduleReasonName(d.reason) == "regular_hours");
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 16, 17, 0)));
  }
  SECTION("at closing, exclusive") {
    CHECK(Eval(s, ny, Local(ny, 2026, 11, 16, 16, 59, 59)).open);
    ScheduleDecision d = Eval(s, ny, Local(ny, 2026, 11, 16, 17, 0));
    CHECK_FALSE(d.open);
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 17, 7, 0)));
  }
  SECTION("Friday evening waits for Monday") {
    ScheduleDecision d = Eval(s, ny, Local(ny, 2026, 11, 20, 18, 0));
    CHECK_FALSE(d.open);
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 23, 7, 0)));
    CHECK_FALSE(Eval(s, ny, Local(ny, 2026, 11, 22, 12, 0)).open);  // Sunday
  }
  SECTION("several ranges a day") {
    Schedule lunch;
    AddRange(lunch, kMon, "08:00", "12:00");
    AddRange(lunch, kMon, "13:00", "17:00");
    CHECK(Eval(lunch, ny, Local(ny, 2026, 11, 16, 11, 0)).open);
    ScheduleDecision d = Eval(lunch, ny, Local(ny, 2026, 11, 16, 12, 30));
    CHECK_FALSE(d.open);
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 16, 13, 0)));
    CHECK(Eval(lunch, ny, Local(ny, 2026, 11, 16, 13, 0)).open);
  }
  SECTION("no hours at all: closed, nothing changes") {
    ScheduleDecision d = Eval(Schedule(), ny, Local(ny, 2026, 11, 16, 12, 0));
    CHECK_FALSE(d.open);
    CHECK(d.next_change == absl::InfiniteFuture());
  }
}

TEST_CASE("Overnight ranges run past midnight and across Saturday to Sunday and the week end",
          "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  Schedule s;
  AddRange(s, kFri, "22:00", "06:00");
  AddRange(s, kSat, "22:00", "02:00");
  AddRange(s, kSun, "23:00", "01:00");  // into Monday, i.e. into the next week

  // Friday 2026-11-20.
  CHECK_FALSE(Eval(s, ny, Local(ny, 2026, 11, 20, 21, 59)).open);
  ScheduleDecision fri = Eval(s, ny, Local(ny, 2026, 11, 20, 23, 0));
  CHECK(fri.open);
  CHECK(Fmt(fri.next_change) == Fmt(Local(ny, 2026, 11, 21, 6, 0)));
  CHECK(Eval(s, ny, Local(ny, 2026, 11, 21, 5, 59)).open);  // Saturday morning, from Friday
  ScheduleDecision sat_morning = Eval(s, ny, Local(ny, 2026, 11, 21, 6, 0));
  CHECK_FALSE(sat_morning.open);
  CHECK(Fmt(sat_morning.next_change) == Fmt(Local(ny, 2026, 11, 21, 22, 0)));
  // Saturday night into Sunday.
  ScheduleDecision sun_early = Eval(s, ny, Local(ny, 2026, 11, 22, 1, 30));
  CHECK(sun_early.open);
  CHECK(sun_early.reason == ScheduleReason::kRegularHours);
  CHECK(Fmt(sun_early.next_change) == Fmt(Local(ny, 2026, 11, 22, 2, 0)));
  CHECK_FALSE(Eval(s, ny, Local(ny, 2026, 11, 22, 2, 0)).open);
  // Sunday night into Monday (week wrap).
  CHECK(Eval(s, ny, Local(ny, 2026, 11, 23, 0, 30)).open);
  CHECK_FALSE(Eval(s, ny, Local(ny, 2026, 11, 23, 1, 0)).open);

  SECTION("24-hour days") {
    Schedule all_day;
    AddRange(all_day, kMon, "00:00", "00:00");  // 24 h from Monday 00:00
    AddRange(all_day, kWed, "00:00", "24:00");
    CHECK(Eval(all_day, ny, Local(ny, 2026, 11, 16, 0, 0)).open);
    ScheduleDecision mon = Eval(all_day, ny, Local(ny, 2026, 11, 16, 23, 59, 59));
    CHECK(mon.open);
    CHECK(Fmt(mon.next_change) == Fmt(Local(ny, 2026, 11, 17, 0, 0)));
    CHECK_FALSE(Eval(all_day, ny, Local(ny, 2026, 11, 17, 0, 0)).open);
    CHECK(Eval(all_day, ny, Local(ny, 2026, 11, 18, 23, 0)).open);
    CHECK_FALSE(Eval(all_day, ny, Local(ny, 2026, 11, 19, 0, 0)).open);
  }
}

// ---- DST -------------------------------------------------------------------------------------

TEST_CASE("America/New_York spring forward (2026-03-08 02:00 EST -> 03:00 EDT)",
          "[unit][schedule][dst]") {
  const absl::TimeZone ny = Zone("America/New_York");
  const absl::Time jump = Utc(2026, 3, 8, 7, 0);  // 02:00 EST == 03:00 EDT

  SECTION("business hours keep 07:00 local on both sides") {
    const Schedule s = WeekdayHours("07:00", "17:00");
    ScheduleDecision fri = Eval(s, ny, Local(ny, 2026, 3, 6, 17, 0));
    CHECK_FALSE(fri.open);
    CHECK(Fmt(fri.next_change) == "2026-03-09T11:00:00Z");  // Monday 07:00 EDT
    ScheduleDecision mon = Eval(s, ny, Utc(2026, 3, 9, 11, 0));
    CHECK(mon.open);
    CHECK(Fmt(mon.next_change) == "2026-03-09T21:00:00Z");  // 17:00 EDT
    CHECK(Fmt(Eval(s, ny, Utc(2026, 3, 6, 12, 0)).next_change) == "2026-03-06T22:00:00Z");
  }
  SECTION("a range ending inside the skipped hour closes at the jump") {
    Schedule s;
    AddRange(s, kSun, "01:30", "03:00");
    ScheduleDecision d = Eval(s, ny, Local(ny, 2026, 3, 8, 1, 45));
    CHECK(d.open);
    CHECK(Fmt(d.next_change) == Fmt(jump));
    CHECK_FALSE(Eval(s, ny, jump).open);  // the clock reads 03:00
  }
  SECTION("a range starting inside the skipped hour opens at the jump") {
    Schedule s;
    AddRange(s, kSun, "02:30", "04:00");
    ScheduleDecision before = Eval(s, ny, Local(ny, 2026, 3, 8, 1, 0));
    CHECK_FALSE(before.open);
    CHECK(Fmt(before.next_change) == Fmt(jump));
    ScheduleDecision after = Eval(s, ny, jump);
    CHECK(after.open);
    CHECK(Fmt(after.next_change) == "2026-03-08T08:00:00Z");  // 04:00 EDT
  }
}

TEST_CASE("America/New_York fall back (2026-11-01 02:00 EDT -> 01:00 EST)",
          "[unit][schedule][dst]") {
  const absl::TimeZone ny = Zone("America/New_York");
  const absl::Time back = Utc(2026, 11, 1, 6, 0);  // 02:00 EDT == 01:00 EST

  SECTION("business hours keep 07:00 local on both sides") {
    const Schedule s = WeekdayHours("07:00", "17:00");
    ScheduleDecision fri = Eval(s, ny, Local(ny, 2026, 10, 30, 17, 0));
    CHECK(Fmt(fri.next_change) == "2026-11-02T12:00:00Z");  // Monday 07:00 EST
    CHECK(Fmt(Eval(s, ny, Utc(2026, 11, 2, 12, 0)).next_change) == "2026-11-02T22:00:00Z");
  }
  SECTION("a boundary inside the repeated hour is crossed twice") {
    Schedule s;
    AddRange(s, kSun, "01:30", "03:00");
    ScheduleDecision first = Eval(s, ny, Utc(2026, 11, 1, 5, 30));  // 01:30 EDT
    CHECK(first.open);
    CHECK(Fmt(first.next_change) == Fmt(back));  // the clock goes back to 01:00
    ScheduleDecision repeated = Eval(s, ny, Utc(2026, 11, 1, 6, 15));  // 01:15 EST
    CHECK_FALSE(repeated.open);
    CHECK(Fmt(repeated.next_change) == "2026-11-01T06:30:00Z");  // 01:30 EST
    ScheduleDecision second = Eval(s, ny, Utc(2026, 11, 1, 6, 30));
    CHECK(second.open);
    CHECK(Fmt(second.next_change) == "2026-11-01T08:00:00Z");  // 03:00 EST
  }
  SECTION("a range around the repeated hour stays open through it") {
    Schedule s;
    AddRange(s, kSat, "22:00", "04:00");
    ScheduleDecision d = Eval(s, ny, Utc(2026, 11, 1, 5, 0));  // 01:00 EDT
    CHECK(d.open);
    CHECK(Fmt(d.next_change) == "2026-11-01T09:00:00Z");  // 04:00 EST, 7 real hours after 22:00
  }
}

TEST_CASE("Europe/London DST (2026-03-29 and 2026-10-25)", "[unit][schedule][dst]") {
  const absl::TimeZone london = Zone("Europe/London");
  const Schedule s = WeekdayHours("09:00", "17:30");
  CHECK(Fmt(Eval(s, london, Local(london, 2026, 3, 27, 17, 30)).next_change) ==
        "2026-03-30T08:00:00Z");  // Monday 09:00 BST
  CHECK(Fmt(Eval(s, london, Local(london, 2026, 10, 23, 17, 30)).next_change) ==
        "2026-10-26T09:00:00Z");  // Monday 09:00 GMT
  CHECK(Eval(s, london, Utc(2026, 3, 30, 8, 0)).open);
  CHECK_FALSE(Eval(s, london, Utc(2026, 3, 30, 7, 59)).open);
  CHECK(Eval(s, london, Utc(2026, 10, 26, 9, 0)).open);
  CHECK_FALSE(Eval(s, london, Utc(2026, 10, 26, 8, 59)).open);

  Schedule night;
  AddRange(night, kSun, "00:30", "01:30");  // 01:00-02:00 GMT does not exist on 03-29
  ScheduleDecision d = Eval(night, london, Utc(2026, 3, 29, 0, 45));
  CHECK(d.open);
  CHECK(Fmt(d.next_change) == "2026-03-29T01:00:00Z");
}

TEST_CASE("Australia/Sydney DST, southern hemisphere (ends 2026-04-05, starts 2026-10-04)",
          "[unit][schedule][dst]") {
  const absl::TimeZone sydney = Zone("Australia/Sydney");
  const Schedule s = WeekdayHours("08:30", "17:00");

  ScheduleDecision april = Eval(s, sydney, Local(sydney, 2026, 4, 3, 17, 0));  // 06:00Z AEDT
  CHECK(Fmt(Local(sydney, 2026, 4, 3, 17, 0)) == "2026-04-03T06:00:00Z");
  CHECK(Fmt(april.next_change) == "2026-04-05T22:30:00Z");  // Monday 08:30 AEST (+10)
  ScheduleDecision october = Eval(s, sydney, Local(sydney, 2026, 10, 2, 17, 0));
  CHECK(Fmt(october.next_change) == "2026-10-04T21:30:00Z");  // Monday 08:30 AEDT (+11)

  SECTION("a range entirely inside the skipped hour never opens") {
    Schedule skipped = WeekdayHours("08:30", "17:00");
    AddRange(skipped, kSun, "02:00", "02:45");  // 2026-10-04 02:00 -> 03:00
    ScheduleDecision d = Eval(skipped, sydney, Local(sydney, 2026, 10, 4, 1, 59));
    CHECK_FALSE(d.open);
    CHECK(Fmt(d.next_change) == "2026-10-04T21:30:00Z");
    CHECK_FALSE(Eval(skipped, sydney, Utc(2026, 10, 3, 16, 0)).open);  // the jump: 03:00 AEDT
    // On an ordinary Sunday it does open.
    CHECK(Eval(skipped, sydney, Local(sydney, 2026, 10, 11, 2, 10)).open);
  }
}

TEST_CASE("America/Phoenix has no DST: same UTC hours all year", "[unit][schedule][dst]") {
  const absl::TimeZone phoenix = Zone("America/Phoenix");
  const Schedule s = WeekdayHours("08:00", "17:00");
  CHECK(Fmt(Eval(s, phoenix, Local(phoenix, 2026, 3, 6, 17, 0)).next_change) ==
        "2026-03-09T15:00:00Z");
  CHECK(Fmt(Eval(s, phoenix, Local(phoenix, 2026, 10, 30, 17, 0)).next_change) ==
        "2026-11-02T15:00:00Z");
  CHECK(Eval(s, phoenix, Utc(2026, 7, 15, 15, 0)).open);
  CHECK(Eval(s, phoenix, Utc(2026, 1, 14, 15, 0)).open);
  CHECK_FALSE(Eval(s, phoenix, Utc(2026, 7, 15, 14, 59)).open);

  SECTION("Asia/Kolkata: no DST and a half-hour offset (+05:30)") {
    const absl::TimeZone kolkata = Zone("Asia/Kolkata");
    const Schedule india = WeekdayHours("09:30", "18:00");
    ScheduleDecision fri = Eval(india, kolkata, Utc(2026, 3, 6, 12, 30));  // Friday 18:00 IST
    CHECK_FALSE(fri.open);
    CHECK(Fmt(fri.next_change) == "2026-03-09T04:00:00Z");  // Monday 09:30 IST
    CHECK(Eval(india, kolkata, Utc(2026, 11, 2, 4, 0)).open);
    CHECK_FALSE(Eval(india, kolkata, Utc(2026, 11, 2, 3, 59)).open);
  }
}

TEST_CASE("next_change agrees with a walk of the clock across DST weeks in three zones",
          "[unit][schedule][dst]") {
  // Every boundary below is on a 5-minute grid of local time, and these zones' offsets are whole
  // hours, so sampling every 5 minutes sees every change: for each sample, the first later
  // sample with a different answer must be exactly next_change.
  Schedule s = WeekdayHours("07:00", "17:00");
  AddRange(s, kSat, "22:00", "01:00");
  AddRange(s, kSun, "01:30", "02:15");
  AddRange(s, kSun, "02:30", "04:00");
  AddRange(s, kSun, "12:00", "12:05");
  Schedule::Holiday* lunch = Recurring(s, "Lunch closure", 3, 9);
  lunch->mutable_partial()->set_open("12:00");
  lunch->mutable_partial()->set_close("13:00");
  Recurring(s, "Closed Monday", 11, 2);
  Recurring(s, "Easter Monday-ish", 4, 6);
  Schedule::Holiday* late = Recurring(s, "Late start", 10, 5);
  late->mutable_partial()->set_open("08:30");
  late->mutable_partial()->set_close("10:00");
  AddOverride(s, Schedule::Override::FORCE_CLOSED, Utc(2026, 3, 6, 15, 0),
              Utc(2026, 3, 6, 16, 30), "Closed");
  AddOverride(s, Schedule::Override::FORCE_OPEN, Utc(2026, 10, 24, 10, 0),
              Utc(2026, 10, 24, 12, 0), "Open");
  absl::StatusOr<CompiledSchedule> compiled = CompiledSchedule::Compile(s);
  REQUIRE(compiled.ok());

  struct Window {
    const char* zone;
    absl::Time from;
  };
  const Window windows[] = {
      {"America/New_York", Utc(2026, 3, 6, 0, 0)},
      {"America/New_York", Utc(2026, 10, 30, 0, 0)},
      {"Europe/London", Utc(2026, 3, 27, 0, 0)},
      {"Europe/London", Utc(2026, 10, 23, 0, 0)},
      {"Australia/Sydney", Utc(2026, 4, 2, 0, 0)},
      {"Australia/Sydney", Utc(2026, 10, 1, 0, 0)},
  };
  const absl::Duration step = absl::Minutes(5);
  const int samples = 5 * 24 * 12;  // five days
  int flips = 0;
  for (const Window& window : windows) {
    const absl::TimeZone zone = Zone(window.zone);
    std::vector<ScheduleDecision> decisions;
    for (int i = 0; i < samples; ++i) {
      decisions.push_back(Ev(*compiled, zone, window.from + i * step));
    }
    for (int i = 0; i < samples; ++i) {
      int j = i + 1;
      while (j < samples && decisions[j].open == decisions[i].open) ++j;
      INFO(window.zone << " at " << Fmt(window.from + i * step));
      if (j < samples) {
        CHECK(Fmt(decisions[i].next_change) == Fmt(window.from + j * step));
        ++flips;
      } else {
        CHECK(decisions[i].next_change >= window.from + samples * step);
      }
    }
  }
  CHECK(flips > 6 * 500);  // the walk did see changes in every window
}

// ---- Holidays --------------------------------------------------------------------------------

TEST_CASE("Floating holidays fall on the right day in several years", "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  Schedule s = WeekdayHours("07:00", "17:00");
  Nth(s, "Thanksgiving", 11, Schedule::THURSDAY, 4);
  Nth(s, "Memorial Day", 5, Schedule::MONDAY, -1);
  Nth(s, "MLK Day", 1, Schedule::MONDAY, 3);
  Easter(s, "Easter Monday", 1);
  Easter(s, "Good Friday", -2);
  absl::StatusOr<CompiledSchedule> compiled = CompiledSchedule::Compile(s);
  REQUIRE(compiled.ok());

  auto closed_for = [&](int y, int m, int d) -> std::string {
    ScheduleDecision decision = Ev(*compiled, ny, Local(ny, y, m, d, 10, 0));
    if (decision.open) return "open";
    return decision.reason == ScheduleReason::kHoliday ? decision.detail : "closed";
  };
  const int thanksgiving[] = {27, 26, 25, 23, 22, 28};
  for (int year = 2025; year <= 2030; ++year) {
    INFO(year);
    CHECK(closed_for(year, 11, thanksgiving[year - 2025]) == "Thanksgiving");
    CHECK(closed_for(year, 11, thanksgiving[year - 2025] + 1) == "open");  // the Friday after
  }
  CHECK(closed_for(2026, 5, 25) == "Memorial Day");
  CHECK(closed_for(2027, 5, 31) == "Memorial Day");  // five Mondays: the last one
  CHECK(closed_for(2027, 5, 24) == "open");
  CHECK(closed_for(2025, 4, 21) == "Easter Monday");
  CHECK(closed_for(2026, 4, 6) == "Easter Monday");
  CHECK(closed_for(2027, 3, 29) == "Easter Monday");
  CHECK(closed_for(2026, 4, 3) == "Good Friday");
  CHECK(closed_for(2026, 4, 13) == "open");
  CHECK(closed_for(2025, 1, 20) == "MLK Day");
  CHECK(closed_for(2026, 1, 19) == "MLK Day");
  CHECK(closed_for(2027, 1, 18) == "MLK Day");
  CHECK(closed_for(2026, 1, 12) == "open");

  SECTION("a holiday's closure spans the local day and next_change skips it") {
    ScheduleDecision d = Ev(*compiled, ny, Local(ny, 2026, 11, 25, 17, 0));  // Wed
    CHECK_FALSE(d.open);
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 27, 7, 0)));
    ScheduleDecision h = Ev(*compiled, ny, Local(ny, 2026, 11, 26, 0, 0));
    CHECK(h.reason == ScheduleReason::kHoliday);
    CHECK(ScheduleReasonName(h.reason) == "holiday");
  }
}

TEST_CASE("Fixed, recurring and observed dates", "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  Schedule s = WeekdayHours("07:00", "17:00");
  AddRange(s, kSat, "09:00", "13:00");
  Recurring(s, "Independence Day", 7, 4, /*observed=*/true);
  Recurring(s, "Company Day", 8, 15);
  Fixed(s, "Office move", 2026, 9, 14);
  absl::StatusOr<CompiledSchedule> compiled = CompiledSchedule::Compile(s);
  REQUIRE(compiled.ok());
  auto at10 = [&](int y, int m, int d) { return Ev(*compiled, ny, Local(ny, y, m, d, 10, 0)); };

  // July 4 2026 is a Saturday: Friday July 3 is observed and the Saturday stays closed.
  ScheduleDecision observed = at10(2026, 7, 3);
  CHECK_FALSE(observed.open);
  CHECK(observed.reason == ScheduleReason::kHoliday);
  CHECK(observed.detail == "Independence Day");
  CHECK_FALSE(at10(2026, 7, 4).open);
  CHECK(at10(2026, 7, 6).open);
  CHECK(at10(2026, 7, 11).open);  // an ordinary Saturday
  // July 4 2027 is a Sunday: Monday July 5 is observed.
  CHECK(at10(2027, 7, 5).detail == "Independence Day");
  CHECK_FALSE(at10(2027, 7, 5).open);
  CHECK(at10(2027, 7, 2).open);
  // Not observed: Aug 15 2026 is a Saturday, Friday Aug 14 stays open.
  CHECK(at10(2026, 8, 14).open);
  CHECK(at10(2026, 8, 15).detail == "Company Day");
  // Fixed with a year: only that year.
  CHECK(at10(2026, 9, 14).detail == "Office move");
  CHECK(at10(2027, 9, 14).open);
  CHECK(compiled->HolidaysOn(absl::CivilDay(2026, 7, 3)) ==
        std::vector<std::string>{"Independence Day"});

  SECTION("Feb 29 recurs only in leap years") {
    Schedule leap = WeekdayHours("07:00", "17:00");
    Recurring(leap, "Leap day", 2, 29);
    CHECK_FALSE(Eval(leap, ny, Local(ny, 2028, 2, 29, 10, 0)).open);
    CHECK(Eval(leap, ny, Local(ny, 2027, 3, 1, 10, 0)).open);
    CHECK(Eval(leap, ny, Local(ny, 2027, 2, 26, 10, 0)).open);
  }
}

TEST_CASE("The US federal preset closes its eleven holidays", "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  Schedule s = WeekdayHours("07:00", "17:00");
  s.add_holiday_presets(Schedule::US_FEDERAL);
  absl::StatusOr<CompiledSchedule> compiled = CompiledSchedule::Compile(s);
  REQUIRE(compiled.ok());

  const std::vector<std::pair<absl::CivilDay, std::string>> y2026 = {
      {absl::CivilDay(2026, 1, 1), "New Year's Day"},
      {absl::CivilDay(2026, 1, 19), "Martin Luther King Jr. Day"},
      {absl::CivilDay(2026, 2, 16), "Presidents' Day"},
      {absl::CivilDay(2026, 5, 25), "Memorial Day"},
      {absl::CivilDay(2026, 6, 19), "Juneteenth"},
      {absl::CivilDay(2026, 7, 3), "Independence Day"},  // observed (Jul 4 is a Saturday)
      {absl::CivilDay(2026, 9, 7), "Labor Day"},
      {absl::CivilDay(2026, 10, 12), "Columbus Day"},
      {absl::CivilDay(2026, 11, 11), "Veterans Day"},
      {absl::CivilDay(2026, 11, 26), "Thanksgiving Day"},
      {absl::CivilDay(2026, 12, 25), "Christmas Day"},
  };
  for (const auto& [day, name] : y2026) {
    INFO(absl::FormatCivilTime(day));
    ScheduleDecision d =
        Ev(*compiled, ny, Local(ny, static_cast<int>(day.year()), day.month(), day.day(),
                                     12, 0));
    CHECK_FALSE(d.open);
    CHECK(d.reason == ScheduleReason::kHoliday);
    CHECK(d.detail == name);
  }
  // Every other weekday of 2026 is open at noon: exactly eleven weekday closures.
  int closed_weekdays = 0;
  for (absl::CivilDay day(2026, 1, 1); day.year() == 2026; ++day) {
    absl::Weekday wd = absl::GetWeekday(day);
    if (wd == absl::Weekday::saturday || wd == absl::Weekday::sunday) continue;
    if (!Ev(*compiled, ny, Local(ny, 2026, day.month(), day.day(), 12, 0)).open) {
      ++closed_weekdays;
    }
  }
  CHECK(closed_weekdays == 11);

  SECTION("observed dates cross the year boundary") {
    // Jan 1 2028 is a Saturday: observed on Friday Dec 31 2027.
    ScheduleDecision d = Ev(*compiled, ny, Local(ny, 2027, 12, 31, 12, 0));
    CHECK_FALSE(d.open);
    CHECK(d.detail == "New Year's Day");
    // Christmas 2027 is a Saturday: observed Friday Dec 24.
    CHECK(Ev(*compiled, ny, Local(ny, 2027, 12, 24, 12, 0)).detail == "Christmas Day");
    CHECK(Ev(*compiled, ny, Local(ny, 2027, 12, 27, 12, 0)).open);
  }
}

TEST_CASE("Partial-day closures close part of a day", "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  Schedule s = WeekdayHours("07:00", "17:00");
  Schedule::Holiday* eve = Recurring(s, "Christmas Eve", 12, 24);
  eve->mutable_partial()->set_open("12:00");
  eve->mutable_partial()->set_close("24:00");
  Schedule::Holiday* meeting = Fixed(s, "All-hands", 2026, 11, 18);
  meeting->mutable_partial()->set_open("13:00");
  meeting->mutable_partial()->set_close("15:00");
  s.add_holiday_presets(Schedule::US_FEDERAL);

  ScheduleDecision morning = Eval(s, ny, Local(ny, 2026, 12, 24, 11, 59));
  CHECK(morning.open);
  CHECK(morning.reason == ScheduleReason::kRegularHours);
  CHECK(Fmt(morning.next_change) == Fmt(Local(ny, 2026, 12, 24, 12, 0)));
  ScheduleDecision afternoon = Eval(s, ny, Local(ny, 2026, 12, 24, 12, 0));
  CHECK_FALSE(afternoon.open);
  CHECK(afternoon.reason == ScheduleReason::kPartialClosure);
  CHECK(ScheduleReasonName(afternoon.reason) == "partial_closure");
  CHECK(afternoon.detail == "Christmas Eve");
  // Dec 25 is Christmas (Friday), then the weekend: Monday Dec 28 07:00.
  CHECK(Fmt(afternoon.next_change) == Fmt(Local(ny, 2026, 12, 28, 7, 0)));

  ScheduleDecision during = Eval(s, ny, Local(ny, 2026, 11, 18, 14, 0));
  CHECK_FALSE(during.open);
  CHECK(during.detail == "All-hands");
  CHECK(Fmt(during.next_change) == Fmt(Local(ny, 2026, 11, 18, 15, 0)));
  CHECK(Eval(s, ny, Local(ny, 2026, 11, 18, 15, 0)).open);
  CHECK(Eval(s, ny, Local(ny, 2026, 11, 18, 12, 59)).open);
  // Outside business hours on a partial day the partial closure still names itself.
  CHECK(Eval(s, ny, Local(ny, 2026, 12, 24, 20, 0)).reason == ScheduleReason::kPartialClosure);
  CHECK(Eval(s, ny, Local(ny, 2026, 12, 24, 6, 0)).reason == ScheduleReason::kOutsideHours);
}

// ---- Overrides -------------------------------------------------------------------------------

TEST_CASE("Overrides apply while active and expire by themselves", "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  Schedule s = WeekdayHours("07:00", "17:00");
  const absl::Time storm_start = Local(ny, 2026, 11, 17, 10, 0);  // Tuesday
  const absl::Time storm_end = Local(ny, 2026, 11, 17, 15, 0);
  AddOverride(s, Schedule::Override::FORCE_CLOSED, storm_start, storm_end,
              "Closed for the storm until 3 pm");

  SECTION("before") {
    ScheduleDecision d = Eval(s, ny, Local(ny, 2026, 11, 17, 9, 0));
    CHECK(d.open);
    CHECK(d.reason == ScheduleReason::kRegularHours);
    CHECK(Fmt(d.next_change) == Fmt(storm_start));
  }
  SECTION("during") {
    ScheduleDecision d = Eval(s, ny, storm_start);
    CHECK_FALSE(d.open);
    CHECK(d.reason == ScheduleReason::kOverrideClosed);
    CHECK(ScheduleReasonName(d.reason) == "override_closed");
    CHECK(d.detail == "Closed for the storm until 3 pm");
    CHECK(Fmt(d.next_change) == Fmt(storm_end));
  }
  SECTION("after expiry the weekly hours are back") {
    ScheduleDecision d = Eval(s, ny, storm_end);
    CHECK(d.open);
    CHECK(d.reason == ScheduleReason::kRegularHours);
    CHECK(d.detail.empty());
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 17, 17, 0)));
  }
  SECTION("a later override wins over an earlier one") {
    AddOverride(s, Schedule::Override::FORCE_OPEN, Local(ny, 2026, 11, 17, 12, 0),
                Local(ny, 2026, 11, 17, 13, 0), "Open for pickups");
    ScheduleDecision d = Eval(s, ny, Local(ny, 2026, 11, 17, 12, 30));
    CHECK(d.open);
    CHECK(d.reason == ScheduleReason::kOverrideOpen);
    CHECK(d.detail == "Open for pickups");
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 17, 13, 0)));
    CHECK(Eval(s, ny, Local(ny, 2026, 11, 17, 13, 0)).reason ==
          ScheduleReason::kOverrideClosed);
  }
  SECTION("overrides starting together: closed wins") {
    AddOverride(s, Schedule::Override::FORCE_OPEN, storm_start, storm_end, "Open anyway");
    ScheduleDecision d = Eval(s, ny, storm_start + absl::Minutes(5));
    CHECK_FALSE(d.open);
    CHECK(d.detail == "Closed for the storm until 3 pm");
  }
  SECTION("force open on a Saturday, without a start time") {
    Schedule sat = WeekdayHours("07:00", "17:00");
    AddOverride(sat, Schedule::Override::FORCE_OPEN, std::nullopt,
                Local(ny, 2026, 11, 21, 14, 0), "Open house");
    ScheduleDecision d = Eval(sat, ny, Local(ny, 2026, 11, 21, 10, 0));
    CHECK(d.open);
    CHECK(d.reason == ScheduleReason::kOverrideOpen);
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 21, 14, 0)));
    CHECK_FALSE(Eval(sat, ny, Local(ny, 2026, 11, 21, 14, 0)).open);
  }
  SECTION("an override beats a holiday") {
    Schedule h = WeekdayHours("07:00", "17:00");
    h.add_holiday_presets(Schedule::US_FEDERAL);
    AddOverride(h, Schedule::Override::FORCE_OPEN, Local(ny, 2026, 11, 26, 8, 0),
                Local(ny, 2026, 11, 26, 12, 0), "Emergency service day");
    CHECK(Eval(h, ny, Local(ny, 2026, 11, 26, 9, 0)).open);
    CHECK(Eval(h, ny, Local(ny, 2026, 11, 26, 12, 0)).reason == ScheduleReason::kHoliday);
  }
}

TEST_CASE("next_change looks 14 days ahead at most", "[unit][schedule]") {
  const absl::TimeZone ny = Zone("America/New_York");
  Schedule s = WeekdayHours("07:00", "17:00");
  const absl::Time now = Local(ny, 2026, 11, 16, 9, 0);
  SECTION("a 20-day closure: no change within the horizon") {
    AddOverride(s, Schedule::Override::FORCE_CLOSED, now, now + absl::Hours(24 * 20), "Renovation");
    ScheduleDecision d = Eval(s, ny, now);
    CHECK_FALSE(d.open);
    CHECK(d.next_change == absl::InfiniteFuture());
  }
  SECTION("a 10-day closure ends within the horizon, then the next opening counts") {
    AddOverride(s, Schedule::Override::FORCE_CLOSED, now, Local(ny, 2026, 11, 26, 20, 0),
                "Renovation");
    ScheduleDecision d = Eval(s, ny, now);
    CHECK(Fmt(d.next_change) == Fmt(Local(ny, 2026, 11, 27, 7, 0)));
  }
  SECTION("always open (24 h every day): never changes") {
    Schedule always;
    for (Day day : {kMon, kTue, kWed, kThu, kFri, kSat, kSun}) {
      AddRange(always, day, "00:00", "24:00");
    }
    ScheduleDecision d = Eval(always, ny, now);
    CHECK(d.open);
    CHECK(d.next_change == absl::InfiniteFuture());
  }
}

// ---- Validation ------------------------------------------------------------------------------

TEST_CASE("ValidateSchedule reports every problem with its path", "[unit][schedule]") {
  Schedule s;
  AddRange(s, kMon, "07:00", "12:00");
  AddRange(s, kMon, "13:00", "25:00");
  AddRange(s, kTue, "7:00", "17:00");
  AddRange(s, kWed, "08:00", "12:00");
  AddRange(s, kWed, "11:00", "13:00");
  AddRange(s, kSun, "22:00", "08:00");  // spills into Monday 07:00
  Fixed(s, "Leap", 2026, 2, 30);
  Nth(s, "Sixth Monday", 5, Schedule::MONDAY, 6);
  Nth(s, "", 5, Schedule::WEEKDAY_UNSPECIFIED, -1);
  s.add_holidays()->set_name("No date");
  Easter(s, "Easter", 1)->set_observed(true);
  Schedule::Holiday* eve = Recurring(s, "Eve", 12, 24);
  eve->mutable_partial()->set_open("18:00");
  eve->mutable_partial()->set_close("09:00");
  s.add_holiday_presets(static_cast<Schedule::HolidayPreset>(7));
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  AddOverride(s, Schedule::Override::FORCE_CLOSED, t, t, "zero length");
  s.add_overrides()->set_mode(Schedule::Override::MODE_UNSPECIFIED);

  const std::vector<ScheduleProblem> want = {
      {"schedule.weekly.monday[1].close", "must be \"HH:MM\" (00:00-24:00), got \"25:00\""},
      {"schedule.weekly.tuesday[0].open", "must be \"HH:MM\" (00:00-23:59), got \"7:00\""},
      {"schedule.weekly.wednesday[1]", "overlaps wednesday[0] (08:00-12:00)"},
      {"schedule.weekly.sunday[0]", "overlaps monday[0] (07:00-12:00)"},
      {"schedule.holidays[0].fixed.day", "2026-02-30 is not a date"},
      {"schedule.holidays[1].nth_weekday.nth", "must be 1..5 or -1 (last), got 6"},
      {"schedule.holidays[2].name", "required"},
      {"schedule.holidays[2].nth_weekday.weekday", "required (MONDAY..SUNDAY)"},
      {"schedule.holidays[3]", "a date is required: one of fixed, recurring, nth_weekday, easter"},
      {"schedule.holidays[4].observed", "applies only to fixed and recurring dates"},
      {"schedule.holidays[5].partial.close",
       "must be after open (18:00); a partial closure cannot run overnight"},
      {"schedule.holiday_presets[0]", "unknown preset 7 (known: US_FEDERAL)"},
      {"schedule.overrides[0].end_time", "must be after start_time"},
      {"schedule.overrides[1].mode", "required (FORCE_CLOSED or FORCE_OPEN)"},
      {"schedule.overrides[1].end_time", "required (overrides expire by themselves)"},
  };
  std::vector<ScheduleProblem> got = ValidateSchedule(s, "schedule");
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    INFO(i);
    REQUIRE(i < got.size());
    REQUIRE(i < want.size());
    CHECK(got[i].path == want[i].path);
    CHECK(got[i].message == want[i].message);
  }

  SECTION("EvaluateSchedule refuses an invalid schedule, naming the fields") {
    absl::StatusOr<ScheduleDecision> d = EvaluateSchedule(s, absl::UTCTimeZone(), t);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(d.status().message(), "schedule.weekly.monday[1].close: must be"));
    CHECK(absl::StrContains(d.status().message(), "schedule.overrides[1].mode"));
  }
  SECTION("the prefix is the caller's") {
    Schedule one;
    AddRange(one, kFri, "09:00", "9:30");
    CHECK(ValidateSchedule(one, "flows[main].hours").at(0).path ==
          "flows[main].hours.weekly.friday[0].close");
    CHECK(ValidateSchedule(one, "").at(0).path == "weekly.friday[0].close");
  }
}

TEST_CASE("ValidateSchedule accepts a full valid schedule", "[unit][schedule]") {
  Schedule s = WeekdayHours("07:00", "17:00");
  AddRange(s, kFri, "22:00", "06:00");  // Friday night, touching nothing
  AddRange(s, kSat, "09:00", "24:00");
  AddRange(s, kSun, "00:00", "07:00");  // ends exactly when Monday starts: no overlap
  Recurring(s, "Christmas", 12, 25, true);
  Recurring(s, "Leap day", 2, 29);
  Fixed(s, "Move", 2027, 1, 4);
  Nth(s, "Fifth Monday", 5, Schedule::MONDAY, 5);
  Easter(s, "Good Friday", -2);
  s.add_holiday_presets(Schedule::US_FEDERAL);
  AddOverride(s, Schedule::Override::FORCE_CLOSED, std::nullopt,
              absl::FromUnixSeconds(1'800'000'000), "");
  std::vector<ScheduleProblem> problems = ValidateSchedule(s, "schedule");
  for (const ScheduleProblem& p : problems) UNSCOPED_INFO(p.path << ": " << p.message);
  CHECK(problems.empty());
}

TEST_CASE("Instants outside the years 1900..9999 are refused", "[unit][schedule]") {
  const Schedule s = WeekdayHours("07:00", "17:00");
  for (absl::Time t : {absl::InfiniteFuture(), absl::InfinitePast(),
                       absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0),
                                       absl::UTCTimeZone())}) {
    absl::StatusOr<ScheduleDecision> d = EvaluateSchedule(s, absl::UTCTimeZone(), t);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(d.status().message() == "time: out of range (years 1900..9999)");
  }
  // The last day of year 9999 still answers, its 14-day window reaching into year 10000.
  absl::StatusOr<ScheduleDecision> last = EvaluateSchedule(
      s, absl::UTCTimeZone(),
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 18, 0, 0), absl::UTCTimeZone()));
  REQUIRE(last.ok());
  CHECK(Fmt(last->next_change) == "10000-01-03T07:00:00Z");
}

TEST_CASE("Weekly overlap checks wrap Sunday night into Monday", "[unit][schedule]") {
  Schedule s;
  AddRange(s, kMon, "00:00", "06:00");
  AddRange(s, kSun, "23:00", "00:30");
  std::vector<ScheduleProblem> problems = ValidateSchedule(s, "schedule");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "schedule.weekly.sunday[0]");
  CHECK(problems[0].message == "overlaps monday[0] (00:00-06:00)");
}

}  // namespace
}  // namespace switchboard::routing
