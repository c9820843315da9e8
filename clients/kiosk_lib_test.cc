#include "clients/kiosk_lib.h"

#include <random>
#include <set>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

using Kind = VolunteerQuery::Kind;

VolunteerQuery Parsed(absl::string_view text) {
  absl::StatusOr<VolunteerQuery> q = ParseVolunteerQuery(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status();
  return q.ok() ? *q : VolunteerQuery();
}

TEST(ParseVolunteerQueryTest, ReadsTheQrCodeOfAVolunteerCard) {
  VolunteerQuery q = Parsed("yiyuan:volunteer:wuxing:wuxing-v12");
  EXPECT_EQ(q.kind, Kind::kId);
  EXPECT_EQ(q.value, "wuxing-v12");
  EXPECT_EQ(q.district, "wuxing");
  // Scanners add line ends and may change the case of the prefix; ids keep theirs.
  q = Parsed("  YIYUAN:Volunteer:wuxing:wuxing-V12\r\n");
  EXPECT_EQ(q.value, "wuxing-V12");
  EXPECT_EQ(q.district, "wuxing");
}

TEST(ParseVolunteerQueryTest, RoundTripsTheQrTextItPrints) {
  VolunteerQuery q = Parsed(VolunteerQrText("nanxun", "nanxun-v3"));
  EXPECT_EQ(q.kind, Kind::kId);
  EXPECT_EQ(q.value, "nanxun-v3");
  EXPECT_EQ(q.district, "nanxun");
  EXPECT_EQ(VolunteerQrText("nanxun", "nanxun-v3"), "yiyuan:volunteer:nanxun:nanxun-v3");
}

TEST(ParseVolunteerQueryTest, RefusesOtherAndBrokenQrCodes) {
  for (const char* text :
       {"yiyuan:kiosk:wuxing:aiguo-1", "yiyuan:volunteer:wuxing",
        "yiyuan:volunteer:wuxing:", "yiyuan:volunteer::wuxing-v1",
        "yiyuan:volunteer:wuxing:wuxing-v1:extra", "yiyuan:volunteer:wu xing:wuxing-v1"}) {
    absl::StatusOr<VolunteerQuery> q = ParseVolunteerQuery(text);
    EXPECT_TRUE(absl::IsInvalidArgument(q.status())) << text;
    EXPECT_THAT(q.status().message(), HasSubstr("QR code")) << text;
  }
}

TEST(ParseVolunteerQueryTest, ReadsTheLinkFormOfACard) {
  VolunteerQuery q = Parsed("https://yiyuan.example.cn/v/wuxing-v12");
  EXPECT_EQ(q.kind, Kind::kId);
  EXPECT_EQ(q.value, "wuxing-v12");
  EXPECT_EQ(q.district, "");
  EXPECT_EQ(Parsed("HTTP://h/app/v/wuxing-v7/?src=card#top").value, "wuxing-v7");
  for (const char* text : {"https://yiyuan.example.cn/", "https://h/v/", "https://h/x/wuxing-v1",
                           "https://h/v/wuxing-v1/more"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseVolunteerQuery(text).status())) << text;
  }
}

TEST(ParseVolunteerQueryTest, NormalisesPhoneNumbers) {
  for (const char* text :
       {"13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "008613812345678"}) {
    VolunteerQuery q = Parsed(text);
    EXPECT_EQ(q.kind, Kind::kPhone) << text;
    EXPECT_EQ(q.value, "13812345678") << text;
  }
  for (const char* text : {"1381234567", "138123456789", "23812345678", "+1 138 1234 5678"}) {
    absl::StatusOr<VolunteerQuery> q = ParseVolunteerQuery(text);
    EXPECT_TRUE(absl::IsInvalidArgument(q.status())) << text;
    EXPECT_THAT(q.status().message(), HasSubstr("11 digits")) << text;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ParseVolunteerQuery("138+12345678").status()));
}

TEST(ParseVolunteerQueryTest, ReadsIdsAndExternalIds) {
  VolunteerQuery q = Parsed("wuxing-v12");
  EXPECT_EQ(q.kind, Kind::kId);
  EXPECT_EQ(q.value, "wuxing-v12");
  q = Parsed("ext:zyz-330502-0001");
  EXPECT_EQ(q.kind, Kind::kExternalId);
  EXPECT_EQ(q.value, "zyz-330502-0001");
  for (const char* text :
       {"", "   ", "wuxing v12", "张三", "ext:", "ext:a b", std::string(65, 'a').c_str()}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseVolunteerQuery(text).status())) << text;
  }
}

