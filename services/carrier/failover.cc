#include "services/carrier/failover.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace switchboard::carrier {

// ---- CircuitBreaker ---------------------------------------------------------------------------

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, const Clock& clock)
    : options_(options), clock_(clock) {}

bool CircuitBreaker::Allow() {
  absl::MutexLock lock(&mu_);
  switch (state_) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      if (clock_.Now() - opened_at_ < options_.cooldown) return false;
      state_ = BreakerState::kHalfOpen;
      trial_in_flight_ = true;
      return true;
    case BreakerState::kHalfOpen:
      if (trial_in_flight_) return false;
      trial_in_flight_ = true;
      return true;
  }
  return false;
}

std::optional<BreakerState> CircuitBreaker::Record(bool success) {
  absl::MutexLock lock(&mu_);
  if (success) {
    consecutive_failures_ = 0;
    trial_in_flight_ = false;
    if (state_ == BreakerState::kClosed) return std::nullopt;
    state_ = BreakerState::kClosed;
    return state_;
  }
  switch (state_) {
    case BreakerState::kHalfOpen:
      state_ = BreakerState::kOpen;
      opened_at_ = clock_.Now();
      trial_in_flight_ = false;
      return state_;
    case BreakerState::kClosed:
      if (++consecutive_failures_ < std::max(1, options_.failure_threshold)) return std::nullopt;
      state_ = BreakerState::kOpen;
      opened_at_ = clock_.Now();
      return state_;
    case BreakerState::kOpen:
      return std::nullopt;  // a request let through before the breaker opened
  }
  return std::nullopt;
}

BreakerState CircuitBreaker::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

// ---- FailoverProvider -------------------------------------------------------------------------

namespace {

void Store(std::optional<PlacedCall>& call, std::optional<SentMessage>&, const PlacedCall& r) {
  call = r;
}
void Store(std::optional<PlacedCall>&, std::optional<SentMessage>& message, const SentMessage& r) {
  message = r;
}
PlacedCall Load(const std::optional<PlacedCall>& call, const std::optional<SentMessage>&,
                PlacedCall*) {
  return *call;
}
SentMessage Load(const std::optional<PlacedCall>&, const std::optional<SentMessage>& message,
                 SentMessage*) {
  return *message;
}

}  // namespace

FailoverProvider::FailoverProvider(CarrierProvider& primary, CarrierProvider* secondary,
                                   FailoverOptions options, const Clock& clock,
                                   FailoverObserver observer)
    : primary_(primary),
      secondary_(secondary),
      options_(options),
      observer_(std::move(observer)),
      primary_breaker_(options.breaker, clock),
      secondary_breaker_(options.breaker, clock) {}

std::string FailoverProvider::name() const {
  return absl::StrCat("failover(", primary_.name(), ",",
                      secondary_ != nullptr ? secondary_->name() : "", ")");
}

void FailoverProvider::Notify(const FailoverEvent& event) const {
  if (observer_) observer_(event);
}

void FailoverProvider::NotifyBreaker(std::optional<BreakerState> change,
                                     const CarrierProvider& provider,
                                     absl::string_view operation) const {
  if (!change || *change == BreakerState::kHalfOpen) return;
  Notify(FailoverEvent{.type = *change == BreakerState::kOpen
                                   ? FailoverEvent::Type::kBreakerOpened
                                   : FailoverEvent::Type::kBreakerClosed,
                       .operation = std::string(operation),
                       .from_provider = provider.name()});
}

template <typename Result>
absl::StatusOr<Result> FailoverProvider::WithFailover(absl::string_view operation,
                                                      absl::string_view key,
                                                      const Attempt<Result>& attempt,
                                                      int* served_by) {
  struct Slot {
    CarrierProvider* provider;
    CircuitBreaker* breaker;
  };
  const Slot slots[2] = {{&primary_, &primary_breaker_}, {secondary_, &secondary_breaker_}};
  const int count = secondary_ != nullptr ? 2 : 1;
  std::string errors;
  absl::StatusCode last_code = absl::StatusCode::kUnavailable;
  for (int i = 0; i < count; ++i) {
    const Slot& slot = slots[i];
    absl::Status cause;
    if (!slot.breaker->Allow()) {
      cause = absl::UnavailableError(absl::StrCat(slot.provider->name(), ": circuit open"));
    } else {
      absl::StatusOr<Result> result = attempt(*slot.provider);
      bool failed = !result.ok() && IsRetryableCarrierError(result.status());
      NotifyBreaker(slot.breaker->Record(!failed), *slot.provider, operation);
      if (!failed) {  // success, or an error another carrier would repeat
        if (served_by != nullptr) *served_by = i;
        return result;
      }
      cause = result.status();
    }
    last_code = cause.code();
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", cause.message());
    if (i + 1 < count) {
      Notify(FailoverEvent{.type = FailoverEvent::Type::kFailover,
                           .operation = std::string(operation),
                           .from_provider = slot.provider->name(),
                           .to_provider = slots[i + 1].provider->name(),
                           .cause = cause,
                           .idempotency_key = std::string(key)});
    }
  }
  return absl::Status(last_code, absl::StrCat(operation, " failed on every carrier: ", errors));
}

