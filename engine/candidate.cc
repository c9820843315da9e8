#include "engine/candidate.h"

#include <algorithm>
#include <array>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/enum_names.h"

namespace yiyuan {
namespace {

uint32_t Bit(Certificate c) { return uint32_t{1} << static_cast<int>(c); }

// CertificateToken(c) without an allocation per call.
absl::string_view CertToken(Certificate c) {
  static const auto* const kTokens = [] {
    auto* t = new std::array<std::string, static_cast<size_t>(Certificate::kUnknown) + 1>;
    for (size_t i = 0; i < t->size(); ++i) (*t)[i] = CertificateToken(static_cast<Certificate>(i));
    return t;
  }();
  size_t i = static_cast<size_t>(c);
  return i < kTokens->size() ? (*kTokens)[i] : kTokens->back();
}

}  // namespace

bool Candidate::HasToken(absl::string_view token) const {
  return std::binary_search(tokens.begin(), tokens.end(), token,
                            [](absl::string_view a, absl::string_view b) { return a < b; });
}

Candidate CandidateOf(const Volunteer& v) {
  Candidate c;
  c.duty = v.duty;
  c.capacity = std::max(1, v.profile.capacity);
  c.active_assignments = v.stats.active_assignments;
  c.tokens = CapabilityTokens(v.profile);
  for (Certificate cert : v.profile.certificates) c.certificates |= Bit(cert);
  c.availability = v.profile.availability;
  c.revision = v.revision;
  c.location_time_ms = v.location_time_ms;
  return c;
}

bool Indexable(const Volunteer& v) {
  return (v.duty == DutyStatus::kOn || v.duty == DutyStatus::kBusy) && v.location.has_value();
}

Candidate CandidateOf(const Unit& u) {
  Candidate c;
  c.is_unit = true;
  c.unit_kind = u.spec.kind;
  c.capacity = std::max(1, u.spec.capacity);
  c.active_assignments = u.active_assignments;
  c.tokens = CapabilityTokens(u.spec);
  c.revision = u.revision;
  c.location_time_ms = u.location_time_ms;
  return c;
}

bool Indexable(const Unit& u) { return u.spec.active && u.spec.location.has_value(); }

absl::string_view Name(Exclusion e) {
  static constexpr std::array<absl::string_view, 13> kNames = {
      "NONE",    "NOT_ON_DUTY",    "NO_CAPACITY", "MISSING_SKILL",   "OUTSIDE_AVAILABILITY",
      "TOO_FAR", "DECLINED",       "CONFLICT",    "ALREADY_OFFERED", "ALREADY_ASSIGNED",
      "NO_SHOW", "STALE_LOCATION", "UNKNOWN"};
  return enum_names::NameOf(kNames, e);
}

namespace {

// The single copy of the hard-constraint logic behind FirstUnmet and Eligible. Writes
// `*detail` only when `detail` is not null and a constraint fails, so that Eligible (the
// geo index's filter, called for every point a search examines) never allocates.
Exclusion Unmet(absl::string_view id, const Candidate& c, const CandidateQuery& q, absl::Time now,
                std::string* detail) {
  if (c.is_unit ? !q.include_units : !q.include_volunteers) {
    if (detail != nullptr) *detail = c.is_unit ? "units not requested" : "volunteers not requested";
    return Exclusion::kConflict;
  }
  if (c.is_unit && !q.unit_kinds.empty() &&
      std::find(q.unit_kinds.begin(), q.unit_kinds.end(), c.unit_kind) == q.unit_kinds.end()) {
    if (detail != nullptr) {
      *detail = absl::StrCat("unit kind ", Name(c.unit_kind), " not requested");
    }
    return Exclusion::kConflict;
  }
  // Units in the index are active; only volunteers have a duty status.
  if (!c.is_unit) {
    bool wanted = q.duty_statuses.empty()
                      ? c.duty == DutyStatus::kOn
                      : std::find(q.duty_statuses.begin(), q.duty_statuses.end(), c.duty) !=
                            q.duty_statuses.end();
    if (!wanted) {
      if (detail != nullptr) *detail = absl::StrCat("duty status ", Name(c.duty));
      return Exclusion::kNotOnDuty;
    }
  }
  if (q.available_now && c.capacity_left() == 0) {
    if (detail != nullptr) {
      *detail = absl::StrCat(c.active_assignments, " of ", c.capacity, " assignments active");
    }
    return Exclusion::kNoCapacity;
  }
  // Without a detail the first gap decides; with one, the alphabetically first missing
  // token is named so that the explanation does not depend on the order of the query.
  bool missing = false;
  absl::string_view first_missing;
  auto note_missing = [&](absl::string_view token) {
    if (!missing || token < first_missing) first_missing = token;
    missing = true;
  };
  for (Certificate cert : q.required_certificates) {
    // A volunteer must hold the certificate; a unit must list its token.
    bool has = c.is_unit ? c.HasToken(CertToken(cert)) : (c.certificates & Bit(cert)) != 0;
    if (!has) {
      if (detail == nullptr) return Exclusion::kMissingSkill;
      note_missing(CertToken(cert));
    }
  }
  for (const std::string& t : q.required_tokens) {
    if (!c.HasToken(t)) {
      if (detail == nullptr) return Exclusion::kMissingSkill;
      note_missing(t);
    }
  }
  if (missing) {
    *detail = absl::StrCat("missing skill: ", first_missing);
    return Exclusion::kMissingSkill;
  }
  if (q.available_now && !c.is_unit && !AvailableAt(c.availability, now)) {
    if (detail != nullptr) *detail = "outside weekly availability";
    return Exclusion::kOutsideAvailability;
  }
  if (!q.exclude_ids.empty() && q.exclude_ids.contains(id)) {
    if (detail != nullptr) *detail = "excluded by the query";
    return Exclusion::kConflict;
  }
  return Exclusion::kNone;
}

}  // namespace

Verdict FirstUnmet(absl::string_view id, const Candidate& c, const CandidateQuery& q,
                   absl::Time now) {
  Verdict v;
  v.exclusion = Unmet(id, c, q, now, &v.detail);
  return v;
}

bool Eligible(absl::string_view id, const Candidate& c, const CandidateQuery& q, absl::Time now) {
  return Unmet(id, c, q, now, nullptr) == Exclusion::kNone;
}

}  // namespace yiyuan