TEST(ReceiptNumberTest, IsAValidRequestIdWithoutLookAlikes) {
  absl::BitGen gen;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string key = NewReceiptNumber(gen);
    ASSERT_THAT(key, MatchesRegex("[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-"
                                  "[2-9A-HJ-NP-Z]{4}"));
    ASSERT_TRUE(IsValidRequestId(key)) << key;
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ReceiptNumberTest, IsDeterministicForASeededGenerator) {
  std::mt19937 a(42), b(42);
  EXPECT_EQ(NewReceiptNumber(a), NewReceiptNumber(b));
}

TEST(IsValidRequestIdTest, AcceptsEightToSixtyFourIdCharacters) {
  EXPECT_TRUE(IsValidRequestId("abcd_-09"));
  EXPECT_TRUE(IsValidRequestId(std::string(64, 'x')));
  EXPECT_FALSE(IsValidRequestId("abcdefg"));
  EXPECT_FALSE(IsValidRequestId(std::string(65, 'x')));
  EXPECT_FALSE(IsValidRequestId("abcd efgh"));
  EXPECT_FALSE(IsValidRequestId("abcd:efgh"));
}

TEST(ParseQuantityTest, AcceptsOneToNinetyNine) {
  EXPECT_EQ(*ParseQuantity("1"), 1);
  EXPECT_EQ(*ParseQuantity(" 99 "), 99);
  for (const char* text : {"0", "100", "-1", "two", "", "1.5"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseQuantity(text).status())) << text;
  }
}

TEST(IsYesTest, OnlyYesIsYes) {
  EXPECT_TRUE(IsYes("y"));
  EXPECT_TRUE(IsYes(" YES "));
  EXPECT_TRUE(IsYes("Y\r"));
  EXPECT_FALSE(IsYes(""));
  EXPECT_FALSE(IsYes("n"));
  EXPECT_FALSE(IsYes("yep"));
  EXPECT_FALSE(IsYes("1"));
}

v1::CatalogItem Item(const std::string& id, const std::string& name, int64_t price, int64_t stock,
                     bool active = true) {
  v1::CatalogItem item;
  item.set_kiosk_id("aiguo-1");
  item.set_item_id(id);
  item.set_name(name);
  item.set_price_points(price);
  item.set_stock(stock);
  item.set_active(active);
  return item;
}

TEST(ResolveItemTest, ByRowNumberOrId) {
  google::protobuf::RepeatedPtrField<v1::CatalogItem> shown;
  *shown.Add() = Item("oil-1l", "菜籽油 1 L", 80, 4);
  *shown.Add() = Item("rice-5kg", "大米 5 kg", 50, 10);
  EXPECT_EQ(ResolveItem("2", shown)->item_id(), "rice-5kg");
  EXPECT_EQ(ResolveItem(" oil-1l ", shown)->item_id(), "oil-1l");
  EXPECT_EQ(ResolveItem("RICE-5KG", shown)->item_id(), "rice-5kg");
  EXPECT_TRUE(absl::IsNotFound(ResolveItem("3", shown).status()));
  EXPECT_TRUE(absl::IsNotFound(ResolveItem("0", shown).status()));
  EXPECT_TRUE(absl::IsNotFound(ResolveItem("soap", shown).status()));
}

v1::Redemption Receipt() {
  v1::Redemption r;
  v1::LedgerEntry& e = *r.mutable_entry();
  e.set_entry_id("wuxing-e17");
  e.set_kind(v1::LEDGER_REDEEM);
  e.set_from_account("volunteer:wuxing-v12");
  e.set_to_account("kiosk:aiguo-1");
  e.set_amount(100);
  e.set_item_id("rice-5kg");
  e.set_quantity(2);
  e.set_unit_price_points(50);
  e.set_idempotency_key("7KQM-2XD9-FHTW-C4PB");
  r.mutable_balance()->set_account("volunteer:wuxing-v12");
  r.mutable_balance()->set_balance(20);
  *r.mutable_item() = Item("rice-5kg", "大米 5 kg", 50, 8);
  r.set_remaining_stock(8);
  r.set_volunteer_name("张三");
  return r;
}

