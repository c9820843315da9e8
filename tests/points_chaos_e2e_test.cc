// PointsService under concurrency and faults: two real dispatchd processes sharing one
// real redis-server, real gRPC, a real SIGKILL of redis-server mid-load. The books are
// audited through the API (PointsWorld::Audit) whenever the district is at rest:
// between rounds of operations and at the end. Nothing waits a fixed time: every wait
// is for a condition, with a deadline.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/client.h"
#include "tests/testing/dispatch_world.h"
#include "tests/testing/points_world.h"
#include "tests/testing/processes.h"

namespace yiyuan::testing {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;

using Code = grpc::StatusCode;

// POINTS_SEED=<n> replays another seed.
uint32_t Seed() {
  uint32_t seed = 0;
  if (const char* s = getenv("POINTS_SEED"); s != nullptr && absl::SimpleAtoi(s, &seed)) {
    return seed;
  }
  return 20260611;
}

// Two instances on `c`'s Redis and a world of `district` on each (fewer on failure, a
// test failure).
std::vector<PointsWorld> TwoInstances(PointsCluster& c, const std::string& district) {
  std::vector<PointsWorld> worlds;
  for (const char* name : {"-a", "-b"}) {
    std::string log;
    Dispatchd* d = c.Start(district + name, &log);
    if (d == nullptr) {
      ADD_FAILURE() << "dispatchd did not start:\n" << log;
      return worlds;
    }
    worlds.push_back(c.World(d, district));
  }
  return worlds;
}

bool Retryable(const grpc::Status& s) {
  return s.error_code() == Code::UNAVAILABLE || s.error_code() == Code::DEADLINE_EXCEEDED;
}

// ---------------------------------------------------------------------------------
// 1. The last units of an item, sold to a crowd.

// 100 concurrent redemptions of the last 3 units through two instances, by volunteers
// who can pay for many, for exactly one, or for none: exactly 3 go through, three
// times over (restocked in between).
TEST(PointsChaosTest, ConcurrentRedemptionsOfTheLastUnitsSellExactlyThoseUnits) {
  PointsCluster c({});
  std::vector<PointsWorld> worlds = TwoInstances(c, "last");
  ASSERT_EQ(worlds.size(), 2u);
  const PointsWorld& w = worlds[0];
  constexpr int64_t kPrice = 20;
  constexpr int kLast = 3, kVolunteers = 10, kCalls = 100, kRounds = 3;
  v1::CatalogItem item;
  grpc::Status s = w.Upsert(w.Item("shop", "oil", kPrice, kLast), &item);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GT(w.TopUp(100000), 0);
  std::vector<std::string> vols, accounts = {"fund", KioskAccount("shop")};
  for (int i = 0; i < kVolunteers; ++i) {
    vols.push_back(w.Volunteer());
    ASSERT_FALSE(vols.back().empty());
    accounts.push_back(VolunteerAccount(vols.back()));
    // Four who can pay for ten units, four for exactly one, two short of one.
    const int64_t points = i < 4 ? 10 * kPrice : i < 8 ? kPrice : kPrice - 1;
    ASSERT_EQ(w.Give(vols.back(), points), points);
  }
  const std::string kiosk = w.Token(v1::ROLE_KIOSK, "shop");
  ASSERT_FALSE(kiosk.empty());

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    if (round > 0) {
      v1::CatalogItem restocked;
      s = w.Upsert(w.Item("shop", "oil", kPrice, 0), &restocked, {"name"}, kLast);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    ASSERT_EQ(w.Stock("shop", "oil"), kLast);
    std::map<std::string, int64_t> before;
    for (const std::string& v : vols) before[v] = w.Balance(VolunteerAccount(v)).balance();
    const int64_t kiosk_before = w.Balance(KioskAccount("shop")).balance();

    std::vector<grpc::Status> status(kCalls);
    std::vector<v1::Redemption> receipt(kCalls);
    std::vector<std::string> who(kCalls);
    absl::Notification go;
    std::vector<std::thread> threads;
    for (int i = 0; i < kCalls; ++i) {
      who[i] = vols[(i * 7 + round) % kVolunteers];
      threads.emplace_back([&, i] {
        const PointsWorld& at = worlds[i % 2];
        v1::RedeemRequest req =
            at.RedeemBody(absl::StrCat("last-", round, "-", i, "-x"), who[i], "shop", "oil");
        go.WaitForNotification();
        status[i] = at.Redeem(req, &receipt[i], i % 3 == 0 ? kiosk : "");
      });
    }
    go.Notify();
    for (std::thread& t : threads) t.join();

    int ok = 0;
    std::map<std::string, int64_t> sold;
    std::set<int64_t> left;
    std::set<std::string> entries;
    for (int i = 0; i < kCalls; ++i) {
      if (!status[i].ok()) {
        EXPECT_EQ(status[i].error_code(), Code::FAILED_PRECONDITION)
            << i << ": " << status[i].error_message();
        continue;
      }
      ++ok;
      ++sold[who[i]];
      left.insert(receipt[i].remaining_stock());
      entries.insert(receipt[i].entry().entry_id());
      EXPECT_FALSE(receipt[i].replayed());
      EXPECT_GE(receipt[i].balance().balance(), 0);
    }
    EXPECT_EQ(ok, kLast);
    std::set<int64_t> want_left;
    for (int i = 0; i < kLast; ++i) want_left.insert(i);
    EXPECT_EQ(left, want_left) << "each sale left one unit fewer";
    EXPECT_EQ(static_cast<int>(entries.size()), ok);
    EXPECT_EQ(w.Stock("shop", "oil"), 0);
    EXPECT_EQ(w.Balance(KioskAccount("shop")).balance(), kiosk_before + kLast * kPrice);
    for (const std::string& v : vols) {
      const int64_t after = w.Balance(VolunteerAccount(v)).balance();
      EXPECT_EQ(after, before[v] - sold[v] * kPrice) << v;
      EXPECT_GE(after, 0) << v;
    }
    std::vector<std::string> bad = w.Audit(accounts);
    EXPECT_THAT(bad, IsEmpty()) << FirstLines(bad);
  }
}

// ---------------------------------------------------------------------------------
// 2. Seeded random operations.

// A kiosk item, what it started with and how its stock was moved by acknowledged calls.
struct Shelf {
  std::string kiosk, item;
  int64_t price = 0, initial = 0;
};

// A first answer, kept to be replayed.
struct Answer {
  enum Kind { kRedeem, kReverse, kAdjust } kind = kRedeem;
  v1::RedeemRequest redeem;
  v1::ReverseRedemptionRequest reverse;
  v1::AdjustPointsRequest adjust;
  std::string entry;  // WrittenEntry() of the entry.
  std::string entry_id;
  int64_t balance = 0;
  int64_t remaining_stock = 0;
};

// A completed assignment of a volunteer, and what the rule says it earns.
struct Earning {
  std::string request_id, volunteer;
  int minutes = 0;
  int64_t amount = 0;
  bool waited = false;  // The fund could not pay it at completion.
};

// Drives one district with random points operations from several threads over two
// instances, remembering every acknowledged write so that the books can be checked
// against it at rest.
class RandomPoints {
 public:
  RandomPoints(std::vector<PointsWorld> worlds, std::vector<std::string> volunteers,
               std::vector<Shelf> shelves, PointsRule rule)
      : worlds_(std::move(worlds)),
        volunteers_(std::move(volunteers)),
        shelves_(std::move(shelves)),
        rule_(rule) {
    accounts_ = {"fund"};
    for (const std::string& v : volunteers_) accounts_.push_back(VolunteerAccount(v));
    for (const Shelf& s : shelves_) {
      if (std::find(accounts_.begin(), accounts_.end(), KioskAccount(s.kiosk)) == accounts_.end()) {
        accounts_.push_back(KioskAccount(s.kiosk));
      }
    }
  }

