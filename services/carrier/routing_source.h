// InstructionSource backed by routing.HandleCallEvent (ARCHITECTURE.md §3 step 3): every call
// event goes to the routing service over gRPC with a short deadline; its answer is the call's
// current instruction set (contract in core.h).
//
// When routing cannot answer (deadline exceeded, unavailable, any error other than NOT_FOUND),
// the caller is never left in silence: the answer is the fallback voicemail set (an apology,
// Record, a goodbye, Hangup; id "fallback-voicemail"), and the reason is logged and counted in
// `carrier_routing_fallbacks_total{code}`. Once a call runs the fallback set it keeps it
// (routing is not asked again for that call's later events, so a recovered routing cannot cut
// a message off mid-recording). The recording of a fallback voicemail is published like any
// other (carrier.v1 recording_ready, company and call ids set), so it is not lost.
//
// routing's `replayed` is passed on (CallEventAnswer, core.h); the fallback and the unmanaged
// sets are never replayed. An empty answer from routing (no instructions: the call ended, or
// routing has nothing for it) is kNotFound. Numbers routing does not manage (HandleCallEvent NOT_FOUND on the first event)
// are answered by `unmanaged` when given (the per-number static sets), and a call running one of
// its sets stays on it. Thread-safe: one channel, shared by the listener threads.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "libs/metrics/registry.h"
#include "services/carrier/core.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::carrier {

inline constexpr char kFallbackInstructionsId[] = "fallback-voicemail";

struct RoutingSourceOptions {
  absl::Duration deadline = absl::Milliseconds(1500);
  std::string fallback_message =
      "We're sorry, we cannot connect your call right now. Please leave a message after the "
      "tone, and we will call you back.";
  std::string fallback_goodbye = "Thank you. Goodbye.";
  int fallback_max_length_s = 180;
};

// The fallback voicemail set (also what a test compares against).
CallInstructions FallbackVoicemail(const RoutingSourceOptions& options);

class RoutingInstructionSource final : public InstructionSource {
 public:
  // `unmanaged` may be null; not owned, must outlive this source.
  RoutingInstructionSource(std::unique_ptr<routing::v1::Routing::StubInterface> stub,
                           metrics::Registry& registry, RoutingSourceOptions options = {},
                           InstructionSource* unmanaged = nullptr);

  absl::StatusOr<CallEventAnswer> ForCallEvent(absl::string_view company_id,
                                               const CarrierEvent& event,
                                               absl::string_view current_instructions_id) override;

 private:
  CallEventAnswer Fallback(absl::string_view company_id, const CarrierEvent& event,
                            const absl::Status& why);

  std::unique_ptr<routing::v1::Routing::StubInterface> stub_;
  metrics::Registry& registry_;
  RoutingSourceOptions options_;
  InstructionSource* unmanaged_;
};

}  // namespace switchboard::carrier
