#include "services/numbers/numbering.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace switchboard::numbers {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsN11(absl::string_view three) { return three[1] == '1' && three[2] == '1'; }

// Canadian NPAs (CRTC, 2024), so FactsOf can name the country.
constexpr std::array<const char*, 43> kCanadianNpas = {
    "204", "226", "236", "249", "250", "263", "289", "306", "343", "354", "365",
    "367", "368", "382", "403", "416", "418", "428", "431", "437", "438", "450",
    "468", "474", "506", "514", "519", "548", "579", "581", "584", "587", "604",
    "613", "639", "647", "672", "683", "705", "709", "742", "753", "778"};

}  // namespace

absl::Status ValidateE164(absl::string_view field, absl::string_view e164) {
  if (e164.empty()) return Bad(field, "required");
  if (e164[0] != '+') return Bad(field, "must be E.164 (+ then digits)");
  absl::string_view digits = e164.substr(1);
  if (!AllDigits(digits)) return Bad(field, "must be E.164 (+ then digits only)");
  if (digits.size() < 8 || digits.size() > 15) return Bad(field, "E.164 has 8 to 15 digits");
  if (digits[0] == '0') return Bad(field, "E.164 country code cannot start with 0");
  return absl::OkStatus();
}

absl::Status ValidateNanp(absl::string_view field, absl::string_view e164) {
  if (e164.size() != 12 || e164.substr(0, 2) != "+1" || !AllDigits(e164.substr(2))) {
    return Bad(field, "a NANP number is +1 and 10 digits");
  }
  absl::string_view npa = e164.substr(2, 3);
  absl::string_view nxx = e164.substr(5, 3);
  if (npa[0] < '2') return Bad(field, "NANP area code must start with 2-9");
  if (IsN11(npa)) return Bad(field, "NANP area code cannot be N11");
  if (npa.substr(0, 2) == "37" || npa.substr(0, 2) == "96") {
    return Bad(field, "NANP area code 37X/96X is reserved");
  }
  if (nxx[0] < '2') return Bad(field, "NANP exchange must start with 2-9");
  if (IsN11(nxx)) return Bad(field, "NANP exchange cannot be N11");
  return absl::OkStatus();
}

absl::Status ValidateBusinessNumber(absl::string_view field, absl::string_view e164) {
  if (absl::Status s = ValidateE164(field, e164); !s.ok()) return s;
  if (e164.substr(0, 2) == "+1") return ValidateNanp(field, e164);
  return Bad(field, "only US/CA (+1) numbers are supported");
}

absl::Status ValidateAreaCode(absl::string_view field, absl::string_view code) {
  if (code.size() != 3 || !AllDigits(code)) return Bad(field, "must be 3 digits");
  if (code[0] < '2') return Bad(field, "must start with 2-9");
  if (IsN11(code)) return Bad(field, "cannot be N11");
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeCountry(absl::string_view field, absl::string_view country) {
  if (country.empty()) return std::string("US");
  std::string upper = absl::AsciiStrToUpper(country);
  if (upper == "US" || upper == "CA") return upper;
  return Bad(field, absl::StrCat("unsupported country '", country, "' (US or CA)"));
}

char KeypadDigit(char c) {
  if ((c >= '0' && c <= '9') || c == '*') return c;
  static constexpr char kMap[] = "22233344455566677778889999";  // A..Z
  if (c >= 'a' && c <= 'z') return kMap[c - 'a'];
  if (c >= 'A' && c <= 'Z') return kMap[c - 'A'];
  return '\0';
}

absl::StatusOr<std::string> NormalizePattern(absl::string_view field, absl::string_view pattern) {
  std::string out;
  for (char c : pattern) {
    if (c == '-' || c == ' ' || c == '.' || c == '(' || c == ')') continue;
    const char d = KeypadDigit(c);
    if (d == '\0') {
      return Bad(field, "may hold only digits, letters and '*'");
    }
    out.push_back(d);
  }
  if (out.size() > 16) return Bad(field, "at most 16 digits/letters");
  if (!pattern.empty() && out.empty()) return Bad(field, "has no digits or letters");
  return out;
}

NumberFacts FactsOf(absl::string_view e164) {
  NumberFacts f;
  f.area_code = std::string(e164.substr(2, 3));
  f.toll_free = f.area_code[0] == '8' && f.area_code[1] == f.area_code[2];
  f.country = "US";
  for (const char* npa : kCanadianNpas) {
    if (f.area_code == npa) f.country = "CA";
  }
  return f;
}

absl::Status ValidateCallerIdName(absl::string_view field, absl::string_view name) {
  if (name.size() > 15) return Bad(field, "caller ID name is at most 15 characters");
  for (char c : name) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '&' ||
                    c == '\'' || c == ',' || c == '-' || c == '.';
    if (!ok) return Bad(field, "caller ID name allows letters, digits, space and & ' , - .");
  }
  return absl::OkStatus();
}

}  // namespace switchboard::numbers
