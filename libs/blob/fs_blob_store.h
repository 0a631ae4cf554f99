// BlobStore on a local directory (the default store; also the test store).
//
// Layout under `root`:
//   objects/<h0>/<h1>/<escaped key>   h0h1 = first two bytes (hex) of SHA-256(key), so no
//                                     directory holds more than ~1/65536 of the objects
//   tmp/<random>.part                 writes in progress (same filesystem, so rename is atomic)
// The escaped file name percent-encodes every byte outside [A-Za-z0-9._-] ('/' too), so it
// decodes back to the key for List(). Keys whose escaped form exceeds 240 bytes are
// kInvalidArgument naming "key" (filesystem name limit).
//
// Durability: Commit() fsyncs the file, renames it over the final name and fsyncs the shard
// directory (and any directory it had to create), so a committed object survives a crash and a
// reader never sees a partial file. Delete() unlinks and fsyncs the directory.
// List() walks every shard directory and sorts the matches: O(objects) per page, fine for the
// orphan sweeper's occasional pass over a local store; use S3 for large deployments.
// Thread-safe; several processes may share one root.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/blob/blob_store.h"

namespace switchboard::blob {

struct FsBlobStoreOptions {
  // Directory holding the store; created (with parents) if missing.
  std::string root;
  // Read buffer size for Get().
  size_t read_chunk_bytes = 256 * 1024;
  // Whether to fsync files and directories (tests and benchmarks may turn it off).
  bool fsync = true;
  // Temp files older than this are removed by Create() (left by crashed writers).
  absl::Duration stale_temp_age = absl::Hours(1);
};

class FsBlobStore final : public BlobStore {
 public:
  // kInvalidArgument naming "root" when empty; kUnavailable when the directories cannot be
  // created or are not writable.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<FsBlobStore>> Create(
      FsBlobStoreOptions options);

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter(absl::string_view key) override;
  absl::Status Get(absl::string_view key, const std::optional<ByteRange>& range,
                   const ChunkSink& sink) override;
  absl::StatusOr<BlobInfo> Stat(absl::string_view key) override;
  absl::Status Delete(absl::string_view key) override;
  absl::StatusOr<ListPage> List(absl::string_view prefix, absl::string_view page_token,
                                int max_keys) override;

  // Absolute path where `key` is (or would be) stored. For tests that inspect raw bytes.
  absl::StatusOr<std::string> PathForTest(absl::string_view key) const { return PathOf(key); }
  const FsBlobStoreOptions& options() const { return options_; }

 private:
  explicit FsBlobStore(FsBlobStoreOptions options) : options_(std::move(options)) {}
  // Validates the key and returns objects/<h0>/<h1>/<escaped>.
  absl::StatusOr<std::string> PathOf(absl::string_view key) const;

  const FsBlobStoreOptions options_;
};

// Percent-encoding used for file names (exposed for tests).
std::string EscapeKeyForFs(absl::string_view key);
std::optional<std::string> UnescapeKeyFromFs(absl::string_view name);

}  // namespace switchboard::blob
