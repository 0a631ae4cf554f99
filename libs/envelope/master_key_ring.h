// The master keys of envelope encryption (ARCHITECTURE.md §5), loaded once from configuration.
// Master keys only wrap the per-company data keys; they never touch audio, transcripts or
// message bodies directly, so rotating one re-wraps a few rows and no blob.
//
// Config format: "id1:base64key,id2:base64key" (standard base64 of exactly 32 bytes; ids match
// [A-Za-z0-9_-]{1,64}) plus the id of the active key, which wraps new data keys. Older ids stay
// listed until DataKeyManager::RewrapAll() has moved every data key off them.
// Immutable after Parse(); thread-safe. Key bytes are wiped when the ring is destroyed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::envelope {

class MasterKeyRing {
 public:
  // kInvalidArgument naming "master_keys" (empty list, malformed entry, bad id, bad base64, key
  // not 32 bytes, duplicate id: the message names the id, never the key) or
  // "active_master_key_id" (empty, or not among the ids).
  [[nodiscard]] static absl::StatusOr<MasterKeyRing> Parse(absl::string_view spec,
                                                           absl::string_view active_id);
  ~MasterKeyRing();
  MasterKeyRing(MasterKeyRing&&) = default;
  MasterKeyRing& operator=(MasterKeyRing&&) = default;
  MasterKeyRing(const MasterKeyRing&) = delete;
  MasterKeyRing& operator=(const MasterKeyRing&) = delete;

  const std::string& active_id() const { return active_id_; }
  // The 32 raw key bytes of `id`, or kFailedPrecondition "master key '<id>' is not configured
  // (configured: a, b)" — a data key wrapped by a retired master key.
  [[nodiscard]] absl::StatusOr<absl::string_view> Key(absl::string_view id) const;
  std::vector<std::string> ids() const;

 private:
  MasterKeyRing() = default;
  std::map<std::string, std::string, std::less<>> keys_;
  std::string active_id_;
};

}  // namespace switchboard::envelope
