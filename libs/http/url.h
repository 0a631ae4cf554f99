// URL and form decoding (RFC 3986 percent-encoding, WHATWG application/x-www-form-urlencoded).
// Pure functions; thread-safe.
//
// Malformed escapes are kept literally, as browsers and the WHATWG URL standard do: "%zz" stays
// "%zz", a trailing "%" or "%4" stays as is. Decoding never fails, so a carrier webhook with an
// odd byte is still parsed and its signature can still be checked over every parameter.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace switchboard::http {

using Params = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes (hex digits either case). '+' is left as '+'. The result is raw bytes
// (usually UTF-8; not validated).
std::string PercentDecode(absl::string_view text);

// Like PercentDecode, but '+' becomes a space first (form and query-string encoding), so "%2B"
// decodes to '+' and "+" to ' '.
std::string FormDecode(absl::string_view text);

// Parses an application/x-www-form-urlencoded body: pairs split on '&', name and value split on
// the first '=', both FormDecode'd. Every pair is kept, duplicates included, in order. Empty
// segments ("a=1&&b=2", trailing '&') are skipped; "a" and "a=" both give ("a", "").
Params ParseForm(absl::string_view body);

// Parses a query string (without the leading '?'); same rules as ParseForm.
Params ParseQuery(absl::string_view query);

// Percent-encodes everything except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string PercentEncode(absl::string_view text);

}  // namespace switchboard::http
