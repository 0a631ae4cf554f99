// The ingest consumer's handler: carrier.v1 RecordingReady → a recording, calls.v1
// VoicemailLeft → a voicemail, both through MediaCore::Ingest inside the IdempotentConsumer's
// transaction (so the row, the outbox event and processed_events commit together). Other event
// types are ignored (OK). Idempotent twice over: processed_events on the event id, and the
// (company, provider recording id) unique key for redeliveries under a new event id.
//
// Errors: kInvalidArgument for bad audio / missing fields (the consumer retries then
// dead-letters the event), fetch/blob/database errors unchanged (retried).
#pragma once

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "services/media/media_core.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::media {

// The IngestRequest for an event, or nullopt when the event is not for media.
std::optional<IngestRequest> IngestRequestFromEvent(const events::v1::Event& event);

absl::Status HandleIngestEvent(MediaCore& core, pqxx::work& tx, const events::v1::Event& event);

}  // namespace switchboard::media
