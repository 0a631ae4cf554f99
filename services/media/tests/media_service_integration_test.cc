// The gRPC adapter, the playback HTTP listener (real sockets, port 0) and the Kafka ingest path
// (IdempotentConsumer + CarrierRecordingFetcher over gRPC to an in-process carrier stand-in),
// against real Postgres and Kafka.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/events/consumer.h"
#include "libs/events/event.h"
#include "libs/grpc/principal.h"
#include "libs/http/client.h"
#include "libs/http/server.h"
#include "services/media/carrier_fetcher.h"
#include "services/media/ingest_consumer.h"
#include "services/media/media_service.h"
#include "services/media/playback_http.h"
#include "services/media/tests/media_fixture.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"

namespace switchboard::media {
namespace {

using namespace switchboard::media::testing;  // NOLINT
using switchboard::testing::GrpcTestServer;
using switchboard::testing::KafkaTestTopic;

grpc::ClientContext* As(grpc::ClientContext& ctx, const std::string& company,
                        const std::string& user, const std::string& role) {
  rpc::AttachPrincipal(ctx, {.company_id = company, .user_id = user, .role = role});
  return &ctx;
}

// The playback URL re-pointed at the listener's real port.
std::string OnPort(const std::string& url, int port) {
  return absl::StrCat("http://127.0.0.1:", port, url.substr(url.find("/v1/media/")));
}

TEST_CASE("gRPC import, playback URL and HTTP Range playback", "[integration][media][grpc][http]") {
  MediaWorld w;
  MediaService service(*w.core);
  auto server = GrpcTestServer::CreateOrFail({&service});
  auto stub = v1::Media::NewStub(server->channel());
  auto http_server = ValueOrFail(http::Server::Start({.threads = 2}, MakePlaybackRouter(*w.core)),
                                 "http");
  auto client = ValueOrFail(http::CurlHttpClient::Create(), "curl");
  {
    grpc::ClientContext ctx;
    v1::SetVoicemailBoxRequest req;
    req.set_box_id("box-sarah");
    req.set_owner_user_id("user-sarah");
    v1::SetVoicemailBoxResponse resp;
    REQUIRE(stub->SetVoicemailBox(As(ctx, "company-a", "user-admin", "admin"), req, &resp).ok());
  }
  const std::string wav = TestWav(4.0);
  auto import = [&](const std::string& import_id, const std::string& bytes, v1::Voicemail* out) {
    grpc::ClientContext ctx;
    auto writer = stub->ImportVoicemail(As(ctx, "company-a", "user-admin", "admin"), out);
    v1::UploadChunk header;
    header.mutable_header()->set_box_id("box-sarah");
    header.mutable_header()->set_caller("+15550001111");
    header.mutable_header()->set_import_id(import_id);
    writer->Write(header);
    for (size_t at = 0; at < bytes.size(); at += 10000) {
      v1::UploadChunk chunk;
      chunk.set_data(bytes.substr(at, 10000));
      writer->Write(chunk);
    }
    writer->WritesDone();
    return writer->Finish();
  };
  v1::Voicemail vm;
  grpc::Status imported = import("legacy-1", wav, &vm);
  REQUIRE(imported.ok());
  CHECK(vm.owner_user_id() == "user-sarah");
  CHECK(vm.duration_ms() == 4000);
  CHECK(vm.format() == "wav");
  v1::Voicemail again;
  REQUIRE(import("legacy-1", wav, &again).ok());
  CHECK(again.id() == vm.id());
  v1::Voicemail junk;
  grpc::Status bad = import("legacy-2", "definitely not audio", &junk);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(bad.error_message(), "unknown format"));

