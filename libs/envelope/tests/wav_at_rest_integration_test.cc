// Audio at rest is ciphertext: a WAV with a known sample pattern goes through the envelope
// format into each blob store, and the raw stored bytes contain neither the RIFF/WAVE header
// nor the pattern; reading back (whole and by range) returns the original bytes.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "libs/blob/fs_blob_store.h"
#include "libs/blob/tests/s3_test_bucket.h"
#include "libs/envelope/chunked_aead.h"
#include "libs/envelope/data_key_manager.h"
#include "libs/envelope/tests/fake_data_key_store.h"
#include "libs/crypto/encoding.h"

namespace switchboard::envelope {
namespace {

// 8 kHz mono 16-bit PCM WAV whose samples repeat a recognisable 16-byte pattern.
const std::string kPattern = "\x11\x22\x33\x44\x55\x66\x77\x00\x7f\x01\x02\x03\x04\x05\x06\x07";

std::string MakeWav(size_t data_bytes) {
  auto u32 = [](uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
    return s;
  };
  auto u16 = [](uint16_t v) { return std::string{static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; };
  std::string data;
  while (data.size() < data_bytes) data += kPattern;
  data.resize(data_bytes);
  return "RIFF" + u32(static_cast<uint32_t>(36 + data.size())) + "WAVE" + "fmt " + u32(16) +
         u16(1) + u16(1) + u32(8000) + u32(16000) + u16(2) + u16(16) + "data" +
         u32(static_cast<uint32_t>(data.size())) + data;
}

// Encrypts `wav` for `company` and streams it into `store` under `key`.
void Store(blob::BlobStore& store, DataKeyManager& keys, const std::string& company,
           const std::string& key, const std::string& wav) {
  absl::StatusOr<DataKey> dk = keys.GetOrCreateDataKey(company);
  REQUIRE(dk.ok());
  auto enc = StreamEncryptor::Create(dk->key->bytes(), dk->version, company + "|" + key);
  REQUIRE(enc.ok());
  auto writer = store.NewWriter(key);
  REQUIRE(writer.ok());
  ByteSink sink = [&](absl::string_view piece) { return (*writer)->Append(piece); };
  for (size_t off = 0; off < wav.size(); off += 50'000) {
    REQUIRE((*enc)->Update(absl::string_view(wav).substr(off, 50'000), sink).ok());
  }
  REQUIRE((*enc)->Finish(sink).ok());
  REQUIRE((*writer)->Commit().ok());
}

absl::StatusOr<std::string> Load(blob::BlobStore& store, DataKeyManager& keys,
                                 const std::string& company, const std::string& key,
                                 std::optional<PlainRange> range) {
  absl::StatusOr<blob::BlobInfo> info = store.Stat(key);
  if (!info.ok()) return info.status();
  RangeReader read = [&](uint64_t off, uint64_t len, const ByteSink& sink) {
    return store.Get(key, blob::ByteRange{off, len}, sink);
  };
  std::string out;
  absl::Status s = DecryptRange(info->size, read, keys.LookupFor(company), company + "|" + key,
                                range, [&out](absl::string_view p) {
                                  out.append(p.data(), p.size());
                                  return absl::OkStatus();
                                });
  if (!s.ok()) return s;
  return out;
}

void CheckNoPlaintext(const std::string& raw) {
  CHECK(raw.find("RIFF") == std::string::npos);
  CHECK(raw.find("WAVE") == std::string::npos);
  CHECK(raw.find("fmt ") == std::string::npos);
  CHECK(raw.find(kPattern) == std::string::npos);
  CHECK(raw.find(kPattern.substr(0, 8)) == std::string::npos);
}

void RoundTrip(blob::BlobStore& store, DataKeyManager& keys) {
  const std::string wav = MakeWav(1'000'000);
  REQUIRE(wav.substr(0, 4) == "RIFF");
  Store(store, keys, "co-wav", "co-wav/recordings/r1.sbe", wav);
  absl::StatusOr<std::string> whole = Load(store, keys, "co-wav", "co-wav/recordings/r1.sbe",
                                           std::nullopt);
  REQUIRE(whole.ok());
  CHECK(*whole == wav);
  absl::StatusOr<std::string> part = Load(store, keys, "co-wav", "co-wav/recordings/r1.sbe",
                                          PlainRange{65'530, 70'000});
  REQUIRE(part.ok());
  CHECK(*part == wav.substr(65'530, 70'000));
  // Moving the blob to another key breaks the aad binding: DATA_LOSS, never garbage audio.
  absl::StatusOr<std::string> raw = store.ReadAll("co-wav/recordings/r1.sbe");
  REQUIRE(raw.ok());
  REQUIRE(store.Put("co-wav/recordings/r2.sbe", *raw).ok());
  CHECK(Load(store, keys, "co-wav", "co-wav/recordings/r2.sbe", std::nullopt).status().code() ==
        absl::StatusCode::kDataLoss);
}

MasterKeyRing Ring() {
  auto ring = MasterKeyRing::Parse("m1:" + crypto::Base64Encode(std::string(32, 'm')), "m1");
  REQUIRE(ring.ok());
  return std::move(*ring);
}

TEST_CASE("WAV at rest in FsBlobStore is ciphertext only", "[integration][envelope][fs]") {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sb_wav_XXXXXX").string();
  std::string root = ::mkdtemp(tmpl.data());
  testing::FakeDataKeyStore key_store;
  MasterKeyRing ring = Ring();
  DataKeyManager keys(key_store, ring, SystemClock());
  {
    auto store = blob::FsBlobStore::Create({.root = root});
    REQUIRE(store.ok());
    RoundTrip(**store, keys);
    // Grep every file under the store root, as an operator with disk access would.
    int files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      ++files;
      std::ifstream in(e.path(), std::ios::binary);
      std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      CheckNoPlaintext(raw);
    }
    CHECK(files == 2);
  }
  std::filesystem::remove_all(root);
}

TEST_CASE("WAV at rest in S3BlobStore is ciphertext only", "[integration][envelope][s3]") {
  auto bucket = blob::testing::S3TestBucket::CreateOrFail();
  testing::FakeDataKeyStore key_store;
  MasterKeyRing ring = Ring();
  DataKeyManager keys(key_store, ring, SystemClock());
  RoundTrip(bucket->store(), keys);
  // Raw object bytes as the server returns them to anyone with bucket access.
  absl::StatusOr<blob::ListPage> page = bucket->store().List("", "", 100);
  REQUIRE(page.ok());
  CHECK(page->blobs.size() == 2);
  for (const blob::BlobInfo& b : page->blobs) {
    absl::StatusOr<std::string> raw = bucket->store().ReadAll(b.key);
    REQUIRE(raw.ok());
    CheckNoPlaintext(*raw);
  }
}

}  // namespace
}  // namespace switchboard::envelope
