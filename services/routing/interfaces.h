// Ports of the routing core (engine.h, simulate.h, flow_validate.h): what the pure call engine
// asks of the outside world. Implementations: the service's (identity directory, Redis INCR,
// schedule.h/oncall.h glue, media URLs) and the in-memory ones of the dry run and the tests.
//
// Thread-safety: the engine calls these from the thread that runs it; an implementation shared
// by several engines (the service's) must be thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::routing {

// A user as routing sees it.
struct DirectoryUser {
  std::string id;
  std::string first_name;
  std::string last_name;
  std::string forward_to;        // E.164, may be empty
  std::string softphone;         // softphone identity (carrier "client"), may be empty
  bool dnd = false;              // do not disturb: skipped by groups and directory dialling
  bool online = true;            // offline users are skipped like DND ones
  std::string voicemail_box_id;  // the user's own box, may be empty

  std::string FullName() const;
};

// The company's users. FindUser: nullopt = no such user. Errors (UNAVAILABLE, ...) make the
// engine treat the user as unreachable; they never leave a caller in silence.
class Directory {
 public:
  virtual ~Directory() = default;
  virtual absl::StatusOr<std::optional<DirectoryUser>> FindUser(
      absl::string_view user_id) const = 0;
  virtual absl::StatusOr<std::vector<DirectoryUser>> ListUsers() const = 0;
};

// Business hours at an instant (see schedule.h for the evaluator the service glues in).
struct ScheduleAnswer {
  bool open = true;
  std::string reason;  // "weekly", "holiday", "override", ...
  std::string detail;  // "Thanksgiving Day"
};

// Schedules and rotations by id, evaluated in the company's time zone. An error on At() makes the
// engine treat the company as open (the business-hours menu); an error or empty user on OnCall()
// skips that member.
class ScheduleOracle {
 public:
  virtual ~ScheduleOracle() = default;
  virtual absl::StatusOr<ScheduleAnswer> At(absl::string_view schedule_id, absl::Time t) = 0;
  virtual absl::StatusOr<std::string> OnCall(absl::string_view rotation_id, absl::Time t) = 0;
};

// Round-robin counters, one per ring group: each call returns the next value (0, 1, 2, ...);
// the engine takes it modulo the eligible members. Live: Redis INCR shared by the replicas;
// dry run: in memory. An error starts at member 0.
class RoundRobin {
 public:
  virtual ~RoundRobin() = default;
  virtual absl::StatusOr<int64_t> Next(absl::string_view ring_group_id) = 0;
};

// Smart routing: the user a known caller is assigned to (nullopt = unknown caller).
class CallerMatcher {
 public:
  virtual ~CallerMatcher() = default;
  virtual absl::StatusOr<std::optional<std::string>> AssignedUser(absl::string_view from) = 0;
};

// Media references to playable URLs. An error falls back to the greeting's text.
class GreetingUrlResolver {
 public:
  virtual ~GreetingUrlResolver() = default;
  virtual absl::StatusOr<std::string> Url(absl::string_view audio_id) const = 0;
};

// No smart routing: every caller is unknown.
class NoCallerMatcher final : public CallerMatcher {
 public:
  absl::StatusOr<std::optional<std::string>> AssignedUser(absl::string_view) override {
    return std::optional<std::string>();
  }
};

// No media service: every audio reference is unresolvable (text is spoken instead).
class NoGreetingUrls final : public GreetingUrlResolver {
 public:
  absl::StatusOr<std::string> Url(absl::string_view audio_id) const override;
};

}  // namespace switchboard::routing
