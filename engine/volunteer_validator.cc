#include "engine/volunteer_validator.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/field_checks.h"
#include "engine/field_violations.h"

namespace yiyuan {
namespace {

std::string Path(absl::string_view prefix, absl::string_view field) {
  return absl::StrCat(prefix, ".", field);
}

bool SlotLess(const AvailabilitySlot& a, const AvailabilitySlot& b) {
  return std::tie(a.day_of_week, a.start_minute, a.end_minute) <
         std::tie(b.day_of_week, b.start_minute, b.end_minute);
}

void CheckAvailability(FieldViolations& v, absl::string_view field,
                       std::vector<AvailabilitySlot>& slots, int max_slots) {
  if (static_cast<int>(slots.size()) > max_slots) {
    v.Add(field, absl::StrCat("must hold at most ", max_slots, " slots"));
    return;
  }
  bool each_ok = true;
  for (size_t i = 0; i < slots.size(); ++i) {
    const AvailabilitySlot& s = slots[i];
    std::string at = absl::StrCat(field, "[", i, "]");
    if (s.day_of_week < 1 || s.day_of_week > 7) {
      v.Add(absl::StrCat(at, ".day_of_week"), "must be 1 (Monday) .. 7 (Sunday)");
      each_ok = false;
    }
    if (s.start_minute < 0 || s.start_minute > 1439) {
      v.Add(absl::StrCat(at, ".start_minute"), "must be 0..1439");
      each_ok = false;
    } else if (s.end_minute <= s.start_minute || s.end_minute > 1440) {
      v.Add(absl::StrCat(at, ".end_minute"), "must be after start_minute and at most 1440");
      each_ok = false;
    }
  }
  if (!each_ok) return;
  std::sort(slots.begin(), slots.end(), SlotLess);
  for (size_t i = 1; i < slots.size(); ++i) {
    const AvailabilitySlot& a = slots[i - 1];
    const AvailabilitySlot& b = slots[i];
    if (a.day_of_week == b.day_of_week && b.start_minute < a.end_minute) {
      v.Add(field, absl::StrCat("slots overlap on day ", a.day_of_week, " (", a.start_minute, "-",
                                a.end_minute, " and ", b.start_minute, "-", b.end_minute, ")"));
      return;
    }
  }
}

void CheckCapacity(FieldViolations& v, absl::string_view field, int& capacity, int max) {
  if (capacity == 0) capacity = 1;
  if (capacity < 1 || capacity > max) v.Add(field, absl::StrCat("must be between 1 and ", max));
}

void SortTokens(std::vector<std::string>& t) { std::sort(t.begin(), t.end()); }

// "<district>-<prefix letter><n>" -> district, for ids this system hands out.
absl::StatusOr<std::string> DistrictOfNumberedId(absl::string_view field, absl::string_view id,
                                                 char letter, absl::string_view example) {
  if (id.empty()) return InvalidField(field, "is required");
  absl::string_view district = DistrictPrefix(id);
  absl::string_view rest = id.substr(std::min(id.size(), district.size() + 1));
  int64_t n = 0;
  if (district.empty() || rest.size() < 2 || rest[0] != letter ||
      !absl::SimpleAtoi(rest.substr(1), &n) || n <= 0) {
    return InvalidField(field, absl::StrCat("must look like \"", example, "\""));
  }
  FieldViolations v;
  checks::District(v, field, district);
  if (!v.empty()) return v.ToStatus();
  return std::string(district);
}

}  // namespace

absl::Status ValidateVolunteerProfile(absl::string_view prefix, VolunteerProfile& p,
                                      const VolunteerLimits& limits) {
  FieldViolations v;
  checks::Id(v, Path(prefix, "external_id"), p.external_id, 64, /*required=*/true);
  p.name = std::string(absl::StripAsciiWhitespace(p.name));
  checks::Text(v, Path(prefix, "name"), p.name, checks::kMaxNameChars, /*required=*/true);
  checks::Phone(v, Path(prefix, "phone"), p.phone, /*required=*/true, /*mobile_only=*/true);
  checks::Id(v, Path(prefix, "home_community_id"), p.home_community_id, 64, /*required=*/true);
  checks::Tokens(v, Path(prefix, "skills"), p.skills, limits.max_skills);
  checks::Tokens(v, Path(prefix, "languages"), p.languages, limits.max_languages, 16);
  for (size_t i = 0; i < p.certificates.size(); ++i) {
    std::string at = absl::StrCat(prefix, ".certificates[", i, "]");
    checks::RequiredEnum(v, at, p.certificates[i]);
    for (size_t j = 0; j < i; ++j) {
      if (p.certificates[j] == p.certificates[i]) {
        v.Add(at, absl::StrCat("repeats ", Name(p.certificates[i])));
        break;
      }
    }
  }
  CheckAvailability(v, Path(prefix, "availability"), p.availability, limits.max_slots);
  CheckCapacity(v, Path(prefix, "capacity"), p.capacity, limits.max_volunteer_capacity);
  SortTokens(p.skills);
  SortTokens(p.languages);
  std::sort(p.certificates.begin(), p.certificates.end());
  return v.ToStatus();
}

absl::Status ValidateUnitSpec(absl::string_view prefix, absl::string_view district, UnitSpec& u,
                              const VolunteerLimits& limits) {
  FieldViolations v;
  checks::RequiredEnum(v, Path(prefix, "kind"), u.kind);
  u.name = std::string(absl::StripAsciiWhitespace(u.name));
  checks::Text(v, Path(prefix, "name"), u.name, checks::kMaxNameChars, /*required=*/true);
  bool fixed_place = u.kind == UnitKind::kStation || u.kind == UnitKind::kTeam;
  checks::Location(v, Path(prefix, "location"), u.location, fixed_place);
  checks::Id(v, Path(prefix, "community_id"), u.community_id, 64, /*required=*/true);
  checks::Id(v, Path(prefix, "compound_id"), u.compound_id, 64, /*required=*/false);
  checks::Text(v, Path(prefix, "address"), u.address, checks::kMaxAddressChars,
               /*required=*/false);
  checks::Phone(v, Path(prefix, "phone"), u.phone, /*required=*/false, /*mobile_only=*/false);
  std::vector<std::string>& members = u.member_volunteer_ids;
  if (static_cast<int>(members.size()) > limits.max_members) {
    v.Add(Path(prefix, "member_volunteer_ids"),
          absl::StrCat("must hold at most ", limits.max_members, " ids"));
  } else {
    for (size_t i = 0; i < members.size(); ++i) {
      std::string at = absl::StrCat(prefix, ".member_volunteer_ids[", i, "]");
      absl::StatusOr<std::string> d = DistrictOfVolunteerId(at, members[i]);
      if (!d.ok()) {
        v.AddFrom(d.status());
      } else if (*d != district) {
        v.Add(at, absl::StrCat("is not a volunteer of district ", district));
      } else if (std::find(members.begin(), members.begin() + i, members[i]) !=
                 members.begin() + i) {
        v.Add(at, absl::StrCat("repeats ", members[i]));
      }
    }
  }
  if (!u.leader_volunteer_id.empty() &&
      std::find(members.begin(), members.end(), u.leader_volunteer_id) == members.end()) {
    v.Add(Path(prefix, "leader_volunteer_id"), "must be one of member_volunteer_ids");
  }
  CheckCapacity(v, Path(prefix, "capacity"), u.capacity, limits.max_unit_capacity);
  checks::Tokens(v, Path(prefix, "skills"), u.skills, limits.max_skills);
  checks::Tokens(v, Path(prefix, "equipment"), u.equipment, limits.max_skills);
  SortTokens(u.skills);
  SortTokens(u.equipment);
  return v.ToStatus();
}

absl::Status ValidatePairing(absl::string_view district, Pairing& p,
                             const VolunteerLimits& limits) {
  FieldViolations v;
  checks::District(v, "district", district);
  absl::StatusOr<std::string> d = DistrictOfVolunteerId("volunteer_id", p.volunteer_id);
  if (!d.ok()) {
    v.AddFrom(d.status());
  } else if (*d != district) {
    v.Add("volunteer_id", absl::StrCat("is not a volunteer of district ", district));
  }
  checks::ResidentFields(v, "resident", p.resident, /*location_required=*/false);
  if (p.recurrence == Recurrence::kUnknown) v.Add("recurrence", "is not a known value");
  checks::Text(v, "notes", p.notes, limits.max_notes_chars, /*required=*/false);
  return v.ToStatus();
}

absl::StatusOr<std::string> DistrictOfVolunteerId(absl::string_view field, absl::string_view id) {
  return DistrictOfNumberedId(field, id, 'v', "<district>-v<number>, e.g. wuxing-v311");
}

absl::StatusOr<std::string> DistrictOfUnitId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return InvalidField(field, "is required");
  absl::string_view district = DistrictPrefix(id);
  FieldViolations v;
  if (district.empty() || district.size() + 1 >= id.size()) {
    v.Add(field, "must look like \"<district>-<unit>\", e.g. wuxing-u7");
  } else {
    checks::District(v, field, district);
    checks::Id(v, field, id, 100, /*required=*/true);
  }
  if (!v.empty()) return v.ToStatus();
  return std::string(district);
}

absl::Status ValidateClientUnitId(absl::string_view field, absl::string_view id) {
  FieldViolations v;
  int64_t n = 0;
  if (!id.empty() && id.size() < 3) {
    v.Add(field, "must be at least 3 characters");
  } else if ((id[0] == 'u' || id[0] == 'v' || id[0] == 'p') && absl::SimpleAtoi(id.substr(1), &n)) {
    v.Add(field, "must not look like a server-assigned id (u, v or p and a number)");
  } else {
    checks::Id(v, field, id, 64, /*required=*/true);
  }
  return v.ToStatus();
}

}  // namespace yiyuan
