#include "server/volunteer_service.h"

#include <algorithm>
#include <cmath>

#include "engine/field_checks.h"
#include "engine/field_violations.h"
#include "engine/volunteer_validator.h"
#include "server/grpc_status.h"
#include "server/page_token.h"
#include "server/volunteer_convert.h"
#include "server/dispatch_convert.h"

namespace yiyuan {
namespace {

constexpr int kDefaultNearby = 20;
constexpr int kMaxNearby = 200;
constexpr double kDefaultRadiusM = 5000;
constexpr double kMaxRadiusM = 50000;
// How far ahead of the server's clock a device's fix time may be.
constexpr int64_t kMaxFixLeadMs = 10 * 60 * 1000;
// Suggested seconds between location reports, while they are stored and when not.
constexpr int kReportEveryS = 20;
constexpr int kReportIdleS = 120;

bool IsStaff(const Principal& p) { return p.role == Role::kOperator || p.role == Role::kAdmin; }

// True when the caller acts as volunteer `id`: a VOLUNTEER_APP token bound to them, or
// an unbound one (a multi-user app backend) of their district.
bool IsSelf(const Principal& p, absl::string_view id) {
  return p.role == Role::kVolunteerApp && (p.volunteer_id.empty() || p.volunteer_id == id);
}

VolunteerView ViewFor(const Principal& p, absl::string_view id) {
  if (IsStaff(p) || IsSelf(p, id)) return VolunteerView::kFull;
  if (p.role == Role::kKiosk) return VolunteerView::kKiosk;
  return VolunteerView::kMasked;
}

// The volunteer a call is about: `requested`, or the token's own when empty. A token
// bound to a volunteer may name no other (PERMISSION_DENIED); the id must be well formed
// and in the caller's districts.
absl::StatusOr<std::string> SubjectVolunteer(const Principal& p, absl::string_view field,
                                             absl::string_view requested) {
  std::string id(requested);
  if (id.empty()) {
    if (p.volunteer_id.empty()) return InvalidField(field, "is required");
    id = p.volunteer_id;
  }
  if (p.role == Role::kVolunteerApp && !p.volunteer_id.empty() && p.volunteer_id != id) {
    return absl::PermissionDeniedError("this token acts only for volunteer " + p.volunteer_id);
  }
  absl::StatusOr<std::string> district = DistrictOfVolunteerId(field, id);
  if (!district.ok()) return district.status();
  if (absl::Status s = RequireDistrict(p, *district); !s.ok()) return s;
  return id;
}

}  // namespace

grpc::Status VolunteerService::RegisterVolunteer(grpc::ServerContext* context,
                                                 const v1::RegisterVolunteerRequest* req,
                                                 v1::RegisterVolunteerResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(
      *env_, *context, deadline,
      {Role::kOperator, Role::kIntake, Role::kVolunteerApp, Role::kAdmin}, "RegisterVolunteer");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  VolunteerProfile profile = ProfileFromProto(req->volunteer());
  if (absl::Status s = ValidateVolunteerProfile("volunteer", profile); !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = roster_->Follow(*district, deadline); !s.ok()) return ToGrpcStatus(s);
  bool replayed = false;
  absl::StatusOr<Volunteer> v = volunteers_->Register(*district, profile, deadline, &replayed);
  if (!v.ok()) return ToGrpcStatus(v.status());
  VolunteerView view = p->role == Role::kIntake ? VolunteerView::kMasked : VolunteerView::kFull;
  ToProto(*v, view, resp->mutable_volunteer());
  resp->set_replayed(replayed);
  return grpc::Status::OK;
}

grpc::Status VolunteerService::GetVolunteer(grpc::ServerContext* context,
                                            const v1::GetVolunteerRequest* req,
                                            v1::Volunteer* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(
      *env_, *context, deadline,
      {Role::kOperator, Role::kIntake, Role::kVolunteerApp, Role::kKiosk, Role::kAdmin},
      "GetVolunteer");
  if (!p.ok()) return ToGrpcStatus(p.status());
  if (req->id().empty()) return ToGrpcStatus(InvalidField("id", "is required"));
  absl::StatusOr<std::string> id = SubjectVolunteer(*p, "id", req->id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<Volunteer> v = volunteers_->Get(*id, deadline);
  if (!v.ok()) return ToGrpcStatus(v.status());
  ToProto(*v, ViewFor(*p, *id), resp);
  return grpc::Status::OK;
}

grpc::Status VolunteerService::ListVolunteers(grpc::ServerContext* context,
                                              const v1::ListVolunteersRequest* req,
                                              v1::ListVolunteersResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline,
                    {Role::kOperator, Role::kIntake, Role::kKiosk, Role::kAdmin}, "ListVolunteers");
  if (!p.ok()) return ToGrpcStatus(p.status());
  if (p->role == Role::kKiosk && req->phone().empty() && req->external_id().empty()) {
    return ToGrpcStatus(absl::PermissionDeniedError(
        "a kiosk may only look up one volunteer: set the phone or external_id filter"));
  }
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  v1::ListVolunteersRequest resolved = *req;
  resolved.set_district(*district);
  absl::StatusOr<Paging> paging = PagingOf(resolved);
  if (!paging.ok()) return ToGrpcStatus(paging.status());
  absl::StatusOr<VolunteerFilter> filter = FilterFromProto(*req, *district);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  absl::StatusOr<Page<Volunteer>> page =
      volunteers_->List(*filter, paging->cursor, paging->page_size, deadline);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const Volunteer& v : page->items) ToProto(v, ViewFor(*p, v.id), resp->add_volunteers());
  resp->set_next_page_token(paging->NextToken(page->next_cursor));
  return grpc::Status::OK;
}

