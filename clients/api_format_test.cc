#include "clients/api_format.h"

#include "gtest/gtest.h"

namespace yiyuan {
namespace {

TEST(EnumNameTest, DropsTheEnumsOwnPrefix) {
  EXPECT_EQ(EnumName(*v1::Role_descriptor(), v1::ROLE_INTAKE), "INTAKE");
  EXPECT_EQ(EnumName(*v1::Channel_descriptor(), v1::WALK_IN), "WALK_IN");
  EXPECT_EQ(EnumName(*v1::RequestState_descriptor(), v1::EN_ROUTE), "EN_ROUTE");
}

TEST(EnumNameTest, ZeroIsEmptyAndUnknownNumbersShowThemselves) {
  EXPECT_EQ(EnumName(*v1::Urgency_descriptor(), 0), "");
  EXPECT_EQ(EnumName(*v1::Urgency_descriptor(), 42), "42");
}

TEST(EnumChoicesTest, ListsLowerCaseShortNamesWithoutZero) {
  EXPECT_EQ(EnumChoices(*v1::Urgency_descriptor()), "routine, urgent, crisis");
  EXPECT_EQ(EnumChoices(*v1::Role_descriptor()),
            "operator, intake, volunteer_app, resident_app, kiosk, admin");
}

TEST(ParseEnumTest, AcceptsAnyCaseDashesAndThePrefix) {
  EXPECT_EQ(*ParseEnum("channel", "WeChat", *v1::Channel_descriptor()), v1::WECHAT);
  EXPECT_EQ(*ParseEnum("channel", "walk-in", *v1::Channel_descriptor()), v1::WALK_IN);
  EXPECT_EQ(*ParseEnum("role", "intake", *v1::Role_descriptor()), v1::ROLE_INTAKE);
  EXPECT_EQ(*ParseEnum("role", "ROLE_ADMIN", *v1::Role_descriptor()), v1::ROLE_ADMIN);
  EXPECT_EQ(*ParseEnum("urgency", "", *v1::Urgency_descriptor()), 0);
}

TEST(ParseEnumTest, RejectsUnknownNamesAndZeroListingTheChoices) {
  absl::StatusOr<int> fax = ParseEnum("channel", "fax", *v1::Channel_descriptor());
  ASSERT_FALSE(fax.ok());
  EXPECT_EQ(fax.status().message(),
            "--channel: unknown value \"fax\"; valid: hotline, app, wechat, station, sweep, "
            "walk_in, operator");
  EXPECT_FALSE(ParseEnum("urgency", "urgency_unspecified", *v1::Urgency_descriptor()).ok());
}

TEST(RequestTableTest, ShowsResidentAsReturnedAndSkipsUnsetTimes) {
  google::protobuf::RepeatedPtrField<v1::HelpRequest> requests;
  v1::HelpRequest* r = requests.Add();
  r->set_id("wuxing-7");
  r->set_state(v1::SUBMITTED);
  r->set_urgency(v1::URGENT);
  r->set_category(v1::ELDER_VISIT);
  r->set_channel(v1::HOTLINE);
  r->mutable_resident()->set_community_id("wx-aiguo");
  r->mutable_resident()->set_name("张三");
  r->mutable_resident()->set_phone("138****5678");
  EXPECT_EQ(
      RequestTable(requests),
      "ID        STATE      URGENCY  CATEGORY     CHANNEL  COMMUNITY  RESIDENT          CREATED\n"
      "wuxing-7  SUBMITTED  URGENT   ELDER_VISIT  HOTLINE  wx-aiguo   张三 138****5678\n");
}

TEST(TokenFieldsTest, ShowsStatusAndLeavesOutEmptyScope) {
  v1::TokenInfo token;
  token.set_token_id("f8ff2d8082ef");
  token.set_role(v1::ROLE_KIOSK);
  token.set_kiosk_id("k-01");
  token.set_revoked(true);
  std::vector<Field> fields = TokenFields(token);
  EXPECT_EQ(FormatFields(fields),
            "token id: f8ff2d8082ef\n"
            "role:     KIOSK\n"
            "kiosk:    k-01\n"
            "status:   revoked\n");
}

}  // namespace
}  // namespace yiyuan
