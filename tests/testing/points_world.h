#ifndef YIYUAN_TESTS_TESTING_POINTS_WORLD_H_
#define YIYUAN_TESTS_TESTING_POINTS_WORLD_H_

// Helpers for end-to-end tests of PointsService: one district's points calls against
// one dispatchd, volunteers who earn by completing work assigned by hand, dispatchd
// instances sharing a redis-server, and an audit of the books read back through the
// API (never from Redis directly, so the tests hold the server to its contract only).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/client.h"
#include "tests/testing/dispatch_world.h"
#include "tests/testing/processes.h"
#include "yiyuan/v1/dispatch.grpc.pb.h"
#include "yiyuan/v1/points.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

namespace yiyuan::testing {

// The EARN rule, as dispatchd's --points-rule flag takes it: amount =
// floor(base + min(minutes, max_minutes) × per_minute + urgency bonus).
struct PointsRule {
  int64_t base = 10;
  // Points per minute in thousandths (200 = 0.2), so that the expected amount is
  // computed exactly.
  int64_t per_minute_milli = 200;
  int64_t urgent = 5;
  int64_t crisis = 10;
  int max_minutes = 480;

  std::string Flag() const {
    return absl::StrCat("--points-rule=base=", base,
                        ",per_minute=", static_cast<double>(per_minute_milli) / 1000,
                        ",urgent=", urgent, ",crisis=", crisis, ",max_minutes=", max_minutes);
  }
  int64_t Earn(int minutes, v1::Urgency urgency) const {
    int64_t bonus = urgency == v1::URGENT ? urgent : urgency == v1::CRISIS ? crisis : 0;
    int64_t milli = (base + bonus) * 1000 +
                    static_cast<int64_t>(std::min(minutes, max_minutes)) * per_minute_milli;
    return milli / 1000;
  }
};

inline std::string VolunteerAccount(const std::string& id) { return "volunteer:" + id; }
inline std::string KioskAccount(const std::string& id) { return "kiosk:" + id; }

// "<district>-e<n>" → n (-1 if malformed).
inline int64_t EntryNumber(const std::string& entry_id) {
  size_t at = entry_id.rfind("-e");
  int64_t n = -1;
  if (at == std::string::npos || !absl::SimpleAtoi(entry_id.substr(at + 2), &n)) return -1;
  return n;
}

// An entry as it was written: without reversed_by_entry_id, which is set later.
inline std::string WrittenEntry(v1::LedgerEntry e) {
  e.clear_reversed_by_entry_id();
  return e.ShortDebugString();
}

// The first `n` of `lines`, one a line, and how many more there were.
inline std::string FirstLines(const std::vector<std::string>& lines, size_t n = 30) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < n; ++i) absl::StrAppend(&out, lines[i], "\n");
  if (lines.size() > n) absl::StrAppend(&out, "... and ", lines.size() - n, " more\n");
  return out;
}

// A fresh idempotency key: `prefix` plus a process-wide counter (valid when `prefix`
// is made of letters, digits, '-' and '_').
inline std::string NewRequestId(const std::string& prefix) {
  static std::atomic<int64_t> n{0};
  return absl::StrCat(prefix, "-", 100000 + n.fetch_add(1));
}

// One district's points calls against one dispatchd, as ADMIN unless a token is given.
class PointsWorld {
 public:
  PointsWorld(std::shared_ptr<grpc::Channel> channel, std::string admin, std::string district)
      : dispatch_(std::move(channel), std::move(admin), std::move(district)) {}

  const std::string& district() const { return dispatch_.district(); }
  const std::string& admin() const { return dispatch_.admin(); }
  const DispatchWorld& dispatch() const { return dispatch_; }
  std::unique_ptr<v1::PointsService::Stub> Points() const {
    return v1::PointsService::NewStub(dispatch_.channel());
  }
  // A token of `role` in this district (bound to `kiosk` / `volunteer` if given).
  std::string Token(v1::Role role, const std::string& kiosk = "",
                    const std::string& volunteer = "") const {
    return MakeToken(dispatch_.channel(), admin(), role, district(), kiosk, volunteer);
  }

