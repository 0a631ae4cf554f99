// Pure number rules (no I/O): E.164 and NANP validation, the ITU E.161 keypad (vanity letters to
// digits) and search-pattern normalisation. Every function is thread-safe. Errors are
// kInvalidArgument naming the field given by the caller ("e164: ...", "area_code: ...").
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::numbers {

// '+' then 8..15 digits, the first not 0 (ITU-T E.164).
[[nodiscard]] absl::Status ValidateE164(absl::string_view field, absl::string_view e164);

// A NANP number (+1 NPA NXX XXXX): NPA and NXX start with 2-9, NPA is not N11 and not 37X/96X
// (reserved), NXX is not N11. kInvalidArgument naming `field`.
[[nodiscard]] absl::Status ValidateNanp(absl::string_view field, absl::string_view e164);

// ValidateE164, and for +1 numbers ValidateNanp.
[[nodiscard]] absl::Status ValidateBusinessNumber(absl::string_view field, absl::string_view e164);

// A NANP area code: exactly 3 digits, first 2-9, not N11.
[[nodiscard]] absl::Status ValidateAreaCode(absl::string_view field, absl::string_view code);

// "US" or "CA" (the countries supported today); "" is "US". Returns the upper-case code;
// kInvalidArgument naming `field` for any other value.
[[nodiscard]] absl::StatusOr<std::string> NormalizeCountry(absl::string_view field,
                                                         absl::string_view country);

// The E.161 keypad digit for a letter (either case): ABC=2 DEF=3 GHI=4 JKL=5 MNO=6 PQRS=7
// TUV=8 WXYZ=9; a digit or '*' maps to itself; anything else to '\0'.
char KeypadDigit(char c);

// A search pattern with letters mapped to digits: "555-PLUMBER" -> "5557586237". Dashes,
// spaces, dots and parentheses are dropped; digits, letters and '*' are kept; anything else is
// kInvalidArgument naming `field`. At most 16 characters remain (else kInvalidArgument).
[[nodiscard]] absl::StatusOr<std::string> NormalizePattern(absl::string_view field,
                                                         absl::string_view pattern);

// The 3-digit area code of a NANP number, the country ("US"; "CA" for Canadian area codes) and
// whether it is toll free (8XX service codes). Assumes ValidateBusinessNumber passed.
struct NumberFacts {
  std::string country;
  std::string area_code;
  bool toll_free = false;
};
NumberFacts FactsOf(absl::string_view e164);

// Caller ID name (CNAM) rules: at most 15 characters, printable ASCII letters, digits, space and
// & ' , - . ; empty is allowed (the carrier default). kInvalidArgument naming `field`.
[[nodiscard]] absl::Status ValidateCallerIdName(absl::string_view field, absl::string_view name);

}  // namespace switchboard::numbers
