#include "services/numbers/numbers_core.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/aead.h"
#include "services/numbers/numbering.h"

namespace switchboard::numbers {
namespace {

constexpr int kMaxAttempts = 3;

bool IsLive(NumberStatus s) {
  return s == NumberStatus::kOrdering || s == NumberStatus::kPending ||
         s == NumberStatus::kActive;
}

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (!IsUuid(id)) return absl::InvalidArgumentError(absl::StrCat(field, ": must be a UUID"));
  return absl::OkStatus();
}

bool IsDateYmd(absl::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  return true;
}

std::string SearchKey(absl::string_view company_id, const NumberSearch& s) {
  return absl::StrCat(company_id, "|", s.country, "|", NumberTypeName(s.type), "|", s.area_code,
                      "|", s.contains, "|", s.starts_with, "|", absl::AsciiStrToLower(s.locality),
                      "|", absl::AsciiStrToLower(s.region), "|", s.limit);
}

std::string PortAad(absl::string_view company_id, absl::string_view field) {
  return absl::StrCat("numbers.port:", company_id, ":", field);
}

}  // namespace

int NumberLimitOfPlan(absl::string_view plan) {
  if (plan == "solo") return 1;
  if (plan == "team") return 3;
  if (plan == "business") return 10;
  return 0;
}

absl::StatusOr<std::unique_ptr<NumbersCore>> NumbersCore::Create(
    NumberStore& store, CarrierClient& carrier, IdentityClient& identity, NumbersCache& cache,
    const Clock& clock, CoreOptions options) {
  if (options.key_encryption_key.size() != 32) {
    return absl::InvalidArgumentError("key_encryption_key: must be 32 bytes");
  }
  return std::unique_ptr<NumbersCore>(
      new NumbersCore(store, carrier, identity, cache, clock, std::move(options)));
}

// ---------------------------------------------------------------------------------------------
// Search

absl::StatusOr<std::pair<std::vector<AvailableNumber>, bool>> NumbersCore::SearchNumbers(
    absl::string_view company_id, const SearchInput& input) {
  NumberSearch s;
  ASSIGN_OR_RETURN(s.country, NormalizeCountry("country", input.country));
  s.type = input.type;
  if (!input.area_code.empty()) RETURN_IF_ERROR(ValidateAreaCode("area_code", input.area_code));
  s.area_code = input.area_code;
  ASSIGN_OR_RETURN(s.contains, NormalizePattern("contains", input.contains));
  ASSIGN_OR_RETURN(s.starts_with, NormalizePattern("starts_with", input.starts_with));
  if (!s.contains.empty() && !s.starts_with.empty()) {
    return absl::InvalidArgumentError("starts_with: give contains or starts_with, not both");
  }
  if (absl::StrContains(s.starts_with, '*')) {
    return absl::InvalidArgumentError("starts_with: '*' is only allowed in contains");
  }
  if (!s.contains.empty() && s.contains.size() < 2) {
    return absl::InvalidArgumentError("contains: at least 2 digits/letters");
  }
  if (input.limit < 0 || input.limit > 100) {
    return absl::InvalidArgumentError("limit: must be 0..100");
  }
  s.limit = input.limit == 0 ? 20 : input.limit;
  s.locality = input.locality;
  s.region = input.region;

  const std::string key = SearchKey(company_id, s);
  if (std::optional<std::vector<AvailableNumber>> hit = cache_.GetSearch(key)) {
    return std::make_pair(std::move(*hit), true);
  }
  ASSIGN_OR_RETURN(std::vector<AvailableNumber> found, carrier_.SearchNumbers(company_id, s));
  std::vector<AvailableNumber> out;
  std::set<std::string> seen;
  for (AvailableNumber& n : found) {
    if (!seen.insert(n.e164).second) continue;  // the same number from both providers
    if (!s.locality.empty() && !absl::EqualsIgnoreCase(n.locality, s.locality)) continue;
    if (!s.region.empty() && !absl::EqualsIgnoreCase(n.region, s.region)) continue;
    out.push_back(std::move(n));
    if (static_cast<int>(out.size()) >= s.limit) break;
  }
  cache_.PutSearch(key, out);
  return std::make_pair(std::move(out), false);
}

// ---------------------------------------------------------------------------------------------
// Provisioning

