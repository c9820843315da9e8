#ifndef YIYUAN_SERVER_GRPC_STATUS_H_
#define YIYUAN_SERVER_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace yiyuan {

// The one place where an absl::Status becomes what the client sees: same code and
// message, plus google.rpc.Status details — a BadRequest listing every field violation
// for INVALID_ARGUMENT.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The call's deadline as absl::Time (InfiniteFuture when the client set none), capped at
// `cap` from now so that no handler waits on Redis longer than that.
absl::Time CallDeadline(const grpc::ServerContextBase& context,
                        absl::Duration cap = absl::Seconds(5));

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_GRPC_STATUS_H_
