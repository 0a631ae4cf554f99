// NumberStore: persistence of numbers, lines, port requests and caller-ID preferences, with the
// numbers.v1 events of each change written in the same transaction (outbox). Interface only:
// PgNumberStore (pg_store.h) implements it over Postgres; tests use FakeNumberStore.
// Implementations are thread-safe. Errors: kNotFound (absent, or another company's),
// kAlreadyExists (e164 already live anywhere: the unique index decides races),
// kFailedPrecondition (plan limit), kAborted (concurrent change: `version` moved; retry),
// kUnavailable (database down).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/numbers/model.h"

namespace switchboard::numbers {

// A numbers.v1 event, described in domain terms; the store renders the envelope.
struct DomainEvent {
  enum class Kind {
    kProvisioned,
    kActivated,
    kOrderFailed,
    kReleased,
    kLineUpdated,
    kPortUpdated,
    kPorted,
  };
  Kind kind;
  Number number;     // the number the event is about (all kinds but kPortUpdated)
  PortRequest port;  // kPortUpdated, kPorted
  std::string detail;  // kLineUpdated: change; kReleased: reason
  bool forced = false;
  std::string replaced_e164;  // kPorted
};

// Everything one transaction changes. Updated rows carry the `version` they were read with
// (Number::version / PortRequest::version); a mismatch aborts the whole mutation (kAborted).
struct NumberRow {
  Number number;
  int64_t version = 0;
};
struct PortRow {
  PortRequest port;
  int64_t version = 0;
};

struct Mutation {
  std::vector<Number> insert_numbers;
  std::vector<NumberRow> update_numbers;
  std::optional<PortRequest> insert_port;
  std::optional<PortRow> update_port;
  std::vector<DomainEvent> events;
};

class NumberStore {
 public:
  virtual ~NumberStore() = default;

  // Inserts `number` (status kOrdering) after counting the company's ordering+pending+active
  // numbers under a per-company lock: `limit` > 0 and count >= limit → kFailedPrecondition
  // "number limit reached: plan '<plan>' allows at most <limit> numbers". The e164 is unique
  // among live numbers of every company → kAlreadyExists.
  [[nodiscard]] virtual absl::Status Reserve(const Number& number, int limit,
                                             absl::string_view plan) = 0;
  // Deletes a kOrdering row (an order that did not happen). OK if already gone.
  [[nodiscard]] virtual absl::Status DeleteReservation(absl::string_view company_id,
                                                       absl::string_view number_id) = 0;

  [[nodiscard]] virtual absl::Status Apply(absl::string_view company_id,
                                           const Mutation& mutation) = 0;

  // By number id, or the live number of a line id. kNotFound.
  [[nodiscard]] virtual absl::StatusOr<NumberRow> Get(absl::string_view company_id,
                                                      absl::string_view id) = 0;
  // The company's live (or any, newest first) number with this e164. kNotFound.
  [[nodiscard]] virtual absl::StatusOr<NumberRow> FindByE164(absl::string_view company_id,
                                                             absl::string_view e164) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::vector<NumberRow>> List(
      absl::string_view company_id, bool include_released) = 0;
  // Live lines assigned to the user.
  [[nodiscard]] virtual absl::StatusOr<std::vector<NumberRow>> ListAssignedTo(
      absl::string_view company_id, absl::string_view user_id) = 0;
  // Any company: the active number with this e164 (routing's lookup). kNotFound.
  [[nodiscard]] virtual absl::StatusOr<Resolved> Resolve(absl::string_view e164) = 0;

  [[nodiscard]] virtual absl::StatusOr<PortRow> GetPort(absl::string_view company_id,
                                                        absl::string_view id) = 0;
  [[nodiscard]] virtual absl::StatusOr<PortRow> FindPortByCarrierId(
      absl::string_view company_id, absl::string_view carrier_port_order_id) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::vector<PortRow>> ListPorts(
      absl::string_view company_id) = 0;

  [[nodiscard]] virtual absl::Status SetCallerIdChoice(absl::string_view company_id,
                                                       absl::string_view user_id,
                                                       CallerIdChoice choice) = 0;
  // kMain when never set.
  [[nodiscard]] virtual absl::StatusOr<CallerIdChoice> GetCallerIdChoice(
      absl::string_view company_id, absl::string_view user_id) = 0;

  [[nodiscard]] virtual absl::Status Ping() = 0;
};

}  // namespace switchboard::numbers
