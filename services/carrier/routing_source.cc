#include "services/carrier/routing_source.h"

#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/grpc/principal.h"
#include "libs/grpc/grpc_status.h"
#include "services/carrier/proto_convert.h"

namespace switchboard::carrier {

CallInstructions FallbackVoicemail(const RoutingSourceOptions& options) {
  return CallInstructions{
      .id = kFallbackInstructionsId,
      .instructions = {Say{.text = options.fallback_message},
                       Record{.max_length_s = options.fallback_max_length_s},
                       Say{.text = options.fallback_goodbye}, Hangup{}}};
}

RoutingInstructionSource::RoutingInstructionSource(
    std::unique_ptr<routing::v1::Routing::StubInterface> stub, metrics::Registry& registry,
    RoutingSourceOptions options, InstructionSource* unmanaged)
    : stub_(std::move(stub)), registry_(registry), options_(std::move(options)),
      unmanaged_(unmanaged) {}

absl::StatusOr<CallEventAnswer> RoutingInstructionSource::ForCallEvent(
    absl::string_view company_id, const CarrierEvent& event,
    absl::string_view current_instructions_id) {
  if (current_instructions_id == kFallbackInstructionsId) {
    return CallEventAnswer{.instructions = FallbackVoicemail(options_)};
  }
  if (unmanaged_ != nullptr && !current_instructions_id.empty()) {
    // A call running a set of the unmanaged source stays on it.
    absl::StatusOr<CallEventAnswer> own =
        unmanaged_->ForCallEvent(company_id, event, current_instructions_id);
    if (own.ok()) return own;
  }
  routing::v1::HandleCallEventRequest request;
  CarrierEventToProto(event, request.mutable_event());
  request.mutable_event()->set_company_id(std::string(company_id));
  request.set_current_instructions_id(std::string(current_instructions_id));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  context.AddMetadata(rpc::kCompanyIdKey, std::string(company_id));
  context.AddMetadata(rpc::kRoleKey, "service");
  routing::v1::HandleCallEventResponse response;
  grpc::Status status = stub_->HandleCallEvent(&context, request, &response);
  if (!status.ok()) {
    absl::Status why = rpc::FromGrpcStatus(status);
    if (absl::IsNotFound(why)) {
      if (unmanaged_ != nullptr && current_instructions_id.empty()) {
        return unmanaged_->ForCallEvent(company_id, event, "");
      }
      return why;
    }
    return Fallback(company_id, event, why);
  }
  if (response.instructions().instructions().empty()) {
    return absl::NotFoundError("routing has no instructions for this call");
  }
  absl::StatusOr<CallInstructions> instructions =
      CallInstructionsFromProto(response.instructions());
  if (!instructions.ok()) return Fallback(company_id, event, instructions.status());
  absl::Status valid = ValidateInstructions(*instructions);
  if (!valid.ok()) return Fallback(company_id, event, valid);
  return CallEventAnswer{.instructions = *std::move(instructions),
                         .replayed = response.replayed()};
}

CallEventAnswer RoutingInstructionSource::Fallback(absl::string_view company_id,
                                                    const CarrierEvent& event,
                                                    const absl::Status& why) {
  const std::string code = absl::StatusCodeToString(why.code());
  registry_
      .GetCounter("carrier_routing_fallbacks_total",
                  "Call events answered with the fallback voicemail because routing could not "
                  "answer",
                  {{"code", code}})
      .Inc();
  log::Warn("routing could not answer; fallback voicemail",
            {{"company_id", std::string(company_id)},
             {"call_id", event.ids.call_sid.empty() ? event.ids.call_session_id
                                                    : event.ids.call_sid},
             {"code", code},
             {"error", std::string(why.message())}});
  return CallEventAnswer{.instructions = FallbackVoicemail(options_)};
}

}  // namespace switchboard::carrier
