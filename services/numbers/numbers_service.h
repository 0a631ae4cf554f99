// NumbersService: the gRPC adapter of switchboard.numbers.v1.Numbers over NumbersCore.
// Translates, checks the caller's role, delegates, maps the Status (ToGrpcStatus with the
// request id). Authorisation: every RPC needs a principal (x-sb-company-id, x-sb-role);
// changes (provision, line settings, assignment, flows, release, port requests) need role
// owner, admin or service (PERMISSION_DENIED otherwise); SetCallerIdPreference may also be
// called by the user for themself; ResolveNumber is for role service only (it answers across
// companies). Thread-safe (the core is).
#pragma once

#include "services/numbers/numbers_core.h"
#include "switchboard/numbers/v1/numbers.grpc.pb.h"

namespace switchboard::numbers {

class NumbersService final : public v1::Numbers::Service {
 public:
  explicit NumbersService(NumbersCore& core) : core_(core) {}

#define SB_NUMBERS_RPC(Method, Request, Response)                                \
  grpc::Status Method(grpc::ServerContext* context, const v1::Request* request, \
                      v1::Response* response) override;
  SB_NUMBERS_RPC(SearchNumbers, SearchNumbersRequest, SearchNumbersResponse)
  SB_NUMBERS_RPC(ProvisionNumber, ProvisionNumberRequest, Number)
  SB_NUMBERS_RPC(GetNumber, GetNumberRequest, Number)
  SB_NUMBERS_RPC(ListNumbers, ListNumbersRequest, ListNumbersResponse)
  SB_NUMBERS_RPC(UpdateLine, UpdateLineRequest, Number)
  SB_NUMBERS_RPC(AssignLine, AssignLineRequest, Number)
  SB_NUMBERS_RPC(UnassignLine, UnassignLineRequest, Number)
  SB_NUMBERS_RPC(SetLineFlow, SetLineFlowRequest, Number)
  SB_NUMBERS_RPC(ReleaseNumber, ReleaseNumberRequest, Number)
  SB_NUMBERS_RPC(CreatePortRequest, CreatePortRequestRequest, PortRequest)
  SB_NUMBERS_RPC(SubmitPortRequest, SubmitPortRequestRequest, PortRequest)
  SB_NUMBERS_RPC(GetPortRequest, GetPortRequestRequest, PortRequest)
  SB_NUMBERS_RPC(ListPortRequests, ListPortRequestsRequest, ListPortRequestsResponse)
  SB_NUMBERS_RPC(CancelPortRequest, CancelPortRequestRequest, PortRequest)
  SB_NUMBERS_RPC(ResolveNumber, ResolveNumberRequest, ResolvedNumber)
  SB_NUMBERS_RPC(SetCallerIdPreference, SetCallerIdPreferenceRequest, CallerIdPreference)
  SB_NUMBERS_RPC(GetOutboundCallerId, GetOutboundCallerIdRequest, OutboundCallerId)
  SB_NUMBERS_RPC(CountNumbers, CountNumbersRequest, NumberCounts)
#undef SB_NUMBERS_RPC

 private:
  NumbersCore& core_;
};

}  // namespace switchboard::numbers
