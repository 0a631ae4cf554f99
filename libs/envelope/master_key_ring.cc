#include "libs/envelope/master_key_ring.h"

#include <openssl/crypto.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/crypto/aead.h"
#include "libs/crypto/encoding.h"

namespace switchboard::envelope {
namespace {

bool ValidId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<MasterKeyRing> MasterKeyRing::Parse(absl::string_view spec,
                                                   absl::string_view active_id) {
  MasterKeyRing ring;
  spec = absl::StripAsciiWhitespace(spec);
  if (spec.empty()) return absl::InvalidArgumentError("master_keys: no key configured");
  int index = 0;
  for (absl::string_view entry : absl::StrSplit(spec, ',')) {
    ++index;
    entry = absl::StripAsciiWhitespace(entry);
    size_t colon = entry.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("master_keys: entry ", index, " is not <id>:<base64 key>"));
    }
    absl::string_view id = entry.substr(0, colon);
    if (!ValidId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("master_keys: entry ", index, " has an invalid id (want [A-Za-z0-9_-]{1,64})"));
    }
    absl::StatusOr<std::string> key = crypto::Base64Decode(entry.substr(colon + 1));
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("master_keys: key '", id, "' is not valid base64"));
    }
    if (key->size() != crypto::kAesGcmKeyBytes) {
      size_t n = key->size();
      OPENSSL_cleanse(key->data(), key->size());
      return absl::InvalidArgumentError(absl::StrCat("master_keys: key '", id, "' is ", n,
                                                     " bytes, want 32"));
    }
    if (!ring.keys_.emplace(std::string(id), std::move(*key)).second) {
      return absl::InvalidArgumentError(absl::StrCat("master_keys: duplicate id '", id, "'"));
    }
  }
  if (active_id.empty()) {
    return absl::InvalidArgumentError("active_master_key_id: must not be empty");
  }
  if (ring.keys_.find(active_id) == ring.keys_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("active_master_key_id: '", active_id,
                                                   "' is not among master_keys (",
                                                   absl::StrJoin(ring.ids(), ", "), ")"));
  }
  ring.active_id_ = std::string(active_id);
  return ring;
}

MasterKeyRing::~MasterKeyRing() {
  for (auto& [id, key] : keys_) OPENSSL_cleanse(key.data(), key.size());
}

absl::StatusOr<absl::string_view> MasterKeyRing::Key(absl::string_view id) const {
  auto it = keys_.find(id);
  if (it == keys_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("master key '", id,
                                                      "' is not configured (configured: ",
                                                      absl::StrJoin(ids(), ", "), ")"));
  }
  return absl::string_view(it->second);
}

std::vector<std::string> MasterKeyRing::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, key] : keys_) out.push_back(id);
  return out;
}

}  // namespace switchboard::envelope
