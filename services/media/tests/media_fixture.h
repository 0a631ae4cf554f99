// Test fixture: a MediaCore over a real Postgres schema (PgTestSchema, migrated), a blob store
// (FsBlobStore in a temp dir unless one is given), a master key ring, a FakeClock and a
// FakeFetcher standing in for the carrier.
#pragma once

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "libs/audio/audio.h"
#include "libs/blob/fs_blob_store.h"
#include "libs/common/clock.h"
#include "libs/envelope/data_key_manager.h"
#include "libs/envelope/master_key_ring.h"
#include "libs/envelope/pg_data_key_store.h"
#include "libs/testing/testing.h"
#include "services/media/dependencies.h"
#include "services/media/media_core.h"
#include "services/media/playback_signer.h"

namespace switchboard::media::testing {

using switchboard::testing::PgTestSchema;
using switchboard::testing::RequireOk;
using switchboard::testing::ValueOrFail;

// A recognisable sample pattern (not silence, not a plain tone) so a grep of the store can
// prove no plaintext is at rest.
inline std::vector<int16_t> PatternSamples(int frames) {
  std::vector<int16_t> s;
  s.reserve(frames);
  for (int i = 0; i < frames; ++i) {
    s.push_back(static_cast<int16_t>(9000 * std::sin(i * 0.0371) + 3000 * std::sin(i * 0.91) +
                                     (i % 97) * 11));
  }
  return s;
}

inline std::string TestWav(double seconds) {
  return audio::PcmWav(PatternSamples(static_cast<int>(seconds * 8000)));
}

// MPEG-1 layer III frames (128 kbit/s, 44.1 kHz) with a varying payload.
inline std::string TestMp3(int frames) {
  std::string out;
  for (int i = 0; i < frames; ++i) {
    std::string frame(417, '\0');
    frame[0] = static_cast<char>(0xFF);
    frame[1] = static_cast<char>(0xFB);
    frame[2] = static_cast<char>(0x90);
    frame[3] = static_cast<char>(0xC0);
    for (size_t j = 4; j < frame.size(); ++j) frame[j] = static_cast<char>((i * 31 + j * 7) & 0xff);
    out += frame;
  }
  return out;
}

class FakeFetcher final : public RecordingFetcher {
 public:
  void Put(const std::string& ref, std::string bytes) {
    absl::MutexLock lock(&mu_);
    audio_[ref] = std::move(bytes);
  }
  void FailNext(absl::Status s) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  int fetches() const { return fetches_.load(); }

