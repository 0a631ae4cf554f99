#include "services/carrier/core.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/aead.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "libs/events/event.h"
#include "nlohmann/json.hpp"
#include "services/carrier/normalize.h"
#include "services/carrier/proto_convert.h"
#include "services/carrier/telnyx_plan.h"

namespace switchboard::carrier {
namespace {

using json = nlohmann::json;

absl::Status Prefixed(absl::string_view prefix, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

json ConfigToJson(const ProviderConfig& c) {
  json j;
  j["provider"] = ProviderName(c.provider);
  j["wire"] = c.wire == Wire::kTwilio ? "twilio" : "telnyx";
  if (c.wire == Wire::kTwilio) {
    j["account_sid"] = c.twilio.account_sid;
    j["auth_token"] = c.twilio.auth_token;
    j["subaccount_sid"] = c.twilio.subaccount_sid;
  } else {
    j["api_key"] = c.telnyx.api_key;
    j["public_key"] = c.telnyx.public_key;
    j["connection_id"] = c.telnyx.connection_id;
    j["messaging_profile_id"] = c.telnyx.messaging_profile_id;
  }
  return j;
}

ProviderConfig ConfigFromJson(const json& j, Provider provider) {
  ProviderConfig c;
  c.provider = provider;
  c.wire = j.value("wire", "twilio") == "telnyx" ? Wire::kTelnyx : Wire::kTwilio;
  c.twilio.account_sid = j.value("account_sid", "");
  c.twilio.auth_token = j.value("auth_token", "");
  c.twilio.subaccount_sid = j.value("subaccount_sid", "");
  c.telnyx.api_key = j.value("api_key", "");
  c.telnyx.public_key = j.value("public_key", "");
  c.telnyx.connection_id = j.value("connection_id", "");
  c.telnyx.messaging_profile_id = j.value("messaging_profile_id", "");
  return c;
}

AccountSummary SummaryOf(const AccountRow& row) {
  return AccountSummary{.company_id = row.company_id,
                        .primary_provider = row.primary_provider,
                        .primary_account_id = row.primary_account_id,
                        .secondary_provider = row.secondary_provider,
                        .secondary_account_id = row.secondary_account_id};
}

absl::Status CheckCompany(absl::string_view company_id) {
  if (company_id.empty()) return absl::UnauthenticatedError("no company in the principal");
  return absl::OkStatus();
}

// command_id of the hangup of a bridged leg before `instructions_id` starts: a retried
// ModifyCall sends the identical command, which Telnyx drops.
std::string BridgedHangupCommandId(absl::string_view b_leg, absl::string_view instructions_id) {
  return crypto::HexEncode(
             crypto::Sha256(absl::StrCat("bridged-hangup|", b_leg, "|", instructions_id)))
      .substr(0, 32);
}

absl::StatusOr<CallInstructions> ParseInstructions(const InstructionsRow& row) {
  v1::CallInstructions proto;
  if (!proto.ParseFromString(row.serialized)) {
    return absl::InternalError("stored instructions do not parse");
  }
  return CallInstructionsFromProto(proto);
}

}  // namespace

std::string ProviderConfig::AccountId() const {
  if (wire == Wire::kTelnyx) return telnyx.connection_id;
  return twilio.subaccount_sid.empty() ? twilio.account_sid : twilio.subaccount_sid;
}

CarrierProvider& CompanyCarrier::ForName(absl::string_view provider_name) const {
  if (secondary != nullptr && primary->name() != provider_name &&
      secondary->name() == provider_name) {
    return *secondary;
  }
  return *primary;
}

absl::StatusOr<CallEventAnswer> StaticInstructionSource::ForCallEvent(
    absl::string_view company_id, const CarrierEvent& event,
    absl::string_view current_instructions_id) {
  if (!current_instructions_id.empty()) {
    ASSIGN_OR_RETURN(InstructionsRow row,
                     store_.GetInstructionsById(company_id, current_instructions_id));
    ASSIGN_OR_RETURN(CallInstructions running, ParseInstructions(row));
    return CallEventAnswer{.instructions = std::move(running)};
  }
  const bool first = std::holds_alternative<CallIncoming>(event.kind) ||
                     (std::holds_alternative<CallAnswered>(event.kind) &&
                      event.direction == CallDirection::kOutbound);
  if (!first) return absl::NotFoundError("no running instructions for this call");
  const std::string& number =
      event.direction == CallDirection::kOutbound ? event.from : event.to;
  ASSIGN_OR_RETURN(InstructionsRow row, store_.GetInstructionsForNumber(company_id, number));
  ASSIGN_OR_RETURN(CallInstructions first_set, ParseInstructions(row));
  return CallEventAnswer{.instructions = std::move(first_set)};
}

absl::Status ValidateInstructions(const CallInstructions& instructions) {
  // The Call Control plan validates every instruction (ids, texts, URLs, targets).
  absl::StatusOr<TelnyxPlanOutput> plan = StartTelnyxPlan(instructions, "validation", true);
  if (!plan.ok()) return Prefixed("instructions: ", plan.status());
  for (char ch : instructions.id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') {
      return absl::InvalidArgumentError("instructions.id: must be [A-Za-z0-9_-]");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SealSettings(absl::string_view key32, absl::string_view company_id,
                                         const AccountSettings& settings) {
  json doc;
  doc["primary"] = ConfigToJson(settings.primary);
  if (settings.secondary.has_value()) doc["secondary"] = ConfigToJson(*settings.secondary);
  return crypto::AesGcmSeal(key32, doc.dump(), company_id);
}

absl::StatusOr<AccountSettings> OpenSettings(absl::string_view key32,
                                             absl::string_view company_id,
                                             const AccountRow& row) {
  absl::StatusOr<std::string> plain = crypto::AesGcmOpen(key32, row.sealed_credentials,
                                                         company_id);
  if (!plain.ok()) return absl::InternalError("carrier credentials cannot be opened");
  json doc = json::parse(*plain, nullptr, false);
  if (!doc.is_object() || !doc.contains("primary")) {
    return absl::InternalError("carrier credentials document is malformed");
  }
  AccountSettings s;
  s.primary = ConfigFromJson(doc["primary"], row.primary_provider);
  if (doc.contains("secondary")) {
    s.secondary = ConfigFromJson(doc["secondary"], row.secondary_provider);
  }
  return s;
}

absl::StatusOr<std::unique_ptr<CarrierCore>> CarrierCore::Create(CarrierStore& store,
                                                                  http::HttpClient& client,
                                                                  const Clock& clock,
                                                                  metrics::Registry& registry,
                                                                  CoreOptions options) {
  if (options.key_encryption_key.size() != 32) {
    return absl::InvalidArgumentError("key_encryption_key: must be 32 bytes");
  }
  if (!absl::StartsWith(options.public_base_url, "http://") &&
      !absl::StartsWith(options.public_base_url, "https://")) {
    return absl::InvalidArgumentError("public_base_url: must start with http:// or https://");
  }
  while (absl::EndsWith(options.public_base_url, "/")) options.public_base_url.pop_back();
  return std::unique_ptr<CarrierCore>(
      new CarrierCore(store, client, clock, registry, std::move(options)));
}

CarrierCore::CarrierCore(CarrierStore& store, http::HttpClient& client, const Clock& clock,
                         metrics::Registry& registry, CoreOptions options)
    : store_(store), client_(client), clock_(clock), registry_(registry),
      options_(std::move(options)) {}

std::string CarrierCore::WebhookUrl(Wire wire, absl::string_view kind) const {
  return absl::StrCat(options_.public_base_url, "/webhooks/",
                      wire == Wire::kTwilio ? "twilio" : "telnyx", "/", kind);
}

absl::StatusOr<std::unique_ptr<CarrierProvider>> CarrierCore::BuildProvider(
    const ProviderConfig& config, absl::string_view field) {
  std::string base;
  switch (config.provider) {
    case Provider::kTwilio: base = options_.twilio_api_base_url; break;
    case Provider::kTelnyx: base = options_.telnyx_base_url; break;
    case Provider::kEmulator:
      if (options_.emulator_url.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".provider: EMULATOR needs the service's --emulator_url"));
      }
      base = options_.emulator_url;
      break;
    case Provider::kUnspecified:
      return absl::InvalidArgumentError(absl::StrCat(field, ".provider: required"));
  }
  const std::string prefix = absl::StrCat(field, ".", config.wire == Wire::kTwilio ? "twilio." : "telnyx.");
  if (config.wire == Wire::kTwilio) {
    TwilioOptions o{.api_base_url = base,
                    .numbers_base_url = config.provider == Provider::kEmulator
                                            ? base
                                            : options_.twilio_numbers_base_url,
                    .timeout = options_.http_timeout,
                    .retry = options_.retry};
    auto p = TwilioProvider::Create(config.twilio, std::move(o), client_);
    if (!p.ok()) return Prefixed(prefix, p.status());
    return std::unique_ptr<CarrierProvider>(std::move(*p));
  }
  if (config.telnyx.public_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "public_key: required"));
  }
  TelnyxOptions o{.base_url = base, .timeout = options_.http_timeout, .retry = options_.retry};
  auto p = TelnyxProvider::Create(config.telnyx, std::move(o), client_);
  if (!p.ok()) return Prefixed(prefix, p.status());
  return std::unique_ptr<CarrierProvider>(std::move(*p));
}

