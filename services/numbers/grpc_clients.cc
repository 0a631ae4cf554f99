#include "services/numbers/grpc_clients.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"

namespace switchboard::numbers {
namespace {

namespace cv1 = ::switchboard::carrier::v1;
namespace iv1 = ::switchboard::identity::v1;

void Prepare(grpc::ClientContext& ctx, absl::string_view company_id, absl::Duration timeout) {
  rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = std::string(company_id),
                                           .role = "service"});
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

std::string ProviderName(cv1::Provider p) {
  switch (p) {
    case cv1::TWILIO: return "twilio";
    case cv1::TELNYX: return "telnyx";
    case cv1::EMULATOR: return "emulator";
    default: return "";
  }
}

absl::Status Remote(const grpc::Status& s, absl::string_view what) {
  absl::Status st = rpc::FromGrpcStatus(s);
  return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
}

}  // namespace

PortStatus PortStatusFromCarrier(cv1::PortState state) {
  switch (state) {
    case cv1::PORT_DRAFT: return PortStatus::kDraft;
    case cv1::PORT_EXCEPTION: return PortStatus::kException;
    case cv1::PORT_FOC_DATE_CONFIRMED: return PortStatus::kFocDateConfirmed;
    case cv1::PORT_PORTED: return PortStatus::kPorted;
    case cv1::PORT_CANCELLED:
    case cv1::PORT_CANCEL_PENDING: return PortStatus::kCancelled;
    default: return PortStatus::kSubmitted;
  }
}

GrpcCarrierClient::GrpcCarrierClient(std::shared_ptr<grpc::Channel> channel,
                                     absl::Duration timeout)
    : stub_(cv1::Carrier::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<std::vector<AvailableNumber>> GrpcCarrierClient::SearchNumbers(
    absl::string_view company_id, const NumberSearch& search) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  cv1::SearchNumbersRequest req;
  req.set_country(search.country);
  req.set_type(search.type == NumberType::kTollFree ? cv1::TOLL_FREE : cv1::LOCAL);
  req.set_area_code(search.area_code);
  req.set_contains(search.contains);
  req.set_starts_with(search.starts_with);
  // Locality/region filter afterwards: ask for more so the filter still fills the page.
  const bool filtered = !search.locality.empty() || !search.region.empty();
  req.set_limit(filtered ? std::min(100, search.limit * 5) : search.limit);
  cv1::SearchNumbersResponse resp;
  grpc::Status s = stub_->SearchNumbers(&ctx, req, &resp);
  if (!s.ok()) return Remote(s, "carrier search");
  std::vector<AvailableNumber> out;
  for (const cv1::AvailableNumber& n : resp.numbers()) {
    out.push_back({.e164 = n.e164(),
                   .locality = n.locality(),
                   .region = n.region(),
                   .monthly_cost = n.monthly_cost(),
                   .currency = n.currency(),
                   .sms = n.capabilities().sms(),
                   .voice = n.capabilities().voice(),
                   .provider = n.provider()});
  }
  return out;
}

absl::StatusOr<OrderedNumber> GrpcCarrierClient::OrderNumber(absl::string_view company_id,
                                                             absl::string_view e164,
                                                             absl::string_view provider) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  cv1::OrderNumberRequest req;
  req.set_e164(std::string(e164));  // webhooks unset: the carrier service's own listener
  req.set_provider(std::string(provider));
  cv1::OrderedNumber resp;
  grpc::Status s = stub_->OrderNumber(&ctx, req, &resp);
  if (!s.ok()) return Remote(s, "carrier order");
  return OrderedNumber{.provider_number_id = resp.provider_number_id(),
                       .e164 = resp.e164().empty() ? std::string(e164) : resp.e164(),
                       .pending = resp.status() == cv1::NUMBER_PENDING,
                       .order_id = resp.order_id(),
                       .provider = ProviderName(resp.provider())};
}