  void Run(uint32_t seed, int ops) {
    std::mt19937 rng(seed);
    for (int i = 0; i < ops; ++i) {
      PointsWorld& w = worlds_[rng() % worlds_.size()];
      const int dice = static_cast<int>(rng() % 100);
      if (dice < 7) {
        Earn(w, rng);
      } else if (dice < 37) {
        Redeem(w, rng);
      } else if (dice < 45) {
        Reverse(w, rng);
      } else if (dice < 57) {
        Adjust(w, rng);
      } else if (dice < 60) {
        TopUp(w, rng);
      } else if (dice < 72) {
        ReplaySame(w, rng);
      } else if (dice < 78) {
        ReplayDifferent(w, rng);
      } else if (dice < 84) {
        StockDelta(w, rng);
      } else if (dice < 89) {
        CompleteAgain(w, rng);
      } else {
        Look(w, rng);
      }
    }
  }

  // Checks the books against what was acknowledged; one line per violation. Call at
  // rest. Stock of every item = initial + deltas + restocks − Σ REDEEM quantities;
  // every earning has at most one EARN entry, of the rule's amount, and those without
  // one are exactly what the fund holds as pending; every first answer's entry is in
  // the ledger as it was returned.
  std::vector<std::string> Check(const PointsWorld& w) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> bad;
    const std::vector<v1::LedgerEntry> all = w.Entries();
    absl::flat_hash_map<std::string, const v1::LedgerEntry*> by_id;
    std::map<std::pair<std::string, std::string>, int64_t> redeemed;
    std::map<std::string, std::vector<const v1::LedgerEntry*>> earned;
    for (const v1::LedgerEntry& e : all) {
      by_id[e.entry_id()] = &e;
      if (e.kind() == v1::LEDGER_REDEEM) {
        redeemed[{e.to_account().substr(6), e.item_id()}] += e.quantity();
      }
      if (e.kind() == v1::LEDGER_EARN) earned[e.request_id()].push_back(&e);
    }
    for (size_t i = 0; i < shelves_.size(); ++i) {
      const Shelf& s = shelves_[i];
      const int64_t want = s.initial + deltas_[i] + restocked_[i] - redeemed[{s.kiosk, s.item}];
      const int64_t got = w.Stock(s.kiosk, s.item);
      if (got != want || got < 0) {
        bad.push_back(absl::StrCat(s.kiosk, "/", s.item, ": stock ", got, ", want ", s.initial,
                                   " + ", deltas_[i], " + ", restocked_[i], " restocked - ",
                                   redeemed[{s.kiosk, s.item}], " redeemed = ", want));
      }
    }
    int64_t waiting = 0;
    paid_after_waiting_ = 0;
    for (const Earning& e : earnings_) {
      auto it = earned.find(e.request_id);
      if (it == earned.end()) {
        waiting += e.amount;
        continue;
      }
      if (e.waited) ++paid_after_waiting_;
      const std::vector<const v1::LedgerEntry*>& got = it->second;
      if (got.size() != 1 || got[0]->amount() != e.amount ||
          got[0]->to_account() != VolunteerAccount(e.volunteer)) {
        bad.push_back(absl::StrCat("earning ", e.request_id, " of ", e.volunteer, " (", e.amount,
                                   "): ", got.size(), " EARN entries, the first ",
                                   got[0]->ShortDebugString()));
      }
    }
    absl::flat_hash_set<std::string> completed;
    for (const Earning& e : earnings_) completed.insert(e.request_id);
    for (const auto& [request, entries] : earned) {
      if (!completed.contains(request)) {
        bad.push_back("an EARN entry for a request nobody completed: " +
                      entries[0]->ShortDebugString());
      }
    }
    const v1::Balance fund = w.Balance("fund");
    if (fund.pending() != waiting) {
      bad.push_back(absl::StrCat("fund pending ", fund.pending(),
                                 " but the earnings without an "
                                 "EARN entry sum to ",
                                 waiting));
    }
    for (const Answer& a : answers_) {
      auto it = by_id.find(a.entry_id);
      if (it == by_id.end()) {
        bad.push_back("acknowledged entry missing from the ledger: " + a.entry);
      } else if (WrittenEntry(*it->second) != a.entry) {
        bad.push_back(
            absl::StrCat("ledger has ", WrittenEntry(*it->second), "\n  answered ", a.entry));
      }
    }
    return bad;
  }