absl::StatusOr<Number> NumbersCore::ProvisionNumber(absl::string_view company_id,
                                                    const ProvisionInput& input) {
  RETURN_IF_ERROR(ValidateBusinessNumber("e164", input.e164));
  RETURN_IF_ERROR(ValidateCallerIdName("caller_id_name", input.caller_id_name));
  if (input.nickname.size() > 64) {
    return absl::InvalidArgumentError("nickname: at most 64 characters");
  }
  ASSIGN_OR_RETURN(CompanyPlan plan, identity_.GetPlan(company_id));
  const NumberFacts facts = FactsOf(input.e164);
  const absl::Time now = clock_.Now();
  Number n;
  n.id = NewUuidV7(now);
  n.line_id = NewUuidV7(now);
  n.company_id = std::string(company_id);
  n.e164 = input.e164;
  n.type = facts.toll_free ? NumberType::kTollFree : NumberType::kLocal;
  n.country = facts.country;
  n.area_code = facts.area_code;
  n.monthly_cost = input.monthly_cost;
  n.currency = input.currency.empty() && !input.monthly_cost.empty() ? "USD" : input.currency;
  n.status = NumberStatus::kOrdering;
  n.line_type = input.line_type;
  n.nickname = input.nickname;
  n.caller_id_name = input.caller_id_name;
  n.sms_enabled = input.sms_enabled;
  n.active = true;
  n.port_request_id = input.port_request_id;
  n.created_at = n.updated_at = now;
  RETURN_IF_ERROR(store_.Reserve(n, plan.max_numbers, plan.plan));

  absl::StatusOr<OrderedNumber> ordered = carrier_.OrderNumber(company_id, n.e164, input.provider);
  if (!ordered.ok()) {
    absl::Status undo = store_.DeleteReservation(company_id, n.id);
    if (!undo.ok()) {
      log::Error("numbers: reservation not removed after failed order",
                 {{"number_id", n.id}, {"error", std::string(undo.message())}});
    }
    return Annotate(ordered.status(), absl::StrCat("carrier order of ", n.e164));
  }
  n.provider = ordered->provider;
  n.provider_number_id = ordered->provider_number_id;
  n.carrier_order_id = ordered->order_id;
  n.status = ordered->pending ? NumberStatus::kPending : NumberStatus::kActive;
  n.updated_at = clock_.Now();
  Mutation m;
  m.update_numbers.push_back({n, 1});
  m.events.push_back({.kind = DomainEvent::Kind::kProvisioned, .number = n});
  absl::Status recorded = ApplyAndInvalidate(company_id, m);
  if (!recorded.ok()) {
    // Ordered but not recorded: give the number back so nothing is half-provisioned.
    absl::Status released = carrier_.ReleaseNumber(company_id, n.e164);
    if (!released.ok()) {
      log::Error("numbers: ordered number could not be released after a failed record",
                 {{"e164", n.e164}, {"error", std::string(released.message())}});
    }
    absl::Status undo = store_.DeleteReservation(company_id, n.id);
    if (!undo.ok()) {
      log::Error("numbers: reservation not removed after failed record",
                 {{"number_id", n.id}, {"error", std::string(undo.message())}});
    }
    return Annotate(recorded, absl::StrCat("record ", n.e164, " (released at the carrier)"));
  }
  return n;
}

absl::StatusOr<Number> NumbersCore::GetNumber(absl::string_view company_id,
                                              absl::string_view id) {
  RETURN_IF_ERROR(ValidateId("number_id", id));
  ASSIGN_OR_RETURN(NumberRow row, store_.Get(company_id, id));
  return row.number;
}

absl::StatusOr<std::vector<Number>> NumbersCore::ListNumbers(absl::string_view company_id,
                                                             bool include_released) {
  ASSIGN_OR_RETURN(std::vector<NumberRow> rows, store_.List(company_id, include_released));
  std::vector<Number> out;
  out.reserve(rows.size());
  for (NumberRow& r : rows) out.push_back(std::move(r.number));
  return out;
}

absl::Status NumbersCore::ApplyAndInvalidate(absl::string_view company_id, const Mutation& m) {
  RETURN_IF_ERROR(store_.Apply(company_id, m));
  std::vector<std::string> e164s;
  for (const Number& n : m.insert_numbers) e164s.push_back(n.e164);
  for (const NumberRow& r : m.update_numbers) e164s.push_back(r.number.e164);
  if (!e164s.empty()) cache_.InvalidateResolved(e164s);
  return absl::OkStatus();
}

