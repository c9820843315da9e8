#include "engine/scorer.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 2026-11-23 is a Monday; 10:00 in Shanghai is 02:00 UTC.
absl::Time MondayTenShanghai() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 2, 0, 0), absl::UTCTimeZone());
}

class ScorerTest : public ::testing::Test {
 protected:
  ScorerTest() : clock_(MondayTenShanghai()), scorer_(ScorerOptions(), clock_) {
    request_.location = LatLng{30.87, 120.09};
  }

  int64_t NowMs() const { return absl::ToUnixMillis(clock_.Now()); }

  // An on-duty volunteer with a fix a minute old. Stored so that facts can point to it.
  Candidate* NewVolunteer(std::vector<std::string> tokens = {}) {
    Candidate c;
    c.tokens = std::move(tokens);
    std::sort(c.tokens.begin(), c.tokens.end());
    c.location_time_ms = NowMs() - 60000;
    candidates_.push_back(c);
    return &candidates_.back();
  }
  Candidate* NewUnit(UnitKind kind) {
    Candidate* c = NewVolunteer();
    c->is_unit = true;
    c->unit_kind = kind;
    return c;
  }
  const VolunteerStats* Stats(VolunteerStats s) {
    stats_.push_back(s);
    return &stats_.back();
  }
  static CandidateFacts Facts(std::string id, const Candidate* c, double distance_m,
                              const VolunteerStats* stats = nullptr) {
    return CandidateFacts{std::move(id), c, distance_m, stats};
  }
  // A copy: callers pass temporaries.
  static CostComponent Component(const ScoredCandidate& s, absl::string_view name) {
    for (const CostComponent& c : s.components) {
      if (c.name == name) return c;
    }
    ADD_FAILURE() << "no component " << name;
    return CostComponent();
  }
  std::vector<std::string> RankedIds(const Ranking& r) {
    std::vector<std::string> ids;
    for (const ScoredCandidate& s : r.ranked) ids.push_back(s.id);
    return ids;
  }

  FakeClock clock_;
  Scorer scorer_;
  MatchRequest request_;
  std::deque<Candidate> candidates_;
  std::deque<VolunteerStats> stats_;
};

TEST_F(ScorerTest, HistoryExclusionsInOrder) {
  CandidateFacts f = Facts("v1", NewVolunteer(), 100);
  EXPECT_EQ(scorer_.Check(request_, f).exclusion, Exclusion::kNone);
  request_.conflict.insert("v1");
  Verdict v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kConflict);
  EXPECT_EQ(v.detail, "marked as not to be sent");
  request_.no_show.insert("v1");
  v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kNoShow);
  EXPECT_EQ(v.detail, "did not show for this request");
  request_.declined.insert("v1");
  v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kDeclined);
  EXPECT_EQ(v.detail, "declined this request");
  request_.offered.insert("v1");
  v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kAlreadyOffered);
  EXPECT_EQ(v.detail, "already offered this request");
  request_.assigned.insert("v1");
  v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kAlreadyAssigned);
  EXPECT_EQ(v.detail, "already assigned to this request");
}

TEST_F(ScorerTest, HistoryComesBeforeTheCandidatesState) {
  Candidate* c = NewVolunteer();
  c->duty = DutyStatus::kOff;
  c->location_time_ms = 0;
  request_.declined.insert("v1");
  request_.max_travel_m = 10;
  EXPECT_EQ(scorer_.Check(request_, Facts("v1", c, 100)).exclusion, Exclusion::kDeclined);
  request_.declined.clear();
  EXPECT_EQ(scorer_.Check(request_, Facts("v1", c, 100)).exclusion, Exclusion::kNotOnDuty);
  c->duty = DutyStatus::kOn;
  EXPECT_EQ(scorer_.Check(request_, Facts("v1", c, 100)).exclusion, Exclusion::kTooFar)
      << "too far before stale";
  request_.max_travel_m = 0;
  EXPECT_EQ(scorer_.Check(request_, Facts("v1", c, 100)).exclusion, Exclusion::kStaleLocation);
}

