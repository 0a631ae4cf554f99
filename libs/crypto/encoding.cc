#include "libs/crypto/encoding.h"

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace switchboard::crypto {
namespace {

constexpr char kStdAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeDecodeTable(const char* alphabet) {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr std::array<int8_t, 256> kStdDecode = MakeDecodeTable(kStdAlphabet);
constexpr std::array<int8_t, 256> kUrlDecode = MakeDecodeTable(kUrlAlphabet);

std::string Encode(absl::string_view data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t n = byte(i) << 16;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    const uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

// Decodes unpadded groups; `text` must already have its padding stripped.
absl::StatusOr<std::string> DecodeUnpadded(absl::string_view text,
                                           const std::array<int8_t, 256>& table,
                                           absl::string_view field) {
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": invalid length"));
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int8_t v = table[static_cast<uint8_t>(c)];
    if (v == kInvalid) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": invalid character"));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (canonical encoding), otherwise two texts decode alike.
  if ((acc & ((1u << bits) - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": non-canonical trailing bits"));
  }
  return out;
}

size_t CountPadding(absl::string_view text) {
  size_t pad = 0;
  while (pad < text.size() && pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
  return pad;
}

}  // namespace

std::string Base64Encode(absl::string_view data) { return Encode(data, kStdAlphabet, true); }

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("base64: invalid length");
  const size_t pad = CountPadding(text);
  return DecodeUnpadded(text.substr(0, text.size() - pad), kStdDecode, "base64");
}

std::string Base64UrlEncode(absl::string_view data) { return Encode(data, kUrlAlphabet, false); }

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  const size_t pad = CountPadding(text);
  if (pad > 0 && text.size() % 4 != 0) {
    return absl::InvalidArgumentError("base64url: invalid padding");
  }
  absl::string_view body = text.substr(0, text.size() - pad);
  if (pad > 0 && (body.size() + pad) % 4 != 0) {
    return absl::InvalidArgumentError("base64url: invalid padding");
  }
  // Padding, when present, must be exactly what the body length implies.
  if (pad > 0 && (4 - body.size() % 4) % 4 != pad) {
    return absl::InvalidArgumentError("base64url: invalid padding");
  }
  return DecodeUnpadded(body, kUrlDecode, "base64url");
}

std::string HexEncode(absl::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (char c : data) {
    const auto b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

}  // namespace switchboard::crypto