absl::StatusOr<Number> NumbersCore::MutateLine(
    absl::string_view company_id, absl::string_view line_id,
    const std::function<absl::StatusOr<DomainEvent>(Number&)>& change) {
  RETURN_IF_ERROR(ValidateId("line_id", line_id));
  absl::Status last;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(NumberRow row, store_.Get(company_id, line_id));
    ASSIGN_OR_RETURN(DomainEvent event, change(row.number));
    row.number.updated_at = clock_.Now();
    event.number = row.number;
    Mutation m;
    m.update_numbers.push_back(row);
    m.events.push_back(std::move(event));
    last = ApplyAndInvalidate(company_id, m);
    if (last.ok()) return row.number;
    if (!absl::IsAborted(last)) return last;
  }
  return last;
}

namespace {
DomainEvent LineEvent(absl::string_view change) {
  return DomainEvent{.kind = DomainEvent::Kind::kLineUpdated, .detail = std::string(change)};
}
absl::Status RequireLive(const Number& n) {
  if (n.status == NumberStatus::kReleased || n.status == NumberStatus::kFailed ||
      n.status == NumberStatus::kPortedOut) {
    return absl::FailedPreconditionError(
        absl::StrCat("number ", n.e164, " is ", StatusName(n.status)));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<Number> NumbersCore::UpdateLine(absl::string_view company_id,
                                               absl::string_view line_id,
                                               const LineUpdate& update) {
  if (update.caller_id_name.has_value()) {
    RETURN_IF_ERROR(ValidateCallerIdName("caller_id_name", *update.caller_id_name));
  }
  if (update.nickname.has_value() && update.nickname->size() > 64) {
    return absl::InvalidArgumentError("nickname: at most 64 characters");
  }
  return MutateLine(company_id, line_id, [&](Number& n) -> absl::StatusOr<DomainEvent> {
    RETURN_IF_ERROR(RequireLive(n));
    if (update.line_type.has_value() && *update.line_type != n.line_type) {
      // Assignments belong to a line type: a direct line's user, a department line's department.
      n.line_type = *update.line_type;
      if (n.line_type != LineType::kDirect) n.assigned_user_id.clear();
      if (n.line_type != LineType::kDepartment) n.department.clear();
    }
    if (update.nickname.has_value()) n.nickname = *update.nickname;
    if (update.caller_id_name.has_value()) n.caller_id_name = *update.caller_id_name;
    if (update.sms_enabled.has_value()) n.sms_enabled = *update.sms_enabled;
    if (update.active.has_value()) n.active = *update.active;
    return LineEvent("settings");
  });
}

absl::StatusOr<Number> NumbersCore::AssignLine(absl::string_view company_id,
                                               absl::string_view line_id,
                                               absl::string_view user_id,
                                               absl::string_view department) {
  if (user_id.empty() == department.empty()) {
    return absl::InvalidArgumentError("target: exactly one of user_id or department");
  }
  if (!user_id.empty()) {
    RETURN_IF_ERROR(ValidateId("user_id", user_id));
    ASSIGN_OR_RETURN(UserInfo user, identity_.GetUser(company_id, user_id));
    if (!user.active) {
      return absl::FailedPreconditionError(
          absl::StrCat("user_id: user ", user_id, " is not active"));
    }
  } else if (department.size() > 64) {
    return absl::InvalidArgumentError("department: at most 64 characters");
  }
  return MutateLine(company_id, line_id, [&](Number& n) -> absl::StatusOr<DomainEvent> {
    RETURN_IF_ERROR(RequireLive(n));
    if (!user_id.empty()) {
      if (n.line_type != LineType::kDirect) {
        return absl::FailedPreconditionError(absl::StrCat(
            "line ", n.line_id, " is a ", LineTypeName(n.line_type),
            " line; only direct lines are assigned to a user (UpdateLine line_type first)"));
      }
      n.assigned_user_id = std::string(user_id);
      n.department.clear();
    } else {
      if (n.line_type != LineType::kDepartment) {
        return absl::FailedPreconditionError(absl::StrCat(
            "line ", n.line_id, " is a ", LineTypeName(n.line_type),
            " line; only department lines are assigned to a department"));
      }
      n.department = std::string(department);
      n.assigned_user_id.clear();
    }
    return LineEvent("assigned");
  });
}

absl::StatusOr<Number> NumbersCore::UnassignLine(absl::string_view company_id,
                                                 absl::string_view line_id) {
  return MutateLine(company_id, line_id, [&](Number& n) -> absl::StatusOr<DomainEvent> {
    RETURN_IF_ERROR(RequireLive(n));
    n.assigned_user_id.clear();
    n.department.clear();
    return LineEvent("unassigned");
  });
}

absl::StatusOr<Number> NumbersCore::SetLineFlow(absl::string_view company_id,
                                                absl::string_view line_id,
                                                absl::string_view flow_id) {
  if (flow_id.size() > 128) return absl::InvalidArgumentError("flow_id: at most 128 characters");
  return MutateLine(company_id, line_id, [&](Number& n) -> absl::StatusOr<DomainEvent> {
    RETURN_IF_ERROR(RequireLive(n));
    n.flow_id = std::string(flow_id);
    return LineEvent("flow");
  });
}

absl::StatusOr<Number> NumbersCore::ReleaseNumber(absl::string_view company_id,
                                                  absl::string_view line_id, bool force) {
  RETURN_IF_ERROR(ValidateId("line_id", line_id));
  ASSIGN_OR_RETURN(NumberRow row, store_.Get(company_id, line_id));
  Number& n = row.number;
  if (n.status != NumberStatus::kActive && n.status != NumberStatus::kPending) {
    return absl::FailedPreconditionError(
        absl::StrCat("number ", n.e164, " is ", StatusName(n.status), "; nothing to release"));
  }
  if (n.line_type == LineType::kMain && !n.flow_id.empty() && !force) {
    return absl::FailedPreconditionError(absl::StrCat(
        "number ", n.e164, " is the main line and call flow '", n.flow_id,
        "' answers its calls; releasing it would drop them: move the flow or pass force=true"));
  }
  absl::Status released = carrier_.ReleaseNumber(company_id, n.e164);
  if (absl::IsNotFound(released)) {
    log::Warn("numbers: carrier no longer had the number; recording the release",
              {{"e164", n.e164}});
  } else if (!released.ok()) {
    return Annotate(released, absl::StrCat("carrier release of ", n.e164));
  }
  n.status = NumberStatus::kReleased;
  n.released_at = n.updated_at = clock_.Now();
  Mutation m;
  m.update_numbers.push_back(row);
  m.events.push_back({.kind = DomainEvent::Kind::kReleased, .number = n, .detail = "released",
                      .forced = force});
  RETURN_IF_ERROR(ApplyAndInvalidate(company_id, m));
  return n;
}

// ---------------------------------------------------------------------------------------------
// Port-in

absl::StatusOr<PortRequest> NumbersCore::CreatePortRequest(absl::string_view company_id,
                                                           const PortInput& input) {
  if (input.numbers.empty()) return absl::InvalidArgumentError("numbers: at least one number");
  if (input.numbers.size() > 50) return absl::InvalidArgumentError("numbers: at most 50");
  std::set<std::string> unique;
  for (size_t i = 0; i < input.numbers.size(); ++i) {
    RETURN_IF_ERROR(ValidateBusinessNumber(absl::StrCat("numbers[", i, "]"), input.numbers[i]));
    if (!unique.insert(input.numbers[i]).second) {
      return absl::InvalidArgumentError(absl::StrCat("numbers[", i, "]: listed twice"));
    }
  }
  if (input.current_carrier.empty()) {
    return absl::InvalidArgumentError("current_carrier: required");
  }
  if (input.account_number.empty()) return absl::InvalidArgumentError("account_number: required");
  if (input.authorized_name.empty()) {
    return absl::InvalidArgumentError("authorized_name: required");
  }
  if (input.service_address.street.empty() || input.service_address.locality.empty() ||
      input.service_address.region.empty() || input.service_address.postal_code.empty()) {
    return absl::InvalidArgumentError(
        "service_address: street, locality, region and postal_code are required");
  }
  if (!input.desired_foc_date.empty() && !IsDateYmd(input.desired_foc_date)) {
    return absl::InvalidArgumentError("desired_foc_date: must be YYYY-MM-DD");
  }
  if (!input.temporary_e164.empty()) {
    RETURN_IF_ERROR(ValidateBusinessNumber("temporary_e164", input.temporary_e164));
    if (unique.count(input.temporary_e164) > 0) {
      return absl::InvalidArgumentError("temporary_e164: must not be one of the ported numbers");
    }
  }
  for (const std::string& e164 : input.numbers) {
    absl::StatusOr<NumberRow> existing = store_.FindByE164(company_id, e164);
    if (existing.ok() && IsLive(existing->number.status)) {
      return absl::AlreadyExistsError(absl::StrCat(e164, " is already one of your numbers"));
    }
  }
  const absl::Time now = clock_.Now();
  PortRequest p;
  p.id = NewUuidV7(now);
  p.company_id = std::string(company_id);
  p.numbers = input.numbers;
  p.current_carrier = input.current_carrier;
  ASSIGN_OR_RETURN(p.account_number_sealed,
                   crypto::AesGcmSeal(options_.key_encryption_key, input.account_number,
                                      PortAad(company_id, "account_number")));
  if (!input.pin.empty()) {
    ASSIGN_OR_RETURN(p.pin_sealed, crypto::AesGcmSeal(options_.key_encryption_key, input.pin,
                                                      PortAad(company_id, "pin")));
  }
  p.authorized_name = input.authorized_name;
  p.service_address = input.service_address;
  p.desired_foc_date = input.desired_foc_date;
  p.status = PortStatus::kDraft;
  p.created_at = p.updated_at = now;
  Mutation m;
  m.insert_port = p;
  m.events.push_back({.kind = DomainEvent::Kind::kPortUpdated, .port = p});
  RETURN_IF_ERROR(store_.Apply(company_id, m));

  if (!input.temporary_e164.empty()) {
    absl::StatusOr<Number> provisioned =
        ProvisionNumber(company_id, ProvisionInput{.e164 = input.temporary_e164,
                                                   .line_type = input.line_type,
                                                   .nickname = input.nickname,
                                                   .port_request_id = p.id});
    if (!provisioned.ok()) {
      // No request without the temporary line it asked for: withdraw the draft.
      absl::StatusOr<PortRequest> cancelled = CancelPortRequest(company_id, p.id);
      if (!cancelled.ok()) {
        log::Error("numbers: draft port request not cancelled after a failed temporary number",
                   {{"port_request_id", p.id},
                    {"error", std::string(cancelled.status().message())}});
      }
      return Annotate(provisioned.status(), "temporary_e164");
    }
    const Number& temp = *provisioned;
    ASSIGN_OR_RETURN(PortRow row, store_.GetPort(company_id, p.id));
    row.port.temporary_line_id = temp.line_id;
    row.port.temporary_e164 = temp.e164;
    row.port.updated_at = clock_.Now();
    Mutation link;
    link.update_port = row;
    RETURN_IF_ERROR(store_.Apply(company_id, link));
    return row.port;
  }
  return p;
}

absl::StatusOr<std::pair<std::string, std::string>> NumbersCore::OpenPortSecrets(
    const PortRequest& port) {
  ASSIGN_OR_RETURN(std::string account,
                   crypto::AesGcmOpen(options_.key_encryption_key, port.account_number_sealed,
                                      PortAad(port.company_id, "account_number")));
  std::string pin;
  if (!port.pin_sealed.empty()) {
    ASSIGN_OR_RETURN(pin, crypto::AesGcmOpen(options_.key_encryption_key, port.pin_sealed,
                                             PortAad(port.company_id, "pin")));
  }
  return std::make_pair(std::move(account), std::move(pin));
}

absl::StatusOr<PortRequest> NumbersCore::SubmitPortRequest(absl::string_view company_id,
                                                           absl::string_view id) {
  RETURN_IF_ERROR(ValidateId("port_request_id", id));
  ASSIGN_OR_RETURN(PortRow row, store_.GetPort(company_id, id));
  if (row.port.status != PortStatus::kDraft && row.port.status != PortStatus::kException) {
    return absl::FailedPreconditionError(absl::StrCat(
        "port request is ", PortStatusName(row.port.status), "; only draft or exception can be "
        "submitted"));
  }
  ASSIGN_OR_RETURN(auto secrets, OpenPortSecrets(row.port));
  ASSIGN_OR_RETURN(CarrierPortOrder order,
                   carrier_.CreatePortOrder(company_id,
                                            PortOrderSpec{.numbers = row.port.numbers,
                                                          .current_carrier =
                                                              row.port.current_carrier,
                                                          .account_number = secrets.first,
                                                          .pin = secrets.second,
                                                          .authorized_name =
                                                              row.port.authorized_name,
                                                          .service_address =
                                                              row.port.service_address,
                                                          .desired_foc_date =
                                                              row.port.desired_foc_date}));
  row.port.carrier_port_order_id = order.id;
  // A carrier draft (Telnyx before confirmation) is submitted from the company's point of view.
  PortStatus status = order.status == PortStatus::kDraft ? PortStatus::kSubmitted : order.status;
  return ApplyPortStatus(company_id, std::move(row), status, order.reason);
}

absl::StatusOr<PortRequest> NumbersCore::ApplyPortStatus(absl::string_view company_id,
                                                         PortRow row, PortStatus status,
                                                         absl::string_view reason) {
  if (row.port.status == PortStatus::kPorted || row.port.status == PortStatus::kCancelled) {
    return row.port;  // terminal: later reports change nothing
  }
  if (status == PortStatus::kPorted) {
    RETURN_IF_ERROR(CompletePort(company_id, row));
    ASSIGN_OR_RETURN(PortRow done, store_.GetPort(company_id, row.port.id));
    return done.port;
  }
  if (status == row.port.status && reason == row.port.reason &&
      !row.port.carrier_port_order_id.empty()) {
    return row.port;
  }
  row.port.status = status;
  row.port.reason = status == PortStatus::kException ? std::string(reason) : std::string();
  row.port.updated_at = clock_.Now();
  Mutation m;
  m.update_port = row;
  m.events.push_back({.kind = DomainEvent::Kind::kPortUpdated, .port = row.port});
  RETURN_IF_ERROR(store_.Apply(company_id, m));
  return row.port;
}

absl::Status NumbersCore::CompletePort(absl::string_view company_id, const PortRow& row) {
  if (!row.port.carrier_port_order_id.empty()) {
    // Reading the completed order makes the carrier service record the ported numbers for the
    // company (its webhooks and releases need them), whichever way we learnt of the completion.
    absl::StatusOr<CarrierPortOrder> order =
        carrier_.GetPortOrder(company_id, row.port.carrier_port_order_id);
    if (!order.ok()) return Annotate(order.status(), "read the completed port order");
  }
  const absl::Time now = clock_.Now();
  Mutation m;
  std::optional<NumberRow> temp;
  if (!row.port.temporary_line_id.empty()) {
    absl::StatusOr<NumberRow> t = store_.Get(company_id, row.port.temporary_line_id);
    if (t.ok() && IsLive(t->number.status)) temp = *t;
    else if (!t.ok() && !absl::IsNotFound(t.status())) return t.status();
  }
  if (temp.has_value()) {
    // The temporary number goes back first; a retry finds it already gone (NOT_FOUND).
    absl::Status released = carrier_.ReleaseNumber(company_id, temp->number.e164);
    if (!released.ok() && !absl::IsNotFound(released)) {
      return Annotate(released, absl::StrCat("release temporary number ", temp->number.e164));
    }
  }
  for (size_t i = 0; i < row.port.numbers.size(); ++i) {
    const std::string& e164 = row.port.numbers[i];
    const NumberFacts facts = FactsOf(e164);
    Number n;
    n.id = NewUuidV7(now);
    n.company_id = std::string(company_id);
    n.e164 = e164;
    n.type = facts.toll_free ? NumberType::kTollFree : NumberType::kLocal;
    n.country = facts.country;
    n.area_code = facts.area_code;
    n.status = NumberStatus::kActive;
    n.port_request_id = row.port.id;
    n.created_at = n.updated_at = now;
    std::string replaced;
    if (i == 0 && temp.has_value()) {
      // Takes over the temporary number's line: id, type, settings, assignment and flow.
      const Number& t = temp->number;
      n.line_id = t.line_id;
      n.provider = t.provider;
      n.line_type = t.line_type;
      n.nickname = t.nickname;
      n.caller_id_name = t.caller_id_name;
      n.sms_enabled = t.sms_enabled;
      n.active = t.active;
      n.assigned_user_id = t.assigned_user_id;
      n.department = t.department;
      n.flow_id = t.flow_id;
      NumberRow old = *temp;
      old.number.status = NumberStatus::kReleased;
      old.number.released_at = old.number.updated_at = now;
      m.update_numbers.push_back(old);
      m.events.push_back({.kind = DomainEvent::Kind::kReleased, .number = old.number,
                          .detail = "port_swap"});
      replaced = t.e164;
    } else {
      n.line_id = NewUuidV7(now);
      n.line_type = LineType::kDirect;
    }
    m.insert_numbers.push_back(n);
    m.events.push_back({.kind = DomainEvent::Kind::kPorted, .number = n, .port = row.port,
                        .replaced_e164 = replaced});
  }
  PortRow done = row;
  done.port.status = PortStatus::kPorted;
  done.port.reason.clear();
  done.port.updated_at = now;
  m.update_port = done;
  m.events.push_back({.kind = DomainEvent::Kind::kPortUpdated, .port = done.port});
  return ApplyAndInvalidate(company_id, m);
}

absl::StatusOr<PortRequest> NumbersCore::GetPortRequest(absl::string_view company_id,
                                                        absl::string_view id) {
  RETURN_IF_ERROR(ValidateId("port_request_id", id));
  ASSIGN_OR_RETURN(PortRow row, store_.GetPort(company_id, id));
  const PortStatus s = row.port.status;
  if (row.port.carrier_port_order_id.empty() || s == PortStatus::kDraft ||
      s == PortStatus::kPorted || s == PortStatus::kCancelled) {
    return row.port;
  }
  absl::StatusOr<CarrierPortOrder> order =
      carrier_.GetPortOrder(company_id, row.port.carrier_port_order_id);
  if (!order.ok()) {
    // Polling is best effort: the stored state is still the answer.
    log::Warn("numbers: port order poll failed",
              {{"port_request_id", row.port.id}, {"error", std::string(order.status().message())}});
    return row.port;
  }
  PortStatus status = order->status == PortStatus::kDraft ? PortStatus::kSubmitted : order->status;
  return ApplyPortStatus(company_id, std::move(row), status, order->reason);
}

absl::StatusOr<std::vector<PortRequest>> NumbersCore::ListPortRequests(
    absl::string_view company_id) {
  ASSIGN_OR_RETURN(std::vector<PortRow> rows, store_.ListPorts(company_id));
  std::vector<PortRequest> out;
  for (PortRow& r : rows) out.push_back(std::move(r.port));
  return out;
}

absl::StatusOr<PortRequest> NumbersCore::CancelPortRequest(absl::string_view company_id,
                                                           absl::string_view id) {
  RETURN_IF_ERROR(ValidateId("port_request_id", id));
  ASSIGN_OR_RETURN(PortRow row, store_.GetPort(company_id, id));
  if (row.port.status == PortStatus::kPorted) {
    return absl::FailedPreconditionError("port request already ported; release the numbers");
  }
  if (row.port.status == PortStatus::kCancelled) return row.port;
  row.port.status = PortStatus::kCancelled;
  row.port.updated_at = clock_.Now();
  Mutation m;
  m.update_port = row;
  m.events.push_back({.kind = DomainEvent::Kind::kPortUpdated, .port = row.port});
  RETURN_IF_ERROR(store_.Apply(company_id, m));
  return row.port;
}

// ---------------------------------------------------------------------------------------------
// Routing lookup, caller ID, usage

absl::StatusOr<std::pair<Resolved, bool>> NumbersCore::ResolveNumber(absl::string_view e164) {
  RETURN_IF_ERROR(ValidateE164("e164", e164));
  if (std::optional<Resolved> hit = cache_.GetResolved(e164)) {
    return std::make_pair(std::move(*hit), true);
  }
  ASSIGN_OR_RETURN(Resolved r, store_.Resolve(e164));
  cache_.PutResolved(e164, r);
  return std::make_pair(std::move(r), false);
}

absl::Status NumbersCore::SetCallerIdPreference(absl::string_view company_id,
                                                absl::string_view user_id,
                                                CallerIdChoice choice) {
  RETURN_IF_ERROR(ValidateId("user_id", user_id));
  ASSIGN_OR_RETURN(UserInfo user, identity_.GetUser(company_id, user_id));
  if (!user.active) {
    return absl::FailedPreconditionError(absl::StrCat("user_id: user ", user_id, " is not active"));
  }
  if (choice == CallerIdChoice::kDirect) {
    ASSIGN_OR_RETURN(std::vector<NumberRow> lines, store_.ListAssignedTo(company_id, user_id));
    bool has_direct = false;
    for (const NumberRow& r : lines) {
      has_direct = has_direct || (r.number.line_type == LineType::kDirect &&
                                  r.number.status == NumberStatus::kActive);
    }
    if (!has_direct) {
      return absl::FailedPreconditionError(
          "choice: the user has no active direct line; assign one first");
    }
  }
  return store_.SetCallerIdChoice(company_id, user_id, choice);
}

absl::StatusOr<OutboundCallerId> NumbersCore::GetOutboundCallerId(absl::string_view company_id,
                                                                  absl::string_view user_id) {
  RETURN_IF_ERROR(ValidateId("user_id", user_id));
  ASSIGN_OR_RETURN(CallerIdChoice choice, store_.GetCallerIdChoice(company_id, user_id));
  ASSIGN_OR_RETURN(std::vector<NumberRow> all, store_.List(company_id, false));
  const Number* main = nullptr;
  const Number* direct = nullptr;
  for (const NumberRow& r : all) {
    const Number& n = r.number;
    if (n.status != NumberStatus::kActive || !n.active) continue;
    if (n.line_type == LineType::kMain && main == nullptr) main = &n;
    if (n.line_type == LineType::kDirect && n.assigned_user_id == user_id && direct == nullptr) {
      direct = &n;
    }
  }
  const Number* chosen = choice == CallerIdChoice::kDirect && direct != nullptr ? direct : main;
  if (chosen == nullptr) chosen = direct;  // no main line: the user's own line is still ours
  if (chosen == nullptr) {
    return absl::FailedPreconditionError(
        "the company has no active main line and the user no direct line");
  }
  return OutboundCallerId{.e164 = chosen->e164,
                          .caller_id_name = chosen->caller_id_name,
                          .source = chosen == direct ? CallerIdChoice::kDirect
                                                     : CallerIdChoice::kMain,
                          .line_id = chosen->line_id};
}

absl::StatusOr<NumberCounts> NumbersCore::CountNumbers(absl::string_view company_id) {
  ASSIGN_OR_RETURN(CompanyPlan plan, identity_.GetPlan(company_id));
  ASSIGN_OR_RETURN(std::vector<NumberRow> all, store_.List(company_id, false));
  NumberCounts c{.limit = plan.max_numbers, .plan = plan.plan};
  for (const NumberRow& r : all) {
    if (!IsLive(r.number.status)) continue;
    (r.number.type == NumberType::kTollFree ? c.toll_free : c.local)++;
    c.total++;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Consumed events

absl::Status NumbersCore::OnUserDeactivated(absl::string_view company_id,
                                            absl::string_view user_id) {
  ASSIGN_OR_RETURN(std::vector<NumberRow> lines, store_.ListAssignedTo(company_id, user_id));
  for (const NumberRow& r : lines) {
    absl::StatusOr<Number> done =
        MutateLine(company_id, r.number.line_id, [&](Number& n) -> absl::StatusOr<DomainEvent> {
          n.assigned_user_id.clear();
          return LineEvent("user_deactivated");
        });
    if (!done.ok()) return done.status();
  }
  return absl::OkStatus();
}

absl::Status NumbersCore::OnNumberOrderStatus(absl::string_view company_id,
                                              absl::string_view order_id, bool success,
                                              const std::vector<std::string>& numbers) {
  ASSIGN_OR_RETURN(std::vector<NumberRow> all, store_.List(company_id, false));
  for (NumberRow& row : all) {
    Number& n = row.number;
    const bool named = std::find(numbers.begin(), numbers.end(), n.e164) != numbers.end();
    if (n.status == NumberStatus::kOrdering && named) {
      // The webhook overtook our record of the order: retry once it is recorded.
      return absl::UnavailableError(
          absl::StrCat("order status for ", n.e164, " arrived before the order was recorded"));
    }
    if (n.status != NumberStatus::kPending) continue;
    if (n.carrier_order_id != order_id && !named) continue;
    n.status = success ? NumberStatus::kActive : NumberStatus::kFailed;
    n.updated_at = clock_.Now();
    Mutation m;
    m.update_numbers.push_back(row);
    m.events.push_back({.kind = success ? DomainEvent::Kind::kActivated
                                        : DomainEvent::Kind::kOrderFailed,
                        .number = n});
    RETURN_IF_ERROR(ApplyAndInvalidate(company_id, m));
  }
  return absl::OkStatus();
}

absl::Status NumbersCore::OnPortStatus(absl::string_view company_id,
                                       absl::string_view carrier_port_order_id,
                                       PortStatus status, absl::string_view reason) {
  absl::StatusOr<PortRow> row = store_.FindPortByCarrierId(company_id, carrier_port_order_id);
  if (absl::IsNotFound(row.status())) return absl::OkStatus();  // not one of ours
  if (!row.ok()) return row.status();
  if (status == PortStatus::kDraft) status = PortStatus::kSubmitted;  // already submitted by us
  return ApplyPortStatus(company_id, std::move(*row), status, reason).status();
}

}  // namespace switchboard::numbers
