// offer_bench: how fast a CRISIS request becomes an offer on a volunteer's phone.
//
//   offer_bench --server=HOST:PORT --token-file=FILE [--volunteers=10000] [--rate=200]
//       [--seconds=20] [--watch-channels=8] [--json=FILE]
//
// Steps:
//   a. registers --volunteers volunteers and puts each on duty at a random point of a
//      20 km square (seeded);
//   b. opens a WatchOffers stream for every one of them (callback API, spread over
//      --watch-channels connections) and waits until all are subscribed;
//   c. reference, same pacing: grpc.health.v1.Health/Check calls at --rate per second;
//   d. submits CRISIS requests at random points at --rate per second (open loop: each
//      has a scheduled send time, and latency counts from it, so a slow server cannot
//      hide its queueing), and records when the first offer of each request arrives on
//      any stream. Latency = first offer received − scheduled submit time.
// Prints a markdown table (and JSON with --json).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_phase.h"
#include "server/flag_names.h"
#include "yiyuan/v1/intake.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

ABSL_FLAG(std::string, server, "", "dispatchd address, HOST:PORT");
ABSL_FLAG(std::string, token_file, "", "file holding an ADMIN bearer token");
ABSL_FLAG(int, volunteers, 10000, "on-duty volunteers, each watching its offers");
ABSL_FLAG(double, rate, 200, "CRISIS submits per second (and Health/Check calls per second)");
ABSL_FLAG(int, seconds, 20, "length of each paced phase");
ABSL_FLAG(int, watch_channels, 8, "connections the WatchOffers streams are spread over");
ABSL_FLAG(int, senders, 8, "threads sending the paced calls");
ABSL_FLAG(std::string, district, "offerbench", "district to work in");
ABSL_FLAG(uint64_t, seed, 1, "seed of the points");
ABSL_FLAG(std::string, json, "", "also write the results as JSON to this file");

namespace yiyuan {
namespace {

constexpr double kCenterLat = 30.87, kCenterLng = 120.09, kSideM = 20000;
constexpr double kMetresPerDegreeLat = 111320;

v1::LatLng RandomPoint(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> d(-kSideM / 2, kSideM / 2);
  double east = d(rng), north = d(rng);
  v1::LatLng p;
  p.set_lat(kCenterLat + north / kMetresPerDegreeLat);
  p.set_lng(kCenterLng +
            east / (kMetresPerDegreeLat * std::cos(kCenterLat * 3.14159265358979323846 / 180)));
  return p;
}

// First-offer arrival times by request id, and submit schedule times by request id.
class Arrivals {
 public:
  void Offer(const std::string& request_id, absl::Time at) {
    absl::MutexLock lock(&mu_);
    offers_.emplace(request_id, at);  // Keeps the first.
    ++offer_messages_;
  }
  void Submitted(const std::string& request_id, absl::Time scheduled) {
    absl::MutexLock lock(&mu_);
    scheduled_[request_id] = scheduled;
  }
  // Latencies (ns) of submitted requests whose first offer arrived; and how many did
  // not get one.
  std::vector<int64_t> Latencies(int64_t* missing) {
    absl::MutexLock lock(&mu_);
    std::vector<int64_t> out;
    *missing = 0;
    for (const auto& [id, t0] : scheduled_) {
      auto it = offers_.find(id);
      if (it == offers_.end()) {
        ++*missing;
        continue;
      }
      out.push_back(absl::ToInt64Nanoseconds(it->second - t0));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  int64_t offer_messages() {
    absl::MutexLock lock(&mu_);
    return offer_messages_;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> offers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::Time> scheduled_ ABSL_GUARDED_BY(mu_);
  int64_t offer_messages_ ABSL_GUARDED_BY(mu_) = 0;
};

// One volunteer's WatchOffers stream.
class Watcher final : public grpc::ClientReadReactor<v1::Offer> {
 public:
  Watcher(v1::VolunteerService::Stub* stub, const std::string& token, const std::string& id,
          Arrivals* arrivals, std::atomic<int>* subscribed)
      : arrivals_(arrivals), subscribed_(subscribed) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    req_.set_volunteer_id(id);
    stub->async()->WatchOffers(&ctx_, &req_, this);
    StartRead(&offer_);
    StartCall();
  }
  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) subscribed_->fetch_add(1);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (offer_.state() == v1::OFFER_PENDING && !offer_.snapshot()) {
      arrivals_->Offer(offer_.request_id(), absl::Now());
    }
    StartRead(&offer_);
  }
  void OnDone(const grpc::Status&) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  void Cancel() { ctx_.TryCancel(); }
  void AwaitDone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

