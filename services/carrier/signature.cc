#include "services/carrier/signature.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"

namespace switchboard::carrier {
namespace {

// Splits "scheme://[userinfo@]host[:port]/rest" into its parts. Returns false when the URL has
// no "://" (then no port variants are tried).
struct UrlParts {
  std::string scheme;    // as written
  std::string userinfo;  // with trailing '@', or empty
  std::string host;
  std::string port;  // without ':', or empty
  std::string rest;  // path + query + fragment
};

bool SplitUrl(absl::string_view url, UrlParts* out) {
  size_t sep = url.find("://");
  if (sep == absl::string_view::npos) return false;
  out->scheme = std::string(url.substr(0, sep));
  absl::string_view after = url.substr(sep + 3);
  size_t end = after.find_first_of("/?#");
  absl::string_view authority = after.substr(0, end);
  out->rest = end == absl::string_view::npos ? "" : std::string(after.substr(end));
  size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    out->userinfo = std::string(authority.substr(0, at + 1));
    authority = authority.substr(at + 1);
  }
  // IPv6 literal "[..]" keeps its colons.
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon != absl::string_view::npos &&
      (bracket == absl::string_view::npos || colon > bracket)) {
    out->host = std::string(authority.substr(0, colon));
    out->port = std::string(authority.substr(colon + 1));
  } else {
    out->host = std::string(authority);
  }
  return true;
}

std::string JoinUrl(const UrlParts& p, absl::string_view port) {
  return absl::StrCat(p.scheme, "://", p.userinfo, p.host, port.empty() ? "" : ":", port,
                      p.rest);
}

// The query string of `url` (without '?' and fragment), or empty.
absl::string_view QueryOf(absl::string_view url) {
  size_t q = url.find('?');
  if (q == absl::string_view::npos) return {};
  absl::string_view query = url.substr(q + 1);
  size_t hash = query.find('#');
  return query.substr(0, hash);
}

