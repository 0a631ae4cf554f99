// Chunked AES-256-GCM stream format for envelope-encrypted objects (audio, transcripts, message
// bodies). Large files encrypt and decrypt as streams, and any plaintext byte range decrypts by
// reading only the chunks that cover it (HTTP Range playback).
//
// Layout (all integers big-endian):
//   header (44 bytes)
//     magic "SBEC" | format version u8 = 1 | algorithm u8 = 1 (AES-256-GCM) | reserved u16 = 0
//     | company key version u32 | chunk size u32 | file id (16 random bytes)
//     | base nonce (12 random bytes)
//   chunk 0 .. n-1: ciphertext (chunk size bytes; the last one 0..chunk size) || GCM tag (16)
// n = max(1, ceil(plaintext / chunk size)); an empty plaintext is one empty final chunk.
// Chunk i uses nonce = base nonce XOR i (in the last 8 bytes) and associated data
//   header (44 bytes) || i (u64) || final flag (u8: 1 for chunk n-1, else 0) || caller aad
// so every chunk is bound to this file (file id, key version, chunk size, nonce all sit in the
// header), to its position, and to being last or not. Reordering, duplicating, dropping or
// appending chunks, truncating the file, editing the header or using it under another caller
// aad (e.g. another object id) all fail authentication: kDataLoss, and no plaintext of a chunk
// is released before that chunk authenticated.
// Nonces: the 96-bit base nonce is random per file; keep < 2^32 files per data key.
//
// All functions and classes are thread-compatible (one object per stream); nothing is shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::envelope {

inline constexpr size_t kStreamHeaderBytes = 44;
inline constexpr size_t kChunkTagBytes = 16;
inline constexpr uint32_t kDefaultChunkBytes = 64 * 1024;
inline constexpr uint32_t kMinChunkBytes = 16;
inline constexpr uint32_t kMaxChunkBytes = 16 * 1024 * 1024;

// Receives output bytes in order; a non-OK status stops the operation and is returned.
using ByteSink = std::function<absl::Status(absl::string_view)>;
// Reads `length` ciphertext bytes at `offset` into the sink (e.g. BlobStore::Get with a range).
using RangeReader =
    std::function<absl::Status(uint64_t offset, uint64_t length, const ByteSink& sink)>;
// The 32-byte data key of a company key version (e.g. DataKeyManager::GetDataKey).
using KeyLookup = std::function<absl::StatusOr<std::string>(uint32_t key_version)>;

struct StreamHeader {
  uint32_t key_version = 0;
  uint32_t chunk_bytes = kDefaultChunkBytes;
  std::string file_id;     // 16 bytes
  std::string base_nonce;  // 12 bytes

  std::string Serialize() const;
  // kDataLoss for a wrong magic, unknown version/algorithm, non-zero reserved bits, a chunk
  // size outside [kMinChunkBytes, kMaxChunkBytes] or fewer than 44 bytes.
  [[nodiscard]] static absl::StatusOr<StreamHeader> Parse(absl::string_view bytes);
};

// Ciphertext size of a plaintext of `plaintext_bytes`.
uint64_t CiphertextSize(uint64_t plaintext_bytes, uint32_t chunk_bytes);
// Plaintext size of a well-formed stream of `ciphertext_bytes`; kDataLoss when no valid stream
// has that size (truncated header or tag, or an empty final chunk after a full one).
[[nodiscard]] absl::StatusOr<uint64_t> PlaintextSize(uint64_t ciphertext_bytes,
                                                     uint32_t chunk_bytes);

// Streaming encryption. Write the header and chunks to `out` as they complete; input may come
// in pieces of any size. Memory: one chunk.
class StreamEncryptor {
 public:
  // kInvalidArgument naming "key" (not 32 bytes) or "chunk_bytes" (out of range).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<StreamEncryptor>> Create(
      absl::string_view key32, uint32_t key_version, absl::string_view aad,
      uint32_t chunk_bytes = kDefaultChunkBytes);
  ~StreamEncryptor();

  // Encrypts `plaintext`; the first call also emits the header.
  [[nodiscard]] absl::Status Update(absl::string_view plaintext, const ByteSink& out);
  // Emits the final chunk. kFailedPrecondition when called twice.
  [[nodiscard]] absl::Status Finish(const ByteSink& out);

  const StreamHeader& header() const { return header_; }
  uint64_t plaintext_bytes() const { return total_; }

 private:
  StreamEncryptor() = default;
  absl::Status EmitHeaderOnce(const ByteSink& out);
  absl::Status SealChunk(absl::string_view plaintext, bool final, const ByteSink& out);

  void* ctx_ = nullptr;  // EVP_CIPHER_CTX
  StreamHeader header_;
  std::string header_bytes_;
  std::string aad_;
  std::string buffer_;  // pending plaintext (< one chunk, or exactly one held back)
  std::string scratch_;
  uint64_t index_ = 0;
  uint64_t total_ = 0;
  bool header_sent_ = false;
  bool finished_ = false;
};

// Streaming decryption of a whole stream, fed in pieces of any size. Each chunk's plaintext is
// released only after its tag verified; the last chunk is recognised at Finish(), so a caller
// must treat the output as failed unless Finish() returns OK (truncation shows up there).
class StreamDecryptor {
 public:
  // `keys` resolves the key version found in the header.
  StreamDecryptor(KeyLookup keys, absl::string_view aad);
  ~StreamDecryptor();
  StreamDecryptor(const StreamDecryptor&) = delete;
  StreamDecryptor& operator=(const StreamDecryptor&) = delete;

