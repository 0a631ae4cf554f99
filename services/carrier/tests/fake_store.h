// In-memory CarrierStore with the same contract as PgCarrierStore (store.h), for unit tests.
// `fail_writes` makes RecordWebhook fail with kUnavailable (a database outage).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/carrier/store.h"

namespace switchboard::carrier::testing {

class FakeStore final : public CarrierStore {
 public:
  bool fail_writes = false;

  absl::Status PutAccount(const AccountRow& a) override {
    absl::MutexLock l(&mu_);
    accounts_[a.company_id] = a;
    return absl::OkStatus();
  }
  absl::StatusOr<AccountRow> GetAccount(absl::string_view company_id) override {
    absl::MutexLock l(&mu_);
    auto it = accounts_.find(std::string(company_id));
    if (it == accounts_.end()) return absl::NotFoundError("carrier account not found");
    return it->second;
  }
  absl::StatusOr<std::vector<AccountRow>> FindAccountsByProviderAccountId(
      absl::string_view id) override {
    absl::MutexLock l(&mu_);
    std::vector<AccountRow> out;
    for (const auto& [k, a] : accounts_) {
      if (a.primary_account_id == id || (!id.empty() && a.secondary_account_id == id)) {
        out.push_back(a);
      }
    }
    return out;
  }
  absl::Status PutNumber(const NumberRow& n) override {
    absl::MutexLock l(&mu_);
    auto it = numbers_.find(n.e164);
    if (it != numbers_.end() && it->second.company_id != n.company_id) {
      return absl::AlreadyExistsError("e164: number belongs to another company");
    }
    numbers_[n.e164] = n;
    return absl::OkStatus();
  }
  absl::StatusOr<NumberRow> GetNumber(absl::string_view company_id,
                                      absl::string_view e164) override {
    absl::StatusOr<NumberRow> n = FindNumber(e164);
    if (n.ok() && n->company_id != company_id) return absl::NotFoundError("number not found");
    return n;
  }
  absl::StatusOr<NumberRow> FindNumber(absl::string_view e164) override {
    absl::MutexLock l(&mu_);
    auto it = numbers_.find(std::string(e164));
    if (it == numbers_.end()) return absl::NotFoundError("number not found");
    return it->second;
  }
  absl::Status DeleteNumber(absl::string_view company_id, absl::string_view e164) override {
    absl::Status found = GetNumber(company_id, e164).status();
    if (!found.ok()) return found;
    absl::MutexLock l(&mu_);
    numbers_.erase(std::string(e164));
    return absl::OkStatus();
  }
  absl::Status PutInstructions(const InstructionsRow& row) override {
    absl::MutexLock l(&mu_);
    instructions_[row.company_id + "|" + row.e164] = row;
    return absl::OkStatus();
  }
  absl::StatusOr<InstructionsRow> GetInstructionsForNumber(absl::string_view company_id,
                                                           absl::string_view e164) override {
    absl::MutexLock l(&mu_);
    auto it = instructions_.find(std::string(company_id) + "|" + std::string(e164));
    if (it == instructions_.end()) return absl::NotFoundError("no static instructions");
    return it->second;
  }
  absl::StatusOr<InstructionsRow> GetInstructionsById(absl::string_view company_id,
                                                      absl::string_view id) override {
    absl::MutexLock l(&mu_);
    for (const auto& [k, row] : instructions_) {
      if (row.company_id == company_id && row.instructions_id == id) return row;
    }
    return absl::NotFoundError("instructions not found");
  }
  absl::Status PutCall(const CallRow& c) override {
    absl::MutexLock l(&mu_);
    calls_.emplace(c.call_id, c);
    return absl::OkStatus();
  }
  absl::StatusOr<CallRow> GetCall(absl::string_view company_id,
                                  absl::string_view call_id) override {
    absl::StatusOr<CallRow> c = FindCall(call_id);
    if (c.ok() && c->company_id != company_id) return absl::NotFoundError("call not found");
    return c;
  }
  absl::StatusOr<CallRow> FindCall(absl::string_view call_id) override {
    absl::MutexLock l(&mu_);
    auto it = calls_.find(std::string(call_id));
    if (it == calls_.end()) return absl::NotFoundError("call not found");
    return it->second;
  }
  absl::StatusOr<bool> RecordWebhook(absl::string_view company_id, absl::string_view key,
                                     const events::v1::Event& event,
                                     const std::optional<CallRow>& call,
                                     const BridgeChange& bridge) override {
    absl::MutexLock l(&mu_);
    if (fail_writes) return absl::UnavailableError("postgres down");
    if (call.has_value()) calls_.emplace(call->call_id, *call);
    if (bridge.op == BridgeChange::Op::kClear) ClearLocked(company_id, bridge.a_leg, bridge.b_leg);
    if (!dedupe_.emplace(std::string(key), std::string(company_id)).second) return false;
    if (bridge.op == BridgeChange::Op::kSet) {
      bridges_[BridgeKey(company_id, bridge.a_leg)] = bridge.b_leg;
    }
    events_.push_back(event);
    return true;
  }
  absl::StatusOr<std::string> GetBridgedLeg(absl::string_view company_id,
                                            absl::string_view a_leg) override {
    absl::MutexLock l(&mu_);
    auto it = bridges_.find(BridgeKey(company_id, a_leg));
    if (it == bridges_.end()) return absl::NotFoundError("no bridged leg");
    return it->second;
  }
  absl::Status PutBridgedLeg(absl::string_view company_id, absl::string_view a_leg,
                             absl::string_view b_leg) override {
    absl::MutexLock l(&mu_);
    bridges_[BridgeKey(company_id, a_leg)] = std::string(b_leg);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> ClearBridgedLeg(absl::string_view company_id, absl::string_view a_leg,
                                       absl::string_view b_leg) override {
    absl::MutexLock l(&mu_);
    return ClearLocked(company_id, a_leg, b_leg);
  }
  absl::Status PutConference(const ConferenceRow& row) override {
    absl::MutexLock l(&mu_);
    conferences_[BridgeKey(row.company_id, row.name)] = row;
    return absl::OkStatus();
  }
  absl::StatusOr<ConferenceRow> GetConferenceByName(absl::string_view company_id,
                                                    absl::string_view name) override {
    absl::MutexLock l(&mu_);
    auto it = conferences_.find(BridgeKey(company_id, name));
    if (it == conferences_.end()) return absl::NotFoundError("no such conference");
    return it->second;
  }
  absl::StatusOr<ConferenceRow> FindConference(absl::string_view company_id,
                                               absl::string_view conference_id,
                                               absl::string_view leg) override {
    absl::MutexLock l(&mu_);
    const ConferenceRow* pending = nullptr;
    for (const auto& [k, row] : conferences_) {
      if (row.company_id != company_id || conference_id.empty()) continue;
      if (row.conference_id == conference_id) return row;
      if (row.conference_id.empty() && !leg.empty() && row.a_leg == leg) pending = &row;
    }
    if (pending != nullptr) return *pending;
    return absl::NotFoundError("no such conference");
  }
  absl::Status PutConferenceLeg(absl::string_view company_id, absl::string_view leg,
                                absl::string_view) override {
    absl::MutexLock l(&mu_);
    conference_legs_[BridgeKey(company_id, leg)] = false;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> MarkConferenceLegJoined(absl::string_view company_id,
                                               absl::string_view leg) override {
    absl::MutexLock l(&mu_);
    auto it = conference_legs_.find(BridgeKey(company_id, leg));
    if (it == conference_legs_.end()) return false;
    it->second = true;
    return true;
  }
  absl::StatusOr<bool> ConferenceLegJoined(absl::string_view company_id,
                                           absl::string_view leg) override {
    absl::MutexLock l(&mu_);
    auto it = conference_legs_.find(BridgeKey(company_id, leg));
    if (it == conference_legs_.end()) return absl::NotFoundError("not an added conference leg");
    return it->second;
  }
  absl::Status AppendEvent(absl::string_view, const events::v1::Event& event) override {
    absl::MutexLock l(&mu_);
    events_.push_back(event);
    return absl::OkStatus();
  }
  absl::Status Ping() override { return absl::OkStatus(); }

  std::vector<events::v1::Event> events() {
    absl::MutexLock l(&mu_);
    return events_;
  }
  size_t call_count() {
    absl::MutexLock l(&mu_);
    return calls_.size();
  }

 private:
  static std::string BridgeKey(absl::string_view company_id, absl::string_view a_leg) {
    return std::string(company_id) + "|" + std::string(a_leg);
  }
  bool ClearLocked(absl::string_view company_id, absl::string_view a_leg,
                   absl::string_view b_leg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = bridges_.find(BridgeKey(company_id, a_leg));
    if (it == bridges_.end() || (!b_leg.empty() && it->second != b_leg)) return false;
    bridges_.erase(it);
    return true;
  }

  absl::Mutex mu_;
  std::map<std::string, std::string> bridges_;
  std::map<std::string, ConferenceRow> conferences_;
  std::map<std::string, bool> conference_legs_;
  std::map<std::string, AccountRow> accounts_;
  std::map<std::string, NumberRow> numbers_;
  std::map<std::string, InstructionsRow> instructions_;
  std::map<std::string, CallRow> calls_;
  std::map<std::string, std::string> dedupe_;
  std::vector<events::v1::Event> events_;
};

}  // namespace switchboard::carrier::testing
