#include "libs/http/url.h"

#include "absl/strings/str_split.h"

namespace switchboard::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(absl::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      // Malformed or truncated escapes stay literal (see url.h).
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string PercentDecode(absl::string_view text) { return Decode(text, false); }

std::string FormDecode(absl::string_view text) { return Decode(text, true); }

Params ParseForm(absl::string_view body) {
  Params params;
  for (absl::string_view pair : absl::StrSplit(body, '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) {
      params.emplace_back(FormDecode(pair), std::string());
    } else {
      params.emplace_back(FormDecode(pair.substr(0, eq)), FormDecode(pair.substr(eq + 1)));
    }
  }
  return params;
}

Params ParseQuery(absl::string_view query) { return ParseForm(query); }

std::string PercentEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace switchboard::http