TEST_F(ScorerTest, ConstraintExclusions) {
  Candidate* c = NewVolunteer({"cooking", "medical"});
  c->certificates = 1u << static_cast<int>(Certificate::kMedical);
  CandidateFacts f = Facts("v1", c, 100);

  c->duty = DutyStatus::kBusy;
  Verdict v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kNotOnDuty);
  EXPECT_EQ(v.detail, "duty status BUSY");
  c->duty = DutyStatus::kOn;

  c->active_assignments = 1;
  v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kNoCapacity);
  EXPECT_EQ(v.detail, "1 of 1 assignments active");
  c->active_assignments = 0;

  request_.required_tokens = {"medical", "first-aid"};
  request_.required_certificates = {Certificate::kMedical};
  v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kMissingSkill);
  EXPECT_EQ(v.detail, "missing skill: first-aid");
  request_.required_tokens = {"cooking"};
  request_.required_certificates = {Certificate::kDriver, Certificate::kMedical};
  EXPECT_EQ(scorer_.Check(request_, f).detail, "missing skill: driver");
  request_.required_certificates = {Certificate::kMedical};
  EXPECT_EQ(scorer_.Check(request_, f).exclusion, Exclusion::kNone);

  request_.include_units = true;
  request_.unit_kinds = {UnitKind::kVan};
  Candidate* station = NewUnit(UnitKind::kStation);
  v = scorer_.Check(request_, Facts("u1", station, 100));
  EXPECT_EQ(v.exclusion, Exclusion::kConflict);
  EXPECT_EQ(v.detail, "unit kind STATION not requested");
  request_.include_units = false;
  v = scorer_.Check(request_, Facts("u1", station, 100));
  EXPECT_EQ(v.exclusion, Exclusion::kConflict);
  EXPECT_EQ(v.detail, "units not requested");
}

TEST_F(ScorerTest, AvailabilityIsJudgedAtTheWindowStart) {
  Candidate* c = NewVolunteer();
  c->availability = {{1, 9 * 60, 11 * 60}};  // Mondays 09:00-11:00 local; now is 10:00.
  CandidateFacts f = Facts("v1", c, 100);
  EXPECT_EQ(scorer_.Check(request_, f).exclusion, Exclusion::kNone);
  request_.window_start = clock_.Now() - absl::Hours(5);
  EXPECT_EQ(scorer_.Check(request_, f).exclusion, Exclusion::kNone) << "a past start means now";
  request_.window_start = clock_.Now() + absl::Hours(2);
  Verdict v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kOutsideAvailability);
  EXPECT_EQ(v.detail, "outside weekly availability");
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(scorer_.Check(request_, f).exclusion, Exclusion::kOutsideAvailability);
}

TEST_F(ScorerTest, TooFar) {
  CandidateFacts f = Facts("v1", NewVolunteer(), 2500);
  request_.max_travel_m = 2500;
  EXPECT_EQ(scorer_.Check(request_, f).exclusion, Exclusion::kNone) << "the limit is inclusive";
  request_.max_travel_m = 2000;
  Verdict v = scorer_.Check(request_, f);
  EXPECT_EQ(v.exclusion, Exclusion::kTooFar);
  EXPECT_EQ(v.detail, "2.5 km away, limit 2.0 km");
}

