#include "engine/candidate.h"

#include "gtest/gtest.h"

namespace yiyuan {
namespace {

// 2026-11-23 is a Monday; 10:00 in Shanghai is 02:00 UTC.
absl::Time MondayTenShanghai() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 2, 0, 0), absl::UTCTimeZone());
}

Volunteer OnDuty() {
  Volunteer v;
  v.id = "wuxing-v1";
  v.duty = DutyStatus::kOn;
  v.location = LatLng{30.87, 120.09};
  v.profile.skills = {"cooking"};
  v.profile.certificates = {Certificate::kMedical};
  v.profile.capacity = 2;
  return v;
}

TEST(AvailableAtTest, UsesShanghaiTimeAndIsoDays) {
  absl::Time t = MondayTenShanghai();
  EXPECT_TRUE(AvailableAt({}, t));
  EXPECT_TRUE(AvailableAt({{1, 600, 601}}, t));
  EXPECT_FALSE(AvailableAt({{1, 601, 700}}, t));
  EXPECT_FALSE(AvailableAt({{1, 540, 600}}, t));  // End is exclusive.
  EXPECT_FALSE(AvailableAt({{2, 600, 700}}, t));
  // Sunday 23:59 local is Sunday 15:59 UTC.
  absl::Time sunday =
      absl::FromCivil(absl::CivilSecond(2026, 11, 29, 15, 59, 0), absl::UTCTimeZone());
  EXPECT_TRUE(AvailableAt({{7, 1439, 1440}}, sunday));
  EXPECT_FALSE(AvailableAt({{1, 1439, 1440}}, sunday));
}

TEST(CandidateTest, TokensIncludeCertificates) {
  Candidate c = CandidateOf(OnDuty());
  EXPECT_EQ(c.tokens, (std::vector<std::string>{"cooking", "medical"}));
  EXPECT_EQ(c.capacity_left(), 2);
}

TEST(CandidateTest, IndexableOnlyOnDutyWithLocation) {
  Volunteer v = OnDuty();
  EXPECT_TRUE(Indexable(v));
  v.duty = DutyStatus::kBusy;
  EXPECT_TRUE(Indexable(v));
  v.duty = DutyStatus::kOff;
  EXPECT_FALSE(Indexable(v));
  v.duty = DutyStatus::kOn;
  v.location.reset();
  EXPECT_FALSE(Indexable(v));
  Unit u;
  u.spec.location = LatLng{30.8, 120.1};
  EXPECT_FALSE(Indexable(u));
  u.spec.active = true;
  EXPECT_TRUE(Indexable(u));
}

TEST(EligibleTest, HardConstraints) {
  absl::Time now = MondayTenShanghai();
  Volunteer v = OnDuty();
  Candidate c = CandidateOf(v);
  CandidateQuery q;
  EXPECT_TRUE(Eligible(v.id, c, q, now));

  q.required_tokens = {"medical"};
  EXPECT_TRUE(Eligible(v.id, c, q, now));
  q.required_tokens = {"medical", "driver"};
  EXPECT_FALSE(Eligible(v.id, c, q, now));
  q.required_tokens.clear();

  q.required_certificates = {Certificate::kMedical};
  EXPECT_TRUE(Eligible(v.id, c, q, now));
  q.required_certificates = {Certificate::kDriver};
  EXPECT_FALSE(Eligible(v.id, c, q, now));
  q.required_certificates.clear();

  q.exclude_ids = {"wuxing-v1"};
  EXPECT_FALSE(Eligible(v.id, c, q, now));
  q.exclude_ids.clear();

  c.duty = DutyStatus::kBusy;
  EXPECT_FALSE(Eligible(v.id, c, q, now)) << "busy is not found by default";
  q.duty_statuses = {DutyStatus::kBusy};
  EXPECT_TRUE(Eligible(v.id, c, q, now));
  q.duty_statuses.clear();
  c.duty = DutyStatus::kOn;

  q.available_now = true;
  EXPECT_TRUE(Eligible(v.id, c, q, now));
  c.active_assignments = 2;
  EXPECT_FALSE(Eligible(v.id, c, q, now)) << "no capacity left";
  c.active_assignments = 0;
  c.availability = {{2, 0, 1440}};
  EXPECT_FALSE(Eligible(v.id, c, q, now)) << "not available on Mondays";

  q.include_volunteers = false;
  c.availability.clear();
  EXPECT_FALSE(Eligible(v.id, c, q, now));
}

