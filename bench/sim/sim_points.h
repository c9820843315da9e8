// The simulated day's points (bench/sim): funds the district, stocks a catalog at a few
// community kiosks, lets volunteers redeem at their nearest kiosk after their work, and
// audits the ledger at the end — all over real gRPC (PointsService, AdminService).
#ifndef YIYUAN_BENCH_SIM_SIM_POINTS_H_
#define YIYUAN_BENCH_SIM_SIM_POINTS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "bench/sim/district.h"
#include "bench/sim/sim_support.h"
#include "nlohmann/json.hpp"

namespace yiyuan::sim {

class PointsPlayer {
 public:
  // Kiosks stand at the first `kiosks` stations. `lat` (not owned) gets every call's
  // latency.
  PointsPlayer(const District& d, std::shared_ptr<grpc::Channel> channel, std::string admin_token,
               int kiosks, Latencies* lat);

  // Creates a KIOSK token per kiosk and its catalog, and tops the fund up by `top_up`.
  absl::Status Setup(int64_t top_up);
  // Tops the fund up by `amount` (idempotency key `key`), paying waiting earnings.
  void TopUp(int64_t amount, const std::string& key);
  // `volunteer_id` (home at `home`) goes to the nearest kiosk, reads the balance there and
  // redeems the dearest item it covers; `visit` numbers the volunteer's visits (it makes
  // the idempotency key).
  void Visit(const std::string& volunteer_id, const LatLng& home, int visit);
  // Reads the whole ledger and the balance of every account it names, and checks that
  // each balance is its credits minus its debits, none is negative, the balances add up
  // to what was funded, and the fund's pending equals the volunteers'. The totals and
  // invariants_ok / audit_errors as JSON. `volunteers` are read too even when the ledger
  // does not name them (their earnings may all be waiting).
  nlohmann::json Audit(const std::vector<std::string>& volunteers);

 private:
  struct Kiosk {
    std::string id;
    LatLng location;
    std::string token;
  };
  struct Item {
    std::string id;
    std::string name;
    int64_t price = 0;
    int64_t stock = 0;
  };

  const District& d_;
  std::shared_ptr<grpc::Channel> channel_;
  const std::string admin_token_;
  Latencies* const lat_;
  std::vector<Kiosk> kiosks_;
  std::vector<Item> items_;  // The same catalog at every kiosk, dearest first.

  absl::Mutex mu_;
  int64_t topped_up_ ABSL_GUARDED_BY(mu_) = 0;
  int visits_ ABSL_GUARDED_BY(mu_) = 0;
  int nothing_affordable_ ABSL_GUARDED_BY(mu_) = 0;
  int redemptions_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> refusals_ ABSL_GUARDED_BY(mu_);  // By ErrorInfo reason or code.
};

}  // namespace yiyuan::sim

#endif  // YIYUAN_BENCH_SIM_SIM_POINTS_H_