TEST_F(ScorerTest, StaleLocationOnlyForThoseWhoMove) {
  Candidate* volunteer = NewVolunteer();
  Candidate* van = NewUnit(UnitKind::kVan);
  Candidate* station = NewUnit(UnitKind::kStation);
  Candidate* team = NewUnit(UnitKind::kTeam);
  request_.include_units = true;
  for (Candidate* c : {volunteer, van, station, team}) {
    c->location_time_ms = NowMs() - absl::ToInt64Milliseconds(absl::Minutes(15));
  }
  for (Candidate* c : {volunteer, van, station, team}) {
    EXPECT_EQ(scorer_.Check(request_, Facts("x", c, 100)).exclusion, Exclusion::kNone)
        << "exactly the limit is still fresh";
  }
  clock_.Advance(absl::Milliseconds(1));
  Verdict v = scorer_.Check(request_, Facts("x", volunteer, 100));
  EXPECT_EQ(v.exclusion, Exclusion::kStaleLocation);
  EXPECT_EQ(v.detail, "location 15 min old");
  EXPECT_EQ(scorer_.Check(request_, Facts("x", van, 100)).exclusion, Exclusion::kStaleLocation);
  EXPECT_EQ(scorer_.Check(request_, Facts("x", station, 100)).exclusion, Exclusion::kNone);
  EXPECT_EQ(scorer_.Check(request_, Facts("x", team, 100)).exclusion, Exclusion::kNone);

  volunteer->location_time_ms = 0;
  v = scorer_.Check(request_, Facts("x", volunteer, 100));
  EXPECT_EQ(v.exclusion, Exclusion::kStaleLocation);
  EXPECT_EQ(v.detail, "location time unknown");
  station->location_time_ms = 0;
  EXPECT_EQ(scorer_.Check(request_, Facts("x", station, 100)).exclusion, Exclusion::kNone);

  ScorerOptions lax;
  lax.stale_location = absl::Hours(1);
  Scorer scorer(lax, clock_);
  EXPECT_EQ(scorer.Check(request_, Facts("x", van, 100)).exclusion, Exclusion::kNone);
}

TEST_F(ScorerTest, ComponentsInFixedOrder) {
  ScoredCandidate s = scorer_.Score(request_, Facts("v1", NewVolunteer(), 100));
  std::vector<std::string> names;
  for (const CostComponent& c : s.components) names.push_back(c.name);
  EXPECT_THAT(names, ElementsAre("travel_time", "preferred_skill_fit", "continuity", "fairness",
                                 "reliability", "urgency"));
  double total = 0;
  for (const CostComponent& c : s.components) total += c.weighted;
  EXPECT_DOUBLE_EQ(s.total_cost, total);
}

TEST_F(ScorerTest, TravelTimeBySpeedOfKind) {
  ScoredCandidate walker = scorer_.Score(request_, Facts("v1", NewVolunteer(), 1200));
  const CostComponent t = Component(walker, "travel_time");
  EXPECT_NEAR(t.value, 1200 * 1.3 / 1.4, 1e-9);
  EXPECT_EQ(t.weight, 1.0);
  EXPECT_NEAR(t.weighted, 1200 * 1.3 / 1.4 / 60, 1e-9) << "weight is per minute";
  EXPECT_EQ(t.detail, "1.2 km, about 19 min");
  EXPECT_EQ(walker.travel_time_s, 1114);
  EXPECT_EQ(walker.distance_m, 1200);

  ScoredCandidate van = scorer_.Score(request_, Facts("u1", NewUnit(UnitKind::kVan), 1200));
  EXPECT_NEAR(Component(van, "travel_time").value, 260, 1e-9);
  EXPECT_EQ(van.travel_time_s, 260);
  EXPECT_EQ(Component(van, "travel_time").detail, "1.2 km, about 4 min");

  ScoredCandidate team = scorer_.Score(request_, Facts("u2", NewUnit(UnitKind::kTeam), 30));
  EXPECT_NEAR(Component(team, "travel_time").value, 30 * 1.3 / 1.4, 1e-9);
  EXPECT_EQ(Component(team, "travel_time").detail, "30 m, under 1 min");

  ScorerOptions o;
  o.weights.travel_time = 2;
  o.detour_factor = 1;
  Scorer scorer(o, clock_);
  ScoredCandidate s = scorer.Score(request_, Facts("v1", NewVolunteer(), 840));
  EXPECT_NEAR(Component(s, "travel_time").value, 600, 1e-9);
  EXPECT_EQ(Component(s, "travel_time").weight, 2);
  EXPECT_NEAR(Component(s, "travel_time").weighted, 20, 1e-9);
}

