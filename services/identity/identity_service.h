// IdentityService: the gRPC adapter of the identity service. Each handler reads the caller's
// principal from gateway metadata (rpc::PrincipalFromContext), converts the request
// (proto_convert), calls IdentityCore and maps the Status (rpc::ToGrpcStatus, which hides
// internal errors behind the request id). No business rules, SQL or Redis here.
// Thread-safe (the core is). The core must outlive the service.
#pragma once

#include "services/identity/identity_core.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"

namespace switchboard::identity {

class IdentityService final : public v1::Identity::Service {
 public:
  explicit IdentityService(IdentityCore& core) : core_(core) {}

#define SB_IDENTITY_RPC(Method, Request, Response)                                      \
  grpc::Status Method(grpc::ServerContext* context, const v1::Request* request,        \
                      v1::Response* response) override;
  SB_IDENTITY_RPC(CreateCompany, CreateCompanyRequest, CreateCompanyResponse)
  SB_IDENTITY_RPC(GetCompany, GetCompanyRequest, Company)
  SB_IDENTITY_RPC(UpdateCompany, UpdateCompanyRequest, Company)
  SB_IDENTITY_RPC(InviteUser, InviteUserRequest, InviteUserResponse)
  SB_IDENTITY_RPC(AcceptInvitation, AcceptInvitationRequest, AcceptInvitationResponse)
  SB_IDENTITY_RPC(GetUser, GetUserRequest, User)
  SB_IDENTITY_RPC(ListUsers, ListUsersRequest, ListUsersResponse)
  SB_IDENTITY_RPC(UpdateUser, UpdateUserRequest, User)
  SB_IDENTITY_RPC(ChangeRole, ChangeRoleRequest, User)
  SB_IDENTITY_RPC(DeactivateUser, DeactivateUserRequest, User)
  SB_IDENTITY_RPC(Login, LoginRequest, TokenPair)
  SB_IDENTITY_RPC(RefreshToken, RefreshTokenRequest, TokenPair)
  SB_IDENTITY_RPC(Logout, LogoutRequest, LogoutResponse)
  SB_IDENTITY_RPC(GetVerificationKeys, GetVerificationKeysRequest, GetVerificationKeysResponse)
  SB_IDENTITY_RPC(RotateSigningKey, RotateSigningKeyRequest, RotateSigningKeyResponse)
  SB_IDENTITY_RPC(VerifyAccessToken, VerifyAccessTokenRequest, VerifyAccessTokenResponse)
  SB_IDENTITY_RPC(CreateApiKey, CreateApiKeyRequest, CreateApiKeyResponse)
  SB_IDENTITY_RPC(ListApiKeys, ListApiKeysRequest, ListApiKeysResponse)
  SB_IDENTITY_RPC(RevokeApiKey, RevokeApiKeyRequest, ApiKey)
  SB_IDENTITY_RPC(VerifyApiKey, VerifyApiKeyRequest, VerifyApiKeyResponse)
  SB_IDENTITY_RPC(RegisterDevice, RegisterDeviceRequest, Device)
  SB_IDENTITY_RPC(ListDevices, ListDevicesRequest, ListDevicesResponse)
  SB_IDENTITY_RPC(RemoveDevice, RemoveDeviceRequest, RemoveDeviceResponse)
  SB_IDENTITY_RPC(SetPresence, SetPresenceRequest, Presence)
  SB_IDENTITY_RPC(GetPresence, GetPresenceRequest, Presence)
  SB_IDENTITY_RPC(Authorize, AuthorizeRequest, AuthorizeResponse)
#undef SB_IDENTITY_RPC

 private:
  IdentityCore& core_;
};

}  // namespace switchboard::identity