absl::StatusOr<std::shared_ptr<const CompanyCarrier>> CarrierCore::Build(
    absl::string_view company_id, AccountSettings settings) {
  auto c = std::make_shared<CompanyCarrier>();
  c->company_id = std::string(company_id);
  ASSIGN_OR_RETURN(c->primary, BuildProvider(settings.primary, "primary"));
  if (settings.secondary.has_value()) {
    ASSIGN_OR_RETURN(c->secondary, BuildProvider(*settings.secondary, "secondary"));
  }
  if (settings.primary.wire == Wire::kTelnyx) {
    c->telnyx = static_cast<TelnyxProvider*>(c->primary.get());
  } else if (settings.secondary.has_value() && settings.secondary->wire == Wire::kTelnyx) {
    c->telnyx = static_cast<TelnyxProvider*>(c->secondary.get());
  }
  std::string company(company_id);
  c->failover = std::make_unique<FailoverProvider>(
      *c->primary, c->secondary.get(), options_.failover, clock_,
      [this, company](const FailoverEvent& e) { OnFailover(company, e); });
  c->settings = std::move(settings);
  c->loaded_at = clock_.Now();
  return std::shared_ptr<const CompanyCarrier>(std::move(c));
}

void CarrierCore::OnFailover(const std::string& company_id, const FailoverEvent& e) {
  v1::ProviderFailover::Type type = v1::ProviderFailover::FAILOVER;
  const char* type_name = "failover";
  if (e.type == FailoverEvent::Type::kBreakerOpened) {
    type = v1::ProviderFailover::BREAKER_OPENED;
    type_name = "breaker_opened";
  } else if (e.type == FailoverEvent::Type::kBreakerClosed) {
    type = v1::ProviderFailover::BREAKER_CLOSED;
    type_name = "breaker_closed";
  }
  registry_
      .GetCounter("carrier_failovers_total",
                  "Failovers between carriers and circuit breaker changes",
                  {{"type", type_name}, {"operation", e.operation}, {"from", e.from_provider}})
      .Inc();
  log::Warn("carrier failover", {{"company_id", company_id},
                                 {"type", type_name},
                                 {"operation", e.operation},
                                 {"from", e.from_provider},
                                 {"to", e.to_provider},
                                 {"cause", std::string(e.cause.message())}});
  events::v1::Event envelope = events::NewEvent("carrier.provider_failover", company_id,
                                                company_id, options_.source, clock_);
  v1::CarrierEvent* ce = envelope.mutable_carrier_event();
  ce->set_company_id(company_id);
  v1::ProviderFailover* f = ce->mutable_provider_failover();
  f->set_type(type);
  f->set_operation(e.operation);
  f->set_from_provider(e.from_provider);
  f->set_to_provider(e.to_provider);
  f->set_cause(std::string(e.cause.message()));
  f->set_idempotency_key(e.idempotency_key);
  absl::Status stored = store_.AppendEvent(company_id, envelope);
  if (!stored.ok()) {
    log::Error("carrier failover event not stored",
               {{"company_id", company_id}, {"error", std::string(stored.message())}});
  }
}

