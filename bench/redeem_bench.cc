// redeem_bench: a closed-loop load generator for PointsService.Redeem, measured beside
// the gRPC floor (grpc.health.v1.Health/Check on the same server, just before).
//
//   redeem_bench --server=127.0.0.1:50051 --token-file=DATA/admin.token
//       [--clients=8] [--seconds=10] [--volunteers=32] [--server-pid=PID]
//
// Set-up, as ADMIN: `--volunteers` new volunteers, the district fund topped up with
// what they are then given (`--points-per-volunteer` each, by AdjustPoints), one new
// kiosk with one item priced 1 point with a stock that cannot run out, and a KIOSK
// token scoped to that kiosk. Then `--clients` threads call Redeem with that token
// (quantity 1, a new request_id every call; thread i pays with volunteer i mod N) for
// `--seconds` after an unmeasured warm-up. Latency is client-observed, per call.
//
// Prints one JSON line: the set-up (district, kiosk, item, volunteer ids, so that
// run_redeem_bench.sh can aim a raw EVALSHA of the same script at the same data), the
// floor and the Redeem phase (calls/s, p50, p99, p99.9, calls over 25 and 100 ms).
// Exits 1 when any call failed or was answered as a replay, the JSON line still
// printed; 2 on bad flags or a failed set-up.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_phase.h"
#include "server/flag_names.h"
#include "yiyuan/v1/admin.grpc.pb.h"
#include "yiyuan/v1/points.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "dispatchd's gRPC address (host:port)");
ABSL_FLAG(std::string, token_file, "", "file holding an ADMIN bearer token (DATA/admin.token)");
ABSL_FLAG(std::string, district, "", "district to work in; empty means the token's default");
ABSL_FLAG(int, clients, 8, "concurrent client threads calling Redeem");
ABSL_FLAG(int, channels, 4,
          "most gRPC channels (each its own connection) the client threads are spread over");
ABSL_FLAG(int, volunteers, 32, "volunteers set up to pay; thread i uses volunteer i mod N");
ABSL_FLAG(int64_t, points_per_volunteer, 2000000,
          "points each volunteer is given (the item costs 1 point per redemption)");
ABSL_FLAG(double, seconds, 10, "measured length of each phase, in seconds");
ABSL_FLAG(double, warmup_seconds, 1,
          "unmeasured calls before each phase (connections, Redis script cache), in seconds");
ABSL_FLAG(bool, floor, true, "also measure grpc.health.v1.Health/Check just before Redeem");
ABSL_FLAG(int, server_pid, 0, "dispatchd's pid, to report its CPU time; 0 skips it");