TEST(ReceiptTextTest, ShowsEverythingTheAttendantHandsOver) {
  std::string text = ReceiptText(Receipt(), "aiguo-1");
  EXPECT_THAT(text, HasSubstr("kiosk aiguo-1"));
  EXPECT_THAT(text, HasSubstr("REDEMPTION RECEIPT"));
  EXPECT_THAT(text, HasSubstr("receipt no.:   7KQM-2XD9-FHTW-C4PB"));
  EXPECT_THAT(text, HasSubstr("volunteer:     张三 (wuxing-v12)"));
  EXPECT_THAT(text, HasSubstr("item:          大米 5 kg (rice-5kg)"));
  EXPECT_THAT(text, HasSubstr("quantity:      2\n"));
  EXPECT_THAT(text, HasSubstr("unit price:    50 points\n"));
  EXPECT_THAT(text, HasSubstr("total:         100 points\n"));
  EXPECT_THAT(text, HasSubstr("balance after: 20 points\n"));
  EXPECT_THAT(text, HasSubstr("entry:         wuxing-e17\n"));
  EXPECT_THAT(text, HasSubstr("stock left:    8\n"));
  EXPECT_THAT(text, Not(HasSubstr("ALREADY RECORDED")));
  // The receipt number heads the block.
  EXPECT_LT(text.find("receipt no."), text.find("volunteer:"));
}

TEST(ReceiptTextTest, SaysWhenTheRedemptionHadBeenRecordedBefore) {
  v1::Redemption r = Receipt();
  r.set_replayed(true);
  std::string text = ReceiptText(r, "aiguo-1");
  EXPECT_THAT(text, HasSubstr("ALREADY RECORDED"));
  EXPECT_THAT(text, HasSubstr("nothing was charged twice"));
  EXPECT_THAT(text, HasSubstr("7KQM-2XD9-FHTW-C4PB"));
}

TEST(ReceiptTextTest, ReversalSaysWhatWasReturned) {
  v1::Redemption r = Receipt();
  v1::LedgerEntry& e = *r.mutable_entry();
  e.set_entry_id("wuxing-e18");
  e.set_kind(v1::LEDGER_REVERSAL);
  e.set_from_account("kiosk:aiguo-1");
  e.set_to_account("volunteer:wuxing-v12");
  e.set_reverses_entry_id("wuxing-e17");
  e.set_reason("wrong item");
  r.mutable_balance()->set_balance(120);
  std::string text = ReceiptText(r, "aiguo-1");
  EXPECT_THAT(text, HasSubstr("REVERSAL RECEIPT"));
  EXPECT_THAT(text, HasSubstr("reverses:      wuxing-e17"));
  EXPECT_THAT(text, HasSubstr("returned:      100 points"));
  EXPECT_THAT(text, HasSubstr("balance after: 120 points"));
  EXPECT_THAT(text, HasSubstr("reason:        wrong item"));
}

v1::RedeemRequest Request(int quantity, int64_t expected_price) {
  v1::RedeemRequest r;
  r.set_request_id("7KQM-2XD9-FHTW-C4PB");
  r.set_volunteer_id("wuxing-v12");
  r.set_kiosk_id("aiguo-1");
  r.set_item_id("rice-5kg");
  r.set_quantity(quantity);
  r.set_expected_price_points(expected_price);
  return r;
}

RedeemFacts Facts(absl::optional<v1::CatalogItem> item, absl::optional<int64_t> balance) {
  RedeemFacts f;
  f.item = std::move(item);
  f.balance = balance;
  return f;
}

const v1::CatalogItem kRice = Item("rice-5kg", "大米 5 kg", 50, 10);

TEST(DescribeRedeemFailureTest, InsufficientPointsShowsBalanceAgainstNeeded) {
  RedeemFailure f = DescribeRedeemFailure(absl::FailedPreconditionError("insufficient points"),
                                          Request(2, 50), kRice, "张三", Facts(kRice, 40));
  EXPECT_EQ(f.problem, RedeemProblem::kInsufficientPoints);
  EXPECT_THAT(
      f.message,
      HasSubstr("Not enough points: 张三 has 40 points, needs 100 points (2 x 大米 5 kg at 50)"));
  EXPECT_THAT(f.message, HasSubstr("(server: FAILED_PRECONDITION: insufficient points)"));
  EXPECT_THAT(f.message, HasSubstr("Nothing was redeemed."));
}

