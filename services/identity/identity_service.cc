#include "services/identity/identity_service.h"

#include "libs/common/log.h"
#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"
#include "services/identity/proto_convert.h"

namespace switchboard::identity {
namespace {

// The caller from gateway metadata. No metadata at all is an anonymous caller (empty
// principal; the core answers kUnauthenticated where one is needed); malformed metadata
// (unknown role) is an error.
absl::StatusOr<Principal> CallerOf(const grpc::ServerContext& context) {
  absl::StatusOr<rpc::Principal> p = rpc::PrincipalFromContext(context);
  if (!p.ok()) {
    if (p.status().code() == absl::StatusCode::kUnauthenticated) return Principal{};
    return p.status();
  }
  return PrincipalFromRpc(*p);
}

grpc::Status Reply(const grpc::ServerContext& context, const absl::Status& status) {
  return rpc::ToGrpcStatus(status, rpc::RequestIdOf(context));
}

void SetTs(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

}  // namespace

// Shorthand: resolve the caller or return its error.
#define SB_CALLER(var)                                       \
  absl::StatusOr<Principal> var##_or = CallerOf(*context);   \
  if (!var##_or.ok()) return Reply(*context, var##_or.status()); \
  const Principal& var = *var##_or

grpc::Status IdentityService::CreateCompany(grpc::ServerContext* context,
                                            const v1::CreateCompanyRequest* request,
                                            v1::CreateCompanyResponse* response) {
  auto created = core_.CreateCompany(SignupFromProto(*request));
  if (!created.ok()) return Reply(*context, created.status());
  CompanyToProto(created->first, response->mutable_company());
  UserToProto(created->second, response->mutable_owner());
  return grpc::Status::OK;
}

grpc::Status IdentityService::GetCompany(grpc::ServerContext* context,
                                         const v1::GetCompanyRequest* request,
                                         v1::Company* response) {
  SB_CALLER(caller);
  auto company = core_.GetCompany(caller, request->company_id());
  if (!company.ok()) return Reply(*context, company.status());
  CompanyToProto(*company, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::UpdateCompany(grpc::ServerContext* context,
                                            const v1::UpdateCompanyRequest* request,
                                            v1::Company* response) {
  SB_CALLER(caller);
  auto update = CompanyUpdateFromProto(*request);
  if (!update.ok()) return Reply(*context, update.status());
  auto company = core_.UpdateCompany(caller, *update);
  if (!company.ok()) return Reply(*context, company.status());
  CompanyToProto(*company, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::InviteUser(grpc::ServerContext* context,
                                         const v1::InviteUserRequest* request,
                                         v1::InviteUserResponse* response) {
  SB_CALLER(caller);
  auto invite = core_.InviteUser(caller, InviteRequest{.email = request->email(),
                                                       .full_name = request->full_name(),
                                                       .role = RoleFromProto(request->role()),
                                                       .extension = request->extension(),
                                                       .forward_to = request->forward_to()});
  if (!invite.ok()) return Reply(*context, invite.status());
  UserToProto(invite->user, response->mutable_user());
  response->set_invitation_id(invite->invitation_id);
  response->set_invitation_token(invite->token);
  SetTs(invite->expires_at, response->mutable_expires_at());
  return grpc::Status::OK;
}

grpc::Status IdentityService::AcceptInvitation(grpc::ServerContext* context,
                                               const v1::AcceptInvitationRequest* request,
                                               v1::AcceptInvitationResponse* response) {
  auto user = core_.AcceptInvitation(request->invitation_token(), request->password(),
                                     request->full_name());
  if (!user.ok()) return Reply(*context, user.status());
  UserToProto(*user, response->mutable_user());
  return grpc::Status::OK;
}

grpc::Status IdentityService::GetUser(grpc::ServerContext* context,
                                      const v1::GetUserRequest* request, v1::User* response) {
  SB_CALLER(caller);
  auto user = core_.GetUser(caller, request->user_id());
  if (!user.ok()) return Reply(*context, user.status());
  UserToProto(*user, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::ListUsers(grpc::ServerContext* context,
                                        const v1::ListUsersRequest* request,
                                        v1::ListUsersResponse* response) {
  SB_CALLER(caller);
  auto users = core_.ListUsers(caller, request->include_deactivated());
  if (!users.ok()) return Reply(*context, users.status());
  for (const User& u : *users) UserToProto(u, response->add_users());
  return grpc::Status::OK;
}

grpc::Status IdentityService::UpdateUser(grpc::ServerContext* context,
                                         const v1::UpdateUserRequest* request,
                                         v1::User* response) {
  SB_CALLER(caller);
  auto update = UserUpdateFromProto(*request);
  if (!update.ok()) return Reply(*context, update.status());
  auto user = core_.UpdateUser(caller, *update);
  if (!user.ok()) return Reply(*context, user.status());
  UserToProto(*user, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::ChangeRole(grpc::ServerContext* context,
                                         const v1::ChangeRoleRequest* request,
                                         v1::User* response) {
  SB_CALLER(caller);
  auto user = core_.ChangeRole(caller, request->user_id(), RoleFromProto(request->role()));
  if (!user.ok()) return Reply(*context, user.status());
  UserToProto(*user, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::DeactivateUser(grpc::ServerContext* context,
                                             const v1::DeactivateUserRequest* request,
                                             v1::User* response) {
  SB_CALLER(caller);
  auto user = core_.DeactivateUser(caller, request->user_id());
  if (!user.ok()) return Reply(*context, user.status());
  UserToProto(*user, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::Login(grpc::ServerContext* context,
                                    const v1::LoginRequest* request, v1::TokenPair* response) {
  auto pair = core_.Login(request->email(), request->password());
  if (!pair.ok()) return Reply(*context, pair.status());
  TokenPairToProto(*pair, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::RefreshToken(grpc::ServerContext* context,
                                           const v1::RefreshTokenRequest* request,
                                           v1::TokenPair* response) {
  auto pair = core_.Refresh(request->refresh_token());
  if (!pair.ok()) return Reply(*context, pair.status());
  TokenPairToProto(*pair, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::Logout(grpc::ServerContext* context,
                                     const v1::LogoutRequest* request, v1::LogoutResponse*) {
  return Reply(*context, core_.Logout(request->refresh_token()));
}

grpc::Status IdentityService::GetVerificationKeys(grpc::ServerContext* context,
                                                  const v1::GetVerificationKeysRequest*,
                                                  v1::GetVerificationKeysResponse* response) {
  auto keys = core_.VerificationKeys();
  if (!keys.ok()) return Reply(*context, keys.status());
  std::string jwks = "{\"keys\":[";
  for (size_t i = 0; i < keys->size(); ++i) {
    const PublishedKey& k = (*keys)[i];
    if (i > 0) jwks += ",";
    jwks += k.jwk_json;
    v1::VerificationKey* out = response->add_keys();
    out->set_kid(k.kid);
    out->set_algorithm(k.algorithm);
    out->set_public_pem(k.public_pem);
    out->set_jwk_json(k.jwk_json);
    SetTs(k.created_at, out->mutable_created_at());
    if (k.retired_at.has_value()) SetTs(*k.retired_at, out->mutable_retired_at());
  }
  jwks += "]}";
  response->set_jwks_json(jwks);
  response->set_issuer(core_.issuer());
  return grpc::Status::OK;
}

grpc::Status IdentityService::RotateSigningKey(grpc::ServerContext* context,
                                               const v1::RotateSigningKeyRequest*,
                                               v1::RotateSigningKeyResponse* response) {
  SB_CALLER(caller);
  auto rotation = core_.RotateSigningKey(caller);
  if (!rotation.ok()) return Reply(*context, rotation.status());
  log::Info("signing key rotated", {{"new_kid", rotation->new_kid},
                                    {"previous_kid", rotation->previous_kid},
                                    {"by", ActorId(caller)}});
  response->set_new_kid(rotation->new_kid);
  response->set_previous_kid(rotation->previous_kid);
  return grpc::Status::OK;
}

grpc::Status IdentityService::VerifyAccessToken(grpc::ServerContext* context,
                                                const v1::VerifyAccessTokenRequest* request,
                                                v1::VerifyAccessTokenResponse* response) {
  auto claims = core_.VerifyAccessToken(request->access_token());
  if (!claims.ok()) return Reply(*context, claims.status());
  response->set_user_id(claims->subject);
  response->set_company_id(claims->company_id);
  std::optional<Role> role = ParseRole(claims->role);
  response->set_role(role.has_value() ? RoleToProto(*role) : v1::ROLE_UNSPECIFIED);
  for (const std::string& s : claims->scopes) response->add_scopes(s);
  response->set_token_id(claims->token_id);
  SetTs(claims->expires_at, response->mutable_expires_at());
  return grpc::Status::OK;
}

grpc::Status IdentityService::CreateApiKey(grpc::ServerContext* context,
                                           const v1::CreateApiKeyRequest* request,
                                           v1::CreateApiKeyResponse* response) {
  SB_CALLER(caller);
  std::vector<std::string> scopes(request->scopes().begin(), request->scopes().end());
  auto key = core_.CreateApiKey(caller, request->name(), scopes);
  if (!key.ok()) return Reply(*context, key.status());
  ApiKeyToProto(key->key, response->mutable_api_key());
  response->set_secret(key->secret);
  return grpc::Status::OK;
}

grpc::Status IdentityService::ListApiKeys(grpc::ServerContext* context,
                                          const v1::ListApiKeysRequest* request,
                                          v1::ListApiKeysResponse* response) {
  SB_CALLER(caller);
  auto keys = core_.ListApiKeys(caller, request->include_revoked());
  if (!keys.ok()) return Reply(*context, keys.status());
  for (const ApiKey& k : *keys) ApiKeyToProto(k, response->add_api_keys());
  return grpc::Status::OK;
}

grpc::Status IdentityService::RevokeApiKey(grpc::ServerContext* context,
                                           const v1::RevokeApiKeyRequest* request,
                                           v1::ApiKey* response) {
  SB_CALLER(caller);
  auto key = core_.RevokeApiKey(caller, request->api_key_id());
  if (!key.ok()) return Reply(*context, key.status());
  ApiKeyToProto(*key, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::VerifyApiKey(grpc::ServerContext* context,
                                           const v1::VerifyApiKeyRequest* request,
                                           v1::VerifyApiKeyResponse* response) {
  auto principal = core_.VerifyApiKey(request->secret());
  if (!principal.ok()) return Reply(*context, principal.status());
  response->set_company_id(principal->company_id);
  response->set_api_key_id(principal->api_key_id);
  for (const std::string& s : principal->scopes) response->add_scopes(s);
  return grpc::Status::OK;
}

grpc::Status IdentityService::RegisterDevice(grpc::ServerContext* context,
                                             const v1::RegisterDeviceRequest* request,
                                             v1::Device* response) {
  SB_CALLER(caller);
  auto device = core_.RegisterDevice(
      caller, DeviceRequest{.user_id = request->user_id(),
                            .platform = PlatformFromProto(request->platform()),
                            .push_token = request->push_token(),
                            .label = request->label()});
  if (!device.ok()) return Reply(*context, device.status());
  DeviceToProto(*device, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::ListDevices(grpc::ServerContext* context,
                                          const v1::ListDevicesRequest* request,
                                          v1::ListDevicesResponse* response) {
  SB_CALLER(caller);
  auto devices = core_.ListDevices(caller, request->user_id());
  if (!devices.ok()) return Reply(*context, devices.status());
  for (const Device& d : *devices) DeviceToProto(d, response->add_devices());
  return grpc::Status::OK;
}

grpc::Status IdentityService::RemoveDevice(grpc::ServerContext* context,
                                           const v1::RemoveDeviceRequest* request,
                                           v1::RemoveDeviceResponse*) {
  SB_CALLER(caller);
  return Reply(*context, core_.RemoveDevice(caller, request->device_id()));
}

grpc::Status IdentityService::SetPresence(grpc::ServerContext* context,
                                          const v1::SetPresenceRequest* request,
                                          v1::Presence* response) {
  SB_CALLER(caller);
  auto presence =
      core_.SetPresence(caller, request->user_id(), PresenceStateFromProto(request->state()));
  if (!presence.ok()) return Reply(*context, presence.status());
  PresenceToProto(*presence, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::GetPresence(grpc::ServerContext* context,
                                          const v1::GetPresenceRequest* request,
                                          v1::Presence* response) {
  SB_CALLER(caller);
  auto presence = core_.GetPresence(caller, request->user_id());
  if (!presence.ok()) return Reply(*context, presence.status());
  PresenceToProto(*presence, response);
  return grpc::Status::OK;
}

grpc::Status IdentityService::Authorize(grpc::ServerContext* context,
                                        const v1::AuthorizeRequest* request,
                                        v1::AuthorizeResponse* response) {
  SB_CALLER(caller);
  // The subject is the request's principal when given (the gateway asking about a user),
  // otherwise the caller itself.
  Principal subject = request->has_principal() ? PrincipalFromProto(request->principal()) : caller;
  if (subject.company_id.empty()) {
    return Reply(*context, absl::UnauthenticatedError(
                               "no principal: send one in the request or in metadata"));
  }
  auto decision = core_.Authorize(subject, PermissionFromProto(request->permission()),
                                  request->resource_owner_user_id());
  if (!decision.ok()) return Reply(*context, decision.status());
  response->set_allowed(decision->allowed);
  response->set_reason(decision->reason);
  return grpc::Status::OK;
}

#undef SB_CALLER

}  // namespace switchboard::identity
