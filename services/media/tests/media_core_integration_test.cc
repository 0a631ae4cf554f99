// MediaCore against real Postgres (PgTestSchema), the filesystem blob store and MinIO (S3).
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "libs/blob/tests/s3_test_bucket.h"
#include "services/media/tests/media_fixture.h"

namespace switchboard::media {
namespace {

using namespace switchboard::media::testing;  // NOLINT

const Caller kOwner{"company-a", "user-owner", "owner"};
const Caller kAdmin{"company-a", "user-admin", "admin"};
const Caller kTech{"company-a", "user-tech", "tech"};
const Caller kOffice{"company-a", "user-office", "office"};
const Caller kOtherOwner{"company-b", "user-b", "owner"};

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every byte at rest in `store` (under `prefix`).
std::vector<std::string> AllBlobs(blob::BlobStore& store) {
  std::vector<std::string> out;
  std::string token;
  do {
    blob::ListPage page = ValueOrFail(store.List("", token, 1000), "list");
    for (const auto& b : page.blobs) out.push_back(ValueOrFail(store.ReadAll(b.key, std::nullopt), "read"));
    token = page.next_page_token;
  } while (!token.empty());
  return out;
}

void CheckNoPlaintext(const std::vector<std::string>& raw, const std::string& wav) {
  // A run of the sample data (after the header) that would show up in any plaintext copy.
  const std::string pattern = wav.substr(2000, 64);
  REQUIRE_FALSE(raw.empty());
  for (const std::string& bytes : raw) {
    CHECK_FALSE(absl::StrContains(bytes, "RIFF"));
    CHECK_FALSE(absl::StrContains(bytes, "WAVE"));
    CHECK_FALSE(absl::StrContains(bytes, "fmt "));
    CHECK_FALSE(absl::StrContains(bytes, pattern));
  }
}

// Ingest (both providers, WAV and MP3), idempotent re-ingest, playback with ranges and no
// plaintext at rest: run on the filesystem store and on S3.
void IngestAndPlayScenario(MediaWorld& w, blob::BlobStore& raw_store) {
  const std::string wav = TestWav(6.0);
  const std::string mp3 = TestMp3(40);
  w.fetcher.Put("RE-twilio-1", wav);
  w.fetcher.Put("rec-telnyx-1", mp3);

  IngestResult twilio = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE-twilio-1", "twilio")), "ingest twilio");
  IngestResult telnyx = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "rec-telnyx-1", "telnyx")), "ingest telnyx");
  CHECK(twilio.created);
  CHECK(telnyx.created);
  CHECK(w.fetcher.fetches() == 2);

  // Same recording again (a redelivery under a new event id): stored once, not even fetched.
  IngestResult again = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE-twilio-1", "twilio")), "re-ingest");
  CHECK_FALSE(again.created);
  CHECK(again.id == twilio.id);
  CHECK(w.fetcher.fetches() == 2);
  CHECK(w.Count("SELECT count(*) FROM recordings") == 2);
  CHECK(w.Count("SELECT count(*) FROM outbox") == 2);

  Page<Recording> list = ValueOrFail(w.core->ListRecordings(kOwner, "", 0, ""), "list");
  REQUIRE(list.items.size() == 2);
  for (const Recording& r : list.items) {
    if (r.id == twilio.id) {
      CHECK(r.format == "wav");
      CHECK(r.duration_ms == 6000);
      CHECK(r.size_bytes == static_cast<int64_t>(wav.size()));
      CHECK(r.provider == "twilio");
    } else {
      CHECK(r.format == "mp3");
      CHECK(r.provider == "telnyx");
      CHECK(r.duration_ms == 1044);  // 40 frames of 1152 samples at 44.1 kHz
    }
  }

  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(kOwner, ItemKind::kRecording, twilio.id), "url");
  PlaybackResponse full = PlayUrl(w, ItemKind::kRecording, url.url);
  REQUIRE(full.status == 200);
  CHECK(full.content_type == "audio/wav");
  CHECK(full.body == wav);

  PlaybackResponse part = PlayUrl(w, ItemKind::kRecording, url.url, "bytes=100-70099");
  REQUIRE(part.status == 206);
  CHECK(part.content_range == "bytes 100-70099/" + std::to_string(wav.size()));
  CHECK(part.body == wav.substr(100, 70000));
  PlaybackResponse tail = PlayUrl(w, ItemKind::kRecording, url.url, "bytes=-500");
  REQUIRE(tail.status == 206);
  CHECK(tail.body == wav.substr(wav.size() - 500));
  PlaybackResponse open = PlayUrl(w, ItemKind::kRecording, url.url, "bytes=65530-");
  REQUIRE(open.status == 206);
  CHECK(open.body == wav.substr(65530));
  PlaybackResponse bad = PlayUrl(w, ItemKind::kRecording, url.url,
                                 "bytes=" + std::to_string(wav.size()) + "-");
  CHECK(bad.status == 416);
  CHECK(bad.content_range == "bytes */" + std::to_string(wav.size()));

  SignedUrl mp3_url = ValueOrFail(w.core->PlaybackUrl(kAdmin, ItemKind::kRecording, telnyx.id), "url");
  PlaybackResponse mp3_play = PlayUrl(w, ItemKind::kRecording, mp3_url.url);
  REQUIRE(mp3_play.status == 200);
  CHECK(mp3_play.content_type == "audio/mpeg");
  CHECK(mp3_play.body == mp3);

  CheckNoPlaintext(AllBlobs(raw_store), wav);
}