TEST(DescribeRedeemFailureTest, TellsPreconditionsApartByWhatIsTrueNow) {
  const absl::Status failed = absl::FailedPreconditionError("precondition failed");
  // Price first: the total depends on it.
  v1::CatalogItem dearer = Item("rice-5kg", "大米 5 kg", 60, 0);
  RedeemFailure f = DescribeRedeemFailure(failed, Request(2, 50), kRice, "张三", Facts(dearer, 0));
  EXPECT_EQ(f.problem, RedeemProblem::kPriceChanged);
  EXPECT_EQ(f.new_price, 60);
  EXPECT_THAT(f.message, HasSubstr("now costs 60 points (50 points when shown)"));

  v1::CatalogItem few = Item("rice-5kg", "大米 5 kg", 50, 1);
  f = DescribeRedeemFailure(failed, Request(2, 50), kRice, "张三", Facts(few, 0));
  EXPECT_EQ(f.problem, RedeemProblem::kOutOfStock);
  EXPECT_THAT(f.message, HasSubstr("only 1 x 大米 5 kg left, asked for 2"));

  v1::CatalogItem none = Item("rice-5kg", "大米 5 kg", 50, 0);
  f = DescribeRedeemFailure(failed, Request(1, 50), kRice, "张三", Facts(none, 500));
  EXPECT_EQ(f.problem, RedeemProblem::kOutOfStock);
  EXPECT_THAT(f.message, HasSubstr("Out of stock: no 大米 5 kg left"));

  v1::CatalogItem off = Item("rice-5kg", "大米 5 kg", 50, 10, /*active=*/false);
  f = DescribeRedeemFailure(failed, Request(1, 50), kRice, "张三", Facts(off, 500));
  EXPECT_EQ(f.problem, RedeemProblem::kInactiveItem);
  EXPECT_THAT(f.message, HasSubstr("no longer offered"));
}

TEST(DescribeRedeemFailureTest, TheServersReasonDecidesOverWhatWasReadBack) {
  // Read back a moment later, the stock looks short, but the server said why it refused.
  absl::Status failed = absl::FailedPreconditionError("refused");
  failed.SetPayload(kErrorReasonPayload, absl::Cord("INSUFFICIENT_POINTS"));
  v1::CatalogItem few = Item("rice-5kg", "大米 5 kg", 50, 1);
  RedeemFailure f = DescribeRedeemFailure(failed, Request(2, 50), kRice, "张三", Facts(few, 40));
  EXPECT_EQ(f.problem, RedeemProblem::kInsufficientPoints);
  failed.SetPayload(kErrorReasonPayload, absl::Cord("ITEM_INACTIVE"));
  EXPECT_EQ(DescribeRedeemFailure(failed, Request(1, 50), kRice, "", RedeemFacts()).problem,
            RedeemProblem::kInactiveItem);
}

TEST(DescribeRedeemFailureTest, FallsBackToTheServersWordsWhenNothingCouldBeRead) {
  const RedeemFacts unknown;
  EXPECT_EQ(DescribeRedeemFailure(absl::FailedPreconditionError("price is now 60"), Request(1, 50),
                                  kRice, "", unknown)
                .problem,
            RedeemProblem::kPriceChanged);
  EXPECT_EQ(DescribeRedeemFailure(absl::FailedPreconditionError("out of stock"), Request(1, 50),
                                  kRice, "", unknown)
                .problem,
            RedeemProblem::kOutOfStock);
  EXPECT_EQ(DescribeRedeemFailure(
                absl::FailedPreconditionError("the item is not available for redemption"),
                Request(1, 50), kRice, "", unknown)
                .problem,
            RedeemProblem::kInactiveItem);
  EXPECT_EQ(DescribeRedeemFailure(absl::FailedPreconditionError("item is inactive"), Request(1, 50),
                                  kRice, "", unknown)
                .problem,
            RedeemProblem::kInactiveItem);
  RedeemFailure f =
      DescribeRedeemFailure(absl::FailedPreconditionError("insufficient points: balance 40 < 100"),
                            Request(2, 50), kRice, "", unknown);
  EXPECT_EQ(f.problem, RedeemProblem::kInsufficientPoints);
  EXPECT_THAT(f.message, HasSubstr("wuxing-v12 needs 100 points"));
  EXPECT_EQ(DescribeRedeemFailure(absl::FailedPreconditionError("something else"), Request(1, 50),
                                  kRice, "", unknown)
                .problem,
            RedeemProblem::kRefused);
}