grpc::Status VolunteerService::UpdateVolunteer(grpc::ServerContext* context,
                                               const v1::UpdateVolunteerRequest* req,
                                               v1::Volunteer* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline, {Role::kOperator, Role::kVolunteerApp, Role::kAdmin},
                    "UpdateVolunteer");
  if (!p.ok()) return ToGrpcStatus(p.status());
  if (req->volunteer().id().empty()) {
    return ToGrpcStatus(InvalidField("volunteer.id", "is required"));
  }
  absl::StatusOr<std::string> id = SubjectVolunteer(*p, "volunteer.id", req->volunteer().id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  // Check the mask before touching Redis, so a bad mask is INVALID_ARGUMENT at once.
  VolunteerProfile scratch;
  absl::StatusOr<std::string> fields =
      ApplyVolunteerMask(req->update_mask(), req->volunteer(), IsStaff(*p), scratch);
  if (!fields.ok() && !absl::IsPermissionDenied(fields.status())) {
    return ToGrpcStatus(fields.status());
  }
  auto edit = [&](VolunteerProfile& profile) -> absl::Status {
    absl::StatusOr<std::string> changed =
        ApplyVolunteerMask(req->update_mask(), req->volunteer(), IsStaff(*p), profile);
    if (!changed.ok()) return changed.status();
    return ValidateVolunteerProfile("volunteer", profile);
  };
  absl::StatusOr<Volunteer> v =
      volunteers_->Update(*id, edit, fields.ok() ? *fields : "", p->token_id, deadline);
  if (!v.ok()) return ToGrpcStatus(v.status());
  roster_->Apply(*v);
  ToProto(*v, ViewFor(*p, *id), resp);
  return grpc::Status::OK;
}