TEST_CASE("ingest, idempotency, ranged playback, no plaintext: filesystem store",
          "[integration][media][fs]") {
  MediaWorld w;
  IngestAndPlayScenario(w, *w.fs);
  // Also grep the files themselves (what an attacker with the disk sees).
  const std::string wav = TestWav(6.0);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(w.root)) {
    if (e.is_regular_file()) files.push_back(ReadFile(e.path()));
  }
  CHECK(files.size() == 2);
  CheckNoPlaintext(files, wav);
}

TEST_CASE("ingest, idempotency, ranged playback, no plaintext: S3 (MinIO)",
          "[integration][media][s3]") {
  auto bucket = blob::testing::S3TestBucket::CreateOrFail();
  MediaWorld w(&bucket->store());
  IngestAndPlayScenario(w, bucket->store());
}

TEST_CASE("bad audio is INVALID_ARGUMENT and stores nothing", "[integration][media]") {
  MediaWorld w(nullptr, MediaCoreOptions{.max_audio_bytes = 200000});
  const std::string wav = TestWav(2.0);
  std::string truncated = wav.substr(0, wav.size() / 2);
  struct Case {
    std::string name, bytes, reason;
  };
  for (const Case& c : std::vector<Case>{
           {"junk", "<html>not audio</html>", "unknown format"},
           {"empty", "", "empty"},
           {"truncated", truncated, "truncated WAV"},
           {"too big", TestWav(13.0), "larger than 200000"},
           {"garbage mp3", TestMp3(3) + "zzzz", "MP3 garbage"}}) {
    w.fetcher.Put(c.name, c.bytes);
    absl::StatusOr<IngestResult> r = IngestNow(w, RecordingRequest("company-a", c.name));
    INFO(c.name);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(r.status().message(), c.reason));
  }
  CHECK(w.Count("SELECT count(*) FROM recordings") == 0);
  CHECK(AllBlobs(*w.fs).empty());
}

TEST_CASE("a voicemail announced first as a carrier recording is stored once, as the voicemail",
          "[integration][media]") {
  MediaWorld w;
  REQUIRE(w.core->SetVoicemailBox(kAdmin, "box-tech", "user-tech").ok());
  const std::string wav = TestWav(2.5);
  w.fetcher.Put("RE-vm", wav);
  IngestResult rec = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE-vm")), "recording");
  CHECK(rec.created);
  IngestResult vm = ValueOrFail(IngestNow(w, VoicemailRequest("company-a", "RE-vm", "box-tech")), "voicemail");
  CHECK(vm.created);
  CHECK(vm.id != rec.id);
  CHECK(w.fetcher.fetches() == 1);
  CHECK(w.Count("SELECT count(*) FROM recordings") == 0);
  CHECK(w.Count("SELECT count(*) FROM voicemails WHERE owner_user_id = 'user-tech' AND duration_ms = 2500") == 1);
  CHECK(w.Count("SELECT count(*) FROM outbox") == 3);  // stored, deleted (moved), voicemail stored
  // The recording announced again is recognised as the voicemail.
  IngestResult again = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE-vm")), "again");
  CHECK_FALSE(again.created);
  CHECK(again.id == vm.id);
  CHECK(w.Count("SELECT count(*) FROM recordings") == 0);
  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(kTech, ItemKind::kVoicemail, vm.id), "url");
  PlaybackResponse play = PlayUrl(w, ItemKind::kVoicemail, url.url);
  REQUIRE(play.status == 200);
  CHECK(play.body == wav);
  CHECK(AllBlobs(*w.fs).size() == 1);
}

