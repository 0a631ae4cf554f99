// Input validation and normalisation for the identity domain. Pure functions, thread-safe.
// Every error is kInvalidArgument and names the offending field.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/identity/model.h"

namespace switchboard::identity {

// Trims and lower-cases `email`, then checks a pragmatic shape: one '@', a non-empty local part,
// a domain with a dot and no empty labels, no spaces or control characters, at most 254 bytes.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view field, absl::string_view email);

// E.164: '+' then 8..15 digits, the first non-zero.
bool IsE164(absl::string_view number);
// OK for an empty value when `optional`; otherwise requires IsE164.
absl::Status ValidateE164(absl::string_view field, absl::string_view number, bool optional);

// A loadable IANA time zone (absl::LoadTimeZone reads the system zoneinfo).
absl::Status ValidateTimeZone(absl::string_view field, absl::string_view tz);

// Trimmed, non-empty, at most `max_len` bytes, no control characters. Returns the trimmed value.
absl::StatusOr<std::string> RequireName(absl::string_view field, absl::string_view value,
                                        size_t max_len = 200);

// Extension: empty (none) or 2..6 digits.
absl::Status ValidateExtension(absl::string_view field, absl::string_view extension);

// Address fields are optional but bounded; `state` and `country`, when set, are 1..3 and 2
// letters respectively. Normalises state/country to upper case.
absl::StatusOr<Address> NormalizeAddress(absl::string_view field, const Address& address);

// Password policy: 8..1024 bytes.
absl::Status ValidatePassword(absl::string_view field, absl::string_view password);

}  // namespace switchboard::identity
