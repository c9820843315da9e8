#include "server/intake_service.h"

#include "engine/field_violations.h"
#include "engine/request_validator.h"
#include "server/grpc_status.h"
#include "server/intake_convert.h"
#include "server/page_token.h"

namespace yiyuan {
namespace {

// Roles that may read requests: everyone but kiosks.
constexpr std::initializer_list<Role> kReaders = {Role::kOperator, Role::kIntake,
                                                  Role::kVolunteerApp, Role::kResidentApp,
                                                  Role::kAdmin};
constexpr std::initializer_list<Role> kWriters = {Role::kOperator, Role::kIntake,
                                                  Role::kResidentApp, Role::kAdmin};

}  // namespace

grpc::Status IntakeService::SubmitRequest(grpc::ServerContext* context,
                                          const v1::SubmitRequestRequest* req,
                                          v1::SubmitRequestResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kWriters, "SubmitRequest");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  RequestContent content = ContentFromProto(req->request());
  if (absl::Status s = ValidateNewRequest(req->request_id(), *district, content,
                                          env_->clock->Now());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<SubmitResult> r = store_->Submit(*district, req->request_id(), content, deadline);
  if (!r.ok()) return ToGrpcStatus(r.status());
  if (r->outcome == SubmitOutcome::kCreated && dispatcher_ != nullptr) {
    dispatcher_->Submitted(r->request);
  }
  ToProto(r->request, p->SeesResidentContact(), resp->mutable_request());
  resp->set_replayed(r->outcome == SubmitOutcome::kReplayed);
  if (r->outcome == SubmitOutcome::kDuplicate) resp->set_duplicate_of(r->request.id);
  return grpc::Status::OK;
}

grpc::Status IntakeService::GetRequest(grpc::ServerContext* context,
                                       const v1::GetRequestRequest* req, v1::HelpRequest* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kReaders, "GetRequest");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district = DistrictOfRequestId("id", req->id());
  if (!district.ok()) return ToGrpcStatus(district.status());
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<HelpRequest> r = store_->Get(req->id(), deadline);
  if (!r.ok()) return ToGrpcStatus(r.status());
  ToProto(*r, p->SeesResidentContact(), resp);
  return grpc::Status::OK;
}

grpc::Status IntakeService::ListRequests(grpc::ServerContext* context,
                                         const v1::ListRequestsRequest* req,
                                         v1::ListRequestsResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kReaders, "ListRequests");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  // The fingerprint covers the resolved district so a token cannot cross districts.
  v1::ListRequestsRequest resolved = *req;
  resolved.set_district(*district);
  absl::StatusOr<Paging> paging = PagingOf(resolved);
  if (!paging.ok()) return ToGrpcStatus(paging.status());
  absl::StatusOr<RequestFilter> filter = FilterFromProto(*req, *district);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  absl::StatusOr<RequestPage> page =
      store_->List(*filter, paging->cursor, paging->page_size, deadline);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const HelpRequest& r : page->requests) {
    ToProto(r, p->SeesResidentContact(), resp->add_requests());
  }
  resp->set_next_page_token(paging->NextToken(page->next_cursor));
  return grpc::Status::OK;
}

grpc::Status IntakeService::CancelRequest(grpc::ServerContext* context,
                                          const v1::CancelRequestRequest* req,
                                          v1::HelpRequest* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kWriters, "CancelRequest");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district = DistrictOfRequestId("id", req->id());
  if (!district.ok()) return ToGrpcStatus(district.status());
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = ValidateText("reason", req->reason(), RequestLimits().max_reason_chars,
                                    /*required=*/true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<HelpRequest> r = store_->Cancel(req->id(), req->reason(), p->token_id, deadline);
  if (!r.ok()) return ToGrpcStatus(r.status());
  ToProto(*r, p->SeesResidentContact(), resp);
  return grpc::Status::OK;
}

}  // namespace yiyuan
