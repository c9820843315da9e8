#ifndef YIYUAN_ENGINE_CANDIDATE_H_
#define YIYUAN_ENGINE_CANDIDATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/volunteer.h"

namespace yiyuan {

// What the live index keeps about an on-duty volunteer or a dispatchable unit: enough
// to decide eligibility for work without asking Redis.
struct Candidate {
  bool is_unit = false;
  UnitKind unit_kind = UnitKind::kUnspecified;  // Units only.
  DutyStatus duty = DutyStatus::kOn;            // Volunteers only.
  int capacity = 1;
  int active_assignments = 0;
  std::vector<std::string> tokens;             // Sorted skills, certificate tokens, equipment.
  uint32_t certificates = 0;                   // Bit n set for Certificate number n.
  std::vector<AvailabilitySlot> availability;  // Volunteers; empty = always.
  int64_t revision = 0;                        // Of the record this was made from.
  int64_t location_time_ms = 0;                // Of the indexed location.

  int capacity_left() const {
    return capacity > active_assignments ? capacity - active_assignments : 0;
  }
};

// The candidate entry of a volunteer, and whether they belong in the index at all (on
// duty or busy, with a location).
Candidate CandidateOf(const Volunteer& v);
bool Indexable(const Volunteer& v);
// The same for a unit: active and located.
Candidate CandidateOf(const Unit& u);
bool Indexable(const Unit& u);

// Hard constraints on who may be offered a piece of work (DESIGN.md section 4).
struct CandidateQuery {
  // Every candidate must hold all these tokens (certificates count by their token).
  std::vector<std::string> required_tokens;
  // Every volunteer must hold these certificates; a unit must list their tokens.
  std::vector<Certificate> required_certificates;
  // Volunteers in these statuses; empty means ON only.
  std::vector<DutyStatus> duty_statuses;
  // Capacity left and, for volunteers, inside a weekly availability slot now.
  bool available_now = false;
  bool include_volunteers = true;
  bool include_units = false;
  // With include_units: only these kinds; empty means all.
  std::vector<UnitKind> unit_kinds;
  // Ids to leave out.
  absl::flat_hash_set<std::string> exclude_ids;
};

// True when candidate `id` satisfies every constraint of `q` at time `now`.
bool Eligible(absl::string_view id, const Candidate& c, const CandidateQuery& q, absl::Time now);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_CANDIDATE_H_
