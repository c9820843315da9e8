#include "server/volunteer_convert.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/field_checks.h"
#include "engine/field_violations.h"
#include "engine/phone.h"
#include "server/intake_convert.h"

namespace yiyuan {
namespace {

constexpr absl::string_view kVolunteerMutable[] = {
    "name",         "phone",     "home_community_id", "skills",
    "certificates", "languages", "availability",      "capacity"};
constexpr absl::string_view kUnitMutable[] = {"name",
                                              "location",
                                              "community_id",
                                              "compound_id",
                                              "address",
                                              "phone",
                                              "member_volunteer_ids",
                                              "leader_volunteer_id",
                                              "capacity",
                                              "skills",
                                              "equipment",
                                              "active"};

void SetLatLng(const LatLng& p, v1::LatLng* out) {
  out->set_lat(p.lat);
  out->set_lng(p.lng);
}

double Ratio(int num, int den) { return den > 0 ? static_cast<double>(num) / den : 0.0; }

// The mask's paths, "*" expanded to `all`; INVALID_ARGUMENT "update_mask" for an empty
// mask or a path outside `all`.
template <size_t N>
absl::StatusOr<std::vector<std::string>> MaskPaths(const google::protobuf::FieldMask& mask,
                                                   const absl::string_view (&all)[N]) {
  std::vector<std::string> paths;
  if (mask.paths_size() == 0) {
    return InvalidField("update_mask", "is required: name the fields to change, or \"*\"");
  }
  for (const std::string& p : mask.paths()) {
    if (p == "*") {
      for (absl::string_view a : all) paths.emplace_back(a);
      continue;
    }
    if (std::find(std::begin(all), std::end(all), p) == std::end(all)) {
      return InvalidField("update_mask",
                          absl::StrCat("\"", p, "\" is not a field that can be changed (",
                                       absl::StrJoin(all, ", "), ")"));
    }
    paths.push_back(p);
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

}  // namespace

std::optional<LatLng> LocationFromProto(bool present, const v1::LatLng& p) {
  if (!present) return std::nullopt;
  return LatLng{p.lat(), p.lng()};
}

VolunteerProfile ProfileFromProto(const v1::Volunteer& p) {
  VolunteerProfile out;
  out.external_id = p.external_id();
  out.name = p.name();
  out.phone = p.phone();
  out.home_community_id = p.home_community_id();
  out.skills.assign(p.skills().begin(), p.skills().end());
  for (int c : p.certificates()) out.certificates.push_back(CertificateFromNumber(c));
  out.languages.assign(p.languages().begin(), p.languages().end());
  for (const v1::AvailabilitySlot& s : p.availability()) {
    out.availability.push_back({s.day_of_week(), s.start_minute(), s.end_minute()});
  }
  out.capacity = p.capacity();
  return out;
}

void ToProto(const Volunteer& v, VolunteerView view, v1::Volunteer* out) {
  const VolunteerProfile& p = v.profile;
  out->set_id(v.id);
  out->set_district(v.district);
  out->set_name(p.name);
  out->set_phone(view == VolunteerView::kFull ? p.phone : MaskPhone(p.phone));
  out->set_points_balance(v.stats.points_balance);
  if (view == VolunteerView::kKiosk) return;
  out->set_external_id(p.external_id);
  out->set_home_community_id(p.home_community_id);
  for (const std::string& s : p.skills) out->add_skills(s);
  for (Certificate c : p.certificates) out->add_certificates(static_cast<v1::Certificate>(c));
  for (const std::string& l : p.languages) out->add_languages(l);
  for (const AvailabilitySlot& s : p.availability) {
    v1::AvailabilitySlot* slot = out->add_availability();
    slot->set_day_of_week(s.day_of_week);
    slot->set_start_minute(s.start_minute);
    slot->set_end_minute(s.end_minute);
  }
  out->set_capacity(p.capacity);
  out->set_duty_status(static_cast<v1::DutyStatus>(v.duty));
  if (view == VolunteerView::kFull && v.location.has_value()) {
    SetLatLng(*v.location, out->mutable_location());
    out->set_location_time_ms(v.location_time_ms);
  }
  for (const std::string& t : v.team_ids) out->add_team_ids(t);
  const VolunteerStats& s = v.stats;
  v1::Reliability* r = out->mutable_reliability();
  r->set_accept_rate(Ratio(s.offers_accepted, s.offers_answered));
  r->set_completion_rate(Ratio(s.completed, s.assignments_ended));
  r->set_no_show_rate(Ratio(s.no_shows, s.assignments_ended));
  r->set_offers(s.offers);
  r->set_assignments(s.offers_accepted);
  out->set_recent_load(s.recent_load);
  out->set_active_assignments(s.active_assignments);
  out->set_last_offer_time_ms(s.last_offer_time_ms);
  out->set_minutes_served(s.minutes_served);
  out->set_create_time_ms(v.create_time_ms);
  out->set_update_time_ms(v.update_time_ms);
}

absl::StatusOr<std::string> ApplyVolunteerMask(const google::protobuf::FieldMask& mask,
                                               const v1::Volunteer& in, bool may_set_certificates,
                                               VolunteerProfile& profile) {
  absl::StatusOr<std::vector<std::string>> paths = MaskPaths(mask, kVolunteerMutable);
  if (!paths.ok()) return paths.status();
  VolunteerProfile given = ProfileFromProto(in);
  for (const std::string& path : *paths) {
    if (path == "name") {
      profile.name = given.name;
    } else if (path == "phone") {
      profile.phone = given.phone;
    } else if (path == "home_community_id") {
      profile.home_community_id = given.home_community_id;
    } else if (path == "skills") {
      profile.skills = given.skills;
    } else if (path == "certificates") {
      std::vector<Certificate> wanted = given.certificates, held = profile.certificates;
      std::sort(wanted.begin(), wanted.end());
      std::sort(held.begin(), held.end());
      if (!may_set_certificates && wanted != held) {
        return absl::PermissionDeniedError(
            "certificates are verified and changed only by an operator");
      }
      profile.certificates = given.certificates;
    } else if (path == "languages") {
      profile.languages = given.languages;
    } else if (path == "availability") {
      profile.availability = given.availability;
    } else if (path == "capacity") {
      profile.capacity = given.capacity;
    }
  }
  return absl::StrJoin(*paths, ",");
}

absl::StatusOr<VolunteerFilter> FilterFromProto(const v1::ListVolunteersRequest& p,
                                                absl::string_view district) {
  FieldViolations v;
  VolunteerFilter f;
  f.district = std::string(district);
  f.community_id = p.community_id();
  checks::Id(v, "community_id", f.community_id, 64, /*required=*/false);
  f.token = absl::AsciiStrToLower(absl::StripAsciiWhitespace(p.skill()));
  checks::Id(v, "skill", f.token, 32, /*required=*/false);
  if (p.certificate() != 0) {
    Certificate c = CertificateFromNumber(p.certificate());
    if (c == Certificate::kUnknown) v.Add("certificate", "is not a known value");
    f.certificate = c;
  }
  if (p.duty_status() != 0) {
    DutyStatus d = DutyStatusFromNumber(p.duty_status());
    if (d == DutyStatus::kUnknown) v.Add("duty_status", "is not a known value");
    f.duty = d;
  }
  f.team_id = p.team_id();
  checks::Id(v, "team_id", f.team_id, 100, /*required=*/false);
  f.phone = p.phone();
  checks::Phone(v, "phone", f.phone, /*required=*/false, /*mobile_only=*/true);
  f.external_id = p.external_id();
  checks::Id(v, "external_id", f.external_id, 64, /*required=*/false);
  if (!v.empty()) return v.ToStatus();
  return f;
}

UnitSpec UnitSpecFromProto(const v1::Unit& p) {
  UnitSpec u;
  u.kind = UnitKindFromNumber(p.kind());
  u.name = p.name();
  u.location = LocationFromProto(p.has_location(), p.location());
  u.community_id = p.community_id();
  u.compound_id = p.compound_id();
  u.address = p.address();
  u.phone = p.phone();
  u.member_volunteer_ids.assign(p.member_volunteer_ids().begin(), p.member_volunteer_ids().end());
  u.leader_volunteer_id = p.leader_volunteer_id();
  u.capacity = p.capacity();
  u.skills.assign(p.skills().begin(), p.skills().end());
  u.equipment.assign(p.equipment().begin(), p.equipment().end());
  u.active = p.active();
  return u;
}

void ToProto(const Unit& u, v1::Unit* out) {
  const UnitSpec& s = u.spec;
  out->set_id(u.id);
  out->set_district(u.district);
  out->set_kind(static_cast<v1::UnitKind>(s.kind));
  out->set_name(s.name);
  if (s.location.has_value()) SetLatLng(*s.location, out->mutable_location());
  out->set_location_time_ms(u.location_time_ms);
  out->set_community_id(s.community_id);
  out->set_compound_id(s.compound_id);
  out->set_address(s.address);
  out->set_phone(s.phone);
  for (const std::string& m : s.member_volunteer_ids) out->add_member_volunteer_ids(m);
  out->set_leader_volunteer_id(s.leader_volunteer_id);
  out->set_capacity(s.capacity);
  for (const std::string& k : s.skills) out->add_skills(k);
  for (const std::string& e : s.equipment) out->add_equipment(e);
  out->set_active(s.active);
  out->set_active_assignments(u.active_assignments);
  out->set_create_time_ms(u.create_time_ms);
  out->set_update_time_ms(u.update_time_ms);
}

absl::Status ApplyUnitMask(const google::protobuf::FieldMask& mask, const v1::Unit& in,
                           UnitSpec& spec, bool& location_changed) {
  absl::StatusOr<std::vector<std::string>> paths = MaskPaths(mask, kUnitMutable);
  if (!paths.ok()) return paths.status();
  UnitSpec given = UnitSpecFromProto(in);
  location_changed = false;
  for (const std::string& path : *paths) {
    if (path == "name") {
      spec.name = given.name;
    } else if (path == "location") {
      spec.location = given.location;
      location_changed = true;
    } else if (path == "community_id") {
      spec.community_id = given.community_id;
    } else if (path == "compound_id") {
      spec.compound_id = given.compound_id;
    } else if (path == "address") {
      spec.address = given.address;
    } else if (path == "phone") {
      spec.phone = given.phone;
    } else if (path == "member_volunteer_ids") {
      spec.member_volunteer_ids = given.member_volunteer_ids;
    } else if (path == "leader_volunteer_id") {
      spec.leader_volunteer_id = given.leader_volunteer_id;
    } else if (path == "capacity") {
      spec.capacity = given.capacity;
    } else if (path == "skills") {
      spec.skills = given.skills;
    } else if (path == "equipment") {
      spec.equipment = given.equipment;
    } else if (path == "active") {
      spec.active = given.active;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<UnitFilter> FilterFromProto(const v1::ListUnitsRequest& p,
                                           absl::string_view district) {
  FieldViolations v;
  UnitFilter f;
  f.district = std::string(district);
  if (p.kind() != 0) {
    UnitKind k = UnitKindFromNumber(p.kind());
    if (k == UnitKind::kUnknown) v.Add("kind", "is not a known value");
    f.kind = k;
  }
  f.community_id = p.community_id();
  checks::Id(v, "community_id", f.community_id, 64, /*required=*/false);
  f.active_only = p.active_only();
  if (!v.empty()) return v.ToStatus();
  return f;
}

Pairing PairingFromProto(const v1::CreatePairingRequest& p) {
  Pairing out;
  out.volunteer_id = p.volunteer_id();
  out.resident = ResidentFromProto(p.resident());
  out.recurrence = RecurrenceFromNumber(p.recurrence());
  out.notes = p.notes();
  return out;
}

void ToProto(const Pairing& p, bool unmasked, v1::Pairing* out) {
  out->set_id(p.id);
  out->set_district(p.district);
  out->set_volunteer_id(p.volunteer_id);
  ToProto(p.resident, unmasked, out->mutable_resident());
  out->set_recurrence(static_cast<v1::Recurrence>(p.recurrence));
  out->set_notes(p.notes);
  out->set_active(p.active);
  out->set_create_time_ms(p.create_time_ms);
}

absl::StatusOr<CandidateQuery> QueryFromProto(const v1::FindNearbyVolunteersRequest& p) {
  FieldViolations v;
  CandidateQuery q;
  q.required_tokens.assign(p.required_skills().begin(), p.required_skills().end());
  checks::Tokens(v, "required_skills", q.required_tokens, 16);
  for (int i = 0; i < p.required_certificates_size(); ++i) {
    Certificate c = CertificateFromNumber(p.required_certificates(i));
    if (c == Certificate::kUnknown || c == Certificate::kUnspecified) {
      v.Add(absl::StrCat("required_certificates[", i, "]"), "is not a known certificate");
    }
    q.required_certificates.push_back(c);
  }
  for (int i = 0; i < p.duty_statuses_size(); ++i) {
    DutyStatus d = DutyStatusFromNumber(p.duty_statuses(i));
    if (d == DutyStatus::kUnknown || d == DutyStatus::kUnspecified) {
      v.Add(absl::StrCat("duty_statuses[", i, "]"), "is not a known duty status");
    }
    q.duty_statuses.push_back(d);
  }
  q.available_now = p.available_now();
  q.include_units = p.include_units();
  for (int i = 0; i < p.unit_kinds_size(); ++i) {
    UnitKind k = UnitKindFromNumber(p.unit_kinds(i));
    if (k == UnitKind::kUnknown || k == UnitKind::kUnspecified) {
      v.Add(absl::StrCat("unit_kinds[", i, "]"), "is not a known unit kind");
    }
    q.unit_kinds.push_back(k);
  }
  if (p.exclude_ids_size() > 1000) v.Add("exclude_ids", "must hold at most 1000 ids");
  for (const std::string& id : p.exclude_ids()) q.exclude_ids.insert(id);
  if (!v.empty()) return v.ToStatus();
  return q;
}

}  // namespace yiyuan