 private:
  grpc::ClientContext ctx_;
  v1::WatchOffersRequest req_;
  v1::Offer offer_;
  Arrivals* const arrivals_;
  std::atomic<int>* const subscribed_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

struct Paced {
  int64_t ok = 0, errors = 0;
  std::string first_error;
  std::vector<int64_t> latency_ns;  // Call latency from the scheduled time.
};

// Calls `call(i)` for i = 0.. at `rate` per second for `seconds`, from `senders`
// threads; `call` returns whether it succeeded.
Paced RunPaced(double rate, int seconds, int senders,
               const std::function<grpc::Status(int64_t i, absl::Time scheduled)>& call) {
  const int64_t total = static_cast<int64_t>(rate * seconds);
  const absl::Time start = absl::Now() + absl::Milliseconds(100);
  std::atomic<int64_t> next{0};
  absl::Mutex mu;
  Paced out;
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&] {
      while (true) {
        int64_t i = next.fetch_add(1);
        if (i >= total) return;
        absl::Time scheduled = start + absl::Seconds(i / rate);
        absl::SleepFor(scheduled - absl::Now());
        grpc::Status s = call(i, scheduled);
        int64_t ns = absl::ToInt64Nanoseconds(absl::Now() - scheduled);
        absl::MutexLock lock(&mu);
        if (s.ok()) {
          ++out.ok;
          out.latency_ns.push_back(ns);
        } else {
          if (out.errors++ == 0) out.first_error = bench::DescribeError(s);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::sort(out.latency_ns.begin(), out.latency_ns.end());
  return out;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "offer_bench: %s\n", message.c_str());
  return 2;
}

double Ms(const std::vector<int64_t>& sorted_ns, double q) {
  return bench::Percentile(sorted_ns, q);  // Already in ms.
}

int Run(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "CRISIS submit -> first offer on WatchOffers latency, against Health/Check.\n"
      "  offer_bench --server=HOST:PORT --token-file=FILE [--volunteers=10000] [--rate=200] "
      "[--seconds=20] [--json=FILE]");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  std::vector<char*> args_view = ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), args_view.data());
  std::optional<std::string> token = bench::ReadToken(absl::GetFlag(FLAGS_token_file));
  if (!token.has_value()) return Fail("--token-file: cannot read a token");
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string district = absl::GetFlag(FLAGS_district);
  const int n = absl::GetFlag(FLAGS_volunteers);
  const double rate = absl::GetFlag(FLAGS_rate);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int senders = absl::GetFlag(FLAGS_senders);
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));

  // a. Volunteers on duty.
  std::vector<v1::LatLng> points;
  for (int i = 0; i < n; ++i) points.push_back(RandomPoint(rng));
  std::vector<std::string> ids(n);
  {
    std::vector<std::shared_ptr<grpc::Channel>> channels = bench::MakeChannels(server, 4);
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    absl::Time t0 = absl::Now();
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        auto stub = v1::VolunteerService::NewStub(channels[t % channels.size()]);
        for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
          grpc::ClientContext ctx;
          bench::PrepareContext(*token, &ctx);
          v1::RegisterVolunteerRequest reg;
          reg.set_district(district);
          v1::Volunteer* v = reg.mutable_volunteer();
          v->set_external_id(absl::StrCat("offer-bench-", i));
          v->set_name(absl::StrCat("Volunteer ", i));
          v->set_phone(absl::StrCat("137", 10000000 + i));
          v->set_home_community_id("wx-aiguo");
          v->set_capacity(10);
          v1::RegisterVolunteerResponse resp;
          grpc::Status s = stub->RegisterVolunteer(&ctx, reg, &resp);
          if (!s.ok()) {
            if (failed.fetch_add(1) == 0) {
              std::fprintf(stderr, "offer_bench: %s\n", bench::DescribeError(s).c_str());
            }
            continue;
          }
          ids[i] = resp.volunteer().id();
          grpc::ClientContext ctx2;
          bench::PrepareContext(*token, &ctx2);
          v1::SetDutyStatusRequest duty;
          duty.set_volunteer_id(ids[i]);
          duty.set_status(v1::DUTY_ON);
          *duty.mutable_location() = points[i];
          v1::Volunteer out;
          if (!stub->SetDutyStatus(&ctx2, duty, &out).ok()) failed.fetch_add(1);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    if (failed > 0) return Fail(absl::StrCat(failed.load(), " volunteers could not go on duty"));
    std::fprintf(stderr, "offer_bench: %d volunteers on duty in %.1f s\n", n,
                 absl::ToDoubleSeconds(absl::Now() - t0));
  }

  // b. A stream per volunteer.
  Arrivals arrivals;
  std::atomic<int> subscribed{0};
  std::vector<std::shared_ptr<grpc::Channel>> watch_channels =
      bench::MakeChannels(server, absl::GetFlag(FLAGS_watch_channels));
  std::vector<std::unique_ptr<v1::VolunteerService::Stub>> watch_stubs;
  for (auto& c : watch_channels) watch_stubs.push_back(v1::VolunteerService::NewStub(c));
  std::vector<std::unique_ptr<Watcher>> watchers;
  absl::Time t_watch = absl::Now();
  for (int i = 0; i < n; ++i) {
    watchers.push_back(std::make_unique<Watcher>(watch_stubs[i % watch_stubs.size()].get(),
                                                 *token, ids[i], &arrivals, &subscribed));
  }
  while (subscribed.load() < n && absl::Now() - t_watch < absl::Seconds(120)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (subscribed.load() < n) {
    return Fail(absl::StrCat("only ", subscribed.load(), " of ", n, " streams subscribed"));
  }
  std::fprintf(stderr, "offer_bench: %d WatchOffers streams open in %.1f s\n", n,
               absl::ToDoubleSeconds(absl::Now() - t_watch));

  std::vector<std::shared_ptr<grpc::Channel>> call_channels = bench::MakeChannels(server, 4);
  // c. The reference at the same pacing.
  Paced floor = RunPaced(rate, seconds, senders, [&](int64_t i, absl::Time) {
    bench::HealthCaller health(call_channels[i % call_channels.size()], *token);
    bench::CallResult r = health.Call();
    return r.ok ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNKNOWN, r.error);
  });

  // d. CRISIS submits.
  std::vector<v1::LatLng> sites;
  const int64_t total = static_cast<int64_t>(rate * seconds);
  for (int64_t i = 0; i < total; ++i) sites.push_back(RandomPoint(rng));
  Paced submits = RunPaced(rate, seconds, senders, [&](int64_t i, absl::Time scheduled) {
    auto stub = v1::IntakeService::NewStub(call_channels[i % call_channels.size()]);
    grpc::ClientContext ctx;
    bench::PrepareContext(*token, &ctx);
    v1::SubmitRequestRequest req;
    req.set_district(district);
    req.set_request_id(absl::StrCat("offer-bench-", absl::GetFlag(FLAGS_seed), "-", i));
    v1::HelpRequest* h = req.mutable_request();
    h->set_channel(v1::HOTLINE);
    h->set_category(v1::HEALTH_CHECK);
    h->set_urgency(v1::CRISIS);
    h->set_description("fell at home, needs someone now");
    v1::Resident* r = h->mutable_resident();
    r->set_name("Resident");
    r->set_phone(absl::StrCat("136", 10000000 + i));
    r->set_address("1 Test Road");
    *r->mutable_location() = sites[i];
    r->set_community_id("wx-aiguo");
    v1::SubmitRequestResponse resp;
    grpc::Status s = stub->SubmitRequest(&ctx, req, &resp);
    if (s.ok()) arrivals.Submitted(resp.request().id(), scheduled);
    return s;
  });
  // Late offers still count (they would be seen as long tails).
  absl::SleepFor(absl::Seconds(2));
  int64_t missing = 0;
  std::vector<int64_t> offer_ns = arrivals.Latencies(&missing);
  for (auto& w : watchers) w->Cancel();
  for (auto& w : watchers) w->AwaitDone();

  double floor_p50 = Ms(floor.latency_ns, 0.5), floor_p99 = Ms(floor.latency_ns, 0.99);
  double sub_p50 = Ms(submits.latency_ns, 0.5), sub_p99 = Ms(submits.latency_ns, 0.99);
  double off_p50 = Ms(offer_ns, 0.5), off_p99 = Ms(offer_ns, 0.99);
  std::printf("| measured at %.0f calls/s for %d s, %d volunteers on duty and watching | calls | "
              "p50 ms | p99 ms | p50 / floor p50 | p99 / floor p99 |\n",
              rate, seconds, n);
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  std::printf("| Health/Check (floor) | %lld | %.2f | %.2f | 1.0× | 1.0× |\n",
              static_cast<long long>(floor.ok), floor_p50, floor_p99);
  std::printf("| SubmitRequest (CRISIS) returns | %lld | %.2f | %.2f | %.1f× | %.1f× |\n",
              static_cast<long long>(submits.ok), sub_p50, sub_p99, sub_p50 / floor_p50,
              sub_p99 / floor_p99);
  std::printf("| **submit → first offer on WatchOffers** | %zu | **%.2f** | **%.2f** | %.1f× | "
              "%.1f× |\n",
              offer_ns.size(), off_p50, off_p99, off_p50 / floor_p50, off_p99 / floor_p99);
  std::printf("\nErrors: Health/Check %lld, SubmitRequest %lld%s; requests without an offer "
              "within 2 s of the end: %lld; offer messages received: %lld.\n",
              static_cast<long long>(floor.errors), static_cast<long long>(submits.errors),
              submits.first_error.empty() ? "" : (" (first: " + submits.first_error + ")").c_str(),
              static_cast<long long>(missing), static_cast<long long>(arrivals.offer_messages()));
  std::printf("\nTarget p99 ≤ 10 ms: **%s** (p99 %.2f ms).\n", off_p99 <= 10 ? "met" : "not met",
              off_p99);
  if (std::string json = absl::GetFlag(FLAGS_json); !json.empty()) {
    FILE* f = std::fopen(json.c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f,
                   "{\"volunteers\": %d, \"rate\": %.1f, \"seconds\": %d, "
                   "\"floor_p50_ms\": %.3f, \"floor_p99_ms\": %.3f, \"submit_p50_ms\": %.3f, "
                   "\"submit_p99_ms\": %.3f, \"offer_p50_ms\": %.3f, \"offer_p99_ms\": %.3f, "
                   "\"offers_measured\": %zu, \"without_offer\": %lld}\n",
                   n, rate, seconds, floor_p50, floor_p99, sub_p50, sub_p99, off_p50, off_p99,
                   offer_ns.size(), static_cast<long long>(missing));
      std::fclose(f);
    }
  }
  return 0;
}

}  // namespace
}  // namespace yiyuan

int main(int argc, char** argv) { return yiyuan::Run(argc, argv); }
