#include "libs/grpc/principal.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace switchboard::rpc {
namespace {

std::optional<std::string> Metadata(const grpc::ServerContext& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

bool IsValidRole(absl::string_view role) {
  return role == "owner" || role == "admin" || role == "office" || role == "tech" ||
         role == "service";
}

absl::StatusOr<Principal> PrincipalFromContext(const grpc::ServerContext& context) {
  Principal principal;
  principal.company_id = Metadata(context, kCompanyIdKey).value_or("");
  if (principal.company_id.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("missing ", kCompanyIdKey));
  }
  std::optional<std::string> role = Metadata(context, kRoleKey);
  if (!role.has_value() || role->empty()) {
    return absl::UnauthenticatedError(absl::StrCat("missing ", kRoleKey));
  }
  if (!IsValidRole(*role)) {
    return absl::InvalidArgumentError(absl::StrCat(
        kRoleKey, ": unknown role '", role->substr(0, 32),
        "' (want owner, admin, office, tech or service)"));
  }
  principal.role = std::move(*role);
  principal.user_id = Metadata(context, kUserIdKey).value_or("");
  principal.api_key_id = Metadata(context, kApiKeyIdKey).value_or("");
  // A sibling service acts for a company, not for a person: it needs no user or key id.
  if (principal.role != "service" && principal.user_id.empty() && principal.api_key_id.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("missing ", kUserIdKey, " and ", kApiKeyIdKey));
  }
  const std::string scopes = Metadata(context, kScopesKey).value_or("");
  principal.scopes = absl::StrSplit(scopes, ' ', absl::SkipEmpty());
  return principal;
}

void AttachPrincipal(grpc::ClientContext& context, const Principal& principal) {
  if (!principal.company_id.empty()) context.AddMetadata(kCompanyIdKey, principal.company_id);
  if (!principal.user_id.empty()) context.AddMetadata(kUserIdKey, principal.user_id);
  if (!principal.role.empty()) context.AddMetadata(kRoleKey, principal.role);
  if (!principal.scopes.empty()) {
    context.AddMetadata(kScopesKey, absl::StrJoin(principal.scopes, " "));
  }
  if (!principal.api_key_id.empty()) context.AddMetadata(kApiKeyIdKey, principal.api_key_id);
}

std::string RequestIdOf(const grpc::ServerContext& context) {
  return Metadata(context, kRequestIdKey).value_or("");
}

}  // namespace switchboard::rpc