absl::StatusOr<std::shared_ptr<const CompanyCarrier>> CarrierCore::CarrierFor(
    absl::string_view company_id) {
  RETURN_IF_ERROR(CheckCompany(company_id));
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(company_id);
    if (it != cache_.end() && clock_.Now() - it->second->loaded_at < options_.account_cache_ttl) {
      return it->second;
    }
  }
  absl::StatusOr<AccountRow> row = store_.GetAccount(company_id);
  if (absl::IsNotFound(row.status())) {
    return absl::FailedPreconditionError("no carrier account for the company (SetCarrierAccount)");
  }
  if (!row.ok()) return row.status();
  ASSIGN_OR_RETURN(AccountSettings settings,
                   OpenSettings(options_.key_encryption_key, company_id, *row));
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanyCarrier> built,
                   Build(company_id, std::move(settings)));
  absl::MutexLock lock(&mu_);
  cache_[std::string(company_id)] = built;
  return built;
}

absl::StatusOr<AccountSummary> CarrierCore::SetCarrierAccount(absl::string_view company_id,
                                                              const AccountSettings& settings) {
  RETURN_IF_ERROR(CheckCompany(company_id));
  // Building validates every field (kInvalidArgument "primary.twilio.auth_token: ...").
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanyCarrier> built, Build(company_id, settings));
  AccountRow row{.company_id = std::string(company_id),
                 .primary_provider = settings.primary.provider,
                 .primary_account_id = settings.primary.AccountId()};
  if (settings.secondary.has_value()) {
    row.secondary_provider = settings.secondary->provider;
    row.secondary_account_id = settings.secondary->AccountId();
  }
  ASSIGN_OR_RETURN(row.sealed_credentials,
                   SealSettings(options_.key_encryption_key, company_id, settings));
  RETURN_IF_ERROR(store_.PutAccount(row));
  {
    absl::MutexLock lock(&mu_);
    cache_[std::string(company_id)] = built;
  }
  log::Info("carrier account set", {{"company_id", std::string(company_id)},
                                    {"primary", ProviderName(row.primary_provider)},
                                    {"secondary", settings.secondary.has_value()
                                                      ? ProviderName(row.secondary_provider)
                                                      : "none"}});
  return SummaryOf(row);
}