TEST_F(ScorerTest, PreferredSkillFit) {
  Candidate* c = NewVolunteer({"cooking", "first-aid"});
  const CostComponent none =
      Component(scorer_.Score(request_, Facts("v1", c, 100)), "preferred_skill_fit");
  EXPECT_EQ(none.value, 0);
  EXPECT_EQ(none.detail, "no preferred skills");

  request_.preferred_skills = {"first-aid", "sign-language"};
  ScoredCandidate s = scorer_.Score(request_, Facts("v1", c, 100));
  const CostComponent half = Component(s, "preferred_skill_fit");
  EXPECT_DOUBLE_EQ(half.value, 0.5);
  EXPECT_DOUBLE_EQ(half.weighted, 2.0);
  EXPECT_EQ(half.detail, "has 1 of 2 preferred: first-aid");

  request_.preferred_skills = {"driver", "first-aid", "cooking"};
  const CostComponent most =
      Component(scorer_.Score(request_, Facts("v1", c, 100)), "preferred_skill_fit");
  EXPECT_DOUBLE_EQ(most.value, 1.0 / 3);
  EXPECT_EQ(most.detail, "has 2 of 3 preferred: first-aid, cooking");

  request_.preferred_skills = {"driver"};
  const CostComponent lacking =
      Component(scorer_.Score(request_, Facts("v1", c, 100)), "preferred_skill_fit");
  EXPECT_EQ(lacking.value, 1);
  EXPECT_EQ(lacking.detail, "has 0 of 1 preferred");
}

TEST_F(ScorerTest, Continuity) {
  Candidate* c = NewVolunteer();
  request_.paired = {"p"};
  request_.served_before = {"p", "s"};
  ScoredCandidate paired = scorer_.Score(request_, Facts("p", c, 100));
  EXPECT_EQ(Component(paired, "continuity").value, 0);
  EXPECT_EQ(Component(paired, "continuity").detail, "paired volunteer");
  EXPECT_TRUE(paired.continuity);
  ScoredCandidate served = scorer_.Score(request_, Facts("s", c, 100));
  EXPECT_EQ(Component(served, "continuity").value, 0.25);
  EXPECT_DOUBLE_EQ(Component(served, "continuity").weighted, 0.25 * 30);
  EXPECT_EQ(Component(served, "continuity").detail, "served this resident before");
  EXPECT_TRUE(served.continuity);
  ScoredCandidate stranger = scorer_.Score(request_, Facts("x", c, 100));
  EXPECT_EQ(Component(stranger, "continuity").value, 1);
  EXPECT_EQ(Component(stranger, "continuity").detail, "no history");
  EXPECT_FALSE(stranger.continuity);
}

TEST_F(ScorerTest, Fairness) {
  Candidate* c = NewVolunteer();
  VolunteerStats s;
  s.recent_load = 3;
  s.last_offer_time_ms = NowMs() - 40 * 60000;
  const CostComponent busy =
      Component(scorer_.Score(request_, Facts("v1", c, 100, Stats(s))), "fairness");
  EXPECT_DOUBLE_EQ(busy.value, 0.5 * 3 / 5 + 0.5 * (1 - 40.0 / 120));
  EXPECT_DOUBLE_EQ(busy.weighted, busy.value * 3);
  EXPECT_EQ(busy.detail, "3 assignments in 7 days, last offer 40 min ago");

  VolunteerStats idle;
  const CostComponent never =
      Component(scorer_.Score(request_, Facts("v1", c, 100, Stats(idle))), "fairness");
  EXPECT_EQ(never.value, 0);
  EXPECT_EQ(never.detail, "0 assignments in 7 days, never offered");

  VolunteerStats swamped;
  swamped.recent_load = 12;
  swamped.last_offer_time_ms = NowMs() + 60000;  // A clock ahead of ours: just now.
  const CostComponent max =
      Component(scorer_.Score(request_, Facts("v1", c, 100, Stats(swamped))), "fairness");
  EXPECT_EQ(max.value, 1);

  VolunteerStats long_ago;
  long_ago.recent_load = 1;
  long_ago.last_offer_time_ms = NowMs() - 3 * 3600 * 1000;
  const CostComponent rested =
      Component(scorer_.Score(request_, Facts("v1", c, 100, Stats(long_ago))), "fairness");
  EXPECT_DOUBLE_EQ(rested.value, 0.1);
  EXPECT_EQ(rested.detail, "1 assignment in 7 days, last offer 3 h ago");

  const CostComponent unknown = Component(scorer_.Score(request_, Facts("v1", c, 100)), "fairness");
  EXPECT_EQ(unknown.value, 0.5);
  EXPECT_EQ(unknown.detail, "no statistics");
}

