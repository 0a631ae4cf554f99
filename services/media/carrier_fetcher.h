// RecordingFetcher over the carrier service's FetchRecording (server streaming, 64 KiB chunks),
// authenticated as a sibling service of the company (x-sb-company-id, x-sb-role=service).
// The carrier re-fetches by recording id, so expired provider URLs (Telnyx: 10 min) do not
// matter. Thread-safe (gRPC stubs are).
#pragma once

#include <memory>

#include <grpcpp/channel.h>

#include "absl/time/time.h"
#include "services/media/media_core.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"

namespace switchboard::media {

class CarrierRecordingFetcher final : public RecordingFetcher {
 public:
  CarrierRecordingFetcher(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  // Carrier errors map by code (FromGrpcStatus): kNotFound, kUnavailable, ...; more than
  // max_bytes → kInvalidArgument "audio: larger than ..." (the stream is cancelled).
  absl::Status Fetch(absl::string_view company_id, absl::string_view ref, uint64_t max_bytes,
                     const std::function<absl::Status(absl::string_view)>& sink) override;

 private:
  std::unique_ptr<carrier::v1::Carrier::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace switchboard::media
