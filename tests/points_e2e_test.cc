// PointsService end to end: one real dispatchd on a real redis-server, real gRPC.
// Each test works in its own district, so tests share one server without meeting.
// Expected amounts come from the EARN rule the server was started with and from the
// server's own earlier answers, never from numbers the server was not told.
#include <algorithm>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/client.h"
#include "tests/testing/points_world.h"
#include "tests/testing/processes.h"

namespace yiyuan::testing {
namespace {

using ::testing::AnyOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

using Code = grpc::StatusCode;

// Not the defaults, so that the flag is seen to be honoured.
PointsRule Rule() {
  PointsRule r;
  r.base = 12;
  r.per_minute_milli = 500;
  r.urgent = 6;
  r.crisis = 11;
  r.max_minutes = 120;
  return r;
}

class PointsE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new PointsCluster({Rule().Flag()});
    std::string log;
    server_ = cluster_->Start("points", &log);
    ASSERT_NE(server_, nullptr) << log;
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  PointsWorld World(const std::string& district) { return cluster_->World(server_, district); }

  static PointsCluster* cluster_;
  static Dispatchd* server_;
};

PointsCluster* PointsE2ETest::cluster_ = nullptr;
Dispatchd* PointsE2ETest::server_ = nullptr;

std::vector<std::string> Ids(const std::vector<v1::LedgerEntry>& entries) {
  std::vector<std::string> out;
  for (const v1::LedgerEntry& e : entries) out.push_back(e.entry_id());
  return out;
}

std::vector<v1::LedgerKind> Kinds(const std::vector<v1::LedgerEntry>& entries) {
  std::vector<v1::LedgerKind> out;
  for (const v1::LedgerEntry& e : entries) out.push_back(e.kind());
  return out;
}

std::vector<std::string> ItemIds(const std::vector<v1::CatalogItem>& items) {
  std::vector<std::string> out;
  for (const v1::CatalogItem& c : items) out.push_back(c.item_id());
  return out;
}

// The entries of `all` for which `keep` holds, in order.
std::vector<std::string> IdsWhere(const std::vector<v1::LedgerEntry>& all,
                                  const std::function<bool(const v1::LedgerEntry&)>& keep) {
  std::vector<std::string> out;
  for (const v1::LedgerEntry& e : all) {
    if (keep(e)) out.push_back(e.entry_id());
  }
  return out;
}

const v1::LedgerEntry* Find(const std::vector<v1::LedgerEntry>& all, const std::string& id) {
  for (const v1::LedgerEntry& e : all) {
    if (e.entry_id() == id) return &e;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------
// Money moving

TEST_F(PointsE2ETest, TopUpAdjustRedeemAndReverseMoveExactlyTheirAmounts) {
  PointsWorld w = World("books");
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  v1::CatalogItem rice;
  grpc::Status s = w.Upsert(w.Item("aiguo-1", "rice-5kg", 30, 5), &rice);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rice.district(), "books");
  EXPECT_EQ(rice.price_points(), 30);
  EXPECT_EQ(rice.stock(), 5);
  EXPECT_TRUE(rice.active());
  EXPECT_GT(rice.create_time_ms(), 0);
  const std::string kiosk = w.Token(v1::ROLE_KIOSK, "aiguo-1");
  ASSERT_FALSE(kiosk.empty());
  const std::string v = w.Volunteer("Li Mei");
  ASSERT_FALSE(v.empty());
  const std::string vol = VolunteerAccount(v), shop = KioskAccount("aiguo-1");

  // The fund always exists; a volunteer and a kiosk with items start empty; unknown
  // accounts are NOT_FOUND.
  v1::Balance b;
  ASSERT_TRUE(w.GetBalance("fund", &b).ok());
  EXPECT_EQ(b.account(), "fund");
  EXPECT_EQ(b.district(), "books");
  EXPECT_EQ(b.balance(), 0);
  EXPECT_EQ(b.pending(), 0);
  EXPECT_EQ(b.last_entry_id(), "");
  EXPECT_EQ(b.update_time_ms(), 0);
  ASSERT_TRUE(w.GetBalance(vol, &b).ok());
  EXPECT_EQ(b.balance(), 0);
  ASSERT_TRUE(w.GetBalance(shop, &b).ok());
  EXPECT_EQ(b.balance(), 0);
  EXPECT_EQ(w.GetBalance(VolunteerAccount("books-v999999"), &b).error_code(), Code::NOT_FOUND);
  EXPECT_EQ(w.GetBalance(KioskAccount("nowhere-9"), &b).error_code(), Code::NOT_FOUND);

  // A top-up: external → fund.
  v1::AdjustPointsResponse top;
  s = w.Adjust(w.TopUpBody("books-topup-1", 1000), &top);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(top.replayed());
  const v1::LedgerEntry& fe = top.entry();
  EXPECT_THAT(fe.entry_id(), StartsWith("books-e"));
  EXPECT_EQ(fe.district(), "books");
  EXPECT_EQ(fe.kind(), v1::LEDGER_FUND);
  EXPECT_EQ(fe.from_account(), "external");
  EXPECT_EQ(fe.to_account(), "fund");
  EXPECT_EQ(fe.amount(), 1000);
  EXPECT_EQ(fe.reason(), "donation");
  EXPECT_EQ(fe.idempotency_key(), "books-topup-1");
  EXPECT_FALSE(fe.actor().empty());
  EXPECT_NE(fe.actor(), "system");
  EXPECT_NEAR(fe.time_ms(), now_ms, 60000);
  EXPECT_EQ(top.balance().account(), "fund");
  EXPECT_EQ(top.balance().balance(), 1000);
  EXPECT_EQ(top.balance().last_entry_id(), fe.entry_id());
  EXPECT_EQ(top.balance().update_time_ms(), fe.time_ms());

  // +200 fund → volunteer, then −50 volunteer → fund.
  v1::AdjustPointsResponse plus, minus;
  s = w.Adjust(w.AdjustBody("books-adj-1", v, 200), &plus);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(plus.entry().kind(), v1::LEDGER_ADJUST);
  EXPECT_EQ(plus.entry().from_account(), "fund");
  EXPECT_EQ(plus.entry().to_account(), vol);
  EXPECT_EQ(plus.entry().amount(), 200);
  EXPECT_EQ(plus.entry().reason(), "correction");
  EXPECT_EQ(plus.entry().actor(), fe.actor()) << "the same admin token";
  EXPECT_GT(EntryNumber(plus.entry().entry_id()), EntryNumber(fe.entry_id()));
  EXPECT_EQ(plus.balance().account(), vol);
  EXPECT_EQ(plus.balance().balance(), 200);
  s = w.Adjust(w.AdjustBody("books-adj-2", v, -50), &minus);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(minus.entry().kind(), v1::LEDGER_ADJUST);
  EXPECT_EQ(minus.entry().from_account(), vol);
  EXPECT_EQ(minus.entry().to_account(), "fund");
  EXPECT_EQ(minus.entry().amount(), 50);
  EXPECT_EQ(minus.balance().balance(), 150);
  EXPECT_EQ(w.Balance("fund").balance(), 850);

  // More than the paying account holds: refused, nothing written.
  size_t entries = w.Entries().size();
  v1::AdjustPointsResponse refused;
  s = w.Adjust(w.AdjustBody("books-adj-3", v, -151), &refused);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  s = w.Adjust(w.AdjustBody("books-adj-4", v, 851), &refused);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(w.Entries().size(), entries);
  EXPECT_EQ(w.Balance(vol).balance(), 150);
  EXPECT_EQ(w.Balance("fund").balance(), 850);

  // Two bags of rice at the kiosk, at the price it showed: volunteer → kiosk.
  v1::Redemption red;
  v1::RedeemRequest rr = w.RedeemBody("books-red-1", v, "aiguo-1", "rice-5kg", 2);
  rr.set_expected_price_points(30);
  s = w.Redeem(rr, &red, kiosk);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(red.replayed());
  EXPECT_EQ(red.entry().kind(), v1::LEDGER_REDEEM);
  EXPECT_EQ(red.entry().from_account(), vol);
  EXPECT_EQ(red.entry().to_account(), shop);
  EXPECT_EQ(red.entry().amount(), 60);
  EXPECT_EQ(red.entry().item_id(), "rice-5kg");
  EXPECT_EQ(red.entry().quantity(), 2);
  EXPECT_EQ(red.entry().unit_price_points(), 30);
  EXPECT_EQ(red.entry().idempotency_key(), "books-red-1");
  EXPECT_EQ(red.entry().reverses_entry_id(), "");
  EXPECT_EQ(red.entry().reversed_by_entry_id(), "");
  EXPECT_FALSE(red.entry().actor().empty());
  EXPECT_NE(red.entry().actor(), fe.actor()) << "the kiosk's token, not the admin's";
  EXPECT_EQ(red.balance().account(), vol);
  EXPECT_EQ(red.balance().balance(), 90);
  EXPECT_EQ(red.balance().last_entry_id(), red.entry().entry_id());
  EXPECT_EQ(red.item().item_id(), "rice-5kg");
  EXPECT_EQ(red.item().name(), rice.name());
  EXPECT_EQ(red.item().price_points(), 30);
  EXPECT_EQ(red.item().stock(), 3);
  EXPECT_EQ(red.remaining_stock(), 3);
  EXPECT_EQ(red.volunteer_name(), "Li Mei");
  EXPECT_EQ(w.Stock("aiguo-1", "rice-5kg"), 3);
  ASSERT_TRUE(w.GetBalance(shop, &b).ok());
  EXPECT_EQ(b.balance(), 60);
  EXPECT_EQ(b.last_entry_id(), red.entry().entry_id());

  // Reversed with restock: kiosk → volunteer, and the bags are back on the shelf.
  v1::Redemption rev;
  s = w.Reverse(w.ReverseBody("books-rev-1", red.entry().entry_id(), true), &rev, kiosk);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(rev.replayed());
  EXPECT_EQ(rev.entry().kind(), v1::LEDGER_REVERSAL);
  EXPECT_EQ(rev.entry().from_account(), shop);
  EXPECT_EQ(rev.entry().to_account(), vol);
  EXPECT_EQ(rev.entry().amount(), 60);
  EXPECT_EQ(rev.entry().reverses_entry_id(), red.entry().entry_id());
  EXPECT_EQ(rev.entry().reason(), "goods returned");
  EXPECT_EQ(rev.entry().idempotency_key(), "books-rev-1");
  EXPECT_EQ(rev.balance().balance(), 150);
  EXPECT_EQ(rev.remaining_stock(), 5);
  EXPECT_EQ(w.Stock("aiguo-1", "rice-5kg"), 5);
  EXPECT_EQ(w.Balance(shop).balance(), 0);
  // The redemption now names its reversal.
  std::vector<v1::LedgerEntry> mine = w.Entries(vol);
  const v1::LedgerEntry* redeemed = Find(mine, red.entry().entry_id());
  ASSERT_NE(redeemed, nullptr);
  EXPECT_EQ(redeemed->reversed_by_entry_id(), rev.entry().entry_id());
  EXPECT_EQ(WrittenEntry(*redeemed), WrittenEntry(red.entry()));

  // Reversing it again, reversing what is not a redemption, or an unknown entry:
  // refused, nothing written.
  entries = w.Entries().size();
  v1::Redemption no;
  s = w.Reverse(w.ReverseBody("books-rev-2", red.entry().entry_id(), true), &no);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  s = w.Reverse(w.ReverseBody("books-rev-3", plus.entry().entry_id(), false), &no);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  s = w.Reverse(w.ReverseBody("books-rev-4", rev.entry().entry_id(), false), &no);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  s = w.Reverse(w.ReverseBody("books-rev-5", "books-e999999", false), &no);
  EXPECT_EQ(s.error_code(), Code::NOT_FOUND) << s.error_message();
  EXPECT_EQ(w.Entries().size(), entries);
  EXPECT_EQ(w.Stock("aiguo-1", "rice-5kg"), 5);
  EXPECT_EQ(w.Balance(vol).balance(), 150);

  // Reversed without restock, the goods stay sold.
  v1::Redemption red2, rev2;
  s = w.Redeem(w.RedeemBody("books-red-2", v, "aiguo-1", "rice-5kg", 1), &red2, kiosk);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(red2.remaining_stock(), 4);
  EXPECT_EQ(red2.balance().balance(), 120);
  s = w.Reverse(w.ReverseBody("books-rev-6", red2.entry().entry_id(), false), &rev2, kiosk);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rev2.remaining_stock(), 4);
  EXPECT_EQ(rev2.balance().balance(), 150);
  EXPECT_EQ(w.Stock("aiguo-1", "rice-5kg"), 4);
  EXPECT_EQ(w.Balance(shop).balance(), 0);

  EXPECT_THAT(Kinds(w.Entries(vol)),
              ElementsAre(v1::LEDGER_REVERSAL, v1::LEDGER_REDEEM, v1::LEDGER_REVERSAL,
                          v1::LEDGER_REDEEM, v1::LEDGER_ADJUST, v1::LEDGER_ADJUST));
  EXPECT_THAT(w.Audit({"fund", vol, shop}), IsEmpty());
}

TEST_F(PointsE2ETest, CompletingAnAssignmentEarnsTheRulesAmount) {
  PointsWorld w = World("earn");
  const PointsRule rule = Rule();
  const int64_t fund = w.TopUp(10000);
  ASSERT_EQ(fund, 10000);
  const std::string v = w.Volunteer();
  ASSERT_FALSE(v.empty());
  const std::string vol = VolunteerAccount(v);

  v1::Assignment a;
  std::string r;
  grpc::Status s = w.Earn(v, v1::URGENT, 45, &a, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const int64_t urgent45 = rule.Earn(45, v1::URGENT);
  EXPECT_EQ(a.points_earned(), urgent45);
  EXPECT_EQ(a.points_pending(), 0);
  std::vector<v1::LedgerEntry> earns = w.Entries(vol, {v1::LEDGER_EARN});
  ASSERT_THAT(earns, SizeIs(1));
  const v1::LedgerEntry& e = earns[0];
  EXPECT_EQ(e.kind(), v1::LEDGER_EARN);
  EXPECT_EQ(e.from_account(), "fund");
  EXPECT_EQ(e.to_account(), vol);
  EXPECT_EQ(e.amount(), urgent45);
  EXPECT_EQ(e.request_id(), r);
  EXPECT_EQ(e.actor(), "system");
  EXPECT_EQ(e.idempotency_key(), absl::StrCat("earn:", r, ":", v));
  EXPECT_THAT(e.reason(), HasSubstr("45")) << "the rule applied, with the minutes";
  v1::Balance b;
  ASSERT_TRUE(w.GetBalance(vol, &b).ok());
  EXPECT_EQ(b.balance(), urgent45);
  EXPECT_EQ(b.pending(), 0);
  EXPECT_EQ(b.last_entry_id(), e.entry_id());
  EXPECT_EQ(w.Balance("fund").balance(), fund - urgent45);
  // The volunteer's record shows the balance too.
  v1::GetVolunteerRequest get;
  get.set_id(v);
  v1::Volunteer got;
  ASSERT_TRUE(w.dispatch().Vol()->GetVolunteer(Ctx(w.admin()).get(), get, &got).ok());
  EXPECT_EQ(got.points_balance(), urgent45);

  // Minutes beyond the cap count as the cap; CRISIS has its own bonus, ROUTINE none.
  v1::Assignment capped, routine;
  ASSERT_TRUE(w.Earn(v, v1::CRISIS, rule.max_minutes + 300, &capped).ok());
  EXPECT_EQ(capped.points_earned(), rule.Earn(rule.max_minutes, v1::CRISIS));
  ASSERT_TRUE(w.Earn(v, v1::ROUTINE, 7, &routine).ok());
  EXPECT_EQ(routine.points_earned(), rule.Earn(7, v1::ROUTINE));
  const int64_t total = urgent45 + capped.points_earned() + routine.points_earned();

  // Reporting a completion again earns nothing more.
  v1::Assignment again;
  ASSERT_TRUE(w.Completed(r, v, 45, &again).ok());
  EXPECT_EQ(again.points_earned(), urgent45);
  EXPECT_THAT(w.Entries(vol, {v1::LEDGER_EARN}), SizeIs(3));
  EXPECT_EQ(w.Balance(vol).balance(), total);
  EXPECT_EQ(w.Balance("fund").balance(), fund - total);
  EXPECT_THAT(w.Audit({"fund", vol}), IsEmpty());
}

TEST_F(PointsE2ETest, AnEmptyFundMakesEarningsWaitAndATopUpPaysThemOldestFirst) {
  PointsWorld w = World("waiting");
  const PointsRule rule = Rule();
  const std::string v1 = w.Volunteer(), v2 = w.Volunteer();
  ASSERT_FALSE(v1.empty());
  ASSERT_FALSE(v2.empty());
  const std::string a1 = VolunteerAccount(v1), a2 = VolunteerAccount(v2);
  const int64_t p1 = rule.Earn(30, v1::ROUTINE), p2 = rule.Earn(60, v1::URGENT),
                p3 = rule.Earn(10, v1::CRISIS);
  ASSERT_LT(p3, p2) << "the test needs the third earning smaller than the second";

  // Nothing in the fund: each completion's earning waits.
  v1::Assignment x1, x2, x3;
  std::string r1, r2, r3;
  ASSERT_TRUE(w.Earn(v1, v1::ROUTINE, 30, &x1, &r1).ok());
  EXPECT_EQ(x1.points_pending(), p1);
  EXPECT_EQ(x1.points_earned(), 0);
  ASSERT_TRUE(w.Earn(v2, v1::URGENT, 60, &x2, &r2).ok());
  EXPECT_EQ(x2.points_pending(), p2);
  ASSERT_TRUE(w.Earn(v1, v1::CRISIS, 10, &x3, &r3).ok());
  EXPECT_EQ(x3.points_pending(), p3);
  v1::Balance b = w.Balance(a1);
  EXPECT_EQ(b.balance(), 0);
  EXPECT_EQ(b.pending(), p1 + p3);
  EXPECT_EQ(w.Balance(a2).pending(), p2);
  b = w.Balance("fund");
  EXPECT_EQ(b.balance(), 0);
  EXPECT_EQ(b.pending(), p1 + p2 + p3);
  EXPECT_THAT(w.Entries("", {v1::LEDGER_EARN}), IsEmpty());
  EXPECT_THAT(w.Audit({"fund", a1, a2}), IsEmpty());

  // Enough for the first and the third but not the second: the first is paid, and
  // paying stops at the second (oldest first, no overtaking).
  v1::AdjustPointsResponse t1;
  grpc::Status s = w.Adjust(w.TopUpBody("waiting-top-1", p1 + p3), &t1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(t1.balance().balance(), p3);
  EXPECT_EQ(t1.balance().pending(), p2 + p3);
  std::vector<v1::LedgerEntry> earns = w.Entries("", {v1::LEDGER_EARN});
  ASSERT_THAT(earns, SizeIs(1));
  EXPECT_EQ(earns[0].request_id(), r1);
  EXPECT_EQ(earns[0].to_account(), a1);
  EXPECT_EQ(earns[0].amount(), p1);
  EXPECT_EQ(earns[0].actor(), "system");
  EXPECT_GT(EntryNumber(earns[0].entry_id()), EntryNumber(t1.entry().entry_id()));
  b = w.Balance(a1);
  EXPECT_EQ(b.balance(), p1);
  EXPECT_EQ(b.pending(), p3);
  EXPECT_EQ(w.Balance(a2).pending(), p2);
  v1::Assignment now1, now2;
  ASSERT_TRUE(w.Completed(r1, v1, 30, &now1).ok());
  EXPECT_EQ(now1.points_earned(), p1);
  EXPECT_EQ(now1.points_pending(), 0);
  ASSERT_TRUE(w.Completed(r2, v2, 60, &now2).ok());
  EXPECT_EQ(now2.points_earned(), 0);
  EXPECT_EQ(now2.points_pending(), p2);

  // The next top-up pays the rest, in order.
  v1::AdjustPointsResponse t2;
  ASSERT_TRUE(w.Adjust(w.TopUpBody("waiting-top-2", p2), &t2).ok());
  EXPECT_EQ(t2.balance().balance(), 0);
  EXPECT_EQ(t2.balance().pending(), 0);
  earns = w.Entries("", {v1::LEDGER_EARN});
  ASSERT_THAT(earns, SizeIs(3));
  EXPECT_EQ(earns[0].request_id(), r3);
  EXPECT_EQ(earns[1].request_id(), r2);
  EXPECT_EQ(earns[2].request_id(), r1);
  EXPECT_EQ(earns[0].amount(), p3);
  EXPECT_EQ(earns[1].amount(), p2);
  EXPECT_EQ(earns[0].idempotency_key(), absl::StrCat("earn:", r3, ":", v1));
  b = w.Balance(a1);
  EXPECT_EQ(b.balance(), p1 + p3);
  EXPECT_EQ(b.pending(), 0);
  EXPECT_EQ(w.Balance(a2).balance(), p2);
  EXPECT_EQ(w.Balance(a2).pending(), 0);
  v1::Assignment now3;
  ASSERT_TRUE(w.Completed(r3, v1, 10, &now3).ok());
  EXPECT_EQ(now3.points_earned(), p3);
  EXPECT_EQ(now3.points_pending(), 0);
  EXPECT_THAT(w.Audit({"fund", a1, a2}), IsEmpty());
}

TEST_F(PointsE2ETest, RefusedRedemptionsChangeNothing) {
  PointsWorld w = World("refuse");
  v1::CatalogItem out;
  ASSERT_TRUE(w.Upsert(w.Item("k1", "soap", 40, 5), &out).ok());
  ASSERT_TRUE(w.Upsert(w.Item("k1", "tea", 1, 2), &out).ok());
  ASSERT_TRUE(w.Upsert(w.Item("k1", "oil", 10, 5, /*active=*/false), &out).ok());
  const std::string v = w.Volunteer();
  ASSERT_GT(w.TopUp(1000), 0);
  ASSERT_EQ(w.Give(v, 100), 100);
  auto state = [&] {
    return std::make_tuple(w.Balance(VolunteerAccount(v)).balance(),
                           w.Balance(KioskAccount("k1")).balance(), w.Stock("k1", "soap"),
                           w.Stock("k1", "tea"), w.Stock("k1", "oil"), w.Entries().size());
  };
  const auto before = state();

  struct Case {
    std::string name;
    v1::RedeemRequest req;
    Code code;
    std::string reason = "";  // google.rpc.ErrorInfo reason
  };
  v1::RedeemRequest changed_price = w.RedeemBody("refuse-0004", v, "k1", "soap", 1);
  changed_price.set_expected_price_points(35);
  const std::vector<Case> cases = {
      {"insufficient points", w.RedeemBody("refuse-0001", v, "k1", "soap", 3),
       Code::FAILED_PRECONDITION, "INSUFFICIENT_POINTS"},
      {"out of stock", w.RedeemBody("refuse-0002", v, "k1", "tea", 3), Code::FAILED_PRECONDITION,
       "OUT_OF_STOCK"},
      {"inactive item", w.RedeemBody("refuse-0003", v, "k1", "oil", 1), Code::FAILED_PRECONDITION,
       "ITEM_INACTIVE"},
      {"changed price", changed_price, Code::FAILED_PRECONDITION, "PRICE_CHANGED"},
      {"unknown item", w.RedeemBody("refuse-0005", v, "k1", "caviar", 1), Code::NOT_FOUND},
      {"unknown volunteer", w.RedeemBody("refuse-0006", "refuse-v999999", "k1", "soap", 1),
       Code::NOT_FOUND},
      {"unknown kiosk", w.RedeemBody("refuse-0007", v, "k9", "soap", 1), Code::NOT_FOUND},
  };
  for (const Case& c : cases) {
    v1::Redemption r;
    grpc::Status s = w.Redeem(c.req, &r);
    EXPECT_EQ(s.error_code(), c.code) << c.name << ": " << s.error_message();
    EXPECT_EQ(ErrorReason(s), c.reason) << c.name;
    EXPECT_EQ(state(), before) << c.name;
  }
  // The same calls, made valid, go through: the refusals were for their reasons.
  v1::Redemption r;
  v1::RedeemRequest ok = w.RedeemBody("refuse-0008", v, "k1", "soap", 2);
  ok.set_expected_price_points(40);
  grpc::Status s = w.Redeem(ok, &r);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = w.Redeem(w.RedeemBody("refuse-0009", v, "k1", "tea", 2), &r);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.remaining_stock(), 0);
  EXPECT_EQ(w.Balance(VolunteerAccount(v)).balance(), 100 - 80 - 2);
  EXPECT_THAT(w.Audit({"fund", VolunteerAccount(v), KioskAccount("k1")}), IsEmpty());
}

// ---------------------------------------------------------------------------------
// Idempotency

TEST_F(PointsE2ETest, AReplayReturnsTheFirstResultAndADifferentBodyIsRefused) {
  PointsWorld w = World("replay");
  v1::CatalogItem item;
  ASSERT_TRUE(w.Upsert(w.Item("k1", "cup", 10, 10), &item).ok());
  ASSERT_TRUE(w.Upsert(w.Item("k1", "mug", 10, 10), &item).ok());
  const std::string v = w.Volunteer(), other = w.Volunteer();
  const std::string vol = VolunteerAccount(v);
  ASSERT_GT(w.TopUp(1000), 0);
  ASSERT_EQ(w.Give(v, 100), 100);
  ASSERT_EQ(w.Give(other, 100), 100);
  auto state = [&] {
    return std::make_tuple(w.Balance(vol).balance(), w.Balance("fund").balance(),
                           w.Stock("k1", "cup"), w.Entries().size());
  };
  auto refused_naming_request_id = [](const grpc::Status& s, const std::string& what) {
    EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT) << what << ": " << s.error_message();
    EXPECT_THAT(BadFields(s), Contains("request_id")) << what << ": " << s.error_message();
  };

  // A redemption, then something else changes the balance, then the replay: the
  // first result comes back, nothing is charged twice.
  const v1::RedeemRequest rr = w.RedeemBody("replay-red-1", v, "k1", "cup", 2);
  v1::Redemption first, again;
  ASSERT_TRUE(w.Redeem(rr, &first).ok());
  EXPECT_FALSE(first.replayed());
  ASSERT_EQ(w.Give(v, 5), 85);
  const auto before = state();
  grpc::Status s = w.Redeem(rr, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.entry().entry_id(), first.entry().entry_id());
  EXPECT_EQ(WrittenEntry(again.entry()), WrittenEntry(first.entry()));
  EXPECT_EQ(again.balance().balance(), first.balance().balance());
  EXPECT_EQ(again.remaining_stock(), first.remaining_stock());
  EXPECT_EQ(state(), before);
  // Through a kiosk of that kiosk, too.
  v1::Redemption via_kiosk;
  ASSERT_TRUE(w.Redeem(rr, &via_kiosk, w.Token(v1::ROLE_KIOSK, "k1")).ok());
  EXPECT_TRUE(via_kiosk.replayed());
  EXPECT_EQ(via_kiosk.entry().entry_id(), first.entry().entry_id());
  EXPECT_EQ(state(), before);

  // The same key with another body.
  const std::vector<std::pair<std::string, std::function<void(v1::RedeemRequest&)>>> changes = {
      {"quantity", [](v1::RedeemRequest& r) { r.set_quantity(3); }},
      {"item", [](v1::RedeemRequest& r) { r.set_item_id("mug"); }},
      {"volunteer", [&](v1::RedeemRequest& r) { r.set_volunteer_id(other); }},
      {"expected price", [](v1::RedeemRequest& r) { r.set_expected_price_points(10); }},
  };
  for (const auto& [what, change] : changes) {
    v1::RedeemRequest changed = rr;
    change(changed);
    v1::Redemption r;
    refused_naming_request_id(w.Redeem(changed, &r), what);
    EXPECT_EQ(state(), before) << what;
  }

  // Adjustments and top-ups.
  const v1::AdjustPointsRequest adj = w.AdjustBody("replay-adj-1", v, 7);
  v1::AdjustPointsResponse a1, a2;
  ASSERT_TRUE(w.Adjust(adj, &a1).ok());
  ASSERT_EQ(w.Give(v, 1), a1.balance().balance() + 1);
  auto now = state();
  ASSERT_TRUE(w.Adjust(adj, &a2).ok());
  EXPECT_TRUE(a2.replayed());
  EXPECT_EQ(WrittenEntry(a2.entry()), WrittenEntry(a1.entry()));
  EXPECT_EQ(a2.balance().balance(), a1.balance().balance());
  EXPECT_EQ(state(), now);
  v1::AdjustPointsRequest adj_changed = adj;
  adj_changed.set_delta(8);
  refused_naming_request_id(w.Adjust(adj_changed, &a2), "delta");
  adj_changed = adj;
  adj_changed.set_reason("another reason");
  refused_naming_request_id(w.Adjust(adj_changed, &a2), "reason");
  EXPECT_EQ(state(), now);

  const v1::AdjustPointsRequest top = w.TopUpBody("replay-top-1", 300);
  ASSERT_TRUE(w.Adjust(top, &a1).ok());
  now = state();
  ASSERT_TRUE(w.Adjust(top, &a2).ok());
  EXPECT_TRUE(a2.replayed());
  EXPECT_EQ(a2.entry().entry_id(), a1.entry().entry_id());
  EXPECT_EQ(a2.balance().balance(), a1.balance().balance());
  EXPECT_EQ(state(), now);
  v1::AdjustPointsRequest top_changed = top;
  top_changed.set_delta(301);
  refused_naming_request_id(w.Adjust(top_changed, &a2), "top-up amount");
  EXPECT_EQ(state(), now);

  // Reversals.
  const v1::ReverseRedemptionRequest rev =
      w.ReverseBody("replay-rev-1", first.entry().entry_id(), true);
  v1::Redemption r1, r2;
  ASSERT_TRUE(w.Reverse(rev, &r1).ok());
  now = state();
  ASSERT_TRUE(w.Reverse(rev, &r2).ok());
  EXPECT_TRUE(r2.replayed());
  EXPECT_EQ(WrittenEntry(r2.entry()), WrittenEntry(r1.entry()));
  EXPECT_EQ(r2.balance().balance(), r1.balance().balance());
  EXPECT_EQ(r2.remaining_stock(), r1.remaining_stock());
  EXPECT_EQ(state(), now);
  v1::ReverseRedemptionRequest rev_changed = rev;
  rev_changed.set_restock(false);
  refused_naming_request_id(w.Reverse(rev_changed, &r2), "restock");
  EXPECT_EQ(state(), now);

  // A key is one call: the same key on another method is another body.
  now = state();
  refused_naming_request_id(w.Adjust(w.AdjustBody(rr.request_id(), v, 2), &a2),
                            "a redemption's key on an adjustment");
  refused_naming_request_id(
      w.Reverse(w.ReverseBody(adj.request_id(), first.entry().entry_id(), true), &r2),
      "an adjustment's key on a reversal");
  EXPECT_EQ(state(), now);
  EXPECT_THAT(w.Audit({"fund", vol, VolunteerAccount(other), KioskAccount("k1")}), IsEmpty());
}

// ---------------------------------------------------------------------------------
// Roles and scope

TEST_F(PointsE2ETest, AKioskActsOnlyAtItsOwnKiosk) {
  PointsWorld w = World("scope");
  v1::CatalogItem item;
  ASSERT_TRUE(w.Upsert(w.Item("k1", "bread", 5, 20), &item).ok());
  ASSERT_TRUE(w.Upsert(w.Item("k2", "milk", 5, 20), &item).ok());
  const std::string v = w.Volunteer();
  const std::string vol = VolunteerAccount(v);
  ASSERT_GT(w.TopUp(1000), 0);
  ASSERT_EQ(w.Give(v, 100), 100);
  const std::string k1 = w.Token(v1::ROLE_KIOSK, "k1");
  ASSERT_FALSE(k1.empty());
  const size_t entries = w.Entries().size();

  // Redeeming: at its own kiosk only.
  v1::Redemption own, theirs, out;
  grpc::Status s = w.Redeem(w.RedeemBody("scope-red-1", v, "k1", "bread"), &own, k1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = w.Redeem(w.RedeemBody("scope-red-2", v, "k2", "milk"), &out, k1);
  EXPECT_EQ(s.error_code(), Code::PERMISSION_DENIED) << s.error_message();
  // Reversing: its own kiosk's redemptions only.
  ASSERT_TRUE(w.Redeem(w.RedeemBody("scope-red-3", v, "k2", "milk"), &theirs).ok());
  s = w.Reverse(w.ReverseBody("scope-rev-1", theirs.entry().entry_id(), true), &out, k1);
  EXPECT_EQ(s.error_code(), Code::PERMISSION_DENIED) << s.error_message();
  s = w.Reverse(w.ReverseBody("scope-rev-2", own.entry().entry_id(), true), &out, k1);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // No adjustments, no top-ups, no catalog edits.
  v1::AdjustPointsResponse adj;
  EXPECT_EQ(w.Adjust(w.AdjustBody("scope-adj-1", v, 5), &adj, k1).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(w.Adjust(w.TopUpBody("scope-top-1", 5), &adj, k1).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(w.Upsert(w.Item("k1", "bread", 6, 20), &item, {}, 0, k1).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(w.Stock("k1", "bread"), 20);
  EXPECT_EQ(w.Entries().size(), entries + 3);

  // Balances: the district's volunteers and itself.
  v1::Balance b;
  EXPECT_TRUE(w.GetBalance(vol, &b, k1).ok());
  EXPECT_EQ(b.balance(), 95);
  ASSERT_TRUE(w.GetBalance("", &b, k1).ok()) << "a KIOSK token defaults to its kiosk";
  EXPECT_EQ(b.account(), KioskAccount("k1"));
  EXPECT_TRUE(w.GetBalance(KioskAccount("k1"), &b, k1).ok());
  EXPECT_EQ(w.GetBalance(KioskAccount("k2"), &b, k1).error_code(), Code::PERMISSION_DENIED);
  EXPECT_EQ(w.GetBalance("fund", &b, k1).error_code(), Code::PERMISSION_DENIED);
  // The ledger: its own account.
  v1::ListLedgerRequest lr;
  lr.set_account(KioskAccount("k1"));
  std::vector<v1::LedgerEntry> seen;
  ASSERT_TRUE(w.Ledger(lr, &seen, k1).ok());
  EXPECT_THAT(Kinds(seen), ElementsAre(v1::LEDGER_REVERSAL, v1::LEDGER_REDEEM));
  lr.set_account(vol);
  EXPECT_EQ(w.Ledger(lr, &seen, k1).error_code(), Code::PERMISSION_DENIED);
  lr.set_account(KioskAccount("k2"));
  EXPECT_EQ(w.Ledger(lr, &seen, k1).error_code(), Code::PERMISSION_DENIED);
  lr.set_account("");
  s = w.Ledger(lr, &seen, k1);
  if (s.ok()) {
    for (const v1::LedgerEntry& e : seen) {
      EXPECT_TRUE(e.from_account() == KioskAccount("k1") || e.to_account() == KioskAccount("k1"))
          << "a kiosk listing the whole ledger sees " << e.ShortDebugString();
    }
  } else {
    EXPECT_EQ(s.error_code(), Code::PERMISSION_DENIED) << s.error_message();
  }
  // The catalog: its own kiosk by default.
  EXPECT_THAT(ItemIds(w.Catalog("", false, k1)), ElementsAre("bread"));

  // A kiosk of another district cannot act here, even under the same kiosk id.
  const std::string elsewhere =
      MakeToken(w.dispatch().channel(), w.admin(), v1::ROLE_KIOSK, "elsewhere", "k1");
  ASSERT_FALSE(elsewhere.empty());
  s = w.Redeem(w.RedeemBody("scope-red-4", v, "k1", "bread"), &out, elsewhere);
  EXPECT_EQ(s.error_code(), Code::PERMISSION_DENIED) << s.error_message();

  // Operators redeem and reverse anywhere in their district, but neither adjust nor
  // edit catalogs.
  const std::string op = w.Token(v1::ROLE_OPERATOR);
  s = w.Redeem(w.RedeemBody("scope-red-5", v, "k2", "milk"), &out, op);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = w.Reverse(w.ReverseBody("scope-rev-3", theirs.entry().entry_id(), false), &out, op);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(w.Adjust(w.AdjustBody("scope-adj-2", v, 5), &adj, op).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(w.Upsert(w.Item("k1", "bread", 6, 20), &item, {}, 0, op).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_TRUE(w.GetBalance("fund", &b, op).ok());
  // Calls are limited to the caller's district.
  v1::GetBalanceRequest away;
  away.set_district("elsewhere");
  away.set_account("fund");
  EXPECT_EQ(w.Points()->GetBalance(Ctx(op).get(), away, &b).error_code(), Code::PERMISSION_DENIED);
  v1::RedeemRequest away_redeem = w.RedeemBody("scope-red-7", v, "k1", "bread");
  away_redeem.set_district("elsewhere");
  EXPECT_EQ(w.Redeem(away_redeem, &out, op).error_code(), Code::PERMISSION_DENIED);

  // Intake and resident apps: the catalog only.
  for (v1::Role role : {v1::ROLE_INTAKE, v1::ROLE_RESIDENT_APP}) {
    const std::string t = w.Token(role);
    EXPECT_EQ(w.Redeem(w.RedeemBody("scope-red-6", v, "k1", "bread"), &out, t).error_code(),
              Code::PERMISSION_DENIED)
        << v1::Role_Name(role);
    EXPECT_EQ(w.GetBalance(vol, &b, t).error_code(), Code::PERMISSION_DENIED)
        << v1::Role_Name(role);
    EXPECT_THAT(ItemIds(w.Catalog("k1", false, t)), ElementsAre("bread")) << v1::Role_Name(role);
  }
  // No credentials.
  v1::GetBalanceRequest get;
  get.set_district("scope");
  get.set_account("fund");
  EXPECT_EQ(w.Points()->GetBalance(Ctx("").get(), get, &b).error_code(), Code::UNAUTHENTICATED);
  EXPECT_EQ(w.Points()->GetBalance(Ctx("not-a-token").get(), get, &b).error_code(),
            Code::UNAUTHENTICATED);
  EXPECT_THAT(w.Audit({"fund", vol, KioskAccount("k1"), KioskAccount("k2")}), IsEmpty());
}

TEST_F(PointsE2ETest, AVolunteerAppSeesOnlyItsOwnAccount) {
  PointsWorld w = World("selfie");
  v1::CatalogItem item;
  ASSERT_TRUE(w.Upsert(w.Item("k1", "pen", 5, 20), &item).ok());
  const std::string v = w.Volunteer(), other = w.Volunteer();
  const std::string vol = VolunteerAccount(v);
  ASSERT_GT(w.TopUp(1000), 0);
  ASSERT_EQ(w.Give(v, 30), 30);
  ASSERT_EQ(w.Give(other, 40), 40);
  const std::string app = w.Token(v1::ROLE_VOLUNTEER_APP, "", v);
  ASSERT_FALSE(app.empty());

  v1::Balance b;
  ASSERT_TRUE(w.GetBalance("", &b, app).ok()) << "a bound token defaults to its volunteer";
  EXPECT_EQ(b.account(), vol);
  EXPECT_EQ(b.balance(), 30);
  EXPECT_TRUE(w.GetBalance(vol, &b, app).ok());
  EXPECT_EQ(w.GetBalance(VolunteerAccount(other), &b, app).error_code(), Code::PERMISSION_DENIED);
  EXPECT_EQ(w.GetBalance("fund", &b, app).error_code(), Code::PERMISSION_DENIED);
  EXPECT_EQ(w.GetBalance(KioskAccount("k1"), &b, app).error_code(), Code::PERMISSION_DENIED);

  v1::ListLedgerRequest lr;
  lr.set_account(vol);
  std::vector<v1::LedgerEntry> seen;
  ASSERT_TRUE(w.Ledger(lr, &seen, app).ok());
  ASSERT_THAT(seen, SizeIs(1));
  EXPECT_EQ(seen[0].to_account(), vol);
  lr.set_account(VolunteerAccount(other));
  EXPECT_EQ(w.Ledger(lr, &seen, app).error_code(), Code::PERMISSION_DENIED);
  lr.set_account("fund");
  EXPECT_EQ(w.Ledger(lr, &seen, app).error_code(), Code::PERMISSION_DENIED);
  lr.set_account("");
  grpc::Status s = w.Ledger(lr, &seen, app);
  if (s.ok()) {
    for (const v1::LedgerEntry& e : seen) {
      EXPECT_TRUE(e.from_account() == vol || e.to_account() == vol)
          << "a volunteer listing the whole ledger sees " << e.ShortDebugString();
    }
  } else {
    EXPECT_EQ(s.error_code(), Code::PERMISSION_DENIED) << s.error_message();
  }

  // No writes.
  const size_t entries = w.Entries().size();
  v1::Redemption red;
  EXPECT_EQ(w.Redeem(w.RedeemBody("selfie-red-1", v, "k1", "pen"), &red, app).error_code(),
            Code::PERMISSION_DENIED);
  v1::AdjustPointsResponse adj;
  EXPECT_EQ(w.Adjust(w.AdjustBody("selfie-adj-1", v, 5), &adj, app).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(w.Upsert(w.Item("k1", "pen", 1, 20), &item, {}, 0, app).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(w.Entries().size(), entries);
  // The catalog is for every role.
  EXPECT_THAT(ItemIds(w.Catalog("k1", false, app)), ElementsAre("pen"));
}

TEST_F(PointsE2ETest, BadInputIsRefusedNamingTheFieldAndWritesNothing) {
  PointsWorld w = World("badin");
  v1::CatalogItem item;
  ASSERT_TRUE(w.Upsert(w.Item("k1", "pen", 5, 20), &item).ok());
  const std::string v = w.Volunteer();
  ASSERT_GT(w.TopUp(1000), 0);
  ASSERT_EQ(w.Give(v, 100), 100);
  v1::Redemption red;
  ASSERT_TRUE(w.Redeem(w.RedeemBody("badin-red-0", v, "k1", "pen"), &red).ok());
  const std::string entry = red.entry().entry_id();

  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    std::string field;
  };
  auto redeem = [&](std::function<void(v1::RedeemRequest&)> f) {
    return [&w, &v, f] {
      v1::RedeemRequest r = w.RedeemBody("badin-red-1", v, "k1", "pen");
      f(r);
      v1::Redemption out;
      return w.Redeem(r, &out);
    };
  };
  auto adjust = [&](std::function<void(v1::AdjustPointsRequest&)> f) {
    return [&w, &v, f] {
      v1::AdjustPointsRequest r = w.AdjustBody("badin-adj-1", v, 5);
      f(r);
      v1::AdjustPointsResponse out;
      return w.Adjust(r, &out);
    };
  };
  auto top_up = [&](std::function<void(v1::AdjustPointsRequest&)> f) {
    return [&w, f] {
      v1::AdjustPointsRequest r = w.TopUpBody("badin-top-1", 5);
      f(r);
      v1::AdjustPointsResponse out;
      return w.Adjust(r, &out);
    };
  };
  auto reverse = [&](std::function<void(v1::ReverseRedemptionRequest&)> f) {
    return [&w, entry, f] {
      v1::ReverseRedemptionRequest r = w.ReverseBody("badin-rev-1", entry, true);
      f(r);
      v1::Redemption out;
      return w.Reverse(r, &out);
    };
  };
  auto balance = [&](const std::string& account) {
    return [&w, account] {
      v1::Balance out;
      return w.GetBalance(account, &out);
    };
  };
  auto ledger = [&](std::function<void(v1::ListLedgerRequest&)> f) {
    return [&w, f] {
      v1::ListLedgerRequest r;
      r.set_district(w.district());
      f(r);
      v1::ListLedgerResponse out;
      return w.Points()->ListLedger(Ctx(w.admin()).get(), r, &out);
    };
  };
  auto upsert = [&](std::function<void(v1::CatalogItem&)> f, std::vector<std::string> mask = {},
                    int64_t delta = 0) {
    return [&w, f, mask, delta] {
      v1::CatalogItem c = w.Item("k1", "pen", 5, 20);
      f(c);
      v1::CatalogItem out;
      return w.Upsert(c, &out, mask, delta);
    };
  };
  auto none = [](auto&) {};
  const std::vector<Case> cases = {
      {"quantity 0", redeem([](auto& r) { r.set_quantity(0); }), "quantity"},
      {"quantity 100", redeem([](auto& r) { r.set_quantity(100); }), "quantity"},
      {"quantity negative", redeem([](auto& r) { r.set_quantity(-1); }), "quantity"},
      {"request_id missing", redeem([](auto& r) { r.clear_request_id(); }), "request_id"},
      {"request_id short", redeem([](auto& r) { r.set_request_id("abc1234"); }), "request_id"},
      {"request_id space", redeem([](auto& r) { r.set_request_id("abc def 123"); }), "request_id"},
      {"request_id long", redeem([](auto& r) { r.set_request_id(std::string(65, 'a')); }),
       "request_id"},
      {"volunteer missing", redeem([](auto& r) { r.clear_volunteer_id(); }), "volunteer_id"},
      {"kiosk missing", redeem([](auto& r) { r.clear_kiosk_id(); }), "kiosk_id"},
      {"item missing", redeem([](auto& r) { r.clear_item_id(); }), "item_id"},
      {"delta 0", adjust([](auto& r) { r.set_delta(0); }), "delta"},
      {"delta too big", adjust([](auto& r) { r.set_delta(1000001); }), "delta"},
      {"delta too small", adjust([](auto& r) { r.set_delta(-1000001); }), "delta"},
      {"adjust reason missing", adjust([](auto& r) { r.clear_reason(); }), "reason"},
      {"adjust reason long", adjust([](auto& r) { r.set_reason(std::string(501, 'r')); }),
       "reason"},
      {"adjust volunteer missing", adjust([](auto& r) { r.clear_volunteer_id(); }), "volunteer_id"},
      {"adjust request_id bad", adjust([](auto& r) { r.set_request_id("bad id!!"); }),
       "request_id"},
      {"top-up with volunteer", top_up([&](auto& r) { r.set_volunteer_id(v); }), "volunteer_id"},
      {"top-up negative", top_up([](auto& r) { r.set_delta(-5); }), "delta"},
      {"top-up reason missing", top_up([](auto& r) { r.clear_reason(); }), "reason"},
      {"reverse reason missing", reverse([](auto& r) { r.clear_reason(); }), "reason"},
      {"reverse reason long", reverse([](auto& r) { r.set_reason(std::string(501, 'r')); }),
       "reason"},
      {"reverse entry missing", reverse([](auto& r) { r.clear_entry_id(); }), "entry_id"},
      {"reverse request_id bad", reverse([](auto& r) { r.set_request_id("x"); }), "request_id"},
      {"account bogus", balance("bogus"), "account"},
      {"account volunteer without id", balance("volunteer:"), "account"},
      {"account kiosk without id", balance("kiosk:"), "account"},
      {"account fund with id", balance("fund:x"), "account"},
      {"account missing (admin)", balance(""), "account"},
      {"ledger account bogus", ledger([](auto& r) { r.set_account("bogus:1"); }), "account"},
      {"ledger page token", ledger([](auto& r) { r.set_page_token("garbage"); }), "page_token"},
      {"ledger page size", ledger([](auto& r) { r.set_page_size(-1); }), "page_size"},
      {"price 0", upsert([](auto& c) { c.set_price_points(0); }), "item.price_points"},
      {"price too big", upsert([](auto& c) { c.set_price_points(1000001); }), "item.price_points"},
      {"name missing", upsert([](auto& c) { c.clear_name(); }), "item.name"},
      {"name long", upsert([](auto& c) { c.set_name(std::string(65, 'n')); }), "item.name"},
      {"description long", upsert([](auto& c) { c.set_description(std::string(501, 'd')); }),
       "item.description"},
      {"item id missing", upsert([](auto& c) { c.clear_item_id(); }), "item.item_id"},
      {"item id bad", upsert([](auto& c) { c.set_item_id("pen 2"); }), "item.item_id"},
      {"kiosk id missing", upsert([](auto& c) { c.clear_kiosk_id(); }), "item.kiosk_id"},
      {"stock negative", upsert([](auto& c) { c.set_stock(-1); }), "item.stock"},
      {"mask output only", upsert(none, {"create_time_ms"}), "update_mask"},
      {"mask district", upsert(none, {"district"}), "update_mask"},
      {"mask immutable", upsert(none, {"item_id"}), "update_mask"},
      {"mask unknown", upsert(none, {"colour"}), "update_mask"},
  };
  const size_t entries = w.Entries().size();
  const std::string catalog = w.Catalog("k1")[0].ShortDebugString();
  for (const Case& c : cases) {
    grpc::Status s = c.call();
    EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT) << c.name << ": " << s.error_message();
    EXPECT_THAT(BadFields(s), Contains(c.field)) << c.name << ": " << s.error_message();
  }
  // stock together with stock_delta.
  grpc::Status s = upsert(none, {"stock"}, 3)();
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(BadFields(s), AnyOf(Contains("stock_delta"), Contains("update_mask")))
      << s.error_message();

  EXPECT_EQ(w.Entries().size(), entries);
  EXPECT_THAT(w.Catalog("k1"), SizeIs(1));
  EXPECT_EQ(w.Catalog("k1")[0].ShortDebugString(), catalog);
}

// ---------------------------------------------------------------------------------
// Listing

TEST_F(PointsE2ETest, TheLedgerPagesNewestFirstAndFilters) {
  PointsWorld w = World("pages");
  v1::CatalogItem item;
  ASSERT_TRUE(w.Upsert(w.Item("k1", "jam", 3, 100), &item).ok());
  const std::string a = w.Volunteer(), b = w.Volunteer();
  ASSERT_GT(w.TopUp(500), 0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_GT(w.Give(a, i + 1), 0);
    ASSERT_GT(w.Give(b, 2), 0);
  }
  v1::Redemption red;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w.Redeem(w.RedeemBody(NewRequestId("pages-red"), a, "k1", "jam"), &red).ok());
  }
  ASSERT_GT(w.TopUp(50), 0);
  ASSERT_GE(w.Give(b, -1), 0);

  const std::vector<v1::LedgerEntry> all = w.Entries();
  ASSERT_THAT(all, SizeIs(16));
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GT(EntryNumber(all[i - 1].entry_id()), EntryNumber(all[i].entry_id()));
    EXPECT_GE(all[i - 1].time_ms(), all[i].time_ms());
  }

  // Pages of 5 give the same entries in the same order.
  auto paged = [&](v1::ListLedgerRequest req, int page_size, int* pages) {
    req.set_page_size(page_size);
    std::vector<v1::LedgerEntry> out;
    grpc::Status s = w.Ledger(req, &out, "", pages);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return Ids(out);
  };
  int pages = 0;
  EXPECT_THAT(paged({}, 5, &pages), ElementsAreArray(Ids(all)));
  EXPECT_GE(pages, 4);
  // 0 means 50: everything in one page.
  EXPECT_THAT(paged({}, 0, &pages), ElementsAreArray(Ids(all)));
  EXPECT_EQ(pages, 1);

  // Kinds.
  v1::ListLedgerRequest redeems;
  redeems.add_kinds(v1::LEDGER_REDEEM);
  EXPECT_THAT(
      paged(redeems, 2, &pages),
      ElementsAreArray(IdsWhere(all, [](const auto& e) { return e.kind() == v1::LEDGER_REDEEM; })));
  EXPECT_GE(pages, 2);
  v1::ListLedgerRequest money;
  money.add_kinds(v1::LEDGER_ADJUST);
  money.add_kinds(v1::LEDGER_FUND);
  EXPECT_THAT(paged(money, 4, &pages), ElementsAreArray(IdsWhere(all, [](const auto& e) {
                return e.kind() == v1::LEDGER_ADJUST || e.kind() == v1::LEDGER_FUND;
              })));
  // An account, and an account with kinds.
  const std::string va = VolunteerAccount(a);
  v1::ListLedgerRequest of_a;
  of_a.set_account(va);
  EXPECT_THAT(paged(of_a, 3, &pages), ElementsAreArray(IdsWhere(all, [&](const auto& e) {
                return e.from_account() == va || e.to_account() == va;
              })));
  EXPECT_GE(pages, 3);
  of_a.add_kinds(v1::LEDGER_ADJUST);
  EXPECT_THAT(paged(of_a, 2, &pages), ElementsAreArray(IdsWhere(all, [&](const auto& e) {
                return (e.from_account() == va || e.to_account() == va) &&
                       e.kind() == v1::LEDGER_ADJUST;
              })));
  // A time range: [start, end).
  const int64_t start = all[12].time_ms(), end = all[3].time_ms();
  v1::ListLedgerRequest range;
  range.set_start_ms(start);
  range.set_end_ms(end);
  EXPECT_THAT(paged(range, 3, &pages), ElementsAreArray(IdsWhere(all, [&](const auto& e) {
                return e.time_ms() >= start && e.time_ms() < end;
              })));

  // A page token belongs to its filters.
  v1::ListLedgerRequest first;
  first.set_district(w.district());
  first.set_page_size(2);
  first.add_kinds(v1::LEDGER_ADJUST);
  v1::ListLedgerResponse resp;
  ASSERT_TRUE(w.Points()->ListLedger(Ctx(w.admin()).get(), first, &resp).ok());
  ASSERT_FALSE(resp.next_page_token().empty());
  first.clear_kinds();
  first.add_kinds(v1::LEDGER_REDEEM);
  first.set_page_token(resp.next_page_token());
  grpc::Status s = w.Points()->ListLedger(Ctx(w.admin()).get(), first, &resp);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(BadFields(s), Contains("page_token"));
}

TEST_F(PointsE2ETest, TheCatalogListsByItemIdInPagesAndHidesInactiveItems) {
  PointsWorld w = World("shelf");
  const std::vector<std::string> ids = {"item-05", "item-01", "item-04",
                                        "item-02", "item-03", "item-06"};
  v1::CatalogItem out;
  for (const std::string& id : ids) {
    bool active = id != "item-02" && id != "item-06";
    grpc::Status s = w.Upsert(w.Item("shop", id, 10, 5, active), &out);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
  }
  auto paged = [&](bool include_inactive, const std::string& kiosk, const std::string& token,
                   int* pages) {
    v1::ListCatalogRequest req;
    req.set_district(w.district());
    req.set_kiosk_id(kiosk);
    req.set_include_inactive(include_inactive);
    req.set_page_size(2);
    std::vector<std::string> seen;
    for (*pages = 0; *pages < 20;) {
      v1::ListCatalogResponse resp;
      grpc::Status s =
          w.Points()->ListCatalog(Ctx(token.empty() ? w.admin() : token).get(), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      ++*pages;
      EXPECT_LE(resp.items_size(), 2);
      for (const v1::CatalogItem& c : resp.items()) seen.push_back(c.item_id());
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return seen;
  };
  int pages = 0;
  EXPECT_THAT(paged(false, "shop", "", &pages),
              ElementsAre("item-01", "item-03", "item-04", "item-05"));
  EXPECT_GE(pages, 2);
  EXPECT_THAT(paged(true, "shop", "", &pages),
              ElementsAre("item-01", "item-02", "item-03", "item-04", "item-05", "item-06"));
  EXPECT_GE(pages, 3);
  const std::string kiosk = w.Token(v1::ROLE_KIOSK, "shop");
  EXPECT_THAT(paged(false, "", kiosk, &pages),
              ElementsAre("item-01", "item-03", "item-04", "item-05"));
  EXPECT_THAT(paged(true, "", kiosk, &pages), SizeIs(6));

  // An update changes only the fields named.
  std::vector<v1::CatalogItem> before = w.Catalog("shop");
  ASSERT_EQ(before[0].item_id(), "item-01");
  v1::CatalogItem rename = w.Item("shop", "item-01", 999, 0);
  rename.set_name("Renamed");
  grpc::Status s = w.Upsert(rename, &out, {"name"});
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.name(), "Renamed");
  EXPECT_EQ(out.price_points(), before[0].price_points());
  EXPECT_EQ(out.stock(), before[0].stock());
  EXPECT_EQ(out.create_time_ms(), before[0].create_time_ms());
  EXPECT_GE(out.update_time_ms(), before[0].update_time_ms());
  EXPECT_EQ(w.Catalog("shop")[0].ShortDebugString(), out.ShortDebugString());

  // stock_delta adds to the stock; a result below zero is refused.
  v1::CatalogItem same = out;
  s = w.Upsert(same, &out, {"name"}, 7);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.stock(), before[0].stock() + 7);
  s = w.Upsert(same, &out, {"name"}, -(before[0].stock() + 8));
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(ErrorReason(s), "OUT_OF_STOCK");
  EXPECT_EQ(w.Stock("shop", "item-01"), before[0].stock() + 7);

  // A delivery: stock_delta with an empty update_mask changes only the stock (the item
  // sent with it is ignored) and cannot create an item.
  v1::CatalogItem delivery = w.Item("shop", "item-01", 1, 0);
  delivery.set_name("Ignored");
  s = w.Upsert(delivery, &out, {}, 3);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.stock(), before[0].stock() + 10);
  EXPECT_EQ(out.name(), "Renamed");
  EXPECT_EQ(out.price_points(), before[0].price_points());
  s = w.Upsert(w.Item("shop", "item-99", 10, 0), &out, {}, 3);
  EXPECT_EQ(s.error_code(), Code::NOT_FOUND) << s.error_message();

  // Reactivated, an item is listed again.
  v1::CatalogItem on = w.Item("shop", "item-02", 10, 5);
  ASSERT_TRUE(w.Upsert(on, &out, {"active"}).ok());
  EXPECT_THAT(paged(false, "shop", "", &pages),
              ElementsAre("item-01", "item-02", "item-03", "item-04", "item-05"));

  // Creating needs every field: an empty update_mask.
  s = w.Upsert(w.Item("shop", "item-07", 10, 5), &out, {"name"});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(paged(true, "shop", "", &pages), SizeIs(6));

  // An unknown kiosk.
  v1::ListCatalogRequest unknown;
  unknown.set_district(w.district());
  unknown.set_kiosk_id("nowhere");
  v1::ListCatalogResponse resp;
  EXPECT_EQ(w.Points()->ListCatalog(Ctx(w.admin()).get(), unknown, &resp).error_code(),
            Code::NOT_FOUND);
}

}  // namespace
}  // namespace yiyuan::testing
