#include "services/numbers/numbers_service.h"

#include "absl/strings/str_cat.h"
#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"
#include "services/numbers/proto_convert.h"

namespace switchboard::numbers {
namespace {

grpc::Status Reply(const grpc::ServerContext& context, const absl::Status& status) {
  return rpc::ToGrpcStatus(status, rpc::RequestIdOf(context));
}

bool CanManage(const rpc::Principal& p) {
  return p.role == "owner" || p.role == "admin" || p.role == "service";
}

absl::Status RequireManager(const rpc::Principal& p) {
  if (CanManage(p)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("role '", p.role, "' cannot manage numbers (owner, admin or service)"));
}

}  // namespace

#define SB_CALLER(var)                                                 \
  absl::StatusOr<rpc::Principal> var##_or = rpc::PrincipalFromContext(*context); \
  if (!var##_or.ok()) return Reply(*context, var##_or.status());      \
  const rpc::Principal& var = *var##_or

#define SB_MANAGER(var)                                        \
  SB_CALLER(var);                                              \
  if (absl::Status allowed = RequireManager(var); !allowed.ok()) \
  return Reply(*context, allowed)

#define SB_REPLY_NUMBER(expr)                                  \
  absl::StatusOr<Number> result = (expr);                      \
  if (!result.ok()) return Reply(*context, result.status());   \
  NumberToProto(*result, response);                            \
  return grpc::Status::OK

#define SB_REPLY_PORT(expr)                                    \
  absl::StatusOr<PortRequest> result = (expr);                 \
  if (!result.ok()) return Reply(*context, result.status());   \
  PortToProto(*result, response);                              \
  return grpc::Status::OK

grpc::Status NumbersService::SearchNumbers(grpc::ServerContext* context,
                                           const v1::SearchNumbersRequest* request,
                                           v1::SearchNumbersResponse* response) {
  SB_CALLER(caller);
  auto found = core_.SearchNumbers(
      caller.company_id, SearchInput{.country = request->country(),
                                     .type = NumberTypeFromProto(request->type()),
                                     .area_code = request->area_code(),
                                     .contains = request->contains(),
                                     .starts_with = request->starts_with(),
                                     .locality = request->locality(),
                                     .region = request->region(),
                                     .limit = request->limit()});
  if (!found.ok()) return Reply(*context, found.status());
  for (const AvailableNumber& n : found->first) AvailableToProto(n, response->add_numbers());
  response->set_cached(found->second);
  return grpc::Status::OK;
}

grpc::Status NumbersService::ProvisionNumber(grpc::ServerContext* context,
                                             const v1::ProvisionNumberRequest* request,
                                             v1::Number* response) {
  SB_MANAGER(caller);
  SB_REPLY_NUMBER(core_.ProvisionNumber(
      caller.company_id,
      ProvisionInput{.e164 = request->e164(),
                     .line_type = LineTypeFromProto(request->line_type(), LineType::kDirect),
                     .nickname = request->nickname(),
                     .caller_id_name = request->caller_id_name(),
                     .sms_enabled = request->sms_enabled(),
                     .monthly_cost = request->monthly_cost(),
                     .currency = request->currency(),
                     .provider = request->provider()}));
}

grpc::Status NumbersService::GetNumber(grpc::ServerContext* context,
                                       const v1::GetNumberRequest* request,
                                       v1::Number* response) {
  SB_CALLER(caller);
  SB_REPLY_NUMBER(core_.GetNumber(caller.company_id, request->number_id()));
}

grpc::Status NumbersService::ListNumbers(grpc::ServerContext* context,
                                         const v1::ListNumbersRequest* request,
                                         v1::ListNumbersResponse* response) {
  SB_CALLER(caller);
  auto list = core_.ListNumbers(caller.company_id, request->include_released());
  if (!list.ok()) return Reply(*context, list.status());
  for (const Number& n : *list) NumberToProto(n, response->add_numbers());
  return grpc::Status::OK;
}

grpc::Status NumbersService::UpdateLine(grpc::ServerContext* context,
                                        const v1::UpdateLineRequest* request,
                                        v1::Number* response) {
  SB_MANAGER(caller);
  LineUpdate u;
  if (request->update_mask().empty()) {
    return Reply(*context, absl::InvalidArgumentError("update_mask: name at least one field"));
  }
  for (const std::string& field : request->update_mask()) {
    if (field == "line_type") {
      if (request->line_type() == v1::LINE_TYPE_UNSPECIFIED) {
        return Reply(*context, absl::InvalidArgumentError("line_type: required"));
      }
      u.line_type = LineTypeFromProto(request->line_type(), LineType::kDirect);
    } else if (field == "nickname") {
      u.nickname = request->nickname();
    } else if (field == "caller_id_name") {
      u.caller_id_name = request->caller_id_name();
    } else if (field == "sms_enabled") {
      u.sms_enabled = request->sms_enabled();
    } else if (field == "active") {
      u.active = request->active();
    } else {
      return Reply(*context, absl::InvalidArgumentError(
                                 absl::StrCat("update_mask: unknown field '", field, "'")));
    }
  }
  SB_REPLY_NUMBER(core_.UpdateLine(caller.company_id, request->line_id(), u));
}

grpc::Status NumbersService::AssignLine(grpc::ServerContext* context,
                                        const v1::AssignLineRequest* request,
                                        v1::Number* response) {
  SB_MANAGER(caller);
  SB_REPLY_NUMBER(core_.AssignLine(caller.company_id, request->line_id(), request->user_id(),
                                   request->department()));
}

grpc::Status NumbersService::UnassignLine(grpc::ServerContext* context,
                                          const v1::UnassignLineRequest* request,
                                          v1::Number* response) {
  SB_MANAGER(caller);
  SB_REPLY_NUMBER(core_.UnassignLine(caller.company_id, request->line_id()));
}

grpc::Status NumbersService::SetLineFlow(grpc::ServerContext* context,
                                         const v1::SetLineFlowRequest* request,
                                         v1::Number* response) {
  SB_MANAGER(caller);
  SB_REPLY_NUMBER(core_.SetLineFlow(caller.company_id, request->line_id(), request->flow_id()));
}

grpc::Status NumbersService::ReleaseNumber(grpc::ServerContext* context,
                                           const v1::ReleaseNumberRequest* request,
                                           v1::Number* response) {
  SB_MANAGER(caller);
  SB_REPLY_NUMBER(core_.ReleaseNumber(caller.company_id, request->line_id(), request->force()));
}

grpc::Status NumbersService::CreatePortRequest(grpc::ServerContext* context,
                                               const v1::CreatePortRequestRequest* request,
                                               v1::PortRequest* response) {
  SB_MANAGER(caller);
  PortInput in{.numbers = {request->numbers().begin(), request->numbers().end()},
               .current_carrier = request->current_carrier(),
               .account_number = request->account_number(),
               .pin = request->pin(),
               .authorized_name = request->authorized_name(),
               .service_address = AddressFromProto(request->service_address()),
               .desired_foc_date = request->desired_foc_date(),
               .temporary_e164 = request->temporary_e164(),
               .line_type = LineTypeFromProto(request->line_type(), LineType::kMain),
               .nickname = request->nickname()};
  SB_REPLY_PORT(core_.CreatePortRequest(caller.company_id, in));
}

grpc::Status NumbersService::SubmitPortRequest(grpc::ServerContext* context,
                                               const v1::SubmitPortRequestRequest* request,
                                               v1::PortRequest* response) {
  SB_MANAGER(caller);
  SB_REPLY_PORT(core_.SubmitPortRequest(caller.company_id, request->port_request_id()));
}

grpc::Status NumbersService::GetPortRequest(grpc::ServerContext* context,
                                            const v1::GetPortRequestRequest* request,
                                            v1::PortRequest* response) {
  SB_CALLER(caller);
  SB_REPLY_PORT(core_.GetPortRequest(caller.company_id, request->port_request_id()));
}

grpc::Status NumbersService::ListPortRequests(grpc::ServerContext* context,
                                              const v1::ListPortRequestsRequest*,
                                              v1::ListPortRequestsResponse* response) {
  SB_CALLER(caller);
  auto list = core_.ListPortRequests(caller.company_id);
  if (!list.ok()) return Reply(*context, list.status());
  for (const PortRequest& p : *list) PortToProto(p, response->add_port_requests());
  return grpc::Status::OK;
}

grpc::Status NumbersService::CancelPortRequest(grpc::ServerContext* context,
                                               const v1::CancelPortRequestRequest* request,
                                               v1::PortRequest* response) {
  SB_MANAGER(caller);
  SB_REPLY_PORT(core_.CancelPortRequest(caller.company_id, request->port_request_id()));
}

grpc::Status NumbersService::ResolveNumber(grpc::ServerContext* context,
                                           const v1::ResolveNumberRequest* request,
                                           v1::ResolvedNumber* response) {
  SB_CALLER(caller);
  if (caller.role != "service") {
    return Reply(*context, absl::PermissionDeniedError("ResolveNumber is for role service"));
  }
  auto resolved = core_.ResolveNumber(request->e164());
  if (!resolved.ok()) return Reply(*context, resolved.status());
  ResolvedToProto(resolved->first, resolved->second, response);
  return grpc::Status::OK;
}

grpc::Status NumbersService::SetCallerIdPreference(grpc::ServerContext* context,
                                                   const v1::SetCallerIdPreferenceRequest* request,
                                                   v1::CallerIdPreference* response) {
  SB_CALLER(caller);
  if (!CanManage(caller) && caller.user_id != request->user_id()) {
    return Reply(*context, absl::PermissionDeniedError(
                               "only owners and admins set another user's caller ID"));
  }
  const CallerIdChoice choice = ChoiceFromProto(request->choice());
  absl::Status s = core_.SetCallerIdPreference(caller.company_id, request->user_id(), choice);
  if (!s.ok()) return Reply(*context, s);
  response->set_user_id(request->user_id());
  response->set_choice(ChoiceToProto(choice));
  return grpc::Status::OK;
}

grpc::Status NumbersService::GetOutboundCallerId(grpc::ServerContext* context,
                                                 const v1::GetOutboundCallerIdRequest* request,
                                                 v1::OutboundCallerId* response) {
  SB_CALLER(caller);
  auto id = core_.GetOutboundCallerId(caller.company_id, request->user_id());
  if (!id.ok()) return Reply(*context, id.status());
  response->set_e164(id->e164);
  response->set_caller_id_name(id->caller_id_name);
  response->set_source(ChoiceToProto(id->source));
  response->set_line_id(id->line_id);
  return grpc::Status::OK;
}

grpc::Status NumbersService::CountNumbers(grpc::ServerContext* context,
                                          const v1::CountNumbersRequest*,
                                          v1::NumberCounts* response) {
  SB_CALLER(caller);
  auto counts = core_.CountNumbers(caller.company_id);
  if (!counts.ok()) return Reply(*context, counts.status());
  response->set_local(counts->local);
  response->set_toll_free(counts->toll_free);
  response->set_total(counts->total);
  response->set_limit(counts->limit);
  response->set_plan(counts->plan);
  return grpc::Status::OK;
}

}  // namespace switchboard::numbers
