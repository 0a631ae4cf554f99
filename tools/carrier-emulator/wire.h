// Small helpers shared by the emulator's wire formats (twilio.cc, telnyx.cc, conference.cc):
// each carrier's error body, form/query lookups, E.164 checks, timestamps and TwiML URL
// resolution.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/http/server.h"
#include "libs/http/url.h"

namespace switchboard::carrier_emulator::wire {

// Twilio's JSON error {code, message, more_info, status}.
http::Response TwilioError(int status, int code, absl::string_view message);
// Telnyx's {errors:[{code, title, detail, source.pointer?}]}.
http::Response TelnyxError(int status, absl::string_view code, absl::string_view title,
                           absl::string_view detail, absl::string_view pointer = "");
// The first value of `name` ("" when absent) / whether it is present.
std::string First(const http::Params& params, absl::string_view name);
bool Has(const http::Params& params, absl::string_view name);
bool IsE164(absl::string_view s);
bool IsHttpUrl(absl::string_view s);
std::string Rfc2822(absl::Time t);  // Twilio's timestamps
std::string Iso(absl::Time t);      // Telnyx's (milliseconds, Z)
// A TwiML action/callback URL resolved against the document URL (absolute, root-relative or
// relative); an empty `ref` is the document URL itself (Twilio's default action).
std::string Resolve(const std::string& base, const std::string& ref);

}  // namespace switchboard::carrier_emulator::wire