TEST_F(ScorerTest, Reliability) {
  Candidate* c = NewVolunteer();
  VolunteerStats s;
  s.offers_accepted = 8;
  s.offers_answered = 10;
  s.completed = 7;
  s.assignments_ended = 8;
  const CostComponent r =
      Component(scorer_.Score(request_, Facts("v1", c, 100, Stats(s))), "reliability");
  EXPECT_DOUBLE_EQ(r.value, 1 - (9.0 / 12) * (8.0 / 10));
  EXPECT_DOUBLE_EQ(r.weighted, r.value * 5);
  EXPECT_EQ(r.detail, "accepted 8 of 10, completed 7 of 8");

  const CostComponent newcomer = Component(
      scorer_.Score(request_, Facts("v1", c, 100, Stats(VolunteerStats()))), "reliability");
  EXPECT_DOUBLE_EQ(newcomer.value, 0.75);

  const CostComponent unknown =
      Component(scorer_.Score(request_, Facts("v1", c, 100)), "reliability");
  EXPECT_EQ(unknown.value, 0.5);
  EXPECT_EQ(unknown.detail, "no statistics");
}

TEST_F(ScorerTest, Urgency) {
  Candidate* c = NewVolunteer();
  const double minutes = 1200 * 1.3 / 1.4 / 60;
  request_.urgency = Urgency::kRoutine;
  const CostComponent routine = Component(scorer_.Score(request_, Facts("v1", c, 1200)), "urgency");
  EXPECT_EQ(routine.value, 0);
  EXPECT_EQ(routine.detail,
            "ROUTINE: travel counts \xC3\x97"
            "1");
  request_.urgency = Urgency::kUrgent;
  const CostComponent urgent = Component(scorer_.Score(request_, Facts("v1", c, 1200)), "urgency");
  EXPECT_DOUBLE_EQ(urgent.value, minutes * 0.5);
  EXPECT_EQ(urgent.detail,
            "URGENT: travel counts \xC3\x97"
            "1.5");
  request_.urgency = Urgency::kCrisis;
  ScoredCandidate crisis = scorer_.Score(request_, Facts("v1", c, 1200));
  const CostComponent u = Component(crisis, "urgency");
  EXPECT_DOUBLE_EQ(u.value, minutes * 2);
  EXPECT_DOUBLE_EQ(u.weighted, minutes * 2);
  EXPECT_EQ(u.detail,
            "CRISIS: travel counts \xC3\x97"
            "3");
  request_.urgency = Urgency::kUnspecified;
  EXPECT_EQ(Component(scorer_.Score(request_, Facts("v1", c, 1200)), "urgency").value, 0);
}

TEST_F(ScorerTest, HandComputedTotal) {
  Candidate* c = NewVolunteer({"first-aid"});
  VolunteerStats s;
  s.recent_load = 3;
  s.last_offer_time_ms = NowMs() - 40 * 60000;
  s.offers_accepted = 8;
  s.offers_answered = 10;
  s.completed = 7;
  s.assignments_ended = 8;
  request_.urgency = Urgency::kCrisis;
  request_.preferred_skills = {"first-aid", "driver"};
  request_.served_before = {"v1"};
  ScoredCandidate got = scorer_.Score(request_, Facts("v1", c, 1400, Stats(s)));
  const double minutes = 1400 * 1.3 / 1.4 / 60;  // 21.67
  const double want = minutes * 1 + 0.5 * 4 + 0.25 * 30 + (0.3 + 0.5 * (1 - 40.0 / 120)) * 3 +
                      0.4 * 5 + minutes * 2 * 1;
  EXPECT_NEAR(got.total_cost, want, 1e-9);
  EXPECT_EQ(got.travel_time_s, 1300);
}

