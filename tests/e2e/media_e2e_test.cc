// The media service as deployed, fed by the real carrier service and carrier emulator (three
// processes configured through the environment): for each provider wire format (Twilio, Telnyx)
// an inbound call is recorded by the emulator (espeak-ng speech), the carrier announces
// RecordingReady on carrier.v1, media consumes it, fetches the audio through the carrier's
// FetchRecording, stores it encrypted and lists it; the owner's signed link plays back the exact
// bytes (sha256 of the row) and the blob directory holds no plaintext. All processes stop with
// SIGTERM and exit 0; no secret reaches the logs.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "libs/crypto/random.h"
#include "libs/grpc/principal.h"
#include "libs/http/client.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "tests/e2e/e2e_util.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/media/v1/media.grpc.pb.h"

namespace switchboard {
namespace {

namespace cv1 = switchboard::carrier::v1;
namespace mv1 = switchboard::media::v1;
using json = nlohmann::json;

constexpr char kTwilioSid[] = "AC0e2e0000000000000000000000000med";
constexpr char kTwilioToken[] = "e2e-media-twilio-auth-token";
constexpr char kTelnyxKey[] = "KEYe2e-media-telnyx-api-key";

using e2e::LogField;
using e2e::StartProcess;

TEST_CASE("media + carrier + emulator processes: recordings of both providers stored encrypted",
          "[e2e][media]") {
  auto carrier_schema = testing::PgTestSchema::CreateOrFail();
  auto media_schema = testing::PgTestSchema::CreateOrFail();
  auto carrier_topic = testing::KafkaTestTopic::CreateOrFail();
  auto calls_topic = testing::KafkaTestTopic::CreateOrFail();
  auto client = testing::ValueOrFail(http::CurlHttpClient::Create(), "curl");
  const std::filesystem::path blob_root =
      std::filesystem::temp_directory_path() / ("media-e2e-" + testing::RandomSuffix());
  const std::string master_key = crypto::Base64Encode(crypto::RandomBytes(32));
  const std::string signing_key = crypto::Base64Encode(crypto::RandomBytes(32));
  auto env_or_empty = [](const char* name) { return testing::Env(name).value_or(""); };

  const int webhook_port = testing::ValueOrFail(testing::FreeLoopbackPort(), "free port");
  const std::string public_base = absl::StrCat("http://127.0.0.1:", webhook_port);
  auto emulator = StartProcess(SB_CARRIER_EMULATOR_BINARY,
                        {{"CARRIER_EMULATOR_LISTEN_ADDRESS", "127.0.0.1"},
                         {"CARRIER_EMULATOR_PORT", "0"},
                         {"CARRIER_EMULATOR_TWILIO_ACCOUNT_SID", kTwilioSid},
                         {"CARRIER_EMULATOR_TWILIO_AUTH_TOKEN", kTwilioToken},
                         {"CARRIER_EMULATOR_TELNYX_API_KEY", kTelnyxKey},
                         {"CARRIER_EMULATOR_WEBHOOK_BASE_URL", public_base}});
  const std::string emulator_url =
      absl::StrCat("http://127.0.0.1:", LogField(*emulator, "emulator listening", "port"));
  auto carrier = StartProcess(SB_CARRIER_BINARY,
                       {{"CARRIER_GRPC_ADDRESS", "127.0.0.1:0"},
                        {"CARRIER_ADMIN_ADDRESS", "127.0.0.1"},
                        {"CARRIER_ADMIN_PORT", "0"},
                        {"CARRIER_WEBHOOK_ADDRESS", absl::StrCat("127.0.0.1:", webhook_port)},
                        {"CARRIER_PUBLIC_BASE_URL", public_base},
                        {"CARRIER_PG_DSN", env_or_empty("SB_PG_DSN")},
                        {"CARRIER_PG_SCHEMA", carrier_schema->schema()},
                        {"CARRIER_KAFKA_BROKERS", env_or_empty("SB_KAFKA_BROKERS")},
                        {"CARRIER_EVENTS_TOPIC", carrier_topic->name()},
                        {"CARRIER_KEY_ENCRYPTION_KEY",
                         crypto::Base64Encode(crypto::RandomBytes(32))},
                        {"CARRIER_EMULATOR_URL", emulator_url},
                        {"CARRIER_DRAIN_DELAY", "100ms"},
                        {"CARRIER_SHUTDOWN_GRACE", "5s"}});
  const std::string carrier_grpc =
      absl::StrCat("127.0.0.1:", LogField(*carrier, "carrier serving", "grpc_port"));

  const int playback_port = testing::ValueOrFail(testing::FreeLoopbackPort(), "free port");
  auto media = StartProcess(SB_MEDIA_BINARY,
                     {{"MEDIA_GRPC_ADDRESS", "127.0.0.1:0"},
                      {"MEDIA_ADMIN_ADDRESS", "127.0.0.1"},
                      {"MEDIA_ADMIN_PORT", "0"},
                      {"MEDIA_PLAYBACK_ADDRESS", "127.0.0.1"},
                      {"MEDIA_PLAYBACK_PORT", std::to_string(playback_port)},
                      {"MEDIA_PUBLIC_BASE_URL", absl::StrCat("http://127.0.0.1:", playback_port)},
                      {"MEDIA_PG_DSN", env_or_empty("SB_PG_DSN")},
                      {"MEDIA_PG_SCHEMA", media_schema->schema()},
                      {"MEDIA_KAFKA_BROKERS", env_or_empty("SB_KAFKA_BROKERS")},
                      {"MEDIA_CARRIER_TOPIC", carrier_topic->name()},
                      {"MEDIA_CALLS_TOPIC", calls_topic->name()},
                      {"MEDIA_CONSUMER_GROUP", carrier_topic->UniqueGroupId()},
                      {"MEDIA_CARRIER_ADDRESS", carrier_grpc},
                      {"MEDIA_BLOB_ROOT", blob_root.string()},
                      {"MEDIA_MASTER_KEYS", "e2e:" + master_key},
                      {"MEDIA_ACTIVE_MASTER_KEY_ID", "e2e"},
                      {"MEDIA_PLAYBACK_SIGNING_KEY", signing_key},
                      {"MEDIA_DRAIN_DELAY", "100ms"},
                      {"MEDIA_SHUTDOWN_GRACE", "5s"}});
  const std::string media_grpc =
      absl::StrCat("127.0.0.1:", LogField(*media, "media serving", "grpc_port"));
  CHECK(LogField(*media, "media serving", "playback_port") == std::to_string(playback_port));

  auto carrier_channel = grpc::CreateChannel(carrier_grpc, grpc::InsecureChannelCredentials());
  auto media_channel = grpc::CreateChannel(media_grpc, grpc::InsecureChannelCredentials());
  REQUIRE(testing::WaitUntilServing(carrier_channel, absl::Seconds(30)).ok());
  REQUIRE(testing::WaitUntilServing(media_channel, absl::Seconds(30)).ok());
  auto carrier_stub = cv1::Carrier::NewStub(carrier_channel);
  auto media_stub = mv1::Media::NewStub(media_channel);

  auto info = client->Send({.url = emulator_url + "/emulator/info"});
  REQUIRE(info.ok());
  const std::string telnyx_public_key =
      json::parse(info->body, nullptr, false).value("telnyx_public_key", "");
  REQUIRE_FALSE(telnyx_public_key.empty());

  struct Case {
    const char* carrier;
    const char* area_code;
  };
  for (const Case& c : {Case{"twilio", "415"}, Case{"telnyx", "646"}}) {
    DYNAMIC_SECTION("a recorded call through the " << c.carrier << " wire format") {
      const bool twilio = std::string(c.carrier) == "twilio";
      const std::string company = NewUuidV7();
      auto as_owner = [&](grpc::ClientContext& ctx) {
        rpc::AttachPrincipal(ctx, {.company_id = company, .user_id = NewUuidV7(), .role = "owner"});
        return &ctx;
      };
      {
        cv1::SetCarrierAccountRequest set;
        set.mutable_primary()->set_provider(cv1::EMULATOR);
        if (twilio) {
          set.mutable_primary()->mutable_twilio()->set_account_sid(kTwilioSid);
          set.mutable_primary()->mutable_twilio()->set_auth_token(kTwilioToken);
        } else {
          auto* telnyx = set.mutable_primary()->mutable_telnyx();
          telnyx->set_api_key(kTelnyxKey);
          telnyx->set_public_key(telnyx_public_key);
          telnyx->set_connection_id("1494404757140276705");
        }
        cv1::CarrierAccount account;
        grpc::ClientContext ctx;
        REQUIRE(carrier_stub->SetCarrierAccount(as_owner(ctx), set, &account).ok());
      }
      std::string number;
      {
        cv1::SearchNumbersRequest search;
        search.set_area_code(c.area_code);
        search.set_limit(5);
        cv1::SearchNumbersResponse found;
        grpc::ClientContext ctx;
        REQUIRE(carrier_stub->SearchNumbers(as_owner(ctx), search, &found).ok());
        REQUIRE(found.numbers_size() > 0);
        number = found.numbers(0).e164();
        cv1::OrderNumberRequest order;
        order.set_e164(number);
        cv1::OrderedNumber ordered;
        grpc::ClientContext ctx2;
        REQUIRE(carrier_stub->OrderNumber(as_owner(ctx2), order, &ordered).ok());
      }
      {
        cv1::SetStaticInstructionsRequest req;
        req.set_e164(number);
        cv1::CallInstructions* ivr = req.mutable_instructions();
        ivr->set_id(absl::StrCat("media-e2e-", c.carrier));
        ivr->add_instructions()->mutable_say()->set_text("Please leave a message.");
        ivr->add_instructions()->mutable_record()->set_max_length_s(60);
        ivr->add_instructions()->mutable_hangup();
        cv1::SetStaticInstructionsResponse ignored;
        grpc::ClientContext ctx;
        REQUIRE(carrier_stub->SetStaticInstructions(as_owner(ctx), req, &ignored).ok());
      }
      const json scenario = {
          {"carrier", c.carrier},
          {"from", "+13125550111"},
          {"to", number},
          {"caller", json::array({json{{"on", "record"},
                                       {"speak", "Hi, this is Bob, my heater is broken."}}})}};
      auto answer = client->Send({.method = "POST",
                                  .url = emulator_url + "/emulator/calls",
                                  .headers = {{"Content-Type", "application/json"}},
                                  .body = scenario.dump(),
                                  .timeout = absl::Seconds(60)});
      REQUIRE(answer.ok());
      INFO("scenario: " << answer->body);
      REQUIRE(answer->status == 200);

      // Poll media until the recording is listed.
      mv1::ListRecordingsResponse listed;
      const absl::Time deadline = absl::Now() + absl::Seconds(90);
      while (absl::Now() < deadline) {
        grpc::ClientContext ctx;
        listed.Clear();
        REQUIRE(media_stub->ListRecordings(as_owner(ctx), mv1::ListRecordingsRequest(), &listed).ok());
        if (listed.recordings_size() > 0) break;
        absl::SleepFor(absl::Milliseconds(200));
      }
      INFO("media log: " << media->Output());
      REQUIRE(listed.recordings_size() == 1);
      const mv1::Recording& rec = listed.recordings(0);
      CHECK(rec.provider() == c.carrier);
      CHECK(rec.format() == "wav");
      CHECK(rec.duration_ms() > 500);

      mv1::GetPlaybackUrlRequest url_req;
      url_req.set_recording_id(rec.id());
      mv1::GetPlaybackUrlResponse url;
      grpc::ClientContext ctx;
      REQUIRE(media_stub->GetPlaybackUrl(as_owner(ctx), url_req, &url).ok());
      auto played = client->Send({.url = url.url()});
      REQUIRE(played.ok());
      CHECK(played->status == 200);
      CHECK(played->body.substr(0, 4) == "RIFF");
      CHECK(crypto::HexEncode(crypto::Sha256(played->body)) == rec.sha256());
      auto ranged = client->Send({.url = url.url(), .headers = {{"Range", "bytes=0-43"}}});
      REQUIRE(ranged.ok());
      CHECK(ranged->status == 206);
      CHECK(ranged->body == played->body.substr(0, 44));

      // Both streams are on media's /metrics. A stream is completed once the server's last
      // write finishes, which the client need not wait for: read until it shows (bounded).
      const std::string metrics_url = absl::StrCat(
          "http://127.0.0.1:", LogField(*media, "media serving", "admin_port"), "/metrics");
      std::string exposition;
      const absl::Time metrics_deadline = absl::Now() + absl::Seconds(10);
      do {
        auto m = client->Send({.url = metrics_url});
        REQUIRE(m.ok());
        exposition = m->body;
      } while (!absl::StrContains(exposition,
                                  "media_playback_streams_total{outcome=\"completed\"} 2") &&
               absl::Now() < metrics_deadline);
      CHECK(absl::StrContains(exposition, "media_playback_streams_total{outcome=\"started\"} 2"));
      CHECK(absl::StrContains(exposition,
                              "media_playback_streams_total{outcome=\"completed\"} 2"));
      CHECK(absl::StrContains(exposition,
                              "media_playback_streams_total{outcome=\"source_error\"} 0"));
    }
  }

  // No plaintext audio at rest.
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(blob_root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    ++files;
    CHECK_FALSE(absl::StrContains(bytes, "RIFF"));
    CHECK_FALSE(absl::StrContains(bytes, "WAVE"));
  }
  CHECK(files == 1);  // Catch2 runs the test case once per DYNAMIC_SECTION: one call per run

  for (auto* p : {media.get(), carrier.get(), emulator.get()}) {
    absl::StatusOr<int> code = p->SignalAndWait(SIGTERM, absl::Seconds(30));
    REQUIRE(code.ok());
    CHECK(*code == 0);
  }
  CHECK_FALSE(absl::StrContains(media->Output(), master_key));
  CHECK_FALSE(absl::StrContains(media->Output(), signing_key));
  std::error_code ec;
  std::filesystem::remove_all(blob_root, ec);
}

}  // namespace
}  // namespace switchboard