  const std::vector<std::string>& accounts() const { return accounts_; }
  std::vector<std::string> unexpected() {
    absl::MutexLock lock(&mu_);
    return unexpected_;
  }
  int count(const std::string& what) {
    absl::MutexLock lock(&mu_);
    return counts_[what];
  }
  int paid_after_waiting() {
    absl::MutexLock lock(&mu_);
    return paid_after_waiting_;
  }
  std::string Stats() {
    absl::MutexLock lock(&mu_);
    std::string out;
    for (const auto& [what, n] : counts_) absl::StrAppend(&out, " ", what, " ", n, ";");
    return out;
  }

 private:
  void Count(const std::string& what) {
    absl::MutexLock lock(&mu_);
    ++counts_[what];
  }
  void Unexpected(const std::string& what) {
    absl::MutexLock lock(&mu_);
    unexpected_.push_back(what);
  }
  // Whether `s` is OK; counts the outcome, and notes a code not in `allowed`.
  bool Outcome(const std::string& op, const grpc::Status& s, std::vector<Code> allowed) {
    Count(absl::StrCat(op, s.ok() ? " ok" : " refused"));
    if (s.ok()) return true;
    if (std::find(allowed.begin(), allowed.end(), s.error_code()) == allowed.end()) {
      Unexpected(absl::StrCat(op, ": ", s.error_code(), " ", s.error_message()));
    }
    return false;
  }
  const std::string& AnyVolunteer(std::mt19937& rng) const {
    return volunteers_[rng() % volunteers_.size()];
  }
  void Keep(Answer a) {
    absl::MutexLock lock(&mu_);
    if (a.kind == Answer::kRedeem) redemptions_.push_back(answers_.size());
    answers_.push_back(std::move(a));
  }

  void Earn(PointsWorld& w, std::mt19937& rng) {
    static const v1::Urgency kUrgencies[] = {v1::ROUTINE, v1::URGENT, v1::CRISIS};
    const std::string& v = AnyVolunteer(rng);
    const v1::Urgency urgency = kUrgencies[rng() % 3];
    const int minutes = 1 + static_cast<int>(rng() % 600);
    v1::Assignment a;
    std::string request;
    if (!Outcome("earn", w.Earn(v, urgency, minutes, &a, &request), {})) return;
    const int64_t amount = rule_.Earn(minutes, urgency);
    if (a.points_earned() + a.points_pending() != amount ||
        (a.points_earned() != 0 && a.points_pending() != 0)) {
      Unexpected(absl::StrCat("earn ", request, ": ", amount,
                              " by the rule, the assignment says "
                              "earned ",
                              a.points_earned(), " pending ", a.points_pending()));
    }
    absl::MutexLock lock(&mu_);
    earnings_.push_back({request, v, minutes, amount, a.points_pending() > 0});
    if (a.points_pending() > 0) ++counts_["earn waited"];
  }

