#ifndef YIYUAN_ENGINE_DISPATCH_POLICY_H_
#define YIYUAN_ENGINE_DISPATCH_POLICY_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/help_request.h"

namespace yiyuan {

// How offers for a request of one urgency are made (DESIGN.md section 4, "modes by
// urgency"): rounds of offers with a TTL, over a radius that may widen each round, until
// an acceptance, the last round or the SLA, whichever comes first.
struct UrgencyPolicy {
  // Offers made in parallel each round; the first acceptance wins.
  int offers_per_round = 1;
  // How long an offer stays open before it expires.
  absl::Duration offer_ttl = absl::Seconds(300);
  // Search radius of the first round, metres.
  double first_radius_m = 5000;
  // Each round's radius is the previous one's times this (>= 1; 1 = fixed radius).
  double radius_growth = 1.0;
  // The radius never grows beyond this, metres.
  double max_radius_m = 5000;
  // After this many rounds without an acceptance the request is escalated.
  int max_rounds = 6;
  // From submission to assignment; once it has passed the request is escalated.
  absl::Duration sla = absl::Hours(4);
};

// One policy per urgency; the defaults are the starting points of the command desk.
struct DispatchPolicyOptions {
  // Pooled for the batch cycle; one offer at a time, fixed radius, patient.
  UrgencyPolicy routine;
  // The best one, moved on at expiry or decline, widening slowly.
  UrgencyPolicy urgent = {1, absl::Seconds(90), 3000, 1.5, 10000, 5, absl::Minutes(20)};
  // The best few in parallel, short TTL, widening fast, escalated quickly.
  UrgencyPolicy crisis = {3, absl::Seconds(45), 2000, 2.0, 16000, 4, absl::Minutes(5)};
};

// What to do in one round of offers.
struct RoundPlan {
  int round = 1;        // 1-based.
  int offers = 1;       // Offers to make in parallel.
  absl::Duration ttl;   // Of each offer.
  double radius_m = 0;  // Search radius.
  int search_k = 16;    // Nearest candidates to consider: max(16, 4 * offers).
};

enum class NextStep {
  kOffer,                    // Run another round.
  kEscalateRoundsExhausted,  // max_rounds have run without an acceptance.
  kEscalateSlaBreached,      // The SLA has passed.
};

// Plans rounds of offers by urgency. Immutable; thread-safe.
class DispatchPolicy {
 public:
  // `options` should pass ValidateDispatchPolicyOptions.
  explicit DispatchPolicy(DispatchPolicyOptions options = {});

  // The policy of urgency `u`; unspecified and unknown urgencies get the routine one.
  const UrgencyPolicy& For(Urgency u) const;

  // Round `round` (1-based; values below 1 count as 1) of a request of urgency `u`:
  // radius min(max_radius_m, first_radius_m * radius_growth^(round - 1)).
  RoundPlan Plan(Urgency u, int round) const;

  // What to do after `rounds_done` rounds without an acceptance for a request submitted
  // at `submitted`: kEscalateSlaBreached once now - submitted >= sla (checked first),
  // kEscalateRoundsExhausted once rounds_done >= max_rounds, otherwise kOffer.
  NextStep Next(Urgency u, int rounds_done, absl::Time submitted, absl::Time now) const;

  const DispatchPolicyOptions& options() const { return options_; }

 private:
  DispatchPolicyOptions options_;
};

// OK, or INVALID_ARGUMENT naming the first bad field ("crisis.offer_ttl: must be
// positive"): offers_per_round >= 1, offer_ttl > 0, first_radius_m finite and > 0,
// radius_growth finite and >= 1, max_radius_m finite and >= first_radius_m,
// max_rounds >= 1, sla > 0.
absl::Status ValidateDispatchPolicyOptions(const DispatchPolicyOptions& options);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_DISPATCH_POLICY_H_