  {  // Sarah's inbox lists it; she gets a link.
    grpc::ClientContext ctx;
    v1::ListVoicemailsRequest req;
    v1::ListVoicemailsResponse resp;
    REQUIRE(stub->ListVoicemails(As(ctx, "company-a", "user-sarah", "tech"), req, &resp).ok());
    REQUIRE(resp.voicemails_size() == 1);
    CHECK(resp.voicemails(0).id() == vm.id());
    CHECK_FALSE(resp.voicemails(0).read());
  }
  v1::GetPlaybackUrlResponse link;
  {
    grpc::ClientContext ctx;
    v1::GetPlaybackUrlRequest req;
    req.set_voicemail_id(vm.id());
    REQUIRE(stub->GetPlaybackUrl(As(ctx, "company-a", "user-sarah", "tech"), req, &link).ok());
    CHECK_FALSE(link.link_id().empty());
  }
  {  // Another tech: denied; another company: not found; no principal: unauthenticated.
    grpc::ClientContext c1, c2, c3;
    v1::GetPlaybackUrlRequest req;
    req.set_voicemail_id(vm.id());
    v1::GetPlaybackUrlResponse resp;
    CHECK(stub->GetPlaybackUrl(As(c1, "company-a", "user-bob", "tech"), req, &resp).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    CHECK(stub->GetPlaybackUrl(As(c2, "company-b", "user-x", "owner"), req, &resp).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    CHECK(stub->GetPlaybackUrl(&c3, req, &resp).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }

  const std::string url = OnPort(link.url(), http_server->port());
  auto full = ValueOrFail(client->Send({.url = url}), "GET");
  CHECK(full.status == 200);
  CHECK(full.body == wav);
  CHECK(full.Header("Accept-Ranges").value_or("") == "bytes");
  CHECK(full.Header("Content-Type").value_or("") == "audio/wav");
  auto ranged = ValueOrFail(client->Send({.url = url, .headers = {{"Range", "bytes=44-10043"}}}), "GET range");
  CHECK(ranged.status == 206);
  CHECK(ranged.body == wav.substr(44, 10000));
  CHECK(ranged.Header("Content-Range").value_or("") ==
        absl::StrCat("bytes 44-10043/", wav.size()));
  auto unsatisfiable = ValueOrFail(client->Send({.url = url, .headers = {{"Range", "bytes=99999999-"}}}), "416");
  CHECK(unsatisfiable.status == 416);
  CHECK(unsatisfiable.Header("Content-Range").value_or("") == absl::StrCat("bytes */", wav.size()));
  std::string altered = url;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  auto forged = ValueOrFail(client->Send({.url = altered}), "forged");
  CHECK(forged.status == 403);
  CHECK(absl::StrContains(forged.Header("Content-Type").value_or(""), "application/json"));
  CHECK(absl::StrContains(forged.body, "\"error\""));

  {  // The owner reads the audit trail: the issue and both successful HTTP accesses (+ 416).
    grpc::ClientContext ctx;
    v1::ListAccessLogRequest req;
    req.set_item_id(vm.id());
    v1::ListAccessLogResponse resp;
    REQUIRE(stub->ListAccessLog(As(ctx, "company-a", "user-owner", "owner"), req, &resp).ok());
    REQUIRE(resp.entries_size() == 4);
    CHECK(resp.entries(0).action() == "url_issued");
    CHECK(resp.entries(0).actor_user_id() == "user-sarah");
    CHECK(resp.entries(1).action() == "http_access");
    CHECK(resp.entries(1).peer() == "127.0.0.1");
    CHECK(resp.entries(1).link_id() == link.link_id());
    CHECK(resp.entries(2).detail() == "bytes=44-10043");
  }
  {  // Uploaded greeting over client streaming: normalised to 8 kHz mono; header rules.
    auto upload = [&](const std::string& role, bool with_header, const std::string& bytes,
                      v1::Greeting* out) {
      grpc::ClientContext ctx;
      auto writer = stub->UploadGreeting(As(ctx, "company-a", "user-x", role), out);
      if (with_header) {
        v1::UploadChunk header;
        header.mutable_header()->set_name("after hours");
        writer->Write(header);
      }
      v1::UploadChunk chunk;
      chunk.set_data(bytes);
      writer->Write(chunk);
      writer->WritesDone();
      return writer->Finish();
    };
    v1::Greeting greeting;
    const std::string stereo = audio::PcmWav(PatternSamples(32000), 16000, 2);
    REQUIRE(upload("admin", true, stereo, &greeting).ok());
    CHECK(greeting.source() == "upload");
    CHECK(std::abs(greeting.duration_ms() - 1000) <= 5);
    CHECK(greeting.size_bytes() < static_cast<int64_t>(stereo.size()));
    v1::Greeting ignored;
    grpc::Status no_header = upload("admin", false, stereo, &ignored);
    CHECK(no_header.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StrContains(no_header.error_message(), "header"));
    CHECK(upload("tech", true, stereo, &ignored).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  {  // Key operations are owner-only.
    grpc::ClientContext c1, c2;
    v1::ShredCompanyKeyRequest shred;
    shred.set_confirm_company_id("company-a");
    v1::ShredCompanyKeyResponse shredded;
    CHECK(stub->ShredCompanyKey(As(c1, "company-a", "user-admin", "admin"), shred, &shredded)
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
    v1::RotateMasterKeyResponse rotated;
    REQUIRE(stub->RotateMasterKey(As(c2, "company-a", "user-owner", "owner"),
                                  v1::RotateMasterKeyRequest(), &rotated).ok());
    CHECK(rotated.master_key_id() == "old");
    CHECK(rotated.rewrapped() == 0);  // already wrapped by the active key
  }
  {  // Greeting URL for routing (role service).
    grpc::ClientContext ctx;
    v1::GetGreetingUrlRequest req;
    req.set_text("Please leave a message after the tone.");
    req.set_language("en-US");
    v1::GetGreetingUrlResponse resp;
    REQUIRE(stub->GetGreetingUrl(As(ctx, "company-a", "", "service"), req, &resp).ok());
    auto greeting = ValueOrFail(client->Send({.url = OnPort(resp.url(), http_server->port())}), "greeting");
    CHECK(greeting.status == 200);
    CHECK(greeting.body.substr(0, 4) == "RIFF");
  }
}

// Stands in for services/carrier: FetchRecording streams stored bytes in 64 KiB chunks and
// insists on the service principal.
class FakeCarrier final : public carrier::v1::Carrier::Service {
 public:
  void Put(const std::string& company, const std::string& id, std::string bytes) {
    absl::MutexLock lock(&mu_);
    recordings_[company + "/" + id] = std::move(bytes);
  }
  int fetches() const { return fetches_.load(); }

  grpc::Status FetchRecording(grpc::ServerContext* context,
                              const carrier::v1::FetchRecordingRequest* request,
                              grpc::ServerWriter<carrier::v1::RecordingChunk>* writer) override {
    ++fetches_;
    absl::StatusOr<rpc::Principal> p = rpc::PrincipalFromContext(*context);
    if (!p.ok() || p->role != "service") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "service principal required");
    }
    std::string bytes;
    {
      absl::MutexLock lock(&mu_);
      auto it = recordings_.find(p->company_id + "/" + request->recording());
      if (it == recordings_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no recording");
      bytes = it->second;
    }
    for (size_t at = 0; at < bytes.size(); at += 64 << 10) {
      carrier::v1::RecordingChunk chunk;
      chunk.set_data(bytes.substr(at, 64 << 10));
      chunk.set_content_type("audio/wav");
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> recordings_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> fetches_{0};
};

events::v1::Event RecordingReadyEvent(const std::string& company, carrier::v1::Provider provider,
                                      const std::string& recording_id) {
  FakeClock clock(absl::Now());
  events::v1::Event e = events::NewEvent("carrier.recording_ready", company, "call-1", "carrier", clock);
  auto* ce = e.mutable_carrier_event();
  ce->set_provider(provider);
  ce->set_company_id(company);
  ce->mutable_ids()->set_call_sid("CA-" + recording_id);
  ce->mutable_recording_ready()->set_recording_id(recording_id);
  ce->mutable_recording_ready()->set_format("wav");
  return e;
}

TEST_CASE("Kafka ingest: carrier.v1 and calls.v1 events through the carrier's FetchRecording",
          "[integration][media][kafka]") {
  FakeCarrier carrier;
  auto carrier_server = GrpcTestServer::CreateOrFail({&carrier});
  CarrierRecordingFetcher fetcher(carrier_server->channel(), absl::Seconds(10));
  MediaWorld w;
  w.fetcher_override = &fetcher;
  w.Rebuild(kOldMaster, "old");
  REQUIRE(w.core->SetVoicemailBox(Caller{"company-a", "u", "admin"}, "box-sarah", "user-sarah").ok());

  const std::string twilio_wav = TestWav(2.0), telnyx_wav = TestWav(3.0), vm_wav = TestWav(5.0);
  carrier.Put("company-a", "RE-1", twilio_wav);
  carrier.Put("company-a", "tx-1", telnyx_wav);
  carrier.Put("company-a", "RE-vm", vm_wav);

  auto carrier_topic = KafkaTestTopic::CreateOrFail();
  auto calls_topic = KafkaTestTopic::CreateOrFail();
  auto producer = ValueOrFail(carrier_topic->NewProducer(), "producer");
  const events::v1::Event twilio = RecordingReadyEvent("company-a", carrier::v1::TWILIO, "RE-1");
  const events::v1::Event telnyx = RecordingReadyEvent("company-a", carrier::v1::TELNYX, "tx-1");
  // A carrier redelivery: a new event id for the same recording.
  const events::v1::Event redelivered = RecordingReadyEvent("company-a", carrier::v1::TWILIO, "RE-1");
  FakeClock clock(absl::Now());
  events::v1::Event vm = events::NewEvent("calls.voicemail_left", "company-a", "call-9", "routing", clock);
  vm.mutable_voicemail_left()->set_call_id("call-9");
  vm.mutable_voicemail_left()->set_voicemail_box_id("box-sarah");
  vm.mutable_voicemail_left()->set_recording_id("RE-vm");
  vm.mutable_voicemail_left()->set_from("+15557654321");
  vm.mutable_voicemail_left()->set_duration_s(5);
  for (const auto* e : {&twilio, &telnyx, &twilio /* duplicate event id */, &redelivered}) {
    REQUIRE(producer->Produce(carrier_topic->name(), e->aggregate_id(), e->SerializeAsString()).ok());
  }
  REQUIRE(producer->Produce(calls_topic->name(), vm.aggregate_id(), vm.SerializeAsString()).ok());
  REQUIRE(producer->Flush(absl::Seconds(10)).ok());

  MediaCore* core = w.core.get();
  auto consumer = ValueOrFail(
      events::IdempotentConsumer::Create(
          w.db->pool(),
          events::ConsumerOptions{.brokers = carrier_topic->brokers(),
                                  .group_id = carrier_topic->UniqueGroupId(),
                                  .topics = {carrier_topic->name(), calls_topic->name()},
                                  .consumer_name = "media.ingest",
                                  .max_attempts = 2},
          [core](pqxx::work& tx, const events::v1::Event& e) {
            return HandleIngestEvent(*core, tx, e);
          }),
      "consumer");
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (consumer->HandledCount() + consumer->DuplicateCount() < 5 && absl::Now() < deadline) {
    REQUIRE(consumer->PollOnce(absl::Milliseconds(200)).ok());
  }
  REQUIRE(consumer->Stop().ok());
  CHECK(consumer->HandledCount() == 4);
  CHECK(consumer->DuplicateCount() == 1);
  CHECK(consumer->DeadLetteredCount() == 0);
  CHECK(carrier.fetches() == 3);  // the redelivery was recognised before fetching
  CHECK(w.Count("SELECT count(*) FROM recordings") == 2);
  CHECK(w.Count("SELECT count(*) FROM voicemails") == 1);
  CHECK(w.Count("SELECT count(*) FROM recordings WHERE provider = 'telnyx' AND duration_ms = 3000") == 1);
  CHECK(w.Count("SELECT count(*) FROM outbox WHERE topic = 'media.v1'") == 3);

  const Caller sarah{"company-a", "user-sarah", "tech"};
  Page<Voicemail> inbox = ValueOrFail(w.core->ListVoicemails(sarah, {}), "inbox");
  REQUIRE(inbox.items.size() == 1);
  CHECK(inbox.items[0].caller == "+15557654321");
  CHECK(inbox.items[0].call_id == "call-9");
  SignedUrl url = ValueOrFail(w.core->PlaybackUrl(sarah, ItemKind::kVoicemail, inbox.items[0].id), "url");
  PlaybackResponse play = PlayUrl(w, ItemKind::kVoicemail, url.url);
  REQUIRE(play.status == 200);
  CHECK(play.body == vm_wav);

  // The fetcher maps carrier errors and the size limit.
  std::string sink;
  auto append = [&](absl::string_view p) {
    sink.append(p.data(), p.size());
    return absl::OkStatus();
  };
  CHECK(fetcher.Fetch("company-a", "missing", 1 << 20, append).code() == absl::StatusCode::kNotFound);
  CHECK(fetcher.Fetch("company-b", "RE-1", 1 << 20, append).code() == absl::StatusCode::kNotFound);
  absl::Status too_big = fetcher.Fetch("company-a", "RE-vm", 1000, append);
  CHECK(too_big.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(too_big.message(), "larger than 1000"));
}

}  // namespace
}  // namespace switchboard::media