  void Redeem(const PointsWorld& w, std::mt19937& rng) {
    const Shelf& shelf = shelves_[rng() % shelves_.size()];
    v1::RedeemRequest req = w.RedeemBody(NewRequestId("mix-red"), AnyVolunteer(rng), shelf.kiosk,
                                         shelf.item, 1 + static_cast<int>(rng() % 3));
    const int price_shown = static_cast<int>(rng() % 20);
    const bool wrong_price = price_shown == 0;
    if (price_shown < 3) req.set_expected_price_points(shelf.price + (wrong_price ? 1 : 0));
    v1::Redemption out;
    grpc::Status s = w.Redeem(req, &out);
    if (wrong_price) {
      Count("redeem at a changed price");
      if (s.error_code() != Code::FAILED_PRECONDITION) {
        Unexpected(
            absl::StrCat("redeem at a changed price: ", s.error_code(), " ", s.error_message()));
      }
      return;
    }
    if (!Outcome("redeem", s, {Code::FAILED_PRECONDITION})) return;
    if (out.entry().amount() != shelf.price * req.quantity() || out.remaining_stock() < 0 ||
        out.balance().balance() < 0 || out.replayed()) {
      Unexpected("redeem answered " + out.ShortDebugString());
    }
    Answer a;
    a.kind = Answer::kRedeem;
    a.redeem = req;
    a.entry = WrittenEntry(out.entry());
    a.entry_id = out.entry().entry_id();
    a.balance = out.balance().balance();
    a.remaining_stock = out.remaining_stock();
    Keep(std::move(a));
  }

  void Reverse(const PointsWorld& w, std::mt19937& rng) {
    Answer redemption;
    {
      absl::MutexLock lock(&mu_);
      if (redemptions_.empty()) return;
      redemption = answers_[redemptions_[rng() % redemptions_.size()]];
    }
    const bool restock = rng() % 2 == 0;
    v1::ReverseRedemptionRequest req =
        w.ReverseBody(NewRequestId("mix-rev"), redemption.entry_id, restock);
    v1::Redemption out;
    if (!Outcome("reverse", w.Reverse(req, &out), {Code::FAILED_PRECONDITION})) return;
    if (out.entry().reverses_entry_id() != redemption.entry_id || out.replayed() ||
        out.remaining_stock() < 0) {
      Unexpected("reverse answered " + out.ShortDebugString());
    }
    Answer a;
    a.kind = Answer::kReverse;
    a.reverse = req;
    a.entry = WrittenEntry(out.entry());
    a.entry_id = out.entry().entry_id();
    a.balance = out.balance().balance();
    a.remaining_stock = out.remaining_stock();
    absl::MutexLock lock(&mu_);
    if (!reversed_.insert(redemption.entry_id).second) {
      unexpected_.push_back("reversed twice: " + redemption.entry_id);
    }
    if (restock) {
      for (size_t i = 0; i < shelves_.size(); ++i) {
        if (shelves_[i].kiosk == redemption.redeem.kiosk_id() &&
            shelves_[i].item == redemption.redeem.item_id()) {
          restocked_[i] += redemption.redeem.quantity();
        }
      }
    }
    answers_.push_back(std::move(a));
  }

  void Adjust(const PointsWorld& w, std::mt19937& rng) {
    int64_t delta = 1 + static_cast<int64_t>(rng() % 60);
    if (rng() % 2 == 0) delta = -delta;
    KeepAdjust(w, w.AdjustBody(NewRequestId("mix-adj"), AnyVolunteer(rng), delta), "adjust",
               {Code::FAILED_PRECONDITION});
  }

  // Tops the fund up when it runs low (so that it runs dry often and earnings wait);
  // otherwise pays a volunteer a bonus out of it.
  void TopUp(const PointsWorld& w, std::mt19937& rng) {
    const int64_t amount = 1 + static_cast<int64_t>(rng() % 400);
    const v1::Balance fund = w.Balance("fund");
    if (fund.balance() < fund.pending() + 300) {
      KeepAdjust(w, w.TopUpBody(NewRequestId("mix-top"), amount), "top-up", {});
    } else {
      KeepAdjust(w, w.AdjustBody(NewRequestId("mix-bonus"), AnyVolunteer(rng), amount), "bonus",
                 {Code::FAILED_PRECONDITION});
    }
  }

  void KeepAdjust(const PointsWorld& w, const v1::AdjustPointsRequest& req, const std::string& op,
                  std::vector<Code> allowed) {
    v1::AdjustPointsResponse out;
    if (!Outcome(op, w.Adjust(req, &out), std::move(allowed))) return;
    if (out.balance().balance() < 0 || out.replayed()) {
      Unexpected(op + " answered " + out.ShortDebugString());
    }
    Answer a;
    a.kind = Answer::kAdjust;
    a.adjust = req;
    a.entry = WrittenEntry(out.entry());
    a.entry_id = out.entry().entry_id();
    a.balance = out.balance().balance();
    Keep(std::move(a));
  }

  bool AnyAnswer(std::mt19937& rng, Answer* a) {
    absl::MutexLock lock(&mu_);
    if (answers_.empty()) return false;
    *a = answers_[rng() % answers_.size()];
    return true;
  }

