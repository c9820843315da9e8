#include "server/admin_service.h"

#include "engine/field_violations.h"
#include "engine/request_validator.h"
#include "server/grpc_status.h"

namespace yiyuan {
namespace {

void ToProto(const TokenRecord& r, v1::TokenInfo* out) {
  out->set_token_id(r.principal.token_id);
  out->set_name(r.principal.name);
  out->set_role(static_cast<v1::Role>(r.principal.role));
  out->set_district(r.principal.district);
  out->set_kiosk_id(r.principal.kiosk_id);
  out->set_volunteer_id(r.principal.volunteer_id);
  out->set_create_time_ms(r.create_time_ms);
  out->set_revoked(r.revoked);
}

absl::StatusOr<Principal> PrincipalFromProto(const v1::CreateTokenRequest& req) {
  FieldViolations v;
  Principal p;
  if (absl::Status s = ValidateText("name", req.name(), 64, /*required=*/true); !s.ok()) {
    v.Add("name", "is required and at most 64 characters");
  }
  p.name = req.name();
  if (req.role() <= v1::ROLE_UNSPECIFIED || req.role() > v1::ROLE_ADMIN) {
    v.Add("role", "is required");
  } else {
    p.role = static_cast<Role>(req.role());
  }
  p.district = req.district();
  if (p.district == "*") {
    if (p.role != Role::kAdmin) v.Add("district", "\"*\" (every district) is for ADMIN only");
  } else if (!ValidateDistrict("district", p.district).ok()) {
    v.Add("district", "is required: lower-case letters and digits, at most 32");
  }
  p.kiosk_id = req.kiosk_id();
  if (p.role == Role::kKiosk && p.kiosk_id.empty()) {
    v.Add("kiosk_id", "is required for a KIOSK token");
  } else if (!p.kiosk_id.empty() && !ValidateId("kiosk_id", p.kiosk_id).ok()) {
    v.Add("kiosk_id", "may hold only letters, digits, '-' and '_' (at most 64)");
  }
  p.volunteer_id = req.volunteer_id();
  if (!p.volunteer_id.empty() && !ValidateId("volunteer_id", p.volunteer_id).ok()) {
    v.Add("volunteer_id", "may hold only letters, digits, '-' and '_' (at most 64)");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return s;
  return p;
}

constexpr std::initializer_list<Role> kAdmins = {Role::kAdmin};

}  // namespace

grpc::Status AdminService::CreateToken(grpc::ServerContext* context,
                                       const v1::CreateTokenRequest* req,
                                       v1::CreateTokenResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> caller = AuthorizeCall(*env_, *context, deadline, kAdmins, "CreateToken");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<Principal> p = PrincipalFromProto(*req);
  if (!p.ok()) return ToGrpcStatus(p.status());
  auto created = env_->tokens->Create(*p, deadline);
  if (!created.ok()) return ToGrpcStatus(created.status());
  resp->set_token(created->first);
  ToProto(created->second, resp->mutable_info());
  return grpc::Status::OK;
}

grpc::Status AdminService::ListTokens(grpc::ServerContext* context, const v1::ListTokensRequest*,
                                      v1::ListTokensResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> caller = AuthorizeCall(*env_, *context, deadline, kAdmins, "ListTokens");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<std::vector<TokenRecord>> records = env_->tokens->List(deadline);
  if (!records.ok()) return ToGrpcStatus(records.status());
  for (const TokenRecord& r : *records) ToProto(r, resp->add_tokens());
  return grpc::Status::OK;
}

grpc::Status AdminService::RevokeToken(grpc::ServerContext* context,
                                       const v1::RevokeTokenRequest* req, v1::TokenInfo* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> caller = AuthorizeCall(*env_, *context, deadline, kAdmins, "RevokeToken");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = ValidateId("token_id", req->token_id(), 12); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<TokenRecord> r = env_->tokens->Revoke(req->token_id(), deadline);
  if (!r.ok()) return ToGrpcStatus(r.status());
  ToProto(*r, resp);
  return grpc::Status::OK;
}

}  // namespace yiyuan
