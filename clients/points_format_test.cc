#include "clients/points_format.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

TEST(ParseAccountTest, ReadsAccountsAsTyped) {
  EXPECT_EQ(*ParseAccount("account", "fund"), "fund");
  EXPECT_EQ(*ParseAccount("account", " FUND "), "fund");
  EXPECT_EQ(*ParseAccount("account", "volunteer:wuxing-v12"), "volunteer:wuxing-v12");
  EXPECT_EQ(*ParseAccount("account", "Kiosk:aiguo-1"), "kiosk:aiguo-1");
  EXPECT_EQ(*ParseAccount("account", "wuxing-v12"), "volunteer:wuxing-v12");
}

TEST(ParseAccountTest, NamesWhatIsWrong) {
  absl::StatusOr<std::string> a = ParseAccount("account", "shop:aiguo-1");
  EXPECT_TRUE(absl::IsInvalidArgument(a.status()));
  EXPECT_THAT(a.status().message(), HasSubstr("account: \"shop:aiguo-1\" is not an account"));
  a = ParseAccount("--account", "kiosk:");
  EXPECT_TRUE(absl::IsInvalidArgument(a.status()));
  EXPECT_THAT(a.status().message(), HasSubstr("--account"));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseAccount("account", " ").status()));
}

TEST(BalanceFieldsTest, LeavesOutPendingWhenNothingWaits) {
  v1::Balance b;
  b.set_account("volunteer:wuxing-v12");
  b.set_district("wuxing");
  b.set_balance(120);
  EXPECT_THAT(BalanceFields(b), Contains(Pair("balance", "120")));
  EXPECT_THAT(FormatFields(BalanceFields(b)), Not(HasSubstr("pending")));
  b.set_pending(30);
  EXPECT_THAT(BalanceFields(b), Contains(Pair("pending", "30")));
}

TEST(LedgerTableTest, OneRowPerEntryWithItemsKeysAndLinks) {
  google::protobuf::RepeatedPtrField<v1::LedgerEntry> entries;
  v1::LedgerEntry& reversal = *entries.Add();
  reversal.set_entry_id("wuxing-e18");
  reversal.set_kind(v1::LEDGER_REVERSAL);
  reversal.set_from_account("kiosk:aiguo-1");
  reversal.set_to_account("volunteer:wuxing-v12");
  reversal.set_amount(100);
  reversal.set_reverses_entry_id("wuxing-e17");
  reversal.set_reason("wrong size");
  reversal.set_idempotency_key("KEY-2");
  v1::LedgerEntry& redeem = *entries.Add();
  redeem.set_entry_id("wuxing-e17");
  redeem.set_kind(v1::LEDGER_REDEEM);
  redeem.set_from_account("volunteer:wuxing-v12");
  redeem.set_to_account("kiosk:aiguo-1");
  redeem.set_amount(100);
  redeem.set_item_id("rice-5kg");
  redeem.set_quantity(2);
  redeem.set_unit_price_points(50);
  redeem.set_reversed_by_entry_id("wuxing-e18");
  redeem.set_idempotency_key("KEY-1");
  EXPECT_EQ(LedgerTable(entries),
            "ENTRY       TIME  KIND      FROM                  TO                    AMOUNT  "
            "ITEM             KEY    NOTE\n"
            "wuxing-e18        REVERSAL  kiosk:aiguo-1         volunteer:wuxing-v12  100     "
            "                 KEY-2  reverses wuxing-e17; wrong size\n"
            "wuxing-e17        REDEEM    volunteer:wuxing-v12  kiosk:aiguo-1         100     "
            "rice-5kg x2 @50  KEY-1  reversed by wuxing-e18\n");
}

TEST(CatalogTableTest, NumbersRowsAndMarksWhatCannotBeHad) {
  google::protobuf::RepeatedPtrField<v1::CatalogItem> items;
  v1::CatalogItem& oil = *items.Add();
  oil.set_item_id("oil-1l");
  oil.set_name("菜籽油 1 L");
  oil.set_price_points(80);
  oil.set_stock(0);
  oil.set_active(true);
  v1::CatalogItem& rice = *items.Add();
  rice.set_item_id("rice-5kg");
  rice.set_name("大米 5 kg");
  rice.set_price_points(50);
  rice.set_stock(10);
  rice.set_active(true);
  v1::CatalogItem& soap = *items.Add();
  soap.set_item_id("soap");
  soap.set_name("Soap");
  soap.set_price_points(5);
  soap.set_stock(3);
  soap.set_active(false);
  EXPECT_EQ(CatalogTable(items, /*numbered=*/true),
            "#  ITEM      NAME        PRICE  STOCK  STATUS\n"
            "1  oil-1l    菜籽油 1 L  80     0      out of stock\n"
            "2  rice-5kg  大米 5 kg   50     10     active\n"
            "3  soap      Soap        5      3      inactive\n");
  EXPECT_THAT(CatalogTable(items), HasSubstr("ITEM      NAME"));
  EXPECT_THAT(CatalogTable(items), Not(HasSubstr("#")));
}

TEST(RedemptionFieldsTest, NamesVolunteerKioskAndItem) {
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
  r.mutable_balance()->set_balance(20);
  r.mutable_item()->set_name("大米 5 kg");
  r.set_volunteer_name("张三");
  r.set_remaining_stock(8);
  std::vector<Field> fields = RedemptionFields(r);
  EXPECT_THAT(fields, Contains(Pair("volunteer", "张三 (wuxing-v12)")));
  EXPECT_THAT(fields, Contains(Pair("kiosk", "aiguo-1")));
  EXPECT_THAT(fields, Contains(Pair("item", "大米 5 kg (rice-5kg)")));
  EXPECT_THAT(fields, Contains(Pair("unit price", "50 points")));
  EXPECT_THAT(fields, Contains(Pair("total", "100 points")));
  EXPECT_THAT(fields, Contains(Pair("balance after", "20 points")));
  EXPECT_THAT(fields, Contains(Pair("stock left", "8")));
  EXPECT_THAT(fields, Contains(Pair("receipt no.", "7KQM-2XD9-FHTW-C4PB")));
}

}  // namespace
}  // namespace yiyuan
