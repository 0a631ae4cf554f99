// The caller's identity, carried in gRPC metadata that `gateway` sets after verifying the token
// or API key (ARCHITECTURE §5). Services trust these headers only because nothing but gateway
// and sibling services can reach them.
#pragma once

#include <string>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::rpc {

inline constexpr char kCompanyIdKey[] = "x-sb-company-id";
inline constexpr char kUserIdKey[] = "x-sb-user-id";
inline constexpr char kRoleKey[] = "x-sb-role";
inline constexpr char kScopesKey[] = "x-sb-scopes";  // space separated
inline constexpr char kApiKeyIdKey[] = "x-sb-api-key-id";
inline constexpr char kRequestIdKey[] = "x-request-id";

struct Principal {
  std::string company_id;
  std::string user_id;     // empty for API-key callers
  std::string role;        // owner | admin | office | tech | service
  std::vector<std::string> scopes;
  std::string api_key_id;  // empty for user callers
};

// True for "owner", "admin", "office", "tech", "service".
bool IsValidRole(absl::string_view role);

// Reads the principal from the call's metadata. Returns kUnauthenticated when x-sb-company-id is
// missing or empty, when both x-sb-user-id and x-sb-api-key-id are missing (allowed only for role
// "service": a sibling service acting for the company), or when x-sb-role is missing; kInvalidArgument naming the key when x-sb-role is not a known role. Empty scope
// tokens (repeated spaces) are dropped.
absl::StatusOr<Principal> PrincipalFromContext(const grpc::ServerContext& context);

// Sets the metadata PrincipalFromContext reads (for clients in services and tests). Empty
// fields are not sent. Call before the RPC starts; a ClientContext is used for one call only.
void AttachPrincipal(grpc::ClientContext& context, const Principal& principal);

// The request id of the call: the incoming x-request-id, or the one GrpcServer's interceptor
// generated (UUIDv7). Empty only on a server not started by GrpcServer that received no id.
std::string RequestIdOf(const grpc::ServerContext& context);

}  // namespace switchboard::rpc
