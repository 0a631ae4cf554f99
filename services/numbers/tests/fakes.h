// In-memory fakes of the numbers core's collaborators (unit tests only). FakeNumberStore keeps
// the Pg store's semantics that matter: unique live e164 and line id, plan limit under a lock,
// version checks, events recorded per Apply. Failure injection: `fail_next_apply`.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/numbers/cache.h"
#include "services/numbers/clients.h"
#include "services/numbers/store.h"

namespace switchboard::numbers::testing {

inline bool Live(NumberStatus s) {
  return s == NumberStatus::kOrdering || s == NumberStatus::kPending || s == NumberStatus::kActive;
}

class FakeNumberStore final : public NumberStore {
 public:
  absl::Status Reserve(const Number& n, int limit, absl::string_view plan) override {
    absl::MutexLock l(&mu_);
    int count = 0;
    for (const auto& [id, r] : rows_) {
      if (r.number.company_id == n.company_id && Live(r.number.status)) ++count;
    }
    if (limit > 0 && count >= limit) {
      return absl::FailedPreconditionError(absl::StrCat(
          "number limit reached: plan '", plan, "' allows at most ", limit, " numbers"));
    }
    for (const auto& [id, r] : rows_) {
      if (r.number.e164 == n.e164 && Live(r.number.status)) {
        return absl::AlreadyExistsError(absl::StrCat("e164: ", n.e164, " is already taken"));
      }
    }
    rows_[n.id] = NumberRow{n, 1};
    return absl::OkStatus();
  }
  absl::Status DeleteReservation(absl::string_view, absl::string_view id) override {
    absl::MutexLock l(&mu_);
    auto it = rows_.find(std::string(id));
    if (it != rows_.end() && it->second.number.status == NumberStatus::kOrdering) rows_.erase(it);
    return absl::OkStatus();
  }
  absl::Status Apply(absl::string_view company_id, const Mutation& m) override {
    absl::MutexLock l(&mu_);
    if (fail_next_apply.has_value()) {
      absl::Status s = *fail_next_apply;
      fail_next_apply.reset();
      return s;
    }
    std::map<std::string, NumberRow> rows = rows_;
    for (const NumberRow& u : m.update_numbers) {
      auto it = rows.find(u.number.id);
      if (it == rows.end() || it->second.version != u.version) {
        return absl::AbortedError("changed concurrently");
      }
      it->second = NumberRow{u.number, u.version + 1};
    }
    for (const Number& n : m.insert_numbers) {
      for (const auto& [id, r] : rows) {
        if (Live(r.number.status) && Live(n.status) &&
            (r.number.e164 == n.e164 || r.number.line_id == n.line_id)) {
          return absl::AlreadyExistsError("live number or line exists");
        }
      }
      rows[n.id] = NumberRow{n, 1};
    }
    if (m.insert_port.has_value()) ports_[m.insert_port->id] = PortRow{*m.insert_port, 1};
    if (m.update_port.has_value()) {
      auto it = ports_.find(m.update_port->port.id);
      if (it == ports_.end() || it->second.version != m.update_port->version) {
        return absl::AbortedError("port changed concurrently");
      }
      it->second = PortRow{m.update_port->port, m.update_port->version + 1};
    }
    rows_ = std::move(rows);
    for (const DomainEvent& e : m.events) events.push_back(e);
    (void)company_id;
    return absl::OkStatus();
  }
  absl::StatusOr<NumberRow> Get(absl::string_view company_id, absl::string_view id) override {
    absl::MutexLock l(&mu_);
    const NumberRow* best = nullptr;
    for (const auto& [rid, r] : rows_) {
      if (r.number.company_id != company_id) continue;
      if (r.number.id == id) return r;
      if (r.number.line_id == id && (best == nullptr || Live(r.number.status))) best = &r;
    }
    if (best == nullptr) return absl::NotFoundError("not found");
    return *best;
  }
  absl::StatusOr<NumberRow> FindByE164(absl::string_view company_id,
                                       absl::string_view e164) override {
    absl::MutexLock l(&mu_);
    for (const auto& [id, r] : rows_) {
      if (r.number.company_id == company_id && r.number.e164 == e164 && Live(r.number.status)) {
        return r;
      }
    }
    return absl::NotFoundError("not found");
  }
  absl::StatusOr<std::vector<NumberRow>> List(absl::string_view company_id,
                                              bool include_released) override {
    absl::MutexLock l(&mu_);
    std::vector<NumberRow> out;
    for (const auto& [id, r] : rows_) {
      if (r.number.company_id == company_id && (include_released || Live(r.number.status))) {
        out.push_back(r);
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<NumberRow>> ListAssignedTo(absl::string_view company_id,
                                                        absl::string_view user_id) override {
    absl::MutexLock l(&mu_);
    std::vector<NumberRow> out;
    for (const auto& [id, r] : rows_) {
      if (r.number.company_id == company_id && r.number.assigned_user_id == user_id &&
          Live(r.number.status)) {
        out.push_back(r);
      }
    }
    return out;
  }
  absl::StatusOr<Resolved> Resolve(absl::string_view e164) override {
    absl::MutexLock l(&mu_);
    ++resolve_calls;
    for (const auto& [id, r] : rows_) {
      const Number& n = r.number;
      if (n.e164 == e164 && n.status == NumberStatus::kActive) {
        return Resolved{n.company_id, n.line_id, n.id, n.line_type, n.flow_id,
                        n.assigned_user_id, n.department, n.nickname, n.sms_enabled, n.active};
      }
    }
    return absl::NotFoundError("e164: not a line");
  }
  absl::StatusOr<PortRow> GetPort(absl::string_view company_id, absl::string_view id) override {
    absl::MutexLock l(&mu_);
    auto it = ports_.find(std::string(id));
    if (it == ports_.end() || it->second.port.company_id != company_id) {
      return absl::NotFoundError("port request not found");
    }
    return it->second;
  }
  absl::StatusOr<PortRow> FindPortByCarrierId(absl::string_view company_id,
                                              absl::string_view carrier_id) override {
    absl::MutexLock l(&mu_);
    for (const auto& [id, p] : ports_) {
      if (p.port.company_id == company_id && p.port.carrier_port_order_id == carrier_id) return p;
    }
    return absl::NotFoundError("port order not found");
  }
  absl::StatusOr<std::vector<PortRow>> ListPorts(absl::string_view company_id) override {
    absl::MutexLock l(&mu_);
    std::vector<PortRow> out;
    for (const auto& [id, p] : ports_) {
      if (p.port.company_id == company_id) out.push_back(p);
    }
    return out;
  }
  absl::Status SetCallerIdChoice(absl::string_view company_id, absl::string_view user_id,
                                 CallerIdChoice choice) override {
    absl::MutexLock l(&mu_);
    choices_[absl::StrCat(company_id, "/", user_id)] = choice;
    return absl::OkStatus();
  }
  absl::StatusOr<CallerIdChoice> GetCallerIdChoice(absl::string_view company_id,
                                                   absl::string_view user_id) override {
    absl::MutexLock l(&mu_);
    auto it = choices_.find(absl::StrCat(company_id, "/", user_id));
    return it == choices_.end() ? CallerIdChoice::kMain : it->second;
  }
  absl::Status Ping() override { return absl::OkStatus(); }

  size_t RowCount() {
    absl::MutexLock l(&mu_);
    return rows_.size();
  }

  std::optional<absl::Status> fail_next_apply;
  std::vector<DomainEvent> events;
  int resolve_calls = 0;

 private:
  absl::Mutex mu_;
  std::map<std::string, NumberRow> rows_;
  std::map<std::string, PortRow> ports_;
  std::map<std::string, CallerIdChoice> choices_;
};

class FakeCarrier final : public CarrierClient {
 public:
  absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(absl::string_view,
                                                             const NumberSearch& s) override {
    absl::MutexLock l(&mu_);
    last_search = s;
    ++search_calls;
    return available;
  }
  absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view, absl::string_view e164,
                                            absl::string_view provider) override {
    absl::MutexLock l(&mu_);
    ordered.push_back(std::string(e164));
    ordered_provider.push_back(std::string(provider));
    if (!order_error.ok()) return order_error;
    return OrderedNumber{.provider_number_id = absl::StrCat("PN", ordered.size()),
                         .e164 = std::string(e164),
                         .pending = order_pending,
                         .order_id = absl::StrCat("order-", ordered.size()),
                         .provider = "emulator"};
  }
  absl::Status ReleaseNumber(absl::string_view, absl::string_view e164) override {
    absl::MutexLock l(&mu_);
    released.push_back(std::string(e164));
    return release_error;
  }
  absl::StatusOr<CarrierPortOrder> CreatePortOrder(absl::string_view,
                                                   const PortOrderSpec& spec) override {
    absl::MutexLock l(&mu_);
    last_port_spec = spec;
    return CarrierPortOrder{.id = "port-1", .status = PortStatus::kDraft};
  }
  absl::StatusOr<CarrierPortOrder> GetPortOrder(absl::string_view,
                                                absl::string_view id) override {
    absl::MutexLock l(&mu_);
    return CarrierPortOrder{.id = std::string(id), .status = port_status, .reason = port_reason};
  }

  std::vector<AvailableNumber> available;
  NumberSearch last_search;
  int search_calls = 0;
  std::vector<std::string> ordered;
  std::vector<std::string> ordered_provider;  // the provider each order named
  std::vector<std::string> released;
  absl::Status order_error;
  absl::Status release_error;
  bool order_pending = false;
  PortOrderSpec last_port_spec;
  PortStatus port_status = PortStatus::kSubmitted;
  std::string port_reason;

 private:
  absl::Mutex mu_;
};

class FakeIdentity final : public IdentityClient {
 public:
  absl::StatusOr<CompanyPlan> GetPlan(absl::string_view) override {
    return CompanyPlan{plan, NumberLimitOfPlan(plan)};
  }
  absl::StatusOr<UserInfo> GetUser(absl::string_view, absl::string_view user_id) override {
    auto it = users.find(std::string(user_id));
    if (it == users.end()) return absl::NotFoundError("user not found");
    return UserInfo{it->first, it->second};
  }
  std::string plan = "business";
  std::map<std::string, bool> users;  // id -> active
};

class FakeCache final : public NumbersCache {
 public:
  std::optional<Resolved> GetResolved(absl::string_view e164) override {
    absl::MutexLock l(&mu_);
    auto it = resolved.find(std::string(e164));
    if (it == resolved.end()) return std::nullopt;
    return it->second;
  }
  void PutResolved(absl::string_view e164, const Resolved& r) override {
    absl::MutexLock l(&mu_);
    resolved[std::string(e164)] = r;
  }
  void InvalidateResolved(const std::vector<std::string>& e164s) override {
    absl::MutexLock l(&mu_);
    for (const std::string& e : e164s) resolved.erase(e);
  }
  std::optional<std::vector<AvailableNumber>> GetSearch(absl::string_view key) override {
    absl::MutexLock l(&mu_);
    auto it = searches.find(std::string(key));
    if (it == searches.end()) return std::nullopt;
    return it->second;
  }
  void PutSearch(absl::string_view key, const std::vector<AvailableNumber>& r) override {
    absl::MutexLock l(&mu_);
    searches[std::string(key)] = r;
  }
  std::map<std::string, Resolved> resolved;
  std::map<std::string, std::vector<AvailableNumber>> searches;

 private:
  absl::Mutex mu_;
};

}  // namespace switchboard::numbers::testing