TEST(DescribeRedeemFailureTest, OfflineOffersARetryWithTheSameReceiptNumber) {
  for (const absl::Status& s :
       {absl::UnavailableError("connection refused"), absl::DeadlineExceededError("deadline")}) {
    RedeemFailure f = DescribeRedeemFailure(s, Request(1, 50), kRice, "张三", RedeemFacts());
    EXPECT_EQ(f.problem, RedeemProblem::kOffline);
    EXPECT_THAT(f.message, HasSubstr("may or may not have been recorded"));
    EXPECT_THAT(f.message, HasSubstr("same receipt number 7KQM-2XD9-FHTW-C4PB"));
    EXPECT_THAT(f.message, HasSubstr("never be charged twice"));
    EXPECT_THAT(f.message, Not(HasSubstr("Nothing was redeemed")));
  }
}

TEST(DescribeRedeemFailureTest, WrongKioskUnknownIdsAndRefusals) {
  RedeemFailure f = DescribeRedeemFailure(absl::PermissionDeniedError("token is for kiosk aiguo-1"),
                                          Request(1, 50), kRice, "张三", RedeemFacts());
  EXPECT_EQ(f.problem, RedeemProblem::kWrongKiosk);
  EXPECT_THAT(f.message, HasSubstr("may not redeem at kiosk aiguo-1"));
  EXPECT_THAT(f.message, HasSubstr("PERMISSION_DENIED: token is for kiosk aiguo-1"));

  f = DescribeRedeemFailure(absl::NotFoundError("volunteer wuxing-v12"), Request(1, 50), kRice,
                            "张三", RedeemFacts());
  EXPECT_EQ(f.problem, RedeemProblem::kNotFound);
  EXPECT_THAT(f.message, HasSubstr("unknown to the server"));

  f = DescribeRedeemFailure(absl::InvalidArgumentError("request_id: used with another body"),
                            Request(1, 50), kRice, "张三", RedeemFacts());
  EXPECT_EQ(f.problem, RedeemProblem::kRefused);
  EXPECT_THAT(f.message, HasSubstr("already used for a different redemption"));

  f = DescribeRedeemFailure(absl::UnauthenticatedError("bad token"), Request(1, 50), kRice, "张三",
                            RedeemFacts());
  EXPECT_EQ(f.problem, RedeemProblem::kRefused);
  EXPECT_THAT(f.message, HasSubstr("token is not accepted"));
}

TEST(CheckRedeemTest, RefusesWhatIsBoundToFail) {
  EXPECT_FALSE(CheckRedeem(Request(2, 50), kRice, 100, "张三").has_value());
  absl::optional<RedeemFailure> f = CheckRedeem(Request(3, 50), kRice, 100, "张三");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->problem, RedeemProblem::kInsufficientPoints);
  EXPECT_THAT(f->message, HasSubstr("张三 has 100 points, needs 150 points"));
  EXPECT_THAT(f->message, Not(HasSubstr("server")));

  f = CheckRedeem(Request(11, 50), kRice, 10000, "张三");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->problem, RedeemProblem::kOutOfStock);

  f = CheckRedeem(Request(1, 50), Item("rice-5kg", "大米 5 kg", 50, 10, false), 100, "张三");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->problem, RedeemProblem::kInactiveItem);
}

TEST(DescribeFailureTest, SaysWhatItMeansAtAKiosk) {
  EXPECT_EQ(DescribeFailure("reverse wuxing-e17", absl::NotFoundError("no entry wuxing-e17")),
            "Cannot reverse wuxing-e17: not found.\n"
            "  (server: NOT_FOUND: no entry wuxing-e17)\n");
  EXPECT_THAT(DescribeFailure("look up wuxing-v1", absl::UnavailableError("down")),
              HasSubstr("no answer from the server"));
  EXPECT_THAT(DescribeFailure("reverse wuxing-e1", absl::PermissionDeniedError("other kiosk")),
              HasSubstr("not allowed for this kiosk"));
}

}  // namespace
}  // namespace yiyuan