TEST_F(ScorerTest, DefaultWeightsPreferContinuityWithinReason) {
  Candidate* c = NewVolunteer();
  request_.paired = {"paired"};
  Ranking near = scorer_.Rank(request_, {Facts("stranger", c, 500), Facts("paired", c, 2000)});
  EXPECT_THAT(RankedIds(near), ElementsAre("paired", "stranger"));
  Ranking far = scorer_.Rank(request_, {Facts("stranger", c, 200), Facts("paired", c, 8000)});
  EXPECT_THAT(RankedIds(far), ElementsAre("stranger", "paired"));
  // A crisis weighs travel three times: the nearer stranger goes first.
  request_.urgency = Urgency::kCrisis;
  Ranking crisis = scorer_.Rank(request_, {Facts("stranger", c, 500), Facts("paired", c, 2000)});
  EXPECT_THAT(RankedIds(crisis), ElementsAre("stranger", "paired"));
}

TEST_F(ScorerTest, WeightsChangeTheRanking) {
  Candidate* c = NewVolunteer();
  VolunteerStats loaded;
  loaded.recent_load = 5;
  loaded.last_offer_time_ms = NowMs() - 60000;
  VolunteerStats idle;
  std::vector<CandidateFacts> facts = {Facts("near-busy", c, 300, Stats(loaded)),
                                       Facts("far-idle", c, 1000, Stats(idle))};
  EXPECT_THAT(RankedIds(scorer_.Rank(request_, facts)), ElementsAre("near-busy", "far-idle"));
  ScorerOptions o;
  o.weights.fairness = 20;
  Scorer fair(o, clock_);
  EXPECT_THAT(RankedIds(fair.Rank(request_, facts)), ElementsAre("far-idle", "near-busy"));
}

TEST_F(ScorerTest, TiesBrokenById) {
  Candidate* c = NewVolunteer();
  Ranking r =
      scorer_.Rank(request_, {Facts("v3", c, 500), Facts("v1", c, 500), Facts("v2", c, 500)});
  EXPECT_THAT(RankedIds(r), ElementsAre("v1", "v2", "v3"));
  EXPECT_EQ(r.ranked[0].total_cost, r.ranked[2].total_cost);
}

TEST_F(ScorerTest, RankSeparatesAndOrders) {
  Candidate* ok = NewVolunteer();
  Candidate* busy = NewVolunteer();
  busy->duty = DutyStatus::kBusy;
  request_.declined = {"d"};
  Ranking r = scorer_.Rank(request_,
                           {Facts("b2", busy, 900), Facts("ok-far", ok, 2000), Facts("d", ok, 100),
                            Facts("b1", busy, 900), Facts("ok-near", ok, 50)});
  EXPECT_THAT(RankedIds(r), ElementsAre("ok-near", "ok-far"));
  ASSERT_EQ(r.excluded.size(), 3u);
  EXPECT_EQ(r.excluded[0].id, "d");
  EXPECT_EQ(r.excluded[0].exclusion, Exclusion::kDeclined);
  EXPECT_EQ(r.excluded[0].detail, "declined this request");
  EXPECT_EQ(r.excluded[0].distance_m, 100);
  EXPECT_EQ(r.excluded[1].id, "b1");
  EXPECT_EQ(r.excluded[2].id, "b2");
  EXPECT_EQ(r.excluded[2].exclusion, Exclusion::kNotOnDuty);

  Ranking empty = scorer_.Rank(request_, {});
  EXPECT_TRUE(empty.ranked.empty());
  EXPECT_TRUE(empty.excluded.empty());
}

