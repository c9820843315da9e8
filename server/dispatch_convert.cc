#include "server/dispatch_convert.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/field_violations.h"
#include "engine/volunteer.h"
#include "server/intake_convert.h"

namespace yiyuan {
namespace {

constexpr size_t kSummaryChars = 140;
constexpr size_t kMaskDigitRun = 7;
// Offers place the resident on a grid of about 220 m.
constexpr double kApproxGridDeg = 0.002;

double Coarse(double deg) { return std::round(deg / kApproxGridDeg) * kApproxGridDeg; }

}  // namespace

std::string OfferSummary(absl::string_view description) {
  std::string out;
  size_t chars = 0;
  size_t i = 0;
  while (i < description.size() && chars < kSummaryChars) {
    if (absl::ascii_isdigit(description[i])) {
      size_t j = i;
      while (j < description.size() && absl::ascii_isdigit(description[j])) ++j;
      size_t run = j - i;
      size_t take = std::min(run, kSummaryChars - chars);
      out.append(run >= kMaskDigitRun ? std::string(take, '*')
                                      : std::string(description.substr(i, take)));
      chars += take;
      i = j;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(description[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    out.append(description.data() + i, std::min(len, description.size() - i));
    i += len;
    ++chars;
  }
  return out;
}

std::string OfferDocument(const HelpRequest& r, const AssigneeRef& to, double distance_m,
                          int travel_time_s, absl::string_view mobilization_id) {
  v1::Offer o;
  o.set_request_id(r.id);
  o.set_district(r.district);
  ToProto(to, o.mutable_offered_to());
  o.set_category(static_cast<v1::Category>(r.content.category));
  o.set_urgency(static_cast<v1::Urgency>(r.content.urgency));
  o.set_community_id(r.content.resident.community_id);
  o.set_compound_id(r.content.resident.compound_id);
  if (r.content.resident.location.has_value()) {
    o.mutable_approx_location()->set_lat(Coarse(r.content.resident.location->lat));
    o.mutable_approx_location()->set_lng(Coarse(r.content.resident.location->lng));
  }
  o.set_distance_m(std::round(distance_m));
  o.set_travel_time_s(travel_time_s);
  o.set_summary(OfferSummary(r.content.description));
  for (const std::string& s : r.content.required_skills) o.add_required_skills(s);
  if (r.content.window_start_ms != 0 || r.content.window_end_ms != 0) {
    o.mutable_window()->set_start_ms(r.content.window_start_ms);
    o.mutable_window()->set_end_ms(r.content.window_end_ms);
  }
  o.set_headcount(std::max(1, r.content.headcount));
  o.set_mobilization_id(std::string(mobilization_id));
  return o.SerializeAsString();
}

void ToProto(const OfferRecord& o, v1::Offer* out) {
  out->Clear();
  (void)out->ParseFromString(o.doc);
  out->set_offer_id(o.id);
  out->set_request_id(o.request_id);
  out->set_district(o.district);
  ToProto(o.to, out->mutable_offered_to());
  out->set_create_time_ms(o.create_time_ms);
  out->set_expire_time_ms(o.expire_time_ms);
  out->set_round(o.round);
  out->set_state(static_cast<v1::OfferState>(o.state));
  out->set_state_time_ms(o.state_time_ms);
  out->set_mobilization_id(o.mobilization_id);
  if (o.state == OfferState::kDeclined) {
    out->set_decline_reason(static_cast<v1::DeclineReason>(o.decline_reason));
  }
}

void OfferFromInbox(absl::string_view district, absl::string_view stream_id,
                    const HashFields& e, v1::Offer* out) {
  OfferRecord o;
  o.id = e.str("o");
  o.district = std::string(district);
  o.request_id = std::string(o.id.substr(0, o.id.rfind("-o")));
  o.state = ParseOfferState(e.str("s")).value_or(OfferState::kUnknown);
  o.state_time_ms = e.integer("t");
  o.create_time_ms = e.integer("c");
  o.expire_time_ms = e.integer("x");
  o.round = static_cast<int>(e.integer("r"));
  o.mobilization_id = e.str("m");
  o.decline_reason = static_cast<int>(e.integer("dr"));
  o.doc = e.str("doc");
  v1::Offer parsed;
  (void)parsed.ParseFromString(o.doc);
  o.to.is_unit = parsed.offered_to().has_unit_id();
  o.to.id = o.to.is_unit ? parsed.offered_to().unit_id() : parsed.offered_to().volunteer_id();
  ToProto(o, out);
  out->set_cursor(std::string(stream_id));
}

void ToProto(const AssigneeRef& a, v1::Assignee* out) {
  if (a.is_unit) {
    out->set_unit_id(a.id);
  } else {
    out->set_volunteer_id(a.id);
  }
}

absl::StatusOr<AssigneeRef> AssigneeFromProto(absl::string_view field, const v1::Assignee& a) {
  AssigneeRef r;
  switch (a.kind_case()) {
    case v1::Assignee::kVolunteerId:
      r.id = a.volunteer_id();
      break;
    case v1::Assignee::kUnitId:
      r.is_unit = true;
      r.id = a.unit_id();
      break;
    default:
      return InvalidField(field, "is required: set volunteer_id or unit_id");
  }
  std::string sub = absl::StrCat(field, r.is_unit ? ".unit_id" : ".volunteer_id");
  if (r.id.empty()) return InvalidField(sub, "is required");
  if (r.id.size() > 128 || DistrictPrefix(r.id).empty()) {
    return InvalidField(sub, "must look like \"<district>-<id>\"");
  }
  return r;
}

void ToProto(const AssignmentRecord& a, const HelpRequest* request, bool unmasked,
             v1::Assignment* out) {
  out->set_request_id(a.request_id);
  out->set_district(a.district);
  ToProto(a.who, out->mutable_assignee());
  out->set_offer_id(a.offer_id);
  out->set_accept_time_ms(a.accept_time_ms);
  out->set_assigned_by(a.assigned_by);
  out->set_assign_reason(a.assign_reason);
  out->set_progress(a.progress == ProgressKind::kNone
                        ? v1::PROGRESS_KIND_UNSPECIFIED
                        : static_cast<v1::ProgressKind>(a.progress));
  out->set_progress_time_ms(a.progress_time_ms);
  out->set_en_route_time_ms(a.en_route_time_ms);
  out->set_arrive_time_ms(a.arrive_time_ms);
  out->set_complete_time_ms(a.complete_time_ms);
  out->set_minutes_served(a.minutes_served);
  out->set_rating(a.rating);
  out->set_notes(a.notes);
  out->set_points_earned(a.points_earned);
  out->set_points_pending(a.points_pending);
  out->set_release_time_ms(a.release_time_ms);
  if (request != nullptr) {
    out->set_category(static_cast<v1::Category>(request->content.category));
    if (request->content.window_start_ms != 0 || request->content.window_end_ms != 0) {
      out->mutable_window()->set_start_ms(request->content.window_start_ms);
      out->mutable_window()->set_end_ms(request->content.window_end_ms);
    }
    bool open = a.release_time_ms == 0 && a.complete_time_ms == 0;
    ToProto(request->content.resident, unmasked && open, out->mutable_resident());
  }
}

void ToProto(const ScoredCandidate& c, int rank, v1::RankedCandidate* out) {
  out->set_rank(rank);
  out->set_distance_m(std::round(c.distance_m));
  out->set_travel_time_s(c.travel_time_s);
  out->set_total_cost(c.total_cost);
  out->set_continuity(c.continuity);
  for (const CostComponent& k : c.components) {
    v1::CostComponent* p = out->add_components();
    p->set_name(k.name);
    p->set_value(k.value);
    p->set_weight(k.weight);
    p->set_weighted(k.weighted);
    p->set_detail(k.detail);
  }
}

void ToProto(const ExcludedCandidate& c, v1::ExcludedCandidate* out) {
  out->set_distance_m(std::round(c.distance_m));
  out->set_reason(static_cast<v1::ExclusionReason>(c.exclusion));
  out->set_detail(c.detail);
}

bool EventFromStream(absl::string_view district, absl::string_view stream_id,
                     const HashFields& f, v1::Event* out) {
  static const auto* const kTypes = new absl::flat_hash_map<std::string, v1::EventType>{
      {"request.submitted", v1::EVENT_REQUEST_SUBMITTED},
      {"request.cancelled", v1::EVENT_REQUEST_CANCELLED},
      {"request.escalated", v1::EVENT_REQUEST_ESCALATED},
      {"offer.made", v1::EVENT_OFFER_MADE},
      {"offer.accepted", v1::EVENT_OFFER_ACCEPTED},
      {"offer.declined", v1::EVENT_OFFER_DECLINED},
      {"offer.expired", v1::EVENT_OFFER_EXPIRED},
      {"offer.withdrawn", v1::EVENT_OFFER_WITHDRAWN},
      {"request.assigned_manually", v1::EVENT_ASSIGNED_MANUALLY},
      {"request.reassigned", v1::EVENT_REASSIGNED},
      {"progress", v1::EVENT_PROGRESS},
      {"volunteer.duty", v1::EVENT_DUTY_CHANGED},
      {"volunteer.registered", v1::EVENT_VOLUNTEER_CHANGED},
      {"volunteer.updated", v1::EVENT_VOLUNTEER_CHANGED},
      {"unit.created", v1::EVENT_UNIT_CHANGED},
      {"unit.updated", v1::EVENT_UNIT_CHANGED},
      {"pairing.created", v1::EVENT_PAIRING_CREATED},
      {"mobilization.started", v1::EVENT_MOBILIZATION_STARTED},
      {"mobilization.filled", v1::EVENT_MOBILIZATION_FILLED},
      {"ledger.entry", v1::EVENT_LEDGER_ENTRY},
      {"batch.cycle", v1::EVENT_BATCH_CYCLE},
      {"catalog.item", v1::EVENT_CATALOG_CHANGED},
  };
  const std::string& type = f.str("type");
  // Load counters and leader changes are bookkeeping, not events for people.
  if (type == "assignee.load" || type == "leader.elected") return false;
  out->Clear();
  out->set_event_id(std::string(stream_id));
  out->set_district(std::string(district));
  auto it = kTypes->find(type);
  out->set_type(it == kTypes->end() ? v1::EVENT_TYPE_UNSPECIFIED : it->second);
  int64_t ms = 0;
  (void)absl::SimpleAtoi(stream_id.substr(0, stream_id.find('-')), &ms);
  out->set_time_ms(ms);
  for (const auto& [k, v] : f.map()) {
    if (k == "request") {
      out->set_request_id(v);
    } else if (k == "volunteer") {
      out->set_volunteer_id(v);
    } else if (k == "unit") {
      out->set_unit_id(v);
    } else if (k == "offer") {
      out->set_offer_id(v);
    } else if (!v.empty()) {
      (*out->mutable_attributes())[k] = v;
    }
  }
  if (type == "progress") {
    (*out->mutable_attributes())["kind"] = absl::StrCat("PROGRESS_", f.str("kind"));
  }
  // Offers store the API number of a decline reason; events show its name.
  int reason = 0;
  if (type == "offer.declined" && absl::SimpleAtoi(f.str("reason"), &reason) &&
      v1::DeclineReason_IsValid(reason)) {
    (*out->mutable_attributes())["reason"] =
        v1::DeclineReason_Name(static_cast<v1::DeclineReason>(reason));
  }
  return true;
}

}  // namespace yiyuan
