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
  // True when `tokens` holds `token`.
  bool HasToken(absl::string_view token) const;
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

// Why a candidate may not be offered a piece of work. The numbers equal those of the API
// enum yiyuan.v1.ExclusionReason, so the server converts by number.
enum class Exclusion {
  kNone = 0,
  kNotOnDuty = 1,            // Off duty or busy (volunteer).
  kNoCapacity = 2,           // No capacity left.
  kMissingSkill = 3,         // Lacks a required skill, certificate or piece of equipment.
  kOutsideAvailability = 4,  // Outside the volunteer's weekly availability.
  kTooFar = 5,               // Beyond the maximum travel distance.
  kDeclined = 6,             // Declined this request before.
  kConflict = 7,             // Excluded by id, or not of a kind the query asks for.
  kAlreadyOffered = 8,       // Holds (or held) an offer of this request.
  kAlreadyAssigned = 9,      // Already assigned to this request.
  kNoShow = 10,              // Did not show for this request before.
  kStaleLocation = 11,       // The live location is too old to trust.
};

// The API name without its prefix: "NONE", "NOT_ON_DUTY", "NO_CAPACITY", ...; "UNKNOWN"
// for a number outside the enum.
absl::string_view Name(Exclusion e);

// The outcome of checking a candidate's hard constraints.
struct Verdict {
  Exclusion exclusion = Exclusion::kNone;
  // For people: what failed, e.g. "missing skill: medical". Empty when kNone.
  std::string detail;
};

// The first constraint of `q` that candidate `id` fails at time `now`, checked in this
// order: of a kind `q` does not ask for (volunteers or units not included, unit kind not
// listed) -> kConflict; duty status not asked for -> kNotOnDuty; with available_now, no
// capacity left -> kNoCapacity; a required token or certificate missing -> kMissingSkill
// naming the alphabetically first missing token; with available_now, a volunteer outside
// their availability -> kOutsideAvailability; in exclude_ids -> kConflict. kNone with an
// empty detail when every constraint holds. Never produces kTooFar, kDeclined,
// kAlreadyOffered, kAlreadyAssigned, kNoShow or kStaleLocation (see Scorer::Check).
Verdict FirstUnmet(absl::string_view id, const Candidate& c, const CandidateQuery& q,
                   absl::Time now);

// True when candidate `id` satisfies every constraint of `q` at time `now`: exactly when
// FirstUnmet() returns kNone (without building a detail).
bool Eligible(absl::string_view id, const Candidate& c, const CandidateQuery& q, absl::Time now);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_CANDIDATE_H_
