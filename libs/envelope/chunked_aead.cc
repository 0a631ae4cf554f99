#include "libs/envelope/chunked_aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/random.h"

namespace switchboard::envelope {
namespace {

constexpr char kMagic[4] = {'S', 'B', 'E', 'C'};
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kAlgAes256Gcm = 1;
constexpr size_t kNonceBytes = 12;
constexpr size_t kFileIdBytes = 16;

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
uint32_t GetU32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

EVP_CIPHER_CTX* Ctx(void* p) { return static_cast<EVP_CIPHER_CTX*>(p); }

void ChunkNonce(const std::string& base, uint64_t index, unsigned char nonce[kNonceBytes]) {
  std::memcpy(nonce, base.data(), kNonceBytes);
  for (int i = 0; i < 8; ++i) nonce[kNonceBytes - 1 - i] ^= static_cast<unsigned char>(index >> (8 * i));
}

// header || index u64 || final u8 (the caller aad follows as a separate AAD update).
std::string PositionAad(uint64_t index, bool final) {
  std::string s;
  for (int shift = 56; shift >= 0; shift -= 8) s.push_back(static_cast<char>(index >> shift));
  s.push_back(final ? 1 : 0);
  return s;
}

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("openssl: ", what));
}

// Creates an AES-256-GCM context with the key schedule set; nonces are set per chunk.
absl::StatusOr<void*> NewGcm(absl::string_view key32, bool encrypt) {
  if (key32.size() != 32) return absl::InvalidArgumentError("key: must be 32 bytes");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  auto key = reinterpret_cast<const unsigned char*>(key32.data());
  int ok = encrypt ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr)
                   : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr);
  ok = ok && (encrypt ? EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, nullptr)
                      : EVP_DecryptInit_ex(ctx, nullptr, nullptr, key, nullptr));
  if (!ok) {
    EVP_CIPHER_CTX_free(ctx);
    return OpenSslError("AES-256-GCM init");
  }
  return static_cast<void*>(ctx);
}

// Authenticates and decrypts one chunk record (ciphertext || tag) into `plain`.
absl::Status OpenRecord(void* ctx, const std::string& header_bytes, const std::string& base_nonce,
                        absl::string_view aad, uint64_t index, bool final,
                        absl::string_view record, std::string& plain) {
  if (record.size() < kChunkTagBytes) {
    return absl::DataLossError(absl::StrCat("envelope: chunk ", index, " truncated"));
  }
  size_t n = record.size() - kChunkTagBytes;
  plain.resize(std::max<size_t>(n, 1));
  unsigned char nonce[kNonceBytes];
  ChunkNonce(base_nonce, index, nonce);
  std::string pos = PositionAad(index, final);
  int len = 0;
  auto* c = Ctx(ctx);
  bool ok = EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce) == 1;
  ok = ok && EVP_DecryptUpdate(c, nullptr, &len,
                               reinterpret_cast<const unsigned char*>(header_bytes.data()),
                               static_cast<int>(header_bytes.size())) == 1;
  ok = ok && EVP_DecryptUpdate(c, nullptr, &len,
                               reinterpret_cast<const unsigned char*>(pos.data()),
                               static_cast<int>(pos.size())) == 1;
  if (!aad.empty()) {
    ok = ok && EVP_DecryptUpdate(c, nullptr, &len,
                                 reinterpret_cast<const unsigned char*>(aad.data()),
                                 static_cast<int>(aad.size())) == 1;
  }
  int out_len = 0;
  if (n > 0) {
    ok = ok && EVP_DecryptUpdate(c, reinterpret_cast<unsigned char*>(plain.data()), &out_len,
                                 reinterpret_cast<const unsigned char*>(record.data()),
                                 static_cast<int>(n)) == 1;
  }
  if (!ok) return OpenSslError("AES-256-GCM decrypt");
  std::string tag(record.substr(n));
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kChunkTagBytes, tag.data()) != 1) {
    return OpenSslError("set tag");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(c, reinterpret_cast<unsigned char*>(plain.data()) + out_len,
                          &final_len) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return absl::DataLossError(absl::StrCat(
        "envelope: chunk ", index,
        " failed authentication (tampered, reordered, truncated, or wrong key)"));
  }
  plain.resize(n);
  return absl::OkStatus();
}

}  // namespace