  // Registers a volunteer, off duty (the dispatcher leaves them alone: work reaches
  // them only by AssignManually with force); their id, "" on failure (a test failure).
  std::string Volunteer(const std::string& name = "Points Helper") const {
    static std::atomic<int> n{0};
    int i = n.fetch_add(1);
    v1::RegisterVolunteerRequest req;
    req.set_district(district());
    v1::Volunteer* v = req.mutable_volunteer();
    v->set_external_id(absl::StrCat("pw-", district(), "-", i));
    v->set_name(name);
    v->set_phone(absl::StrCat("137", 10000000 + (i * 7907) % 89999999));
    v->set_home_community_id("wx-aiguo");
    v->set_capacity(10);
    v1::RegisterVolunteerResponse resp;
    grpc::Status s = dispatch_.Vol()->RegisterVolunteer(Ctx(admin()).get(), req, &resp);
    if (!s.ok()) ADD_FAILURE() << "RegisterVolunteer: " << s.error_message();
    return s.ok() ? resp.volunteer().id() : "";
  }

  // Submits a request of `urgency` (empty id on failure).
  v1::HelpRequest Submit(v1::Urgency urgency) { return dispatch_.Submit(urgency, Where(), 1); }

  // Assigns `volunteer` to `request_id` by hand (force: they are off duty).
  grpc::Status AssignByHand(const std::string& request_id, const std::string& volunteer) const {
    v1::AssignManuallyRequest assign;
    assign.set_request_id(request_id);
    assign.mutable_assignee()->set_volunteer_id(volunteer);
    assign.set_reason("points test: assigned by hand");
    assign.set_force(true);
    v1::Assignment a;
    return dispatch_.Dispatch()->AssignManually(Ctx(admin()).get(), assign, &a);
  }

  // Submits a request of `urgency`, assigns `volunteer` to it by hand and reports it
  // completed with `minutes` served: the first failing step's status, with the
  // assignment in `out` and the request id in `request_id` (set as soon as known).
  grpc::Status Earn(const std::string& volunteer, v1::Urgency urgency, int minutes,
                    v1::Assignment* out, std::string* request_id = nullptr) {
    v1::HelpRequest r = Submit(urgency);
    if (r.id().empty()) return grpc::Status(grpc::StatusCode::UNKNOWN, "submit failed");
    if (request_id != nullptr) *request_id = r.id();
    grpc::Status s = AssignByHand(r.id(), volunteer);
    if (!s.ok()) return s;
    return Completed(r.id(), volunteer, minutes, out);
  }

  // Reports `request_id` completed by `volunteer` (again: an idempotent repeat): the
  // assignment as it stands, with points_earned / points_pending.
  grpc::Status Completed(const std::string& request_id, const std::string& volunteer, int minutes,
                         v1::Assignment* out) const {
    return dispatch_.Progress(request_id, volunteer, v1::PROGRESS_COMPLETED, minutes, out);
  }

  // Request bodies, valid as they are; tests change one thing at a time.
  v1::CatalogItem Item(const std::string& kiosk, const std::string& item, int64_t price,
                       int64_t stock, bool active = true) const {
    v1::CatalogItem c;
    c.set_kiosk_id(kiosk);
    c.set_item_id(item);
    c.set_name(absl::StrCat("Item ", item));
    c.set_description("for points tests");
    c.set_price_points(price);
    c.set_stock(stock);
    c.set_active(active);
    return c;
  }
  v1::RedeemRequest RedeemBody(const std::string& request_id, const std::string& volunteer,
                               const std::string& kiosk, const std::string& item,
                               int quantity = 1) const {
    v1::RedeemRequest r;
    r.set_request_id(request_id);
    r.set_district(district());
    r.set_volunteer_id(volunteer);
    r.set_kiosk_id(kiosk);
    r.set_item_id(item);
    r.set_quantity(quantity);
    return r;
  }
  v1::ReverseRedemptionRequest ReverseBody(const std::string& request_id,
                                           const std::string& entry_id, bool restock) const {
    v1::ReverseRedemptionRequest r;
    r.set_request_id(request_id);
    r.set_district(district());
    r.set_entry_id(entry_id);
    r.set_reason("goods returned");
    r.set_restock(restock);
    return r;
  }
  v1::AdjustPointsRequest AdjustBody(const std::string& request_id, const std::string& volunteer,
                                     int64_t delta) const {
    v1::AdjustPointsRequest r;
    r.set_request_id(request_id);
    r.set_district(district());
    r.set_volunteer_id(volunteer);
    r.set_delta(delta);
    r.set_reason("correction");
    return r;
  }
  v1::AdjustPointsRequest TopUpBody(const std::string& request_id, int64_t amount) const {
    v1::AdjustPointsRequest r;
    r.set_request_id(request_id);
    r.set_district(district());
    r.set_delta(amount);
    r.set_reason("donation");
    r.set_fund_top_up(true);
    return r;
  }

