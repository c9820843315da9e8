#include "server/dispatch_service.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/field_checks.h"
#include "engine/field_violations.h"
#include "engine/volunteer_validator.h"
#include "server/crypto.h"
#include "server/dispatch_convert.h"
#include "server/grpc_status.h"
#include "server/intake_convert.h"
#include "server/page_token.h"
#include "server/volunteer_convert.h"

namespace yiyuan {
namespace {

constexpr int kDefaultExplain = 10;
constexpr int kMaxExplain = 100;
constexpr int kDefaultMobilizeTtlS = 1800;

const std::initializer_list<Role> kStaff = {Role::kOperator, Role::kAdmin};

void Reason(FieldViolations& v, absl::string_view reason) {
  if (reason.empty() || reason.size() > 500) v.Add("reason", "is required: 1..500 characters");
}

// An assignee of `district`.
absl::StatusOr<AssigneeRef> AssigneeIn(absl::string_view field, const v1::Assignee& a,
                                       absl::string_view district) {
  absl::StatusOr<AssigneeRef> r = AssigneeFromProto(field, a);
  if (!r.ok()) return r;
  if (DistrictPrefix(r->id) != district) {
    return InvalidField(absl::StrCat(field, r->is_unit ? ".unit_id" : ".volunteer_id"),
                        absl::StrCat("must belong to district ", district));
  }
  return r;
}

}  // namespace

grpc::Status DispatchService::ExplainMatch(grpc::ServerContext* context,
                                           const v1::ExplainMatchRequest* req,
                                           v1::ExplainMatchResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kStaff, "ExplainMatch");
  if (!p.ok()) return ToGrpcStatus(p.status());
  FieldViolations v;
  if (req->limit() < 0) v.Add("limit", "must not be negative");
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", req->request_id());
  if (!district.ok()) v.AddFrom(district.status());
  if (absl::Status s = v.ToStatus(); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return ToGrpcStatus(s);
  int limit = req->limit() == 0 ? kDefaultExplain : std::min(req->limit(), kMaxExplain);
  absl::StatusOr<Explanation> e =
      s_.dispatcher->Explain(req->request_id(), limit, req->include_excluded(), deadline);
  if (!e.ok()) return ToGrpcStatus(e.status());
  resp->set_request_id(e->snapshot.request.id);
  resp->set_urgency(static_cast<v1::Urgency>(e->snapshot.request.content.urgency));
  resp->set_state(static_cast<v1::RequestState>(e->snapshot.request.state));
  resp->set_searched_radius_m(e->searched_radius_m);
  resp->set_compute_time_ms(absl::ToUnixMillis(env_->clock->Now()));

  // Names, and the state of each candidate's latest offer for this request.
  std::vector<std::string> volunteer_ids, unit_ids;
  auto note = [&](const std::string& id) {
    (e->unit_ids.contains(id) ? unit_ids : volunteer_ids).push_back(id);
  };
  for (const ScoredCandidate& c : e->ranking.ranked) note(c.id);
  for (const ExcludedCandidate& c : e->ranking.excluded) note(c.id);
  absl::flat_hash_map<std::string, std::string> names;
  absl::StatusOr<std::vector<Volunteer>> vols =
      s_.volunteers->GetMany(*district, volunteer_ids, deadline);
  if (!vols.ok()) return ToGrpcStatus(vols.status());
  for (const Volunteer& vol : *vols) names[vol.id] = vol.profile.name;
  absl::StatusOr<std::vector<Unit>> units = s_.units->GetMany(*district, unit_ids, deadline);
  if (!units.ok()) return ToGrpcStatus(units.status());
  for (const Unit& u : *units) names[u.id] = u.spec.name;
  absl::flat_hash_map<std::string, OfferState> offer_state;
  absl::StatusOr<std::vector<OfferRecord>> offers =
      s_.store->OffersOf(req->request_id(), e->snapshot.offers_made, deadline);
  if (!offers.ok()) return ToGrpcStatus(offers.status());
  for (const OfferRecord& o : *offers) offer_state[o.to.id] = o.state;

  int rank = 0;
  for (const ScoredCandidate& c : e->ranking.ranked) {
    v1::RankedCandidate* out = resp->add_candidates();
    ToProto(c, ++rank, out);
    AssigneeRef who{e->unit_ids.contains(c.id), c.id};
    ToProto(who, out->mutable_assignee());
    out->set_name(names[c.id]);
    auto it = offer_state.find(c.id);
    if (it != offer_state.end()) out->set_offer_state(static_cast<v1::OfferState>(it->second));
  }
  for (const ExcludedCandidate& c : e->ranking.excluded) {
    v1::ExcludedCandidate* out = resp->add_excluded();
    ToProto(c, out);
    AssigneeRef who{e->unit_ids.contains(c.id), c.id};
    ToProto(who, out->mutable_assignee());
    out->set_name(names[c.id]);
  }
  return grpc::Status::OK;
}

absl::StatusOr<DispatchService::Applied> DispatchService::ApplyOverride(
    grpc::ServerContext* context, absl::string_view method, const std::string& request_id,
    const v1::Assignee* from, const v1::Assignee* to, const std::string& reason, bool force) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kStaff, method);
  if (!p.ok()) return p.status();
  FieldViolations v;
  Override o;
  o.request_id = request_id;
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", request_id);
  if (!district.ok()) {
    v.AddFrom(district.status());
  } else {
    auto read = [&](const char* field, const v1::Assignee* a, std::optional<AssigneeRef>* out) {
      if (a == nullptr) return;
      absl::StatusOr<AssigneeRef> r = AssigneeIn(field, *a, *district);
      if (r.ok()) {
        *out = *r;
      } else {
        v.AddFrom(r.status());
      }
    };
    read(from != nullptr ? "from_assignee" : "assignee", from, &o.from);
    read(from != nullptr ? "to_assignee" : "assignee", to, &o.to);
    if (o.from.has_value() && o.to.has_value() && *o.from == *o.to) {
      v.Add("to_assignee", "must differ from from_assignee");
    }
  }
  Reason(v, reason);
  if (absl::Status s = v.ToStatus(); !s.ok()) return s;
  if (absl::Status s = RequireDistrict(*p, *district); !s.ok()) return s;
  o.reason = reason;
  o.actor = p->token_id;
  o.force = force;
  absl::StatusOr<OverrideReply> r = s_.store->Apply(o, deadline);
  if (!r.ok()) return r.status();
  if (!o.to.has_value()) s_.dispatcher->NeedsRound(o.request_id);
  absl::StatusOr<HelpRequest> request = s_.requests->Get(o.request_id, deadline);
  if (!request.ok()) return request.status();
  return Applied{*std::move(r), *std::move(request)};
}