absl::StatusOr<AccountSummary> CarrierCore::GetCarrierAccount(absl::string_view company_id) {
  RETURN_IF_ERROR(CheckCompany(company_id));
  absl::StatusOr<AccountRow> row = store_.GetAccount(company_id);
  if (!row.ok()) return row.status();
  return SummaryOf(*row);
}

absl::Status CarrierCore::CheckFromNumber(absl::string_view company_id, absl::string_view e164) {
  absl::StatusOr<NumberRow> owner = store_.FindNumber(e164);
  if (absl::IsNotFound(owner.status())) return absl::OkStatus();
  if (!owner.ok()) return owner.status();
  if (owner->company_id != company_id) return absl::NotFoundError("number not found");
  return absl::OkStatus();
}

absl::Status CarrierCore::SetStaticInstructions(absl::string_view company_id,
                                                absl::string_view e164,
                                                const CallInstructions& instructions) {
  RETURN_IF_ERROR(CheckCompany(company_id));
  RETURN_IF_ERROR(ValidateE164("e164", e164));
  RETURN_IF_ERROR(ValidateInstructions(instructions));
  RETURN_IF_ERROR(CheckFromNumber(company_id, e164));
  v1::CallInstructions proto;
  CallInstructionsToProto(instructions, &proto);
  return store_.PutInstructions(InstructionsRow{.company_id = std::string(company_id),
                                                .e164 = std::string(e164),
                                                .instructions_id = instructions.id,
                                                .serialized = proto.SerializeAsString()});
}

absl::StatusOr<std::vector<AvailableNumber>> CarrierCore::SearchNumbers(
    absl::string_view company_id, const NumberSearch& search) {
  RETURN_IF_ERROR(ValidateSearch(search));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  absl::StatusOr<std::vector<AvailableNumber>> primary = carrier->primary->SearchNumbers(search);
  if (primary.ok()) {
    for (AvailableNumber& n : *primary) n.provider = carrier->primary->name();
  }
  if (carrier->secondary == nullptr) return primary;
  absl::StatusOr<std::vector<AvailableNumber>> secondary =
      carrier->secondary->SearchNumbers(search);
  if (!secondary.ok()) {
    log::Warn("carrier: secondary provider search failed",
              {{"company_id", std::string(company_id)},
               {"provider", std::string(carrier->secondary->name())},
               {"error", std::string(secondary.status().message())}});
    return primary;
  }
  for (AvailableNumber& n : *secondary) n.provider = carrier->secondary->name();
  if (!primary.ok()) {
    log::Warn("carrier: primary provider search failed; secondary's results only",
              {{"company_id", std::string(company_id)},
               {"error", std::string(primary.status().message())}});
    return secondary;
  }
  // Alternately, so both carriers' offers show within the limit; an E.164 both offer is the
  // primary's.
  std::set<std::string> on_primary;
  for (const AvailableNumber& n : *primary) on_primary.insert(n.e164);
  std::vector<AvailableNumber> merged;
  std::set<std::string> seen;
  const size_t limit = static_cast<size_t>(std::max(1, search.limit));
  for (size_t i = 0; merged.size() < limit && (i < primary->size() || i < secondary->size());
       ++i) {
    if (i < primary->size() && seen.insert((*primary)[i].e164).second) {
      merged.push_back(std::move((*primary)[i]));
    }
    if (i < secondary->size() && merged.size() < limit &&
        on_primary.count((*secondary)[i].e164) == 0 && seen.insert((*secondary)[i].e164).second) {
      merged.push_back(std::move((*secondary)[i]));
    }
  }
  if (merged.size() > limit) merged.resize(limit);
  return merged;
}

