// Topic administration through the librdkafka Admin API (for startup jobs and test fixtures).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::events {

// Creates each missing topic with `partitions` partitions and `replication_factor` replicas and
// waits until the brokers' metadata lists them. Idempotent: TOPIC_ALREADY_EXISTS is success.
// Errors: kInvalidArgument (empty list/name, partitions < 1), kUnavailable (brokers unreachable or
// `timeout`), other codes mapped from the broker's error.
[[nodiscard]] absl::Status EnsureTopics(absl::string_view brokers,
                                        const std::vector<std::string>& topics, int partitions,
                                        int replication_factor = 1,
                                        absl::Duration timeout = absl::Seconds(30));

// Deletes the topics; UNKNOWN_TOPIC_OR_PART is success.
[[nodiscard]] absl::Status DeleteTopics(absl::string_view brokers,
                                        const std::vector<std::string>& topics,
                                        absl::Duration timeout = absl::Seconds(30));

}  // namespace switchboard::events
