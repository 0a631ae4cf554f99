#include "libs/blob/fs_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "libs/crypto/random.h"

namespace switchboard::blob {
namespace {

constexpr size_t kMaxEscapedName = 240;

absl::Status ErrnoStatus(absl::string_view what, int err) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open dir ", dir), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(absl::StrCat("fsync dir ", dir), err);
  return absl::OkStatus();
}

// mkdir that tolerates EEXIST; reports whether it created the directory.
absl::StatusOr<bool> MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0750) == 0) return true;
  if (errno == EEXIST) return false;
  return ErrnoStatus(absl::StrCat("mkdir ", dir), errno);
}

std::string Dirname(const std::string& path) { return path.substr(0, path.rfind('/')); }

bool SafeByte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

class FsBlobWriter final : public BlobWriter {
 public:
  FsBlobWriter(std::string tmp_path, int fd, std::string final_path, std::string objects_dir,
               bool fsync)
      : tmp_path_(std::move(tmp_path)),
        fd_(fd),
        final_path_(std::move(final_path)),
        objects_dir_(std::move(objects_dir)),
        fsync_(fsync) {}
  ~FsBlobWriter() override { Abort(); }

  absl::Status Append(absl::string_view data) override {
    if (!error_.ok()) return error_;
    if (fd_ < 0) return absl::FailedPreconditionError("blob writer already committed or aborted");
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(ErrnoStatus("write blob", errno));
      }
      data.remove_prefix(static_cast<size_t>(n));
      size_ += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (!error_.ok()) return error_;
    if (fd_ < 0) return absl::FailedPreconditionError("blob writer already committed or aborted");
    if (fsync_ && ::fsync(fd_) != 0) return Fail(ErrnoStatus("fsync blob", errno));
    if (::close(fd_) != 0) {
      fd_ = -1;
      return Fail(ErrnoStatus("close blob", errno));
    }
    fd_ = -1;
    // objects/<h0>/<h1>: create on demand, fsyncing each parent that gained an entry.
    std::string h1_dir = Dirname(final_path_);
    std::string h0_dir = Dirname(h1_dir);
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<bool> made0 = MakeDir(h0_dir);
      if (!made0.ok()) return Fail(made0.status());
      if (*made0 && fsync_) {
        if (absl::Status s = FsyncDir(objects_dir_); !s.ok()) return Fail(s);
      }
      absl::StatusOr<bool> made1 = MakeDir(h1_dir);
      if (!made1.ok()) return Fail(made1.status());
      if (*made1 && fsync_) {
        if (absl::Status s = FsyncDir(h0_dir); !s.ok()) return Fail(s);
      }
      if (::rename(tmp_path_.c_str(), final_path_.c_str()) == 0) break;
      if (errno != ENOENT || attempt > 3) return Fail(ErrnoStatus("rename blob", errno));
    }
    committed_ = true;
    if (fsync_) {
      if (absl::Status s = FsyncDir(h1_dir); !s.ok()) {
        // The rename happened; only its durability is in doubt. Report it so callers retry.
        error_ = s;
        return s;
      }
    }
    return absl::OkStatus();
  }

  void Abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!committed_ && !removed_) {
      ::unlink(tmp_path_.c_str());
      removed_ = true;
    }
  }

  uint64_t size() const override { return size_; }

 private:
  absl::Status Fail(absl::Status s) {
    error_ = s;
    Abort();
    return s;
  }

  const std::string tmp_path_;
  int fd_;
  const std::string final_path_;
  const std::string objects_dir_;
  const bool fsync_;
  uint64_t size_ = 0;
  bool committed_ = false;
  bool removed_ = false;
  absl::Status error_;
};

void RemoveStaleTemps(const std::string& tmp_dir, absl::Duration max_age) {
  DIR* d = ::opendir(tmp_dir.c_str());
  if (d == nullptr) return;
  absl::Time cutoff = absl::Now() - max_age;
  while (dirent* e = ::readdir(d)) {
    if (!absl::EndsWith(e->d_name, ".part")) continue;
    std::string path = absl::StrCat(tmp_dir, "/", e->d_name);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && absl::FromTimeT(st.st_mtime) < cutoff) {
      ::unlink(path.c_str());
    }
  }
  ::closedir(d);
}

}  // namespace

