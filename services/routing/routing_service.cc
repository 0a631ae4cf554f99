#include "services/routing/routing_service.h"

#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"

namespace switchboard::routing {
namespace {

grpc::Status Reply(const grpc::ServerContext& context, const absl::Status& status) {
  return rpc::ToGrpcStatus(status, rpc::RequestIdOf(context));
}

}  // namespace

// Resolves the caller (or returns its error), runs `expr` (a StatusOr) and moves the value into
// *response.
#define SB_HANDLE(expr)                                                     \
  absl::StatusOr<rpc::Principal> caller = rpc::PrincipalFromContext(*context); \
  if (!caller.ok()) return Reply(*context, caller.status());                \
  auto result = (expr);                                                     \
  if (!result.ok()) return Reply(*context, result.status());                \
  *response = std::move(*result);                                           \
  return grpc::Status::OK

#define SB_HANDLE_STATUS(expr)                                              \
  absl::StatusOr<rpc::Principal> caller = rpc::PrincipalFromContext(*context); \
  if (!caller.ok()) return Reply(*context, caller.status());                \
  absl::Status result = (expr);                                             \
  if (!result.ok()) return Reply(*context, result);                         \
  return grpc::Status::OK

grpc::Status RoutingService::SaveFlow(grpc::ServerContext* context,
                                      const v1::SaveFlowRequest* request,
                                      v1::SaveFlowResponse* response) {
  absl::StatusOr<rpc::Principal> caller = rpc::PrincipalFromContext(*context);
  if (!caller.ok()) return Reply(*context, caller.status());
  auto flow = core_.SaveFlow(*caller, *request);
  if (!flow.ok()) return Reply(*context, flow.status());
  *response->mutable_flow() = std::move(*flow);
  return grpc::Status::OK;
}
grpc::Status RoutingService::GetFlow(grpc::ServerContext* context,
                                     const v1::GetFlowRequest* request, v1::Flow* response) {
  SB_HANDLE(core_.GetFlow(*caller, *request));
}
grpc::Status RoutingService::ListFlows(grpc::ServerContext* context,
                                       const v1::ListFlowsRequest* request,
                                       v1::ListFlowsResponse* response) {
  SB_HANDLE(core_.ListFlows(*caller, *request));
}
grpc::Status RoutingService::ListFlowVersions(grpc::ServerContext* context,
                                              const v1::ListFlowVersionsRequest* request,
                                              v1::ListFlowVersionsResponse* response) {
  SB_HANDLE(core_.ListFlowVersions(*caller, *request));
}
grpc::Status RoutingService::ValidateFlow(grpc::ServerContext* context,
                                          const v1::ValidateFlowRequest* request,
                                          v1::ValidateFlowResponse* response) {
  SB_HANDLE(core_.ValidateFlow(*caller, *request));
}
grpc::Status RoutingService::SaveRingGroup(grpc::ServerContext* context,
                                           const v1::RingGroup* request,
                                           v1::RingGroup* response) {
  SB_HANDLE(core_.SaveRingGroup(*caller, *request));
}
grpc::Status RoutingService::GetRingGroup(grpc::ServerContext* context,
                                          const v1::GetByIdRequest* request,
                                          v1::RingGroup* response) {
  SB_HANDLE(core_.GetRingGroup(*caller, request->id()));
}
grpc::Status RoutingService::ListRingGroups(grpc::ServerContext* context,
                                            const v1::ListRequest* request,
                                            v1::ListRingGroupsResponse* response) {
  SB_HANDLE(core_.ListRingGroups(*caller, *request));
}
grpc::Status RoutingService::DeleteRingGroup(grpc::ServerContext* context,
                                             const v1::GetByIdRequest* request,
                                             v1::DeleteResponse* /*response*/) {
  SB_HANDLE_STATUS(core_.DeleteRingGroup(*caller, request->id()));
}
grpc::Status RoutingService::SaveVoicemailBox(grpc::ServerContext* context,
                                              const v1::VoicemailBox* request,
                                              v1::VoicemailBox* response) {
  SB_HANDLE(core_.SaveVoicemailBox(*caller, *request));
}
grpc::Status RoutingService::GetVoicemailBox(grpc::ServerContext* context,
                                             const v1::GetByIdRequest* request,
                                             v1::VoicemailBox* response) {
  SB_HANDLE(core_.GetVoicemailBox(*caller, request->id()));
}
grpc::Status RoutingService::ListVoicemailBoxes(grpc::ServerContext* context,
                                                const v1::ListRequest* request,
                                                v1::ListVoicemailBoxesResponse* response) {
  SB_HANDLE(core_.ListVoicemailBoxes(*caller, *request));
}
grpc::Status RoutingService::DeleteVoicemailBox(grpc::ServerContext* context,
                                                const v1::GetByIdRequest* request,
                                                v1::DeleteResponse* /*response*/) {
  SB_HANDLE_STATUS(core_.DeleteVoicemailBox(*caller, request->id()));
}
grpc::Status RoutingService::SaveSchedule(grpc::ServerContext* context,
                                          const v1::NamedSchedule* request,
                                          v1::NamedSchedule* response) {
  SB_HANDLE(core_.SaveSchedule(*caller, *request));
}
grpc::Status RoutingService::GetSchedule(grpc::ServerContext* context,
                                         const v1::GetByIdRequest* request,
                                         v1::NamedSchedule* response) {
  SB_HANDLE(core_.GetSchedule(*caller, request->id()));
}
grpc::Status RoutingService::ListSchedules(grpc::ServerContext* context,
                                           const v1::ListRequest* request,
                                           v1::ListSchedulesResponse* response) {
  SB_HANDLE(core_.ListSchedules(*caller, *request));
}
grpc::Status RoutingService::CheckSchedule(grpc::ServerContext* context,
                                           const v1::CheckScheduleRequest* request,
                                           v1::CheckScheduleResponse* response) {
  SB_HANDLE(core_.CheckSchedule(*caller, *request));
}
grpc::Status RoutingService::SaveOnCallRotation(grpc::ServerContext* context,
                                                const v1::NamedRotation* request,
                                                v1::NamedRotation* response) {
  SB_HANDLE(core_.SaveOnCallRotation(*caller, *request));
}
grpc::Status RoutingService::GetOnCallRotation(grpc::ServerContext* context,
                                               const v1::GetByIdRequest* request,
                                               v1::NamedRotation* response) {
  SB_HANDLE(core_.GetOnCallRotation(*caller, request->id()));
}
grpc::Status RoutingService::ListOnCallRotations(grpc::ServerContext* context,
                                                 const v1::ListRequest* request,
                                                 v1::ListOnCallRotationsResponse* response) {
  SB_HANDLE(core_.ListOnCallRotations(*caller, *request));
}
grpc::Status RoutingService::WhoIsOnCall(grpc::ServerContext* context,
                                         const v1::WhoIsOnCallRequest* request,
                                         v1::WhoIsOnCallResponse* response) {
  SB_HANDLE(core_.WhoIsOnCall(*caller, *request));
}
grpc::Status RoutingService::SimulateCall(grpc::ServerContext* context,
                                          const v1::SimulateCallRequest* request,
                                          v1::SimulateCallResponse* response) {
  SB_HANDLE(core_.SimulateCall(*caller, *request));
}
grpc::Status RoutingService::HandleCallEvent(grpc::ServerContext* context,
                                             const v1::HandleCallEventRequest* request,
                                             v1::HandleCallEventResponse* response) {
  SB_HANDLE(core_.HandleCallEvent(*caller, *request));
}
grpc::Status RoutingService::ListCalls(grpc::ServerContext* context,
                                       const v1::ListCallsRequest* request,
                                       v1::ListCallsResponse* response) {
  SB_HANDLE(core_.ListCalls(*caller, *request));
}
grpc::Status RoutingService::GetCall(grpc::ServerContext* context,
                                     const v1::GetCallRequest* request,
                                     v1::CallRecord* response) {
  SB_HANDLE(core_.GetCall(*caller, *request));
}
grpc::Status RoutingService::AddCallNote(grpc::ServerContext* context,
                                         const v1::AddCallNoteRequest* request,
                                         v1::CallNote* response) {
  SB_HANDLE(core_.AddCallNote(*caller, *request));
}

grpc::Status RoutingService::PlaceCall(grpc::ServerContext* context,
                                       const v1::PlaceCallRequest* request,
                                       v1::PlaceCallResponse* response) {
  SB_HANDLE(core_.PlaceCall(*caller, *request));
}
#define SB_LIVE_RPC(Name, Request, call)                                                      \
  grpc::Status RoutingService::Name(grpc::ServerContext* context, const v1::Request* request, \
                                    v1::CallRecord* response) {                              \
    SB_HANDLE(call);                                                                          \
  }
SB_LIVE_RPC(TransferCall, TransferCallRequest, core_.TransferCall(*caller, *request))
SB_LIVE_RPC(StartCallRecording, CallRecordingRequest,
            core_.SetCallRecording(*caller, *request, /*on=*/true))
SB_LIVE_RPC(StopCallRecording, CallRecordingRequest,
            core_.SetCallRecording(*caller, *request, /*on=*/false))
SB_LIVE_RPC(HoldCall, LiveCallRequest, core_.HoldCall(*caller, *request, /*on_hold=*/true))
SB_LIVE_RPC(ResumeCall, LiveCallRequest, core_.HoldCall(*caller, *request, /*on_hold=*/false))
SB_LIVE_RPC(AddParticipant, AddParticipantRequest,
            core_.AddParticipant(*caller, *request, /*warm_transfer=*/false))
SB_LIVE_RPC(RemoveParticipant, RemoveParticipantRequest, core_.RemoveParticipant(*caller, *request))
SB_LIVE_RPC(StartWarmTransfer, AddParticipantRequest,
            core_.AddParticipant(*caller, *request, /*warm_transfer=*/true))
SB_LIVE_RPC(CompleteWarmTransfer, LiveCallRequest,
            core_.FinishWarmTransfer(*caller, *request, /*complete=*/true))
SB_LIVE_RPC(CancelWarmTransfer, LiveCallRequest,
            core_.FinishWarmTransfer(*caller, *request, /*complete=*/false))
#undef SB_LIVE_RPC

grpc::Status RoutingService::GetRecordingPolicy(grpc::ServerContext* context,
                                                const v1::GetRecordingPolicyRequest* /*request*/,
                                                v1::RecordingPolicyView* response) {
  SB_HANDLE(core_.GetRecordingPolicy(*caller));
}
grpc::Status RoutingService::SetRecordingPolicy(grpc::ServerContext* context,
                                                const v1::RecordingPolicy* request,
                                                v1::RecordingPolicyView* response) {
  SB_HANDLE(core_.SetRecordingPolicy(*caller, *request));
}

#undef SB_HANDLE
#undef SB_HANDLE_STATUS

}  // namespace switchboard::routing
