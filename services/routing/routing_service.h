// RoutingService: the gRPC adapter of routing.proto. Reads the principal from metadata
// (rpc::PrincipalFromContext), calls RoutingCore and maps the Status (rpc::ToGrpcStatus). No
// business rules, SQL or Redis here. Thread-safe (the core is); the core must outlive it.
#pragma once

#include "services/routing/routing_core.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::routing {

class RoutingService final : public v1::Routing::Service {
 public:
  explicit RoutingService(RoutingCore& core) : core_(core) {}

#define SB_ROUTING_RPC(Method, Request, Response)                                  \
  grpc::Status Method(grpc::ServerContext* context, const v1::Request* request,   \
                      v1::Response* response) override;
  SB_ROUTING_RPC(SaveFlow, SaveFlowRequest, SaveFlowResponse)
  SB_ROUTING_RPC(GetFlow, GetFlowRequest, Flow)
  SB_ROUTING_RPC(ListFlows, ListFlowsRequest, ListFlowsResponse)
  SB_ROUTING_RPC(ListFlowVersions, ListFlowVersionsRequest, ListFlowVersionsResponse)
  SB_ROUTING_RPC(ValidateFlow, ValidateFlowRequest, ValidateFlowResponse)
  SB_ROUTING_RPC(SaveRingGroup, RingGroup, RingGroup)
  SB_ROUTING_RPC(GetRingGroup, GetByIdRequest, RingGroup)
  SB_ROUTING_RPC(ListRingGroups, ListRequest, ListRingGroupsResponse)
  SB_ROUTING_RPC(DeleteRingGroup, GetByIdRequest, DeleteResponse)
  SB_ROUTING_RPC(SaveVoicemailBox, VoicemailBox, VoicemailBox)
  SB_ROUTING_RPC(GetVoicemailBox, GetByIdRequest, VoicemailBox)
  SB_ROUTING_RPC(ListVoicemailBoxes, ListRequest, ListVoicemailBoxesResponse)
  SB_ROUTING_RPC(DeleteVoicemailBox, GetByIdRequest, DeleteResponse)
  SB_ROUTING_RPC(SaveSchedule, NamedSchedule, NamedSchedule)
  SB_ROUTING_RPC(GetSchedule, GetByIdRequest, NamedSchedule)
  SB_ROUTING_RPC(ListSchedules, ListRequest, ListSchedulesResponse)
  SB_ROUTING_RPC(CheckSchedule, CheckScheduleRequest, CheckScheduleResponse)
  SB_ROUTING_RPC(SaveOnCallRotation, NamedRotation, NamedRotation)
  SB_ROUTING_RPC(GetOnCallRotation, GetByIdRequest, NamedRotation)
  SB_ROUTING_RPC(ListOnCallRotations, ListRequest, ListOnCallRotationsResponse)
  SB_ROUTING_RPC(WhoIsOnCall, WhoIsOnCallRequest, WhoIsOnCallResponse)
  SB_ROUTING_RPC(SimulateCall, SimulateCallRequest, SimulateCallResponse)
  SB_ROUTING_RPC(HandleCallEvent, HandleCallEventRequest, HandleCallEventResponse)
  SB_ROUTING_RPC(ListCalls, ListCallsRequest, ListCallsResponse)
  SB_ROUTING_RPC(GetCall, GetCallRequest, CallRecord)
  SB_ROUTING_RPC(AddCallNote, AddCallNoteRequest, CallNote)
  SB_ROUTING_RPC(PlaceCall, PlaceCallRequest, PlaceCallResponse)
  SB_ROUTING_RPC(TransferCall, TransferCallRequest, CallRecord)
  SB_ROUTING_RPC(StartCallRecording, CallRecordingRequest, CallRecord)
  SB_ROUTING_RPC(StopCallRecording, CallRecordingRequest, CallRecord)
  SB_ROUTING_RPC(HoldCall, LiveCallRequest, CallRecord)
  SB_ROUTING_RPC(ResumeCall, LiveCallRequest, CallRecord)
  SB_ROUTING_RPC(AddParticipant, AddParticipantRequest, CallRecord)
  SB_ROUTING_RPC(RemoveParticipant, RemoveParticipantRequest, CallRecord)
  SB_ROUTING_RPC(StartWarmTransfer, AddParticipantRequest, CallRecord)
  SB_ROUTING_RPC(CompleteWarmTransfer, LiveCallRequest, CallRecord)
  SB_ROUTING_RPC(CancelWarmTransfer, LiveCallRequest, CallRecord)
  SB_ROUTING_RPC(GetRecordingPolicy, GetRecordingPolicyRequest, RecordingPolicyView)
  SB_ROUTING_RPC(SetRecordingPolicy, RecordingPolicy, RecordingPolicyView)
#undef SB_ROUTING_RPC

 private:
  RoutingCore& core_;
};

}  // namespace switchboard::routing
