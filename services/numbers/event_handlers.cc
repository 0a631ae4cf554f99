#include "services/numbers/event_handlers.h"

#include <string>
#include <vector>

#include "services/numbers/grpc_clients.h"

namespace switchboard::numbers {

bool IsIdentityEventForNumbers(const events::v1::Event& event) {
  return event.has_user_deactivated();
}

bool IsCarrierEventForNumbers(const events::v1::Event& event) {
  return event.has_carrier_event() && (event.carrier_event().has_number_order_status() ||
                                       event.carrier_event().has_port_status());
}

absl::Status HandleIdentityEvent(NumbersCore& core, const events::v1::Event& event) {
  if (!event.has_user_deactivated() || event.company_id().empty()) return absl::OkStatus();
  return core.OnUserDeactivated(event.company_id(), event.user_deactivated().user_id());
}

absl::Status HandleCarrierEvent(NumbersCore& core, const events::v1::Event& event) {
  if (!event.has_carrier_event()) return absl::OkStatus();
  const carrier::v1::CarrierEvent& ce = event.carrier_event();
  const std::string company =
      !ce.company_id().empty() ? ce.company_id() : event.company_id();
  if (company.empty()) return absl::OkStatus();  // unresolved by the carrier: not ours
  if (ce.has_number_order_status()) {
    const carrier::v1::NumberOrderStatus& s = ce.number_order_status();
    if (s.status() == carrier::v1::NUMBER_ORDER_PENDING ||
        s.status() == carrier::v1::NUMBER_ORDER_STATE_UNSPECIFIED) {
      return absl::OkStatus();
    }
    std::vector<std::string> numbers(s.numbers().begin(), s.numbers().end());
    return core.OnNumberOrderStatus(company, s.order_id(),
                                    s.status() == carrier::v1::NUMBER_ORDER_SUCCESS, numbers);
  }
  if (ce.has_port_status()) {
    const carrier::v1::PortStatus& p = ce.port_status();
    return core.OnPortStatus(company, p.port_order_id(), PortStatusFromCarrier(p.status()),
                             p.reason());
  }
  return absl::OkStatus();
}

}  // namespace switchboard::numbers