absl::Status GrpcCarrierClient::ReleaseNumber(absl::string_view company_id,
                                              absl::string_view e164) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  cv1::ReleaseNumberRequest req;
  req.set_e164(std::string(e164));
  cv1::ReleaseNumberResponse resp;
  grpc::Status s = stub_->ReleaseNumber(&ctx, req, &resp);
  if (!s.ok()) return Remote(s, "carrier release");
  return absl::OkStatus();
}

absl::StatusOr<CarrierPortOrder> GrpcCarrierClient::CreatePortOrder(absl::string_view company_id,
                                                                    const PortOrderSpec& spec) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  cv1::CreatePortOrderRequest req;
  for (const std::string& n : spec.numbers) req.add_numbers(n);
  req.set_current_carrier(spec.current_carrier);
  req.set_account_number(spec.account_number);
  req.set_pin(spec.pin);
  req.set_authorized_name(spec.authorized_name);
  cv1::ServiceAddress* a = req.mutable_service_address();
  a->set_street(spec.service_address.street);
  a->set_extended(spec.service_address.extended);
  a->set_locality(spec.service_address.locality);
  a->set_region(spec.service_address.region);
  a->set_postal_code(spec.service_address.postal_code);
  a->set_country(spec.service_address.country.empty() ? "US" : spec.service_address.country);
  req.set_desired_foc_date(spec.desired_foc_date);
  cv1::PortOrder resp;
  grpc::Status s = stub_->CreatePortOrder(&ctx, req, &resp);
  if (!s.ok()) return Remote(s, "carrier port order");
  return CarrierPortOrder{.id = resp.id(), .status = PortStatusFromCarrier(resp.status()),
                          .reason = ""};
}

absl::StatusOr<CarrierPortOrder> GrpcCarrierClient::GetPortOrder(absl::string_view company_id,
                                                                 absl::string_view id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  cv1::GetPortOrderRequest req;
  req.set_port_order_id(std::string(id));
  cv1::PortOrder resp;
  grpc::Status s = stub_->GetPortOrder(&ctx, req, &resp);
  if (!s.ok()) return Remote(s, "carrier port order status");
  return CarrierPortOrder{.id = resp.id(), .status = PortStatusFromCarrier(resp.status()),
                          .reason = resp.status() == cv1::PORT_EXCEPTION ? resp.provider_status()
                                                                         : ""};
}

GrpcIdentityClient::GrpcIdentityClient(std::shared_ptr<grpc::Channel> channel,
                                       absl::Duration timeout)
    : stub_(iv1::Identity::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<CompanyPlan> GrpcIdentityClient::GetPlan(absl::string_view company_id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  iv1::GetCompanyRequest req;
  iv1::Company resp;
  grpc::Status s = stub_->GetCompany(&ctx, req, &resp);
  if (!s.ok()) return Remote(s, "identity company");
  CompanyPlan plan;
  switch (resp.plan()) {
    case iv1::PLAN_SOLO: plan.plan = "solo"; break;
    case iv1::PLAN_TEAM: plan.plan = "team"; break;
    case iv1::PLAN_BUSINESS: plan.plan = "business"; break;
    case iv1::PLAN_ENTERPRISE: plan.plan = "enterprise"; break;
    default: return absl::InternalError("identity company has no plan");
  }
  plan.max_numbers = NumberLimitOfPlan(plan.plan);
  return plan;
}

absl::StatusOr<UserInfo> GrpcIdentityClient::GetUser(absl::string_view company_id,
                                                     absl::string_view user_id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  iv1::GetUserRequest req;
  req.set_user_id(std::string(user_id));
  iv1::User resp;
  grpc::Status s = stub_->GetUser(&ctx, req, &resp);
  if (!s.ok()) return Remote(s, "user_id");
  return UserInfo{.id = resp.id(), .active = resp.status() == iv1::USER_STATUS_ACTIVE};
}

}  // namespace switchboard::numbers
