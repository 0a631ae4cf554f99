#include "tools/carrier-emulator/signing.h"

#include "services/carrier/signature.h"

namespace switchboard::carrier_emulator {

// The carrier core's signers (services/carrier/signature.h) are the single implementation of
// both schemes; the emulator signs with them and the service verifies with their counterparts.
std::string TwilioWebhookSignature(absl::string_view auth_token, absl::string_view url,
                                   const http::Params& params) {
  return carrier::TwilioSignature(auth_token, url, params);
}

std::string TelnyxWebhookSignature(absl::string_view secret_key, absl::string_view timestamp,
                                   absl::string_view body) {
  return carrier::TelnyxSign(secret_key, timestamp, body);
}

}  // namespace switchboard::carrier_emulator