grpc::Status VolunteerService::SetDutyStatus(grpc::ServerContext* context,
                                             const v1::SetDutyStatusRequest* req,
                                             v1::Volunteer* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline, {Role::kOperator, Role::kVolunteerApp, Role::kAdmin},
                    "SetDutyStatus");
  if (!p.ok()) return ToGrpcStatus(p.status());
  FieldViolations v;
  absl::StatusOr<std::string> id = SubjectVolunteer(*p, "volunteer_id", req->volunteer_id());
  if (!id.ok()) {
    if (!absl::IsInvalidArgument(id.status())) return ToGrpcStatus(id.status());
    v.AddFrom(id.status());
  }
  DutyStatus status = DutyStatusFromNumber(req->status());
  checks::RequiredEnum(v, "status", status);
  std::optional<LatLng> location;
  if (req->has_location() && status != DutyStatus::kOff) {
    location = LatLng{req->location().lat(), req->location().lng()};
  }
  checks::Location(v, "location", location, status == DutyStatus::kOn);
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  absl::StatusOr<Volunteer> vol =
      volunteers_->SetDuty(*id, status, location, p->token_id, deadline);
  if (!vol.ok()) return ToGrpcStatus(vol.status());
  roster_->Apply(*vol);
  ToProto(*vol, ViewFor(*p, *id), resp);
  return grpc::Status::OK;
}

grpc::Status VolunteerService::ReportLocation(grpc::ServerContext* context,
                                              const v1::ReportLocationRequest* req,
                                              v1::ReportLocationResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline, {Role::kOperator, Role::kVolunteerApp, Role::kAdmin},
                    "ReportLocation");
  if (!p.ok()) return ToGrpcStatus(p.status());
  FieldViolations v;
  if (!req->volunteer_id().empty() && !req->unit_id().empty()) {
    v.Add("unit_id", "set either volunteer_id or unit_id, not both");
  }
  checks::Location(v, "location", LocationFromProto(req->has_location(), req->location()),
                   /*required=*/true);
  const int64_t now_ms = absl::ToUnixMillis(env_->clock->Now());
  if (req->fix_time_ms() < 0) {
    v.Add("fix_time_ms", "must not be negative");
  } else if (req->fix_time_ms() > now_ms + kMaxFixLeadMs) {
    v.Add("fix_time_ms", "is more than 10 minutes in the future; check the device clock");
  }
  if (!std::isfinite(req->accuracy_m()) || req->accuracy_m() < 0) {
    v.Add("accuracy_m", "must be a non-negative number of metres");
  }
  std::string district, volunteer_id, unit_id, crew_member;
  if (!req->unit_id().empty()) {
    absl::StatusOr<std::string> d = DistrictOfUnitId("unit_id", req->unit_id());
    if (d.ok()) {
      district = *d;
      unit_id = req->unit_id();
    } else {
      v.AddFrom(d.status());
    }
    if (p->role == Role::kVolunteerApp) crew_member = p->volunteer_id;
  } else {
    absl::StatusOr<std::string> id = SubjectVolunteer(*p, "volunteer_id", req->volunteer_id());
    if (!id.ok() && !absl::IsInvalidArgument(id.status())) return ToGrpcStatus(id.status());
    if (id.ok()) {
      volunteer_id = *id;
      district = std::string(DistrictPrefix(*id));
    } else {
      v.AddFrom(id.status());
    }
  }
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  if (absl::Status s = RequireDistrict(*p, district); !s.ok()) return ToGrpcStatus(s);
  LatLng loc{req->location().lat(), req->location().lng()};
  absl::StatusOr<StoredFix> fix = volunteers_->ReportLocation(
      district, volunteer_id, unit_id, crew_member, loc, req->fix_time_ms(), deadline);
  if (!fix.ok()) return ToGrpcStatus(fix.status());
  if (fix->stored) {
    bool is_unit = !unit_id.empty();
    if (!roster_->ApplyLocation(district, is_unit, is_unit ? unit_id : volunteer_id, loc,
                                fix->time_ms, fix->revision)) {
      // Not indexed before this fix (a van's first position, a busy volunteer's first
      // location): read the record so the caller finds it at once.
      if (is_unit) {
        if (absl::StatusOr<Unit> u = units_->Get(unit_id, deadline); u.ok()) roster_->Apply(*u);
      } else if (absl::StatusOr<Volunteer> vol = volunteers_->Get(volunteer_id, deadline);
                 vol.ok()) {
        roster_->Apply(*vol);
      }
    }
  }
  resp->set_stored(fix->stored);
  resp->set_next_report_s(fix->stored ? kReportEveryS : kReportIdleS);
  return grpc::Status::OK;
}