std::string StreamHeader::Serialize() const {
  std::string out(kMagic, 4);
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(kAlgAes256Gcm));
  out.push_back(0);
  out.push_back(0);
  PutU32(out, key_version);
  PutU32(out, chunk_bytes);
  out += file_id;
  out += base_nonce;
  return out;
}

absl::StatusOr<StreamHeader> StreamHeader::Parse(absl::string_view b) {
  if (b.size() < kStreamHeaderBytes) return absl::DataLossError("envelope: truncated header");
  if (std::memcmp(b.data(), kMagic, 4) != 0) {
    return absl::DataLossError("envelope: not an envelope stream (bad magic)");
  }
  if (static_cast<uint8_t>(b[4]) != kFormatVersion || static_cast<uint8_t>(b[5]) != kAlgAes256Gcm ||
      b[6] != 0 || b[7] != 0) {
    return absl::DataLossError("envelope: unknown format version or algorithm");
  }
  StreamHeader h;
  h.key_version = GetU32(b.data() + 8);
  h.chunk_bytes = GetU32(b.data() + 12);
  if (h.chunk_bytes < kMinChunkBytes || h.chunk_bytes > kMaxChunkBytes) {
    return absl::DataLossError("envelope: chunk size out of range");
  }
  h.file_id = std::string(b.substr(16, kFileIdBytes));
  h.base_nonce = std::string(b.substr(32, kNonceBytes));
  return h;
}

uint64_t CiphertextSize(uint64_t plaintext_bytes, uint32_t chunk_bytes) {
  uint64_t chunks = std::max<uint64_t>(1, (plaintext_bytes + chunk_bytes - 1) / chunk_bytes);
  return kStreamHeaderBytes + chunks * kChunkTagBytes + plaintext_bytes;
}

absl::StatusOr<uint64_t> PlaintextSize(uint64_t ciphertext_bytes, uint32_t chunk_bytes) {
  if (ciphertext_bytes < kStreamHeaderBytes + kChunkTagBytes) {
    return absl::DataLossError("envelope: stream truncated");
  }
  uint64_t body = ciphertext_bytes - kStreamHeaderBytes;
  uint64_t record = uint64_t{chunk_bytes} + kChunkTagBytes;
  uint64_t chunks = (body + record - 1) / record;
  uint64_t last = body - (chunks - 1) * record;
  if (last < kChunkTagBytes || (chunks > 1 && last == kChunkTagBytes)) {
    return absl::DataLossError("envelope: stream truncated (size matches no chunk layout)");
  }
  return body - chunks * kChunkTagBytes;
}

// --- StreamEncryptor -------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<StreamEncryptor>> StreamEncryptor::Create(
    absl::string_view key32, uint32_t key_version, absl::string_view aad, uint32_t chunk_bytes) {
  if (chunk_bytes < kMinChunkBytes || chunk_bytes > kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat("chunk_bytes: must be within ", kMinChunkBytes,
                                                   "..", kMaxChunkBytes));
  }
  ASSIGN_OR_RETURN(void* ctx, NewGcm(key32, /*encrypt=*/true));
  std::unique_ptr<StreamEncryptor> e(new StreamEncryptor());
  e->ctx_ = ctx;
  e->header_.key_version = key_version;
  e->header_.chunk_bytes = chunk_bytes;
  e->header_.file_id = crypto::RandomBytes(kFileIdBytes);
  e->header_.base_nonce = crypto::RandomBytes(kNonceBytes);
  e->header_bytes_ = e->header_.Serialize();
  e->aad_ = std::string(aad);
  e->buffer_.reserve(chunk_bytes);
  return e;
}