// The value of query parameter `name` (raw, not decoded), if present.
std::optional<std::string> QueryParam(absl::string_view url, absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(QueryOf(url), '&')) {
    size_t eq = pair.find('=');
    absl::string_view key = pair.substr(0, eq);
    if (key == name) {
      return std::string(eq == absl::string_view::npos ? "" : pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

bool MatchesAnyVariant(absl::string_view auth_token, absl::string_view url,
                       const FormParams& params, absl::string_view header) {
  bool ok = false;
  // Every variant is checked (no early exit) so timing does not depend on which one matched.
  for (const std::string& variant : TwilioUrlVariants(url)) {
    std::string expected = TwilioSignature(auth_token, variant, params);
    ok |= crypto::ConstantTimeEquals(expected, header);
  }
  return ok;
}

}  // namespace

std::string TwilioStringToSign(absl::string_view url, const FormParams& params) {
  std::map<std::string, std::set<std::string>> sorted;  // byte order for both
  for (const auto& [key, value] : params) sorted[key].insert(value);
  std::string out(url);
  for (const auto& [key, values] : sorted) {
    for (const std::string& value : values) absl::StrAppend(&out, key, value);
  }
  return out;
}

std::string TwilioSignature(absl::string_view auth_token, absl::string_view url,
                            const FormParams& params) {
  return crypto::Base64Encode(crypto::HmacSha1(auth_token, TwilioStringToSign(url, params)));
}

std::string TwilioBodyHashUrl(absl::string_view url, absl::string_view raw_body) {
  std::string hash = crypto::HexEncode(crypto::Sha256(raw_body));
  size_t hash_pos = url.find('#');
  absl::string_view base = url.substr(0, hash_pos);
  absl::string_view fragment =
      hash_pos == absl::string_view::npos ? absl::string_view() : url.substr(hash_pos);
  const char* sep = base.find('?') == absl::string_view::npos ? "?" : "&";
  return absl::StrCat(base, sep, "bodySHA256=", hash, fragment);
}

std::vector<std::string> TwilioUrlVariants(absl::string_view url) {
  std::vector<std::string> base;
  base.emplace_back(url);
  UrlParts parts;
  if (SplitUrl(url, &parts)) {
    std::string scheme = absl::AsciiStrToLower(parts.scheme);
    std::string default_port = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
    if (!parts.port.empty()) {
      base.push_back(JoinUrl(parts, ""));  // twilio-python remove_port: any port
    } else if (!default_port.empty()) {
      base.push_back(JoinUrl(parts, default_port));
    }
  }
  std::vector<std::string> out;
  auto add = [&out](std::string v) {
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(std::move(v));
  };
  for (const std::string& v : base) add(v);
  for (const std::string& v : base) {
    size_t q = v.find('?');
    if (q == std::string::npos || v.find('\'', q) == std::string::npos) continue;
    add(absl::StrCat(v.substr(0, q), absl::StrReplaceAll(v.substr(q), {{"'", "%27"}})));
  }
  return out;
}

bool VerifyTwilioSignature(absl::string_view auth_token, absl::string_view url,
                           const FormParams& params, absl::string_view header,
                           absl::string_view raw_body) {
  if (header.empty()) return false;
  std::optional<std::string> body_hash = QueryParam(url, "bodySHA256");
  if (body_hash.has_value()) {
    // JSON-body webhook: the URL alone is signed; the body must hash to bodySHA256.
    if (!params.empty()) return false;
    std::string actual = crypto::HexEncode(crypto::Sha256(raw_body));
    bool body_ok = crypto::ConstantTimeEquals(actual, absl::AsciiStrToLower(*body_hash));
    bool sig_ok = MatchesAnyVariant(auth_token, url, {}, header);
    return body_ok && sig_ok;
  }
  return MatchesAnyVariant(auth_token, url, params, header);
}

std::string TelnyxSign(absl::string_view secret_key, absl::string_view timestamp,
                       absl::string_view raw_body) {
  if (secret_key.size() != crypto::kEd25519SecretKeyBytes) return "";
  std::string message = absl::StrCat(timestamp, "|", raw_body);
  return crypto::Base64Encode(crypto::Ed25519Sign(secret_key, message));
}

absl::Status VerifyTelnyxSignature(absl::string_view public_key_base64,
                                   absl::string_view signature_base64,
                                   absl::string_view timestamp, absl::string_view raw_body,
                                   absl::Time now, absl::Duration tolerance) {
  if (signature_base64.empty()) {
    return absl::PermissionDeniedError("telnyx: missing telnyx-signature-ed25519");
  }
  if (timestamp.empty()) return absl::PermissionDeniedError("telnyx: missing telnyx-timestamp");
  absl::StatusOr<std::string> key = crypto::Base64Decode(public_key_base64);
  if (!key.ok() || key->size() != crypto::kEd25519PublicKeyBytes) {
    return absl::PermissionDeniedError("telnyx: malformed public key (want base64 of 32 bytes)");
  }
  absl::StatusOr<std::string> signature = crypto::Base64Decode(signature_base64);
  if (!signature.ok() || signature->size() != crypto::kEd25519SignatureBytes) {
    return absl::PermissionDeniedError("telnyx: malformed signature (want base64 of 64 bytes)");
  }
  int64_t seconds = 0;
  bool digits_only = std::all_of(timestamp.begin(), timestamp.end(),
                                 [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only || !absl::SimpleAtoi(timestamp, &seconds)) {
    return absl::PermissionDeniedError("telnyx: malformed timestamp (want Unix seconds)");
  }
  absl::Time signed_at = absl::FromUnixSeconds(seconds);
  if (now - signed_at > tolerance) {
    return absl::PermissionDeniedError("telnyx: stale timestamp (outside the tolerance)");
  }
  if (signed_at - now > tolerance) {
    return absl::PermissionDeniedError("telnyx: timestamp in the future (outside the tolerance)");
  }
  std::string message = absl::StrCat(timestamp, "|", raw_body);
  if (!crypto::Ed25519Verify(*key, message, *signature)) {
    return absl::PermissionDeniedError("telnyx: signature mismatch");
  }
  return absl::OkStatus();
}

}  // namespace switchboard::carrier
