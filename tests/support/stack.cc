#include "tests/support/stack.h"

#include <signal.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/random.h"
#include "libs/http/client.h"
#include "nlohmann/json.hpp"
#include "services/routing/demo_flow.h"

namespace switchboard::testing {
namespace {

namespace cv1 = switchboard::carrier::v1;
namespace iv1 = switchboard::identity::v1;
namespace mv1 = switchboard::media::v1;
namespace nv1 = switchboard::numbers::v1;
namespace rv1 = switchboard::routing::v1;

std::string Tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

std::string RandomKey() { return crypto::Base64Encode(crypto::RandomBytes(32)); }

EnvList With(EnvList base, const EnvList& extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> Launch(const char* binary, EnvList env) {
  return ServiceProcess::Start({.binary = binary, .env = std::move(env)});
}

// The value of `field` in the first log line containing `line` (e.g. the port a service bound).
absl::StatusOr<std::string> LogField(ServiceProcess& process, absl::string_view line,
                                     absl::string_view field) {
  absl::StatusOr<std::string> logged = process.WaitForLogLine(line, absl::Seconds(90));
  if (!logged.ok()) {
    return absl::Status(logged.status().code(),
                        absl::StrCat(logged.status().message(), "\n", Tail(process.Output(), 6000)));
  }
  return JsonLogField(*logged, field);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Serving(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (absl::Status s = WaitUntilServing(channel, absl::Seconds(30)); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(address, ": ", s.message()));
  }
  return channel;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Stack>> Stack::Start(StackOptions options) {
  std::unique_ptr<Stack> stack(new Stack());
  if (absl::Status s = stack->StartAll(options); !s.ok()) return s;
  return stack;
}

Stack::~Stack() {
  // ServiceProcess's destructor kills what still runs; the blob directory is ours to remove.
  if (!blob_root_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(blob_root_, ignored);
  }
}

absl::Status Stack::StartAll(const StackOptions& options) {
  ASSIGN_OR_RETURN(const std::string pg, RequireEnv("SB_PG_DSN"));
  ASSIGN_OR_RETURN(const std::string redis, RequireEnv("SB_REDIS_URL"));
  ASSIGN_OR_RETURN(const std::string kafka, RequireEnv("SB_KAFKA_BROKERS"));
  ASSIGN_OR_RETURN(identity_schema_, PgTestSchema::Create());
  ASSIGN_OR_RETURN(numbers_schema_, PgTestSchema::Create());
  ASSIGN_OR_RETURN(routing_schema_, PgTestSchema::Create());
  ASSIGN_OR_RETURN(carrier_schema_, PgTestSchema::Create());
  ASSIGN_OR_RETURN(identity_topic_, KafkaTestTopic::Create());
  ASSIGN_OR_RETURN(numbers_topic_, KafkaTestTopic::Create());
  ASSIGN_OR_RETURN(carrier_topic_, KafkaTestTopic::Create());
  ASSIGN_OR_RETURN(calls_topic_, KafkaTestTopic::Create());
  routing_redis_prefix_ = absl::StrCat("stack-", RandomSuffix(), ":");
  numbers_redis_prefix_ = absl::StrCat("stack-", RandomSuffix(), ":");

  ASSIGN_OR_RETURN(webhook_port_, FreeLoopbackPort());
  ASSIGN_OR_RETURN(const int routing_port, FreeLoopbackPort());
  public_base_ = absl::StrCat("http://127.0.0.1:", webhook_port_);
  routing_address_ = absl::StrCat("127.0.0.1:", routing_port);

  ASSIGN_OR_RETURN(
      emulator_,
      Launch(SB_CARRIER_EMULATOR_BINARY,
             With({{"CARRIER_EMULATOR_LISTEN_ADDRESS", "127.0.0.1"},
                   {"CARRIER_EMULATOR_PORT", "0"},
                   {"CARRIER_EMULATOR_TWILIO_ACCOUNT_SID", kStackTwilioSid},
                   {"CARRIER_EMULATOR_TWILIO_AUTH_TOKEN", kStackTwilioToken},
                   {"CARRIER_EMULATOR_TELNYX_API_KEY", kStackTelnyxKey},
                   {"CARRIER_EMULATOR_WEBHOOK_BASE_URL", public_base_},
                   {"CARRIER_EMULATOR_WEBHOOK_TIMEOUT_MS", "15000"},
                   {"CARRIER_EMULATOR_SCENARIO_TIMEOUT_MS", "60000"}},
                  options.emulator_env)));
  ASSIGN_OR_RETURN(const std::string emulator_port,
                      LogField(*emulator_, "emulator listening", "port"));
  emulator_url_ = absl::StrCat("http://127.0.0.1:", emulator_port);

  ASSIGN_OR_RETURN(identity_,
                      Launch(SB_IDENTITY_BINARY,
                             With({{"IDENTITY_GRPC_ADDRESS", "127.0.0.1:0"},
                                   {"IDENTITY_ADMIN_ADDRESS", "127.0.0.1"},
                                   {"IDENTITY_ADMIN_PORT", "0"},
                                   {"IDENTITY_PG_DSN", pg},
                                   {"IDENTITY_PG_SCHEMA", identity_schema_->schema()},
                                   {"IDENTITY_REDIS_URL", redis},
                                   {"IDENTITY_KAFKA_BROKERS", kafka},
                                   {"IDENTITY_EVENTS_TOPIC", identity_topic_->name()},
                                   {"IDENTITY_KEY_ENCRYPTION_KEY", RandomKey()},
                                   {"IDENTITY_DRAIN_DELAY", "100ms"},
                                   {"IDENTITY_SHUTDOWN_GRACE", "1s"}},
                                  options.identity_env)));
  ASSIGN_OR_RETURN(const std::string identity_port,
                      LogField(*identity_, "identity serving", "grpc_port"));
  identity_address_ = absl::StrCat("127.0.0.1:", identity_port);

  ASSIGN_OR_RETURN(
      carrier_,
      Launch(SB_CARRIER_BINARY,
             With({{"CARRIER_GRPC_ADDRESS", "127.0.0.1:0"},
                   {"CARRIER_ADMIN_ADDRESS", "127.0.0.1"},
                   {"CARRIER_ADMIN_PORT", "0"},
                   {"CARRIER_WEBHOOK_ADDRESS", absl::StrCat("127.0.0.1:", webhook_port_)},
                   {"CARRIER_PUBLIC_BASE_URL", public_base_},
                   {"CARRIER_PG_DSN", pg},
                   {"CARRIER_PG_SCHEMA", carrier_schema_->schema()},
                   {"CARRIER_KAFKA_BROKERS", kafka},
                   {"CARRIER_EVENTS_TOPIC", carrier_topic_->name()},
                   {"CARRIER_KEY_ENCRYPTION_KEY", RandomKey()},
                   {"CARRIER_EMULATOR_URL", emulator_url_},
                   {"CARRIER_ROUTING_ADDRESS", routing_address_},
                   {"CARRIER_ROUTING_DEADLINE", options.carrier_routing_deadline},
                   {"CARRIER_DRAIN_DELAY", "100ms"},
                   {"CARRIER_SHUTDOWN_GRACE", "1s"}},
                  options.carrier_env)));
  ASSIGN_OR_RETURN(const std::string carrier_port,
                      LogField(*carrier_, "carrier serving", "grpc_port"));
  carrier_address_ = absl::StrCat("127.0.0.1:", carrier_port);

  ASSIGN_OR_RETURN(
      numbers_,
      Launch(SB_NUMBERS_BINARY,
             With({{"NUMBERS_GRPC_ADDRESS", "127.0.0.1:0"},
                   {"NUMBERS_ADMIN_ADDRESS", "127.0.0.1"},
                   {"NUMBERS_ADMIN_PORT", "0"},
                   {"NUMBERS_PG_DSN", pg},
                   {"NUMBERS_PG_SCHEMA", numbers_schema_->schema()},
                   {"NUMBERS_REDIS_URL", redis},
                   {"NUMBERS_REDIS_KEY_PREFIX", numbers_redis_prefix_},
                   {"NUMBERS_KAFKA_BROKERS", kafka},
                   {"NUMBERS_EVENTS_TOPIC", numbers_topic_->name()},
                   {"NUMBERS_IDENTITY_TOPIC", identity_topic_->name()},
                   {"NUMBERS_CARRIER_TOPIC", carrier_topic_->name()},
                   {"NUMBERS_CONSUMER_GROUP", numbers_topic_->UniqueGroupId()},
                   {"NUMBERS_CARRIER_ADDRESS", carrier_address_},
                   {"NUMBERS_IDENTITY_ADDRESS", identity_address_},
                   {"NUMBERS_KEY_ENCRYPTION_KEY", RandomKey()},
                   {"NUMBERS_DRAIN_DELAY", "100ms"},
                   {"NUMBERS_SHUTDOWN_GRACE", "1s"}},
                  options.numbers_env)));
  ASSIGN_OR_RETURN(const std::string numbers_port,
                      LogField(*numbers_, "numbers serving", "grpc_port"));
  numbers_address_ = absl::StrCat("127.0.0.1:", numbers_port);

  if (options.media) {
    ASSIGN_OR_RETURN(media_schema_, PgTestSchema::Create());
    ASSIGN_OR_RETURN(const int playback_port, FreeLoopbackPort());
    blob_root_ = (std::filesystem::temp_directory_path() / ("stack-blobs-" + RandomSuffix()))
                     .string();
    ASSIGN_OR_RETURN(
        media_,
        Launch(SB_MEDIA_BINARY,
               With({{"MEDIA_GRPC_ADDRESS", "127.0.0.1:0"},
                     {"MEDIA_ADMIN_ADDRESS", "127.0.0.1"},
                     {"MEDIA_ADMIN_PORT", "0"},
                     {"MEDIA_PLAYBACK_ADDRESS", "127.0.0.1"},
                     {"MEDIA_PLAYBACK_PORT", std::to_string(playback_port)},
                     {"MEDIA_PUBLIC_BASE_URL", absl::StrCat("http://127.0.0.1:", playback_port)},
                     {"MEDIA_PG_DSN", pg},
                     {"MEDIA_PG_SCHEMA", media_schema_->schema()},
                     {"MEDIA_KAFKA_BROKERS", kafka},
                     {"MEDIA_CARRIER_TOPIC", carrier_topic_->name()},
                     {"MEDIA_CALLS_TOPIC", calls_topic_->name()},
                     {"MEDIA_CONSUMER_GROUP", calls_topic_->UniqueGroupId()},
                     {"MEDIA_CARRIER_ADDRESS", carrier_address_},
                     {"MEDIA_BLOB_ROOT", blob_root_},
                     {"MEDIA_MASTER_KEYS", "stack:" + RandomKey()},
                     {"MEDIA_ACTIVE_MASTER_KEY_ID", "stack"},
                     {"MEDIA_PLAYBACK_SIGNING_KEY", RandomKey()},
                     {"MEDIA_DRAIN_DELAY", "100ms"},
                     {"MEDIA_SHUTDOWN_GRACE", "1s"}},
                    options.media_env)));
    ASSIGN_OR_RETURN(const std::string media_port,
                        LogField(*media_, "media serving", "grpc_port"));
    media_address_ = absl::StrCat("127.0.0.1:", media_port);
    ASSIGN_OR_RETURN(auto media_channel, Serving(media_address_));
    media_stub_ = media::v1::Media::NewStub(media_channel);
  }

  ASSIGN_OR_RETURN(
      routing_,
      Launch(SB_ROUTING_BINARY,
             With({{"ROUTING_GRPC_ADDRESS", routing_address_},
                   {"ROUTING_ADMIN_ADDRESS", "127.0.0.1"},
                   {"ROUTING_ADMIN_PORT", "0"},
                   {"ROUTING_PG_DSN", pg},
                   {"ROUTING_PG_SCHEMA", routing_schema_->schema()},
                   {"ROUTING_REDIS_URL", redis},
                   {"ROUTING_REDIS_KEY_PREFIX", routing_redis_prefix_},
                   {"ROUTING_KAFKA_BROKERS", kafka},
                   {"ROUTING_EVENTS_TOPIC", calls_topic_->name()},
                   {"ROUTING_IDENTITY_TOPIC", identity_topic_->name()},
                   {"ROUTING_NUMBERS_TOPIC", numbers_topic_->name()},
                   {"ROUTING_IDENTITY_ADDRESS", identity_address_},
                   {"ROUTING_NUMBERS_ADDRESS", numbers_address_},
                   {"ROUTING_MEDIA_ADDRESS", media_address_},
                   {"ROUTING_CARRIER_ADDRESS", carrier_address_},
                   {"ROUTING_PEER_TIMEOUT", "5s"},
                   {"ROUTING_DIRECTORY_CACHE_TTL", "60s"},
                   {"ROUTING_CONFIG_CACHE_TTL", "60s"},
                   {"ROUTING_DRAIN_DELAY", "100ms"},
                   {"ROUTING_SHUTDOWN_GRACE", "1s"}},
                  options.routing_env)));
  ASSIGN_OR_RETURN(const std::string routing_port_logged,
                      LogField(*routing_, "routing serving", "grpc_port"));
  if (routing_port_logged != std::to_string(routing_port)) {
    return absl::InternalError(absl::StrCat("routing bound port ", routing_port_logged,
                                            ", not the carrier's ", routing_port));
  }

  ASSIGN_OR_RETURN(auto identity_channel, Serving(identity_address_));
  ASSIGN_OR_RETURN(auto carrier_channel, Serving(carrier_address_));
  ASSIGN_OR_RETURN(auto numbers_channel, Serving(numbers_address_));
  ASSIGN_OR_RETURN(auto routing_channel, Serving(routing_address_));
  identity_stub_ = iv1::Identity::NewStub(identity_channel);
  carrier_stub_ = cv1::Carrier::NewStub(carrier_channel);
  numbers_stub_ = nv1::Numbers::NewStub(numbers_channel);
  routing_stub_ = rv1::Routing::NewStub(routing_channel);

  ASSIGN_OR_RETURN(auto web, http::CurlHttpClient::Create());
  ASSIGN_OR_RETURN(http::HttpResponse info, web->Send({.url = emulator_url_ + "/emulator/info"}));
  telnyx_public_key_ =
      nlohmann::json::parse(info.body, nullptr, false).value("telnyx_public_key", "");
  if (telnyx_public_key_.empty()) {
    return absl::InternalError(absl::StrCat("emulator /emulator/info: ", info.body));
  }
  return absl::OkStatus();
}

absl::Status Stack::ForceSchedule(const PowersTenant& t, bool open) {
  routing::DemoUsers demo_users{t.users.robert, t.users.sarah, t.users.mike, t.users.jake,
                                t.users.tyler};
  rv1::NamedSchedule schedule = routing::PowersElectricDemo(demo_users).schedule;
  auto* o = schedule.mutable_schedule()->add_overrides();
  o->set_mode(open ? rv1::Schedule::Override::FORCE_OPEN : rv1::Schedule::Override::FORCE_CLOSED);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  o->mutable_start_time()->set_seconds(now - 3600);
  o->mutable_end_time()->set_seconds(now + 3 * 3600);
  o->set_message(open ? "e2e: open" : "e2e: closed");
  rv1::NamedSchedule saved;
  RETURN_IF_ERROR(StackRpc(*routing_stub_, &rv1::Routing::Stub::SaveSchedule, t.owner, schedule,
                           &saved, "SaveSchedule"));
  rv1::CheckScheduleRequest check;
  check.set_schedule_id("office_hours");
  rv1::CheckScheduleResponse decision;
  RETURN_IF_ERROR(StackRpc(*routing_stub_, &rv1::Routing::Stub::CheckSchedule, t.owner, check,
                           &decision, "CheckSchedule"));
  if (decision.open() != open) {
    return absl::InternalError(absl::StrCat("office_hours is ", decision.open() ? "open" : "closed",
                                            " despite the override"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PowersTenant> Stack::SeedPowersElectric(absl::string_view wire,
                                                       absl::string_view area_code,
                                                       absl::string_view forward_prefix) {
  if (wire != "twilio" && wire != "telnyx") {
    return absl::InvalidArgumentError(absl::StrCat("wire: '", wire, "' is not twilio or telnyx"));
  }
  PowersTenant t;
  t.carrier = std::string(wire);
  iv1::CreateCompanyRequest create;
  create.set_name(absl::StrCat("Powers Electric (", wire, ")"));
  create.set_time_zone("America/New_York");
  create.set_plan(iv1::PLAN_BUSINESS);
  create.set_owner_email(absl::StrCat("robert-", NewUuidV7(), "@powers.test"));
  create.set_owner_full_name("Robert Smith");
  create.set_owner_password(kStackPassword);
  create.set_owner_forward_to(absl::StrCat(forward_prefix, "1"));
  iv1::CreateCompanyResponse company;
  RETURN_IF_ERROR(StackRpc(*identity_stub_, &iv1::Identity::Stub::CreateCompany,
                              rpc::Principal{}, create, &company, "CreateCompany"));
  t.company = company.company().id();
  t.users.robert = company.owner().id();
  t.forward[t.users.robert] = absl::StrCat(forward_prefix, "1");
  t.owner = rpc::Principal{.company_id = t.company, .user_id = t.users.robert, .role = "owner"};
  const std::pair<const char*, std::string*> people[] = {{"Sarah Johnson", &t.users.sarah},
                                                         {"Mike Torres", &t.users.mike},
                                                         {"Jake Williams", &t.users.jake},
                                                         {"Tyler Chen", &t.users.tyler}};
  int n = 2;
  for (const auto& [name, id] : people) {
    iv1::InviteUserRequest invite;
    invite.set_email(absl::StrCat("u", n, "-", NewUuidV7(), "@powers.test"));
    invite.set_full_name(name);
    invite.set_role(n == 2 ? iv1::ROLE_OFFICE : iv1::ROLE_TECH);
    invite.set_forward_to(absl::StrCat(forward_prefix, n));
    iv1::InviteUserResponse invited;
    RETURN_IF_ERROR(StackRpc(*identity_stub_, &iv1::Identity::Stub::InviteUser, t.owner,
                                invite, &invited, "InviteUser"));
    *id = invited.user().id();
    t.forward[*id] = absl::StrCat(forward_prefix, n);
    iv1::AcceptInvitationRequest accept;
    accept.set_invitation_token(invited.invitation_token());
    accept.set_password(kStackPassword);
    iv1::AcceptInvitationResponse accepted;
    RETURN_IF_ERROR(StackRpc(*identity_stub_, &iv1::Identity::Stub::AcceptInvitation,
                                rpc::Principal{}, accept, &accepted, "AcceptInvitation"));
    ++n;
  }
  // Everyone's browser softphone; routing rings it while it is connected (presence), so with
  // presence never set only the forward-to numbers ring.
  for (const std::string* id : {&t.users.robert, &t.users.sarah, &t.users.mike, &t.users.jake,
                                &t.users.tyler}) {
    iv1::RegisterDeviceRequest device;
    device.set_user_id(*id);
    device.set_platform(iv1::DEVICE_PLATFORM_WEB);
    device.set_label("Softphone");
    iv1::Device registered;
    RETURN_IF_ERROR(StackRpc(*identity_stub_, &iv1::Identity::Stub::RegisterDevice, t.owner,
                             device, &registered, "RegisterDevice"));
    t.softphone[*id] = registered.softphone_identity();
  }

  cv1::SetCarrierAccountRequest account;
  account.mutable_primary()->set_provider(cv1::EMULATOR);
  if (wire == "twilio") {
    account.mutable_primary()->mutable_twilio()->set_account_sid(kStackTwilioSid);
    account.mutable_primary()->mutable_twilio()->set_auth_token(kStackTwilioToken);
  } else {
    auto* telnyx = account.mutable_primary()->mutable_telnyx();
    telnyx->set_api_key(kStackTelnyxKey);
    telnyx->set_public_key(telnyx_public_key_);
    telnyx->set_connection_id(kStackTelnyxConnection);
  }
  cv1::CarrierAccount saved_account;
  RETURN_IF_ERROR(StackRpc(*carrier_stub_, &cv1::Carrier::Stub::SetCarrierAccount, t.owner,
                              account, &saved_account, "SetCarrierAccount"));

  nv1::SearchNumbersRequest search;
  search.set_area_code(std::string(area_code));
  search.set_limit(5);
  nv1::SearchNumbersResponse found;
  RETURN_IF_ERROR(StackRpc(*numbers_stub_, &nv1::Numbers::Stub::SearchNumbers, t.owner,
                              search, &found, "numbers SearchNumbers"));
  if (found.numbers_size() == 0) {
    return absl::NotFoundError(absl::StrCat("no number offered in area code ", area_code));
  }
  nv1::ProvisionNumberRequest provision;
  provision.set_e164(found.numbers(0).e164());
  provision.set_line_type(nv1::LINE_MAIN);
  provision.set_nickname("Main line");
  nv1::Number number;
  RETURN_IF_ERROR(StackRpc(*numbers_stub_, &nv1::Numbers::Stub::ProvisionNumber, t.owner,
                              provision, &number, "numbers ProvisionNumber"));
  if (number.status() != nv1::NUMBER_ACTIVE) {
    return absl::InternalError(absl::StrCat("main number ", number.e164(), " is not active"));
  }
  t.main_number = number.e164();
  t.main_line_id = number.line_id();

  // routing-seed: the demo configuration, and the main line pointed at its flow.
  ASSIGN_OR_RETURN(
      auto seeder,
      ServiceProcess::Start(
          {.binary = SB_ROUTING_SEED_BINARY,
           .args = {"--routing=" + routing_address_, "--numbers=" + numbers_address_,
                    "--company_id=" + t.company, "--owner_id=" + t.users.robert,
                    "--robert=" + t.users.robert, "--sarah=" + t.users.sarah,
                    "--mike=" + t.users.mike, "--jake=" + t.users.jake,
                    "--tyler=" + t.users.tyler, "--main_number=" + t.main_number}}));
  ASSIGN_OR_RETURN(const int code, seeder->WaitForExit(absl::Seconds(60)));
  if (code != 0) {
    return absl::InternalError(absl::StrCat("routing-seed exited ", code, ":\n",
                                            Tail(seeder->Output(), 4000)));
  }

  rv1::WhoIsOnCallRequest who;
  who.set_rotation_id("oncall_techs");
  rv1::WhoIsOnCallResponse on_call;
  RETURN_IF_ERROR(StackRpc(*routing_stub_, &rv1::Routing::Stub::WhoIsOnCall, t.owner, who,
                              &on_call, "WhoIsOnCall"));
  t.on_call = on_call.user_id();
  return t;
}

ServiceProcess* Stack::Process(absl::string_view service) {
  if (service == "emulator") return emulator_.get();
  if (service == "identity") return identity_.get();
  if (service == "carrier") return carrier_.get();
  if (service == "numbers") return numbers_.get();
  if (service == "routing") return routing_.get();
  if (service == "media") return media_.get();
  return nullptr;
}

absl::StatusOr<std::string> Stack::Metrics(absl::string_view service) {
  ServiceProcess* process = service == "emulator" ? nullptr : Process(service);
  if (process == nullptr) return absl::NotFoundError(absl::StrCat("no service '", service, "'"));
  ASSIGN_OR_RETURN(const std::string port,
                   LogField(*process, absl::StrCat(service, " serving"), "admin_port"));
  ASSIGN_OR_RETURN(auto web, http::CurlHttpClient::Create());
  ASSIGN_OR_RETURN(http::HttpResponse r,
                   web->Send({.url = absl::StrCat("http://127.0.0.1:", port, "/metrics")}));
  if (r.status != 200) {
    return absl::InternalError(absl::StrCat(service, " /metrics: HTTP ", r.status));
  }
  return r.body;
}

std::string Stack::LogTails(size_t n) const {
  std::string out;
  const std::pair<const char*, const ServiceProcess*> all[] = {
      {"emulator", emulator_.get()}, {"identity", identity_.get()}, {"carrier", carrier_.get()},
      {"numbers", numbers_.get()},   {"routing", routing_.get()},   {"media", media_.get()}};
  for (const auto& [name, process] : all) {
    if (process == nullptr) continue;
    absl::StrAppend(&out, "--- ", name, " ---\n", Tail(process->Output(), n), "\n");
  }
  return out;
}

absl::Status Stack::Stop(absl::Duration timeout) {
  absl::Status first;
  const std::pair<const char*, ServiceProcess*> order[] = {
      {"media", media_.get()},    {"routing", routing_.get()},   {"numbers", numbers_.get()},
      {"carrier", carrier_.get()}, {"identity", identity_.get()}, {"emulator", emulator_.get()}};
  for (const auto& [name, process] : order) {
    if (process == nullptr) continue;
    absl::StatusOr<int> code = process->SignalAndWait(SIGTERM, timeout);
    if (first.ok() && (!code.ok() || *code != 0)) {
      first = absl::InternalError(
          absl::StrCat(name, " did not exit cleanly: ",
                       code.ok() ? absl::StrCat("exit ", *code) : code.status().ToString()));
    }
  }
  return first;
}

}  // namespace switchboard::testing
