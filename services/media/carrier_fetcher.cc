#include "services/media/carrier_fetcher.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"

namespace switchboard::media {

CarrierRecordingFetcher::CarrierRecordingFetcher(std::shared_ptr<grpc::Channel> channel,
                                                 absl::Duration timeout)
    : stub_(carrier::v1::Carrier::NewStub(std::move(channel))), timeout_(timeout) {}

absl::Status CarrierRecordingFetcher::Fetch(
    absl::string_view company_id, absl::string_view ref, uint64_t max_bytes,
    const std::function<absl::Status(absl::string_view)>& sink) {
  grpc::ClientContext context;
  rpc::AttachPrincipal(context, {.company_id = std::string(company_id), .role = "service"});
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  carrier::v1::FetchRecordingRequest request;
  request.set_recording(std::string(ref));
  std::unique_ptr<grpc::ClientReader<carrier::v1::RecordingChunk>> reader =
      stub_->FetchRecording(&context, request);
  carrier::v1::RecordingChunk chunk;
  uint64_t total = 0;
  absl::Status local;
  while (reader->Read(&chunk)) {
    total += chunk.data().size();
    if (total > max_bytes) {
      local = absl::InvalidArgumentError(absl::StrCat("audio: larger than ", max_bytes, " bytes"));
    } else {
      local = sink(chunk.data());
    }
    if (!local.ok()) {
      context.TryCancel();
      while (reader->Read(&chunk)) {
      }
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!local.ok()) return local;
  if (!status.ok()) {
    return Annotate(rpc::FromGrpcStatus(status), absl::StrCat("carrier FetchRecording '", ref, "'"));
  }
  return absl::OkStatus();
}

}  // namespace switchboard::media
