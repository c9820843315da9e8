#include "engine/dispatch_policy.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::HasSubstr;

absl::Time Submitted() { return absl::FromUnixSeconds(1795000000); }

TEST(DispatchPolicyTest, Defaults) {
  DispatchPolicy p;
  const UrgencyPolicy& crisis = p.For(Urgency::kCrisis);
  EXPECT_EQ(crisis.offers_per_round, 3);
  EXPECT_EQ(crisis.offer_ttl, absl::Seconds(45));
  EXPECT_EQ(crisis.first_radius_m, 2000);
  EXPECT_EQ(crisis.radius_growth, 2.0);
  EXPECT_EQ(crisis.max_radius_m, 16000);
  EXPECT_EQ(crisis.max_rounds, 4);
  EXPECT_EQ(crisis.sla, absl::Minutes(5));
  const UrgencyPolicy& urgent = p.For(Urgency::kUrgent);
  EXPECT_EQ(urgent.offers_per_round, 1);
  EXPECT_EQ(urgent.offer_ttl, absl::Seconds(90));
  EXPECT_EQ(urgent.first_radius_m, 3000);
  EXPECT_EQ(urgent.radius_growth, 1.5);
  EXPECT_EQ(urgent.max_radius_m, 10000);
  EXPECT_EQ(urgent.max_rounds, 5);
  EXPECT_EQ(urgent.sla, absl::Minutes(20));
  const UrgencyPolicy& routine = p.For(Urgency::kRoutine);
  EXPECT_EQ(routine.offers_per_round, 1);
  EXPECT_EQ(routine.offer_ttl, absl::Seconds(300));
  EXPECT_EQ(routine.first_radius_m, 5000);
  EXPECT_EQ(routine.radius_growth, 1.0);
  EXPECT_EQ(routine.max_radius_m, 5000);
  EXPECT_EQ(routine.max_rounds, 6);
  EXPECT_EQ(routine.sla, absl::Hours(4));
  EXPECT_TRUE(ValidateDispatchPolicyOptions(DispatchPolicyOptions()).ok());
}

TEST(DispatchPolicyTest, UnspecifiedAndUnknownAreRoutine) {
  DispatchPolicy p;
  EXPECT_EQ(&p.For(Urgency::kUnspecified), &p.For(Urgency::kRoutine));
  EXPECT_EQ(&p.For(Urgency::kUnknown), &p.For(Urgency::kRoutine));
  EXPECT_NE(&p.For(Urgency::kUrgent), &p.For(Urgency::kRoutine));
}

TEST(DispatchPolicyTest, CrisisRoundsWidenUntilCapped) {
  DispatchPolicy p;
  const double want[] = {2000, 4000, 8000, 16000, 16000, 16000};
  for (int round = 1; round <= 6; ++round) {
    RoundPlan plan = p.Plan(Urgency::kCrisis, round);
    EXPECT_EQ(plan.round, round);
    EXPECT_EQ(plan.offers, 3);
    EXPECT_EQ(plan.ttl, absl::Seconds(45));
    EXPECT_DOUBLE_EQ(plan.radius_m, want[round - 1]) << round;
    EXPECT_EQ(plan.search_k, 16);
  }
}

TEST(DispatchPolicyTest, UrgentAndRoutineRounds) {
  DispatchPolicy p;
  EXPECT_DOUBLE_EQ(p.Plan(Urgency::kUrgent, 1).radius_m, 3000);
  EXPECT_DOUBLE_EQ(p.Plan(Urgency::kUrgent, 2).radius_m, 4500);
  EXPECT_DOUBLE_EQ(p.Plan(Urgency::kUrgent, 3).radius_m, 6750);
  EXPECT_DOUBLE_EQ(p.Plan(Urgency::kUrgent, 4).radius_m, 10000) << "10125 capped";
  EXPECT_EQ(p.Plan(Urgency::kUrgent, 4).ttl, absl::Seconds(90));
  for (int round = 1; round <= 6; ++round) {
    EXPECT_DOUBLE_EQ(p.Plan(Urgency::kRoutine, round).radius_m, 5000);
  }
  EXPECT_EQ(p.Plan(Urgency::kRoutine, 1).offers, 1);
  EXPECT_EQ(p.Plan(Urgency::kRoutine, 1).ttl, absl::Minutes(5));
}