absl::StatusOr<std::pair<OrderedNumber, std::string>> CarrierCore::OrderNumber(
    absl::string_view company_id, absl::string_view e164, NumberWebhooks webhooks,
    absl::string_view provider_name) {
  RETURN_IF_ERROR(ValidateE164("e164", e164));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  RETURN_IF_ERROR(CheckFromNumber(company_id, e164));
  CarrierProvider* chosen = carrier->primary.get();
  Wire wire = carrier->settings.primary.wire;
  if (!provider_name.empty() && provider_name != carrier->primary->name()) {
    if (carrier->secondary == nullptr || carrier->secondary->name() != provider_name) {
      return absl::InvalidArgumentError(
          absl::StrCat("provider: the company has no provider '", provider_name, "'"));
    }
    chosen = carrier->secondary.get();
    wire = carrier->settings.secondary->wire;
  }
  if (webhooks.voice_url.empty()) {
    webhooks.voice_url = WebhookUrl(wire, wire == Wire::kTwilio ? "voice" : "call-control");
  }
  if (webhooks.messaging_url.empty()) {
    webhooks.messaging_url = WebhookUrl(wire, wire == Wire::kTwilio ? "sms" : "messaging");
  }
  if (webhooks.status_callback_url.empty() && wire == Wire::kTwilio) {
    webhooks.status_callback_url = WebhookUrl(wire, "status");
  }
  absl::StatusOr<OrderedNumber> order = chosen->OrderNumber(e164, webhooks);
  if (!order.ok()) {
    const absl::StatusCode code = order.status().code();
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
        code == absl::StatusCode::kInternal || code == absl::StatusCode::kUnknown) {
      // The carrier may have bought the number before failing (or before its answer was lost):
      // give it back, so a failed order never leaves a number on the account.
      absl::Status undo = chosen->ReleaseNumber(e164);
      if (!undo.ok() && !absl::IsNotFound(undo)) {
        log::Error("carrier: number of a failed order could not be released",
                   {{"e164", std::string(e164)}, {"error", std::string(undo.message())}});
      }
    }
    return order.status();
  }
  OrderedNumber ordered = std::move(*order);
  const std::string provider = chosen->name();
  RETURN_IF_ERROR(store_.PutNumber(NumberRow{.e164 = ordered.e164.empty() ? std::string(e164)
                                                                         : ordered.e164,
                                             .company_id = std::string(company_id),
                                             .provider = provider,
                                             .provider_number_id = ordered.provider_number_id}));
  return std::make_pair(std::move(ordered), provider);
}

absl::Status CarrierCore::UpdateNumberWebhooks(absl::string_view company_id,
                                               absl::string_view e164, NumberWebhooks webhooks) {
  RETURN_IF_ERROR(ValidateE164("e164", e164));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(NumberRow number, store_.GetNumber(company_id, e164));
  const Wire wire = carrier->settings.primary.wire;
  if (webhooks.voice_url.empty()) {
    webhooks.voice_url = WebhookUrl(wire, wire == Wire::kTwilio ? "voice" : "call-control");
  }
  if (webhooks.messaging_url.empty()) {
    webhooks.messaging_url = WebhookUrl(wire, wire == Wire::kTwilio ? "sms" : "messaging");
  }
  return carrier->ForName(number.provider)
      .UpdateNumberWebhooks(number.provider_number_id, webhooks);
}

absl::Status CarrierCore::ReleaseNumber(absl::string_view company_id, absl::string_view e164) {
  RETURN_IF_ERROR(ValidateE164("e164", e164));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(NumberRow number, store_.GetNumber(company_id, e164));
  RETURN_IF_ERROR(carrier->ForName(number.provider).ReleaseNumber(number.provider_number_id));
  return store_.DeleteNumber(company_id, e164);
}

