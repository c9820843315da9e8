#ifndef YIYUAN_SERVER_CALL_CONTEXT_H_
#define YIYUAN_SERVER_CALL_CONTEXT_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/clock.h"
#include "server/auth.h"

namespace yiyuan {

// What every service needs to handle a call.
struct ServiceEnv {
  TokenStore* tokens = nullptr;
  const Clock* clock = nullptr;
  // District used when the caller's token covers every district and the call names none.
  std::string default_district = "wuxing";
  // Longest a handler waits on Redis, whatever the client's deadline.
  absl::Duration max_call_time = absl::Seconds(5);
};

// The principal behind the call's "authorization: Bearer <token>" metadata.
// UNAUTHENTICATED when the header is missing, malformed, unknown or revoked.
absl::StatusOr<Principal> AuthenticateCall(const ServiceEnv& env,
                                           const grpc::ServerContextBase& context,
                                           absl::Time deadline);

// AuthenticateCall, then PERMISSION_DENIED unless the principal has one of `roles`.
absl::StatusOr<Principal> AuthorizeCall(const ServiceEnv& env, const grpc::ServerContextBase& context,
                                        absl::Time deadline, std::initializer_list<Role> roles,
                                        absl::string_view method);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_CALL_CONTEXT_H_
