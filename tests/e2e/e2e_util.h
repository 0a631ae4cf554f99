// Helpers shared by the Catch2 e2e tests that drive the whole stack (tests/support/stack.h):
// gRPC calls with a principal, the emulator's scenario steps, routing's call log and calls.v1.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "libs/grpc/principal.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "switchboard/events/v1/event.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::e2e {

// The last `n` characters of a process log, for failure messages.
inline std::string Tail(const std::string& s, size_t n = 12000) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

// Starts `binary` with `env` added to the test's environment; the test fails if it cannot.
inline std::unique_ptr<testing::ServiceProcess> StartProcess(
    const char* binary, std::vector<std::pair<std::string, std::string>> env) {
  auto process = testing::ServiceProcess::Start({.binary = binary, .env = std::move(env)});
  REQUIRE(process.ok());
  return std::move(*process);
}

// `field` of the first log line containing `line` (e.g. the port a service bound), waiting up
// to 90 s; the test fails with the process's output if it never comes.
inline std::string LogField(testing::ServiceProcess& process, absl::string_view line,
                            absl::string_view field) {
  absl::StatusOr<std::string> logged = process.WaitForLogLine(line, absl::Seconds(90));
  INFO(process.Output());
  REQUIRE(logged.ok());
  absl::StatusOr<std::string> value = testing::JsonLogField(*logged, field);
  REQUIRE(value.ok());
  return *value;
}

// One unary RPC with the principal's metadata (none when company_id is empty), 30 s deadline.
template <typename Stub, typename Method, typename Request, typename Response>
grpc::Status Rpc(Stub& stub, Method method, const rpc::Principal& who, const Request& request,
                 Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!who.company_id.empty()) rpc::AttachPrincipal(ctx, who);
  return (stub.*method)(&ctx, request, response);
}

inline void RequireOk(const grpc::Status& status, const std::string& what) {
  INFO(what << ": " << status.error_message());
  REQUIRE(status.ok());
}

// The emulator's Dial (Twilio) / transfer (Telnyx) steps, in order.
inline std::vector<nlohmann::json> DialSteps(const nlohmann::json& steps) {
  std::vector<nlohmann::json> dials;
  for (const nlohmann::json& s : steps) {
    const std::string verb = s.value("verb", "");
    if (verb == "Dial" || verb == "transfer") dials.push_back(s);
  }
  return dials;
}

// A call log row's path, readable: "PATH_MENU [menu Main] PATH_KEY [...] ...".
inline std::string PathText(const routing::v1::CallRecord& row) {
  std::string out;
  for (const routing::v1::PathEntry& p : row.path()) {
    absl::StrAppend(&out, routing::v1::PathKind_Name(p.kind()), " [", p.text(), "] ");
  }
  return out;
}

// The call log id a calls.v1 event is about ("" for other events).
inline std::string CallIdOf(const events::v1::Event& e) {
  using E = events::v1::Event;
  switch (e.payload_case()) {
    case E::kCallStarted: return e.call_started().call_id();
    case E::kCallRouted: return e.call_routed().call_id();
    case E::kCallRinging: return e.call_ringing().call_id();
    case E::kCallAnswered: return e.call_answered().call_id();
    case E::kCallMissed: return e.call_missed().call_id();
    case E::kVoicemailLeft: return e.voicemail_left().call_id();
    case E::kCallEnded: return e.call_ended().call_id();
    default: return "";
  }
}

// The calls.v1 events of `topic` by call log id, read until each of `call_ids` has its
// call_ended (or `timeout` passed; the test then checks what arrived).
inline std::map<std::string, std::vector<events::v1::Event>> CallEvents(
    testing::KafkaTestTopic& topic, const std::vector<std::string>& call_ids,
    absl::Duration timeout = absl::Seconds(60)) {
  std::map<std::string, std::vector<events::v1::Event>> by_call;
  const absl::Time deadline = absl::Now() + timeout;
  size_t want = call_ids.size() * 4;
  while (true) {
    auto records = topic.ReadAll(topic.name(), std::max(deadline - absl::Now(), absl::Seconds(1)),
                                 want);
    REQUIRE(records.ok());
    by_call.clear();
    for (const auto& r : *records) {
      events::v1::Event ev;
      REQUIRE(ev.ParseFromString(r.value));
      const std::string id = CallIdOf(ev);
      if (!id.empty()) by_call[id].push_back(ev);
    }
    const bool all_ended = std::all_of(call_ids.begin(), call_ids.end(), [&](const auto& id) {
      const auto& events = by_call[id];
      return std::any_of(events.begin(), events.end(),
                         [](const events::v1::Event& ev) { return ev.has_call_ended(); });
    });
    if (all_ended || absl::Now() >= deadline) break;
    want = records->size() + 1;
  }
  return by_call;
}

}  // namespace switchboard::e2e