TEST_F(ScorerTest, RankWithoutDetailsHasTheSameNumbers) {
  Candidate* c = NewVolunteer({"first-aid"});
  Candidate* busy = NewVolunteer();
  busy->duty = DutyStatus::kOff;
  request_.preferred_skills = {"first-aid"};
  request_.urgency = Urgency::kUrgent;
  std::vector<CandidateFacts> facts = {Facts("a", c, 700), Facts("b", c, 300),
                                       Facts("c", busy, 10)};
  Ranking with = scorer_.Rank(request_, facts);
  Ranking without = scorer_.Rank(request_, facts, /*with_details=*/false);
  ASSERT_EQ(with.ranked.size(), without.ranked.size());
  for (size_t i = 0; i < with.ranked.size(); ++i) {
    EXPECT_EQ(with.ranked[i].id, without.ranked[i].id);
    EXPECT_EQ(with.ranked[i].total_cost, without.ranked[i].total_cost);
    ASSERT_EQ(without.ranked[i].components.size(), 6u);
    for (size_t j = 0; j < 6; ++j) {
      EXPECT_EQ(with.ranked[i].components[j].name, without.ranked[i].components[j].name);
      EXPECT_EQ(with.ranked[i].components[j].weighted, without.ranked[i].components[j].weighted);
      EXPECT_FALSE(with.ranked[i].components[j].detail.empty());
      EXPECT_TRUE(without.ranked[i].components[j].detail.empty());
    }
  }
  ASSERT_EQ(without.excluded.size(), 1u);
  EXPECT_EQ(without.excluded[0].exclusion, Exclusion::kNotOnDuty);
  EXPECT_EQ(without.excluded[0].detail, "");
  EXPECT_EQ(with.excluded[0].detail, "duty status OFF");
}

// Random candidates: Rank agrees with Check and with sorting Score() results.
TEST_F(ScorerTest, RankAgreesWithCheckAndScore) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    auto coin = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    candidates_.clear();
    stats_.clear();
    MatchRequest r;
    r.urgency = static_cast<Urgency>(pick(4));
    r.include_units = coin(0.5);
    if (coin(0.3)) r.required_tokens = {"first-aid"};
    if (coin(0.5)) r.preferred_skills = {"cooking", "driver"};
    if (coin(0.3)) r.max_travel_m = 3000;
    const char* skills[] = {"first-aid", "cooking", "driver"};
    std::vector<CandidateFacts> facts;
    const int n = 1 + pick(60);
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> tokens;
      for (const char* s : skills) {
        if (coin(0.6)) tokens.push_back(s);
      }
      Candidate* c = NewVolunteer(tokens);
      if (coin(0.3)) {
        c->is_unit = true;
        c->unit_kind = static_cast<UnitKind>(1 + pick(3));
      }
      if (coin(0.1)) c->duty = DutyStatus::kBusy;
      if (coin(0.1)) c->location_time_ms = NowMs() - 20 * 60000;
      c->capacity = 1 + pick(2);
      c->active_assignments = pick(2);
      const VolunteerStats* st = nullptr;
      if (coin(0.8)) {
        VolunteerStats s;
        s.offers_answered = pick(20);
        s.offers_accepted = pick(s.offers_answered + 1);
        s.assignments_ended = pick(s.offers_accepted + 1);
        s.completed = pick(s.assignments_ended + 1);
        s.recent_load = pick(8);
        if (coin(0.7)) s.last_offer_time_ms = NowMs() - pick(300) * 60000;
        st = Stats(s);
      }
      // Few distinct distances, so that equal costs and distances occur.
      const double distance = 100.0 * (1 + pick(40));
      std::string id = absl::StrCat("v", pick(1000));
      if (coin(0.1)) r.paired.insert(id);
      if (coin(0.1)) r.served_before.insert(id);
      if (coin(0.05)) r.declined.insert(id);
      if (coin(0.05)) r.offered.insert(id);
      facts.push_back(Facts(id, c, distance, st));
    }
    const bool with_details = coin(0.5);
    Ranking got = scorer_.Rank(r, facts, with_details);

    std::vector<std::tuple<double, std::string, double>> want_ranked;  // cost, id, distance
    std::vector<std::tuple<double, std::string, Exclusion>> want_excluded;
    for (const CandidateFacts& f : facts) {
      Verdict v = scorer_.Check(r, f);
      if (v.exclusion == Exclusion::kNone) {
        ScoredCandidate s = scorer_.Score(r, f);
        want_ranked.emplace_back(s.total_cost, s.id, s.distance_m);
      } else {
        want_excluded.emplace_back(f.distance_m, f.id, v.exclusion);
      }
    }
    std::sort(want_ranked.begin(), want_ranked.end());
    std::sort(want_excluded.begin(), want_excluded.end());
    ASSERT_EQ(got.ranked.size(), want_ranked.size());
    for (size_t i = 0; i < want_ranked.size(); ++i) {
      EXPECT_EQ(got.ranked[i].total_cost, std::get<0>(want_ranked[i])) << i;
      EXPECT_EQ(got.ranked[i].id, std::get<1>(want_ranked[i])) << i;
    }
    ASSERT_EQ(got.excluded.size(), want_excluded.size());
    for (size_t i = 0; i < want_excluded.size(); ++i) {
      EXPECT_EQ(got.excluded[i].distance_m, std::get<0>(want_excluded[i])) << i;
      EXPECT_EQ(got.excluded[i].id, std::get<1>(want_excluded[i])) << i;
    }
  }
}