StreamEncryptor::~StreamEncryptor() {
  if (!buffer_.empty()) OPENSSL_cleanse(buffer_.data(), buffer_.size());
  EVP_CIPHER_CTX_free(Ctx(ctx_));
}

absl::Status StreamEncryptor::EmitHeaderOnce(const ByteSink& out) {
  if (header_sent_) return absl::OkStatus();
  header_sent_ = true;
  return out(header_bytes_);
}

absl::Status StreamEncryptor::SealChunk(absl::string_view plaintext, bool final,
                                        const ByteSink& out) {
  unsigned char nonce[kNonceBytes];
  ChunkNonce(header_.base_nonce, index_, nonce);
  std::string pos = PositionAad(index_, final);
  scratch_.resize(plaintext.size() + kChunkTagBytes);
  auto* c = Ctx(ctx_);
  int len = 0, out_len = 0, final_len = 0;
  bool ok = EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce) == 1;
  ok = ok && EVP_EncryptUpdate(c, nullptr, &len,
                               reinterpret_cast<const unsigned char*>(header_bytes_.data()),
                               static_cast<int>(header_bytes_.size())) == 1;
  ok = ok && EVP_EncryptUpdate(c, nullptr, &len, reinterpret_cast<const unsigned char*>(pos.data()),
                               static_cast<int>(pos.size())) == 1;
  if (!aad_.empty()) {
    ok = ok && EVP_EncryptUpdate(c, nullptr, &len,
                                 reinterpret_cast<const unsigned char*>(aad_.data()),
                                 static_cast<int>(aad_.size())) == 1;
  }
  auto* dst = reinterpret_cast<unsigned char*>(scratch_.data());
  if (!plaintext.empty()) {
    ok = ok && EVP_EncryptUpdate(c, dst, &out_len,
                                 reinterpret_cast<const unsigned char*>(plaintext.data()),
                                 static_cast<int>(plaintext.size())) == 1;
  }
  ok = ok && EVP_EncryptFinal_ex(c, dst + out_len, &final_len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kChunkTagBytes,
                                 dst + plaintext.size()) == 1;
  if (!ok) return OpenSslError("AES-256-GCM encrypt");
  ++index_;
  return out(scratch_);
}

absl::Status StreamEncryptor::Update(absl::string_view plaintext, const ByteSink& out) {
  if (finished_) return absl::FailedPreconditionError("envelope: encryptor already finished");
  RETURN_IF_ERROR(EmitHeaderOnce(out));
  total_ += plaintext.size();
  const size_t chunk = header_.chunk_bytes;
  while (!plaintext.empty()) {
    if (buffer_.size() == chunk) {
      // More data follows, so the held-back full chunk is not the last one.
      RETURN_IF_ERROR(SealChunk(buffer_, /*final=*/false, out));
      buffer_.clear();
    }
    if (buffer_.empty() && plaintext.size() > chunk) {
      RETURN_IF_ERROR(SealChunk(plaintext.substr(0, chunk), /*final=*/false, out));
      plaintext.remove_prefix(chunk);
      continue;
    }
    size_t take = std::min(chunk - buffer_.size(), plaintext.size());
    buffer_.append(plaintext.data(), take);
    plaintext.remove_prefix(take);
  }
  return absl::OkStatus();
}

absl::Status StreamEncryptor::Finish(const ByteSink& out) {
  if (finished_) return absl::FailedPreconditionError("envelope: encryptor already finished");
  finished_ = true;
  RETURN_IF_ERROR(EmitHeaderOnce(out));
  absl::Status s = SealChunk(buffer_, /*final=*/true, out);
  OPENSSL_cleanse(buffer_.data(), buffer_.size());
  buffer_.clear();
  return s;
}

// --- StreamDecryptor -------------------------------------------------------------------------

StreamDecryptor::StreamDecryptor(KeyLookup keys, absl::string_view aad)
    : keys_(std::move(keys)), aad_(aad) {}

StreamDecryptor::~StreamDecryptor() {
  if (!scratch_.empty()) OPENSSL_cleanse(scratch_.data(), scratch_.size());
  EVP_CIPHER_CTX_free(Ctx(ctx_));
}

