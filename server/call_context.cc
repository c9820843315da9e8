#include "server/call_context.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace yiyuan {

absl::StatusOr<Principal> AuthenticateCall(const ServiceEnv& env,
                                           const grpc::ServerContextBase& context,
                                           absl::Time deadline) {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError(
        "missing \"authorization: Bearer <token>\" metadata");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "Bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be \"Bearer <token>\"");
  }
  absl::string_view token = absl::StripAsciiWhitespace(value.substr(7));
  return env.tokens->Authenticate(token, deadline);
}

absl::StatusOr<Principal> AuthorizeCall(const ServiceEnv& env, const grpc::ServerContextBase& context,
                                        absl::Time deadline, std::initializer_list<Role> roles,
                                        absl::string_view method) {
  absl::StatusOr<Principal> p = AuthenticateCall(env, context, deadline);
  if (!p.ok()) return p;
  if (absl::Status s = RequireRole(*p, roles, method); !s.ok()) return s;
  return p;
}

}  // namespace yiyuan
