#include "server/unit_service.h"

#include "engine/field_violations.h"
#include "engine/volunteer_validator.h"
#include "server/grpc_status.h"
#include "server/page_token.h"
#include "server/volunteer_convert.h"

namespace yiyuan {
namespace {

constexpr std::initializer_list<Role> kEditors = {Role::kOperator, Role::kAdmin};
constexpr std::initializer_list<Role> kReaders = {
    Role::kOperator, Role::kIntake, Role::kVolunteerApp, Role::kResidentApp, Role::kAdmin};

}  // namespace

grpc::Status UnitService::CreateUnit(grpc::ServerContext* context, const v1::CreateUnitRequest* req,
                                     v1::Unit* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kEditors, "CreateUnit");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  FieldViolations v;
  if (!req->unit_id().empty()) {
    v.AddFrom(ValidateClientUnitId("unit_id", req->unit_id()));
  }
  UnitSpec spec = UnitSpecFromProto(req->unit());
  v.AddFrom(ValidateUnitSpec("unit", *district, spec));
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  if (absl::Status s = roster_->Follow(*district, deadline); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<Unit> u =
      units_->Create(*district, req->unit_id(), spec, p->token_id, deadline, nullptr);
  if (!u.ok()) return ToGrpcStatus(u.status());
  roster_->Apply(*u);
  ToProto(*u, resp);
  return grpc::Status::OK;
}

grpc::Status UnitService::GetUnit(grpc::ServerContext* context, const v1::GetUnitRequest* req,
                                  v1::Unit* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kReaders, "GetUnit");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district = DistrictOfUnitId("id", req->id());
  if (!district.ok()) return ToGrpcStatus(district.status());
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<Unit> u = units_->Get(req->id(), deadline);
  if (!u.ok()) return ToGrpcStatus(u.status());
  ToProto(*u, resp);
  return grpc::Status::OK;
}

grpc::Status UnitService::ListUnits(grpc::ServerContext* context, const v1::ListUnitsRequest* req,
                                    v1::ListUnitsResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kReaders, "ListUnits");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  v1::ListUnitsRequest resolved = *req;
  resolved.set_district(*district);
  absl::StatusOr<Paging> paging = PagingOf(resolved);
  if (!paging.ok()) return ToGrpcStatus(paging.status());
  absl::StatusOr<UnitFilter> filter = FilterFromProto(*req, *district);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  absl::StatusOr<Page<Unit>> page =
      units_->List(*filter, paging->cursor, paging->page_size, deadline);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const Unit& u : page->items) ToProto(u, resp->add_units());
  resp->set_next_page_token(paging->NextToken(page->next_cursor));
  return grpc::Status::OK;
}

grpc::Status UnitService::UpdateUnit(grpc::ServerContext* context, const v1::UpdateUnitRequest* req,
                                     v1::Unit* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kEditors, "UpdateUnit");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district = DistrictOfUnitId("unit.id", req->unit().id());
  if (!district.ok()) return ToGrpcStatus(district.status());
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return ToGrpcStatus(s);
  UnitSpec scratch;
  bool moved = false;
  if (absl::Status s = ApplyUnitMask(req->update_mask(), req->unit(), scratch, moved); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto edit = [&](UnitSpec& spec, bool& location_changed) -> absl::Status {
    if (absl::Status s = ApplyUnitMask(req->update_mask(), req->unit(), spec, location_changed);
        !s.ok()) {
      return s;
    }
    return ValidateUnitSpec("unit", *district, spec);
  };
  absl::StatusOr<Unit> u = units_->Update(req->unit().id(), edit, p->token_id, deadline);
  if (!u.ok()) return ToGrpcStatus(u.status());
  roster_->Apply(*u);
  ToProto(*u, resp);
  return grpc::Status::OK;
}

grpc::Status UnitService::CreatePairing(grpc::ServerContext* context,
                                        const v1::CreatePairingRequest* req, v1::Pairing* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(
      *env_, *context, deadline, {Role::kOperator, Role::kIntake, Role::kAdmin}, "CreatePairing");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  Pairing pairing = PairingFromProto(*req);
  if (absl::Status s = ValidatePairing(*district, pairing); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<Pairing> stored =
      volunteers_->CreatePairing(*district, pairing, p->token_id, deadline, nullptr);
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  ToProto(*stored, p->SeesResidentContact(), resp);
  return grpc::Status::OK;
}

}  // namespace yiyuan
