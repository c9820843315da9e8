#include "engine/dispatch_policy.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/field_violations.h"

namespace yiyuan {

DispatchPolicy::DispatchPolicy(DispatchPolicyOptions options) : options_(std::move(options)) {}

const UrgencyPolicy& DispatchPolicy::For(Urgency u) const {
  switch (u) {
    case Urgency::kCrisis:
      return options_.crisis;
    case Urgency::kUrgent:
      return options_.urgent;
    default:
      return options_.routine;
  }
}

RoundPlan DispatchPolicy::Plan(Urgency u, int round) const {
  const UrgencyPolicy& p = For(u);
  RoundPlan plan;
  plan.round = std::max(1, round);
  plan.offers = p.offers_per_round;
  plan.ttl = p.offer_ttl;
  // pow overflows to infinity for absurd rounds; min() then caps it.
  plan.radius_m =
      std::min(p.max_radius_m, p.first_radius_m * std::pow(p.radius_growth, plan.round - 1));
  plan.search_k = std::max(16, 4 * p.offers_per_round);
  return plan;
}

NextStep DispatchPolicy::Next(Urgency u, int rounds_done, absl::Time submitted,
                              absl::Time now) const {
  const UrgencyPolicy& p = For(u);
  if (now - submitted >= p.sla) return NextStep::kEscalateSlaBreached;
  if (rounds_done >= p.max_rounds) return NextStep::kEscalateRoundsExhausted;
  return NextStep::kOffer;
}

namespace {

void CheckPolicy(FieldViolations& v, absl::string_view prefix, const UrgencyPolicy& p) {
  auto field = [&](absl::string_view name) { return absl::StrCat(prefix, ".", name); };
  if (p.offers_per_round < 1) v.Add(field("offers_per_round"), "must be at least 1");
  if (p.offer_ttl <= absl::ZeroDuration()) v.Add(field("offer_ttl"), "must be positive");
  const bool first_ok = std::isfinite(p.first_radius_m) && p.first_radius_m > 0;
  if (!first_ok) v.Add(field("first_radius_m"), "must be a finite number > 0");
  if (!(std::isfinite(p.radius_growth) && p.radius_growth >= 1)) {
    v.Add(field("radius_growth"), "must be a finite number >= 1");
  }
  if (!(std::isfinite(p.max_radius_m) && p.max_radius_m > 0)) {
    v.Add(field("max_radius_m"), "must be a finite number > 0");
  } else if (first_ok && p.max_radius_m < p.first_radius_m) {
    v.Add(field("max_radius_m"), "must be at least first_radius_m");
  }
  if (p.max_rounds < 1) v.Add(field("max_rounds"), "must be at least 1");
  if (p.sla <= absl::ZeroDuration()) v.Add(field("sla"), "must be positive");
}

}  // namespace

absl::Status ValidateDispatchPolicyOptions(const DispatchPolicyOptions& options) {
  FieldViolations v;
  CheckPolicy(v, "routine", options.routine);
  CheckPolicy(v, "urgent", options.urgent);
  CheckPolicy(v, "crisis", options.crisis);
  return v.ToStatus();
}

}  // namespace yiyuan
