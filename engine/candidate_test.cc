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

}  // namespace
}  // namespace yiyuan
