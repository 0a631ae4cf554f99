#include "libs/blob/fs_blob_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/blob/tests/blob_conformance.h"

namespace switchboard::blob {
namespace {

// A fresh directory under TMPDIR, removed at scope exit.
struct TempDir {
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sb_blob_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    n += e.is_regular_file() ? 1 : 0;
  }
  return n;
}

TEST_CASE("FsBlobStore satisfies the BlobStore contract", "[blob][fs]") {
  TempDir dir;
  auto store = FsBlobStore::Create({.root = dir.path + "/store"});
  REQUIRE(store.ok());
  testing::RunBlobStoreConformance(**store);
  // No temp file is left behind by aborted or abandoned writers.
  CHECK(CountFiles(dir.path + "/store/tmp") == 0);
}

TEST_CASE("FsBlobStore shards by key hash and keeps objects out of tmp", "[blob][fs]") {
  TempDir dir;
  auto store = FsBlobStore::Create({.root = dir.path});
  REQUIRE(store.ok());
  REQUIRE((*store)->Put("co/rec/1.sbe", "payload").ok());
  absl::StatusOr<std::string> path = (*store)->PathForTest("co/rec/1.sbe");
  REQUIRE(path.ok());
  CHECK(absl::StartsWith(*path, dir.path + "/objects/"));
  CHECK(absl::EndsWith(*path, "/co%2Frec%2F1.sbe"));
  // objects/<2 hex>/<2 hex>/<name>
  std::string rel = path->substr(dir.path.size() + 9);
  CHECK(rel.size() > 6);
  CHECK(rel[2] == '/');
  CHECK(rel[5] == '/');
  std::ifstream in(*path, std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(raw == "payload");
  // The temp file of an uncommitted writer lives in tmp/, never at the final path.
  auto w = (*store)->NewWriter("co/rec/2.sbe");
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("half").ok());
  CHECK(CountFiles(dir.path + "/tmp") == 1);
  CHECK_FALSE(std::filesystem::exists(*(*store)->PathForTest("co/rec/2.sbe")));
  (*w)->Abort();
  CHECK(CountFiles(dir.path + "/tmp") == 0);
}

TEST_CASE("FsBlobStore escapes keys reversibly and bounds their length", "[blob][fs]") {
  for (const char* key : {"a/b c", "%41", "x+y=z", "é/ü", "a..b"}) {
    std::string escaped = EscapeKeyForFs(key);
    CHECK(escaped.find('/') == std::string::npos);
    CHECK(UnescapeKeyFromFs(escaped) == std::optional<std::string>(key));
  }
  CHECK_FALSE(UnescapeKeyFromFs("bad%4").has_value());
  CHECK_FALSE(UnescapeKeyFromFs("bad%zz").has_value());
  TempDir dir;
  auto store = FsBlobStore::Create({.root = dir.path});
  REQUIRE(store.ok());
  absl::Status s = (*store)->Put(std::string(100, '/' + 1) + std::string(100, '%'), "x");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(s.message(), "key"));
}

TEST_CASE("FsBlobStore::Create validates and cleans stale temp files", "[blob][fs]") {
  CHECK(FsBlobStore::Create({.root = ""}).status().code() == absl::StatusCode::kInvalidArgument);
  TempDir dir;
  REQUIRE(FsBlobStore::Create({.root = dir.path}).ok());
  std::string stale = dir.path + "/tmp/old.part";
  std::ofstream(stale) << "crashed writer";
  std::string fresh = dir.path + "/tmp/new.part";
  std::ofstream(fresh) << "running writer";
  std::filesystem::last_write_time(
      stale, std::filesystem::file_time_type::clock::now() - std::chrono::hours(3));
  REQUIRE(FsBlobStore::Create({.root = dir.path}).ok());
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(fresh));
  if (::geteuid() != 0) {  // root ignores permissions
    std::string ro = dir.path + "/ro";
    std::filesystem::create_directory(ro);
    ::chmod(ro.c_str(), 0500);
    CHECK_FALSE(FsBlobStore::Create({.root = ro + "/x"}).ok());
  }
}

TEST_CASE("FsBlobStore handles concurrent writers of one key atomically", "[blob][fs]") {
  TempDir dir;
  auto store = FsBlobStore::Create({.root = dir.path, .fsync = false});
  REQUIRE(store.ok());
  const std::string a(300'000, 'a'), b(200'000, 'b');
  std::vector<std::thread> threads;
  std::atomic<int> torn{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!(*store)->Put("same/key", (t + i) % 2 ? a : b).ok()) ++torn;
        absl::StatusOr<std::string> got = (*store)->ReadAll("same/key");
        if (!got.ok() || (*got != a && *got != b)) ++torn;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(torn == 0);
}

}  // namespace
}  // namespace switchboard::blob