grpc::Status VolunteerService::FindNearbyVolunteers(grpc::ServerContext* context,
                                                    const v1::FindNearbyVolunteersRequest* req,
                                                    v1::FindNearbyVolunteersResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline, {Role::kOperator, Role::kIntake, Role::kAdmin},
                    "FindNearbyVolunteers");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  FieldViolations v;
  checks::Location(v, "center", LocationFromProto(req->has_center(), req->center()),
                   /*required=*/true);
  if (req->limit() < 0) v.Add("limit", "must not be negative");
  if (!std::isfinite(req->max_radius_m()) || req->max_radius_m() < 0) {
    v.Add("max_radius_m", "must be a non-negative number of metres");
  }
  absl::StatusOr<CandidateQuery> query = QueryFromProto(*req);
  if (!query.ok()) {
    v.AddFrom(query.status());
  }
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  int k = req->limit() == 0 ? kDefaultNearby : std::min(req->limit(), kMaxNearby);
  double radius =
      req->max_radius_m() == 0 ? kDefaultRadiusM : std::min(req->max_radius_m(), kMaxRadiusM);
  double searched = 0;
  std::vector<Roster::Hit> hits =
      roster_->Nearest(*district, LatLng{req->center().lat(), req->center().lng()}, k, radius,
                       *query, env_->clock->Now(), &searched);
  resp->set_searched_radius_m(searched);
  if (hits.empty()) return grpc::Status::OK;

  // The index decides who; the records come from Redis so they are current.
  std::vector<std::string> volunteer_ids, unit_ids;
  for (const Roster::Hit& h : hits) (h.is_unit ? unit_ids : volunteer_ids).push_back(h.id);
  absl::StatusOr<std::vector<Volunteer>> vols =
      volunteers_->GetMany(*district, volunteer_ids, deadline);
  if (!vols.ok()) return ToGrpcStatus(vols.status());
  absl::StatusOr<std::vector<Unit>> units = units_->GetMany(*district, unit_ids, deadline);
  if (!units.ok()) return ToGrpcStatus(units.status());
  absl::flat_hash_map<std::string, const Volunteer*> vol_by_id;
  for (const Volunteer& vol : *vols) vol_by_id[vol.id] = &vol;
  absl::flat_hash_map<std::string, const Unit*> unit_by_id;
  for (const Unit& u : *units) unit_by_id[u.id] = &u;
  const bool intake = p->role == Role::kIntake;
  for (const Roster::Hit& h : hits) {
    v1::NearbyCandidate c;
    if (h.is_unit) {
      auto it = unit_by_id.find(h.id);
      if (it == unit_by_id.end()) continue;
      ToProto(*it->second, c.mutable_unit());
    } else {
      auto it = vol_by_id.find(h.id);
      if (it == vol_by_id.end()) continue;
      ToProto(*it->second, intake ? VolunteerView::kMasked : VolunteerView::kFull,
              c.mutable_volunteer());
      if (intake) c.mutable_volunteer()->clear_phone();
    }
    c.set_distance_m(h.distance_m);
    c.set_capacity_left(h.capacity_left);
    *resp->add_candidates() = std::move(c);
  }
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<v1::Offer>* VolunteerService::WatchOffers(
    grpc::CallbackServerContext* context, const v1::WatchOffersRequest* req) {
  auto refuse = [](const absl::Status& s) {
    return new RefusedStream<v1::Offer>(ToGrpcStatus(s));
  };
  absl::Time deadline = absl::Now() + env_->max_call_time;
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline,
                    {Role::kVolunteerApp, Role::kOperator, Role::kAdmin}, "WatchOffers");
  if (!p.ok()) return refuse(p.status());
  if (!req->volunteer_id().empty() && !req->unit_id().empty()) {
    return refuse(InvalidField("unit_id", "set volunteer_id or unit_id, not both"));
  }
  if (!req->resume_after_cursor().empty() && !IsStreamId(req->resume_after_cursor())) {
    return refuse(InvalidField("resume_after_cursor", "is not a cursor this server sent"));
  }
  AssigneeRef who;
  std::string district;
  if (!req->unit_id().empty()) {
    who = {true, req->unit_id()};
    absl::StatusOr<std::string> d = DistrictOfUnitId("unit_id", who.id);
    if (!d.ok()) return refuse(d.status());
    if (absl::Status s = RequireDistrict(*p, *d); !s.ok()) return refuse(s);
    absl::StatusOr<Unit> unit = units_->Get(who.id, deadline);
    if (!unit.ok()) return refuse(unit.status());
    if (!IsStaff(*p)) {
      const UnitSpec& u = unit->spec;
      bool member = !p->volunteer_id.empty() &&
                    (u.leader_volunteer_id == p->volunteer_id ||
                     std::find(u.member_volunteer_ids.begin(), u.member_volunteer_ids.end(),
                               p->volunteer_id) != u.member_volunteer_ids.end());
      if (!member) {
        return refuse(absl::PermissionDeniedError(
            "only the unit's leader or members may watch its offers"));
      }
    }
    district = *d;
  } else {
    absl::StatusOr<std::string> id = SubjectVolunteer(*p, "volunteer_id", req->volunteer_id());
    if (!id.ok()) return refuse(id.status());
    who = {false, *id};
    district = std::string(DistrictPrefix(*id));
  }
  return offers_.hub->WatchOffers(district, who, req->resume_after_cursor(), deadline);
}