  // The same call again: the first answer again, marked replayed.
  void ReplaySame(const PointsWorld& w, std::mt19937& rng) {
    Answer a;
    if (!AnyAnswer(rng, &a)) return;
    grpc::Status s;
    std::string entry;
    int64_t balance = 0, stock = a.remaining_stock;
    bool replayed = false;
    if (a.kind == Answer::kAdjust) {
      v1::AdjustPointsResponse out;
      s = w.Adjust(a.adjust, &out);
      entry = WrittenEntry(out.entry());
      balance = out.balance().balance();
      replayed = out.replayed();
    } else {
      v1::Redemption out;
      s = a.kind == Answer::kRedeem ? w.Redeem(a.redeem, &out) : w.Reverse(a.reverse, &out);
      entry = WrittenEntry(out.entry());
      balance = out.balance().balance();
      stock = out.remaining_stock();
      replayed = out.replayed();
    }
    if (!Outcome("replay", s, {})) return;
    if (!replayed || entry != a.entry || balance != a.balance || stock != a.remaining_stock) {
      Unexpected(absl::StrCat("replay of ", a.entry_id, ": replayed ", replayed, ", balance ",
                              balance, " (first ", a.balance, "), stock ", stock, " (first ",
                              a.remaining_stock, "), entry ", entry, "\n  first ", a.entry));
    }
  }

  // The same key with another body: INVALID_ARGUMENT naming request_id.
  void ReplayDifferent(const PointsWorld& w, std::mt19937& rng) {
    Answer a;
    if (!AnyAnswer(rng, &a)) return;
    grpc::Status s;
    if (a.kind == Answer::kRedeem) {
      a.redeem.set_quantity(a.redeem.quantity() % 3 + 1);
      v1::Redemption out;
      s = w.Redeem(a.redeem, &out);
    } else if (a.kind == Answer::kReverse) {
      a.reverse.set_restock(!a.reverse.restock());
      v1::Redemption out;
      s = w.Reverse(a.reverse, &out);
    } else {
      a.adjust.set_delta(a.adjust.delta() == -1 ? -2 : a.adjust.delta() + 1);
      v1::AdjustPointsResponse out;
      s = w.Adjust(a.adjust, &out);
    }
    Count("replay with another body");
    std::vector<std::string> fields = BadFields(s);
    if (s.error_code() != Code::INVALID_ARGUMENT ||
        std::find(fields.begin(), fields.end(), "request_id") == fields.end()) {
      Unexpected(absl::StrCat("replay of ", a.entry_id, " with another body: ", s.error_code(), " ",
                              s.error_message()));
    }
  }

  void StockDelta(const PointsWorld& w, std::mt19937& rng) {
    const size_t i = rng() % shelves_.size();
    const Shelf& shelf = shelves_[i];
    const int64_t delta = static_cast<int64_t>(rng() % 12) - 3;
    v1::CatalogItem out;
    grpc::Status s =
        w.Upsert(w.Item(shelf.kiosk, shelf.item, shelf.price, 0), &out, {"name"}, delta);
    if (!Outcome("stock delta", s, {Code::FAILED_PRECONDITION})) {
      if (delta >= 0) Unexpected(absl::StrCat("stock delta +", delta, " refused"));
      return;
    }
    if (out.stock() < 0) Unexpected("stock delta answered " + out.ShortDebugString());
    absl::MutexLock lock(&mu_);
    deltas_[i] += delta;
  }

  // Reporting a completion again earns nothing more.
  void CompleteAgain(PointsWorld& w, std::mt19937& rng) {
    Earning e;
    {
      absl::MutexLock lock(&mu_);
      if (earnings_.empty()) return;
      e = earnings_[rng() % earnings_.size()];
    }
    v1::Assignment a;
    if (!Outcome("complete again", w.Completed(e.request_id, e.volunteer, e.minutes, &a), {})) {
      return;
    }
    if (a.points_earned() + a.points_pending() != e.amount) {
      Unexpected(absl::StrCat("completed again ", e.request_id, ": earned ", a.points_earned(),
                              " pending ", a.points_pending(), ", want ", e.amount));
    }
  }

  void Look(const PointsWorld& w, std::mt19937& rng) {
    const std::string& account = accounts_[rng() % accounts_.size()];
    v1::Balance b;
    if (!Outcome("balance", w.GetBalance(account, &b), {})) return;
    if (b.balance() < 0 || b.pending() < 0) Unexpected("negative: " + b.ShortDebugString());
  }

