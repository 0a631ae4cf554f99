// Fakes of the routing service's ports (service_ports.h) and helpers building carrier events,
// for the service tests. Thread-safe enough for the tests (mutex-guarded maps).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/routing/demo_flow.h"
#include "services/routing/service_ports.h"
#include "switchboard/carrier/v1/carrier.pb.h"

namespace switchboard::routing::testing {

class FakeNumbers final : public NumberResolver {
 public:
  void Add(const std::string& e164, ResolvedLine line) {
    absl::MutexLock l(&mu_);
    lines_[e164] = std::move(line);
  }
  absl::StatusOr<ResolvedLine> Resolve(absl::string_view e164) override {
    absl::MutexLock l(&mu_);
    if (fail) return absl::UnavailableError("numbers down");
    auto it = lines_.find(std::string(e164));
    if (it == lines_.end()) return absl::NotFoundError("not an active line");
    return it->second;
  }
  bool fail = false;

  // Caller IDs: key "main" or "direct:<user id>".
  void AddCallerId(const std::string& key, CallerIdLine line) {
    absl::MutexLock l(&mu_);
    caller_ids_[key] = std::move(line);
  }
  absl::StatusOr<CallerIdLine> CallerId(absl::string_view, absl::string_view user_id,
                                        bool direct) override {
    absl::MutexLock l(&mu_);
    if (fail) return absl::UnavailableError("numbers down");
    auto it = caller_ids_.find(direct ? absl::StrCat("direct:", user_id) : "main");
    if (it == caller_ids_.end()) return absl::FailedPreconditionError("caller_id: no such line");
    return it->second;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, ResolvedLine> lines_;
  std::map<std::string, CallerIdLine> caller_ids_;
};

// The carrier's live-call operations: records each request (PlaceCall, InstructCall,
// Start/StopRecording); `on_place` runs before the answer (a webhook
// of the new call arriving before PlaceCall returned); `fail` answers that error.
class FakeCallControl final : public CallControl {
 public:
  struct Placed {
    std::string company_id, from, to, client_state, idempotency_key;
  };
  absl::StatusOr<PlacedLeg> PlaceCall(absl::string_view company_id, absl::string_view from,
                                      absl::string_view to, absl::string_view client_state,
                                      absl::string_view idempotency_key) override {
    {
      absl::MutexLock l(&mu_);
      placed.push_back({std::string(company_id), std::string(from), std::string(to),
                        std::string(client_state), std::string(idempotency_key)});
    }
    if (!fail.ok()) return fail;
    const std::string sid = absl::StrCat("CAplaced", placed.size());
    if (on_place) on_place(sid, std::string(client_state));
    return PlacedLeg{.call_id = sid, .session_id = session_id, .provider = "twilio"};
  }
  absl::Status InstructCall(absl::string_view company_id, absl::string_view call_id,
                            const carrier::v1::CallInstructions& instructions) override {
    absl::MutexLock l(&mu_);
    instructed.push_back({std::string(company_id), std::string(call_id), instructions});
    return fail;
  }
  absl::StatusOr<std::string> StartRecording(absl::string_view company_id,
                                             absl::string_view call_id) override {
    absl::MutexLock l(&mu_);
    recordings.push_back({std::string(company_id), std::string(call_id), "start"});
    if (!fail.ok()) return fail;
    return std::string("RE1");
  }
  absl::Status StopRecording(absl::string_view company_id, absl::string_view call_id) override {
    absl::MutexLock l(&mu_);
    recordings.push_back({std::string(company_id), std::string(call_id), "stop"});
    return fail;
  }
  absl::StatusOr<std::string> ConferenceControl(
      absl::string_view company_id,
      const carrier::v1::ConferenceControlRequest& request) override {
    absl::MutexLock l(&mu_);
    conference_ops.push_back({std::string(company_id), request});
    if (!fail.ok()) return fail;
    switch (request.action()) {
      case carrier::v1::ConferenceControlRequest::MOVE_BRIDGE:
        return bridged_leg;
      case carrier::v1::ConferenceControlRequest::ADD:
        return absl::StrCat("CAadd", conference_ops.size());
      default:
        return std::string();
    }
  }
  absl::Status HangupCall(absl::string_view company_id, absl::string_view call_id) override {
    absl::MutexLock l(&mu_);
    hung_up.push_back(std::string(call_id));
    return fail;
  }
  std::vector<std::string> hung_up;
  struct ConferenceOp {
    std::string company_id;
    carrier::v1::ConferenceControlRequest request;
  };
  std::vector<ConferenceOp> conference_ops;
  std::string bridged_leg = "CAagent";
  struct Instructed {
    std::string company_id, call_id;
    carrier::v1::CallInstructions instructions;
  };
  struct RecordingOp {
    std::string company_id, call_id, op;
  };
  absl::Mutex mu_;
  std::vector<Instructed> instructed;
  std::vector<RecordingOp> recordings;
  std::vector<Placed> placed;
  absl::Status fail = absl::OkStatus();
  std::string session_id;  // "" = a Twilio-like call (the key is the call id)
  std::function<void(const std::string& call_id, const std::string& client_state)> on_place;
};

class FakeDirectorySource final : public DirectorySource {
 public:
  absl::StatusOr<std::vector<DirectoryUser>> LoadUsers(absl::string_view company_id) override {
    absl::MutexLock l(&mu_);
    ++loads;
    if (fail) return absl::UnavailableError("identity down");
    auto it = users.find(std::string(company_id));
    if (it == users.end()) return std::vector<DirectoryUser>();
    return it->second;
  }
  absl::Mutex mu_;
  std::map<std::string, std::vector<DirectoryUser>> users;
  int loads = 0;
  bool fail = false;
};

class FakeCompanies final : public CompanyInfoSource {
 public:
  absl::StatusOr<CompanyInfo> Company(absl::string_view company_id) override {
    auto it = zones.find(std::string(company_id));
    if (it == zones.end()) return absl::NotFoundError("no such company");
    return CompanyInfo{.time_zone = it->second, .state = states[std::string(company_id)]};
  }
  std::map<std::string, std::string> zones;
  std::map<std::string, std::string> states;
};

inline DirectoryUser Person(const std::string& id, const std::string& first,
                            const std::string& last, const std::string& phone) {
  DirectoryUser u;
  u.id = id;
  u.first_name = first;
  u.last_name = last;
  u.forward_to = phone;
  u.softphone = absl::StrCat("sp-", id);
  return u;
}

// The Powers Electric people with short ids.
inline std::vector<DirectoryUser> PowersPeople() {
  return {Person("robert", "Robert", "Smith", "+19175558801"),
          Person("sarah", "Sarah", "Johnson", "+19175558802"),
          Person("mike", "Mike", "Torres", "+19175558822"),
          Person("jake", "Jake", "Williams", "+19175558804"),
          Person("tyler", "Tyler", "Chen", "+19175558805")};
}
inline DemoUsers PowersIds() { return DemoUsers{"robert", "sarah", "mike", "jake", "tyler"}; }

// Twilio-style events for call `sid`; `key` is the dedupe key.
inline carrier::v1::CarrierEvent TwilioEvent(const std::string& sid, const std::string& key) {
  carrier::v1::CarrierEvent e;
  e.set_provider(carrier::v1::TWILIO);
  e.mutable_ids()->set_call_sid(sid);
  e.set_dedupe_key(key);
  e.set_from("+12035550199");
  e.set_to("+12035550100");
  return e;
}
inline carrier::v1::CarrierEvent Incoming(const std::string& sid, const std::string& to) {
  carrier::v1::CarrierEvent e = TwilioEvent(sid, sid + "-incoming");
  e.set_to(to);
  e.mutable_call_incoming();
  return e;
}
inline carrier::v1::CarrierEvent Digits(const std::string& sid, const std::string& key,
                                        const std::string& digits) {
  carrier::v1::CarrierEvent e = TwilioEvent(sid, key);
  if (digits.empty()) {
    e.mutable_digits_gathered()->set_timed_out(true);
  } else {
    e.mutable_digits_gathered()->set_digits(digits);
  }
  return e;
}
inline carrier::v1::CarrierEvent Dial(const std::string& sid, const std::string& key,
                                      carrier::v1::DialStatus status, int duration_s = 0) {
  carrier::v1::CarrierEvent e = TwilioEvent(sid, key);
  e.mutable_dial_result()->set_status(status);
  e.mutable_dial_result()->set_duration_s(duration_s);
  return e;
}
inline carrier::v1::CarrierEvent Completed(const std::string& sid, const std::string& key,
                                           int duration_s = 42) {
  carrier::v1::CarrierEvent e = TwilioEvent(sid, key);
  e.mutable_call_completed()->set_reason(carrier::v1::CALL_END_COMPLETED);
  e.mutable_call_completed()->set_duration_s(duration_s);
  return e;
}
inline carrier::v1::CarrierEvent Recording(const std::string& sid, const std::string& key) {
  carrier::v1::CarrierEvent e = TwilioEvent(sid, key);
  e.mutable_recording_ready()->set_recording_id("RE" + sid);
  e.mutable_recording_ready()->set_url("https://media.example/" + sid + ".wav");
  e.mutable_recording_ready()->set_duration_s(12);
  return e;
}

}  // namespace switchboard::routing::testing
