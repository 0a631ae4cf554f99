#include "services/media/ingest_consumer.h"

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"

namespace switchboard::media {

namespace {

const char* ProviderName(carrier::v1::Provider p) {
  switch (p) {
    case carrier::v1::TWILIO: return "twilio";
    case carrier::v1::TELNYX: return "telnyx";
    case carrier::v1::EMULATOR: return "emulator";
    default: return "carrier";
  }
}

}  // namespace

std::optional<IngestRequest> IngestRequestFromEvent(const events::v1::Event& event) {
  if (event.has_carrier_event() && event.carrier_event().has_recording_ready()) {
    const carrier::v1::CarrierEvent& ce = event.carrier_event();
    const carrier::v1::RecordingReady& rr = ce.recording_ready();
    IngestRequest r;
    r.kind = ItemKind::kRecording;
    r.company_id = event.company_id().empty() ? ce.company_id() : event.company_id();
    r.provider = ProviderName(ce.provider());
    r.provider_recording_id = rr.recording_id().empty() ? rr.url() : rr.recording_id();
    r.fetch_ref = r.provider_recording_id;
    r.call_key = !ce.ids().call_sid().empty() ? ce.ids().call_sid() : ce.ids().call_session_id();
    return r;
  }
  if (event.has_voicemail_left()) {
    const events::v1::VoicemailLeft& vm = event.voicemail_left();
    IngestRequest r;
    r.kind = ItemKind::kVoicemail;
    r.company_id = event.company_id();
    r.provider = "carrier";
    r.provider_recording_id = vm.recording_id().empty() ? vm.recording_url() : vm.recording_id();
    r.fetch_ref = r.provider_recording_id;
    r.call_id = vm.call_id();
    r.call_key = vm.call_key();
    r.box_id = vm.voicemail_box_id();
    if (vm.has_box_owner_user_id()) r.box_owner = vm.box_owner_user_id();
    r.caller = vm.from();
    return r;
  }
  return std::nullopt;
}

absl::Status HandleIngestEvent(MediaCore& core, pqxx::work& tx, const events::v1::Event& event) {
  std::optional<IngestRequest> request = IngestRequestFromEvent(event);
  if (!request.has_value()) return absl::OkStatus();
  absl::StatusOr<IngestResult> result = core.Ingest(tx, *request);
  if (!result.ok()) {
    log::Warn("media ingest failed", {{"event_id", event.id()},
                                      {"company_id", request->company_id},
                                      {"recording", request->provider_recording_id},
                                      {"error", result.status().ToString()}});
    return result.status();
  }
  log::Info(result->created ? "media stored" : "media already stored",
            {{"event_id", event.id()}, {"kind", ItemKindName(request->kind)},
             {"id", result->id}, {"recording", request->provider_recording_id}});
  return absl::OkStatus();
}

}  // namespace switchboard::media
