#include "bench/sim/sim_points.h"

#include <algorithm>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/load_phase.h"
#include "yiyuan/v1/admin.grpc.pb.h"
#include "yiyuan/v1/points.grpc.pb.h"

namespace yiyuan::sim {
namespace {

// The ErrorInfo reason of a refusal, else the gRPC code as a number.
std::string Reason(const grpc::Status& s) {
  std::string reason = ErrorReason(s);
  return reason.empty() ? absl::StrCat("code ", s.error_code()) : reason;
}

}  // namespace

PointsPlayer::PointsPlayer(const District& d, std::shared_ptr<grpc::Channel> channel,
                           std::string admin_token, int kiosks, Latencies* lat)
    : d_(d), channel_(std::move(channel)), admin_token_(std::move(admin_token)), lat_(lat) {
  for (int i = 0; i < kiosks && i < static_cast<int>(d.stations.size()); ++i) {
    kiosks_.push_back(Kiosk{"shop-" + d.stations[i].id, d.stations[i].location, ""});
  }
  // A community "love shop"'s shelf, a modelling choice: prices in points, stock per kiosk.
  items_ = {{"rice-5kg", "Rice, 5 kg", 60, 30},
            {"cooking-oil", "Cooking oil, 1 L", 35, 40},
            {"towel", "Towel", 20, 60},
            {"soap", "Soap", 8, 100}};
}

absl::Status PointsPlayer::Setup(int64_t top_up) {
  auto admin = v1::AdminService::NewStub(channel_);
  auto points = v1::PointsService::NewStub(channel_);
  for (Kiosk& k : kiosks_) {
    v1::CreateTokenRequest req;
    req.set_name(k.id);
    req.set_role(v1::ROLE_KIOSK);
    req.set_district(d_.options.district);
    req.set_kiosk_id(k.id);
    v1::CreateTokenResponse resp;
    grpc::Status s = admin->CreateToken(Ctx(admin_token_).get(), req, &resp);
    if (!s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("kiosk token ", k.id, ": ", bench::DescribeError(s)));
    }
    k.token = resp.token();
    for (const Item& item : items_) {
      v1::UpsertCatalogItemRequest up;
      up.set_district(d_.options.district);
      v1::CatalogItem* c = up.mutable_item();
      c->set_kiosk_id(k.id);
      c->set_item_id(item.id);
      c->set_name(item.name);
      c->set_price_points(item.price);
      c->set_stock(item.stock);
      c->set_active(true);
      v1::CatalogItem out;
      absl::Time t0 = absl::Now();
      s = points->UpsertCatalogItem(Ctx(admin_token_).get(), up, &out);
      lat_->Add("PointsService.UpsertCatalogItem", absl::Now() - t0, s.error_code());
      if (!s.ok()) {
        return absl::UnavailableError(
            absl::StrCat("catalog ", k.id, "/", item.id, ": ", bench::DescribeError(s)));
      }
    }
  }
  TopUp(top_up, "sim-fund-morning");
  return absl::OkStatus();
}

void PointsPlayer::TopUp(int64_t amount, const std::string& key) {
  v1::AdjustPointsRequest req;
  req.set_request_id(key);
  req.set_district(d_.options.district);
  req.set_fund_top_up(true);
  req.set_delta(amount);
  req.set_reason("simulated day: charity federation grant");
  v1::AdjustPointsResponse resp;
  auto points = v1::PointsService::NewStub(channel_);
  absl::Time t0 = absl::Now();
  grpc::Status s = points->AdjustPoints(Ctx(admin_token_).get(), req, &resp);
  lat_->Add("PointsService.AdjustPoints(fund)", absl::Now() - t0, s.error_code());
  if (!s.ok()) {
    std::fprintf(stderr, "sim_driver: fund top-up %s: %s\n", key.c_str(),
                 bench::DescribeError(s).c_str());
    return;
  }
  absl::MutexLock l(&mu_);
  topped_up_ += amount;
}

void PointsPlayer::Visit(const std::string& volunteer_id, const LatLng& home, int visit) {
  if (kiosks_.empty()) return;
  const Kiosk* kiosk = &kiosks_.front();
  for (const Kiosk& k : kiosks_) {
    if (DistanceMeters(home, k.location) < DistanceMeters(home, kiosk->location)) kiosk = &k;
  }
  {
    absl::MutexLock l(&mu_);
    ++visits_;
  }
  auto points = v1::PointsService::NewStub(channel_);
  v1::GetBalanceRequest breq;
  breq.set_account("volunteer:" + volunteer_id);
  v1::Balance balance;
  absl::Time t0 = absl::Now();
  grpc::Status s = points->GetBalance(Ctx(kiosk->token).get(), breq, &balance);
  lat_->Add("PointsService.GetBalance(kiosk)", absl::Now() - t0, s.error_code());
  if (!s.ok()) return;
  // The dearest item the balance covers; when it has run out here, the next one down.
  for (const Item& item : items_) {
    if (item.price > balance.balance()) continue;
    v1::RedeemRequest req;
    req.set_request_id(absl::StrFormat("sim-r-%s-%d-%s", volunteer_id, visit, item.id));
    req.set_volunteer_id(volunteer_id);
    req.set_kiosk_id(kiosk->id);
    req.set_item_id(item.id);
    req.set_quantity(1);
    req.set_expected_price_points(item.price);
    v1::Redemption out;
    t0 = absl::Now();
    s = points->Redeem(Ctx(kiosk->token).get(), req, &out);
    lat_->Add("PointsService.Redeem", absl::Now() - t0, s.error_code());
    absl::MutexLock l(&mu_);
    if (s.ok()) {
      ++redemptions_;
      return;
    }
    std::string reason = Reason(s);
    ++refusals_[reason];
    if (reason != "OUT_OF_STOCK") return;
  }
  absl::MutexLock l(&mu_);
  ++nothing_affordable_;
}