namespace yiyuan {
namespace {

using bench::JsonNumber;
using bench::JsonString;

// AdjustPointsRequest.delta's bound, for volunteers and fund top-ups (points.proto).
constexpr int64_t kMaxDelta = 1000000;
// Enough stock that no run can exhaust it.
constexpr int64_t kStock = 1000000000000;

// What the set-up made.
struct Setup {
  std::string district;
  std::string kiosk_id;
  std::string item_id;
  std::vector<std::string> volunteer_ids;
  std::string kiosk_token;
  std::string kiosk_token_id;  // What Redeem records as the entry's actor.
};

absl::Status Failed(absl::string_view what, const grpc::Status& s) {
  return absl::FailedPreconditionError(absl::StrCat(what, ": ", bench::DescribeError(s)));
}

// Makes the volunteers, funds them, and opens a kiosk with one item; `tag` keeps
// every id and request_id apart from earlier runs against the same server.
absl::StatusOr<Setup> SetUp(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& admin_token, const std::string& tag) {
  auto volunteers = v1::VolunteerService::NewStub(channel);
  auto points = v1::PointsService::NewStub(channel);
  auto admin = v1::AdminService::NewStub(channel);
  Setup out;
  out.district = absl::GetFlag(FLAGS_district);
  out.kiosk_id = absl::StrCat("rb-", tag);
  out.item_id = "bench-item";
  const int n = absl::GetFlag(FLAGS_volunteers);
  const int64_t each = absl::GetFlag(FLAGS_points_per_volunteer);

  for (int i = 0; i < n; ++i) {
    grpc::ClientContext ctx;
    bench::PrepareContext(admin_token, &ctx);
    v1::RegisterVolunteerRequest req;
    req.set_district(out.district);
    v1::Volunteer* v = req.mutable_volunteer();
    v->set_external_id(absl::StrCat("rb-", tag, "-", i));
    v->set_name(absl::StrCat("Redeem bench ", i));
    v->set_phone(absl::StrFormat("139%08d", i));
    v->set_home_community_id("wx-aiguo");
    v1::RegisterVolunteerResponse resp;
    grpc::Status s = volunteers->RegisterVolunteer(&ctx, req, &resp);
    if (!s.ok()) return Failed("RegisterVolunteer", s);
    out.volunteer_ids.push_back(resp.volunteer().id());
    out.district = resp.volunteer().district();
  }

  // Tops up the fund (volunteer empty) or moves points from the fund to a volunteer.
  int64_t adjustments = 0;
  auto adjust = [&](const std::string& volunteer, int64_t total) -> absl::Status {
    for (int64_t left = total; left > 0; left -= kMaxDelta) {
      grpc::ClientContext ctx;
      bench::PrepareContext(admin_token, &ctx);
      v1::AdjustPointsRequest req;
      req.set_request_id(absl::StrCat("rb-", tag, "-adj-", adjustments++));
      req.set_district(out.district);
      req.set_volunteer_id(volunteer);
      req.set_fund_top_up(volunteer.empty());
      req.set_delta(std::min(left, kMaxDelta));
      req.set_reason("redeem_bench set-up");
      v1::AdjustPointsResponse resp;
      grpc::Status s = points->AdjustPoints(&ctx, req, &resp);
      if (!s.ok()) return Failed("AdjustPoints", s);
    }
    return absl::OkStatus();
  };
  if (absl::Status s = adjust("", each * n); !s.ok()) return s;
  for (const std::string& id : out.volunteer_ids) {
    if (absl::Status s = adjust(id, each); !s.ok()) return s;
  }

  {
    grpc::ClientContext ctx;
    bench::PrepareContext(admin_token, &ctx);
    v1::UpsertCatalogItemRequest req;
    req.set_district(out.district);
    v1::CatalogItem* item = req.mutable_item();
    item->set_kiosk_id(out.kiosk_id);
    item->set_item_id(out.item_id);
    item->set_name("Bench item");
    item->set_price_points(1);
    item->set_stock(kStock);
    item->set_active(true);
    v1::CatalogItem resp;
    grpc::Status s = points->UpsertCatalogItem(&ctx, req, &resp);
    if (!s.ok()) return Failed("UpsertCatalogItem", s);
  }
  {
    grpc::ClientContext ctx;
    bench::PrepareContext(admin_token, &ctx);
    v1::CreateTokenRequest req;
    req.set_name(absl::StrCat("redeem_bench ", tag));
    req.set_role(v1::ROLE_KIOSK);
    req.set_district(out.district);
    req.set_kiosk_id(out.kiosk_id);
    v1::CreateTokenResponse resp;
    grpc::Status s = admin->CreateToken(&ctx, req, &resp);
    if (!s.ok()) return Failed("CreateToken", s);
    out.kiosk_token = resp.token();
    out.kiosk_token_id = resp.info().token_id();
  }
  return out;
}

// Latencies of the measured phase, one vector per client thread. Callers made
// before `measuring` is set (the warm-up's) record nothing.
struct Latencies {
  explicit Latencies(int clients) : per_thread(clients) {}
  std::vector<std::vector<int64_t>> per_thread;
  bool measuring = false;  // Set between the phases, before the measuring threads start.
};

// Redeems one item per call; flags a call answered as a replay (it would mean a
// request_id was reused, and nothing was redeemed). Every failed or replayed call,
// warm-up included, is also added to `bad`.
class RedeemCaller : public bench::Caller {
 public:
  RedeemCaller(std::shared_ptr<grpc::Channel> channel, const Setup& setup, int thread,
               const std::string& tag, std::atomic<int64_t>* sequence,
               std::vector<int64_t>* latencies, std::atomic<int64_t>* bad)
      : stub_(v1::PointsService::NewStub(channel)),
        token_(setup.kiosk_token),
        tag_(tag),
        sequence_(sequence),
        latencies_(latencies),
        bad_(bad) {
    request_.set_district(setup.district);
    request_.set_volunteer_id(setup.volunteer_ids[thread % setup.volunteer_ids.size()]);
    request_.set_kiosk_id(setup.kiosk_id);
    request_.set_item_id(setup.item_id);
    request_.set_quantity(1);
    if (latencies_ != nullptr) latencies_->reserve(1 << 16);
  }