  std::vector<PointsWorld> worlds_;
  const std::vector<std::string> volunteers_;
  const std::vector<Shelf> shelves_;
  const PointsRule rule_;
  std::vector<std::string> accounts_;
  absl::Mutex mu_;
  std::vector<Answer> answers_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> redemptions_ ABSL_GUARDED_BY(mu_);  // Indices into answers_.
  std::set<std::string> reversed_ ABSL_GUARDED_BY(mu_);
  std::vector<Earning> earnings_ ABSL_GUARDED_BY(mu_);
  std::map<size_t, int64_t> deltas_ ABSL_GUARDED_BY(mu_), restocked_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
  int paid_after_waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

// 10,000 seeded random operations across two instances from four threads, in ten
// rounds; the books are checked after every round and once more after a top-up that
// pays every waiting earning.
TEST(PointsChaosTest, RandomOperationsKeepTheBooks) {
  const uint32_t seed = Seed();
  SCOPED_TRACE(absl::StrCat("seed ", seed, " (rerun with POINTS_SEED=", seed, ")"));
  PointsCluster c({});
  std::vector<PointsWorld> worlds = TwoInstances(c, "mix");
  ASSERT_EQ(worlds.size(), 2u);
  const PointsWorld& w = worlds[0];
  std::mt19937 rng(seed);
  std::vector<std::string> vols;
  for (int i = 0; i < 12; ++i) {
    vols.push_back(worlds[i % 2].Volunteer());
    ASSERT_FALSE(vols.back().empty());
  }
  std::vector<Shelf> shelves;
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 3; ++i) {
      Shelf s{absl::StrCat("kiosk-", k), absl::StrCat("item-", i),
              5 + static_cast<int64_t>(rng() % 46), 5 + static_cast<int64_t>(rng() % 26)};
      v1::CatalogItem out;
      grpc::Status st = worlds[i % 2].Upsert(w.Item(s.kiosk, s.item, s.price, s.initial), &out);
      ASSERT_TRUE(st.ok()) << st.error_message();
      shelves.push_back(s);
    }
  }
  // The fund starts empty: the first earnings wait.
  RandomPoints ops(worlds, vols, shelves, PointsRule());

  constexpr int kThreads = 4, kRounds = 10, kOps = 10000;
  const absl::Time start = absl::Now();
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ops.Run(seed * 131 + static_cast<uint32_t>(round * kThreads + t),
                kOps / kRounds / kThreads);
      });
    }
    for (std::thread& t : threads) t.join();
    std::vector<std::string> bad = w.Audit(ops.accounts());
    std::vector<std::string> more = ops.Check(w);
    bad.insert(bad.end(), more.begin(), more.end());
    ASSERT_THAT(bad, IsEmpty()) << "after round " << round << ":\n" << FirstLines(bad);
  }
  const int paid_during = ops.paid_after_waiting();

  // A top-up big enough pays every waiting earning.
  const v1::Balance fund = w.Balance("fund");
  ASSERT_GT(w.TopUp(fund.pending() + 1), 0);
  EXPECT_EQ(w.Balance("fund").pending(), 0);
  std::vector<std::string> bad = w.Audit(ops.accounts());
  std::vector<std::string> more = ops.Check(w);
  bad.insert(bad.end(), more.begin(), more.end());
  EXPECT_THAT(bad, IsEmpty()) << "at the end:\n" << FirstLines(bad);
  for (const std::string& v : vols) EXPECT_EQ(w.Balance(VolunteerAccount(v)).pending(), 0) << v;

  std::cout << "[ points chaos ] seed " << seed << ": " << kOps << " operations in "
            << absl::Now() - start << "; " << paid_during
            << " waiting earnings paid by top-ups during the run;" << ops.Stats() << "\n";
  std::vector<std::string> unexpected = ops.unexpected();
  EXPECT_THAT(unexpected, IsEmpty()) << FirstLines(unexpected);
  // The run exercised what it is meant to.
  EXPECT_GT(ops.count("earn ok"), 100);
  EXPECT_GT(ops.count("earn waited"), 0) << "no earning found the fund empty";
  EXPECT_GT(paid_during, 0) << "no top-up paid a waiting earning";
  EXPECT_GT(ops.count("redeem ok"), 100);
  EXPECT_GT(ops.count("redeem refused"), 0);
  EXPECT_GT(ops.count("reverse ok"), 50);
  EXPECT_GT(ops.count("adjust ok"), 50);
  EXPECT_GT(ops.count("replay ok"), 100);
  EXPECT_GT(ops.count("replay with another body"), 50);
}

// ---------------------------------------------------------------------------------
// 3. SIGKILL of redis-server mid-load.

// One write made during the load, and what came back.
struct Write {
  enum Kind { kRedeem, kAdjust, kEarn } kind = kRedeem;
  v1::RedeemRequest redeem;
  v1::AdjustPointsRequest adjust;
  std::string request_id, volunteer;  // kEarn
  int minutes = 0;
  int64_t amount = 0;    // kEarn: by the rule.
  std::string entry_id;  // Acknowledged redemptions and adjustments.
  int64_t balance = 0;
};

