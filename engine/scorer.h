#ifndef YIYUAN_ENGINE_SCORER_H_
#define YIYUAN_ENGINE_SCORER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/candidate.h"
#include "engine/clock.h"
#include "engine/help_request.h"
#include "engine/volunteer.h"

namespace yiyuan {

// The explainable cost of sending a candidate to a request (DESIGN.md section 4): a
// weighted sum of named components, lower is better. The unit of cost is one minute of
// estimated travel at the default travel_time weight, so every other weight reads as
// "worth this many minutes of travel" at its worst value.

// The weight of each cost component. Defaults are starting points, to be tuned on real
// dispatch data; each must be finite and >= 0.
struct ScoreWeights {
  // Per minute of estimated travel time.
  double travel_time = 1.0;
  // Per unit of the fraction of preferred skills the candidate lacks.
  double preferred_skill_fit = 4.0;
  // Per unit of "no history with this resident" (paired 0, served before 0.25, else 1).
  // Set so that a paired volunteer 2 km away beats a stranger 500 m away, while a
  // stranger 200 m away still beats a paired volunteer 8 km away (on foot).
  double continuity = 30.0;
  // Per unit of recent load and recency of the last offer (0 = idle, 1 = busiest).
  double fairness = 3.0;
  // Per unit of the estimated chance that an offer does not end in a completed service.
  double reliability = 5.0;
  // Per urgency-weighted travel minute (see ScorerOptions::urgent_travel_factor).
  double urgency = 1.0;
};

// How the scorer estimates travel and trusts locations.
struct ScorerOptions {
  ScoreWeights weights;
  // Road distance / straight-line distance.
  double detour_factor = 1.3;
  // Metres per second of a volunteer (a walking / bicycle mix).
  double volunteer_speed_mps = 1.4;
  // Metres per second of a service van (UnitKind::kVan).
  double van_speed_mps = 6.0;
  // Metres per second of a station's or team's people (and of units of unknown kind).
  double team_speed_mps = 1.4;
  // Live locations of volunteers and vans older than this are not trusted
  // (kStaleLocation). Stations and teams do not move and are never stale.
  absl::Duration stale_location = absl::Minutes(15);
  // The "urgency" component is travel minutes times this factor: ROUTINE (and
  // unspecified) 0, URGENT and CRISIS as below, so urgent work weighs distance more.
  double urgent_travel_factor = 0.5;
  double crisis_travel_factor = 2.0;
};

// OK, or INVALID_ARGUMENT naming the first bad field ("weights.fairness",
// "van_speed_mps", ...): weights and factors finite and >= 0, speeds finite and > 0,
// detour_factor finite and >= 1, stale_location > 0.
absl::Status ValidateScorerOptions(const ScorerOptions& options);

// What the scorer needs to know about one request.
struct MatchRequest {
  Urgency urgency = Urgency::kRoutine;
  LatLng location;
  // Skills every candidate must have, including certificate tokens ("medical").
  std::vector<std::string> required_tokens;
  // Certificates every volunteer must hold (a unit must list their tokens).
  std::vector<Certificate> required_certificates;
  // Skills that lower the cost when present.
  std::vector<std::string> preferred_skills;
  // When the work starts; availability and capacity are judged at max(now, this).
  // InfinitePast means now.
  absl::Time window_start = absl::InfinitePast();
  // Candidates farther than this (straight line, metres) are kTooFar; 0 = no limit.
  double max_travel_m = 0;
  // Units (of `unit_kinds`, or of any kind when empty) may be matched too.
  bool include_units = false;
  std::vector<UnitKind> unit_kinds;
  // People with a history on this request or with this resident, by candidate id:
  // a standing pairing with the resident (continuity 0),
  absl::flat_hash_set<std::string> paired;
  // served this resident before (continuity 0.25),
  absl::flat_hash_set<std::string> served_before;
  // declined this request (kDeclined),
  absl::flat_hash_set<std::string> declined;
  // did not show for this request (kNoShow),
  absl::flat_hash_set<std::string> no_show;
  // hold or held an offer of this request (kAlreadyOffered),
  absl::flat_hash_set<std::string> offered;
  // are assigned to it (kAlreadyAssigned),
  absl::flat_hash_set<std::string> assigned;
  // or must not be sent, e.g. an operator's "do not send" (kConflict).
  absl::flat_hash_set<std::string> conflict;
};

// One candidate as seen from the request.
struct CandidateFacts {
  std::string id;
  const Candidate* candidate = nullptr;  // From the live index; not owned; never null.
  double distance_m = 0;                 // Straight line to MatchRequest::location.
  // May be null (units, or statistics not loaded): fairness and reliability are then
  // neutral (0.5).
  const VolunteerStats* stats = nullptr;
};

// Names of the cost components, in the order they always appear.
inline constexpr absl::string_view kTravelTimeComponent = "travel_time";
inline constexpr absl::string_view kPreferredSkillFitComponent = "preferred_skill_fit";
inline constexpr absl::string_view kContinuityComponent = "continuity";
inline constexpr absl::string_view kFairnessComponent = "fairness";
inline constexpr absl::string_view kReliabilityComponent = "reliability";
inline constexpr absl::string_view kUrgencyComponent = "urgency";
inline constexpr int kCostComponents = 6;

// One named term of a candidate's cost.
struct CostComponent {
  std::string name;  // One of the k*Component names above.
  // The raw value. travel_time: estimated travel in SECONDS; urgency: urgency-weighted
  // travel minutes; the others: penalties in 0..1.
  double value = 0;
  // The weight as configured. travel_time's weight is per MINUTE.
  double weight = 0;
  // This component's share of the total: value * weight, except travel_time where it is
  // value / 60 * weight.
  double weighted = 0;
  // For people, e.g. "1.2 km, about 19 min"; empty when details were not asked for.
  std::string detail;
};

// A candidate that passed every hard constraint, with its cost.
struct ScoredCandidate {
  std::string id;
  double distance_m = 0;
  int travel_time_s = 0;  // Estimated, rounded to the second.
  double total_cost = 0;  // Sum of the components' `weighted`.
  // Exactly kCostComponents, in the order of the k*Component names.
  std::vector<CostComponent> components;
  // Paired with the resident or served them before.
  bool continuity = false;
};

// A candidate that failed a hard constraint.
struct ExcludedCandidate {
  std::string id;
  double distance_m = 0;
  Exclusion exclusion = Exclusion::kNone;
  std::string detail;  // Empty when details were not asked for.
};

struct Ranking {
  std::vector<ScoredCandidate> ranked;      // Best first: by (total_cost, id).
  std::vector<ExcludedCandidate> excluded;  // Nearest first: by (distance_m, id).
};

// Checks and scores candidates for a request. Deterministic given the clock's time.
// Thread-safe: every method is const and keeps no state between calls.
class Scorer {
 public:
  // `options` should pass ValidateScorerOptions. `clock` is not owned and must outlive
  // the scorer.
  Scorer(ScorerOptions options, const Clock& clock);

