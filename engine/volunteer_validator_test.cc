#include "engine/volunteer_validator.h"

#include "engine/field_violations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::Contains;
using ::testing::Field;

VolunteerProfile Good() {
  VolunteerProfile p;
  p.external_id = "zj-000123";
  p.name = " 王阿姨 ";
  p.phone = "+86 138-1234-5678";
  p.home_community_id = "wx-aiguo";
  p.skills = {"Haircut", "cooking"};
  p.certificates = {Certificate::kMedical, Certificate::kDriver};
  p.languages = {"zh", "wuu-huzhou"};
  p.availability = {{6, 540, 1020}, {1, 480, 720}};
  return p;
}

std::vector<std::string> BadFields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : ViolationsFromStatus(s)) out.push_back(v.field);
  return out;
}

TEST(ValidateVolunteerProfileTest, NormalisesAGoodProfile) {
  VolunteerProfile p = Good();
  ASSERT_TRUE(ValidateVolunteerProfile("volunteer", p).ok());
  EXPECT_EQ(p.name, "王阿姨");
  EXPECT_EQ(p.phone, "13812345678");
  EXPECT_EQ(p.skills, (std::vector<std::string>{"cooking", "haircut"}));
  EXPECT_EQ(p.certificates,
            (std::vector<Certificate>{Certificate::kMedical, Certificate::kDriver}));
  EXPECT_EQ(p.availability[0].day_of_week, 1);
  EXPECT_EQ(p.capacity, 1);
}

TEST(ValidateVolunteerProfileTest, NamesEveryBadField) {
  VolunteerProfile p = Good();
  p.external_id = "has space";
  p.name = "";
  p.phone = "057212345678";  // A landline: volunteers need a mobile.
  p.home_community_id = "";
  p.skills = {"ok", "OK"};
  p.certificates = {Certificate::kUnknown};
  p.availability = {{8, 0, 10}, {1, 100, 100}};
  p.capacity = 11;
  absl::Status s = ValidateVolunteerProfile("volunteer", p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(BadFields(s),
              ::testing::UnorderedElementsAre(
                  "volunteer.external_id", "volunteer.name", "volunteer.phone",
                  "volunteer.home_community_id", "volunteer.skills[1]", "volunteer.certificates[0]",
                  "volunteer.availability[0].day_of_week", "volunteer.availability[1].end_minute",
                  "volunteer.capacity"));
}

TEST(ValidateVolunteerProfileTest, OverlappingSlots) {
  VolunteerProfile p = Good();
  p.availability = {{3, 600, 700}, {3, 650, 800}};
  EXPECT_THAT(BadFields(ValidateVolunteerProfile("volunteer", p)),
              Contains("volunteer.availability"));
  p.availability = {{3, 600, 700}, {3, 700, 800}, {4, 0, 1440}};
  EXPECT_TRUE(ValidateVolunteerProfile("volunteer", p).ok());
}

TEST(ValidateUnitSpecTest, StationNeedsALocationAndLeaderMustBeAMember) {
  UnitSpec u;
  u.kind = UnitKind::kStation;
  u.name = "爱国社区服务站";
  u.community_id = "wx-aiguo";
  u.member_volunteer_ids = {"wuxing-v1", "wuxing-v2", "anji-v3", "wuxing-v1", "x"};
  u.leader_volunteer_id = "wuxing-v9";
  u.capacity = 101;
  absl::Status s = ValidateUnitSpec("unit", "wuxing", u);
  EXPECT_THAT(BadFields(s),
              ::testing::UnorderedElementsAre(
                  "unit.location", "unit.member_volunteer_ids[2]", "unit.member_volunteer_ids[3]",
                  "unit.member_volunteer_ids[4]", "unit.leader_volunteer_id", "unit.capacity"));
}

TEST(ValidateUnitSpecTest, VanMayHaveNoLocation) {
  UnitSpec u;
  u.kind = UnitKind::kVan;
  u.name = "Van 3";
  u.community_id = "wx-aiguo";
  u.equipment = {"Wheelchair"};
  ASSERT_TRUE(ValidateUnitSpec("unit", "wuxing", u).ok());
  EXPECT_EQ(u.equipment[0], "wheelchair");
  EXPECT_EQ(u.capacity, 1);
}

TEST(ValidatePairingTest, ChecksVolunteerAndResident) {
  Pairing p;
  p.volunteer_id = "anji-v1";
  p.resident.name = "李奶奶";
  p.resident.phone = "bad";
  absl::Status s = ValidatePairing("wuxing", p);
  EXPECT_THAT(BadFields(s), ::testing::UnorderedElementsAre("volunteer_id", "resident.phone",
                                                            "resident.community_id"));
}

TEST(IdsTest, DistrictsOfIds) {
  EXPECT_EQ(*DistrictOfVolunteerId("id", "wuxing-v311"), "wuxing");
  EXPECT_FALSE(DistrictOfVolunteerId("id", "wuxing-311").ok());
  EXPECT_FALSE(DistrictOfVolunteerId("id", "wuxing-v0").ok());
  EXPECT_FALSE(DistrictOfVolunteerId("id", "Wuxing-v1").ok());
  EXPECT_EQ(*DistrictOfUnitId("id", "wuxing-station-07"), "wuxing");
  EXPECT_FALSE(DistrictOfUnitId("id", "wuxing-").ok());
  EXPECT_FALSE(DistrictOfUnitId("id", "station").ok());
  EXPECT_TRUE(ValidateClientUnitId("unit_id", "station-07").ok());
  EXPECT_FALSE(ValidateClientUnitId("unit_id", "ab").ok());
  EXPECT_FALSE(ValidateClientUnitId("unit_id", "u17").ok());
  EXPECT_FALSE(ValidateClientUnitId("unit_id", "a b c").ok());
}

}  // namespace
}  // namespace yiyuan
