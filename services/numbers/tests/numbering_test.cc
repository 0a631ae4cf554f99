#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "services/numbers/numbering.h"

namespace switchboard::numbers {
namespace {

TEST_CASE("E.164 validation names the field") {
  CHECK(ValidateE164("e164", "+12035550100").ok());
  CHECK(ValidateE164("e164", "+442071838750").ok());
  for (const char* bad : {"", "12035550100", "+1203555010a", "+0123456789", "+1234567",
                          "+1234567890123456", "+1 203 555 0100"}) {
    absl::Status s = ValidateE164("e164", bad);
    INFO(bad);
    CHECK(absl::IsInvalidArgument(s));
    CHECK(absl::StartsWith(s.message(), "e164: "));
  }
}

TEST_CASE("NANP rules: area code and exchange") {
  CHECK(ValidateBusinessNumber("e164", "+12035550100").ok());
  CHECK(ValidateBusinessNumber("e164", "+18005550100").ok());
  CHECK(absl::IsInvalidArgument(ValidateBusinessNumber("e164", "+11035550100")));  // NPA 1XX
  CHECK(absl::IsInvalidArgument(ValidateBusinessNumber("e164", "+14115550100")));  // N11
  CHECK(absl::IsInvalidArgument(ValidateBusinessNumber("e164", "+13705550100")));  // 37X
  CHECK(absl::IsInvalidArgument(ValidateBusinessNumber("e164", "+12031550100")));  // NXX 1XX
  CHECK(absl::IsInvalidArgument(ValidateBusinessNumber("e164", "+12039110100")));  // NXX N11
  CHECK(absl::IsInvalidArgument(ValidateBusinessNumber("e164", "+120355501000")));
  absl::Status uk = ValidateBusinessNumber("e164", "+442071838750");
  CHECK(absl::IsInvalidArgument(uk));
  CHECK(absl::StrContains(uk.message(), "US/CA"));
}

TEST_CASE("area codes are 3 digits, 2-9 first, not N11") {
  CHECK(ValidateAreaCode("area_code", "203").ok());
  for (const char* bad : {"", "20", "2034", "20a", "103", "911"}) {
    absl::Status s = ValidateAreaCode("area_code", bad);
    INFO(bad);
    CHECK(absl::IsInvalidArgument(s));
    CHECK(absl::StartsWith(s.message(), "area_code: "));
  }
}

TEST_CASE("countries: US and CA only") {
  CHECK(*NormalizeCountry("country", "") == "US");
  CHECK(*NormalizeCountry("country", "ca") == "CA");
  absl::StatusOr<std::string> gb = NormalizeCountry("country", "GB");
  CHECK(absl::IsInvalidArgument(gb.status()));
  CHECK(absl::StartsWith(gb.status().message(), "country: "));
}

TEST_CASE("E.161 keypad maps letters to digits") {
  CHECK(KeypadDigit('A') == '2');
  CHECK(KeypadDigit('c') == '2');
  CHECK(KeypadDigit('P') == '7');
  CHECK(KeypadDigit('S') == '7');
  CHECK(KeypadDigit('V') == '8');
  CHECK(KeypadDigit('Z') == '9');
  CHECK(KeypadDigit('5') == '5');
  CHECK(KeypadDigit('*') == '*');
  CHECK(KeypadDigit('#') == '\0');
  CHECK(*NormalizePattern("contains", "555-PLUMBER") == "5557586237");
  CHECK(*NormalizePattern("contains", "(203) 555-01**") == "20355501**");
  CHECK(*NormalizePattern("contains", "") == "");
}

TEST_CASE("patterns reject other characters and are bounded") {
  for (const char* bad : {"555#", "55_5", "plumb+er", "---", "12345678901234567"}) {
    absl::StatusOr<std::string> p = NormalizePattern("contains", bad);
    INFO(bad);
    CHECK(absl::IsInvalidArgument(p.status()));
    CHECK(absl::StartsWith(p.status().message(), "contains: "));
  }
}

TEST_CASE("facts of a number: area code, toll free, country") {
  NumberFacts f = FactsOf("+12035550100");
  CHECK(f.area_code == "203");
  CHECK(f.country == "US");
  CHECK_FALSE(f.toll_free);
  CHECK(FactsOf("+18885550100").toll_free);
  CHECK(FactsOf("+18005550100").toll_free);
  CHECK(FactsOf("+14165550100").country == "CA");
}

TEST_CASE("caller ID names follow CNAM rules") {
  CHECK(ValidateCallerIdName("caller_id_name", "POWERS ELECTRIC").ok());
  CHECK(ValidateCallerIdName("caller_id_name", "").ok());
  CHECK(absl::IsInvalidArgument(ValidateCallerIdName("caller_id_name", "POWERS ELECTRIC CO")));
  CHECK(absl::IsInvalidArgument(ValidateCallerIdName("caller_id_name", "Powers\tElec")));
  CHECK(absl::IsInvalidArgument(ValidateCallerIdName("caller_id_name", "Pöwers")));
}

}  // namespace
}  // namespace switchboard::numbers