grpc::Status DispatchService::AssignManually(grpc::ServerContext* context,
                                             const v1::AssignManuallyRequest* req,
                                             v1::Assignment* resp) {
  absl::StatusOr<Applied> a = ApplyOverride(context, "AssignManually", req->request_id(), nullptr,
                                            &req->assignee(), req->reason(), req->force());
  if (!a.ok()) return ToGrpcStatus(a.status());
  if (a->reply.assigned.has_value()) ToProto(*a->reply.assigned, &a->request, true, resp);
  return grpc::Status::OK;
}

grpc::Status DispatchService::Reassign(grpc::ServerContext* context,
                                       const v1::ReassignRequest* req,
                                       v1::ReassignResponse* resp) {
  absl::StatusOr<Applied> a = ApplyOverride(
      context, "Reassign", req->request_id(), &req->from_assignee(),
      req->has_to_assignee() ? &req->to_assignee() : nullptr, req->reason(), req->force());
  if (!a.ok()) return ToGrpcStatus(a.status());
  if (a->reply.released.has_value()) {
    ToProto(*a->reply.released, &a->request, true, resp->mutable_released());
  }
  if (a->reply.assigned.has_value()) {
    ToProto(*a->reply.assigned, &a->request, true, resp->mutable_assignment());
  }
  return grpc::Status::OK;
}

grpc::Status DispatchService::ListEscalations(grpc::ServerContext* context,
                                              const v1::ListEscalationsRequest* req,
                                              v1::ListEscalationsResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p =
      AuthorizeCall(*env_, *context, deadline, kStaff, "ListEscalations");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  v1::ListEscalationsRequest normalized = *req;
  normalized.set_district(*district);
  absl::StatusOr<Paging> paging = PagingOf(normalized, 50, 500);
  if (!paging.ok()) return ToGrpcStatus(paging.status());
  int64_t offset = paging->cursor.value_or(0);
  absl::StatusOr<std::vector<DispatchSnapshot>> esc =
      s_.store->Escalations(*district, offset, paging->page_size + 1, deadline);
  if (!esc.ok()) return ToGrpcStatus(esc.status());
  bool more = static_cast<int>(esc->size()) > paging->page_size;
  if (more) esc->resize(paging->page_size);
  for (const DispatchSnapshot& s : *esc) {
    v1::Escalation* e = resp->add_escalations();
    ToProto(s.request, true, e->mutable_request());
    e->set_reason(static_cast<v1::EscalationReason>(s.escalation_reason));
    e->set_escalate_time_ms(s.escalate_time_ms);
    e->set_rounds(s.round);
    e->set_declined(s.declined);
    e->set_expired(s.expired);
    e->set_detail(s.escalation_detail);
  }
  resp->set_next_page_token(paging->NextToken(
      more ? std::optional<int64_t>(offset + paging->page_size) : std::nullopt));
  return grpc::Status::OK;
}