TEST(DispatchPolicyTest, PlanEdges) {
  DispatchPolicy p;
  RoundPlan zero = p.Plan(Urgency::kCrisis, 0);
  EXPECT_EQ(zero.round, 1);
  EXPECT_DOUBLE_EQ(zero.radius_m, 2000);
  EXPECT_EQ(p.Plan(Urgency::kCrisis, -5).round, 1);
  EXPECT_DOUBLE_EQ(p.Plan(Urgency::kCrisis, 5000).radius_m, 16000) << "growth overflow capped";

  DispatchPolicyOptions o;
  o.crisis.offers_per_round = 10;
  RoundPlan wide = DispatchPolicy(o).Plan(Urgency::kCrisis, 1);
  EXPECT_EQ(wide.offers, 10);
  EXPECT_EQ(wide.search_k, 40) << "4 per offer once above 16";
}

TEST(DispatchPolicyTest, NextStep) {
  DispatchPolicy p;
  const absl::Time t0 = Submitted();
  EXPECT_EQ(p.Next(Urgency::kCrisis, 0, t0, t0), NextStep::kOffer);
  EXPECT_EQ(p.Next(Urgency::kCrisis, 3, t0, t0 + absl::Minutes(4)), NextStep::kOffer);
  EXPECT_EQ(p.Next(Urgency::kCrisis, 4, t0, t0 + absl::Minutes(4)),
            NextStep::kEscalateRoundsExhausted);
  EXPECT_EQ(p.Next(Urgency::kCrisis, 1, t0, t0 + absl::Minutes(5) - absl::Nanoseconds(1)),
            NextStep::kOffer);
  EXPECT_EQ(p.Next(Urgency::kCrisis, 1, t0, t0 + absl::Minutes(5)), NextStep::kEscalateSlaBreached)
      << "the SLA is breached at exactly its length";
  EXPECT_EQ(p.Next(Urgency::kCrisis, 4, t0, t0 + absl::Minutes(5)), NextStep::kEscalateSlaBreached)
      << "the SLA is checked first";
  EXPECT_EQ(p.Next(Urgency::kUrgent, 4, t0, t0 + absl::Minutes(19)), NextStep::kOffer);
  EXPECT_EQ(p.Next(Urgency::kUrgent, 5, t0, t0 + absl::Minutes(19)),
            NextStep::kEscalateRoundsExhausted);
  EXPECT_EQ(p.Next(Urgency::kRoutine, 5, t0, t0 + absl::Hours(3)), NextStep::kOffer);
  EXPECT_EQ(p.Next(Urgency::kRoutine, 0, t0, t0 + absl::Hours(4)), NextStep::kEscalateSlaBreached);
  EXPECT_EQ(p.Next(Urgency::kUnspecified, 6, t0, t0), NextStep::kEscalateRoundsExhausted);
  EXPECT_EQ(p.Next(Urgency::kCrisis, 0, t0, t0 - absl::Minutes(10)), NextStep::kOffer)
      << "a clock behind the submission time is not a breach";
}

TEST(ValidateDispatchPolicyOptionsTest, NamesTheField) {
  struct Case {
    void (*mutate)(DispatchPolicyOptions&);
    const char* message;
  };
  const Case cases[] = {
      {[](DispatchPolicyOptions& o) { o.crisis.offer_ttl = absl::ZeroDuration(); },
       "crisis.offer_ttl: must be positive"},
      {[](DispatchPolicyOptions& o) { o.urgent.offers_per_round = 0; },
       "urgent.offers_per_round: must be at least 1"},
      {[](DispatchPolicyOptions& o) { o.routine.first_radius_m = -1; },
       "routine.first_radius_m: must be a finite number > 0"},
      {[](DispatchPolicyOptions& o) { o.crisis.radius_growth = 0.5; },
       "crisis.radius_growth: must be a finite number >= 1"},
      {[](DispatchPolicyOptions& o) { o.urgent.max_radius_m = 1000; },
       "urgent.max_radius_m: must be at least first_radius_m"},
      {[](DispatchPolicyOptions& o) { o.routine.max_radius_m = std::nan(""); },
       "routine.max_radius_m: must be a finite number > 0"},
      {[](DispatchPolicyOptions& o) { o.routine.max_rounds = 0; },
       "routine.max_rounds: must be at least 1"},
      {[](DispatchPolicyOptions& o) { o.crisis.sla = -absl::Minutes(1); },
       "crisis.sla: must be positive"},
  };
  for (const Case& c : cases) {
    DispatchPolicyOptions o;
    c.mutate(o);
    absl::Status s = ValidateDispatchPolicyOptions(o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
  DispatchPolicyOptions two;
  two.routine.sla = absl::ZeroDuration();
  two.crisis.max_rounds = 0;
  EXPECT_THAT(ValidateDispatchPolicyOptions(two).message(),
              HasSubstr("routine.sla: must be positive (and 1 more)"));
}

}  // namespace
}  // namespace yiyuan