TEST_CASE("a blob store failure mid-write leaves no row, the sweeper removes orphans",
          "[integration][media]") {
  MediaWorld w;
  w.fetcher.Put("RE1", TestWav(1.0));
  w.flaky->fail = true;
  absl::StatusOr<IngestResult> r = IngestNow(w, RecordingRequest("company-a", "RE1"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  CHECK(w.Count("SELECT count(*) FROM recordings") == 0);
  CHECK(AllBlobs(*w.fs).empty());
  w.flaky->fail = false;

  // A blob whose transaction never committed (crash between blob commit and row insert).
  REQUIRE(w.fs->Put("company-a/recordings/orphan.sbe", "ciphertext").ok());
  IngestResult kept = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE1")), "ingest");
  CHECK(kept.created);
  // Young orphans are left alone (an ingest may be mid-transaction).
  CHECK(ValueOrFail(w.core->SweepOrphans(), "sweep") == 0);
  w.clock.Advance(absl::Hours(2));
  CHECK(ValueOrFail(w.core->SweepOrphans(), "sweep") == 1);
  CHECK(w.fs->Stat("company-a/recordings/orphan.sbe").status().code() ==
        absl::StatusCode::kNotFound);
  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(kOwner, ItemKind::kRecording, kept.id), "url");
  CHECK(PlayUrl(w, ItemKind::kRecording, url.url).status == 200);
}

TEST_CASE("expired or altered links are 403, every issue and access is audited",
          "[integration][media][audit]") {
  MediaWorld w;
  const std::string wav = TestWav(1.0);
  w.fetcher.Put("RE1", wav);
  IngestResult rec = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE1")), "ingest");
  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(kAdmin, ItemKind::kRecording, rec.id), "url");
  CHECK(url.expires_at == absl::FromUnixSeconds(absl::ToUnixSeconds(w.clock.Now() + absl::Hours(1))));
  REQUIRE(PlayUrl(w, ItemKind::kRecording, url.url, "bytes=0-99").status == 206);

  std::string altered = url.url;
  altered.replace(altered.find("&e=") + 3, 1, "9");
  PlaybackResponse forged = PlayUrl(w, ItemKind::kRecording, altered);
  CHECK(forged.status == 403);
  CHECK(absl::StrContains(forged.body, "link signature invalid"));
  CHECK(PlayUrl(w, ItemKind::kVoicemail, url.url).status == 403);  // same query, other kind

  w.clock.Advance(absl::Hours(1));
  PlaybackResponse expired = PlayUrl(w, ItemKind::kRecording, url.url);
  CHECK(expired.status == 403);
  CHECK(absl::StrContains(expired.body, "link expired"));

  Page<AccessLogEntry> log = ValueOrFail(w.core->ListAccessLog(kOwner, rec.id, 0, ""), "log");
  REQUIRE(log.items.size() == 3);
  CHECK(log.items[0].action == "url_issued");
  CHECK(log.items[0].actor_user_id == "user-admin");
  CHECK(log.items[0].actor_role == "admin");
  CHECK(log.items[0].link_id == url.link_id);
  CHECK(log.items[1].action == "http_access");
  CHECK(log.items[1].actor_user_id == "user-admin");  // who the link was issued to
  CHECK(log.items[1].peer == "203.0.113.7");
  CHECK(log.items[1].link_id == url.link_id);
  CHECK(log.items[1].detail == "bytes=0-99");
  CHECK(log.items[2].action == "http_denied");
  CHECK(log.items[2].detail == "link expired");

  // Owners only; the log cannot be rewritten.
  CHECK(w.core->ListAccessLog(kAdmin, "", 0, "").status().code() ==
        absl::StatusCode::kPermissionDenied);
  absl::Status tamper = w.db->pool().Unscoped([](pqxx::work& tx) {
    tx.exec("DELETE FROM access_log");
    return absl::OkStatus();
  });
  CHECK_FALSE(tamper.ok());
  CHECK(w.Count("SELECT count(*) FROM access_log") == 3);
}

