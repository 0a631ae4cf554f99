#include "libs/blob/sigv4.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"

namespace switchboard::blob {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

// Trim, and collapse runs of spaces into one (SigV4 "Trimall").
std::string TrimAll(absl::string_view v) {
  v = absl::StripAsciiWhitespace(v);
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  return out;
}

// name -> joined value, sorted by lower-cased name.
std::map<std::string, std::string> CanonicalHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    std::string lower = absl::AsciiStrToLower(name);
    auto it = out.find(lower);
    if (it == out.end()) {
      out.emplace(std::move(lower), TrimAll(value));
    } else {
      absl::StrAppend(&it->second, ",", TrimAll(value));
    }
  }
  return out;
}

std::string SignedHeaderList(const std::map<std::string, std::string>& canonical) {
  std::vector<absl::string_view> names;
  for (const auto& [name, value] : canonical) names.push_back(name);
  return absl::StrJoin(names, ";");
}

}  // namespace

std::string UriEncode(absl::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) encoded.emplace_back(UriEncode(k, true), UriEncode(v, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, k, "=", v);
  }
  return out;
}

std::string AmzDate(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}

std::string CanonicalRequest(const SigV4Request& request) {
  std::map<std::string, std::string> headers = CanonicalHeaders(request.headers);
  std::string out = absl::StrCat(request.method, "\n", request.canonical_uri, "\n",
                                 CanonicalQueryString(request.query), "\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&out, name, ":", value, "\n");
  absl::StrAppend(&out, "\n", SignedHeaderList(headers), "\n", request.payload_hash);
  return out;
}

std::string SignV4(SigV4Request& request, const SigV4Credentials& credentials,
                   absl::string_view region, absl::string_view service, absl::Time now) {
  std::string amz_date = AmzDate(now);
  std::string date = amz_date.substr(0, 8);
  request.headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  std::string canonical = CanonicalRequest(request);
  std::string scope = absl::StrCat(date, "/", region, "/", service, "/aws4_request");
  std::string string_to_sign = absl::StrCat("AWS4-HMAC-SHA256\n", amz_date, "\n", scope, "\n",
                                            crypto::HexEncode(crypto::Sha256(canonical)));
  std::string key = crypto::HmacSha256(absl::StrCat("AWS4", credentials.secret_access_key), date);
  key = crypto::HmacSha256(key, region);
  key = crypto::HmacSha256(key, service);
  key = crypto::HmacSha256(key, "aws4_request");
  std::string signature = crypto::HexEncode(crypto::HmacSha256(key, string_to_sign));
  return absl::StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key_id, "/", scope,
                      ",SignedHeaders=", SignedHeaderList(CanonicalHeaders(request.headers)),
                      ",Signature=", signature);
}

}  // namespace switchboard::blob
