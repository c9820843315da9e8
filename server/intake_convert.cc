#include "server/intake_convert.h"

#include "engine/field_violations.h"
#include "engine/phone.h"
#include "engine/request_validator.h"

namespace yiyuan {

Resident ResidentFromProto(const v1::Resident& r) {
  Resident out;
  out.name = r.name();
  out.phone = r.phone();
  out.address = r.address();
  if (r.has_location()) out.location = LatLng{r.location().lat(), r.location().lng()};
  out.community_id = r.community_id();
  out.compound_id = r.compound_id();
  out.lives_alone = r.lives_alone();
  out.high_age = r.high_age();
  out.disabled = r.disabled();
  return out;
}

void ToProto(const Resident& r, bool unmasked, v1::Resident* out) {
  out->set_name(r.name);
  out->set_phone(unmasked ? r.phone : MaskPhone(r.phone));
  out->set_address(unmasked ? r.address : r.compound_id);
  if (r.location.has_value()) {
    out->mutable_location()->set_lat(r.location->lat);
    out->mutable_location()->set_lng(r.location->lng);
  }
  out->set_community_id(r.community_id);
  out->set_compound_id(r.compound_id);
  out->set_lives_alone(r.lives_alone);
  out->set_high_age(r.high_age);
  out->set_disabled(r.disabled);
}

RequestContent ContentFromProto(const v1::HelpRequest& p) {
  RequestContent c;
  c.channel = ChannelFromNumber(p.channel());
  c.station_id = p.intake().station_id();
  c.operator_id = p.intake().operator_id();
  c.resident = ResidentFromProto(p.resident());
  c.category = CategoryFromNumber(p.category());
  c.description = p.description();
  c.urgency = UrgencyFromNumber(p.urgency());
  c.required_skills.assign(p.required_skills().begin(), p.required_skills().end());
  c.preferred_skills.assign(p.preferred_skills().begin(), p.preferred_skills().end());
  c.headcount = p.headcount();
  c.window_start_ms = p.window().start_ms();
  c.window_end_ms = p.window().end_ms();
  c.recurrence = RecurrenceFromNumber(p.recurrence());
  return c;
}

void ToProto(const HelpRequest& r, bool unmasked, v1::HelpRequest* out) {
  const RequestContent& c = r.content;
  out->set_id(r.id);
  out->set_district(r.district);
  out->set_request_id(r.request_id);
  out->set_channel(static_cast<v1::Channel>(c.channel));
  out->mutable_intake()->set_station_id(c.station_id);
  out->mutable_intake()->set_operator_id(c.operator_id);
  ToProto(c.resident, unmasked, out->mutable_resident());
  out->set_category(static_cast<v1::Category>(c.category));
  out->set_description(c.description);
  out->set_urgency(static_cast<v1::Urgency>(c.urgency));
  for (const std::string& s : c.required_skills) out->add_required_skills(s);
  for (const std::string& s : c.preferred_skills) out->add_preferred_skills(s);
  out->set_headcount(c.headcount);
  if (c.window_start_ms != 0 || c.window_end_ms != 0) {
    out->mutable_window()->set_start_ms(c.window_start_ms);
    out->mutable_window()->set_end_ms(c.window_end_ms);
  }
  out->set_recurrence(static_cast<v1::Recurrence>(c.recurrence));
  out->set_state(static_cast<v1::RequestState>(r.state));
  out->set_create_time_ms(r.create_time_ms);
  out->set_update_time_ms(r.update_time_ms);
  out->set_cancel_reason(r.cancel_reason);
}

absl::StatusOr<RequestFilter> FilterFromProto(const v1::ListRequestsRequest& p,
                                              absl::string_view district) {
  FieldViolations v;
  RequestFilter f;
  f.district = std::string(district);
  for (int i = 0; i < p.states_size(); ++i) {
    RequestState s = RequestStateFromNumber(p.states(i));
    if (s == RequestState::kUnspecified || s == RequestState::kUnknown) {
      v.Add("states[" + std::to_string(i) + "]", "is not a known state");
    } else {
      f.states.push_back(s);
    }
  }
  if (p.channel() != 0) {
    Channel c = ChannelFromNumber(p.channel());
    if (c == Channel::kUnknown) v.Add("channel", "is not a known value");
    f.channel = c;
  }
  if (p.category() != 0) {
    Category c = CategoryFromNumber(p.category());
    if (c == Category::kUnknown) v.Add("category", "is not a known value");
    f.category = c;
  }
  if (p.urgency() != 0) {
    Urgency u = UrgencyFromNumber(p.urgency());
    if (u == Urgency::kUnknown) v.Add("urgency", "is not a known value");
    f.urgency = u;
  }
  if (!p.community_id().empty()) {
    if (absl::Status s = ValidateId("community_id", p.community_id()); !s.ok()) {
      v.Add("community_id", "may hold only letters, digits, '-' and '_' (at most 64)");
    }
    f.community_id = p.community_id();
  }
  if (p.created_after_ms() < 0) v.Add("created_after_ms", "must not be negative");
  if (p.created_before_ms() < 0) v.Add("created_before_ms", "must not be negative");
  if (p.created_before_ms() > 0 && p.created_after_ms() >= p.created_before_ms()) {
    v.Add("created_before_ms", "must be after created_after_ms");
  }
  f.created_after_ms = p.created_after_ms();
  f.created_before_ms = p.created_before_ms();
  if (absl::Status s = v.ToStatus(); !s.ok()) return s;
  return f;
}

}  // namespace yiyuan
