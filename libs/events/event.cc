#include "libs/events/event.h"

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"

namespace switchboard::events {

std::string DlqTopic(absl::string_view topic) { return absl::StrCat(topic, ".dlq"); }

v1::Event NewEvent(absl::string_view type, absl::string_view company_id,
                   absl::string_view aggregate_id, absl::string_view source, const Clock& clock) {
  const absl::Time now = clock.Now();
  v1::Event event;
  event.set_id(NewUuidV7(now));
  event.set_type(std::string(type));
  event.set_company_id(std::string(company_id));
  event.set_aggregate_id(std::string(aggregate_id));
  event.set_source(std::string(source));
  const int64_t nanos = absl::ToUnixNanos(now);
  int64_t seconds = nanos / 1'000'000'000;
  int64_t rem = nanos % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --seconds;
  }
  event.mutable_occurred_at()->set_seconds(seconds);
  event.mutable_occurred_at()->set_nanos(static_cast<int32_t>(rem));
  return event;
}

}  // namespace switchboard::events
