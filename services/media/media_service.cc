#include "services/media/media_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"

namespace switchboard::media {

namespace {

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t us = absl::ToUnixMicros(t);
  out->set_seconds(us / 1000000);
  out->set_nanos(static_cast<int32_t>((us % 1000000) * 1000));
}

// The caller, or a gRPC error status for missing/invalid metadata.
absl::StatusOr<Caller> CallerOf(const grpc::ServerContext& context) {
  absl::StatusOr<rpc::Principal> p = rpc::PrincipalFromContext(context);
  if (!p.ok()) return p.status();
  return Caller{p->company_id, p->user_id, p->role};
}

grpc::Status Fail(const grpc::ServerContext& context, const absl::Status& status) {
  return rpc::ToGrpcStatus(status, rpc::RequestIdOf(context));
}

// Reads a client stream: the header first, then data up to kMaxAudioBytes.
absl::Status ReadUpload(grpc::ServerReader<v1::UploadChunk>* reader, v1::UploadHeader* header,
                        std::string* audio) {
  v1::UploadChunk chunk;
  bool have_header = false;
  while (reader->Read(&chunk)) {
    if (chunk.has_header()) {
      if (have_header || !audio->empty()) {
        return absl::InvalidArgumentError("header: must be sent once, first");
      }
      *header = chunk.header();
      have_header = true;
    } else {
      if (!have_header) return absl::InvalidArgumentError("header: must come first");
      if (audio->size() + chunk.data().size() > kMaxAudioBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("audio: larger than ", kMaxAudioBytes, " bytes"));
      }
      audio->append(chunk.data());
    }
  }
  if (!have_header) return absl::InvalidArgumentError("header: missing");
  if (audio->empty()) return absl::InvalidArgumentError("audio: empty");
  return absl::OkStatus();
}

}  // namespace

void VoicemailToProto(const Voicemail& in, v1::Voicemail* out) {
  out->set_id(in.id);
  out->set_box_id(in.box_id);
  out->set_owner_user_id(in.owner_user_id);
  out->set_caller(in.caller);
  out->set_call_id(in.call_id);
  out->set_duration_ms(in.duration_ms);
  out->set_format(in.format);
  out->set_size_bytes(in.size_bytes);
  out->set_sha256(in.sha256);
  out->set_read(in.read);
  out->set_folder(in.folder);
  out->set_legal_hold(in.legal_hold);
  SetTime(in.created_at, out->mutable_created_at());
  out->set_transcript(in.transcript);
}

void GreetingToProto(const Greeting& in, v1::Greeting* out) {
  out->set_id(in.id);
  out->set_content_hash(in.content_hash);
  out->set_source(in.source);
  out->set_text(in.text);
  out->set_voice(in.voice);
  out->set_language(in.language);
  out->set_duration_ms(in.duration_ms);
  out->set_size_bytes(in.size_bytes);
  SetTime(in.created_at, out->mutable_created_at());
}

void RecordingToProto(const Recording& in, v1::Recording* out) {
  out->set_id(in.id);
  out->set_call_id(in.call_id);
  out->set_call_key(in.call_key);
  out->set_provider(in.provider);
  out->set_provider_recording_id(in.provider_recording_id);
  out->set_format(in.format);
  out->set_duration_ms(in.duration_ms);
  out->set_size_bytes(in.size_bytes);
  out->set_sha256(in.sha256);
  out->set_legal_hold(in.legal_hold);
  SetTime(in.created_at, out->mutable_created_at());
}

grpc::Status MediaService::UploadGreeting(grpc::ServerContext* context,
                                          grpc::ServerReader<v1::UploadChunk>* reader,
                                          v1::Greeting* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  v1::UploadHeader header;
  std::string audio;
  if (absl::Status s = ReadUpload(reader, &header, &audio); !s.ok()) return Fail(*context, s);
  absl::StatusOr<Greeting> g = core_.UploadGreeting(*caller, header.name(), audio);
  if (!g.ok()) return Fail(*context, g.status());
  GreetingToProto(*g, response);
  return grpc::Status::OK;
}

grpc::Status MediaService::ImportVoicemail(grpc::ServerContext* context,
                                           grpc::ServerReader<v1::UploadChunk>* reader,
                                           v1::Voicemail* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  v1::UploadHeader header;
  std::string audio;
  if (absl::Status s = ReadUpload(reader, &header, &audio); !s.ok()) return Fail(*context, s);
  IngestRequest request;
  request.provider_recording_id = header.import_id();
  request.box_id = header.box_id();
  request.caller = header.caller();
  request.call_id = header.call_id();
  absl::StatusOr<Voicemail> vm = core_.ImportVoicemail(*caller, request, audio);
  if (!vm.ok()) return Fail(*context, vm.status());
  VoicemailToProto(*vm, response);
  return grpc::Status::OK;
}

