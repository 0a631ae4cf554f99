// Behaviour every BlobStore must share (blob_store.h contract), run against FsBlobStore (unit)
// and S3BlobStore on a real S3-compatible server (integration).
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "libs/blob/blob_store.h"

namespace switchboard::blob::testing {

inline std::string PatternBytes(size_t n, unsigned seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

inline void RunBlobStoreConformance(BlobStore& store) {
  const std::string data = PatternBytes(100'000);

  // Put / Get / Stat round trip.
  REQUIRE(store.Put("c1/a/one.bin", data).ok());
  absl::StatusOr<std::string> got = store.ReadAll("c1/a/one.bin");
  REQUIRE(got.ok());
  CHECK(*got == data);
  absl::StatusOr<BlobInfo> info = store.Stat("c1/a/one.bin");
  REQUIRE(info.ok());
  CHECK(info->size == data.size());
  CHECK(info->key == "c1/a/one.bin");

  // Ranges: middle, open-ended, clipped, first byte, last byte, past the end.
  CHECK(*store.ReadAll("c1/a/one.bin", ByteRange{10, 20}) == data.substr(10, 20));
  CHECK(*store.ReadAll("c1/a/one.bin", ByteRange{99'990, std::nullopt}) == data.substr(99'990));
  CHECK(*store.ReadAll("c1/a/one.bin", ByteRange{99'000, 5'000}) == data.substr(99'000));
  CHECK(*store.ReadAll("c1/a/one.bin", ByteRange{0, 1}) == data.substr(0, 1));
  CHECK(*store.ReadAll("c1/a/one.bin", ByteRange{99'999, 1}) == data.substr(99'999, 1));
  CHECK(store.ReadAll("c1/a/one.bin", ByteRange{100'000, 1}).status().code() ==
        absl::StatusCode::kOutOfRange);
  CHECK(store.ReadAll("c1/a/one.bin", ByteRange{5, 0}).status().code() ==
        absl::StatusCode::kInvalidArgument);

  // Overwrite replaces the object.
  REQUIRE(store.Put("c1/a/one.bin", "short").ok());
  CHECK(*store.ReadAll("c1/a/one.bin") == "short");

  // Empty object.
  REQUIRE(store.Put("c1/empty", "").ok());
  CHECK(store.ReadAll("c1/empty")->empty());
  CHECK(store.Stat("c1/empty")->size == 0);

  // Missing keys.
  CHECK(store.ReadAll("c1/missing").status().code() == absl::StatusCode::kNotFound);
  CHECK(store.Stat("c1/missing").status().code() == absl::StatusCode::kNotFound);

  // Streaming writer: many appends of odd sizes; nothing visible before Commit().
  {
    absl::StatusOr<std::unique_ptr<BlobWriter>> w = store.NewWriter("c1/streamed");
    REQUIRE(w.ok());
    for (size_t off = 0; off < data.size(); off += 7777) {
      REQUIRE((*w)->Append(absl::string_view(data).substr(off, 7777)).ok());
    }
    CHECK((*w)->size() == data.size());
    CHECK(store.Stat("c1/streamed").status().code() == absl::StatusCode::kNotFound);
    REQUIRE((*w)->Commit().ok());
    CHECK((*w)->Commit().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(*store.ReadAll("c1/streamed") == data);
  }
  // An abandoned writer publishes nothing.
  {
    absl::StatusOr<std::unique_ptr<BlobWriter>> w = store.NewWriter("c1/abandoned");
    REQUIRE(w.ok());
    REQUIRE((*w)->Append("partial").ok());
  }
  CHECK(store.Stat("c1/abandoned").status().code() == absl::StatusCode::kNotFound);
  {
    absl::StatusOr<std::unique_ptr<BlobWriter>> w = store.NewWriter("c1/aborted");
    REQUIRE(w.ok());
    REQUIRE((*w)->Append("partial").ok());
    (*w)->Abort();
    CHECK((*w)->Commit().code() == absl::StatusCode::kFailedPrecondition);
  }
  CHECK(store.Stat("c1/aborted").status().code() == absl::StatusCode::kNotFound);

  // A sink error stops the read and comes back unchanged.
  absl::Status stop = store.Get("c1/streamed", std::nullopt, [](absl::string_view) {
    return absl::CancelledError("enough");
  });
  CHECK(stop.code() == absl::StatusCode::kCancelled);

  // Key validation.
  for (const char* bad : {"", "/abs", "a/../b", "..", "a//b", "a/./b", "a\\b", "trailing/"}) {
    INFO("key " << bad);
    CHECK(store.Put(bad, "x").code() == absl::StatusCode::kInvalidArgument);
    CHECK(store.ReadAll(bad).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(store.Delete(bad).code() == absl::StatusCode::kInvalidArgument);
  }
  // Keys with characters that need escaping.
  const std::string odd = "c1/odd name+%&=?~$é.bin";
  REQUIRE(store.Put(odd, "odd").ok());
  CHECK(*store.ReadAll(odd) == "odd");

  // Listing: prefix filter, key order, paging.
  for (int i = 0; i < 7; ++i) {
    REQUIRE(store.Put("c2/item-" + std::to_string(i), std::string(static_cast<size_t>(i), 'x'))
                .ok());
  }
  std::vector<std::string> keys;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<ListPage> page = store.List("c2/", token, 3);
    REQUIRE(page.ok());
    CHECK(page->blobs.size() <= 3);
    for (const BlobInfo& b : page->blobs) {
      keys.push_back(b.key);
      CHECK(b.size == static_cast<uint64_t>(b.key.back() - '0'));
    }
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  CHECK(pages == 3);
  REQUIRE(keys.size() == 7);
  for (int i = 0; i < 7; ++i) CHECK(keys[static_cast<size_t>(i)] == "c2/item-" + std::to_string(i));
  absl::StatusOr<ListPage> all = store.List("", "", 1000);
  REQUIRE(all.ok());
  CHECK(all->blobs.size() == 7 + 4);  // c2 items + one.bin, empty, streamed, odd
  CHECK(store.List("c2/", "", 0).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(store.List("c2/", "", 1001).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(store.List("nothing-here/", "", 10)->blobs.empty());

  // Delete is idempotent.
  REQUIRE(store.Delete("c1/a/one.bin").ok());
  CHECK(store.Stat("c1/a/one.bin").status().code() == absl::StatusCode::kNotFound);
  CHECK(store.Delete("c1/a/one.bin").ok());
  CHECK(store.Delete("never/existed").ok());
}

}  // namespace switchboard::blob::testing
