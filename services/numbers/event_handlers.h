// The consumed events, routed to NumbersCore: identity.v1 UserDeactivated (unassign the user's
// lines) and carrier.v1 number_order_status / port_status. Everything else is ignored (OK).
// Used as libs/events IdempotentConsumer handlers: the core's changes run in their own
// transactions and are idempotent (each only moves a number or port request forward), so a
// redelivery after a crash changes nothing twice. Errors are the core's (retried, then DLQ).
#pragma once

#include "absl/status/status.h"
#include "services/numbers/numbers_core.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::numbers {

absl::Status HandleIdentityEvent(NumbersCore& core, const events::v1::Event& event);
absl::Status HandleCarrierEvent(NumbersCore& core, const events::v1::Event& event);

// Whether the handler above acts on `event`: the consumers' `accepts`, so the call events that
// make up most of carrier.v1 cost numbers no transaction.
bool IsIdentityEventForNumbers(const events::v1::Event& event);
bool IsCarrierEventForNumbers(const events::v1::Event& event);

}  // namespace switchboard::numbers