grpc::Status VolunteerService::RespondToOffer(grpc::ServerContext* context,
                                              const v1::RespondToOfferRequest* req,
                                              v1::RespondToOfferResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline,
                    {Role::kVolunteerApp, Role::kOperator, Role::kAdmin}, "RespondToOffer");
  if (!p.ok()) return ToGrpcStatus(p.status());
  FieldViolations v;
  absl::StatusOr<std::string> district = DistrictOfOfferId("offer_id", req->offer_id());
  if (!district.ok()) v.AddFrom(district.status());
  if (req->response() != v1::RESPONSE_ACCEPT && req->response() != v1::RESPONSE_DECLINE) {
    v.Add("response", "must be RESPONSE_ACCEPT or RESPONSE_DECLINE");
  }
  if (!v1::DeclineReason_IsValid(req->decline_reason())) {
    v.Add("decline_reason", "is not a known reason");
  }
  if (req->decline_note().size() > 500) v.Add("decline_note", "must be at most 500 bytes");
  if (req->has_location()) {
    checks::Location(v, "location", LocationFromProto(true, req->location()), false);
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return ToGrpcStatus(s);
  OfferAnswer a;
  a.offer_id = req->offer_id();
  a.accept = req->response() == v1::RESPONSE_ACCEPT;
  a.decline_reason = req->decline_reason();
  a.decline_note = req->decline_note();
  if (p->role == Role::kVolunteerApp) {
    absl::StatusOr<std::string> id = SubjectVolunteer(*p, "volunteer_id", req->volunteer_id());
    if (!id.ok()) return ToGrpcStatus(id.status());
    a.volunteer_id = *id;
  } else {
    a.volunteer_id = req->volunteer_id();
    a.privileged = true;
  }
  absl::StatusOr<OfferReply> r = offers_.store->Respond(a, deadline);
  if (!r.ok()) return ToGrpcStatus(r.status());
  ToProto(r->offer, resp->mutable_offer());
  if (!a.accept && !r->replayed) offers_.dispatcher->NeedsRound(r->offer.request_id);
  if (r->assignment.has_value()) {
    absl::StatusOr<HelpRequest> request = offers_.requests->Get(r->offer.request_id, deadline);
    if (!request.ok()) return ToGrpcStatus(request.status());
    ToProto(*r->assignment, &*request, true, resp->mutable_assignment());
  }
  return grpc::Status::OK;
}