absl::Status StreamDecryptor::OpenChunk(absl::string_view record, bool final,
                                        const ByteSink& out) {
  absl::Status s =
      OpenRecord(ctx_, header_bytes_, header_->base_nonce, aad_, index_, final, record, scratch_);
  if (!s.ok()) {
    failed_ = true;
    return s;
  }
  ++index_;
  return out(scratch_);
}

absl::Status StreamDecryptor::Update(absl::string_view ciphertext, const ByteSink& out) {
  if (failed_) return absl::DataLossError("envelope: stream already failed");
  if (finished_) return absl::FailedPreconditionError("envelope: decryptor already finished");
  if (!header_.has_value()) {
    size_t take = std::min(kStreamHeaderBytes - header_bytes_.size(), ciphertext.size());
    header_bytes_.append(ciphertext.data(), take);
    ciphertext.remove_prefix(take);
    if (header_bytes_.size() < kStreamHeaderBytes) return absl::OkStatus();
    absl::StatusOr<StreamHeader> h = StreamHeader::Parse(header_bytes_);
    if (!h.ok()) {
      failed_ = true;
      return h.status();
    }
    absl::StatusOr<std::string> key = keys_(h->key_version);
    if (!key.ok()) {
      failed_ = true;
      return key.status();
    }
    absl::StatusOr<void*> ctx = NewGcm(*key, /*encrypt=*/false);
    OPENSSL_cleanse(key->data(), key->size());
    if (!ctx.ok()) {
      failed_ = true;
      return ctx.status();
    }
    ctx_ = *ctx;
    header_ = std::move(*h);
  }
  const size_t record = size_t{header_->chunk_bytes} + kChunkTagBytes;
  // Hold back one full record: it may be the final chunk, which only Finish() can tell.
  size_t pos = 0;
  if (!buffer_.empty()) {
    size_t take = std::min(record - std::min(record, buffer_.size()), ciphertext.size());
    buffer_.append(ciphertext.data(), take);
    ciphertext.remove_prefix(take);
    if (buffer_.size() == record && !ciphertext.empty()) {
      RETURN_IF_ERROR(OpenChunk(buffer_, /*final=*/false, out));
      buffer_.clear();
    }
  }
  if (buffer_.empty()) {
    while (ciphertext.size() - pos > record) {
      RETURN_IF_ERROR(OpenChunk(ciphertext.substr(pos, record), /*final=*/false, out));
      pos += record;
    }
    buffer_.append(ciphertext.data() + pos, ciphertext.size() - pos);
  }
  return absl::OkStatus();
}

absl::Status StreamDecryptor::Finish(const ByteSink& out) {
  if (failed_) return absl::DataLossError("envelope: stream already failed");
  if (finished_) return absl::FailedPreconditionError("envelope: decryptor already finished");
  finished_ = true;
  if (!header_.has_value()) return absl::DataLossError("envelope: truncated header");
  if (buffer_.size() < kChunkTagBytes) {
    return absl::DataLossError("envelope: stream truncated (missing final chunk)");
  }
  return OpenChunk(buffer_, /*final=*/true, out);
}

// --- ranged decryption -----------------------------------------------------------------------

