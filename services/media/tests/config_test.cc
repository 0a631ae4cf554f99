#include "services/media/config.h"

#include <catch2/catch.hpp>

#include "absl/flags/reflection.h"

namespace switchboard::media {
namespace {

std::map<std::string, std::string> Good() {
  return {{"MEDIA_PG_DSN", "postgresql://u:p@127.0.0.1/db"},
          {"MEDIA_KAFKA_BROKERS", "127.0.0.1:9092"},
          {"MEDIA_MASTER_KEYS", "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
          {"MEDIA_ACTIVE_MASTER_KEY_ID", "k1"},
          {"MEDIA_PLAYBACK_SIGNING_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}};
}

TEST_CASE("LoadMediaConfig reads MEDIA_* and validates", "[media][config]") {
  absl::FlagSaver saver;
  SECTION("defaults plus required settings") {
    absl::StatusOr<MediaConfig> c = LoadMediaConfig(EnvFromMap(Good()));
    REQUIRE(c.ok());
    CHECK(c->grpc_address == "0.0.0.0:50055");
    CHECK(c->admin_port == 9105);
    CHECK(c->playback_port == 8081);
    CHECK(c->blob_store == "fs");
    CHECK(c->playback_url_ttl == absl::Hours(1));
    CHECK(c->default_retention_days == 90);
    CHECK(c->playback_signing_key.size() == 32);
  }
  SECTION("bad values name the key and never echo secrets") {
    struct Case {
      std::string var, value, key;
    };
    for (const Case& k : std::vector<Case>{
             {"MEDIA_PG_DSN", "", "pg_dsn"},
             {"MEDIA_BLOB_STORE", "tape", "blob_store"},
             {"MEDIA_PLAYBACK_SIGNING_KEY", "c2VjcmV0LXRvby1zaG9ydA==", "playback_signing_key"},
             {"MEDIA_PUBLIC_BASE_URL", "media.example.com", "public_base_url"},
             {"MEDIA_DEFAULT_RETENTION_DAYS", "0", "default_retention_days"}}) {
      absl::FlagSaver inner;
      auto env = Good();
      env[k.var] = k.value;
      absl::StatusOr<MediaConfig> c = LoadMediaConfig(EnvFromMap(env));
      INFO(k.var);
      REQUIRE_FALSE(c.ok());
      CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(c.status().message()).find(k.key) != std::string::npos);
      CHECK(std::string(c.status().message()).find("c2VjcmV0") == std::string::npos);
    }
  }
  SECTION("s3 needs its endpoint, bucket and keys") {
    auto env = Good();
    env["MEDIA_BLOB_STORE"] = "s3";
    absl::StatusOr<MediaConfig> c = LoadMediaConfig(EnvFromMap(env));
    REQUIRE_FALSE(c.ok());
    CHECK(std::string(c.status().message()).find("s3_endpoint") != std::string::npos);
  }
}

}  // namespace
}  // namespace switchboard::media