grpc::Status MediaService::GetGreetingUrl(grpc::ServerContext* context,
                                          const v1::GetGreetingUrlRequest* request,
                                          v1::GetGreetingUrlResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::StatusOr<std::pair<Greeting, SignedUrl>> result;
  switch (request->greeting_case()) {
    case v1::GetGreetingUrlRequest::kGreetingId:
      result = core_.GreetingUrlForId(*caller, request->greeting_id());
      break;
    case v1::GetGreetingUrlRequest::kText:
      result = core_.GreetingUrlForText(*caller, request->text(), request->voice(),
                                        request->language());
      break;
    default:
      return Fail(*context, absl::InvalidArgumentError("greeting: give greeting_id or text"));
  }
  if (!result.ok()) return Fail(*context, result.status());
  GreetingToProto(result->first, response->mutable_greeting());
  response->set_url(result->second.url);
  SetTime(result->second.expires_at, response->mutable_expires_at());
  return grpc::Status::OK;
}

grpc::Status MediaService::GetPlaybackUrl(grpc::ServerContext* context,
                                          const v1::GetPlaybackUrlRequest* request,
                                          v1::GetPlaybackUrlResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::StatusOr<SignedUrl> url;
  switch (request->item_case()) {
    case v1::GetPlaybackUrlRequest::kRecordingId:
      url = core_.PlaybackUrl(*caller, ItemKind::kRecording, request->recording_id());
      break;
    case v1::GetPlaybackUrlRequest::kVoicemailId:
      url = core_.PlaybackUrl(*caller, ItemKind::kVoicemail, request->voicemail_id());
      break;
    default:
      return Fail(*context, absl::InvalidArgumentError("item: give recording_id or voicemail_id"));
  }
  if (!url.ok()) return Fail(*context, url.status());
  response->set_url(url->url);
  response->set_link_id(url->link_id);
  SetTime(url->expires_at, response->mutable_expires_at());
  return grpc::Status::OK;
}

grpc::Status MediaService::ListVoicemails(grpc::ServerContext* context,
                                          const v1::ListVoicemailsRequest* request,
                                          v1::ListVoicemailsResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  VoicemailQuery q;
  switch (request->scope()) {
    case v1::ListVoicemailsRequest::SCOPE_UNSPECIFIED:
    case v1::ListVoicemailsRequest::SCOPE_USER: q.scope = VoicemailQuery::Scope::kUser; break;
    case v1::ListVoicemailsRequest::SCOPE_BOX: q.scope = VoicemailQuery::Scope::kBox; break;
    case v1::ListVoicemailsRequest::SCOPE_TEAM: q.scope = VoicemailQuery::Scope::kTeam; break;
    default: return Fail(*context, absl::InvalidArgumentError("scope: unknown value"));
  }
  q.user_id = request->user_id();
  q.box_id = request->box_id();
  q.unread_only = request->unread_only();
  q.folder = request->folder();
  q.page_size = request->page_size();
  q.page_token = request->page_token();
  absl::StatusOr<Page<Voicemail>> page = core_.ListVoicemails(*caller, q);
  if (!page.ok()) return Fail(*context, page.status());
  for (const Voicemail& vm : page->items) VoicemailToProto(vm, response->add_voicemails());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status MediaService::GetUnreadCounts(grpc::ServerContext* context,
                                           const v1::GetUnreadCountsRequest* /*request*/,
                                           v1::GetUnreadCountsResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::StatusOr<UnreadCounts> counts = core_.GetUnreadCounts(*caller);
  if (!counts.ok()) return Fail(*context, counts.status());
  response->set_mine(counts->mine);
  response->set_team(counts->team);
  for (const auto& [box, n] : counts->by_box) (*response->mutable_by_box())[box] = n;
  return grpc::Status::OK;
}

grpc::Status MediaService::MarkVoicemail(grpc::ServerContext* context,
                                         const v1::MarkVoicemailRequest* request,
                                         v1::Voicemail* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  if (request->voicemail_id().empty()) {
    return Fail(*context, absl::InvalidArgumentError("voicemail_id: must not be empty"));
  }
  absl::StatusOr<Voicemail> vm = core_.MarkVoicemail(*caller, request->voicemail_id(),
                                                     request->read());
  if (!vm.ok()) return Fail(*context, vm.status());
  VoicemailToProto(*vm, response);
  return grpc::Status::OK;
}

grpc::Status MediaService::MoveVoicemail(grpc::ServerContext* context,
                                         const v1::MoveVoicemailRequest* request,
                                         v1::Voicemail* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  if (request->voicemail_id().empty()) {
    return Fail(*context, absl::InvalidArgumentError("voicemail_id: must not be empty"));
  }
  absl::StatusOr<Voicemail> vm = core_.MoveVoicemail(*caller, request->voicemail_id(),
                                                     request->box_id(), request->folder());
  if (!vm.ok()) return Fail(*context, vm.status());
  VoicemailToProto(*vm, response);
  return grpc::Status::OK;
}

grpc::Status MediaService::DeleteVoicemail(grpc::ServerContext* context,
                                           const v1::DeleteVoicemailRequest* request,
                                           v1::DeleteVoicemailResponse* /*response*/) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  if (request->voicemail_id().empty()) {
    return Fail(*context, absl::InvalidArgumentError("voicemail_id: must not be empty"));
  }
  absl::Status s = core_.DeleteVoicemail(*caller, request->voicemail_id());
  return s.ok() ? grpc::Status::OK : Fail(*context, s);
}

