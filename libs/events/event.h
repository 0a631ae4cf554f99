// The event envelope (switchboard.events.v1.Event) and topic names (ARCHITECTURE.md §4).
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "libs/common/clock.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::events {


// Topics: key = aggregate id so one aggregate stays ordered.
inline constexpr char kIdentityTopic[] = "identity.v1";
inline constexpr char kNumbersTopic[] = "numbers.v1";
inline constexpr char kCallsTopic[] = "calls.v1";
inline constexpr char kMediaTopic[] = "media.v1";
inline constexpr char kTranscriptsTopic[] = "transcripts.v1";
inline constexpr char kMessagesTopic[] = "messages.v1";
inline constexpr char kCarrierTopic[] = "carrier.v1";

// "<topic>.dlq": where a consumer dead-letters what it could not process.
std::string DlqTopic(absl::string_view topic);

// A new envelope with a fresh UUIDv7 `id` and `occurred_at` = clock.Now(); the caller sets the
// payload (and trace_id when known). Never fails.
v1::Event NewEvent(absl::string_view type, absl::string_view company_id,
                   absl::string_view aggregate_id, absl::string_view source, const Clock& clock);

}  // namespace switchboard::events