  // The first hard constraint the candidate fails, in this order: in request.assigned
  // (kAlreadyAssigned), offered (kAlreadyOffered), declined (kDeclined), no_show
  // (kNoShow), conflict (kConflict); then FirstUnmet() of the request's required skills
  // and unit kinds, on duty, with capacity and availability judged at
  // max(now, window_start); then distance_m > max_travel_m (kTooFar, when max_travel_m
  // > 0); then, for volunteers and vans, a location fix older than
  // options().stale_location or of unknown time (kStaleLocation). kNone when the
  // candidate may be offered the request.
  Verdict Check(const MatchRequest& request, const CandidateFacts& facts) const;

  // The cost of a candidate, with details. Meaningful only for candidates Check()
  // passes; it does not check again.
  ScoredCandidate Score(const MatchRequest& request, const CandidateFacts& facts) const;

  // Checks every candidate once, at one reading of the clock, and scores those that
  // pass. Without `with_details` the detail strings of components and exclusions are left
  // empty (the dispatch hot path); values, weights and order are the same either way.
  Ranking Rank(const MatchRequest& request, absl::Span<const CandidateFacts> candidates,
               bool with_details = true) const;

  const ScorerOptions& options() const { return options_; }

 private:
  ScorerOptions options_;
  const Clock& clock_;
};

// Applies "travel_time=1,fairness=2.5" style overrides (for a server flag) to `base`.
// Keys are the component names; spaces around keys and values and empty items are
// ignored. INVALID_ARGUMENT naming the bad item for an unknown or repeated key, an item
// without '=', or a value that is not a finite number >= 0.
absl::StatusOr<ScoreWeights> ParseScoreWeights(absl::string_view spec, ScoreWeights base = {});

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_SCORER_H_
