#include "services/numbers/proto_convert.h"

#include <google/protobuf/util/time_util.h>

namespace switchboard::numbers {
namespace {

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t us = absl::ToUnixMicros(t);
  *out = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(us);
}

v1::NumberStatus StatusToProto(NumberStatus s) {
  switch (s) {
    case NumberStatus::kOrdering:
    case NumberStatus::kPending: return v1::NUMBER_PENDING;
    case NumberStatus::kActive: return v1::NUMBER_ACTIVE;
    case NumberStatus::kFailed: return v1::NUMBER_FAILED;
    case NumberStatus::kReleased: return v1::NUMBER_RELEASED;
    case NumberStatus::kPortedOut: return v1::NUMBER_PORTED_OUT;
  }
  return v1::NUMBER_STATUS_UNSPECIFIED;
}

v1::PortStatus PortStatusToProto(PortStatus s) {
  switch (s) {
    case PortStatus::kDraft: return v1::PORT_DRAFT;
    case PortStatus::kSubmitted: return v1::PORT_SUBMITTED;
    case PortStatus::kException: return v1::PORT_EXCEPTION;
    case PortStatus::kFocDateConfirmed: return v1::PORT_FOC_DATE_CONFIRMED;
    case PortStatus::kPorted: return v1::PORT_PORTED;
    case PortStatus::kCancelled: return v1::PORT_CANCELLED;
  }
  return v1::PORT_STATUS_UNSPECIFIED;
}

}  // namespace

v1::LineType LineTypeToProto(LineType t) {
  switch (t) {
    case LineType::kMain: return v1::LINE_MAIN;
    case LineType::kDirect: return v1::LINE_DIRECT;
    case LineType::kDepartment: return v1::LINE_DEPARTMENT;
  }
  return v1::LINE_TYPE_UNSPECIFIED;
}

LineType LineTypeFromProto(v1::LineType t, LineType fallback) {
  switch (t) {
    case v1::LINE_MAIN: return LineType::kMain;
    case v1::LINE_DIRECT: return LineType::kDirect;
    case v1::LINE_DEPARTMENT: return LineType::kDepartment;
    default: return fallback;
  }
}

NumberType NumberTypeFromProto(v1::NumberType t) {
  return t == v1::TOLL_FREE ? NumberType::kTollFree : NumberType::kLocal;
}

v1::CallerIdChoice ChoiceToProto(CallerIdChoice c) {
  return c == CallerIdChoice::kDirect ? v1::CALLER_ID_DIRECT : v1::CALLER_ID_MAIN;
}

CallerIdChoice ChoiceFromProto(v1::CallerIdChoice c) {
  return c == v1::CALLER_ID_DIRECT ? CallerIdChoice::kDirect : CallerIdChoice::kMain;
}

ServiceAddress AddressFromProto(const v1::ServiceAddress& a) {
  return ServiceAddress{a.street(), a.extended(), a.locality(), a.region(), a.postal_code(),
                        a.country()};
}

void NumberToProto(const Number& n, v1::Number* out) {
  out->set_id(n.id);
  out->set_line_id(n.line_id);
  out->set_company_id(n.company_id);
  out->set_e164(n.e164);
  out->set_type(n.type == NumberType::kTollFree ? v1::TOLL_FREE : v1::LOCAL);
  out->set_country(n.country);
  out->set_area_code(n.area_code);
  out->set_provider(n.provider);
  out->set_provider_number_id(n.provider_number_id);
  out->set_monthly_cost(n.monthly_cost);
  out->set_currency(n.currency);
  out->set_status(StatusToProto(n.status));
  out->set_line_type(LineTypeToProto(n.line_type));
  out->set_nickname(n.nickname);
  out->set_caller_id_name(n.caller_id_name);
  out->set_sms_enabled(n.sms_enabled);
  out->set_active(n.active);
  out->set_assigned_user_id(n.assigned_user_id);
  out->set_department(n.department);
  out->set_flow_id(n.flow_id);
  out->set_port_request_id(n.port_request_id);
  SetTime(n.created_at, out->mutable_created_at());
  SetTime(n.updated_at, out->mutable_updated_at());
  if (n.released_at.has_value()) SetTime(*n.released_at, out->mutable_released_at());
}

void PortToProto(const PortRequest& p, v1::PortRequest* out) {
  out->set_id(p.id);
  out->set_company_id(p.company_id);
  for (const std::string& n : p.numbers) out->add_numbers(n);
  out->set_current_carrier(p.current_carrier);
  out->set_authorized_name(p.authorized_name);
  v1::ServiceAddress* a = out->mutable_service_address();
  a->set_street(p.service_address.street);
  a->set_extended(p.service_address.extended);
  a->set_locality(p.service_address.locality);
  a->set_region(p.service_address.region);
  a->set_postal_code(p.service_address.postal_code);
  a->set_country(p.service_address.country);
  out->set_desired_foc_date(p.desired_foc_date);
  out->set_status(PortStatusToProto(p.status));
  out->set_reason(p.reason);
  out->set_carrier_port_order_id(p.carrier_port_order_id);
  out->set_temporary_line_id(p.temporary_line_id);
  out->set_temporary_e164(p.temporary_e164);
  out->set_has_account_number(!p.account_number_sealed.empty());
  out->set_has_pin(!p.pin_sealed.empty());
  SetTime(p.created_at, out->mutable_created_at());
  SetTime(p.updated_at, out->mutable_updated_at());
}

void ResolvedToProto(const Resolved& r, bool cached, v1::ResolvedNumber* out) {
  out->set_company_id(r.company_id);
  out->set_line_id(r.line_id);
  out->set_number_id(r.number_id);
  out->set_line_type(LineTypeToProto(r.line_type));
  out->set_flow_id(r.flow_id);
  out->set_assigned_user_id(r.assigned_user_id);
  out->set_department(r.department);
  out->set_nickname(r.nickname);
  out->set_sms_enabled(r.sms_enabled);
  out->set_cached(cached);
  out->set_active(r.active);
}

Resolved ResolvedFromProto(const v1::ResolvedNumber& p) {
  return Resolved{.company_id = p.company_id(),
                  .line_id = p.line_id(),
                  .number_id = p.number_id(),
                  .line_type = LineTypeFromProto(p.line_type(), LineType::kDirect),
                  .flow_id = p.flow_id(),
                  .assigned_user_id = p.assigned_user_id(),
                  .department = p.department(),
                  .nickname = p.nickname(),
                  .sms_enabled = p.sms_enabled(),
                  .active = p.active()};
}

void AvailableToProto(const AvailableNumber& n, v1::AvailableNumber* out) {
  out->set_e164(n.e164);
  out->set_locality(n.locality);
  out->set_region(n.region);
  out->set_monthly_cost(n.monthly_cost);
  out->set_currency(n.currency);
  out->set_sms(n.sms);
  out->set_voice(n.voice);
  out->set_provider(n.provider);
}

AvailableNumber AvailableFromProto(const v1::AvailableNumber& p) {
  return AvailableNumber{.e164 = p.e164(),
                         .locality = p.locality(),
                         .region = p.region(),
                         .monthly_cost = p.monthly_cost(),
                         .currency = p.currency(),
                         .sms = p.sms(),
                         .voice = p.voice(),
                         .provider = p.provider()};
}

}  // namespace switchboard::numbers