std::string EscapeKeyForFs(absl::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (SafeByte(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  // "." and ".." are impossible (ValidateKey rejects them and '/' is escaped), but a key such as
  // "." inside a longer name is fine as a file name.
  return out;
}

std::optional<std::string> UnescapeKeyFromFs(absl::string_view name) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') {
      out.push_back(name[i]);
      continue;
    }
    if (i + 2 >= name.size()) return std::nullopt;
    int hi = hex(name[i + 1]), lo = hex(name[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<FsBlobStore>> FsBlobStore::Create(FsBlobStoreOptions options) {
  if (options.root.empty()) return absl::InvalidArgumentError("root: must not be empty");
  while (options.root.size() > 1 && options.root.back() == '/') options.root.pop_back();
  // mkdir -p root
  for (size_t pos = 1; pos <= options.root.size(); ++pos) {
    if (pos == options.root.size() || options.root[pos] == '/') {
      absl::StatusOr<bool> made = MakeDir(options.root.substr(0, pos));
      if (!made.ok()) return Annotate(made.status(), "root");
    }
  }
  for (const char* sub : {"/objects", "/tmp"}) {
    absl::StatusOr<bool> made = MakeDir(options.root + sub);
    if (!made.ok()) return made.status();
  }
  if (::access((options.root + "/tmp").c_str(), W_OK) != 0) {
    return ErrnoStatus(absl::StrCat("root ", options.root, " not writable"), errno);
  }
  RemoveStaleTemps(options.root + "/tmp", options.stale_temp_age);
  return std::unique_ptr<FsBlobStore>(new FsBlobStore(std::move(options)));
}

absl::StatusOr<std::string> FsBlobStore::PathOf(absl::string_view key) const {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  std::string name = EscapeKeyForFs(key);
  if (name.size() > kMaxEscapedName) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: too long for the filesystem store (", name.size(),
                     " bytes once escaped, max ", kMaxEscapedName, ")"));
  }
  std::string hash = crypto::HexEncode(crypto::Sha256(key).substr(0, 2));
  return absl::StrCat(options_.root, "/objects/", hash.substr(0, 2), "/", hash.substr(2, 2), "/",
                      name);
}

absl::StatusOr<std::unique_ptr<BlobWriter>> FsBlobStore::NewWriter(absl::string_view key) {
  absl::StatusOr<std::string> path = PathOf(key);
  if (!path.ok()) return path.status();
  std::string tmp = absl::StrCat(options_.root, "/tmp/", crypto::RandomToken(12), ".part");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus("create temp blob", errno);
  return std::unique_ptr<BlobWriter>(new FsBlobWriter(
      std::move(tmp), fd, std::move(*path), options_.root + "/objects", options_.fsync));
}

absl::Status FsBlobStore::Get(absl::string_view key, const std::optional<ByteRange>& range,
                              const ChunkSink& sink) {
  absl::StatusOr<std::string> path = PathOf(key);
  if (!path.ok()) return path.status();
  int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("blob '", key, "' not found"));
    return ErrnoStatus("open blob", errno);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat blob", errno);
  absl::StatusOr<ResolvedRange> r = ResolveRange(range, static_cast<uint64_t>(st.st_size));
  if (!r.ok()) return r.status();
  std::string buf(std::min<uint64_t>(options_.read_chunk_bytes, std::max<uint64_t>(r->length, 1)),
                  '\0');
  uint64_t pos = r->offset, remaining = r->length;
  while (remaining > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), remaining));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read blob", errno);
    }
    if (n == 0) return absl::UnavailableError("read blob: file shrank while reading");
    if (absl::Status s = sink(absl::string_view(buf.data(), static_cast<size_t>(n))); !s.ok()) {
      return s;
    }
    pos += static_cast<uint64_t>(n);
    remaining -= static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<BlobInfo> FsBlobStore::Stat(absl::string_view key) {
  absl::StatusOr<std::string> path = PathOf(key);
  if (!path.ok()) return path.status();
  struct stat st;
  if (::stat(path->c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("blob '", key, "' not found"));
    return ErrnoStatus("stat blob", errno);
  }
  return BlobInfo{std::string(key), static_cast<uint64_t>(st.st_size),
                  absl::TimeFromTimespec(st.st_mtim)};
}

absl::Status FsBlobStore::Delete(absl::string_view key) {
  absl::StatusOr<std::string> path = PathOf(key);
  if (!path.ok()) return path.status();
  if (::unlink(path->c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus("delete blob", errno);
  }
  if (options_.fsync) return FsyncDir(Dirname(*path));
  return absl::OkStatus();
}

absl::StatusOr<ListPage> FsBlobStore::List(absl::string_view prefix, absl::string_view page_token,
                                           int max_keys) {
  if (max_keys < 1 || max_keys > 1000) {
    return absl::InvalidArgumentError("max_keys: must be within 1..1000");
  }
  std::vector<BlobInfo> found;
  std::string objects = options_.root + "/objects";
  DIR* d0 = ::opendir(objects.c_str());
  if (d0 == nullptr) return ErrnoStatus("list blobs", errno);
  while (dirent* e0 = ::readdir(d0)) {
    if (e0->d_name[0] == '.') continue;
    std::string dir0 = absl::StrCat(objects, "/", e0->d_name);
    DIR* d1 = ::opendir(dir0.c_str());
    if (d1 == nullptr) continue;  // removed concurrently or not a directory
    while (dirent* e1 = ::readdir(d1)) {
      if (e1->d_name[0] == '.') continue;
      std::string dir1 = absl::StrCat(dir0, "/", e1->d_name);
      DIR* d2 = ::opendir(dir1.c_str());
      if (d2 == nullptr) continue;
      while (dirent* e2 = ::readdir(d2)) {
        if (e2->d_name[0] == '.' && (e2->d_name[1] == '\0' ||
                                     (e2->d_name[1] == '.' && e2->d_name[2] == '\0'))) {
          continue;
        }
        std::optional<std::string> key = UnescapeKeyFromFs(e2->d_name);
        if (!key.has_value() || !absl::StartsWith(*key, prefix)) continue;
        if (!page_token.empty() && *key <= page_token) continue;
        struct stat st;
        std::string path = absl::StrCat(dir1, "/", e2->d_name);
        if (::stat(path.c_str(), &st) != 0) continue;  // deleted concurrently
        found.push_back(BlobInfo{std::move(*key), static_cast<uint64_t>(st.st_size),
                                 absl::TimeFromTimespec(st.st_mtim)});
      }
      ::closedir(d2);
    }
    ::closedir(d1);
  }
  ::closedir(d0);
  std::sort(found.begin(), found.end(),
            [](const BlobInfo& a, const BlobInfo& b) { return a.key < b.key; });
  ListPage page;
  if (found.size() > static_cast<size_t>(max_keys)) {
    found.resize(static_cast<size_t>(max_keys));
    page.next_page_token = found.back().key;
  }
  page.blobs = std::move(found);
  return page;
}

}  // namespace switchboard::blob