TEST(EligibleTest, Units) {
  absl::Time now = MondayTenShanghai();
  Unit u;
  u.id = "wuxing-u1";
  u.spec.kind = UnitKind::kVan;
  u.spec.active = true;
  u.spec.skills = {"medical"};
  u.spec.equipment = {"wheelchair"};
  Candidate c = CandidateOf(u);
  CandidateQuery q;
  EXPECT_FALSE(Eligible(u.id, c, q, now)) << "units only when asked for";
  q.include_units = true;
  EXPECT_TRUE(Eligible(u.id, c, q, now));
  q.unit_kinds = {UnitKind::kStation};
  EXPECT_FALSE(Eligible(u.id, c, q, now));
  q.unit_kinds = {UnitKind::kStation, UnitKind::kVan};
  EXPECT_TRUE(Eligible(u.id, c, q, now));
  q.required_tokens = {"wheelchair"};
  q.required_certificates = {Certificate::kMedical};
  EXPECT_TRUE(Eligible(u.id, c, q, now)) << "a unit meets a certificate by its token";
  q.required_certificates = {Certificate::kNurse};
  EXPECT_FALSE(Eligible(u.id, c, q, now));
}

TEST(ExclusionTest, NamesMatchTheApi) {
  EXPECT_EQ(Name(Exclusion::kNone), "NONE");
  EXPECT_EQ(Name(Exclusion::kNotOnDuty), "NOT_ON_DUTY");
  EXPECT_EQ(Name(Exclusion::kOutsideAvailability), "OUTSIDE_AVAILABILITY");
  EXPECT_EQ(Name(Exclusion::kStaleLocation), "STALE_LOCATION");
  EXPECT_EQ(Name(static_cast<Exclusion>(12)), "UNKNOWN");
  EXPECT_EQ(Name(static_cast<Exclusion>(-1)), "UNKNOWN");
  // The server converts by number to yiyuan.v1.ExclusionReason.
  EXPECT_EQ(static_cast<int>(Exclusion::kMissingSkill), 3);
  EXPECT_EQ(static_cast<int>(Exclusion::kConflict), 7);
  EXPECT_EQ(static_cast<int>(Exclusion::kNoShow), 10);
}

TEST(FirstUnmetTest, EachReasonWithDetail) {
  absl::Time now = MondayTenShanghai();
  Volunteer v = OnDuty();
  Candidate c = CandidateOf(v);
  CandidateQuery q;
  q.available_now = true;
  Verdict ok = FirstUnmet(v.id, c, q, now);
  EXPECT_EQ(ok.exclusion, Exclusion::kNone);
  EXPECT_EQ(ok.detail, "");

  c.duty = DutyStatus::kBusy;
  Verdict busy = FirstUnmet(v.id, c, q, now);
  EXPECT_EQ(busy.exclusion, Exclusion::kNotOnDuty);
  EXPECT_EQ(busy.detail, "duty status BUSY");
  c.duty = DutyStatus::kOn;

  c.active_assignments = 2;
  Verdict full = FirstUnmet(v.id, c, q, now);
  EXPECT_EQ(full.exclusion, Exclusion::kNoCapacity);
  EXPECT_EQ(full.detail, "2 of 2 assignments active");
  c.active_assignments = 0;

  q.required_tokens = {"wheelchair", "driver", "cooking"};
  q.required_certificates = {Certificate::kNurse};
  Verdict skill = FirstUnmet(v.id, c, q, now);
  EXPECT_EQ(skill.exclusion, Exclusion::kMissingSkill);
  EXPECT_EQ(skill.detail, "missing skill: driver") << "alphabetically first missing";
  q.required_tokens = {"cooking"};
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).detail, "missing skill: nurse");
  q.required_certificates = {Certificate::kMedical};
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).exclusion, Exclusion::kNone);

  c.availability = {{2, 0, 1440}};
  Verdict away = FirstUnmet(v.id, c, q, now);
  EXPECT_EQ(away.exclusion, Exclusion::kOutsideAvailability);
  EXPECT_EQ(away.detail, "outside weekly availability");
  c.availability.clear();

  q.exclude_ids = {"wuxing-v1"};
  Verdict excluded = FirstUnmet(v.id, c, q, now);
  EXPECT_EQ(excluded.exclusion, Exclusion::kConflict);
  EXPECT_FALSE(excluded.detail.empty());
  q.exclude_ids.clear();

  q.include_volunteers = false;
  Verdict kind = FirstUnmet(v.id, c, q, now);
  EXPECT_EQ(kind.exclusion, Exclusion::kConflict);
  EXPECT_EQ(kind.detail, "volunteers not requested");
}

