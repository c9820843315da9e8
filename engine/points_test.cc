#include "engine/points.h"

#include "absl/status/status.h"
#include "engine/field_violations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::HasSubstr;

std::string FirstField(const absl::Status& s) {
  std::vector<FieldViolation> v = ViolationsFromStatus(s);
  return v.empty() ? "" : v[0].field;
}

TEST(PointsRuleTest, DefaultRuleAddsBaseMinutesAndUrgencyBonus) {
  PointsRule rule;
  EXPECT_EQ(rule.Amount(45, Urgency::kRoutine), 10 + 9);
  EXPECT_EQ(rule.Amount(45, Urgency::kUrgent), 10 + 9 + 5);
  EXPECT_EQ(rule.Amount(45, Urgency::kCrisis), 10 + 9 + 10);
  EXPECT_EQ(rule.Explain(45, Urgency::kUrgent), "base 10 + 45 min × 0.2 + urgent 5");
  EXPECT_EQ(rule.Explain(45, Urgency::kRoutine), "base 10 + 45 min × 0.2");
}

TEST(PointsRuleTest, FractionsRoundDownOnlyOnceOverTheWholeSum) {
  PointsRule rule;
  rule.per_minute_milli = 333;
  // 7 × 0.333 = 2.331: one point from the minutes, rounded down once at the end.
  EXPECT_EQ(rule.Amount(7, Urgency::kRoutine), 12);
  EXPECT_EQ(rule.Amount(3, Urgency::kRoutine), 10);  // 0.999 is not a point
}

TEST(PointsRuleTest, MinutesAreCappedAndNeverNegative) {
  PointsRule rule;
  EXPECT_EQ(rule.Amount(6000, Urgency::kRoutine), rule.Amount(480, Urgency::kRoutine));
  EXPECT_THAT(rule.Explain(6000, Urgency::kRoutine), HasSubstr("480 min × 0.2 (of 6000, capped)"));
  EXPECT_EQ(rule.Amount(-5, Urgency::kRoutine), 10);
}

TEST(PointsRuleTest, ParsesOverridesOverTheDefaults) {
  absl::StatusOr<PointsRule> rule = ParsePointsRule("base=5, per_minute=1.25,crisis=20");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->base, 5);
  EXPECT_EQ(rule->per_minute_milli, 1250);
  EXPECT_EQ(rule->crisis_bonus, 20);
  EXPECT_EQ(rule->urgent_bonus, 5);  // untouched default
  EXPECT_EQ(rule->Amount(10, Urgency::kCrisis), 5 + 12 + 20);
  EXPECT_EQ(rule->Explain(10, Urgency::kCrisis), "base 5 + 10 min × 1.25 + crisis 20");
}

TEST(PointsRuleTest, RefusesMalformedRules) {
  for (const char* bad : {"base", "base=-1", "per_minute=0.0001", "per_minute=.5", "per_minute=1.",
                          "bonus=3", "urgent=x", "max_minutes=99999999"}) {
    absl::StatusOr<PointsRule> rule = ParsePointsRule(bad);
    EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PointsAccountTest, ParsesTheThreeKindsOfAccount) {
  absl::StatusOr<PointsAccount> fund = ParsePointsAccount("account", "fund", "wuxing");
  ASSERT_TRUE(fund.ok());
  EXPECT_EQ(fund->kind, PointsAccount::Kind::kFund);
  absl::StatusOr<PointsAccount> v = ParsePointsAccount("account", "volunteer:wuxing-v12", "wuxing");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->id, "wuxing-v12");
  EXPECT_EQ(v->Name(), "volunteer:wuxing-v12");
  absl::StatusOr<PointsAccount> k = ParsePointsAccount("account", "kiosk:aiguo-1", "wuxing");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->Name(), "kiosk:aiguo-1");
}

TEST(PointsAccountTest, RefusesOtherNamesAndOtherDistrictsNamingTheField) {
  for (const char* bad : {"", "external", "volunteer:", "volunteer:nanxun-v1", "kiosk:a b",
                          "shop:aiguo", "fund2"}) {
    absl::StatusOr<PointsAccount> a = ParsePointsAccount("account", bad, "wuxing");
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(FirstField(a.status()), "account") << bad;
  }
}

TEST(PointsValidationTest, IdempotencyKeysAreEightToSixtyFourIdCharacters) {
  EXPECT_TRUE(ValidateIdempotencyKey("request_id", "kiosk-20261123-0001").ok());
  EXPECT_TRUE(ValidateIdempotencyKey("request_id", std::string(64, 'a')).ok());
  for (const std::string& bad : {std::string(), std::string("short"), std::string(65, 'a'),
                                 std::string("has space1"), std::string("semi;colon")}) {
    absl::Status s = ValidateIdempotencyKey("request_id", bad);
    EXPECT_EQ(FirstField(s), "request_id") << bad;
  }
}

TEST(PointsValidationTest, CatalogFieldsNameEachBadField) {
  CatalogItem ok;
  ok.name = "大米 5 kg";
  ok.price_points = 30;
  ok.stock = 4;
  EXPECT_TRUE(ValidateCatalogFields("item", ok).ok());
  CatalogItem no_price = ok;
  no_price.price_points = 0;
  EXPECT_EQ(FirstField(ValidateCatalogFields("item", no_price)), "item.price_points");
  CatalogItem negative = ok;
  negative.stock = -1;
  EXPECT_EQ(FirstField(ValidateCatalogFields("item", negative)), "item.stock");
  CatalogItem blank = ok;
  blank.name = "  ";
  EXPECT_EQ(FirstField(ValidateCatalogFields("item", blank)), "item.name");
  EXPECT_EQ(FirstField(ValidateReason("reason", "")), "reason");
  EXPECT_EQ(FirstField(ValidateReason("reason", std::string(501, 'x'))), "reason");
}

TEST(LedgerKindTest, NamesRoundTrip) {
  for (LedgerKind k : {LedgerKind::kEarn, LedgerKind::kRedeem, LedgerKind::kAdjust,
                       LedgerKind::kReversal, LedgerKind::kFund}) {
    EXPECT_EQ(ParseLedgerKind(Name(k)), k);
  }
  EXPECT_EQ(ParseLedgerKind("SPEND"), LedgerKind::kUnspecified);
}

}  // namespace
}  // namespace yiyuan