grpc::Status MediaService::SetVoicemailBox(grpc::ServerContext* context,
                                           const v1::SetVoicemailBoxRequest* request,
                                           v1::SetVoicemailBoxResponse* /*response*/) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::Status s = core_.SetVoicemailBox(*caller, request->box_id(), request->owner_user_id());
  return s.ok() ? grpc::Status::OK : Fail(*context, s);
}

grpc::Status MediaService::ListRecordings(grpc::ServerContext* context,
                                          const v1::ListRecordingsRequest* request,
                                          v1::ListRecordingsResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::StatusOr<Page<Recording>> page = core_.ListRecordings(
      *caller, request->call_id(), request->page_size(), request->page_token());
  if (!page.ok()) return Fail(*context, page.status());
  for (const Recording& r : page->items) RecordingToProto(r, response->add_recordings());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status MediaService::SetLegalHold(grpc::ServerContext* context,
                                        const v1::SetLegalHoldRequest* request,
                                        v1::SetLegalHoldResponse* /*response*/) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::Status s;
  switch (request->item_case()) {
    case v1::SetLegalHoldRequest::kRecordingId:
      s = core_.SetLegalHold(*caller, ItemKind::kRecording, request->recording_id(),
                             request->hold());
      break;
    case v1::SetLegalHoldRequest::kVoicemailId:
      s = core_.SetLegalHold(*caller, ItemKind::kVoicemail, request->voicemail_id(),
                             request->hold());
      break;
    default:
      s = absl::InvalidArgumentError("item: give recording_id or voicemail_id");
  }
  return s.ok() ? grpc::Status::OK : Fail(*context, s);
}

grpc::Status MediaService::SetRetention(grpc::ServerContext* context,
                                        const v1::SetRetentionRequest* request,
                                        v1::SetRetentionResponse* /*response*/) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::Status s = core_.SetRetention(*caller, request->retention_days());
  return s.ok() ? grpc::Status::OK : Fail(*context, s);
}

grpc::Status MediaService::ListAccessLog(grpc::ServerContext* context,
                                         const v1::ListAccessLogRequest* request,
                                         v1::ListAccessLogResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::StatusOr<Page<AccessLogEntry>> page = core_.ListAccessLog(
      *caller, request->item_id(), request->page_size(), request->page_token());
  if (!page.ok()) return Fail(*context, page.status());
  for (const AccessLogEntry& e : page->items) {
    v1::AccessLogEntry* out = response->add_entries();
    out->set_seq(e.seq);
    SetTime(e.at, out->mutable_at());
    out->set_actor_user_id(e.actor_user_id);
    out->set_actor_role(e.actor_role);
    out->set_action(e.action);
    out->set_item_kind(e.item_kind);
    out->set_item_id(e.item_id);
    out->set_link_id(e.link_id);
    out->set_peer(e.peer);
    out->set_detail(e.detail);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status MediaService::RotateMasterKey(grpc::ServerContext* context,
                                           const v1::RotateMasterKeyRequest* /*request*/,
                                           v1::RotateMasterKeyResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::StatusOr<envelope::RewrapStats> stats = core_.RotateMasterKey(*caller);
  if (!stats.ok()) return Fail(*context, stats.status());
  response->set_rewrapped(stats->rewrapped);
  response->set_skipped(stats->skipped);
  response->set_master_key_id(core_.active_master_key_id());
  return grpc::Status::OK;
}

grpc::Status MediaService::ShredCompanyKey(grpc::ServerContext* context,
                                           const v1::ShredCompanyKeyRequest* request,
                                           v1::ShredCompanyKeyResponse* /*response*/) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return Fail(*context, caller.status());
  absl::Status s = core_.ShredCompanyKey(*caller, request->confirm_company_id());
  return s.ok() ? grpc::Status::OK : Fail(*context, s);
}

}  // namespace switchboard::media
