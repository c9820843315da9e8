#include "server/grpc_status.h"

#include <string>

#include "engine/field_violations.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace yiyuan {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(message);
  std::vector<FieldViolation> violations = ViolationsFromStatus(status);
  if (!violations.empty()) {
    google::rpc::BadRequest bad;
    for (const FieldViolation& v : violations) {
      auto* fv = bad.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    rich.add_details()->PackFrom(bad);
  }
  if (std::string reason = ReasonOf(status); !reason.empty()) {
    google::rpc::ErrorInfo info;
    info.set_reason(reason);
    info.set_domain("yiyuan.dev");
    rich.add_details()->PackFrom(info);
  }
  return grpc::Status(code, message, rich.SerializeAsString());
}

absl::Time CallDeadline(const grpc::ServerContextBase& context, absl::Duration cap) {
  absl::Time deadline = absl::FromChrono(context.deadline());
  return std::min(deadline, absl::Now() + cap);
}

}  // namespace yiyuan
