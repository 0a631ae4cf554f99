// Webhook signatures of the carriers, exactly as their official SDKs compute and check them
// (reference: ../shared/reference/carriers.md §1.7 and §3.9). Pure functions, thread-safe.
// Secrets (auth token, secret key) never appear in returned errors.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/carrier/model.h"

namespace switchboard::carrier {

// ---- Twilio X-Twilio-Signature ----------------------------------------------------------------

// The string Twilio signs: `url` verbatim, then for each parameter name in byte order, each of
// its *unique* values in byte order, appended as name+value with no separators.
std::string TwilioStringToSign(absl::string_view url, const FormParams& params);

// base64(HMAC-SHA1(key = auth_token, msg = TwilioStringToSign(url, params))). For JSON-body
// webhooks pass an empty `params` and a `url` that carries bodySHA256 (see TwilioBodyHashUrl).
std::string TwilioSignature(absl::string_view auth_token, absl::string_view url,
                            const FormParams& params);

// `url` with `bodySHA256=<lower-hex SHA-256 of raw_body>` appended to its query (the form
// Twilio signs for application/json webhooks).
std::string TwilioBodyHashUrl(absl::string_view url, absl::string_view raw_body);

// The URL forms the SDKs accept for one configured/requested URL, in the order they are tried:
// verbatim; default port removed / default port (:443 https, :80 http) added (a non-default
// port is also tried removed, as twilio-python does); then each of those with `'` percent-encoded
// as `%27` in the query (twilio-node's WHATWG normalisation). Duplicates removed.
std::vector<std::string> TwilioUrlVariants(absl::string_view url);

// True when `header` (the X-Twilio-Signature value) matches any URL variant above. Form POST:
// `params` = every POST field received, `raw_body` ignored. When the URL's query carries
// `bodySHA256`, the request is treated as a JSON-body webhook: the signature must match the URL
// alone (params must be empty) and sha256_hex(raw_body) must equal the bodySHA256 value. An
// empty header is never valid. Comparisons are constant-time.
bool VerifyTwilioSignature(absl::string_view auth_token, absl::string_view url,
                           const FormParams& params, absl::string_view header,
                           absl::string_view raw_body = {});

// ---- Telnyx telnyx-signature-ed25519 ---------------------------------------------------------

inline constexpr absl::Duration kTelnyxTimestampTolerance = absl::Seconds(300);

// base64(Ed25519-Sign(secret_key, timestamp + "|" + raw_body)). `secret_key` is libsodium's
// 64-byte secret key (crypto::Ed25519KeyPair::secret_key); returns "" when it has another size.
// `timestamp` is the exact telnyx-timestamp header value (Unix seconds).
std::string TelnyxSign(absl::string_view secret_key, absl::string_view timestamp,
                       absl::string_view raw_body);

// OK when `signature_base64` (telnyx-signature-ed25519) is a valid signature of
// `timestamp|raw_body` by the account's public key (base64 of 32 raw bytes) and
// |now - timestamp| <= tolerance. Errors (all kPermissionDenied, message says why, never the
// key): "malformed public key", "malformed signature", "malformed timestamp",
// "stale timestamp", "timestamp in the future", "signature mismatch"; an empty signature or
// timestamp is "missing ...".
absl::Status VerifyTelnyxSignature(absl::string_view public_key_base64,
                                   absl::string_view signature_base64,
                                   absl::string_view timestamp, absl::string_view raw_body,
                                   absl::Time now,
                                   absl::Duration tolerance = kTelnyxTimestampTolerance);

}  // namespace switchboard::carrier