template <typename Result>
absl::StatusOr<Result> FailoverProvider::Deduplicated(absl::string_view operation,
                                                      const std::string& key,
                                                      const Attempt<Result>& attempt,
                                                      int* served_by) {
  if (key.empty()) return WithFailover<Result>(operation, key, attempt, served_by);
  const std::string map_key = absl::StrCat(operation, "/", key);
  {
    absl::MutexLock lock(&mu_);
    for (;;) {
      auto it = entries_.find(map_key);
      if (it == entries_.end()) {
        entries_.emplace(map_key, Entry{});
        break;  // we send
      }
      if (it->second.done) {
        return Load(it->second.call, it->second.message, static_cast<Result*>(nullptr));
      }
      // Another request with this key is in flight: wait until it finishes or fails.
      cv_.Wait(&mu_);
    }
  }
  absl::StatusOr<Result> result = WithFailover<Result>(operation, key, attempt, served_by);
  absl::MutexLock lock(&mu_);
  cv_.SignalAll();
  if (!result.ok()) {
    entries_.erase(map_key);
    return result;
  }
  Entry& entry = entries_[map_key];
  Store(entry.call, entry.message, *result);
  entry.done = true;
  order_.push_back(map_key);
  while (order_.size() > std::max<size_t>(1, options_.max_remembered_keys)) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  return result;
}

absl::StatusOr<PlacedCall> FailoverProvider::PlaceCall(const PlaceCallRequest& request) {
  return PlaceCall(request.idempotency_key, [&request](const CarrierProvider&) { return request; });
}

absl::StatusOr<PlacedCall> FailoverProvider::PlaceCall(
    const std::string& idempotency_key,
    const std::function<PlaceCallRequest(const CarrierProvider&)>& request_for) {
  int served_by = -1;  // stays -1 for a remembered result (already recorded when first placed)
  absl::StatusOr<PlacedCall> call = Deduplicated<PlacedCall>(
      "place_call", idempotency_key,
      [&request_for](CarrierProvider& p) { return p.PlaceCall(request_for(p)); }, &served_by);
  if (call.ok() && served_by == 1) {
    absl::MutexLock lock(&mu_);
    if (secondary_calls_.insert(call->call_id).second) {
      secondary_call_order_.push_back(call->call_id);
      while (secondary_call_order_.size() > std::max<size_t>(1, options_.max_remembered_keys)) {
        secondary_calls_.erase(secondary_call_order_.front());
        secondary_call_order_.pop_front();
      }
    }
  }
  return call;
}

CarrierProvider& FailoverProvider::OwnerOf(absl::string_view call_id) {
  absl::MutexLock lock(&mu_);
  if (secondary_ != nullptr && secondary_calls_.count(std::string(call_id)) > 0) {
    return *secondary_;
  }
  return primary_;
}

absl::StatusOr<SentMessage> FailoverProvider::SendMessage(const SendMessageRequest& request) {
  return Deduplicated<SentMessage>(
      "send_message", request.idempotency_key,
      [&request](CarrierProvider& p) { return p.SendMessage(request); }, nullptr);
}

absl::StatusOr<std::vector<AvailableNumber>> FailoverProvider::SearchNumbers(
    const NumberSearch& search) {
  return primary_.SearchNumbers(search);
}
absl::StatusOr<OrderedNumber> FailoverProvider::OrderNumber(absl::string_view e164,
                                                            const NumberWebhooks& webhooks) {
  return primary_.OrderNumber(e164, webhooks);
}
absl::Status FailoverProvider::UpdateNumberWebhooks(absl::string_view provider_number_id,
                                                    const NumberWebhooks& webhooks) {
  return primary_.UpdateNumberWebhooks(provider_number_id, webhooks);
}
absl::Status FailoverProvider::ReleaseNumber(absl::string_view provider_number_id) {
  return primary_.ReleaseNumber(provider_number_id);
}
absl::StatusOr<PortOrder> FailoverProvider::CreatePortOrder(const PortOrderRequest& request) {
  return primary_.CreatePortOrder(request);
}
absl::StatusOr<PortOrder> FailoverProvider::GetPortOrder(absl::string_view port_order_id) {
  return primary_.GetPortOrder(port_order_id);
}
absl::Status FailoverProvider::ModifyCall(absl::string_view call_id,
                                          const CallModification& modification) {
  return OwnerOf(call_id).ModifyCall(call_id, modification);
}
absl::StatusOr<std::string> FailoverProvider::StartRecording(
    absl::string_view call_id, absl::string_view status_callback_url) {
  return OwnerOf(call_id).StartRecording(call_id, status_callback_url);
}
absl::Status FailoverProvider::StopRecording(absl::string_view call_id,
                                             absl::string_view recording_id) {
  return OwnerOf(call_id).StopRecording(call_id, recording_id);
}
absl::StatusOr<ConferenceResult> FailoverProvider::ConferenceControl(
    const ConferenceRequest& request) {
  return OwnerOf(request.call_id).ConferenceControl(request);
}
absl::StatusOr<RecordingMedia> FailoverProvider::FetchRecording(absl::string_view recording) {
  return primary_.FetchRecording(recording);
}

}  // namespace switchboard::carrier
