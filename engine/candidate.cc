#include "engine/candidate.h"

#include <algorithm>

namespace yiyuan {
namespace {

bool HasToken(const std::vector<std::string>& sorted, absl::string_view t) {
  return std::binary_search(sorted.begin(), sorted.end(), t,
                            [](absl::string_view a, absl::string_view b) { return a < b; });
}

uint32_t Bit(Certificate c) { return uint32_t{1} << static_cast<int>(c); }

}  // namespace

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

bool Eligible(absl::string_view id, const Candidate& c, const CandidateQuery& q, absl::Time now) {
  if (c.is_unit ? !q.include_units : !q.include_volunteers) return false;
  if (!q.exclude_ids.empty() && q.exclude_ids.contains(id)) return false;
  if (c.is_unit) {
    if (!q.unit_kinds.empty() &&
        std::find(q.unit_kinds.begin(), q.unit_kinds.end(), c.unit_kind) == q.unit_kinds.end()) {
      return false;
    }
    for (Certificate cert : q.required_certificates) {
      if (!HasToken(c.tokens, CertificateToken(cert))) return false;
    }
  } else {
    if (q.duty_statuses.empty()) {
      if (c.duty != DutyStatus::kOn) return false;
    } else if (std::find(q.duty_statuses.begin(), q.duty_statuses.end(), c.duty) ==
               q.duty_statuses.end()) {
      return false;
    }
    for (Certificate cert : q.required_certificates) {
      if ((c.certificates & Bit(cert)) == 0) return false;
    }
  }
  for (const std::string& t : q.required_tokens) {
    if (!HasToken(c.tokens, t)) return false;
  }
  if (q.available_now) {
    if (c.capacity_left() == 0) return false;
    if (!c.is_unit && !AvailableAt(c.availability, now)) return false;
  }
  return true;
}

}  // namespace yiyuan