absl::StatusOr<StreamInfo> ReadStreamInfo(uint64_t ciphertext_bytes, const RangeReader& read) {
  if (ciphertext_bytes < kStreamHeaderBytes + kChunkTagBytes) {
    return absl::DataLossError("envelope: stream truncated");
  }
  std::string header_bytes;
  RETURN_IF_ERROR(read(0, kStreamHeaderBytes, [&](absl::string_view piece) {
    header_bytes.append(piece.data(), std::min(piece.size(), kStreamHeaderBytes - header_bytes.size()));
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(StreamHeader header, StreamHeader::Parse(header_bytes));
  ASSIGN_OR_RETURN(uint64_t plain, PlaintextSize(ciphertext_bytes, header.chunk_bytes));
  return StreamInfo{std::move(header), plain};
}

absl::Status DecryptRange(uint64_t ciphertext_bytes, const RangeReader& read,
                          const KeyLookup& keys, absl::string_view aad,
                          const std::optional<PlainRange>& range, const ByteSink& out) {
  if (range.has_value() && range->length.has_value() && *range->length == 0) {
    return absl::InvalidArgumentError("range: length must be > 0");
  }
  ASSIGN_OR_RETURN(StreamInfo info, ReadStreamInfo(ciphertext_bytes, read));
  const uint64_t chunk = info.header.chunk_bytes;
  const uint64_t record = chunk + kChunkTagBytes;
  const uint64_t plain = info.plaintext_bytes;
  const uint64_t chunks = std::max<uint64_t>(1, (plain + chunk - 1) / chunk);
  uint64_t begin = 0, end = plain;
  if (range.has_value()) {
    if (range->offset >= plain) {
      return absl::OutOfRangeError(absl::StrCat("range: offset ", range->offset,
                                                " is at or beyond the end (", plain, ")"));
    }
    begin = range->offset;
    if (range->length.has_value() && *range->length < plain - begin) end = begin + *range->length;
  }
  const uint64_t first = begin / chunk;
  const uint64_t last = end > begin ? (end - 1) / chunk : first;
  const uint64_t c_begin = kStreamHeaderBytes + first * record;
  const uint64_t c_end = std::min(ciphertext_bytes, kStreamHeaderBytes + (last + 1) * record);

  ASSIGN_OR_RETURN(std::string key, keys(info.header.key_version));
  absl::StatusOr<void*> ctx_or = NewGcm(key, /*encrypt=*/false);
  OPENSSL_cleanse(key.data(), key.size());
  if (!ctx_or.ok()) return ctx_or.status();
  struct CtxFree {
    void* p;
    ~CtxFree() { EVP_CIPHER_CTX_free(Ctx(p)); }
  } ctx{*ctx_or};
  const std::string header_bytes = info.header.Serialize();

  uint64_t index = first;
  std::string buffer, plain_chunk;
  auto record_size = [&](uint64_t i) {
    return i + 1 == chunks ? ciphertext_bytes - kStreamHeaderBytes - (chunks - 1) * record
                           : record;
  };
  auto emit = [&](absl::string_view rec) -> absl::Status {
    RETURN_IF_ERROR(OpenRecord(ctx.p, header_bytes, info.header.base_nonce, aad, index,
                               index + 1 == chunks, rec, plain_chunk));
    uint64_t chunk_begin = index * chunk;
    uint64_t from = std::max(begin, chunk_begin);
    uint64_t to = std::min(end, chunk_begin + plain_chunk.size());
    ++index;
    if (from >= to) return absl::OkStatus();
    return out(absl::string_view(plain_chunk).substr(from - chunk_begin, to - from));
  };
  absl::Status s = read(c_begin, c_end - c_begin, [&](absl::string_view piece) -> absl::Status {
    while (!piece.empty() && index <= last) {
      uint64_t need = record_size(index);
      if (buffer.empty() && piece.size() >= need) {
        RETURN_IF_ERROR(emit(piece.substr(0, need)));
        piece.remove_prefix(need);
        continue;
      }
      size_t take = std::min<uint64_t>(need - buffer.size(), piece.size());
      buffer.append(piece.data(), take);
      piece.remove_prefix(take);
      if (buffer.size() == need) {
        RETURN_IF_ERROR(emit(buffer));
        buffer.clear();
      }
    }
    return absl::OkStatus();
  });
  if (!plain_chunk.empty()) OPENSSL_cleanse(plain_chunk.data(), plain_chunk.size());
  RETURN_IF_ERROR(s);
  if (index != last + 1) return absl::DataLossError("envelope: short read of ciphertext");
  return absl::OkStatus();
}

// --- pull-style ranged decryption -------------------------------------------------------------

absl::StatusOr<std::unique_ptr<RangeDecryptor>> RangeDecryptor::Create(
    uint64_t ciphertext_bytes, RangeReader read, const KeyLookup& keys, absl::string_view aad,
    const std::optional<PlainRange>& range, size_t chunks_per_read) {
  if (range.has_value() && range->length.has_value() && *range->length == 0) {
    return absl::InvalidArgumentError("range: length must be > 0");
  }
  if (chunks_per_read == 0) {
    return absl::InvalidArgumentError("chunks_per_read: must be > 0");
  }
  ASSIGN_OR_RETURN(StreamInfo info, ReadStreamInfo(ciphertext_bytes, read));
  return Create(ciphertext_bytes, std::move(info), std::move(read), keys, aad, range,
                chunks_per_read);
}

absl::StatusOr<std::unique_ptr<RangeDecryptor>> RangeDecryptor::Create(
    uint64_t ciphertext_bytes, StreamInfo info, RangeReader read, const KeyLookup& keys,
    absl::string_view aad, const std::optional<PlainRange>& range, size_t chunks_per_read) {
  if (range.has_value() && range->length.has_value() && *range->length == 0) {
    return absl::InvalidArgumentError("range: length must be > 0");
  }
  if (chunks_per_read == 0) {
    return absl::InvalidArgumentError("chunks_per_read: must be > 0");
  }
  // The caller's info must describe a stream of this size.
  ASSIGN_OR_RETURN(uint64_t plain, PlaintextSize(ciphertext_bytes, info.header.chunk_bytes));
  if (plain != info.plaintext_bytes) {
    return absl::InvalidArgumentError("info: plaintext size does not match ciphertext_bytes");
  }
  std::unique_ptr<RangeDecryptor> d(new RangeDecryptor());
  d->plain_ = info.plaintext_bytes;
  const uint64_t chunk = info.header.chunk_bytes;
  d->chunks_ = std::max<uint64_t>(1, (d->plain_ + chunk - 1) / chunk);
  d->end_ = d->plain_;
  if (range.has_value()) {
    if (range->offset >= d->plain_) {
      return absl::OutOfRangeError(absl::StrCat("range: offset ", range->offset,
                                                " is at or beyond the end (", d->plain_, ")"));
    }
    d->begin_ = range->offset;
    if (range->length.has_value() && *range->length < d->plain_ - d->begin_) {
      d->end_ = d->begin_ + *range->length;
    }
  }
  d->emitted_ = d->begin_;
  d->next_chunk_ = d->begin_ / chunk;
  d->last_chunk_ = d->end_ > d->begin_ ? (d->end_ - 1) / chunk : d->next_chunk_;
  ASSIGN_OR_RETURN(std::string key, keys(info.header.key_version));
  absl::StatusOr<void*> ctx = NewGcm(key, /*encrypt=*/false);
  OPENSSL_cleanse(key.data(), key.size());
  if (!ctx.ok()) return ctx.status();
  d->ctx_ = *ctx;
  d->read_ = std::move(read);
  d->aad_ = std::string(aad);
  d->ciphertext_bytes_ = ciphertext_bytes;
  d->header_bytes_ = info.header.Serialize();
  d->header_ = std::move(info.header);
  d->chunks_per_read_ = chunks_per_read;
  return d;
}

RangeDecryptor::~RangeDecryptor() {
  if (ctx_ != nullptr) EVP_CIPHER_CTX_free(Ctx(ctx_));
  if (!plain_buf_.empty()) OPENSSL_cleanse(plain_buf_.data(), plain_buf_.size());
  if (!scratch_.empty()) OPENSSL_cleanse(scratch_.data(), scratch_.size());
}

absl::Status RangeDecryptor::Fill() {
  if (!plain_buf_.empty()) OPENSSL_cleanse(plain_buf_.data(), plain_buf_.size());
  plain_buf_.clear();
  plain_pos_ = 0;
  if (emitted_ >= end_ || next_chunk_ > last_chunk_) return absl::OkStatus();
  const uint64_t chunk = header_.chunk_bytes;
  const uint64_t record = chunk + kChunkTagBytes;
  const uint64_t n = std::min<uint64_t>(chunks_per_read_, last_chunk_ - next_chunk_ + 1);
  const uint64_t c_begin = kStreamHeaderBytes + next_chunk_ * record;
  const uint64_t c_end = std::min(ciphertext_bytes_, kStreamHeaderBytes + (next_chunk_ + n) * record);
  const uint64_t want = c_end - c_begin;
  cipher_.clear();
  RETURN_IF_ERROR(read_(c_begin, want, [&](absl::string_view piece) -> absl::Status {
    if (cipher_.size() + piece.size() > want) {
      return absl::DataLossError("envelope: the reader returned more bytes than asked for");
    }
    cipher_.append(piece.data(), piece.size());
    return absl::OkStatus();
  }));
  if (cipher_.size() != want) return absl::DataLossError("envelope: short read of ciphertext");
  absl::string_view rest(cipher_);
  for (uint64_t i = 0; i < n; ++i, ++next_chunk_) {
    const bool final = next_chunk_ + 1 == chunks_;
    const size_t size = static_cast<size_t>(
        final ? ciphertext_bytes_ - kStreamHeaderBytes - (chunks_ - 1) * record : record);
    if (rest.size() < size) return absl::DataLossError("envelope: short read of ciphertext");
    RETURN_IF_ERROR(OpenRecord(ctx_, header_bytes_, header_.base_nonce, aad_, next_chunk_, final,
                               rest.substr(0, size), scratch_));
    rest.remove_prefix(size);
    const uint64_t chunk_begin = next_chunk_ * chunk;
    const uint64_t from = std::max(emitted_ + plain_buf_.size(), chunk_begin);
    const uint64_t to = std::min(end_, chunk_begin + scratch_.size());
    if (from < to) plain_buf_.append(scratch_.data() + (from - chunk_begin), to - from);
  }
  OPENSSL_cleanse(scratch_.data(), scratch_.size());
  return absl::OkStatus();
}

absl::Status RangeDecryptor::Prefetch() {
  if (!failed_.ok()) return failed_;
  if (plain_pos_ < plain_buf_.size()) return absl::OkStatus();
  failed_ = Fill();
  return failed_;
}

absl::StatusOr<size_t> RangeDecryptor::Read(char* buf, size_t n) {
  if (!failed_.ok()) return failed_;
  if (plain_pos_ == plain_buf_.size()) {
    failed_ = Fill();
    if (!failed_.ok()) return failed_;
  }
  const size_t take = std::min(n, plain_buf_.size() - plain_pos_);
  if (take == 0) return size_t{0};
  std::memcpy(buf, plain_buf_.data() + plain_pos_, take);
  plain_pos_ += take;
  emitted_ += take;
  return take;
}

// --- one-shot --------------------------------------------------------------------------------

absl::StatusOr<std::string> SealAll(absl::string_view key32, uint32_t key_version,
                                    absl::string_view aad, absl::string_view plaintext,
                                    uint32_t chunk_bytes) {
  ASSIGN_OR_RETURN(auto enc, StreamEncryptor::Create(key32, key_version, aad, chunk_bytes));
  std::string out;
  out.reserve(CiphertextSize(plaintext.size(), chunk_bytes));
  ByteSink sink = [&out](absl::string_view piece) {
    out.append(piece.data(), piece.size());
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(enc->Update(plaintext, sink));
  RETURN_IF_ERROR(enc->Finish(sink));
  return out;
}

absl::StatusOr<std::string> OpenAll(const KeyLookup& keys, absl::string_view aad,
                                    absl::string_view sealed) {
  StreamDecryptor dec(keys, aad);
  std::string out;
  ByteSink sink = [&out](absl::string_view piece) {
    out.append(piece.data(), piece.size());
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(dec.Update(sealed, sink));
  RETURN_IF_ERROR(dec.Finish(sink));
  return out;
}

}  // namespace switchboard::envelope
