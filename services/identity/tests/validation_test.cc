#include <string>

#include <catch2/catch.hpp>

#include "services/identity/plans.h"
#include "services/identity/validation.h"

namespace switchboard::identity {
namespace {

bool Names(const absl::Status& s, const std::string& field) {
  return s.code() == absl::StatusCode::kInvalidArgument &&
         std::string(s.message()).rfind(field + ":", 0) == 0;
}

TEST_CASE("NormalizeEmail trims, lower-cases and rejects bad shapes", "[validation][identity]") {
  auto ok = NormalizeEmail("email", "  Alice.Smith@Example.COM ");
  REQUIRE(ok.ok());
  CHECK(*ok == "alice.smith@example.com");
  for (const char* bad : {"", "   ", "alice", "@example.com", "alice@", "alice@example",
                          "a@b@c.com", "al ice@example.com", "alice@example..com",
                          "alice@.example.com"}) {
    INFO(bad);
    CHECK(Names(NormalizeEmail("email", bad).status(), "email"));
  }
  CHECK(Names(NormalizeEmail("email", std::string(250, 'a') + "@x.com").status(), "email"));
}

TEST_CASE("E.164 validator", "[validation][identity]") {
  CHECK(IsE164("+14155550100"));
  CHECK(IsE164("+12345678"));           // 8 digits
  CHECK(IsE164("+123456789012345"));    // 15 digits
  CHECK_FALSE(IsE164("+1234567"));      // 7 digits
  CHECK_FALSE(IsE164("+1234567890123456"));  // 16 digits
  CHECK_FALSE(IsE164("14155550100"));   // no plus
  CHECK_FALSE(IsE164("+04155550100"));  // leading zero
  CHECK_FALSE(IsE164("+1415555O100"));  // letter O
  CHECK_FALSE(IsE164("+1 415 555 0100"));
  CHECK_FALSE(IsE164(""));
  CHECK(ValidateE164("forward_to", "", /*optional=*/true).ok());
  CHECK(Names(ValidateE164("forward_to", "", /*optional=*/false), "forward_to"));
  CHECK(Names(ValidateE164("forward_to", "555-0100", true), "forward_to"));
}

TEST_CASE("Time zones must be IANA names from the system zoneinfo", "[validation][identity]") {
  CHECK(ValidateTimeZone("time_zone", "America/New_York").ok());
  CHECK(ValidateTimeZone("time_zone", "Europe/Berlin").ok());
  CHECK(ValidateTimeZone("time_zone", "UTC").ok());
  for (const char* bad : {"", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime",
                          "Fixed/UTC+01:00", "America/New York"}) {
    INFO(bad);
    CHECK(Names(ValidateTimeZone("time_zone", bad), "time_zone"));
  }
}

TEST_CASE("Names, extensions, addresses and passwords", "[validation][identity]") {
  CHECK(*RequireName("name", "  Acme Plumbing ") == "Acme Plumbing");
  CHECK(Names(RequireName("name", "   ").status(), "name"));
  CHECK(Names(RequireName("name", "a\nb").status(), "name"));
  CHECK(Names(RequireName("name", std::string(201, 'x')).status(), "name"));
  CHECK(ValidateExtension("extension", "").ok());
  CHECK(ValidateExtension("extension", "101").ok());
  CHECK(Names(ValidateExtension("extension", "1"), "extension"));
  CHECK(Names(ValidateExtension("extension", "12a"), "extension"));
  CHECK(Names(ValidateExtension("extension", "1234567"), "extension"));
  Address a{.line1 = " 1 Main St ", .state = "ca", .country = "us"};
  auto norm = NormalizeAddress("address", a);
  REQUIRE(norm.ok());
  CHECK(norm->line1 == "1 Main St");
  CHECK(norm->state == "CA");
  CHECK(norm->country == "US");
  CHECK(Names(NormalizeAddress("address", Address{.country = "USA"}).status(), "address.country"));
  CHECK(Names(NormalizeAddress("address", Address{.state = "C-"}).status(), "address.state"));
  CHECK(ValidatePassword("password", "correct horse").ok());
  CHECK(Names(ValidatePassword("password", "short"), "password"));
}

TEST_CASE("Plan limits", "[plans][identity]") {
  CHECK(LimitsOf(Plan::kSolo).max_numbers == 1);
  CHECK(LimitsOf(Plan::kSolo).max_users == 1);
  CHECK(LimitsOf(Plan::kSolo).max_minutes_per_month == 500);
  CHECK(LimitsOf(Plan::kTeam).max_numbers == 3);
  CHECK(LimitsOf(Plan::kTeam).max_users == 5);
  CHECK(LimitsOf(Plan::kTeam).max_minutes_per_month == 2000);
  CHECK(LimitsOf(Plan::kBusiness).max_numbers == 10);
  CHECK(LimitsOf(Plan::kBusiness).max_users == 20);
  CHECK(LimitsOf(Plan::kBusiness).max_minutes_per_month == 5000);
  CHECK(LimitsOf(Plan::kEnterprise).max_users == 0);
  CHECK(WithinUserLimit(Plan::kEnterprise, 100000));
  CHECK(WithinUserLimit(Plan::kTeam, 5));
  CHECK_FALSE(WithinUserLimit(Plan::kTeam, 6));
  absl::Status s = UserLimitError(Plan::kSolo);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(s.message()).find("max_users") != std::string::npos);
  CHECK(std::string(s.message()).find("solo") != std::string::npos);
}

}  // namespace
}  // namespace switchboard::identity