TEST(FirstUnmetTest, OrderOfChecks) {
  absl::Time now = MondayTenShanghai();
  Volunteer v = OnDuty();
  Candidate c = CandidateOf(v);
  CandidateQuery q;
  q.available_now = true;
  q.required_tokens = {"driver"};
  q.exclude_ids = {"wuxing-v1"};
  c.availability = {{2, 0, 1440}};
  c.active_assignments = 2;
  c.duty = DutyStatus::kOff;
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).exclusion, Exclusion::kNotOnDuty);
  c.duty = DutyStatus::kOn;
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).exclusion, Exclusion::kNoCapacity);
  c.active_assignments = 0;
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).exclusion, Exclusion::kMissingSkill);
  q.required_tokens.clear();
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).exclusion, Exclusion::kOutsideAvailability);
  c.availability.clear();
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).exclusion, Exclusion::kConflict);
  q.available_now = false;
  c.active_assignments = 2;
  c.availability = {{2, 0, 1440}};
  EXPECT_EQ(FirstUnmet(v.id, c, q, now).exclusion, Exclusion::kConflict)
      << "capacity and availability count only with available_now";
}

TEST(FirstUnmetTest, Units) {
  absl::Time now = MondayTenShanghai();
  Unit u;
  u.id = "wuxing-u1";
  u.spec.kind = UnitKind::kStation;
  u.spec.active = true;
  u.spec.skills = {"medical"};
  Candidate c = CandidateOf(u);
  CandidateQuery q;
  Verdict no_units = FirstUnmet(u.id, c, q, now);
  EXPECT_EQ(no_units.exclusion, Exclusion::kConflict);
  EXPECT_EQ(no_units.detail, "units not requested");
  q.include_units = true;
  q.unit_kinds = {UnitKind::kVan};
  Verdict kind = FirstUnmet(u.id, c, q, now);
  EXPECT_EQ(kind.exclusion, Exclusion::kConflict);
  EXPECT_EQ(kind.detail, "unit kind STATION not requested");
  q.unit_kinds.clear();
  q.required_certificates = {Certificate::kLicensedSocialWorker, Certificate::kMedical};
  Verdict cert = FirstUnmet(u.id, c, q, now);
  EXPECT_EQ(cert.exclusion, Exclusion::kMissingSkill);
  EXPECT_EQ(cert.detail, "missing skill: licensed_social_worker");
  q.required_certificates = {Certificate::kMedical};
  q.available_now = true;
  c.availability = {{2, 0, 1440}};
  EXPECT_EQ(FirstUnmet(u.id, c, q, now).exclusion, Exclusion::kNone)
      << "units have no weekly availability";
  c.active_assignments = 1;
  EXPECT_EQ(FirstUnmet(u.id, c, q, now).exclusion, Exclusion::kNoCapacity);
}

TEST(FirstUnmetTest, AgreesWithEligible) {
  absl::Time now = MondayTenShanghai();
  Volunteer v = OnDuty();
  for (int mask = 0; mask < 64; ++mask) {
    Candidate c = CandidateOf(v);
    CandidateQuery q;
    q.available_now = (mask & 1) != 0;
    if (mask & 2) c.duty = DutyStatus::kBusy;
    if (mask & 4) c.active_assignments = 2;
    if (mask & 8) q.required_tokens = {"driver"};
    if (mask & 16) c.availability = {{2, 0, 1440}};
    if (mask & 32) q.exclude_ids = {v.id};
    Verdict verdict = FirstUnmet(v.id, c, q, now);
    EXPECT_EQ(verdict.exclusion == Exclusion::kNone, Eligible(v.id, c, q, now)) << mask;
    EXPECT_EQ(verdict.exclusion == Exclusion::kNone, verdict.detail.empty()) << mask;
  }
}

}  // namespace
}  // namespace yiyuan