// Several threads redeem, adjust and earn through two instances while redis-server is
// SIGKILLed and restarted, three times (AOF, appendfsync always). Every acknowledged
// write is in the ledger afterwards and replays as itself; every write that failed
// retryably can be retried with the same key and is then in the ledger exactly once.
TEST(PointsChaosTest, SigkillOfRedisMidLoadLosesNoAcknowledgedWrite) {
  const uint32_t seed = Seed();
  SCOPED_TRACE(absl::StrCat("seed ", seed, " (rerun with POINTS_SEED=", seed, ")"));
  PointsCluster c({});
  std::vector<PointsWorld> worlds = TwoInstances(c, "crash");
  ASSERT_EQ(worlds.size(), 2u);
  PointsWorld& w = worlds[0];
  const PointsRule rule;
  constexpr int64_t kPrice = 3, kStock = 1000000;
  v1::CatalogItem item;
  ASSERT_TRUE(w.Upsert(w.Item("shop", "tea", kPrice, kStock), &item).ok());
  ASSERT_GT(w.TopUp(1000000), 0);
  std::vector<std::string> vols, accounts = {"fund", KioskAccount("shop")};
  for (int i = 0; i < 6; ++i) {
    vols.push_back(w.Volunteer());
    ASSERT_FALSE(vols.back().empty());
    accounts.push_back(VolunteerAccount(vols.back()));
    ASSERT_EQ(w.Give(vols.back(), 100000), 100000);
  }

  absl::Mutex mu;
  std::vector<Write> acked, unknown;
  std::vector<std::string> unexpected;
  std::atomic<bool> stop{false};
  std::atomic<int> n_acked{0}, n_unknown{0}, n_unavailable{0};
  // Records the outcome of `write`; false when the caller should back off.
  auto record = [&](Write write, const grpc::Status& s, const std::string& what) {
    absl::MutexLock lock(&mu);
    if (s.ok()) {
      acked.push_back(std::move(write));
      ++n_acked;
      return true;
    }
    if (Retryable(s)) {
      unknown.push_back(std::move(write));
      ++n_unknown;
      if (s.error_code() == Code::UNAVAILABLE) ++n_unavailable;
      return false;
    }
    unexpected.push_back(absl::StrCat(what, ": ", s.error_code(), " ", s.error_message()));
    return true;
  };
  auto worker = [&](uint32_t thread_seed) {
    std::mt19937 rng(thread_seed);
    while (!stop.load()) {
      PointsWorld& at = worlds[rng() % 2];
      Write write;
      const std::string& v = vols[rng() % vols.size()];
      grpc::Status s;
      const int dice = static_cast<int>(rng() % 4);
      if (dice < 2) {
        write.kind = Write::kRedeem;
        write.redeem = at.RedeemBody(NewRequestId("crash-red"), v, "shop", "tea",
                                     1 + static_cast<int>(rng() % 3));
        v1::Redemption out;
        s = at.Redeem(write.redeem, &out);
        write.entry_id = out.entry().entry_id();
        write.balance = out.balance().balance();
      } else if (dice == 2) {
        write.kind = Write::kAdjust;
        int64_t delta = 1 + static_cast<int64_t>(rng() % 50);
        if (rng() % 2 == 0) delta = -delta;
        write.adjust = at.AdjustBody(NewRequestId("crash-adj"), v, delta);
        v1::AdjustPointsResponse out;
        s = at.Adjust(write.adjust, &out);
        write.entry_id = out.entry().entry_id();
        write.balance = out.balance().balance();
      } else {
        // Only the completion earns; a request that could not be submitted or
        // assigned (Redis away) is left behind.
        write.kind = Write::kEarn;
        write.volunteer = v;
        write.minutes = 1 + static_cast<int>(rng() % 120);
        write.amount = rule.Earn(write.minutes, v1::URGENT);
        v1::HelpRequest r = at.Submit(v1::URGENT);
        grpc::Status assigned =
            r.id().empty() ? grpc::Status(Code::UNAVAILABLE, "") : at.AssignByHand(r.id(), v);
        if (!assigned.ok()) {
          if (Retryable(assigned)) {
            absl::SleepFor(absl::Milliseconds(20));
          } else {
            absl::MutexLock lock(&mu);
            unexpected.push_back("assign: " + assigned.error_message());
          }
          continue;
        }
        write.request_id = r.id();
        v1::Assignment a;
        s = at.Completed(r.id(), v, write.minutes, &a);
        if (s.ok() && a.points_earned() != write.amount) {
          absl::MutexLock lock(&mu);
          unexpected.push_back(absl::StrCat("earn ", r.id(), ": ", a.ShortDebugString()));
        }
      }
      // Back off while Redis is away, as a client would.
      if (!record(std::move(write), s, "write")) absl::SleepFor(absl::Milliseconds(20));
    }
  };
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) threads.emplace_back(worker, seed * 17 + t);

  // Three kills, each once the load has run a while (after a restart: once the
  // instances have come back by themselves and acknowledged writes again).
  constexpr int kKills = 3;
  std::string trouble;
  int acked_at_first_kill = -1;
  for (int kill = 0; kill < kKills && trouble.empty(); ++kill) {
    const int acked_before = n_acked.load(), unknown_before = n_unknown.load();
    if (!WaitFor([&] { return n_acked.load() >= acked_before + 150; }, absl::Seconds(60))) {
      trouble = absl::StrCat("only ", n_acked.load() - acked_before, " writes acknowledged ",
                             kill == 0 ? "at first" : "after a restart", " (kill ", kill, ")");
      break;
    }
    if (acked_at_first_kill < 0) acked_at_first_kill = n_acked.load();
    c.redis().Kill();
    if (!WaitFor([&] { return n_unknown.load() >= unknown_before + 8; }, absl::Seconds(30))) {
      trouble = absl::StrCat("no call failed while Redis was away (kill ", kill, ")");
    }
    c.redis().Start();
  }
  const int acked_after = n_acked.load();
  if (trouble.empty() &&
      !WaitFor([&] { return n_acked.load() >= acked_after + 150; }, absl::Seconds(60))) {
    trouble = "the instances did not come back by themselves after the last restart";
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(trouble, "");
  EXPECT_THAT(unexpected, IsEmpty()) << FirstLines(unexpected);
  EXPECT_GT(n_unavailable.load(), 0) << "Redis away is UNAVAILABLE";
  for (const PointsWorld& at : worlds) {
    ASSERT_TRUE(WaitFor([&] {
      v1::Balance b;
      return at.GetBalance("fund", &b).ok();
    }));
  }

  // Every acknowledged write is in the ledger and replays as itself.
  std::vector<v1::LedgerEntry> all = w.Entries();
  ASSERT_FALSE(all.empty());
  absl::flat_hash_map<std::string, const v1::LedgerEntry*> by_id;
  std::map<std::string, int> earns_of;
  for (const v1::LedgerEntry& e : all) {
    by_id[e.entry_id()] = &e;
    if (e.kind() == v1::LEDGER_EARN) ++earns_of[e.request_id()];
  }
  int checked = 0;
  for (const Write& write : acked) {
    if (write.kind == Write::kEarn) {
      EXPECT_EQ(earns_of[write.request_id], 1) << "acknowledged earning " << write.request_id;
      v1::Assignment a;
      grpc::Status s = w.Completed(write.request_id, write.volunteer, write.minutes, &a);
      EXPECT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(a.points_earned(), write.amount) << write.request_id;
      ++checked;
      continue;
    }
    auto it = by_id.find(write.entry_id);
    const std::string& key =
        write.kind == Write::kRedeem ? write.redeem.request_id() : write.adjust.request_id();
    if (it == by_id.end()) {
      ADD_FAILURE() << "acknowledged " << key << " (" << write.entry_id << ") is lost";
      continue;
    }
    EXPECT_EQ(it->second->idempotency_key(), key);
    grpc::Status s;
    bool replayed = false;
    std::string entry_id;
    if (write.kind == Write::kRedeem) {
      v1::Redemption out;
      s = worlds[checked % 2].Redeem(write.redeem, &out);
      replayed = out.replayed();
      entry_id = out.entry().entry_id();
      EXPECT_EQ(out.balance().balance(), write.balance) << key;
    } else {
      v1::AdjustPointsResponse out;
      s = worlds[checked % 2].Adjust(write.adjust, &out);
      replayed = out.replayed();
      entry_id = out.entry().entry_id();
      EXPECT_EQ(out.balance().balance(), write.balance) << key;
    }
    EXPECT_TRUE(s.ok()) << key << ": " << s.error_message();
    EXPECT_TRUE(replayed) << key;
    EXPECT_EQ(entry_id, write.entry_id) << key;
    ++checked;
  }

  // Every write that failed retryably may or may not have happened; retried with the
  // same key it happens exactly once.
  int had_happened = 0;
  for (const Write& write : unknown) {
    grpc::Status s;
    bool replayed = false;
    if (write.kind == Write::kEarn) {
      replayed = earns_of[write.request_id] == 1;
      v1::Assignment a;
      s = w.Completed(write.request_id, write.volunteer, write.minutes, &a);
      EXPECT_EQ(a.points_earned(), write.amount) << write.request_id;
    } else if (write.kind == Write::kRedeem) {
      v1::Redemption out;
      s = w.Redeem(write.redeem, &out);
      replayed = out.replayed();
    } else {
      v1::AdjustPointsResponse out;
      s = w.Adjust(write.adjust, &out);
      replayed = out.replayed();
    }
    EXPECT_TRUE(s.ok()) << "retrying: " << s.error_message();
    had_happened += replayed ? 1 : 0;
  }
  all = w.Entries();
  std::map<std::string, int> with_key;
  earns_of.clear();
  for (const v1::LedgerEntry& e : all) {
    ++with_key[e.idempotency_key()];
    if (e.kind() == v1::LEDGER_EARN) ++earns_of[e.request_id()];
  }
  for (const std::vector<Write>* writes : {&acked, &unknown}) {
    for (const Write& write : *writes) {
      if (write.kind == Write::kEarn) {
        EXPECT_EQ(earns_of[write.request_id], 1) << "earning " << write.request_id;
      } else {
        const std::string& key =
            write.kind == Write::kRedeem ? write.redeem.request_id() : write.adjust.request_id();
        EXPECT_EQ(with_key[key], 1) << key;
      }
    }
  }
  int64_t sold = 0;
  for (const v1::LedgerEntry& e : all) {
    if (e.kind() == v1::LEDGER_REDEEM) sold += e.quantity();
  }
  EXPECT_EQ(w.Stock("shop", "tea"), kStock - sold);
  std::vector<std::string> bad = w.Audit(accounts);
  EXPECT_THAT(bad, IsEmpty()) << FirstLines(bad);
  std::cout << "[ points kill ] " << kKills << " kills; " << acked.size()
            << " writes acknowledged (" << acked_at_first_kill << " before the first kill), "
            << unknown.size() << " failed retryably (" << n_unavailable.load()
            << " UNAVAILABLE), of which " << had_happened << " had happened; " << all.size()
            << " ledger entries\n";
}

}  // namespace
}  // namespace yiyuan::testing