  // The calls; `token` "" means the admin's.
  grpc::Status Upsert(const v1::CatalogItem& item, v1::CatalogItem* out,
                      const std::vector<std::string>& mask = {}, int64_t stock_delta = 0,
                      const std::string& token = "") const {
    v1::UpsertCatalogItemRequest req;
    req.set_district(district());
    *req.mutable_item() = item;
    for (const std::string& p : mask) req.mutable_update_mask()->add_paths(p);
    req.set_stock_delta(stock_delta);
    return Points()->UpsertCatalogItem(Ctx(Or(token)).get(), req, out);
  }
  grpc::Status Redeem(const v1::RedeemRequest& req, v1::Redemption* out,
                      const std::string& token = "") const {
    return Points()->Redeem(Ctx(Or(token)).get(), req, out);
  }
  grpc::Status Reverse(const v1::ReverseRedemptionRequest& req, v1::Redemption* out,
                       const std::string& token = "") const {
    return Points()->ReverseRedemption(Ctx(Or(token)).get(), req, out);
  }
  grpc::Status Adjust(const v1::AdjustPointsRequest& req, v1::AdjustPointsResponse* out,
                      const std::string& token = "") const {
    return Points()->AdjustPoints(Ctx(Or(token)).get(), req, out);
  }
  // Tops the fund up by `amount`; the fund's balance afterwards (-1 on failure, a
  // test failure).
  int64_t TopUp(int64_t amount) const { return Checked(TopUpBody(NewRequestId("topup"), amount)); }
  // Gives `volunteer` `delta` points from the fund (or takes them back); their balance
  // afterwards (-1 on failure, a test failure).
  int64_t Give(const std::string& volunteer, int64_t delta) const {
    return Checked(AdjustBody(NewRequestId("give"), volunteer, delta));
  }
  grpc::Status GetBalance(const std::string& account, v1::Balance* out,
                          const std::string& token = "") const {
    v1::GetBalanceRequest req;
    req.set_district(district());
    req.set_account(account);
    return Points()->GetBalance(Ctx(Or(token)).get(), req, out);
  }
  // The balance of `account` (an empty Balance with balance -1 if the call fails).
  v1::Balance Balance(const std::string& account) const {
    v1::Balance b;
    if (!GetBalance(account, &b).ok()) b.set_balance(-1);
    return b;
  }
  // Every ledger entry matching `req`'s filters (district set here), newest first,
  // following page tokens; `pages` counts the calls.
  grpc::Status Ledger(v1::ListLedgerRequest req, std::vector<v1::LedgerEntry>* out,
                      const std::string& token = "", int* pages = nullptr) const {
    req.set_district(district());
    out->clear();
    for (int n = 1;; ++n) {
      v1::ListLedgerResponse resp;
      grpc::Status s = Points()->ListLedger(Ctx(Or(token), 30).get(), req, &resp);
      if (!s.ok()) return s;
      out->insert(out->end(), resp.entries().begin(), resp.entries().end());
      if (pages != nullptr) *pages = n;
      if (resp.next_page_token().empty()) return grpc::Status::OK;
      if (n > 10000) return grpc::Status(grpc::StatusCode::INTERNAL, "endless pages");
      req.set_page_token(resp.next_page_token());
    }
  }
  // The entries of `account` ("" for all) of `kinds` (none: all), newest first.
  std::vector<v1::LedgerEntry> Entries(const std::string& account = "",
                                       std::vector<v1::LedgerKind> kinds = {}) const {
    v1::ListLedgerRequest req;
    req.set_account(account);
    req.set_page_size(500);
    for (v1::LedgerKind k : kinds) req.add_kinds(k);
    std::vector<v1::LedgerEntry> out;
    grpc::Status s = Ledger(req, &out);
    if (!s.ok()) out.clear();
    return out;
  }
  // The catalog of `kiosk` (every page; inactive items too if asked).
  std::vector<v1::CatalogItem> Catalog(const std::string& kiosk, bool include_inactive = true,
                                       const std::string& token = "") const {
    v1::ListCatalogRequest req;
    req.set_district(district());
    req.set_kiosk_id(kiosk);
    req.set_include_inactive(include_inactive);
    std::vector<v1::CatalogItem> out;
    for (int n = 0; n < 1000; ++n) {
      v1::ListCatalogResponse resp;
      if (!Points()->ListCatalog(Ctx(Or(token)).get(), req, &resp).ok()) return {};
      out.insert(out.end(), resp.items().begin(), resp.items().end());
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }
  // The stock of one item (-1 if not listed).
  int64_t Stock(const std::string& kiosk, const std::string& item) const {
    for (const v1::CatalogItem& c : Catalog(kiosk)) {
      if (c.item_id() == item) return c.stock();
    }
    return -1;
  }

  // Audits the books of the district; one line per violation. Call it while nothing
  // writes to the district. `accounts` are accounts known to exist (more are taken
  // from the ledger). Checks: the ledger is newest first with distinct ids and
  // idempotency keys; every entry is well formed for its kind (accounts, positive
  // amount, a redemption's amount = price × quantity, a reversal mirrors the entry it
  // reverses and that entry names it back); per account, GetBalance = credits −
  // debits over the whole ledger = the same over ListLedger(account=...), never
  // negative, last_entry_id = the newest entry touching it; Σ balances = Σ FUND; the
  // fund's pending = Σ volunteers' pending.
  std::vector<std::string> Audit(const std::vector<std::string>& accounts) const {
    std::vector<std::string> bad;
    std::vector<v1::LedgerEntry> all;
    v1::ListLedgerRequest req;
    req.set_page_size(500);
    if (grpc::Status s = Ledger(req, &all); !s.ok()) {
      return {absl::StrCat("ListLedger: ", s.error_code(), " ", s.error_message())};
    }
    std::map<std::string, const v1::LedgerEntry*> by_id;
    std::set<std::string> keys;
    std::map<std::string, int64_t> sum;
    std::map<std::string, std::string> newest;
    std::map<std::string, int> touching;
    for (const std::string& a : accounts) sum[a] = 0;
    int64_t funded = 0;
    int64_t previous = -1;
    for (const v1::LedgerEntry& e : all) {
      const std::string& id = e.entry_id();
      int64_t n = EntryNumber(id);
      if (n < 0 || !absl::StartsWith(id, district() + "-e")) bad.push_back("bad entry id " + id);
      if (previous >= 0 && n >= previous) bad.push_back("not newest first at " + id);
      previous = n;
      if (!by_id.emplace(id, &e).second) bad.push_back("entry listed twice: " + id);
      if (e.idempotency_key().empty()) bad.push_back("no idempotency key on " + id);
      if (!keys.insert(e.idempotency_key()).second) {
        bad.push_back(
            absl::StrCat("idempotency key ", e.idempotency_key(), " used twice (", id, ")"));
      }
      if (e.amount() <= 0) bad.push_back(absl::StrCat(id, ": amount ", e.amount()));
      if (e.district() != district()) bad.push_back(id + ": district " + e.district());
      if (e.time_ms() <= 0) bad.push_back(id + ": no time");
      for (const std::string& a : {e.from_account(), e.to_account()}) {
        if (a == "external") continue;
        if (newest.emplace(a, id).second) sum.emplace(a, 0);
        ++touching[a];
      }
      if (e.from_account() != "external") sum[e.from_account()] -= e.amount();
      sum[e.to_account()] += e.amount();
      bad.push_back(WellFormed(e));
      if (e.kind() == v1::LEDGER_FUND) funded += e.amount();
    }
    // Reversals and what they reverse.
    for (const v1::LedgerEntry& e : all) {
      if (e.kind() == v1::LEDGER_REVERSAL) {
        auto it = by_id.find(e.reverses_entry_id());
        if (it == by_id.end()) {
          bad.push_back(e.entry_id() + " reverses an unknown entry " + e.reverses_entry_id());
          continue;
        }
        const v1::LedgerEntry& r = *it->second;
        if (r.kind() != v1::LEDGER_REDEEM && r.kind() != v1::LEDGER_EARN) {
          bad.push_back(e.entry_id() + " reverses a " + v1::LedgerKind_Name(r.kind()));
        }
        if (e.from_account() != r.to_account() || e.to_account() != r.from_account() ||
            e.amount() != r.amount()) {
          bad.push_back(e.entry_id() + " does not mirror " + r.entry_id());
        }
        if (r.reversed_by_entry_id() != e.entry_id()) {
          bad.push_back(absl::StrCat(r.entry_id(), " reversed_by_entry_id '",
                                     r.reversed_by_entry_id(), "', want ", e.entry_id()));
        }
        if (EntryNumber(e.entry_id()) <= EntryNumber(r.entry_id())) {
          bad.push_back(e.entry_id() + " is older than what it reverses");
        }
      } else if (!e.reversed_by_entry_id().empty()) {
        auto it = by_id.find(e.reversed_by_entry_id());
        if (it == by_id.end() || it->second->reverses_entry_id() != e.entry_id()) {
          bad.push_back(e.entry_id() + " names a reversal that does not name it back: " +
                        e.reversed_by_entry_id());
        }
      }
    }
    int64_t total = 0, volunteers_pending = 0, fund_pending = 0;
    for (const auto& [account, expected] : sum) {
      v1::Balance b;
      grpc::Status s = GetBalance(account, &b);
      if (!s.ok()) {
        bad.push_back(
            absl::StrCat("GetBalance ", account, ": ", s.error_code(), " ", s.error_message()));
        continue;
      }
      total += b.balance();
      if (b.balance() != expected) {
        bad.push_back(
            absl::StrCat(account, ": balance ", b.balance(), " but the ledger says ", expected));
      }
      if (b.balance() < 0 || b.pending() < 0) {
        bad.push_back(absl::StrCat(account, ": negative ", b.balance(), " / ", b.pending()));
      }
      if (b.account() != account) bad.push_back(account + ": Balance.account " + b.account());
      auto n = newest.find(account);
      std::string want_last = n == newest.end() ? "" : n->second;
      if (b.last_entry_id() != want_last) {
        bad.push_back(absl::StrCat(account, ": last_entry_id '", b.last_entry_id(), "', want '",
                                   want_last, "'"));
      }
      if (account == "fund") {
        fund_pending = b.pending();
      } else if (absl::StartsWith(account, "volunteer:")) {
        volunteers_pending += b.pending();
      } else if (b.pending() != 0) {
        bad.push_back(absl::StrCat(account, ": pending ", b.pending()));
      }
      // The account's own view of the ledger.
      v1::ListLedgerRequest mine;
      mine.set_account(account);
      mine.set_page_size(500);
      std::vector<v1::LedgerEntry> own;
      if (grpc::Status ls = Ledger(mine, &own); !ls.ok()) {
        bad.push_back(absl::StrCat("ListLedger ", account, ": ", ls.error_message()));
        continue;
      }
      int64_t own_sum = 0;
      for (const v1::LedgerEntry& e : own) {
        if (e.to_account() == account) own_sum += e.amount();
        if (e.from_account() == account) own_sum -= e.amount();
        if (e.to_account() != account && e.from_account() != account) {
          bad.push_back(absl::StrCat("ListLedger ", account, " lists ", e.entry_id()));
        }
      }
      if (own_sum != b.balance() || static_cast<int>(own.size()) != touching[account]) {
        bad.push_back(absl::StrCat("ListLedger ", account, ": ", own.size(), " entries summing to ",
                                   own_sum, "; the whole ledger has ", touching[account],
                                   " and the balance is ", b.balance()));
      }
    }
    if (total != funded) {
      bad.push_back(absl::StrCat("Σ balances ", total, " != Σ FUND ", funded));
    }
    if (fund_pending != volunteers_pending) {
      bad.push_back(absl::StrCat("fund pending ", fund_pending, " != Σ volunteers' pending ",
                                 volunteers_pending));
    }
    bad.erase(std::remove(bad.begin(), bad.end(), std::string()), bad.end());
    return bad;
  }

  // What is wrong with `e` for its kind ("" if nothing).
  static std::string WellFormed(const v1::LedgerEntry& e) {
    const std::string& from = e.from_account();
    const std::string& to = e.to_account();
    auto vol = [](const std::string& a) { return absl::StartsWith(a, "volunteer:"); };
    auto kiosk = [](const std::string& a) { return absl::StartsWith(a, "kiosk:"); };
    bool ok = true;
    switch (e.kind()) {
      case v1::LEDGER_FUND:
        ok = from == "external" && to == "fund" && !e.reason().empty();
        break;
      case v1::LEDGER_EARN:
        ok = from == "fund" && vol(to) && !e.request_id().empty() && e.actor() == "system";
        break;
      case v1::LEDGER_REDEEM:
        ok = vol(from) && kiosk(to) && !e.item_id().empty() && e.quantity() >= 1 &&
             e.amount() == e.unit_price_points() * e.quantity();
        break;
      case v1::LEDGER_ADJUST:
        ok = ((from == "fund" && vol(to)) || (vol(from) && to == "fund")) && !e.reason().empty();
        break;
      case v1::LEDGER_REVERSAL:
        ok = !e.reverses_entry_id().empty() && !e.reason().empty();
        break;
      default:
        ok = false;
    }
    return ok ? "" : absl::StrCat("malformed ", e.ShortDebugString());
  }

 private:
  int64_t Checked(const v1::AdjustPointsRequest& req) const {
    v1::AdjustPointsResponse out;
    grpc::Status s = Adjust(req, &out);
    if (!s.ok())
      ADD_FAILURE() << "AdjustPoints " << req.ShortDebugString() << ": " << s.error_message();
    return s.ok() ? out.balance().balance() : -1;
  }
  const std::string& Or(const std::string& token) const { return token.empty() ? admin() : token; }

  DispatchWorld dispatch_;
};

// Dispatchd instances sharing one real redis-server, each with its own data dir.
class PointsCluster {
 public:
  explicit PointsCluster(std::vector<std::string> flags) : flags_(std::move(flags)) {}

  // Starts one more instance; null if it did not come up, with its log in `log`.
  Dispatchd* Start(const std::string& name, std::string* log) {
    std::vector<std::string> flags = flags_;
    flags.push_back("--redis=" + redis_.url());
    flags.push_back("--instance-id=" + name);
    auto d = std::make_unique<Dispatchd>(absl::StrCat(dir_.path(), "/", name), flags);
    if (!d->Start()) {
      *log = d->log();
      return nullptr;
    }
    instances_.push_back(std::move(d));
    return instances_.back().get();
  }
  PointsWorld World(const Dispatchd* d, const std::string& district) const {
    return PointsWorld(grpc::CreateChannel(d->address(), grpc::InsecureChannelCredentials()),
                       d->admin_token(), district);
  }
  RedisServer& redis() { return redis_; }

 private:
  const std::vector<std::string> flags_;
  RedisServer redis_;
  TempDir dir_;
  std::vector<std::unique_ptr<Dispatchd>> instances_;
};

}  // namespace yiyuan::testing

#endif  // YIYUAN_TESTS_TESTING_POINTS_WORLD_H_