  bench::CallResult Call() override {
    request_.set_request_id(
        absl::StrCat("rb-", tag_, "-", sequence_->fetch_add(1, std::memory_order_relaxed)));
    v1::Redemption response;
    grpc::ClientContext ctx;
    bench::PrepareContext(token_, &ctx);
    auto start = std::chrono::steady_clock::now();
    grpc::Status s = stub_->Redeem(&ctx, request_, &response);
    auto took = std::chrono::steady_clock::now() - start;
    bench::CallResult r;
    if (!s.ok()) {
      bad_->fetch_add(1, std::memory_order_relaxed);
      r.error = bench::DescribeError(s);
      return r;
    }
    if (latencies_ != nullptr) {
      latencies_->push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
    }
    r.ok = true;
    r.flagged = response.replayed();
    if (r.flagged) bad_->fetch_add(1, std::memory_order_relaxed);
    return r;
  }

 private:
  std::unique_ptr<v1::PointsService::Stub> stub_;
  const std::string token_;
  const std::string tag_;
  std::atomic<int64_t>* const sequence_;
  std::vector<int64_t>* const latencies_;
  std::atomic<int64_t>* const bad_;
  v1::RedeemRequest request_;
};

// A phase as JSON; latencies (mean, percentiles, p99.9 among them) from `sorted_ns`
// when given, else from the phase runner.
std::string PhaseJson(const bench::PhaseStats& p, const std::vector<int64_t>* sorted_ns) {
  double p50 = p.p50_ms;
  double p99 = p.p99_ms;
  double mean = p.mean_ms;
  std::optional<double> p999;
  std::optional<double> over_25ms;  // Calls that took longer, a count.
  std::optional<double> over_100ms;
  if (sorted_ns != nullptr) {
    auto over = [&](int64_t ns) {
      return static_cast<double>(sorted_ns->end() -
                                 std::upper_bound(sorted_ns->begin(), sorted_ns->end(), ns));
    };
    over_25ms = over(25000000);
    over_100ms = over(100000000);
    p50 = bench::Percentile(*sorted_ns, 0.50);
    p99 = bench::Percentile(*sorted_ns, 0.99);
    p999 = bench::Percentile(*sorted_ns, 0.999);
    double sum = 0;
    for (int64_t ns : *sorted_ns) sum += static_cast<double>(ns);
    mean = sorted_ns->empty() ? 0 : sum / static_cast<double>(sorted_ns->size()) / 1e6;
  }
  return absl::StrCat(
      "{\"ok\": ", p.ok, ", \"errors\": ", p.errors, ", \"replayed\": ", p.flagged,
      ", \"first_error\": ", JsonString(p.first_error), ", \"seconds\": ", JsonNumber(p.seconds),
      ", \"calls_per_second\": ", JsonNumber(p.calls_per_second()),
      ", \"p50_ms\": ", JsonNumber(p50), ", \"p99_ms\": ", JsonNumber(p99),
      ", \"p999_ms\": ", JsonNumber(p999), ", \"calls_over_25ms\": ", JsonNumber(over_25ms),
      ", \"calls_over_100ms\": ", JsonNumber(over_100ms), ", \"mean_ms\": ", JsonNumber(mean),
      ", \"client_cpu_seconds\": ", JsonNumber(p.cpu.client),
      ", \"server_cpu_seconds\": ", JsonNumber(p.cpu.server), "}");
}

int Fail(absl::string_view message) {
  std::fprintf(stderr, "redeem_bench: %s\n", std::string(message).c_str());
  return 2;
}

int Run(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Closed-loop load generator for PointsService.Redeem, beside Health/Check.\n"
      "  redeem_bench --server=HOST:PORT --token-file=ADMIN_TOKEN_FILE [--clients=8] "
      "[--seconds=10] [--volunteers=32] [--server-pid=PID]");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  std::vector<char*> args_view = ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), args_view.data());

  std::optional<std::string> admin_token = bench::ReadToken(absl::GetFlag(FLAGS_token_file));
  if (!admin_token.has_value()) return Fail("--token-file: cannot read a token");
  const int clients = absl::GetFlag(FLAGS_clients);
  const int channel_count = std::min(clients, absl::GetFlag(FLAGS_channels));
  if (clients < 1 || channel_count < 1 || absl::GetFlag(FLAGS_volunteers) < 1 ||
      absl::GetFlag(FLAGS_points_per_volunteer) < 1 || absl::GetFlag(FLAGS_seconds) <= 0) {
    return Fail(
        "need --clients, --channels, --volunteers, --points-per-volunteer ≥ 1 and "
        "--seconds > 0");
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  std::vector<std::shared_ptr<grpc::Channel>> channels = bench::MakeChannels(server, channel_count);

  std::random_device rd;
  const std::string tag = absl::StrFormat("%08x", rd());
  absl::Time t0 = absl::Now();
  absl::StatusOr<Setup> setup = SetUp(channels[0], *admin_token, tag);
  if (!setup.ok()) return Fail(absl::StrCat("set-up: ", setup.status().message()));
  const double setup_seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  std::fprintf(stderr,
               "redeem_bench: %zu volunteers with %lld points each, kiosk %s in %s (%.1f s)\n",
               setup->volunteer_ids.size(),
               static_cast<long long>(absl::GetFlag(FLAGS_points_per_volunteer)),
               setup->kiosk_id.c_str(), setup->district.c_str(), setup_seconds);

  bench::PhaseOptions options;
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  options.server_pid = absl::GetFlag(FLAGS_server_pid);
  const absl::Duration warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));

  std::optional<bench::PhaseStats> floor;
  if (absl::GetFlag(FLAGS_floor)) {
    std::fprintf(stderr, "redeem_bench: %d clients on %d connections: Health/Check...\n", clients,
                 channel_count);
    absl::StatusOr<bench::PhaseStats> f = bench::WarmAndRun(
        channels, clients, "Health/Check", warmup, options,
        [&](int, std::shared_ptr<grpc::Channel> ch) {
          return std::make_unique<bench::HealthCaller>(std::move(ch), setup->kiosk_token);
        },
        [] {});
    if (!f.ok()) return Fail(f.status().message());
    floor = *f;
  }

  std::fprintf(stderr, "redeem_bench: %d clients on %d connections: Redeem...\n", clients,
               channel_count);
  std::atomic<int64_t> sequence{0};
  std::atomic<int64_t> bad{0};
  Latencies latencies(clients);
  absl::StatusOr<bench::PhaseStats> redeem = bench::WarmAndRun(
      channels, clients, "Redeem", warmup, options,
      [&](int thread, std::shared_ptr<grpc::Channel> ch) {
        return std::make_unique<RedeemCaller>(
            std::move(ch), *setup, thread, tag, &sequence,
            latencies.measuring ? &latencies.per_thread[thread] : nullptr, &bad);
      },
      [&] { latencies.measuring = true; });
  if (!redeem.ok()) return Fail(redeem.status().message());
  std::vector<int64_t> all;
  for (const std::vector<int64_t>& v : latencies.per_thread)
    all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());

  std::vector<std::string> ids;
  for (const std::string& id : setup->volunteer_ids) ids.push_back(JsonString(id));
  std::printf(
      "{\"clients\": %d, \"channels\": %d, \"seconds_per_phase\": %s, \"setup_seconds\": %s, "
      "\"district\": %s, \"kiosk_id\": %s, \"item_id\": %s, \"kiosk_token_id\": %s, "
      "\"points_per_volunteer\": %lld, "
      "\"volunteer_ids\": [%s], \"floor\": %s, \"redeem\": %s, "
      "\"redeem_failed_or_replayed_incl_warmup\": %lld}\n",
      clients, channel_count, JsonNumber(absl::GetFlag(FLAGS_seconds)).c_str(),
      JsonNumber(setup_seconds).c_str(), JsonString(setup->district).c_str(),
      JsonString(setup->kiosk_id).c_str(), JsonString(setup->item_id).c_str(),
      JsonString(setup->kiosk_token_id).c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_points_per_volunteer)),
      absl::StrJoin(ids, ", ").c_str(),
      floor.has_value() ? PhaseJson(*floor, nullptr).c_str() : "null",
      PhaseJson(*redeem, &all).c_str(), static_cast<long long>(bad.load()));
  if (bad.load() > 0 || (floor.has_value() && floor->errors > 0)) {
    std::fprintf(stderr,
                 "redeem_bench: failed run: %lld Redeem calls failed or replayed (warm-up "
                 "included; first measured error: %s), %lld Health/Check calls failed\n",
                 static_cast<long long>(bad.load()), redeem->first_error.c_str(),
                 static_cast<long long>(floor.has_value() ? floor->errors : 0));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace yiyuan

int main(int argc, char** argv) { return yiyuan::Run(argc, argv); }
