// Webhook signing as the carriers do it (the emulator signs; services/carrier verifies).
// Thin wrappers over services/carrier/signature.h (carrier_core).
// Pure functions, thread-safe.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "libs/http/url.h"

namespace switchboard::carrier_emulator {

// X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + sorted name+value pairs)).
std::string TwilioWebhookSignature(absl::string_view auth_token, absl::string_view url,
                                   const http::Params& params);

// telnyx-signature-ed25519: base64(Ed25519(secret_key, timestamp + "|" + body)).
std::string TelnyxWebhookSignature(absl::string_view secret_key, absl::string_view timestamp,
                                   absl::string_view body);

}  // namespace switchboard::carrier_emulator
