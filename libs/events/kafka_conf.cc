#include "libs/events/kafka_conf.h"

#include "absl/strings/str_cat.h"

namespace switchboard::events::internal {

absl::Status ApplyKafkaSettings(
    rd_kafka_conf_t* conf, const std::vector<std::pair<std::string, std::string>>& defaults,
    const std::map<std::string, std::string>& overrides, absl::string_view what) {
  char err[512];
  auto apply = [&](const std::string& key, const std::string& value) -> absl::Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("kafka ", what, " setting '", key, "': ", err));
    }
    return absl::OkStatus();
  };
  for (const auto& [key, value] : defaults) {
    if (absl::Status s = apply(key, value); !s.ok()) return s;
  }
  for (const auto& [key, value] : overrides) {
    if (absl::Status s = apply(key, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace switchboard::events::internal