TEST_CASE("per-role access to recordings and voicemail", "[integration][media][rbac]") {
  MediaWorld w;
  w.fetcher.Put("RE1", TestWav(1.0));
  w.fetcher.Put("VM-tech", TestWav(1.5));
  w.fetcher.Put("VM-office", TestWav(1.5));
  w.fetcher.Put("VM-team", TestWav(1.5));
  REQUIRE(w.core->SetVoicemailBox(kAdmin, "box-tech", "user-tech").ok());
  REQUIRE(w.core->SetVoicemailBox(kAdmin, "box-office", "user-office").ok());
  CHECK(w.core->SetVoicemailBox(kTech, "box-x", "user-tech").code() ==
        absl::StatusCode::kPermissionDenied);
  IngestResult rec = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE1")), "rec");
  IngestResult vm_tech = ValueOrFail(IngestNow(w, VoicemailRequest("company-a", "VM-tech", "box-tech")), "vm");
  IngestResult vm_office = ValueOrFail(IngestNow(w, VoicemailRequest("company-a", "VM-office", "box-office")), "vm");
  IngestResult vm_team = ValueOrFail(IngestNow(w, VoicemailRequest("company-a", "VM-team", "box-main")), "vm");

  auto code = [&](const Caller& c, ItemKind k, const std::string& id) {
    return w.core->PlaybackUrl(c, k, id).status().code();
  };
  using absl::StatusCode;
  CHECK(code(kOwner, ItemKind::kRecording, rec.id) == StatusCode::kOk);
  CHECK(code(kAdmin, ItemKind::kRecording, rec.id) == StatusCode::kOk);
  CHECK(code(kOffice, ItemKind::kRecording, rec.id) == StatusCode::kPermissionDenied);
  CHECK(code(kTech, ItemKind::kRecording, rec.id) == StatusCode::kPermissionDenied);
  CHECK(code(kTech, ItemKind::kVoicemail, vm_tech.id) == StatusCode::kOk);
  CHECK(code(kTech, ItemKind::kVoicemail, vm_office.id) == StatusCode::kPermissionDenied);
  CHECK(code(kTech, ItemKind::kVoicemail, vm_team.id) == StatusCode::kPermissionDenied);
  CHECK(code(kOffice, ItemKind::kVoicemail, vm_office.id) == StatusCode::kOk);
  CHECK(code(kAdmin, ItemKind::kVoicemail, vm_tech.id) == StatusCode::kOk);
  CHECK(code(kOwner, ItemKind::kVoicemail, vm_team.id) == StatusCode::kOk);
  // Another company never learns the item exists.
  CHECK(code(kOtherOwner, ItemKind::kRecording, rec.id) == StatusCode::kNotFound);
  CHECK(code(kOtherOwner, ItemKind::kVoicemail, vm_tech.id) == StatusCode::kNotFound);
  CHECK(code(kOwner, ItemKind::kRecording, "") == StatusCode::kInvalidArgument);

  // Denied issues are not audited; the six granted ones are.
  CHECK(w.Count("SELECT count(*) FROM access_log WHERE action = 'url_issued'") == 6);

  // A link of one company with the company swapped in fails the signature.
  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(kTech, ItemKind::kVoicemail, vm_tech.id), "url");
  std::string swapped = url.url;
  swapped.replace(swapped.find("company-a"), 9, "company-b");
  CHECK(PlayUrl(w, ItemKind::kVoicemail, swapped).status == 403);
  CHECK(PlayUrl(w, ItemKind::kVoicemail, url.url).status == 200);
}