  absl::Status Fetch(absl::string_view /*company_id*/, absl::string_view ref, uint64_t max_bytes,
                     const std::function<absl::Status(absl::string_view)>& sink) override {
    ++fetches_;
    std::string bytes;
    {
      absl::MutexLock lock(&mu_);
      if (!fail_.ok()) {
        absl::Status s = fail_;
        fail_ = absl::OkStatus();
        return s;
      }
      auto it = audio_.find(std::string(ref));
      if (it == audio_.end()) return absl::NotFoundError("no such recording");
      bytes = it->second;
    }
    for (size_t at = 0; at < bytes.size(); at += 64 << 10) {
      if (at > max_bytes) return absl::InvalidArgumentError("audio: larger than limit");
      absl::Status s = sink(absl::string_view(bytes).substr(at, 64 << 10));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> audio_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> fetches_{0};
};

// A BlobStore whose writers fail at Commit (after accepting every Append) while `fail` is set.
class FlakyBlobStore final : public blob::BlobStore {
 public:
  explicit FlakyBlobStore(blob::BlobStore& inner) : inner_(inner) {}
  std::atomic<bool> fail{false};

  absl::StatusOr<std::unique_ptr<blob::BlobWriter>> NewWriter(absl::string_view key) override {
    auto w = inner_.NewWriter(key);
    if (!w.ok()) return w.status();
    return std::unique_ptr<blob::BlobWriter>(new Writer(std::move(*w), fail.load()));
  }
  absl::Status Get(absl::string_view key, const std::optional<blob::ByteRange>& range,
                   const blob::ChunkSink& sink) override {
    return inner_.Get(key, range, sink);
  }
  absl::StatusOr<blob::BlobInfo> Stat(absl::string_view key) override { return inner_.Stat(key); }
  absl::Status Delete(absl::string_view key) override { return inner_.Delete(key); }
  absl::StatusOr<blob::ListPage> List(absl::string_view prefix, absl::string_view token,
                                      int max_keys) override {
    return inner_.List(prefix, token, max_keys);
  }

 private:
  class Writer final : public blob::BlobWriter {
   public:
    Writer(std::unique_ptr<blob::BlobWriter> inner, bool fail)
        : inner_(std::move(inner)), fail_(fail) {}
    absl::Status Append(absl::string_view data) override { return inner_->Append(data); }
    absl::Status Commit() override {
      if (fail_) {
        inner_->Abort();
        return absl::UnavailableError("injected: disk went away mid-write");
      }
      return inner_->Commit();
    }
    void Abort() override { inner_->Abort(); }
    uint64_t size() const override { return inner_->size(); }

   private:
    std::unique_ptr<blob::BlobWriter> inner_;
    bool fail_;
  };
  blob::BlobStore& inner_;
};

inline const char kOldMaster[] = "old:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
inline const char kNewMaster[] = "new:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

struct MediaWorld {
  explicit MediaWorld(blob::BlobStore* external = nullptr, MediaCoreOptions options = {},
                      std::string master_keys = kOldMaster, std::string active = "old")
      : clock(absl::Now()) {
    db = PgTestSchema::CreateOrFail();
    RequireOk(MigrateMedia(db->pool()), "migrate");
    root = std::filesystem::temp_directory_path() /
           ("media-test-" + switchboard::testing::RandomSuffix());
    fs = ValueOrFail(blob::FsBlobStore::Create({.root = root.string(), .fsync = false}), "fs");
    flaky = std::make_unique<FlakyBlobStore>(external != nullptr ? *external : *fs);
    Rebuild(std::move(master_keys), std::move(active), options);
  }
  ~MediaWorld() {
    core.reset();
    keys.reset();
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }

  // New ring/key manager/core (a "restarted replica" with another master key config).
  void Rebuild(std::string master_keys, std::string active, MediaCoreOptions options = {}) {
    core.reset();
    keys.reset();
    ring = std::make_unique<envelope::MasterKeyRing>(
        ValueOrFail(envelope::MasterKeyRing::Parse(master_keys, active), "ring"));
    key_store = std::make_unique<envelope::PgDataKeyStore>(db->pool());
    keys = std::make_unique<envelope::DataKeyManager>(*key_store, *ring, clock);
    core = std::make_unique<MediaCore>(db->pool(), *flaky, *keys, *ring,
                                       fetcher_override != nullptr ? fetcher_override : &fetcher,
                                       signer, clock, options);
  }

  blob::BlobStore& blobs() { return *flaky; }

  int64_t Count(const std::string& sql) {
    return ValueOrFail(db->pool().UnscopedOr<int64_t>([&](pqxx::work& tx) {
      return absl::StatusOr<int64_t>(tx.exec(sql)[0][0].as<int64_t>());
    }), sql);
  }

  std::unique_ptr<PgTestSchema> db;
  std::filesystem::path root;
  std::unique_ptr<blob::FsBlobStore> fs;
  std::unique_ptr<FlakyBlobStore> flaky;
  FakeClock clock;
  FakeFetcher fetcher;
  RecordingFetcher* fetcher_override = nullptr;  // set, then Rebuild(), to ingest via another
  PlaybackSigner signer{std::string(32, 's'), "http://127.0.0.1:8081"};
  std::unique_ptr<envelope::MasterKeyRing> ring;
  std::unique_ptr<envelope::PgDataKeyStore> key_store;
  std::unique_ptr<envelope::DataKeyManager> keys;
  std::unique_ptr<MediaCore> core;
};

inline IngestRequest RecordingRequest(const std::string& company, const std::string& rec_id,
                                      const std::string& provider = "twilio") {
  IngestRequest r;
  r.kind = ItemKind::kRecording;
  r.company_id = company;
  r.provider = provider;
  r.provider_recording_id = rec_id;
  r.fetch_ref = rec_id;
  r.call_key = "CA-" + rec_id;
  return r;
}

inline IngestRequest VoicemailRequest(const std::string& company, const std::string& rec_id,
                                      const std::string& box) {
  IngestRequest r = RecordingRequest(company, rec_id);
  r.kind = ItemKind::kVoicemail;
  r.box_id = box;
  r.caller = "+15551234567";
  return r;
}

// Runs MediaCore::Ingest inside a tenant transaction (as the consumer does).
inline absl::StatusOr<IngestResult> IngestNow(MediaWorld& w, const IngestRequest& r) {
  return w.db->pool().InTenantOr<IngestResult>(
      r.company_id, [&](pqxx::work& tx) { return w.core->Ingest(tx, r); });
}

inline http::Params QueryOf(const std::string& url) {
  return http::ParseQuery(url.substr(url.find('?') + 1));
}

// Pulls a playback stream into `response.body` (as the HTTP server would send it) and checks
// it yields exactly content_length bytes.
inline absl::Status DrainStream(PlaybackResponse& response, size_t piece = 64 << 10) {
  std::string buf(piece, '\0');
  while (response.body.size() < response.content_length) {
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(piece, response.content_length - response.body.size()));
    absl::StatusOr<size_t> n = response.stream->Read(buf.data(), want);
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::DataLossError("stream ended before content_length");
    response.body.append(buf.data(), *n);
  }
  response.stream.reset();
  return absl::OkStatus();
}

inline PlaybackResponse PlayUrl(MediaWorld& w, ItemKind kind, const std::string& url,
                                std::optional<std::string> range = std::nullopt) {
  PlaybackRequest p;
  p.kind = kind;
  p.query = QueryOf(url);
  p.range = std::move(range);
  p.peer = "203.0.113.7";
  PlaybackResponse response = w.core->Play(p);
  if (response.stream != nullptr) {
    absl::Status drained = DrainStream(response);
    if (!drained.ok()) FAIL_CHECK("playback stream failed: " << drained.ToString());
  }
  return response;
}

}  // namespace switchboard::media::testing