absl::StatusOr<PortOrder> CarrierCore::CreatePortOrder(absl::string_view company_id,
                                                       const PortOrderRequest& request) {
  RETURN_IF_ERROR(ValidatePortOrder(request));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  return carrier->failover->CreatePortOrder(request);
}

absl::StatusOr<PortOrder> CarrierCore::GetPortOrder(absl::string_view company_id,
                                                    absl::string_view port_order_id) {
  RETURN_IF_ERROR(ValidateProviderId("port_order_id", port_order_id));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(PortOrder order, carrier->failover->GetPortOrder(port_order_id));
  if (order.status == PortState::kPorted) {
    // The ported numbers now live on the company's account: record them like ordered ones, so
    // webhooks to them resolve the company and ReleaseNumber works (the provider number id is
    // the E.164 number, which both providers look up).
    for (const std::string& e164 : order.numbers) {
      if (!ValidateE164("number", e164).ok()) continue;
      absl::StatusOr<NumberRow> owner = store_.FindNumber(e164);
      if (owner.ok()) continue;  // recorded already (for this company or, untouched, another)
      if (!absl::IsNotFound(owner.status())) return owner.status();
      RETURN_IF_ERROR(store_.PutNumber(NumberRow{.e164 = e164,
                                                 .company_id = std::string(company_id),
                                                 .provider = carrier->primary->name(),
                                                 .provider_number_id = e164}));
    }
  }
  return order;
}

absl::StatusOr<PlacedCall> CarrierCore::PlaceCall(absl::string_view company_id,
                                                  PlaceCallRequest request) {
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  if (request.idempotency_key.empty()) request.idempotency_key = NewUuidV7();
  // Empty URLs default to this listener in the wire format of the provider placing the call
  // (the primary, or the secondary after a failover).
  auto request_for = [this, &request](const CarrierProvider& provider) {
    PlaceCallRequest r = request;
    const Wire wire =
        dynamic_cast<const TwilioProvider*>(&provider) != nullptr ? Wire::kTwilio : Wire::kTelnyx;
    if (r.instructions_url.empty()) {
      r.instructions_url = WebhookUrl(wire, wire == Wire::kTwilio ? "voice" : "call-control");
    }
    if (r.status_callback_url.empty() && wire == Wire::kTwilio) {
      r.status_callback_url = WebhookUrl(wire, "status");
    }
    return r;
  };
  RETURN_IF_ERROR(ValidatePlaceCall(request_for(*carrier->primary)));
  RETURN_IF_ERROR(CheckFromNumber(company_id, request.from));
  ASSIGN_OR_RETURN(PlacedCall placed,
                   carrier->failover->PlaceCall(request.idempotency_key, request_for));
  RETURN_IF_ERROR(store_.PutCall(CallRow{.call_id = placed.call_id,
                                         .company_id = std::string(company_id),
                                         .provider = placed.provider}));
  return placed;
}

absl::StatusOr<CallRow> CarrierCore::KnownCall(absl::string_view company_id,
                                               absl::string_view call_id) {
  RETURN_IF_ERROR(ValidateProviderId("call_id", call_id));
  absl::StatusOr<CallRow> call = store_.GetCall(company_id, call_id);
  if (absl::IsNotFound(call.status())) return absl::NotFoundError("call_id: unknown call");
  return call;
}

TwimlOptions CarrierCore::TwilioTwimlOptions() const {
  return TwimlOptions{.gather_action_url = WebhookUrl(Wire::kTwilio, "gather"),
                      .dial_action_url = WebhookUrl(Wire::kTwilio, "dial"),
                      .record_action_url = WebhookUrl(Wire::kTwilio, "record"),
                      .recording_status_callback_url = WebhookUrl(Wire::kTwilio, "recording"),
                      .dial_status_callback_url = WebhookUrl(Wire::kTwilio, "status"),
                      .conference_status_callback_url =
                          WebhookUrl(Wire::kTwilio, "conference")};
}

absl::Status CarrierCore::ModifyCall(absl::string_view company_id, absl::string_view call_id,
                                     const CallModification& modification) {
  RETURN_IF_ERROR(ValidateModification(modification));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(CallRow call, KnownCall(company_id, call_id));
  return carrier->ForName(call.provider).ModifyCall(call_id, modification);
}

