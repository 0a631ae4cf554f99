#include "services/identity/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace switchboard::identity {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool HasControlChars(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(absl::string_view field, absl::string_view email) {
  std::string e = absl::AsciiStrToLower(absl::StripAsciiWhitespace(email));
  if (e.empty()) return Invalid(field, "is required");
  if (e.size() > 254) return Invalid(field, "is longer than 254 characters");
  if (HasControlChars(e) || e.find(' ') != std::string::npos) {
    return Invalid(field, "must not contain spaces or control characters");
  }
  size_t at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos) {
    return Invalid(field, "is not a valid email address");
  }
  absl::string_view domain = absl::string_view(e).substr(at + 1);
  if (domain.find('.') == absl::string_view::npos) {
    return Invalid(field, "is not a valid email address");
  }
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    if (label.empty()) return Invalid(field, "is not a valid email address");
  }
  return e;
}

bool IsE164(absl::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+') return false;
  if (number[1] == '0') return false;
  for (size_t i = 1; i < number.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(number[i]))) return false;
  }
  return true;
}

absl::Status ValidateE164(absl::string_view field, absl::string_view number, bool optional) {
  if (number.empty() && optional) return absl::OkStatus();
  if (!IsE164(number)) {
    return Invalid(field, "must be an E.164 number ('+' then 8 to 15 digits, first non-zero)");
  }
  return absl::OkStatus();
}

absl::Status ValidateTimeZone(absl::string_view field, absl::string_view tz) {
  if (tz.empty()) return Invalid(field, "is required");
  absl::TimeZone zone;
  // LoadTimeZone also accepts fixed offsets like "Fixed/UTC+01:00"; only IANA names here.
  if (tz.size() > 64 || tz.find("..") != absl::string_view::npos || tz[0] == '/' ||
      absl::StartsWith(tz, "Fixed/") || !absl::LoadTimeZone(std::string(tz), &zone)) {
    return Invalid(field, absl::StrCat("unknown IANA time zone '", tz, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequireName(absl::string_view field, absl::string_view value,
                                        size_t max_len) {
  std::string v(absl::StripAsciiWhitespace(value));
  if (v.empty()) return Invalid(field, "is required");
  if (v.size() > max_len) return Invalid(field, absl::StrCat("is longer than ", max_len, " bytes"));
  if (HasControlChars(v)) return Invalid(field, "must not contain control characters");
  return v;
}

absl::Status ValidateExtension(absl::string_view field, absl::string_view extension) {
  if (extension.empty()) return absl::OkStatus();
  if (extension.size() < 2 || extension.size() > 6) return Invalid(field, "must be 2 to 6 digits");
  for (char c : extension) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Invalid(field, "must be 2 to 6 digits");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Address> NormalizeAddress(absl::string_view field, const Address& in) {
  Address out;
  auto clean = [&](absl::string_view sub, const std::string& v, size_t max,
                   std::string* dst) -> absl::Status {
    std::string t(absl::StripAsciiWhitespace(v));
    if (t.size() > max || HasControlChars(t)) {
      return Invalid(absl::StrCat(field, ".", sub),
                     absl::StrCat("must be at most ", max, " printable characters"));
    }
    *dst = std::move(t);
    return absl::OkStatus();
  };
  absl::Status s;
  if (!(s = clean("line1", in.line1, 200, &out.line1)).ok()) return s;
  if (!(s = clean("line2", in.line2, 200, &out.line2)).ok()) return s;
  if (!(s = clean("city", in.city, 100, &out.city)).ok()) return s;
  if (!(s = clean("state", in.state, 3, &out.state)).ok()) return s;
  if (!(s = clean("postal_code", in.postal_code, 20, &out.postal_code)).ok()) return s;
  if (!(s = clean("country", in.country, 2, &out.country)).ok()) return s;
  out.state = absl::AsciiStrToUpper(out.state);
  out.country = absl::AsciiStrToUpper(out.country);
  for (char c : out.state) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      return Invalid(absl::StrCat(field, ".state"), "must be a region code like 'CA'");
    }
  }
  if (!out.country.empty()) {
    if (out.country.size() != 2 || !absl::ascii_isalpha(static_cast<unsigned char>(out.country[0])) ||
        !absl::ascii_isalpha(static_cast<unsigned char>(out.country[1]))) {
      return Invalid(absl::StrCat(field, ".country"), "must be an ISO 3166-1 alpha-2 code");
    }
  }
  return out;
}

absl::Status ValidatePassword(absl::string_view field, absl::string_view password) {
  if (password.size() < 8) return Invalid(field, "must be at least 8 characters");
  if (password.size() > 1024) return Invalid(field, "must be at most 1024 bytes");
  return absl::OkStatus();
}

}  // namespace switchboard::identity
