#include "libs/blob/blob_store.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace switchboard::blob {

absl::Status BlobStore::Put(absl::string_view key, absl::string_view data) {
  absl::StatusOr<std::unique_ptr<BlobWriter>> writer = NewWriter(key);
  if (!writer.ok()) return writer.status();
  if (absl::Status s = (*writer)->Append(data); !s.ok()) {
    (*writer)->Abort();
    return s;
  }
  return (*writer)->Commit();
}

absl::StatusOr<std::string> BlobStore::ReadAll(absl::string_view key,
                                               const std::optional<ByteRange>& range) {
  std::string out;
  absl::Status s = Get(key, range, [&out](absl::string_view piece) {
    out.append(piece.data(), piece.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status ValidateKey(absl::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("key: must not be empty");
  if (key.size() > 1024) return absl::InvalidArgumentError("key: longer than 1024 bytes");
  if (key.front() == '/') return absl::InvalidArgumentError("key: must not be absolute");
  for (char c : key) {
    if (c == '\0') return absl::InvalidArgumentError("key: contains NUL");
    if (c == '\\') return absl::InvalidArgumentError("key: contains a backslash");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("key: contains a control character");
    }
  }
  for (absl::string_view segment : absl::StrSplit(key, '/')) {
    if (segment.empty()) return absl::InvalidArgumentError("key: empty path segment");
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError("key: '.' or '..' path segment");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ResolvedRange> ResolveRange(const std::optional<ByteRange>& range,
                                           uint64_t size) {
  if (!range.has_value()) return ResolvedRange{0, size};
  if (range->length.has_value() && *range->length == 0) {
    return absl::InvalidArgumentError("range: length must be > 0");
  }
  if (range->offset >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("range: offset ", range->offset, " is at or beyond the end (", size, ")"));
  }
  uint64_t available = size - range->offset;
  uint64_t length = range->length.has_value() && *range->length < available ? *range->length
                                                                              : available;
  return ResolvedRange{range->offset, length};
}

}  // namespace switchboard::blob