absl::Status CarrierCore::InstructCall(absl::string_view company_id, absl::string_view call_id,
                                       const CallInstructions& instructions) {
  RETURN_IF_ERROR(ValidateInstructions(instructions));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(CallRow call, KnownCall(company_id, call_id));
  CarrierProvider& provider = carrier->ForName(call.provider);
  if (auto* telnyx = dynamic_cast<TelnyxProvider*>(&provider)) {
    // A new plan on the answered leg; its first command goes now, the rest follow the webhooks.
    ASSIGN_OR_RETURN(TelnyxPlanOutput plan, StartTelnyxPlan(instructions, call_id,
                                                            /*answer=*/false,
                                                            options_.telnyx_plan));
    // A leg bridged to this one (a transfer's answered target) is hung up first: the plan runs
    // on the A leg, which the bridge occupies. The bookkeeping goes first, so the dropped leg's
    // call.hangup is a stale result (nothing starts from it), and comes back if the hangup fails.
    absl::StatusOr<std::string> bridged = store_.GetBridgedLeg(company_id, call_id);
    if (!bridged.ok() && !absl::IsNotFound(bridged.status())) return bridged.status();
    if (bridged.ok()) {
      RETURN_IF_ERROR(store_.ClearBridgedLeg(company_id, call_id, *bridged).status());
      const json body = {{"command_id", BridgedHangupCommandId(*bridged, instructions.id)}};
      absl::Status hung_up = telnyx->ExecuteCallCommand(*bridged, "hangup", body);
      // Telnyx 90018 (kFailedPrecondition) / 404: the leg has ended already, as wanted.
      if (!hung_up.ok() && !absl::IsFailedPrecondition(hung_up) && !absl::IsNotFound(hung_up)) {
        absl::Status restored = store_.PutBridgedLeg(company_id, call_id, *bridged);
        if (!restored.ok()) {
          log::Error("bridged leg not restored after a failed hangup",
                     {{"company_id", std::string(company_id)},
                      {"error", std::string(restored.message())}});
        }
        return Prefixed("hangup of the bridged leg: ", hung_up);
      }
    }
    for (const TelnyxCommand& c : plan.commands) {
      RETURN_IF_ERROR(telnyx->ExecuteCallCommand(c.call_control_id, c.action, c.body));
    }
    return absl::OkStatus();
  }
  CallModification m{.action = CallModification::Action::kInstruct,
                     .twiml = RenderTwiml(instructions, TwilioTwimlOptions())};
  RETURN_IF_ERROR(provider.ModifyCall(call_id, m));
  // Updating the call ended its <Dial>: no bridge any more (MOVE_BRIDGE needs a new one).
  absl::Status cleared = store_.ClearBridgedLeg(company_id, call_id, "").status();
  if (!cleared.ok()) {
    log::Error("bridge bookkeeping not cleared after INSTRUCT",
               {{"company_id", std::string(company_id)},
                {"error", std::string(cleared.message())}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CarrierCore::ConferenceControl(absl::string_view company_id,
                                                           ConferenceRequest request) {
  using A = ConferenceRequest::Action;
  RETURN_IF_ERROR(ValidateConferenceRequest(request));
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(CallRow call, KnownCall(company_id, request.call_id));
  CarrierProvider& provider = carrier->ForName(call.provider);
  const bool telnyx = dynamic_cast<TelnyxProvider*>(&provider) != nullptr;
  const std::string company(company_id);

  if (request.action == A::kMoveBridge) {
    absl::StatusOr<std::string> bridged = store_.GetBridgedLeg(company_id, request.call_id);
    if (absl::IsNotFound(bridged.status())) {
      return absl::FailedPreconditionError("call_id: the call is not connected");
    }
    if (!bridged.ok()) return bridged.status();
    request.bridged_leg = *bridged;
    if (telnyx) {
      // Recorded before the conference exists: A's participant webhook may arrive before
      // Telnyx's answer gives the id (FindConference matches it through a_leg).
      RETURN_IF_ERROR(store_.PutConference(ConferenceRow{
          .company_id = company, .name = request.conference, .a_leg = request.call_id}));
      request.on_created = [this, &request, &company](absl::string_view id) {
        return store_.PutConference(ConferenceRow{.company_id = company,
                                                  .name = request.conference,
                                                  .a_leg = request.call_id,
                                                  .conference_id = std::string(id)});
      };
    } else {
      CallInstructions join{.instructions = {Dial{.targets = {DialTarget{
                                .kind = DialTarget::Kind::kConference,
                                .value = request.conference,
                                .end_on_exit = false}}}}};
      request.twiml = RenderTwiml(
          join, TwimlOptions{.conference_status_callback_url =
                                 WebhookUrl(Wire::kTwilio, "conference")});
    }
    // The bridge becomes a conference: B's later end must not run A's held-back set.
    RETURN_IF_ERROR(
        store_.ClearBridgedLeg(company_id, request.call_id, request.bridged_leg).status());
    absl::StatusOr<ConferenceResult> moved = provider.ConferenceControl(request);
    if (!moved.ok()) {
      absl::Status restored =
          store_.PutBridgedLeg(company_id, request.call_id, request.bridged_leg);
      if (!restored.ok()) {
        log::Error("bridged leg not restored after a failed MOVE_BRIDGE",
                   {{"company_id", company}, {"error", std::string(restored.message())}});
      }
      return moved.status();
    }
    return moved->leg;
  }

  if (telnyx && request.action != A::kRemove) {
    absl::StatusOr<ConferenceRow> conference =
        store_.GetConferenceByName(company_id, request.conference);
    if (absl::IsNotFound(conference.status()) ||
        (conference.ok() && conference->a_leg != request.call_id)) {
      return absl::FailedPreconditionError(
          "conference: no such conference of the call (MOVE_BRIDGE creates it)");
    }
    if (!conference.ok()) return conference.status();
    if (conference->conference_id.empty()) {
      return absl::FailedPreconditionError("conference: still being created; retry");
    }
    request.conference_id = conference->conference_id;
  }
  if (request.action == A::kAdd) {
    if (telnyx) {
      request.status_callback_url = WebhookUrl(Wire::kTelnyx, "call-control");
      request.client_state = EncodeConferenceLegState(ConferenceLegState{
          .conference_id = request.conference_id, .conference = request.conference});
    } else {
      request.status_callback_url = absl::StrCat(
          WebhookUrl(Wire::kTwilio, "conference-participant"), "?conference=", request.conference);
    }
  }
  ASSIGN_OR_RETURN(ConferenceResult result, provider.ConferenceControl(request));
  if (telnyx && request.action == A::kAdd) {
    // Its call.hangup before joining is a NOT_ANSWERED (a missing row reads as not joined).
    absl::Status recorded = store_.PutConferenceLeg(company_id, result.leg, request.conference_id);
    if (!recorded.ok()) {
      log::Error("added conference leg not recorded",
                 {{"company_id", company}, {"leg", result.leg},
                  {"error", std::string(recorded.message())}});
    }
  }
  return result.leg;
}

absl::StatusOr<std::string> CarrierCore::StartRecording(absl::string_view company_id,
                                                        absl::string_view call_id) {
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(CallRow call, KnownCall(company_id, call_id));
  // Twilio reports the finished recording to the recording route (as <Record> does); Telnyx
  // sends call.recording.saved to the call's own webhook.
  return carrier->ForName(call.provider)
      .StartRecording(call_id, WebhookUrl(Wire::kTwilio, "recording"));
}

absl::Status CarrierCore::StopRecording(absl::string_view company_id, absl::string_view call_id,
                                        absl::string_view recording_id) {
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  ASSIGN_OR_RETURN(CallRow call, KnownCall(company_id, call_id));
  return carrier->ForName(call.provider).StopRecording(call_id, recording_id);
}

absl::StatusOr<SentMessage> CarrierCore::SendMessage(absl::string_view company_id,
                                                     SendMessageRequest request) {
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  const Wire wire = carrier->settings.primary.wire;
  if (request.status_callback_url.empty()) {
    request.status_callback_url = WebhookUrl(wire, wire == Wire::kTwilio ? "sms-status"
                                                                         : "messaging");
  }
  if (request.idempotency_key.empty()) request.idempotency_key = NewUuidV7();
  RETURN_IF_ERROR(ValidateSendMessage(request));
  RETURN_IF_ERROR(CheckFromNumber(company_id, request.from));
  return carrier->failover->SendMessage(request);
}

absl::StatusOr<RecordingMedia> CarrierCore::FetchRecording(absl::string_view company_id,
                                                           absl::string_view recording) {
  if (recording.empty()) return absl::InvalidArgumentError("recording: required");
  ASSIGN_OR_RETURN(auto carrier, CarrierFor(company_id));
  return carrier->failover->FetchRecording(recording);
}

}  // namespace switchboard::carrier
