#include "services/carrier/carrier_service.h"

#include <algorithm>

#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"
#include "services/carrier/proto_convert.h"

namespace switchboard::carrier {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;

grpc::Status Reply(const grpc::ServerContext& context, const absl::Status& status) {
  return rpc::ToGrpcStatus(status, rpc::RequestIdOf(context));
}

absl::StatusOr<ProviderConfig> ConfigFromProto(const v1::ProviderConfig& p,
                                               absl::string_view field) {
  ProviderConfig c;
  c.provider = static_cast<Provider>(p.provider());
  if (p.provider() < v1::TWILIO || p.provider() > v1::EMULATOR) {
    return absl::InvalidArgumentError(std::string(field) + ".provider: required");
  }
  switch (p.credentials_case()) {
    case v1::ProviderConfig::kTwilio:
      c.wire = Wire::kTwilio;
      c.twilio = TwilioCredentials{.account_sid = p.twilio().account_sid(),
                                   .auth_token = p.twilio().auth_token(),
                                   .subaccount_sid = p.twilio().subaccount_sid()};
      break;
    case v1::ProviderConfig::kTelnyx:
      c.wire = Wire::kTelnyx;
      c.telnyx = TelnyxCredentials{.api_key = p.telnyx().api_key(),
                                   .public_key = p.telnyx().public_key(),
                                   .connection_id = p.telnyx().connection_id(),
                                   .messaging_profile_id = p.telnyx().messaging_profile_id()};
      break;
    case v1::ProviderConfig::CREDENTIALS_NOT_SET:
      return absl::InvalidArgumentError(std::string(field) + ".credentials: required");
  }
  if ((c.provider == Provider::kTwilio && c.wire != Wire::kTwilio) ||
      (c.provider == Provider::kTelnyx && c.wire != Wire::kTelnyx)) {
    return absl::InvalidArgumentError(std::string(field) +
                                      ".credentials: do not match the provider");
  }
  return c;
}

void AccountToProto(const AccountSummary& a, v1::CarrierAccount* out) {
  out->set_company_id(a.company_id);
  out->set_primary_provider(static_cast<v1::Provider>(a.primary_provider));
  out->set_primary_account_id(a.primary_account_id);
  out->set_secondary_provider(static_cast<v1::Provider>(a.secondary_provider));
  out->set_secondary_account_id(a.secondary_account_id);
}

NumberWebhooks WebhooksFromProto(const v1::NumberWebhooks& w) {
  return NumberWebhooks{.voice_url = w.voice_url(),
                        .messaging_url = w.messaging_url(),
                        .status_callback_url = w.status_callback_url()};
}

v1::SmsDeliveryStatus SmsStatusToProto(SmsDeliveryStatus s) {
  return static_cast<v1::SmsDeliveryStatus>(static_cast<int>(s) + 1);
}

void PortToProto(const PortOrder& p, v1::PortOrder* out) {
  out->set_id(p.id);
  out->set_status(static_cast<v1::PortState>(static_cast<int>(p.status) + 1));
  out->set_provider_status(p.provider_status);
  for (const auto& n : p.numbers) out->add_numbers(n);
}

}  // namespace