TEST_CASE("visual voicemail: per user, per box, team inbox, unread, move, delete",
          "[integration][media][voicemail]") {
  MediaWorld w;
  REQUIRE(w.core->SetVoicemailBox(kAdmin, "box-tech", "user-tech").ok());
  for (int i = 0; i < 3; ++i) {
    w.fetcher.Put("T" + std::to_string(i), TestWav(1.0 + i));
    REQUIRE(IngestNow(w, VoicemailRequest("company-a", "T" + std::to_string(i), "box-tech")).ok());
    w.clock.Advance(absl::Seconds(1));
  }
  w.fetcher.Put("M0", TestWav(1.0));
  IngestResult team = ValueOrFail(IngestNow(w, VoicemailRequest("company-a", "M0", "box-main")), "team");

  Page<Voicemail> mine = ValueOrFail(w.core->ListVoicemails(kTech, {}), "mine");
  REQUIRE(mine.items.size() == 3);
  CHECK(mine.items[0].duration_ms == 3000);  // newest first
  CHECK(mine.items[0].caller == "+15551234567");
  CHECK(mine.items[0].owner_user_id == "user-tech");
  CHECK_FALSE(mine.items[0].read);
  Page<Voicemail> paged = ValueOrFail(
      w.core->ListVoicemails(kTech, {.page_size = 2}), "page 1");
  CHECK(paged.items.size() == 2);
  REQUIRE_FALSE(paged.next_page_token.empty());
  Page<Voicemail> rest = ValueOrFail(
      w.core->ListVoicemails(kTech, {.page_size = 2, .page_token = paged.next_page_token}), "page 2");
  CHECK(rest.items.size() == 1);
  CHECK(rest.next_page_token.empty());

  CHECK(w.core->ListVoicemails(kTech, {.scope = VoicemailQuery::Scope::kTeam}).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(w.core->ListVoicemails(kTech, {.user_id = "user-admin"}).status().code() ==
        absl::StatusCode::kPermissionDenied);
  Page<Voicemail> inbox = ValueOrFail(
      w.core->ListVoicemails(kAdmin, {.scope = VoicemailQuery::Scope::kTeam}), "team");
  REQUIRE(inbox.items.size() == 1);
  CHECK(inbox.items[0].id == team.id);
  // A tech listing the shared box sees none of it.
  CHECK(ValueOrFail(w.core->ListVoicemails(kTech, {.scope = VoicemailQuery::Scope::kBox,
                                                   .box_id = "box-main"}), "box")
            .items.empty());

  UnreadCounts counts = ValueOrFail(w.core->GetUnreadCounts(kTech), "counts");
  CHECK(counts.mine == 3);
  CHECK(counts.team == 0);
  REQUIRE(counts.by_box.size() == 1);
  CHECK(counts.by_box[0] == std::make_pair(std::string("box-tech"), int64_t{3}));

  Voicemail read = ValueOrFail(w.core->MarkVoicemail(kTech, mine.items[0].id, true), "read");
  CHECK(read.read);
  CHECK(ValueOrFail(w.core->GetUnreadCounts(kTech), "counts").mine == 2);
  CHECK(ValueOrFail(w.core->ListVoicemails(kTech, {.unread_only = true}), "unread").items.size() == 2);
  REQUIRE(w.core->MarkVoicemail(kTech, mine.items[0].id, false).ok());
  CHECK(w.core->MarkVoicemail(kTech, team.id, true).status().code() ==
        absl::StatusCode::kPermissionDenied);

  // Move the team voicemail to the tech's box: the tech now owns it.
  CHECK(w.core->MoveVoicemail(kTech, mine.items[1].id, "box-main", "").status().code() ==
        absl::StatusCode::kPermissionDenied);
  Voicemail moved = ValueOrFail(w.core->MoveVoicemail(kAdmin, team.id, "box-tech", "saved"), "move");
  CHECK(moved.owner_user_id == "user-tech");
  CHECK(moved.folder == "saved");
  CHECK(ValueOrFail(w.core->ListVoicemails(kTech, {.folder = "saved"}), "saved").items.size() == 1);
  CHECK(ValueOrFail(w.core->GetUnreadCounts(kAdmin), "counts").team == 0);

  REQUIRE(w.core->DeleteVoicemail(kTech, moved.id).ok());
  CHECK(ValueOrFail(w.core->ListVoicemails(kTech, {}), "mine").items.size() == 3);
  CHECK(w.core->PlaybackUrl(kTech, ItemKind::kVoicemail, moved.id).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(w.core->DeleteVoicemail(kOtherOwner, mine.items[0].id).code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("master key rotation re-wraps data keys, playback still works", "[integration][media][keys]") {
  MediaWorld w;
  const std::string wav = TestWav(2.0);
  w.fetcher.Put("RE1", wav);
  IngestResult rec = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE1")), "ingest");

  // Deploy with both keys, "new" active, and rotate.
  w.Rebuild(absl::StrCat(kOldMaster, ",", kNewMaster), "new");
  CHECK(w.core->RotateMasterKey(kAdmin).status().code() == absl::StatusCode::kPermissionDenied);
  envelope::RewrapStats stats = ValueOrFail(w.core->RotateMasterKey(kOwner), "rotate");
  CHECK(stats.rewrapped == 1);
  CHECK(w.Count("SELECT count(*) FROM company_data_keys WHERE master_key_id = 'new'") == 1);

  // Drop the old key from the configuration: the audio still plays.
  w.Rebuild(kNewMaster, "new");
  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(kOwner, ItemKind::kRecording, rec.id), "url");
  PlaybackResponse play = PlayUrl(w, ItemKind::kRecording, url.url, "bytes=1000-1999");
  REQUIRE(play.status == 206);
  CHECK(play.body == wav.substr(1000, 1000));
}

TEST_CASE("crypto-shredding makes the company's audio unplayable", "[integration][media][keys]") {
  MediaWorld w;
  w.fetcher.Put("RE1", TestWav(1.0));
  IngestResult a = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE1")), "a");
  IngestResult b = ValueOrFail(IngestNow(w, RecordingRequest("company-b", "RE1")), "b");
  SignedUrl url_a = ValueOrFail(w.core->PlaybackUrl(kOwner, ItemKind::kRecording, a.id), "url a");
  SignedUrl url_b = ValueOrFail(w.core->PlaybackUrl(kOtherOwner, ItemKind::kRecording, b.id), "url b");

  CHECK(w.core->ShredCompanyKey(kAdmin, "company-a").code() == absl::StatusCode::kPermissionDenied);
  CHECK(w.core->ShredCompanyKey(kOwner, "company-b").code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(w.core->ShredCompanyKey(kOwner, "company-a").ok());

  PlaybackResponse gone = PlayUrl(w, ItemKind::kRecording, url_a.url);
  CHECK(gone.status == 410);
  CHECK(gone.body.find("RIFF") == std::string::npos);
  // A fresh replica (empty key cache) cannot decrypt either, nor store new audio.
  w.Rebuild(kOldMaster, "old");
  CHECK(PlayUrl(w, ItemKind::kRecording, url_a.url).status == 410);
  w.fetcher.Put("RE2", TestWav(1.0));
  CHECK(IngestNow(w, RecordingRequest("company-a", "RE2")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // Other companies are unaffected.
  CHECK(PlayUrl(w, ItemKind::kRecording, url_b.url).status == 200);
}

TEST_CASE("tampered, reordered or truncated ciphertext is DATA_LOSS, never audio",
          "[integration][media][tamper]") {
  MediaWorld w;
  const std::string wav = TestWav(20.0);  // 320 KB: several 64 KiB chunks
  w.fetcher.Put("RE1", wav);
  IngestResult rec = ValueOrFail(IngestNow(w, RecordingRequest("company-a", "RE1")), "ingest");
  const std::string key = "company-a/recordings/" + rec.id + ".sbe";
  const std::string original = ValueOrFail(w.fs->ReadAll(key, std::nullopt), "read");
  CHECK(ValueOrFail(w.core->ReadPlaintextForTest("company-a", key), "plain") == wav);
  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(kOwner, ItemKind::kRecording, rec.id), "url");

  const size_t header = 44, record = (64 << 10) + 16;
  std::string flipped = original;
  flipped[header + record + 100] ^= 0x01;
  std::string reordered = original.substr(0, header) + original.substr(header + record, record) +
                          original.substr(header, record) + original.substr(header + 2 * record);
  std::string truncated = original.substr(0, header + 2 * record);
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"bit flip", flipped}, {"reordered", reordered}, {"truncated", truncated}}) {
    INFO(name);
    REQUIRE(w.fs->Put(key, bytes).ok());
    CHECK(w.core->ReadPlaintextForTest("company-a", key).status().code() ==
          absl::StatusCode::kDataLoss);
    PlaybackResponse play = PlayUrl(w, ItemKind::kRecording, url.url);
    CHECK(play.status == 500);
    CHECK(play.content_type == "application/json");
    CHECK(absl::StrContains(play.body, "data_loss"));
  }
  // A ranged read that touches the damaged chunk fails too; one that does not still works.
  REQUIRE(w.fs->Put(key, flipped).ok());
  CHECK(PlayUrl(w, ItemKind::kRecording, url.url, "bytes=65536-65600").status == 500);
  PlaybackResponse first = PlayUrl(w, ItemKind::kRecording, url.url, "bytes=0-1023");
  CHECK(first.status == 206);
  CHECK(first.body == wav.substr(0, 1024));
}

TEST_CASE("retention sweeper deletes expired items unless on legal hold", "[integration][media][retention]") {
  MediaWorld w;
  for (const char* id : {"R-old", "R-held"}) {
    w.fetcher.Put(id, TestWav(1.0));
    REQUIRE(IngestNow(w, RecordingRequest("company-a", id)).ok());
  }
  w.fetcher.Put("V-old", TestWav(1.0));
  IngestResult vm = ValueOrFail(IngestNow(w, VoicemailRequest("company-a", "V-old", "box")), "vm");
  w.fetcher.Put("R-b", TestWav(1.0));
  REQUIRE(IngestNow(w, RecordingRequest("company-b", "R-b")).ok());
  REQUIRE(w.core->SetRetention(kOwner, 30).ok());  // company-a: 30 days; company-b: default 90
  CHECK(w.core->SetRetention(kOwner, 0).code() == absl::StatusCode::kInvalidArgument);
  CHECK(w.core->SetRetention(kTech, 10).code() == absl::StatusCode::kPermissionDenied);
  const std::string held = ValueOrFail(w.db->pool().UnscopedOr<std::string>([](pqxx::work& tx) {
    return absl::StatusOr<std::string>(
        tx.exec("SELECT id FROM recordings WHERE provider_recording_id = 'R-held'")[0][0].as<std::string>());
  }), "held id");
  REQUIRE(w.core->SetLegalHold(kAdmin, ItemKind::kRecording, held, true).ok());
  CHECK(w.core->SetLegalHold(kOtherOwner, ItemKind::kRecording, held, false).code() ==
        absl::StatusCode::kNotFound);
  const int64_t outbox_before = w.Count("SELECT count(*) FROM outbox");

  w.clock.Advance(absl::Hours(24 * 29));
  SweepStats none = ValueOrFail(w.core->SweepRetention(), "sweep");
  CHECK(none.recordings_deleted + none.voicemails_deleted == 0);

  w.clock.Advance(absl::Hours(24 * 2));
  SweepStats swept = ValueOrFail(w.core->SweepRetention(), "sweep");
  CHECK(swept.recordings_deleted == 1);
  CHECK(swept.voicemails_deleted == 1);
  CHECK(w.Count("SELECT count(*) FROM recordings WHERE company_id = 'company-a'") == 1);
  CHECK(w.Count("SELECT count(*) FROM recordings WHERE company_id = 'company-b'") == 1);
  CHECK(w.Count("SELECT count(*) FROM voicemails") == 0);
  CHECK(w.fs->Stat("company-a/voicemails/" + vm.id + ".sbe").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(w.Count("SELECT count(*) FROM outbox") == outbox_before + 2);
  CHECK(AllBlobs(*w.fs).size() == 2);  // the held recording and company-b's

  // Lifting the hold lets the next sweep take it; company-b goes at 90 days.
  REQUIRE(w.core->SetLegalHold(kOwner, ItemKind::kRecording, held, false).ok());
  CHECK(ValueOrFail(w.core->SweepRetention(), "sweep").recordings_deleted == 1);
  w.clock.Advance(absl::Hours(24 * 60));
  CHECK(ValueOrFail(w.core->SweepRetention(), "sweep").recordings_deleted == 1);
  CHECK(AllBlobs(*w.fs).empty());
}

TEST_CASE("soft-deleted voicemail is purged after the grace period", "[integration][media][retention]") {
  MediaWorld w(nullptr, MediaCoreOptions{.soft_delete_purge_after = absl::Hours(24)});
  REQUIRE(w.core->SetVoicemailBox(kAdmin, "box-tech", "user-tech").ok());
  w.fetcher.Put("V1", TestWav(1.0));
  IngestResult vm = ValueOrFail(IngestNow(w, VoicemailRequest("company-a", "V1", "box-tech")), "vm");
  REQUIRE(w.core->DeleteVoicemail(kTech, vm.id).ok());
  CHECK(ValueOrFail(w.core->SweepRetention(), "sweep").voicemails_deleted == 0);
  w.clock.Advance(absl::Hours(25));
  CHECK(ValueOrFail(w.core->SweepRetention(), "sweep").voicemails_deleted == 1);
  CHECK(AllBlobs(*w.fs).empty());
}

TEST_CASE("sweepers on several replicas delete each item once", "[integration][media][retention]") {
  MediaWorld w;
  for (int i = 0; i < 20; ++i) {
    w.fetcher.Put("R" + std::to_string(i), TestWav(0.5));
    REQUIRE(IngestNow(w, RecordingRequest("company-a", "R" + std::to_string(i))).ok());
  }
  w.clock.Advance(absl::Hours(24 * 91));
  std::atomic<int> deleted{0};
  std::vector<std::thread> replicas;
  for (int r = 0; r < 4; ++r) {
    replicas.emplace_back([&] {
      absl::StatusOr<SweepStats> s = w.core->SweepRetention();
      if (s.ok()) deleted += s->recordings_deleted;
    });
  }
  for (auto& t : replicas) t.join();
  CHECK(deleted.load() == 20);
  CHECK(w.Count("SELECT count(*) FROM outbox WHERE topic = 'media.v1'") == 40);  // 20 stored + 20 deleted
}

TEST_CASE("greetings: rendered once per text+voice, re-rendered on change, playable",
          "[integration][media][greetings]") {
  MediaWorld w;
  const Caller routing{"company-a", "", "service"};
  auto first = ValueOrFail(w.core->GreetingUrlForText(routing, "Thanks for calling Acme.", "", "en-US"), "render");
  auto again = ValueOrFail(w.core->GreetingUrlForText(routing, "Thanks for calling Acme.", "", "en-US"), "cached");
  CHECK(again.first.id == first.first.id);
  auto changed = ValueOrFail(w.core->GreetingUrlForText(routing, "Thanks for calling Acme Plumbing.", "", "en-US"), "changed");
  CHECK(changed.first.id != first.first.id);
  CHECK(w.Count("SELECT count(*) FROM greetings") == 2);
  CHECK(w.Count("SELECT count(*) FROM outbox") == 2);  // two GreetingRendered
  CHECK(first.second.expires_at > w.clock.Now() + absl::Hours(24 * 300));

  PlaybackResponse play = PlayUrl(w, ItemKind::kGreeting, first.second.url);
  REQUIRE(play.status == 200);
  audio::WavInfo info = ValueOrFail(audio::ParseWav(play.body), "wav");
  CHECK(info.sample_rate == 8000);
  CHECK(info.channels == 1);
  CHECK(info.duration > absl::Milliseconds(500));

  auto by_id = ValueOrFail(w.core->GreetingUrlForId(routing, first.first.id), "by id");
  CHECK(by_id.first.content_hash == first.first.content_hash);
  CHECK(w.core->GreetingUrlForId(Caller{"company-b", "", "service"}, first.first.id).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(w.core->GreetingUrlForText(routing, "", "", "").status().code() ==
        absl::StatusCode::kInvalidArgument);

  // Uploads are normalised to 8 kHz mono.
  Greeting up = ValueOrFail(w.core->UploadGreeting(kAdmin, "after hours",
                                                   audio::PcmWav(PatternSamples(44100), 22050, 2)),
                            "upload");
  CHECK(up.source == "upload");
  CHECK(std::abs(up.duration_ms - 1000) <= 5);
  auto up_url = ValueOrFail(w.core->GreetingUrlForId(kAdmin, up.id), "url");
  audio::WavInfo up_info = ValueOrFail(audio::ParseWav(PlayUrl(w, ItemKind::kGreeting, up_url.second.url).body), "wav");
  CHECK(up_info.sample_rate == 8000);
  CHECK(up_info.channels == 1);
  CHECK(w.core->UploadGreeting(kTech, "x", TestWav(1.0)).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(w.core->UploadGreeting(kAdmin, "x", "not audio").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::media
