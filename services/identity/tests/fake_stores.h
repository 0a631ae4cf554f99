// In-memory IdentityStore and PresenceStore for unit tests. They mirror PgStore's contract:
// tenant scoping (another company's row is kNotFound), unique email / per-company extension
// (kAlreadyExists), seat counting for invitations, single-use invitations, atomic refresh
// rotation and the last-owner rule. FailNext(status) makes the next call fail. Thread-safe.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/identity/plans.h"
#include "services/identity/store.h"

namespace switchboard::identity::testing {

class FakeIdentityStore final : public IdentityStore {
 public:
  void FailNext(absl::Status status) {
    absl::MutexLock l(&mu_);
    fail_next_ = std::move(status);
  }
  std::vector<IdentityEvent> events() const {
    absl::MutexLock l(&mu_);
    return events_;
  }
  void ClearEvents() {
    absl::MutexLock l(&mu_);
    events_.clear();
  }
  std::vector<RefreshToken> refresh_tokens() const {
    absl::MutexLock l(&mu_);
    std::vector<RefreshToken> out;
    for (const auto& [k, v] : refresh_) out.push_back(v);
    return out;
  }

  absl::Status CreateCompany(const Company& company, const User& owner,
                             const std::vector<IdentityEvent>& events) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    if (companies_.count(company.id)) return absl::AlreadyExistsError("company exists");
    if (auto s = CheckUnique(owner); !s.ok()) return s;
    companies_[company.id] = company;
    users_[owner.id] = owner;
    Emit(events);
    return absl::OkStatus();
  }
  absl::StatusOr<Company> GetCompany(absl::string_view company_id) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = companies_.find(std::string(company_id));
    if (it == companies_.end()) return absl::NotFoundError("company not found");
    return it->second;
  }
  absl::Status UpdateCompany(const Company& company, absl::Time now,
                             const std::vector<IdentityEvent>& events) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = companies_.find(company.id);
    if (it == companies_.end()) return absl::NotFoundError("company not found");
    if (company.plan != it->second.plan &&
        !WithinUserLimit(company.plan, Seats(company.id, "", now))) {
      return UserLimitError(company.plan);
    }
    it->second = company;
    Emit(events);
    return absl::OkStatus();
  }
  absl::StatusOr<User> GetUser(absl::string_view company_id, absl::string_view user_id) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = users_.find(std::string(user_id));
    if (it == users_.end() || it->second.company_id != company_id) {
      return absl::NotFoundError("user not found");
    }
    return it->second;
  }
  absl::StatusOr<std::vector<User>> ListUsers(absl::string_view company_id,
                                              bool include_deactivated) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    std::vector<User> out;
    for (const auto& [id, u] : users_) {
      if (u.company_id != company_id) continue;
      if (!include_deactivated && u.status == UserStatus::kDeactivated) continue;
      out.push_back(u);
    }
    return out;
  }
  absl::StatusOr<User> FindUserByEmail(absl::string_view email) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    for (const auto& [id, u] : users_) {
      if (u.email == email) return u;
    }
    return absl::NotFoundError("user not found");
  }
  absl::Status UpdateUser(const User& user, const std::vector<IdentityEvent>& events) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = users_.find(user.id);
    if (it == users_.end() || it->second.company_id != user.company_id) {
      return absl::NotFoundError("user not found");
    }
    if (auto s = CheckUnique(user); !s.ok()) return s;
    User before = it->second;
    it->second = user;
    bool owner_left = false;
    for (const auto& [id, u] : users_) {
      if (u.company_id == user.company_id && u.role == Role::kOwner &&
          u.status == UserStatus::kActive) {
        owner_left = true;
      }
    }
    if (!owner_left) {
      it->second = before;
      return absl::FailedPreconditionError("the company must keep at least one active owner");
    }
    Emit(events);
    return absl::OkStatus();
  }
  absl::Status CreateInvitation(const User& user, bool new_user, const Invitation& invitation,
                                absl::Time now, const std::vector<IdentityEvent>& events) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto c = companies_.find(user.company_id);
    if (c == companies_.end()) return absl::NotFoundError("company not found");
    if (!WithinUserLimit(c->second.plan, Seats(user.company_id, user.id, now) + 1)) {
      return UserLimitError(c->second.plan);
    }
    if (auto s = CheckUnique(user); !s.ok()) return s;
    if (!new_user) {
      for (auto& [id, inv] : invitations_) {
        if (inv.user_id == user.id && !inv.accepted_at.has_value()) inv.expires_at = now;
      }
    }
    users_[user.id] = user;
    invitations_[invitation.id] = invitation;
    Emit(events);
    return absl::OkStatus();
  }
  absl::StatusOr<Invitation> FindInvitationByTokenHash(absl::string_view hash) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    for (const auto& [id, inv] : invitations_) {
      if (inv.token_hash == hash) return inv;
    }
    return absl::NotFoundError("invitation not found");
  }
  absl::Status AcceptInvitation(const Invitation& invitation, const User& user, absl::Time now,
                                const std::vector<IdentityEvent>& events) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = invitations_.find(invitation.id);
    if (it == invitations_.end()) return absl::NotFoundError("invitation not found");
    if (it->second.accepted_at.has_value() || it->second.expires_at <= now) {
      return absl::FailedPreconditionError("invitation already used");
    }
    it->second.accepted_at = now;
    users_[user.id] = user;
    Emit(events);
    return absl::OkStatus();
  }
  absl::Status InsertRefreshToken(const RefreshToken& token) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    refresh_[token.id] = token;
    return absl::OkStatus();
  }
  absl::StatusOr<RefreshToken> FindRefreshTokenByHash(absl::string_view hash) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    for (const auto& [id, t] : refresh_) {
      if (t.token_hash == hash) return t;
    }
    return absl::NotFoundError("refresh token not found");
  }
  absl::Status RotateRefreshToken(const RefreshToken& old_token, const RefreshToken& next,
                                  absl::Time now) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    RefreshToken& old = refresh_.at(old_token.id);
    if (old.rotated_at.has_value() || old.revoked_at.has_value()) {
      return absl::FailedPreconditionError("already rotated");
    }
    old.rotated_at = now;
    refresh_[next.id] = next;
    return absl::OkStatus();
  }
  absl::Status RevokeRefreshFamily(absl::string_view company_id, absl::string_view family_id,
                                   absl::Time now) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    for (auto& [id, t] : refresh_) {
      if (t.company_id == company_id && t.family_id == family_id && !t.revoked_at) {
        t.revoked_at = now;
      }
    }
    return absl::OkStatus();
  }
  absl::Status InsertSigningKey(const SigningKeyRecord& key, bool retire_others) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    for (auto& k : keys_) {
      if (k.kid == key.kid) return absl::AlreadyExistsError("kid exists");
      if (retire_others && !k.retired_at.has_value()) k.retired_at = key.created_at;
    }
    keys_.insert(keys_.begin(), key);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    return keys_;
  }
  absl::Status InsertApiKey(const ApiKey& key) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    api_keys_[key.id] = key;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<ApiKey>> ListApiKeys(absl::string_view company_id,
                                                  bool include_revoked) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    std::vector<ApiKey> out;
    for (const auto& [id, k] : api_keys_) {
      if (k.company_id == company_id && (include_revoked || !k.revoked_at)) out.push_back(k);
    }
    return out;
  }
  absl::StatusOr<ApiKey> RevokeApiKey(absl::string_view company_id, absl::string_view id,
                                      absl::Time now) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = api_keys_.find(std::string(id));
    if (it == api_keys_.end() || it->second.company_id != company_id) {
      return absl::NotFoundError("api key not found");
    }
    if (!it->second.revoked_at) it->second.revoked_at = now;
    return it->second;
  }
  absl::StatusOr<ApiKey> FindApiKeyBySecretHash(absl::string_view hash) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    for (const auto& [id, k] : api_keys_) {
      if (k.secret_hash == hash) return k;
    }
    return absl::NotFoundError("api key not found");
  }
  absl::Status TouchApiKey(absl::string_view company_id, absl::string_view id,
                           absl::Time now) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = api_keys_.find(std::string(id));
    if (it == api_keys_.end() || it->second.company_id != company_id) {
      return absl::NotFoundError("api key not found");
    }
    it->second.last_used_at = now;
    return absl::OkStatus();
  }
  absl::StatusOr<Device> UpsertDevice(const Device& device) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    for (auto& [id, d] : devices_) {
      if (d.company_id == device.company_id && d.platform == device.platform &&
          !device.push_token.empty() && d.push_token == device.push_token) {
        d.user_id = device.user_id;
        d.label = device.label;
        d.updated_at = device.updated_at;
        return d;
      }
    }
    devices_[device.id] = device;
    return device;
  }
  absl::StatusOr<std::vector<Device>> ListDevices(absl::string_view company_id,
                                                  absl::string_view user_id) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    std::vector<Device> out;
    for (const auto& [id, d] : devices_) {
      if (d.company_id == company_id && d.user_id == user_id) out.push_back(d);
    }
    return out;
  }
  absl::StatusOr<Device> GetDevice(absl::string_view company_id, absl::string_view id) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = devices_.find(std::string(id));
    if (it == devices_.end() || it->second.company_id != company_id) {
      return absl::NotFoundError("device not found");
    }
    return it->second;
  }
  absl::Status DeleteDevice(absl::string_view company_id, absl::string_view id) override {
    absl::MutexLock l(&mu_);
    if (auto s = TakeFailure(); !s.ok()) return s;
    auto it = devices_.find(std::string(id));
    if (it == devices_.end() || it->second.company_id != company_id) {
      return absl::NotFoundError("device not found");
    }
    devices_.erase(it);
    return absl::OkStatus();
  }

 private:
  absl::Status TakeFailure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status s = fail_next_;
    fail_next_ = absl::OkStatus();
    return s;
  }
  void Emit(const std::vector<IdentityEvent>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    events_.insert(events_.end(), events.begin(), events.end());
  }
  absl::Status CheckUnique(const User& user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& [id, u] : users_) {
      if (id == user.id) continue;
      if (u.email == user.email) return absl::AlreadyExistsError("email: already registered");
      if (!user.extension.empty() && u.company_id == user.company_id &&
          u.extension == user.extension) {
        return absl::AlreadyExistsError("extension: already in use");
      }
    }
    return absl::OkStatus();
  }
  int Seats(const std::string& company_id, const std::string& except_user, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int n = 0;
    for (const auto& [id, u] : users_) {
      if (u.company_id != company_id || id == except_user) continue;
      if (u.status == UserStatus::kActive) {
        ++n;
      } else if (u.status == UserStatus::kInvited) {
        for (const auto& [iid, inv] : invitations_) {
          if (inv.user_id == id && !inv.accepted_at && inv.expires_at > now) {
            ++n;
            break;
          }
        }
      }
    }
    return n;
  }

  mutable absl::Mutex mu_;
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Company> companies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, User> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Invitation> invitations_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, RefreshToken> refresh_ ABSL_GUARDED_BY(mu_);
  std::vector<SigningKeyRecord> keys_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ApiKey> api_keys_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Device> devices_ ABSL_GUARDED_BY(mu_);
  std::vector<IdentityEvent> events_ ABSL_GUARDED_BY(mu_);
};

class FakePresenceStore final : public PresenceStore {
 public:
  // While down, every call is kUnavailable (like Redis being unreachable).
  void SetDown(bool down) {
    absl::MutexLock l(&mu_);
    down_ = down;
  }
  absl::Status Set(absl::string_view company_id, const Presence& presence) override {
    absl::MutexLock l(&mu_);
    if (down_) return absl::UnavailableError("redis down");
    data_[absl::StrCat(company_id, "/", presence.user_id)] = presence;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<Presence>> Get(absl::string_view company_id,
                                              absl::string_view user_id) override {
    absl::MutexLock l(&mu_);
    if (down_) return absl::UnavailableError("redis down");
    auto it = data_.find(absl::StrCat(company_id, "/", user_id));
    if (it == data_.end()) return std::optional<Presence>();
    return std::optional<Presence>(it->second);
  }

 private:
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, Presence> data_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::identity::testing
