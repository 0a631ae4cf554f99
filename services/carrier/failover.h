// FailoverProvider: a CarrierProvider over a primary and an optional secondary carrier.
//
//   - PlaceCall and SendMessage go to the primary. When it fails with a retryable error
//     (IsRetryableCarrierError: kUnavailable = 5xx / refused / reset, kDeadlineExceeded =
//     timeout) the request is retried ONCE on the secondary, and the observer gets a
//     kFailover event. Non-retryable errors (bad number, opted-out recipient, ...) are returned
//     as they are: another carrier would refuse them too.
//   - A CircuitBreaker per provider: closed -> open after `failure_threshold` consecutive
//     retryable failures; while open the provider is skipped (straight to the other one, still
//     reported as kFailover with the cause "circuit open"); after `cooldown` it is half-open and
//     lets ONE trial request through: success closes it, failure re-opens it for another
//     cooldown. Breaker transitions are reported to the observer too. When every usable
//     provider's breaker is open the call fails with kUnavailable without any request.
//   - Idempotency: a PlaceCall/SendMessage with a non-empty idempotency_key is sent at most
//     once per key: a repeated request with the same key returns the first successful result
//     without contacting any carrier; a request arriving while the first is in flight waits
//     for it. Failed requests are not remembered (a retry after an error may send again).
//     The key -> result map keeps the `max_remembered_keys` most recent keys (FIFO eviction).
//     Caveat: a primary timeout may have been delivered by the carrier anyway; failing over on
//     kDeadlineExceeded trades that small duplicate risk for availability, as the issue asks.
//   - Live-call control (ModifyCall, Start/StopRecording, ConferenceControl) goes to the carrier
//     that placed the call: calls placed here on the secondary are remembered (bounded, in memory, like the
//     keys); any other call id goes to the primary. The service should persist
//     PlacedCall.provider for calls that must be controlled after a restart.
//   - Every other operation (numbers, porting, recordings) is delegated to the primary only:
//     those resources live on the carrier that owns them.
//
// Thread-safe. The providers, clock and observer must outlive this object; the observer is
// called without internal locks held, possibly from several threads at once.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "services/carrier/provider.h"

namespace switchboard::carrier {

struct CircuitBreakerOptions {
  int failure_threshold = 5;                 // consecutive retryable failures to open
  absl::Duration cooldown = absl::Seconds(30);  // open -> half-open
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };

// One provider's breaker. Thread-safe.
class CircuitBreaker {
 public:
  CircuitBreaker(CircuitBreakerOptions options, const Clock& clock);

  // True if a request may be sent now. In half-open state only one caller gets true until
  // Record() is called for it.
  bool Allow();
  // Records the outcome of an allowed request; returns the new state if it changed.
  std::optional<BreakerState> Record(bool success);
  BreakerState state() const;

 private:
  const CircuitBreakerOptions options_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  BreakerState state_ ABSL_GUARDED_BY(mu_) = BreakerState::kClosed;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
  bool trial_in_flight_ ABSL_GUARDED_BY(mu_) = false;
};

struct FailoverEvent {
  enum class Type {
    kFailover,       // request moved from `from_provider` to `to_provider`
    kBreakerOpened,  // `from_provider`'s breaker opened
    kBreakerClosed,  // `from_provider`'s breaker closed again after a successful trial
  };
  Type type = Type::kFailover;
  std::string operation;      // "place_call" | "send_message"
  std::string from_provider;  // name()
  std::string to_provider;    // name(); "" for breaker events
  absl::Status cause;         // the primary's error, or kUnavailable "circuit open"
  std::string idempotency_key;
};

using FailoverObserver = std::function<void(const FailoverEvent&)>;

struct FailoverOptions {
  CircuitBreakerOptions breaker;
  size_t max_remembered_keys = 10000;
};

class FailoverProvider final : public CarrierProvider {
 public:
  // `secondary` may be null (breaker and idempotency still apply to the primary).
  // `observer` may be null.
  FailoverProvider(CarrierProvider& primary, CarrierProvider* secondary, FailoverOptions options,
                   const Clock& clock, FailoverObserver observer);

  std::string name() const override;
  absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(const NumberSearch& search) override;
  absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view e164,
                                            const NumberWebhooks& webhooks) override;
  absl::Status UpdateNumberWebhooks(absl::string_view provider_number_id,
                                    const NumberWebhooks& webhooks) override;
  absl::Status ReleaseNumber(absl::string_view provider_number_id) override;
  absl::StatusOr<PortOrder> CreatePortOrder(const PortOrderRequest& request) override;
  absl::StatusOr<PortOrder> GetPortOrder(absl::string_view port_order_id) override;
  absl::StatusOr<PlacedCall> PlaceCall(const PlaceCallRequest& request) override;
  // As PlaceCall, with the request built for the provider that places it (its webhook URLs
  // follow that provider's wire format, so a Twilio↔Telnyx failover needs no explicit URLs).
  absl::StatusOr<PlacedCall> PlaceCall(
      const std::string& idempotency_key,
      const std::function<PlaceCallRequest(const CarrierProvider&)>& request_for);
  absl::Status ModifyCall(absl::string_view call_id,
                          const CallModification& modification) override;
  absl::StatusOr<std::string> StartRecording(absl::string_view call_id,
                                             absl::string_view status_callback_url) override;
  absl::Status StopRecording(absl::string_view call_id, absl::string_view recording_id) override;
  absl::StatusOr<SentMessage> SendMessage(const SendMessageRequest& request) override;
  // To the carrier that has request.call_id (like StartRecording); never failed over.
  absl::StatusOr<ConferenceResult> ConferenceControl(const ConferenceRequest& request) override;
  absl::StatusOr<RecordingMedia> FetchRecording(absl::string_view recording) override;

  BreakerState primary_breaker_state() const { return primary_breaker_.state(); }
  BreakerState secondary_breaker_state() const { return secondary_breaker_.state(); }

 private:
  template <typename Result>
  using Attempt = std::function<absl::StatusOr<Result>(CarrierProvider&)>;

  // Runs `attempt` on primary then (on a retryable error / open breaker) on secondary.
  // `served_by` (may be null) gets 0 (primary) or 1 (secondary) when a carrier answered.
  template <typename Result>
  absl::StatusOr<Result> WithFailover(absl::string_view operation, absl::string_view key,
                                      const Attempt<Result>& attempt, int* served_by);
  template <typename Result>
  absl::StatusOr<Result> Deduplicated(absl::string_view operation, const std::string& key,
                                      const Attempt<Result>& attempt, int* served_by);
  CarrierProvider& OwnerOf(absl::string_view call_id);
  void Notify(const FailoverEvent& event) const;
  void NotifyBreaker(std::optional<BreakerState> change, const CarrierProvider& provider,
                     absl::string_view operation) const;

  CarrierProvider& primary_;
  CarrierProvider* secondary_;
  const FailoverOptions options_;
  FailoverObserver observer_;
  CircuitBreaker primary_breaker_;
  CircuitBreaker secondary_breaker_;

  // Idempotency: key -> finished result, or in flight.
  struct Entry {
    bool done = false;
    std::optional<PlacedCall> call;
    std::optional<SentMessage> message;
  };
  absl::Mutex mu_;
  absl::CondVar cv_;  // signalled when an in-flight entry finishes or is dropped
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // finished keys, oldest first
  std::set<std::string> secondary_calls_ ABSL_GUARDED_BY(mu_);  // call ids placed on secondary
  std::deque<std::string> secondary_call_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::carrier
