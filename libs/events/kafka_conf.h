// Internal to libs/events: librdkafka configuration shared by the producer and the consumer.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace switchboard::events::internal {

// Sets `defaults`, then `overrides` (so callers can change any default) on `conf`. On a rejected
// setting destroys `conf` and returns kInvalidArgument naming `what` ("producer") and the key.
[[nodiscard]] absl::Status ApplyKafkaSettings(
    rd_kafka_conf_t* conf, const std::vector<std::pair<std::string, std::string>>& defaults,
    const std::map<std::string, std::string>& overrides, absl::string_view what);

}  // namespace switchboard::events::internal