TEST(ParseScoreWeightsTest, Overrides) {
  absl::StatusOr<ScoreWeights> w = ParseScoreWeights("travel_time=2, fairness = 2.5,,");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->travel_time, 2);
  EXPECT_EQ(w->fairness, 2.5);
  EXPECT_EQ(w->continuity, ScoreWeights().continuity);

  ScoreWeights base;
  base.urgency = 7;
  w = ParseScoreWeights("", base);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->urgency, 7);
  w = ParseScoreWeights("reliability=0,preferred_skill_fit=1e1,continuity=12,urgency=3", base);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->reliability, 0);
  EXPECT_EQ(w->preferred_skill_fit, 10);
  EXPECT_EQ(w->continuity, 12);
  EXPECT_EQ(w->urgency, 3);
}

TEST(ParseScoreWeightsTest, Errors) {
  struct Case {
    const char* spec;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"speed=1", "unknown name \"speed\""},
           {"fairness", "\"fairness\": expected name=value"},
           {"fairness=abc", "fairness: \"abc\" is not a finite number >= 0"},
           {"fairness=-1", "fairness: \"-1\" is not"},
           {"fairness=inf", "fairness: \"inf\" is not"},
           {"fairness=nan", "fairness: \"nan\" is not"},
           {"fairness=", "fairness: \"\" is not"},
           {"fairness=1,fairness=2", "fairness: given twice"},
       }) {
    absl::StatusOr<ScoreWeights> w = ParseScoreWeights(c.spec);
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << c.spec;
    EXPECT_THAT(w.status().message(), HasSubstr(c.message)) << c.spec;
  }
}

TEST(ValidateScorerOptionsTest, NamesTheField) {
  EXPECT_TRUE(ValidateScorerOptions(ScorerOptions()).ok());
  ScorerOptions o;
  o.weights.reliability = -1;
  EXPECT_EQ(ValidateScorerOptions(o).message(),
            "weights.reliability: must be a finite number >= 0");
  o = ScorerOptions();
  o.van_speed_mps = 0;
  EXPECT_EQ(ValidateScorerOptions(o).message(), "van_speed_mps: must be a finite number > 0");
  o = ScorerOptions();
  o.detour_factor = 0.9;
  EXPECT_THAT(ValidateScorerOptions(o).message(), HasSubstr("detour_factor"));
  o = ScorerOptions();
  o.stale_location = absl::ZeroDuration();
  EXPECT_EQ(ValidateScorerOptions(o).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ValidateScorerOptions(o).message(), HasSubstr("stale_location"));
}

}  // namespace
}  // namespace yiyuan