#define SB_COMPANY(var)                                                   \
  absl::StatusOr<rpc::Principal> var##_p = rpc::PrincipalFromContext(*context); \
  if (!var##_p.ok()) return Reply(*context, var##_p.status());           \
  const std::string var = var##_p->company_id

grpc::Status CarrierService::SetCarrierAccount(grpc::ServerContext* context,
                                               const v1::SetCarrierAccountRequest* request,
                                               v1::CarrierAccount* response) {
  SB_COMPANY(company);
  AccountSettings settings;
  absl::StatusOr<ProviderConfig> primary = ConfigFromProto(request->primary(), "primary");
  if (!primary.ok()) return Reply(*context, primary.status());
  settings.primary = std::move(*primary);
  if (request->has_secondary() && request->secondary().provider() != v1::PROVIDER_UNSPECIFIED) {
    absl::StatusOr<ProviderConfig> secondary = ConfigFromProto(request->secondary(), "secondary");
    if (!secondary.ok()) return Reply(*context, secondary.status());
    settings.secondary = std::move(*secondary);
  }
  auto account = core_.SetCarrierAccount(company, settings);
  if (!account.ok()) return Reply(*context, account.status());
  AccountToProto(*account, response);
  return grpc::Status::OK;
}

grpc::Status CarrierService::GetCarrierAccount(grpc::ServerContext* context,
                                               const v1::GetCarrierAccountRequest*,
                                               v1::CarrierAccount* response) {
  SB_COMPANY(company);
  auto account = core_.GetCarrierAccount(company);
  if (!account.ok()) return Reply(*context, account.status());
  AccountToProto(*account, response);
  return grpc::Status::OK;
}

grpc::Status CarrierService::SetStaticInstructions(grpc::ServerContext* context,
                                                   const v1::SetStaticInstructionsRequest* request,
                                                   v1::SetStaticInstructionsResponse*) {
  SB_COMPANY(company);
  absl::StatusOr<CallInstructions> instructions =
      CallInstructionsFromProto(request->instructions());
  if (!instructions.ok()) {
    return Reply(*context, absl::InvalidArgumentError(
                               "instructions." + std::string(instructions.status().message())));
  }
  return Reply(*context, core_.SetStaticInstructions(company, request->e164(), *instructions));
}

grpc::Status CarrierService::SearchNumbers(grpc::ServerContext* context,
                                           const v1::SearchNumbersRequest* request,
                                           v1::SearchNumbersResponse* response) {
  SB_COMPANY(company);
  NumberSearch search;
  if (!request->country().empty()) search.country = request->country();
  search.type = request->type() == v1::TOLL_FREE ? NumberType::kTollFree : NumberType::kLocal;
  search.area_code = request->area_code();
  search.contains = request->contains();
  search.starts_with = request->starts_with();
  if (request->limit() != 0) search.limit = request->limit();
  auto numbers = core_.SearchNumbers(company, search);
  if (!numbers.ok()) return Reply(*context, numbers.status());
  for (const AvailableNumber& n : *numbers) {
    v1::AvailableNumber* out = response->add_numbers();
    out->set_e164(n.e164);
    out->set_locality(n.locality);
    out->set_region(n.region);
    out->set_monthly_cost(n.monthly_cost);
    out->set_currency(n.currency);
    out->mutable_capabilities()->set_voice(n.capabilities.voice);
    out->mutable_capabilities()->set_sms(n.capabilities.sms);
    out->mutable_capabilities()->set_mms(n.capabilities.mms);
    out->mutable_capabilities()->set_fax(n.capabilities.fax);
    out->set_provider(n.provider);
  }
  return grpc::Status::OK;
}

grpc::Status CarrierService::OrderNumber(grpc::ServerContext* context,
                                         const v1::OrderNumberRequest* request,
                                         v1::OrderedNumber* response) {
  SB_COMPANY(company);
  auto ordered = core_.OrderNumber(company, request->e164(),
                                   WebhooksFromProto(request->webhooks()), request->provider());
  if (!ordered.ok()) return Reply(*context, ordered.status());
  response->set_provider_number_id(ordered->first.provider_number_id);
  response->set_e164(ordered->first.e164);
  response->set_status(ordered->first.status == NumberState::kActive ? v1::NUMBER_ACTIVE
                                                                     : v1::NUMBER_PENDING);
  response->set_order_id(ordered->first.order_id);
  response->set_provider(ordered->second == "telnyx" ? v1::TELNYX : v1::TWILIO);
  return grpc::Status::OK;
}

grpc::Status CarrierService::UpdateNumberWebhooks(grpc::ServerContext* context,
                                                  const v1::UpdateNumberWebhooksRequest* request,
                                                  v1::UpdateNumberWebhooksResponse*) {
  SB_COMPANY(company);
  return Reply(*context, core_.UpdateNumberWebhooks(company, request->e164(),
                                                    WebhooksFromProto(request->webhooks())));
}

grpc::Status CarrierService::ReleaseNumber(grpc::ServerContext* context,
                                           const v1::ReleaseNumberRequest* request,
                                           v1::ReleaseNumberResponse*) {
  SB_COMPANY(company);
  return Reply(*context, core_.ReleaseNumber(company, request->e164()));
}

grpc::Status CarrierService::CreatePortOrder(grpc::ServerContext* context,
                                             const v1::CreatePortOrderRequest* request,
                                             v1::PortOrder* response) {
  SB_COMPANY(company);
  PortOrderRequest r;
  r.numbers.assign(request->numbers().begin(), request->numbers().end());
  r.current_carrier = request->current_carrier();
  r.account_number = request->account_number();
  r.pin = request->pin();
  r.authorized_name = request->authorized_name();
  const v1::ServiceAddress& a = request->service_address();
  r.service_address = ServiceAddress{.street = a.street(),
                                     .extended = a.extended(),
                                     .locality = a.locality(),
                                     .region = a.region(),
                                     .postal_code = a.postal_code(),
                                     .country = a.country().empty() ? "US" : a.country()};
  r.desired_foc_date = request->desired_foc_date();
  auto order = core_.CreatePortOrder(company, r);
  if (!order.ok()) return Reply(*context, order.status());
  PortToProto(*order, response);
  return grpc::Status::OK;
}

grpc::Status CarrierService::GetPortOrder(grpc::ServerContext* context,
                                          const v1::GetPortOrderRequest* request,
                                          v1::PortOrder* response) {
  SB_COMPANY(company);
  auto order = core_.GetPortOrder(company, request->port_order_id());
  if (!order.ok()) return Reply(*context, order.status());
  PortToProto(*order, response);
  return grpc::Status::OK;
}

grpc::Status CarrierService::PlaceCall(grpc::ServerContext* context,
                                       const v1::PlaceCallRequest* request,
                                       v1::PlacedCall* response) {
  SB_COMPANY(company);
  auto placed = core_.PlaceCall(company, PlaceCallRequest{
                                             .from = request->from(),
                                             .to = request->to(),
                                             .instructions_url = request->instructions_url(),
                                             .status_callback_url = request->status_callback_url(),
                                             .idempotency_key = request->idempotency_key(),
                                             .timeout_s = request->timeout_s(),
                                             .client_state = request->client_state()});
  if (!placed.ok()) return Reply(*context, placed.status());
  response->set_call_id(placed->call_id);
  response->set_session_id(placed->session_id);
  response->set_provider(placed->provider);
  return grpc::Status::OK;
}

grpc::Status CarrierService::ModifyCall(grpc::ServerContext* context,
                                        const v1::ModifyCallRequest* request,
                                        v1::ModifyCallResponse*) {
  SB_COMPANY(company);
  CallModification m;
  switch (request->action()) {
    case v1::ModifyCallRequest::REDIRECT: m.action = CallModification::Action::kRedirect; break;
    case v1::ModifyCallRequest::HANGUP: m.action = CallModification::Action::kHangup; break;
    case v1::ModifyCallRequest::INSTRUCT: {
      absl::StatusOr<CallInstructions> instructions =
          CallInstructionsFromProto(request->instructions());
      if (!instructions.ok()) return Reply(*context, instructions.status());
      return Reply(*context, core_.InstructCall(company, request->call_id(), *instructions));
    }
    default:
      return Reply(*context,
                   absl::InvalidArgumentError("action: required (REDIRECT, HANGUP or INSTRUCT)"));
  }
  m.redirect_url = request->redirect_url();
  m.idempotency_key = request->idempotency_key();
  return Reply(*context, core_.ModifyCall(company, request->call_id(), m));
}

grpc::Status CarrierService::StartRecording(grpc::ServerContext* context,
                                            const v1::StartRecordingRequest* request,
                                            v1::StartRecordingResponse* response) {
  SB_COMPANY(company);
  auto id = core_.StartRecording(company, request->call_id());
  if (!id.ok()) return Reply(*context, id.status());
  response->set_recording_id(*id);
  return grpc::Status::OK;
}

grpc::Status CarrierService::StopRecording(grpc::ServerContext* context,
                                           const v1::StopRecordingRequest* request,
                                           v1::StopRecordingResponse*) {
  SB_COMPANY(company);
  return Reply(*context,
               core_.StopRecording(company, request->call_id(), request->recording_id()));
}

grpc::Status CarrierService::ConferenceControl(grpc::ServerContext* context,
                                               const v1::ConferenceControlRequest* request,
                                               v1::ConferenceControlResponse* response) {
  SB_COMPANY(company);
  using A = ConferenceRequest::Action;
  ConferenceRequest r;
  switch (request->action()) {
    case v1::ConferenceControlRequest::MOVE_BRIDGE: r.action = A::kMoveBridge; break;
    case v1::ConferenceControlRequest::HOLD: r.action = A::kHold; break;
    case v1::ConferenceControlRequest::UNHOLD: r.action = A::kUnhold; break;
    case v1::ConferenceControlRequest::ADD: r.action = A::kAdd; break;
    case v1::ConferenceControlRequest::REMOVE: r.action = A::kRemove; break;
    default:
      return Reply(*context, absl::InvalidArgumentError("action: required"));
  }
  r.call_id = request->call_id();
  r.conference = request->conference();
  r.leg = request->leg();
  r.to = request->to();
  r.from = request->from();
  r.timeout_s = request->timeout_s();
  r.hold_audio_url = request->hold_audio_url();
  r.idempotency_key = request->idempotency_key();
  absl::StatusOr<std::string> leg = core_.ConferenceControl(company, std::move(r));
  if (!leg.ok()) return Reply(*context, leg.status());
  response->set_leg(*leg);
  return grpc::Status::OK;
}

grpc::Status CarrierService::SendMessage(grpc::ServerContext* context,
                                         const v1::SendMessageRequest* request,
                                         v1::SentMessage* response) {
  SB_COMPANY(company);
  SendMessageRequest r{.from = request->from(),
                       .to = request->to(),
                       .body = request->body(),
                       .media_urls = {request->media_urls().begin(), request->media_urls().end()},
                       .status_callback_url = request->status_callback_url(),
                       .idempotency_key = request->idempotency_key()};
  auto sent = core_.SendMessage(company, std::move(r));
  if (!sent.ok()) return Reply(*context, sent.status());
  response->set_message_id(sent->message_id);
  response->set_status(SmsStatusToProto(sent->status));
  response->set_provider_status(sent->provider_status);
  response->set_provider(sent->provider);
  return grpc::Status::OK;
}

grpc::Status CarrierService::FetchRecording(grpc::ServerContext* context,
                                            const v1::FetchRecordingRequest* request,
                                            grpc::ServerWriter<v1::RecordingChunk>* writer) {
  SB_COMPANY(company);
  auto media = core_.FetchRecording(company, request->recording());
  if (!media.ok()) return Reply(*context, media.status());
  size_t offset = 0;
  do {
    v1::RecordingChunk chunk;
    const size_t n = std::min(kChunkBytes, media->bytes.size() - offset);
    chunk.set_data(media->bytes.substr(offset, n));
    if (offset == 0) chunk.set_content_type(media->content_type);
    if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    offset += n;
  } while (offset < media->bytes.size());
  return grpc::Status::OK;
}

}  // namespace switchboard::carrier
