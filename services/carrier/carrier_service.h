// gRPC adapter of switchboard.carrier.v1.Carrier: reads the principal (rpc::PrincipalFromContext;
// its company selects the account), converts protos <-> core structs, calls CarrierCore and maps
// Status -> grpc::Status. No logic of its own. Thread-safe.
#pragma once

#include "services/carrier/core.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"

namespace switchboard::carrier {

class CarrierService final : public v1::Carrier::Service {
 public:
  explicit CarrierService(CarrierCore& core) : core_(core) {}

  grpc::Status SetCarrierAccount(grpc::ServerContext*, const v1::SetCarrierAccountRequest*,
                                 v1::CarrierAccount*) override;
  grpc::Status GetCarrierAccount(grpc::ServerContext*, const v1::GetCarrierAccountRequest*,
                                 v1::CarrierAccount*) override;
  grpc::Status SetStaticInstructions(grpc::ServerContext*, const v1::SetStaticInstructionsRequest*,
                                     v1::SetStaticInstructionsResponse*) override;
  grpc::Status SearchNumbers(grpc::ServerContext*, const v1::SearchNumbersRequest*,
                             v1::SearchNumbersResponse*) override;
  grpc::Status OrderNumber(grpc::ServerContext*, const v1::OrderNumberRequest*,
                           v1::OrderedNumber*) override;
  grpc::Status UpdateNumberWebhooks(grpc::ServerContext*, const v1::UpdateNumberWebhooksRequest*,
                                    v1::UpdateNumberWebhooksResponse*) override;
  grpc::Status ReleaseNumber(grpc::ServerContext*, const v1::ReleaseNumberRequest*,
                             v1::ReleaseNumberResponse*) override;
  grpc::Status CreatePortOrder(grpc::ServerContext*, const v1::CreatePortOrderRequest*,
                               v1::PortOrder*) override;
  grpc::Status GetPortOrder(grpc::ServerContext*, const v1::GetPortOrderRequest*,
                            v1::PortOrder*) override;
  grpc::Status PlaceCall(grpc::ServerContext*, const v1::PlaceCallRequest*,
                         v1::PlacedCall*) override;
  grpc::Status ModifyCall(grpc::ServerContext*, const v1::ModifyCallRequest*,
                          v1::ModifyCallResponse*) override;
  grpc::Status StartRecording(grpc::ServerContext*, const v1::StartRecordingRequest*,
                              v1::StartRecordingResponse*) override;
  grpc::Status StopRecording(grpc::ServerContext*, const v1::StopRecordingRequest*,
                             v1::StopRecordingResponse*) override;
  grpc::Status ConferenceControl(grpc::ServerContext*, const v1::ConferenceControlRequest*,
                                 v1::ConferenceControlResponse*) override;
  grpc::Status SendMessage(grpc::ServerContext*, const v1::SendMessageRequest*,
                           v1::SentMessage*) override;
  grpc::Status FetchRecording(grpc::ServerContext*, const v1::FetchRecordingRequest*,
                              grpc::ServerWriter<v1::RecordingChunk>*) override;

 private:
  CarrierCore& core_;
};

}  // namespace switchboard::carrier
