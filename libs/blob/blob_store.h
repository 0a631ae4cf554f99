// Object storage behind one interface (issue 6): the local filesystem (FsBlobStore, the default)
// and any S3-compatible service (S3BlobStore: AWS S3, MinIO). Used by `media` for encrypted
// audio; keys are opaque to the store ("<company>/recordings/<id>.sbe").
//
// Contract shared by every implementation:
// - Keys: 1..1024 bytes of UTF-8 without NUL, not starting with '/', with no empty, "." or ".."
//   path segment and no backslash. Anything else is kInvalidArgument naming "key".
// - Writes are atomic: a reader sees either no object or the whole committed object, never a
//   partial one. A writer that is destroyed (or Abort()ed) without Commit() leaves nothing.
//   Committing over an existing key replaces it atomically.
// - Reads stream through a callback (ChunkSink) in pieces of any size; a non-OK status returned
//   by the sink stops the read and is returned unchanged.
// - Errors: kInvalidArgument (bad key / range), kNotFound (no such object), kOutOfRange (range
//   starts at or beyond the object's end), kPermissionDenied (credentials refused),
//   kUnavailable (I/O or network failure worth retrying), kInternal otherwise. Credentials never
//   appear in a message.
// Implementations are thread-safe: any number of reads, writes and deletes may run at once.
// A BlobWriter itself is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::blob {

// Receives object bytes in order. Return non-OK to stop the read.
using ChunkSink = std::function<absl::Status(absl::string_view)>;

// A byte range: `length` bytes from `offset`, or to the end of the object when unset. A range
// that extends past the end is clipped; one that starts at or after the end is kOutOfRange.
// `length == 0` is kInvalidArgument naming "range".
struct ByteRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};

struct BlobInfo {
  std::string key;
  uint64_t size = 0;
  absl::Time modified = absl::InfinitePast();
};

struct ListPage {
  std::vector<BlobInfo> blobs;  // in ascending byte order of key
  // Pass to the next List() call; empty when this was the last page.
  std::string next_page_token;
};

// A pending object. Append() any number of times, then Commit() to publish it atomically.
// Destroying an uncommitted writer aborts it (best effort; errors are logged, not thrown).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Adds bytes. After a failure the writer is dead: further calls return the same error and
  // Commit() fails; nothing is published.
  [[nodiscard]] virtual absl::Status Append(absl::string_view data) = 0;
  // Publishes the object. kFailedPrecondition if already committed or aborted.
  [[nodiscard]] virtual absl::Status Commit() = 0;
  // Discards everything written; idempotent.
  virtual void Abort() = 0;
  // Bytes appended so far.
  virtual uint64_t size() const = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Starts a streaming write of `key`. kInvalidArgument for a bad key; store errors otherwise.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter(
      absl::string_view key) = 0;

  // Streams the object (or `range` of it) to `sink`. kNotFound if absent; kOutOfRange /
  // kInvalidArgument for a bad range (checked before any byte reaches the sink).
  [[nodiscard]] virtual absl::Status Get(absl::string_view key,
                                         const std::optional<ByteRange>& range,
                                         const ChunkSink& sink) = 0;

  // Size and modification time. kNotFound if absent.
  [[nodiscard]] virtual absl::StatusOr<BlobInfo> Stat(absl::string_view key) = 0;

  // Removes the object; OK when it did not exist (idempotent).
  [[nodiscard]] virtual absl::Status Delete(absl::string_view key) = 0;

  // Up to `max_keys` (1..1000, else kInvalidArgument naming "max_keys") objects whose key starts
  // with `prefix` (may be empty: all), in key order, continuing after `page_token` (from the
  // previous page; empty for the first). For sweepers: objects written or deleted while paging
  // may or may not appear.
  [[nodiscard]] virtual absl::StatusOr<ListPage> List(absl::string_view prefix,
                                                      absl::string_view page_token,
                                                      int max_keys) = 0;

  // Convenience: NewWriter + Append + Commit.
  [[nodiscard]] absl::Status Put(absl::string_view key, absl::string_view data);
  // Convenience: Get into a string (tests, small objects).
  [[nodiscard]] absl::StatusOr<std::string> ReadAll(absl::string_view key,
                                                    const std::optional<ByteRange>& range = {});
};

// kInvalidArgument naming "key" unless `key` satisfies the key rules above.
[[nodiscard]] absl::Status ValidateKey(absl::string_view key);

// Resolves `range` against an object of `size` bytes into [offset, offset + length).
// kInvalidArgument for length 0, kOutOfRange when offset >= size. No range = whole object
// (length 0 for an empty object).
struct ResolvedRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};
[[nodiscard]] absl::StatusOr<ResolvedRange> ResolveRange(const std::optional<ByteRange>& range,
                                                         uint64_t size);

}  // namespace switchboard::blob