grpc::Status DispatchService::Mobilize(grpc::ServerContext* context,
                                       const v1::MobilizeRequest* req,
                                       v1::MobilizeResponse* resp) {
  absl::Time deadline = CallDeadline(*context, env_->max_call_time);
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kStaff, "Mobilize");
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return ToGrpcStatus(district.status());
  FieldViolations v;
  if (req->idempotency_key().size() < 8) {
    v.Add("idempotency_key", "is required: 8..64 letters, digits, '-' or '_'");
  } else {
    checks::Id(v, "idempotency_key", req->idempotency_key(), 64, true);
  }
  std::optional<LatLng> center = LocationFromProto(req->has_center(), req->center());
  if (req->community_ids_size() > 0) {
    v.Add("community_ids", "is not supported yet: give center and radius_m");
  }
  checks::Location(v, "center", center, /*required=*/true);
  if (!(req->radius_m() >= 100 && req->radius_m() <= 50000)) {
    v.Add("radius_m", "must be 100..50000 metres");
  }
  RequestContent c;
  c.channel = Channel::kOperator;
  c.urgency = Urgency::kCrisis;
  c.category = CategoryFromNumber(req->category());
  if (c.category == Category::kUnspecified || c.category == Category::kUnknown) {
    v.Add("category", "is required: a known category");
  }
  c.description = req->description();
  if (c.description.empty() || c.description.size() > 2000) {
    v.Add("description", "is required: 1..2000 characters");
  }
  if (req->needed() < 1 || req->needed() > 10000) v.Add("needed", "must be 1..10000");
  c.required_skills.assign(req->required_skills().begin(), req->required_skills().end());
  checks::Tokens(v, "required_skills", c.required_skills, 20);
  for (int i = 0; i < req->required_certificates_size(); ++i) {
    Certificate cert = CertificateFromNumber(req->required_certificates(i));
    if (cert == Certificate::kUnspecified || cert == Certificate::kUnknown) {
      v.Add(absl::StrCat("required_certificates[", i, "]"), "is not a known certificate");
    } else {
      c.required_skills.push_back(CertificateToken(cert));
    }
  }
  std::sort(c.required_skills.begin(), c.required_skills.end());
  c.required_skills.erase(std::unique(c.required_skills.begin(), c.required_skills.end()),
                          c.required_skills.end());
  if (req->ttl_s() != 0 && (req->ttl_s() < 60 || req->ttl_s() > 86400)) {
    v.Add("ttl_s", "must be 60..86400 seconds (0 means 1800)");
  }
  c.window_start_ms = req->window().start_ms();
  c.window_end_ms = req->window().end_ms();
  if (c.window_start_ms < 0 || c.window_end_ms < 0 ||
      (c.window_end_ms != 0 && c.window_end_ms <= c.window_start_ms)) {
    v.Add("window", "end_ms must be after start_ms");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return ToGrpcStatus(s);
  c.headcount = req->needed();
  c.resident.location = center;
  v1::MobilizeRequest fingerprinted = *req;
  fingerprinted.set_district(*district);
  std::string fingerprint = Sha256Hex(fingerprinted.SerializeAsString());
  absl::Duration ttl = absl::Seconds(req->ttl_s() == 0 ? kDefaultMobilizeTtlS : req->ttl_s());
  absl::StatusOr<MobilizeOutcome> m =
      s_.dispatcher->Mobilize(*district, req->idempotency_key(), c, fingerprint, req->radius_m(),
                              ttl, p->token_id, deadline);
  if (!m.ok()) return ToGrpcStatus(m.status());
  resp->set_mobilization_id(m->mobilization.mobilization_id);
  resp->set_request_id(m->mobilization.request.id);
  resp->set_volunteers_reached(m->reached);
  resp->set_expire_time_ms(m->expire_time_ms);
  resp->set_replayed(m->mobilization.replayed);
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<v1::Event>* DispatchService::WatchEvents(
    grpc::CallbackServerContext* context, const v1::WatchEventsRequest* req) {
  auto refuse = [](const absl::Status& s) {
    return new RefusedStream<v1::Event>(ToGrpcStatus(s));
  };
  absl::Time deadline = absl::Now() + env_->max_call_time;
  absl::StatusOr<Principal> p = AuthorizeCall(*env_, *context, deadline, kStaff, "WatchEvents");
  if (!p.ok()) return refuse(p.status());
  absl::StatusOr<std::string> district =
      ResolveDistrict(*p, "district", req->district(), env_->default_district);
  if (!district.ok()) return refuse(district.status());
  FieldViolations v;
  const std::string& after = req->after_event_id();
  if (!after.empty() && after != "0" && !IsStreamId(after)) {
    v.Add("after_event_id", "must be an event_id this server sent, \"0\" or empty");
  }
  absl::flat_hash_set<int> types;
  for (int i = 0; i < req->types_size(); ++i) {
    if (!v1::EventType_IsValid(req->types(i)) || req->types(i) == 0) {
      v.Add(absl::StrCat("types[", i, "]"), "is not a known event type");
    }
    types.insert(req->types(i));
  }
  if (!types.empty()) types.insert(v1::EVENT_STREAM_GAP);
  if (!req->request_id().empty()) {
    absl::StatusOr<std::string> d = DistrictOfRequestId("request_id", req->request_id());
    if (!d.ok()) {
      v.AddFrom(d.status());
    } else if (*d != *district) {
      v.Add("request_id", absl::StrCat("must belong to district ", *district));
    }
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return refuse(s);
  return s_.hub->WatchEvents(*district, after, std::move(types), req->request_id(), deadline);
}

}  // namespace yiyuan
