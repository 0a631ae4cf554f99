// On-call rotations: weekly Monday 07:00 handover in New York across DST weekends, custom
// periods, instants before the anchor, per-date overrides, validation paths.
#include "services/routing/oncall.h"

#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace switchboard::routing {
namespace {

using v1::OnCallRotation;

absl::TimeZone Zone(const char* name) {
  absl::StatusOr<absl::TimeZone> zone = LoadZone(name);
  REQUIRE(zone.ok());
  return *zone;
}

absl::Time Local(absl::TimeZone zone, int y, int mo, int d, int h, int mi, int s = 0) {
  return zone.At(absl::CivilSecond(y, mo, d, h, mi, s)).pre;
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// Powers Electric's techs: Mike, Jake, Tyler; weekly, handover Monday 07:00, Mike from
// Monday 2026-03-02.
OnCallRotation Techs() {
  OnCallRotation r;
  r.add_user_ids("mike");
  r.add_user_ids("jake");
  r.add_user_ids("tyler");
  r.set_period_days(7);
  r.set_anchor_date("2026-03-02");
  r.set_handover_time("07:00");
  return r;
}

std::string Who(const OnCallRotation& r, absl::TimeZone zone, absl::Time t) {
  absl::StatusOr<std::string> user = OnCallUserAt(r, zone, t);
  REQUIRE(user.ok());
  return *user;
}

TEST_CASE("Weekly rotation hands over Monday 07:00 local across the spring DST weekend",
          "[unit][oncall]") {
  const absl::TimeZone ny = Zone("America/New_York");
  const OnCallRotation r = Techs();
  CHECK(Who(r, ny, Local(ny, 2026, 3, 2, 7, 0)) == "mike");
  CHECK(Who(r, ny, Local(ny, 2026, 3, 2, 6, 59, 59)) == "tyler");  // the week before the anchor
  CHECK(Who(r, ny, Local(ny, 2026, 3, 6, 23, 0)) == "mike");
  CHECK(Who(r, ny, Utc(2026, 3, 8, 7, 30)) == "mike");  // Sunday, just after the jump
  // Monday 2026-03-09: 07:00 EDT is 11:00 UTC (a week earlier it was 12:00 UTC).
  CHECK(Who(r, ny, Utc(2026, 3, 9, 10, 59, 59)) == "mike");
  CHECK(Who(r, ny, Utc(2026, 3, 9, 11, 0)) == "jake");
  CHECK(Who(r, ny, Local(ny, 2026, 3, 16, 7, 0)) == "tyler");
  CHECK(Who(r, ny, Local(ny, 2026, 3, 23, 7, 0)) == "mike");  // wraps around
}

TEST_CASE("Weekly rotation hands over Monday 07:00 local across the autumn DST weekend",
          "[unit][oncall]") {
  const absl::TimeZone ny = Zone("America/New_York");
  const OnCallRotation r = Techs();
  // 2026-10-26 is 34 weeks after the anchor: 34 % 3 == 1 -> jake; 2026-11-02 -> tyler.
  CHECK(Who(r, ny, Local(ny, 2026, 10, 26, 7, 0)) == "jake");
  CHECK(Who(r, ny, Utc(2026, 11, 1, 5, 30)) == "jake");  // 01:30 EDT
  CHECK(Who(r, ny, Utc(2026, 11, 1, 6, 30)) == "jake");  // 01:30 EST
  // Monday 2026-11-02: 07:00 EST is 12:00 UTC.
  CHECK(Who(r, ny, Utc(2026, 11, 2, 11, 59, 59)) == "jake");
  CHECK(Who(r, ny, Utc(2026, 11, 2, 12, 0)) == "tyler");
}

TEST_CASE("Custom periods, far past and per-date overrides", "[unit][oncall]") {
  const absl::TimeZone ny = Zone("America/New_York");
  SECTION("every 2 days at 18:00") {
    OnCallRotation r;
    r.add_user_ids("a");
    r.add_user_ids("b");
    r.set_period_days(2);
    r.set_anchor_date("2026-11-20");
    r.set_handover_time("18:00");
    CHECK(Who(r, ny, Local(ny, 2026, 11, 20, 18, 0)) == "a");
    CHECK(Who(r, ny, Local(ny, 2026, 11, 22, 17, 59)) == "a");
    CHECK(Who(r, ny, Local(ny, 2026, 11, 22, 18, 0)) == "b");
    CHECK(Who(r, ny, Local(ny, 2026, 11, 24, 18, 0)) == "a");
    CHECK(Who(r, ny, Local(ny, 2026, 11, 20, 17, 59)) == "b");  // before the anchor
    CHECK(Who(r, ny, Local(ny, 2026, 11, 16, 18, 0)) == "a");
  }
  SECTION("a single member is always on call") {
    OnCallRotation r = Techs();
    r.clear_user_ids();
    r.add_user_ids("robert");
    CHECK(Who(r, ny, Utc(2031, 1, 1, 0, 0)) == "robert");
    CHECK(Who(r, ny, Utc(2001, 1, 1, 0, 0)) == "robert");
  }
  SECTION("an override replaces the rotation for the shift starting that date") {
    OnCallRotation r = Techs();
    OnCallRotation::Override* o = r.add_overrides();
    o->set_date("2026-12-25");
    o->set_user_id("robert");
    // Week of Monday 2026-12-21 is 42 weeks after the anchor: 42 % 3 == 0 -> mike.
    CHECK(Who(r, ny, Local(ny, 2026, 12, 25, 6, 59)) == "mike");
    CHECK(Who(r, ny, Local(ny, 2026, 12, 25, 7, 0)) == "robert");
    CHECK(Who(r, ny, Local(ny, 2026, 12, 26, 6, 59)) == "robert");
    CHECK(Who(r, ny, Local(ny, 2026, 12, 26, 7, 0)) == "mike");
  }
  SECTION("the zone matters: the same instant in another zone") {
    const absl::TimeZone sydney = Zone("Australia/Sydney");
    const absl::Time t = Utc(2026, 3, 8, 22, 0);  // Sunday 18:00 EDT, Monday 09:00 AEDT
    CHECK(Who(Techs(), ny, t) == "mike");
    CHECK(Who(Techs(), sydney, t) == "jake");
  }
}

TEST_CASE("ValidateRotation reports every problem with its path", "[unit][oncall]") {
  OnCallRotation r;
  r.add_user_ids("mike");
  r.add_user_ids(" ");
  r.set_period_days(0);
  r.set_anchor_date("2026-02-30");
  r.set_handover_time("7:00");
  OnCallRotation::Override* a = r.add_overrides();
  a->set_date("2026-12-25");
  a->set_user_id("robert");
  OnCallRotation::Override* b = r.add_overrides();
  b->set_date("2026-12-25");
  OnCallRotation::Override* c = r.add_overrides();
  c->set_date("Dec 31");
  c->set_user_id("sarah");

  const std::vector<ScheduleProblem> want = {
      {"rotation.user_ids[1]", "empty user id"},
      {"rotation.period_days", "must be 1..366 (7 = weekly), got 0"},
      {"rotation.anchor_date", "must be a date \"YYYY-MM-DD\", got \"2026-02-30\""},
      {"rotation.handover_time", "must be \"HH:MM\" (00:00-23:59), got \"7:00\""},
      {"rotation.overrides[1].date", "duplicate of overrides[0]"},
      {"rotation.overrides[1].user_id", "required"},
      {"rotation.overrides[2].date", "must be a date \"YYYY-MM-DD\", got \"Dec 31\""},
  };
  CHECK(ValidateRotation(r, "rotation") == want);

  absl::StatusOr<std::string> user = OnCallUserAt(r, absl::UTCTimeZone(), absl::Now());
  REQUIRE_FALSE(user.ok());
  CHECK(user.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(user.status().message(), "rotation.period_days: must be 1..366"));

  absl::StatusOr<std::string> never = OnCallUserAt(Techs(), absl::UTCTimeZone(),
                                                   absl::InfiniteFuture());
  REQUIRE_FALSE(never.ok());
  CHECK(never.status().code() == absl::StatusCode::kInvalidArgument);

  OnCallRotation empty;
  std::vector<ScheduleProblem> problems = ValidateRotation(empty, "flows[main].on_call");
  REQUIRE_FALSE(problems.empty());
  CHECK(problems[0] == ScheduleProblem{"flows[main].on_call.user_ids",
                                       "at least one user is required"});
  CHECK(ValidateRotation(Techs(), "rotation").empty());
}

}  // namespace
}  // namespace switchboard::routing
