#include "engine/request_validator.h"

#include "engine/field_violations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::Contains;
using ::testing::Field;

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

RequestContent Valid() {
  RequestContent c;
  c.channel = Channel::kHotline;
  c.category = Category::kElderVisit;
  c.urgency = Urgency::kRoutine;
  c.resident.name = "王阿姨";
  c.resident.phone = "138 1234 1234";
  c.resident.location = LatLng{30.87, 120.09};
  c.resident.community_id = "wx-aiguo";
  c.description = "每月探访";
  return c;
}

std::vector<std::string> BadFields(const absl::Status& s) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : ViolationsFromStatus(s)) fields.push_back(v.field);
  return fields;
}

TEST(ValidateNewRequest, AcceptsAndNormalisesAValidRequest) {
  RequestContent c = Valid();
  c.required_skills = {" Medical "};
  ASSERT_TRUE(ValidateNewRequest("req-000001", "wuxing", c, kNow).ok());
  EXPECT_EQ(c.resident.phone, "13812341234");
  EXPECT_EQ(c.required_skills[0], "medical");
  EXPECT_EQ(c.headcount, 1);
  EXPECT_EQ(c.recurrence, Recurrence::kOnce);
}

TEST(ValidateNewRequest, NamesEveryBadField) {
  RequestContent c = Valid();
  c.resident.phone = "12345";
  c.resident.location = LatLng{91, 200};
  c.urgency = Urgency::kUnknown;
  c.headcount = 99;
  absl::Status s = ValidateNewRequest("short", "Wu-Xing", c, kNow);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(BadFields(s),
              ::testing::UnorderedElementsAre(
                  "request_id", "district", "request.resident.phone",
                  "request.resident.location.lat", "request.resident.location.lng",
                  "request.urgency", "request.headcount"));
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("request_id: "));
}

TEST(ValidateNewRequest, ChecksTheTimeWindowAgainstNow) {
  const int64_t now = absl::ToUnixMillis(kNow);
  RequestContent past = Valid();
  past.window_end_ms = now - 1;
  EXPECT_THAT(BadFields(ValidateNewRequest("req-000001", "wuxing", past, kNow)),
              Contains("request.window.end_ms"));
  RequestContent reversed = Valid();
  reversed.window_start_ms = now + 7200000;
  reversed.window_end_ms = now + 3600000;
  EXPECT_THAT(BadFields(ValidateNewRequest("req-000001", "wuxing", reversed, kNow)),
              Contains("request.window.end_ms"));
  RequestContent ok = Valid();
  ok.window_start_ms = now + 3600000;
  ok.window_end_ms = now + 7200000;
  EXPECT_TRUE(ValidateNewRequest("req-000001", "wuxing", ok, kNow).ok());
}

TEST(ValidateNewRequest, StationChannelNeedsAStation) {
  RequestContent c = Valid();
  c.channel = Channel::kStation;
  EXPECT_THAT(BadFields(ValidateNewRequest("req-000001", "wuxing", c, kNow)),
              Contains("request.intake.station_id"));
  c.station_id = "st-07";
  EXPECT_TRUE(ValidateNewRequest("req-000001", "wuxing", c, kNow).ok());
}

TEST(ValidateText, CountsCharactersNotBytesAndRejectsBadUtf8) {
  EXPECT_TRUE(ValidateText("f", std::string(10, 'a'), 10, true).ok());
  EXPECT_TRUE(ValidateText("f", "一二三四五六七八九十", 10, true).ok());
  EXPECT_FALSE(ValidateText("f", "一二三四五六七八九十一", 10, true).ok());
  EXPECT_FALSE(ValidateText("f", "\xff\xfe", 10, false).ok());
  EXPECT_FALSE(ValidateText("f", "a\x01", 10, false).ok());
  EXPECT_FALSE(ValidateText("f", "   ", 10, true).ok());
}

}  // namespace
}  // namespace yiyuan
