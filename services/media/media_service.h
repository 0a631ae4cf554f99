// gRPC adapter for switchboard.media.v1.Media: principal from metadata → MediaCore →
// ToGrpcStatus. No rules or SQL here. Thread-safe (MediaCore is).
#pragma once

#include "services/media/media_core.h"
#include "switchboard/media/v1/media.grpc.pb.h"

namespace switchboard::media {

class MediaService final : public v1::Media::Service {
 public:
  explicit MediaService(MediaCore& core) : core_(core) {}

  grpc::Status UploadGreeting(grpc::ServerContext* context,
                              grpc::ServerReader<v1::UploadChunk>* reader,
                              v1::Greeting* response) override;
  grpc::Status ImportVoicemail(grpc::ServerContext* context,
                               grpc::ServerReader<v1::UploadChunk>* reader,
                               v1::Voicemail* response) override;
  grpc::Status GetGreetingUrl(grpc::ServerContext* context,
                              const v1::GetGreetingUrlRequest* request,
                              v1::GetGreetingUrlResponse* response) override;
  grpc::Status GetPlaybackUrl(grpc::ServerContext* context,
                              const v1::GetPlaybackUrlRequest* request,
                              v1::GetPlaybackUrlResponse* response) override;
  grpc::Status ListVoicemails(grpc::ServerContext* context,
                              const v1::ListVoicemailsRequest* request,
                              v1::ListVoicemailsResponse* response) override;
  grpc::Status GetUnreadCounts(grpc::ServerContext* context,
                               const v1::GetUnreadCountsRequest* request,
                               v1::GetUnreadCountsResponse* response) override;
  grpc::Status MarkVoicemail(grpc::ServerContext* context, const v1::MarkVoicemailRequest* request,
                             v1::Voicemail* response) override;
  grpc::Status MoveVoicemail(grpc::ServerContext* context, const v1::MoveVoicemailRequest* request,
                             v1::Voicemail* response) override;
  grpc::Status DeleteVoicemail(grpc::ServerContext* context,
                               const v1::DeleteVoicemailRequest* request,
                               v1::DeleteVoicemailResponse* response) override;
  grpc::Status SetVoicemailBox(grpc::ServerContext* context,
                               const v1::SetVoicemailBoxRequest* request,
                               v1::SetVoicemailBoxResponse* response) override;
  grpc::Status ListRecordings(grpc::ServerContext* context,
                              const v1::ListRecordingsRequest* request,
                              v1::ListRecordingsResponse* response) override;
  grpc::Status SetLegalHold(grpc::ServerContext* context, const v1::SetLegalHoldRequest* request,
                            v1::SetLegalHoldResponse* response) override;
  grpc::Status SetRetention(grpc::ServerContext* context, const v1::SetRetentionRequest* request,
                            v1::SetRetentionResponse* response) override;
  grpc::Status ListAccessLog(grpc::ServerContext* context,
                             const v1::ListAccessLogRequest* request,
                             v1::ListAccessLogResponse* response) override;
  grpc::Status RotateMasterKey(grpc::ServerContext* context,
                               const v1::RotateMasterKeyRequest* request,
                               v1::RotateMasterKeyResponse* response) override;
  grpc::Status ShredCompanyKey(grpc::ServerContext* context,
                               const v1::ShredCompanyKeyRequest* request,
                               v1::ShredCompanyKeyResponse* response) override;

 private:
  MediaCore& core_;
};

// Proto conversion (exposed for tests).
void VoicemailToProto(const Voicemail& in, v1::Voicemail* out);
void GreetingToProto(const Greeting& in, v1::Greeting* out);
void RecordingToProto(const Recording& in, v1::Recording* out);

}  // namespace switchboard::media