nlohmann::json PointsPlayer::Audit(const std::vector<std::string>& volunteers) {
  auto points = v1::PointsService::NewStub(channel_);
  struct Flow {
    int64_t credits = 0, debits = 0;
  };
  std::map<std::string, Flow> flows;
  std::map<std::string, int64_t> sum_by_kind, count_by_kind;
  std::vector<std::string> errors;
  auto error = [&](std::string e) {
    if (errors.size() < 20) errors.push_back(std::move(e));
  };
  v1::ListLedgerRequest req;
  req.set_district(d_.options.district);
  req.set_page_size(500);
  int64_t entries = 0;
  while (true) {
    v1::ListLedgerResponse resp;
    absl::Time t0 = absl::Now();
    grpc::Status s = points->ListLedger(Ctx(admin_token_, 30).get(), req, &resp);
    lat_->Add("PointsService.ListLedger", absl::Now() - t0, s.error_code());
    if (!s.ok()) {
      error(absl::StrCat("ListLedger: ", bench::DescribeError(s)));
      break;
    }
    for (const v1::LedgerEntry& e : resp.entries()) {
      ++entries;
      flows[e.from_account()].debits += e.amount();
      flows[e.to_account()].credits += e.amount();
      std::string kind = v1::LedgerKind_Name(e.kind());
      sum_by_kind[kind] += e.amount();
      ++count_by_kind[kind];
    }
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  for (const std::string& v : volunteers) flows.try_emplace("volunteer:" + v);
  int64_t balances = 0, volunteer_pending = 0, fund_pending = 0;
  int checked = 0;
  for (const auto& [account, flow] : flows) {
    if (account == "external") continue;
    v1::GetBalanceRequest breq;
    breq.set_district(d_.options.district);
    breq.set_account(account);
    v1::Balance b;
    absl::Time t0 = absl::Now();
    grpc::Status s = points->GetBalance(Ctx(admin_token_).get(), breq, &b);
    lat_->Add("PointsService.GetBalance", absl::Now() - t0, s.error_code());
    if (!s.ok()) {
      error(absl::StrCat("GetBalance ", account, ": ", bench::DescribeError(s)));
      continue;
    }
    ++checked;
    if (b.balance() != flow.credits - flow.debits) {
      error(absl::StrFormat("%s: balance %d, but ledger credits %d − debits %d = %d", account,
                            b.balance(), flow.credits, flow.debits, flow.credits - flow.debits));
    }
    if (b.balance() < 0) error(absl::StrFormat("%s: negative balance %d", account, b.balance()));
    balances += b.balance();
    if (account == "fund") {
      fund_pending = b.pending();
    } else {
      volunteer_pending += b.pending();
    }
  }
  if (balances != sum_by_kind["LEDGER_FUND"]) {
    error(
        absl::StrFormat("balances add up to %d, funded %d", balances, sum_by_kind["LEDGER_FUND"]));
  }
  if (fund_pending != volunteer_pending) {
    error(absl::StrFormat("fund pending %d, volunteers' pending %d", fund_pending,
                          volunteer_pending));
  }
  absl::MutexLock l(&mu_);
  if (topped_up_ != sum_by_kind["LEDGER_FUND"]) {
    error(absl::StrFormat("topped up %d, ledger FUND entries %d", topped_up_,
                          sum_by_kind["LEDGER_FUND"]));
  }
  if (redemptions_ != count_by_kind["LEDGER_REDEEM"]) {
    error(absl::StrFormat("%d redemptions acknowledged, %d REDEEM entries", redemptions_,
                          count_by_kind["LEDGER_REDEEM"]));
  }
  return {{"fund_topped_up", topped_up_},
          {"earned", sum_by_kind["LEDGER_EARN"]},
          {"earn_entries", count_by_kind["LEDGER_EARN"]},
          {"redeemed", sum_by_kind["LEDGER_REDEEM"]},
          {"redemptions", redemptions_},
          {"kiosk_visits", visits_},
          {"nothing_affordable", nothing_affordable_},
          {"redeem_refusals", refusals_},
          {"pending", fund_pending},
          {"ledger_entries", entries},
          {"accounts_checked", checked},
          {"invariants_ok", errors.empty()},
          {"audit_errors", errors}};
}

}  // namespace yiyuan::sim
