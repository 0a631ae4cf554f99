// Conversions between identity domain types and switchboard.identity.v1 protobufs. The only
// code besides identity_service.cc that touches .pb types. Pure, thread-safe.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "libs/grpc/principal.h"
#include "services/identity/identity_core.h"
#include "services/identity/model.h"
#include "switchboard/identity/v1/identity.pb.h"

namespace switchboard::identity {

namespace v1 = ::switchboard::identity::v1;

// UNSPECIFIED (and unknown numbers) map to std::nullopt; the core names the missing field.
std::optional<Plan> PlanFromProto(v1::Plan plan);
std::optional<Role> RoleFromProto(v1::Role role);
std::optional<DevicePlatform> PlatformFromProto(v1::DevicePlatform platform);
std::optional<PresenceState> PresenceStateFromProto(v1::PresenceState state);
std::optional<Permission> PermissionFromProto(v1::Permission permission);
v1::Plan PlanToProto(Plan plan);
v1::Role RoleToProto(Role role);
v1::Permission PermissionToProto(Permission permission);

Address AddressFromProto(const v1::Address& address);
void CompanyToProto(const Company& company, v1::Company* out);
// Never copies the password hash.
void UserToProto(const User& user, v1::User* out);
void ApiKeyToProto(const ApiKey& key, v1::ApiKey* out);
void DeviceToProto(const Device& device, v1::Device* out);
void PresenceToProto(const Presence& presence, v1::Presence* out);
void TokenPairToProto(const TokenPair& pair, v1::TokenPair* out);

SignupRequest SignupFromProto(const v1::CreateCompanyRequest& request);
// kInvalidArgument naming "update_mask" for an unknown path.
absl::StatusOr<CompanyUpdate> CompanyUpdateFromProto(const v1::UpdateCompanyRequest& request);
absl::StatusOr<UserUpdate> UserUpdateFromProto(const v1::UpdateUserRequest& request);

// Gateway metadata principal -> domain principal ("service" role -> service principal).
// kInvalidArgument naming "x-sb-role" for an unknown role.
absl::StatusOr<Principal> PrincipalFromRpc(const rpc::Principal& principal);
// Request-body principal (Authorize). Role UNSPECIFIED = no role (API key or unknown).
Principal PrincipalFromProto(const v1::Principal& principal);

}  // namespace switchboard::identity