  // kDataLoss on a bad header or a chunk that fails authentication; the key lookup's error
  // (e.g. kFailedPrecondition for a shredded key) unchanged.
  [[nodiscard]] absl::Status Update(absl::string_view ciphertext, const ByteSink& out);
  // kDataLoss when the stream was truncated or its last chunk is not marked final.
  [[nodiscard]] absl::Status Finish(const ByteSink& out);

 private:
  absl::Status OpenChunk(absl::string_view record, bool final, const ByteSink& out);

  KeyLookup keys_;
  std::string aad_;
  void* ctx_ = nullptr;
  std::optional<StreamHeader> header_;
  std::string header_bytes_;
  std::string buffer_;
  std::string scratch_;
  uint64_t index_ = 0;
  bool failed_ = false;
  bool finished_ = false;
};

// Decrypts plaintext [offset, offset + length) (to the end when `length` is unset) of a stream
// of `ciphertext_bytes`, reading the header and then only the chunks covering the range through
// `read` (two reads in all). kOutOfRange when offset >= plaintext size, kInvalidArgument for
// length 0, kDataLoss for tampering (a ranged read authenticates every chunk it touches, and
// knows which chunk is final from the size), the lookup's or reader's errors unchanged.
// No range (nullopt) decrypts everything.
struct PlainRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};
[[nodiscard]] absl::Status DecryptRange(uint64_t ciphertext_bytes, const RangeReader& read,
                                        const KeyLookup& keys, absl::string_view aad,
                                        const std::optional<PlainRange>& range,
                                        const ByteSink& out);

// Reads and parses the header through `read`, returning it with the plaintext size (for
// Content-Length / Content-Range before streaming).
struct StreamInfo {
  StreamHeader header;
  uint64_t plaintext_bytes = 0;
};
[[nodiscard]] absl::StatusOr<StreamInfo> ReadStreamInfo(uint64_t ciphertext_bytes,
                                                        const RangeReader& read);

// Pull-style ranged decryption, for streaming a plaintext range (HTTP playback) with bounded
// memory: the same reads and checks as DecryptRange, but the covering chunks are read
// `chunks_per_read` at a time, as the caller pulls. Memory: at most `chunks_per_read` chunk
// records of ciphertext plus as many chunks of plaintext, whatever the stream's size.
// Every chunk is authenticated (with its index and final flag bound as associated data) before
// any of its plaintext is handed out. Thread-compatible: one caller at a time; `read` must stay
// callable for the decryptor's lifetime.
class RangeDecryptor {
 public:
  static constexpr size_t kDefaultChunksPerRead = 4;

  // Reads the header through `read` and resolves its key version through `keys` (not kept).
  // kOutOfRange when the range starts at or beyond the plaintext end, kInvalidArgument for a
  // zero length or chunks_per_read 0, kDataLoss for a bad header or size, the lookup's or
  // reader's errors unchanged. No range (nullopt) = the whole plaintext.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RangeDecryptor>> Create(
      uint64_t ciphertext_bytes, RangeReader read, const KeyLookup& keys, absl::string_view aad,
      const std::optional<PlainRange>& range, size_t chunks_per_read = kDefaultChunksPerRead);
  // The same with the header already read (ReadStreamInfo of this stream): saves a read.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RangeDecryptor>> Create(
      uint64_t ciphertext_bytes, StreamInfo info, RangeReader read, const KeyLookup& keys,
      absl::string_view aad, const std::optional<PlainRange>& range,
      size_t chunks_per_read = kDefaultChunksPerRead);
  ~RangeDecryptor();
  RangeDecryptor(const RangeDecryptor&) = delete;
  RangeDecryptor& operator=(const RangeDecryptor&) = delete;

  uint64_t plaintext_bytes() const { return plain_; }  // of the whole stream
  uint64_t begin() const { return begin_; }             // the resolved range [begin, end)
  uint64_t end() const { return end_; }
  uint64_t remaining() const { return end_ - emitted_; }

  // Reads and authenticates the next batch of chunks unless plaintext is already buffered:
  // lets a caller find a tampered first batch before it commits to a response. Same errors as
  // Read().
  [[nodiscard]] absl::Status Prefetch();

  // Copies up to `n` next plaintext bytes of the range into `buf`; 0 once the range is done.
  // kDataLoss for a chunk that fails authentication or a short read, the reader's errors
  // unchanged; after an error every call returns it again.
  [[nodiscard]] absl::StatusOr<size_t> Read(char* buf, size_t n);

 private:
  RangeDecryptor() = default;
  absl::Status Fill();

  RangeReader read_;
  std::string aad_;
  void* ctx_ = nullptr;  // EVP_CIPHER_CTX
  StreamHeader header_;
  std::string header_bytes_;
  uint64_t ciphertext_bytes_ = 0;
  uint64_t plain_ = 0;
  uint64_t chunks_ = 0;  // chunks in the stream
  uint64_t begin_ = 0, end_ = 0, emitted_ = 0;
  uint64_t next_chunk_ = 0, last_chunk_ = 0;  // next to read; last covering the range
  size_t chunks_per_read_ = kDefaultChunksPerRead;
  std::string cipher_;       // one batch of records
  std::string plain_buf_;    // authenticated plaintext of the range not yet handed out
  size_t plain_pos_ = 0;
  std::string scratch_;
  absl::Status failed_;
};


// One-shot helpers for small payloads (message bodies, transcripts): the same format.
[[nodiscard]] absl::StatusOr<std::string> SealAll(absl::string_view key32, uint32_t key_version,
                                                  absl::string_view aad,
                                                  absl::string_view plaintext,
                                                  uint32_t chunk_bytes = kDefaultChunkBytes);
[[nodiscard]] absl::StatusOr<std::string> OpenAll(const KeyLookup& keys, absl::string_view aad,
                                                  absl::string_view sealed);

}  // namespace switchboard::envelope