grpc::Status VolunteerService::ReportProgress(grpc::ServerContext* context,
                                              const v1::ReportProgressRequest* req,
                                              v1::Assignment* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(
      *env_, *context, deadline,
      {Role::kVolunteerApp, Role::kResidentApp, Role::kOperator, Role::kAdmin}, "ReportProgress");
  if (!p.ok()) return ToGrpcStatus(p.status());
  FieldViolations v;
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", req->request_id());
  if (!district.ok()) v.AddFrom(district.status());
  ProgressReport r;
  r.request_id = req->request_id();
  if (req->has_assignee()) {
    absl::StatusOr<AssigneeRef> a = AssigneeFromProto("assignee", req->assignee());
    if (a.ok()) {
      r.assignee = *a;
    } else {
      v.AddFrom(a.status());
    }
  }
  r.kind = ProgressKindFromNumber(req->kind());
  if (r.kind == ProgressKind::kNone || r.kind == ProgressKind::kUnknown) {
    v.Add("kind", "is required: one of PROGRESS_EN_ROUTE, PROGRESS_ARRIVED, "
                  "PROGRESS_COMPLETED, PROGRESS_RATED, PROGRESS_NO_SHOW");
  }
  if (r.kind == ProgressKind::kCompleted &&
      (req->minutes_served() < 1 || req->minutes_served() > 1440)) {
    v.Add("minutes_served", "is required for PROGRESS_COMPLETED: 1..1440");
  }
  if (req->rating() < 0 || req->rating() > 5) v.Add("rating", "must be 1..5 (0 = none)");
  if (r.kind == ProgressKind::kRated && req->rating() == 0) {
    v.Add("rating", "is required for PROGRESS_RATED: 1..5");
  }
  if (req->notes().size() > 2000) v.Add("notes", "must be at most 2000 bytes");
  if (req->has_location()) {
    checks::Location(v, "location", LocationFromProto(true, req->location()), false);
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return ToGrpcStatus(s);
  if (p->role == Role::kResidentApp && r.kind != ProgressKind::kRated &&
      r.kind != ProgressKind::kNoShow) {
    return ToGrpcStatus(absl::PermissionDeniedError(
        "RESIDENT_APP may report only PROGRESS_RATED and PROGRESS_NO_SHOW"));
  }
  if (p->role == Role::kVolunteerApp) {
    if (r.kind == ProgressKind::kNoShow) {
      return ToGrpcStatus(absl::PermissionDeniedError(
          "PROGRESS_NO_SHOW is reported by an operator or the resident"));
    }
    if (!p->volunteer_id.empty()) {
      r.volunteer_id = p->volunteer_id;
      if (!r.assignee.has_value()) r.assignee = AssigneeRef{false, p->volunteer_id};
    } else if (r.assignee.has_value() && !r.assignee->is_unit) {
      r.volunteer_id = r.assignee->id;
    } else {
      return ToGrpcStatus(InvalidField("assignee", "is required with this token"));
    }
  }
  r.minutes_served = req->minutes_served();
  r.rating = req->rating();
  r.notes = req->notes();
  r.actor = p->token_id;
  absl::StatusOr<ProgressReply> reply = offers_.store->Progress(r, deadline);
  if (!reply.ok()) return ToGrpcStatus(reply.status());
  if (r.kind == ProgressKind::kNoShow && reply->changed) {
    offers_.dispatcher->NeedsRound(r.request_id);
  }
  absl::StatusOr<HelpRequest> request = offers_.requests->Get(r.request_id, deadline);
  if (!request.ok()) return ToGrpcStatus(request.status());
  bool unmasked = IsStaff(*p) || p->role == Role::kVolunteerApp;
  ToProto(reply->assignment, &*request, unmasked, resp);
  return grpc::Status::OK;
}

}  // namespace yiyuan
