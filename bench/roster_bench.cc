// roster_bench: dispatchd's live roster under load — how fast volunteers are registered
// and put on duty, how ReportLocation and FindNearbyVolunteers compare with the gRPC
// floor (grpc.health.v1.Health/Check on the same server, in the same run), and how much
// memory dispatchd holds for them.
//
//   roster_bench --server=127.0.0.1:50051 --token-file=DATA/admin.token --server-pid=PID
//       [--redis-socket=DATA/redis.sock] [--metrics=http://127.0.0.1:9464/metrics]
//       [--volunteers=1000000] [--on-duty=100000] [--register-clients=8]
//       [--seconds=10] [--concurrency=1,16] [--seed=1] [--json=FILE]
//
// Steps, in order:
//   a. registers --volunteers volunteers with --register-clients concurrent clients
//      (distinct external ids and phones, a few skills, certificates and weekly slots);
//   b. puts --on-duty of them, picked at random, DUTY_ON at uniformly random points of
//      a 20 km × 20 km square around 30.87, 120.09;
//   c. for each concurrency: Health/Check, then ReportLocation, each call moving a
//      random on-duty volunteer a few metres from where it went on duty;
//   d. for each concurrency: Health/Check, then FindNearbyVolunteers (k = 16 within
//      5 km of a random point of the square);
//   e. reads dispatchd's VmRSS and VmHWM (/proc/PID/status) and redis-server's
//      used_memory before (a), after (a), after (b) and at the end.
// Picks, points and moves come from --seed. After (a) and (b) it waits until
// dispatchd is idle (its live roster has caught up with Redis) before reading memory.
// Prints markdown on stdout, progress on stderr; run_roster_bench.sh drives it.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_phase.h"
#include "server/flag_names.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "dispatchd's gRPC address (host:port)");
ABSL_FLAG(std::string, token_file, "",
          "file holding a bearer token that may register volunteers, set their duty status, "
          "report locations and search (OPERATOR or ADMIN, e.g. DATA/admin.token)");
ABSL_FLAG(int, server_pid, 0,
          "dispatchd's pid, to read its memory and CPU time from /proc; 0 skips them");
ABSL_FLAG(std::string, redis_socket, "",
          "unix socket of dispatchd's Redis, read with redis-cli INFO; empty skips it");
ABSL_FLAG(std::string, metrics, "",
          "dispatchd's Prometheus endpoint (http://host:port/metrics or host:port), for the "
          "roster's size; empty skips it");
ABSL_FLAG(int64_t, volunteers, 1000000, "volunteers to register (step a)");
ABSL_FLAG(int64_t, on_duty, 100000, "registered volunteers to put DUTY_ON (step b)");
ABSL_FLAG(int, register_clients, 8, "concurrent clients registering and going on duty");
ABSL_FLAG(double, register_time_limit, 0,
          "stop registering after this many seconds and go on with those registered; 0 "
          "means no limit");
ABSL_FLAG(double, seconds, 10, "measured length of each ReportLocation, search and floor phase");
ABSL_FLAG(double, warmup_seconds, 1, "unmeasured calls before each of those phases, in seconds");
ABSL_FLAG(std::string, concurrency, "1,16", "comma-separated client thread counts for (c), (d)");
ABSL_FLAG(int, channels, 4,
          "most gRPC channels (each its own connection) the client threads are spread over");
ABSL_FLAG(uint64_t, seed, 1, "seed of the on-duty picks, their points, moves and search centres");
ABSL_FLAG(std::string, district, "", "district to work in; empty means the token's default");
ABSL_FLAG(std::string, json, "", "also write the results as JSON to this file");

namespace yiyuan {
namespace {

using bench::CallerFactory;
using bench::CallResult;
using bench::CpuMicrosPerCall;
using bench::Fixed;
using bench::JsonNumber;
using bench::JsonString;
using bench::Percent;
using bench::PhaseStats;
using bench::ProcessMemory;

// The square the on-duty volunteers stand in and the searches look in.
constexpr double kCenterLat = 30.87;
constexpr double kCenterLng = 120.09;
constexpr double kSideM = 20000;
constexpr double kMetresPerDegreeLat = 111320;  // Close enough over 20 km.
// ReportLocation moves a volunteer by up to this much east and north of where it went
// on duty.
constexpr double kMoveM = 5;
constexpr int kNearbyK = 16;
constexpr double kNearbyRadiusM = 5000;
// The memory target, checked at the full sizes only.
constexpr int64_t kRssTargetBytes = int64_t{2} << 30;
constexpr int64_t kTargetVolunteers = 1000000;
constexpr int64_t kTargetOnDuty = 100000;
// dispatchd counts as idle below this share of one core.
constexpr double kIdleCores = 0.05;
constexpr absl::Duration kMaxSettle = absl::Seconds(180);

const char* const kCommunities[] = {"wx-aiguo",   "wx-feiying", "wx-chengxi",
                                    "wx-huanzhu", "wx-longxi",  "wx-zhili"};
const char* const kSkills[] = {"cooking",  "computer", "haircut",   "shopping",
                               "chatting", "repair",   "gardening", "tutoring"};

v1::LatLng PointAt(double east_m, double north_m) {
  v1::LatLng p;
  p.set_lat(kCenterLat + north_m / kMetresPerDegreeLat);
  p.set_lng(kCenterLng +
            east_m / (kMetresPerDegreeLat * std::cos(kCenterLat * 3.14159265358979323846 / 180)));
  return p;
}

// A uniformly random point of the square, as metres east and north of its centre.
std::pair<double, double> RandomOffset(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> d(-kSideM / 2, kSideM / 2);
  double east = d(rng);
  return {east, d(rng)};
}

std::string Mib(int64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }
std::string Mib(const std::optional<double>& bytes) {
  return bytes.has_value() ? Mib(static_cast<int64_t>(*bytes)) : "–";
}
std::string Count(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// Volunteer n of this run: external id "rb-<run tag>-<n>", a phone unique within the run
// (and, by a random base, very unlikely to meet an earlier run's), and profile details
// that vary with n. Thread-safe: callers take numbers with Next() and record the id
// dispatchd gave with Record().
class RegistrationPlan {
 public:
  explicit RegistrationPlan(int64_t count) : ids_(count) {
    std::random_device rd;
    run_tag_ = absl::StrFormat("%08x", rd());
    phone_base_ = static_cast<int64_t>(rd()) % kPhoneSpace;
  }

  int64_t count() const { return static_cast<int64_t>(ids_.size()); }
  int64_t Next() { return next_.fetch_add(1, std::memory_order_relaxed); }
  int64_t registered() const { return registered_.load(std::memory_order_relaxed); }

  void Fill(int64_t n, v1::RegisterVolunteerRequest* req) const {
    req->Clear();
    req->set_district(absl::GetFlag(FLAGS_district));
    v1::Volunteer* v = req->mutable_volunteer();
    v->set_external_id(absl::StrCat("rb-", run_tag_, "-", n));
    v->set_name(absl::StrCat("Volunteer ", n));
    v->set_phone(absl::StrFormat("13%09d", (phone_base_ + n) % kPhoneSpace));
    v->set_home_community_id(kCommunities[n % static_cast<int64_t>(std::size(kCommunities))]);
    // Two distinct skills.
    const int64_t skills = static_cast<int64_t>(std::size(kSkills));
    int64_t a = n % skills;
    v->add_skills(kSkills[a]);
    v->add_skills(kSkills[(a + 1 + (n / skills) % (skills - 1)) % skills]);
    switch (n % 4) {
      case 0:
        break;
      case 1:
        v->add_certificates(v1::CERT_FIRST_AID);
        break;
      case 2:
        v->add_certificates(v1::CERT_DRIVER);
        v->add_certificates(v1::CERT_ELDER_CARE);
        break;
      default:
        v->add_certificates(v1::CERT_MEDICAL);
        break;
    }
    v->add_languages("zh");
    if (n % 2 == 1) v->add_languages("wuu-huzhou");
    // Three weekly slots on distinct days.
    const int slots[3][3] = {{0, 480, 720}, {2, 840, 1080}, {4, 1080, 1260}};
    for (const auto& s : slots) {
      v1::AvailabilitySlot* slot = v->add_availability();
      slot->set_day_of_week(static_cast<int>((n + s[0]) % 7) + 1);
      slot->set_start_minute(s[1]);
      slot->set_end_minute(s[2]);
    }
    v->set_capacity(1 + static_cast<int>(n % 2));
  }

  void Record(int64_t n, const std::string& id) {
    ids_[n] = id;
    registered_.fetch_add(1, std::memory_order_relaxed);
  }

  // The ids recorded, in registration-number order. Call after every caller is done.
  std::vector<std::string> Ids() const {
    std::vector<std::string> out;
    out.reserve(registered());
    for (const std::string& id : ids_) {
      if (!id.empty()) out.push_back(id);
    }
    return out;
  }

 private:
  static constexpr int64_t kPhoneSpace = 1000000000;  // 9 digits after "13".
  std::string run_tag_;
  int64_t phone_base_ = 0;
  std::vector<std::string> ids_;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> registered_{0};
};

// Flags a registration answered as a replay.
class RegisterCaller : public bench::Caller {
 public:
  RegisterCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token,
                 RegistrationPlan* plan)
      : stub_(v1::VolunteerService::NewStub(channel)), token_(token), plan_(plan) {}

  CallResult Call() override {
    CallResult r;
    int64_t n = plan_->Next();
    if (n >= plan_->count()) {
      r.error = "no volunteer left to register";
      return r;
    }
    plan_->Fill(n, &request_);
    v1::RegisterVolunteerResponse response;
    grpc::ClientContext ctx;
    bench::PrepareContext(token_, &ctx);
    grpc::Status s = stub_->RegisterVolunteer(&ctx, request_, &response);
    if (!s.ok()) {
      r.error = bench::DescribeError(s);
      return r;
    }
    plan_->Record(n, response.volunteer().id());
    r.ok = true;
    r.flagged = response.replayed();
    return r;
  }

 private:
  std::unique_ptr<v1::VolunteerService::Stub> stub_;
  const std::string token_;
  RegistrationPlan* const plan_;
  v1::RegisterVolunteerRequest request_;
};

// The on-duty volunteers and where each went on duty (metres from the square's centre).
// Filled before the callers start; they only read it, except for Next() and Done().
struct DutyPlan {
  std::vector<std::string> ids;
  std::vector<std::pair<double, double>> offsets;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
};

// Picks `m` of `registered` at random (seeded) and a random point of the square for each.
void PlanDuty(const std::vector<std::string>& registered, int64_t m, uint64_t seed,
              DutyPlan* plan) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(registered.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  for (int64_t i = 0; i < m; ++i) {  // The first m steps of a Fisher-Yates shuffle.
    std::uniform_int_distribution<int64_t> pick(i, static_cast<int64_t>(order.size()) - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  plan->ids.clear();
  plan->offsets.clear();
  for (int64_t i = 0; i < m; ++i) {
    plan->ids.push_back(registered[order[i]]);
    plan->offsets.push_back(RandomOffset(rng));
  }
}

// Flags a call whose answer is not DUTY_ON.
class DutyCaller : public bench::Caller {
 public:
  DutyCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token, DutyPlan* plan)
      : stub_(v1::VolunteerService::NewStub(channel)), token_(token), plan_(plan) {}

  CallResult Call() override {
    CallResult r;
    int64_t i = plan_->next.fetch_add(1, std::memory_order_relaxed);
    if (i >= static_cast<int64_t>(plan_->ids.size())) {
      r.error = "no volunteer left to put on duty";
      return r;
    }
    v1::SetDutyStatusRequest req;
    req.set_volunteer_id(plan_->ids[i]);
    req.set_status(v1::DUTY_ON);
    *req.mutable_location() = PointAt(plan_->offsets[i].first, plan_->offsets[i].second);
    v1::Volunteer response;
    grpc::ClientContext ctx;
    bench::PrepareContext(token_, &ctx);
    grpc::Status s = stub_->SetDutyStatus(&ctx, req, &response);
    if (!s.ok()) {
      r.error = bench::DescribeError(s);
      return r;
    }
    plan_->done.fetch_add(1, std::memory_order_relaxed);
    r.ok = true;
    r.flagged = response.duty_status() != v1::DUTY_ON;
    return r;
  }

 private:
  std::unique_ptr<v1::VolunteerService::Stub> stub_;
  const std::string token_;
  DutyPlan* const plan_;
};

// Moves a random on-duty volunteer up to kMoveM east and north of where it went on
// duty. Flags a fix dispatchd did not store.
class ReportLocationCaller : public bench::Caller {
 public:
  ReportLocationCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token,
                       const DutyPlan* plan, uint64_t seed)
      : stub_(v1::VolunteerService::NewStub(channel)), token_(token), plan_(plan), rng_(seed) {}

  CallResult Call() override {
    std::uniform_int_distribution<size_t> pick(0, plan_->ids.size() - 1);
    std::uniform_real_distribution<double> move(-kMoveM, kMoveM);
    size_t i = pick(rng_);
    v1::ReportLocationRequest req;
    req.set_volunteer_id(plan_->ids[i]);
    *req.mutable_location() =
        PointAt(plan_->offsets[i].first + move(rng_), plan_->offsets[i].second + move(rng_));
    req.set_accuracy_m(10);
    v1::ReportLocationResponse response;
    grpc::ClientContext ctx;
    bench::PrepareContext(token_, &ctx);
    grpc::Status s = stub_->ReportLocation(&ctx, req, &response);
    CallResult r;
    if (!s.ok()) {
      r.error = bench::DescribeError(s);
      return r;
    }
    r.ok = true;
    r.flagged = !response.stored();
    return r;
  }

 private:
  std::unique_ptr<v1::VolunteerService::Stub> stub_;
  const std::string token_;
  const DutyPlan* const plan_;
  std::mt19937_64 rng_;
};

// k = 16 within 5 km of a random point of the square. Flags an answer with fewer than
// k candidates.
class NearbyCaller : public bench::Caller {
 public:
  NearbyCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token, uint64_t seed)
      : stub_(v1::VolunteerService::NewStub(channel)), token_(token), rng_(seed) {}

  CallResult Call() override {
    auto [east, north] = RandomOffset(rng_);
    v1::FindNearbyVolunteersRequest req;
    req.set_district(absl::GetFlag(FLAGS_district));
    *req.mutable_center() = PointAt(east, north);
    req.set_limit(kNearbyK);
    req.set_max_radius_m(kNearbyRadiusM);
    v1::FindNearbyVolunteersResponse response;
    grpc::ClientContext ctx;
    bench::PrepareContext(token_, &ctx);
    grpc::Status s = stub_->FindNearbyVolunteers(&ctx, req, &response);
    CallResult r;
    if (!s.ok()) {
      r.error = bench::DescribeError(s);
      return r;
    }
    r.ok = true;
    r.flagged = response.candidates_size() < kNearbyK;
    return r;
  }

 private:
  std::unique_ptr<v1::VolunteerService::Stub> stub_;
  const std::string token_;
  std::mt19937_64 rng_;
};

// redis-server's CPU seconds (used_cpu_user + used_cpu_sys) and forks so far.
struct RedisCounters {
  double cpu_seconds = 0;
  double forks = 0;
};

std::optional<RedisCounters> ReadRedisCounters(const std::string& socket) {
  std::optional<std::string> info = bench::RedisInfo(socket, "cpu stats");
  if (!info.has_value()) return std::nullopt;
  std::optional<double> user = bench::InfoNumber(*info, "used_cpu_user");
  std::optional<double> sys = bench::InfoNumber(*info, "used_cpu_sys");
  std::optional<double> forks = bench::InfoNumber(*info, "total_forks");
  if (!user.has_value() || !sys.has_value() || !forks.has_value()) return std::nullopt;
  return RedisCounters{*user + *sys, *forks};
}

// Memory of both processes at one point of the run.
struct MemoryPoint {
  std::string when;
  std::optional<ProcessMemory> dispatchd;
  std::optional<double> redis_used;  // used_memory, bytes.
  std::optional<double> redis_rss;   // used_memory_rss, bytes.
  std::optional<double> indexed;     // yiyuan_roster_indexed.
};

MemoryPoint ReadMemory(std::string when) {
  MemoryPoint m;
  m.when = std::move(when);
  m.dispatchd = bench::ReadProcessMemory(absl::GetFlag(FLAGS_server_pid));
  if (std::optional<std::string> info =
          bench::RedisInfo(absl::GetFlag(FLAGS_redis_socket), "memory")) {
    m.redis_used = bench::InfoNumber(*info, "used_memory");
    m.redis_rss = bench::InfoNumber(*info, "used_memory_rss");
  }
  if (std::optional<std::string> text = bench::FetchMetrics(absl::GetFlag(FLAGS_metrics))) {
    m.indexed = bench::MetricValue(*text, "yiyuan_roster_indexed");
  }
  return m;
}

// Waits until dispatchd uses less than kIdleCores over a second (its roster has read
// what the last step wrote), at most kMaxSettle; returns how long it waited, or nullopt
// when it never went idle or its CPU time cannot be read.
std::optional<double> WaitIdle(int pid) {
  absl::Time start = absl::Now();
  std::optional<double> before = bench::ProcessCpuSeconds(pid);
  while (before.has_value() && absl::Now() - start < kMaxSettle) {
    absl::SleepFor(absl::Seconds(1));
    std::optional<double> after = bench::ProcessCpuSeconds(pid);
    if (!after.has_value()) return std::nullopt;
    if (*after - *before < kIdleCores) return absl::ToDoubleSeconds(absl::Now() - start);
    before = after;
  }
  return std::nullopt;
}

// Prints `done()` of `total` to stderr every 15 s, with dispatchd's RSS, until stopped.
class Progress {
 public:
  Progress(std::string what, int64_t total, std::function<int64_t()> done)
      : thread_([this, what = std::move(what), total, done = std::move(done)] {
          absl::Time start = absl::Now();
          while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(15))) {
            int64_t n = done();
            double s = absl::ToDoubleSeconds(absl::Now() - start);
            std::optional<ProcessMemory> m =
                bench::ReadProcessMemory(absl::GetFlag(FLAGS_server_pid));
            std::fprintf(
                stderr, "roster_bench: %s: %lld of %lld after %.0f s (%.0f/s)%s\n", what.c_str(),
                static_cast<long long>(n), static_cast<long long>(total), s, s > 0 ? n / s : 0.0,
                m.has_value() ? absl::StrCat(", dispatchd RSS ", Mib(m->rss_bytes)).c_str() : "");
          }
        }) {}
  ~Progress() {
    stop_.Notify();
    thread_.join();
  }

 private:
  absl::Notification stop_;
  std::thread thread_;
};

// Step a or b: a fixed number of calls.
struct SetupStep {
  std::string call;
  int64_t asked = 0;
  int clients = 0;
  PhaseStats stats;
  std::optional<RedisCounters> redis;  // Used during the step.
  std::optional<double> settle_seconds;
  bool stopped_by_time_limit = false;
};

SetupStep RunSetup(const std::string& call, int64_t asked, int clients,
                   const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                   absl::Duration limit, const CallerFactory& factory,
                   std::function<int64_t()> done) {
  SetupStep step;
  step.call = call;
  step.asked = asked;
  step.clients = clients;
  const std::string socket = absl::GetFlag(FLAGS_redis_socket);
  std::optional<RedisCounters> before = ReadRedisCounters(socket);
  bench::PhaseOptions options;
  options.duration = limit;
  options.max_calls = asked;
  options.server_pid = absl::GetFlag(FLAGS_server_pid);
  {
    Progress progress(call, asked, std::move(done));
    step.stats = bench::RunPhase(channels, clients, options, factory);
  }
  std::optional<RedisCounters> after = ReadRedisCounters(socket);
  if (before.has_value() && after.has_value()) {
    step.redis =
        RedisCounters{after->cpu_seconds - before->cpu_seconds, after->forks - before->forks};
  }
  step.stopped_by_time_limit = step.stats.calls() < asked;
  std::fprintf(stderr, "roster_bench: %s: %lld ok, %lld failed in %.1f s; waiting for idle...\n",
               call.c_str(), static_cast<long long>(step.stats.ok),
               static_cast<long long>(step.stats.errors), step.stats.seconds);
  step.settle_seconds = WaitIdle(absl::GetFlag(FLAGS_server_pid));
  return step;
}

// One concurrency level of step c or d.
struct Row {
  int clients = 0;
  int channels = 0;
  std::string call;
  PhaseStats floor;
  PhaseStats stats;
  std::optional<RedisCounters> redis;  // Used during the measured call phase.

  double ratio() const {
    double f = floor.calls_per_second();
    return f > 0 ? stats.calls_per_second() / f : 0;
  }
};

std::string SetupMarkdown(const std::vector<SetupStep>& steps) {
  std::string out =
      "### Building the roster (steps a, b)\n\n"
      "| step | clients | calls asked | ok | failed | seconds | **calls/s** | p50 ms | p99 ms "
      "| dispatchd CPU µs/call | redis-server CPU µs/call | redis-server forks | dispatchd "
      "idle after, s |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const SetupStep& s : steps) {
    std::optional<double> redis_cpu, forks;
    if (s.redis.has_value()) {
      redis_cpu = s.redis->cpu_seconds;
      forks = s.redis->forks;
    }
    absl::StrAppend(&out, "| ", s.call, " | ", s.clients, " | ", Count(s.asked), " | ",
                    Count(s.stats.ok), " | ", Count(s.stats.errors), " | ",
                    Fixed(s.stats.seconds, 1), " | **", Fixed(s.stats.calls_per_second(), 0),
                    "** | ", Fixed(s.stats.p50_ms, 3), " | ", Fixed(s.stats.p99_ms, 3), " | ",
                    Fixed(CpuMicrosPerCall(s.stats.cpu.server, s.stats), 0), " | ",
                    Fixed(CpuMicrosPerCall(redis_cpu, s.stats), 0), " | ", Fixed(forks, 0), " | ",
                    s.settle_seconds.has_value()          ? Fixed(*s.settle_seconds, 0)
                    : absl::GetFlag(FLAGS_server_pid) > 0 ? "not idle"
                                                          : "–",
                    " |\n");
  }
  return out;
}

std::string LoadMarkdown(const std::vector<Row>& rows) {
  std::string out = absl::StrCat(
      "### ReportLocation and FindNearbyVolunteers against the floor (steps c, d)\n\n"
      "| clients | call | floor calls/s | floor p50 ms | floor p99 ms | calls/s | p50 ms | "
      "p99 ms | **call / floor throughput** |\n"
      "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    absl::StrAppend(&out, "| ", r.clients, " (", r.channels, " conn) | ", r.call, " | ",
                    Fixed(r.floor.calls_per_second(), 0), " | ", Fixed(r.floor.p50_ms, 3), " | ",
                    Fixed(r.floor.p99_ms, 3), " | ", Fixed(r.stats.calls_per_second(), 0), " | ",
                    Fixed(r.stats.p50_ms, 3), " | ", Fixed(r.stats.p99_ms, 3), " | **",
                    Percent(r.ratio()), "** |\n");
  }
  absl::StrAppend(&out,
                  "\nCPU time per call, µs (from the OS over each measured phase; the three "
                  "processes share the machine's cores):\n\n"
                  "| clients | call | roster_bench | dispatchd | redis-server | cores busy |\n"
                  "|---:|---|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    for (const PhaseStats* p : {&r.floor, &r.stats}) {
      bool floor = p == &r.floor;
      std::optional<double> redis_cpu;
      if (!floor && r.redis.has_value()) redis_cpu = r.redis->cpu_seconds;
      double busy = p->cpu.client + p->cpu.server.value_or(0) + redis_cpu.value_or(0);
      absl::StrAppend(&out, "| ", r.clients, " | ", floor ? "Health/Check" : r.call, " | ",
                      Fixed(CpuMicrosPerCall(p->cpu.client, *p), 0), " | ",
                      Fixed(CpuMicrosPerCall(p->cpu.server, *p), 0), " | ",
                      floor ? "–" : Fixed(CpuMicrosPerCall(redis_cpu, *p), 0), " | ",
                      p->seconds > 0 ? Fixed(busy / p->seconds, 2) : "–", " |\n");
    }
  }
  return out;
}

std::optional<double> RssOf(const MemoryPoint& m) {
  if (!m.dispatchd.has_value()) return std::nullopt;
  return static_cast<double>(m.dispatchd->rss_bytes);
}

// (after - before) / n, or nullopt.
std::optional<double> PerItem(const std::optional<double>& after,
                              const std::optional<double>& before, int64_t n) {
  if (!after.has_value() || !before.has_value() || n <= 0) return std::nullopt;
  return (*after - *before) / static_cast<double>(n);
}

std::string MemoryMarkdown(const std::vector<MemoryPoint>& points, int64_t registered,
                           int64_t on_duty) {
  std::string out =
      "### Memory (step e)\n\n"
      "| when | dispatchd VmRSS | dispatchd VmHWM (peak so far) | redis-server used_memory | "
      "redis-server used_memory_rss | volunteers in the live roster |\n"
      "|---|---:|---:|---:|---:|---:|\n";
  for (const MemoryPoint& m : points) {
    absl::StrAppend(&out, "| ", m.when, " | ",
                    m.dispatchd.has_value() ? Mib(m.dispatchd->rss_bytes) : "–", " | ",
                    m.dispatchd.has_value() ? Mib(m.dispatchd->hwm_bytes) : "–", " | ",
                    Mib(m.redis_used), " | ", Mib(m.redis_rss), " | ",
                    m.indexed.has_value() ? Count(static_cast<int64_t>(*m.indexed)) : "–", " |\n");
  }
  if (points.size() < 3) return out;
  const MemoryPoint& start = points[0];
  const MemoryPoint& after_register = points[1];
  const MemoryPoint& after_duty = points[2];
  absl::StrAppend(&out, "\nPer volunteer (growth over the step / volunteers it added):\n\n",
                  "- dispatchd VmRSS per registered volunteer: ",
                  Fixed(PerItem(RssOf(after_register), RssOf(start), registered), 0),
                  " B; per on-duty "
                  "volunteer: ",
                  Fixed(PerItem(RssOf(after_duty), RssOf(after_register), on_duty), 0), " B.\n",
                  "- redis-server used_memory per registered volunteer: ",
                  Fixed(PerItem(after_register.redis_used, start.redis_used, registered), 0),
                  " B; per on-duty volunteer: ",
                  Fixed(PerItem(after_duty.redis_used, after_register.redis_used, on_duty), 0),
                  " B.\n");

  absl::StrAppend(&out, "\nTarget: dispatchd VmRSS ≤ 2 GiB with ", Count(kTargetVolunteers),
                  " registered and ", Count(kTargetOnDuty), " on duty: **");
  std::optional<double> rss = RssOf(after_duty);
  if (!rss.has_value()) {
    absl::StrAppend(&out, "not measured** (no --server-pid).\n");
  } else if (registered < kTargetVolunteers || on_duty < kTargetOnDuty) {
    absl::StrAppend(&out, "not measured at those sizes** (this run: ", Count(registered),
                    " registered, ", Count(on_duty), " on duty; VmRSS ",
                    Mib(static_cast<int64_t>(*rss)), ").\n");
  } else {
    absl::StrAppend(&out, *rss <= kRssTargetBytes ? "met" : "not met", "** (VmRSS ",
                    Mib(static_cast<int64_t>(*rss)), " after step b; the peak so far, VmHWM, ",
                    Mib(after_duty.dispatchd->hwm_bytes), ").\n");
  }
  return out;
}

std::string NotesMarkdown(const std::vector<SetupStep>& steps, const std::vector<Row>& rows,
                          double limit_seconds) {
  std::vector<std::string> notes;
  for (const SetupStep& s : steps) {
    if (s.stopped_by_time_limit) {
      notes.push_back(absl::StrCat(s.call, ": stopped at the time limit of ",
                                   Fixed(limit_seconds, 0), " s after ", Count(s.stats.calls()),
                                   " of ", Count(s.asked), " calls"));
    }
    if (s.stats.errors > 0) {
      notes.push_back(absl::StrCat(s.call, ": ", Count(s.stats.errors), " of ",
                                   Count(s.stats.calls()),
                                   " calls failed (first: ", s.stats.first_error, ")"));
    }
    if (s.stats.flagged > 0) {
      notes.push_back(absl::StrCat(s.call, ": ", Count(s.stats.flagged), " answers were ",
                                   s.call == "RegisterVolunteer" ? "replays" : "not DUTY_ON"));
    }
    if (!s.settle_seconds.has_value() && absl::GetFlag(FLAGS_server_pid) > 0) {
      notes.push_back(absl::StrCat("after ", s.call, ": dispatchd did not go idle within ",
                                   absl::ToInt64Seconds(kMaxSettle), " s; memory was read anyway"));
    }
  }
  for (const Row& r : rows) {
    for (const PhaseStats* p : {&r.floor, &r.stats}) {
      if (p->errors > 0) {
        notes.push_back(absl::StrCat("c=", r.clients, ", ", p == &r.floor ? "Health/Check" : r.call,
                                     ": ", p->errors, " of ", p->calls(),
                                     " calls failed (first: ", p->first_error, ")"));
      }
    }
    if (r.redis.has_value() && r.redis->forks > 0) {
      notes.push_back(absl::StrCat("c=", r.clients, ", ", r.call, ": redis-server forked ",
                                   r.redis->forks,
                                   " time(s) during the phase (RDB save or AOF rewrite)"));
    }
    if (r.stats.flagged > 0) {
      notes.push_back(absl::StrCat(
          "c=", r.clients, ", ", r.call, ": ", r.stats.flagged, " of ", r.stats.ok, " answers ",
          r.call == "ReportLocation" ? "did not store the fix"
                                     : absl::StrCat("held fewer than ", kNearbyK, " candidates")));
    }
  }
  if (notes.empty()) return "";
  std::string out = "\nNotes:\n\n";
  for (const std::string& n : notes) absl::StrAppend(&out, "- ", n, "\n");
  return out;
}

std::string JsonMemory(const MemoryPoint& m) {
  std::optional<double> rss, hwm;
  if (m.dispatchd.has_value()) {
    rss = static_cast<double>(m.dispatchd->rss_bytes);
    hwm = static_cast<double>(m.dispatchd->hwm_bytes);
  }
  return absl::StrCat("{\"when\": ", JsonString(m.when),
                      ", \"dispatchd_vmrss_bytes\": ", JsonNumber(rss),
                      ", \"dispatchd_vmhwm_bytes\": ", JsonNumber(hwm),
                      ", \"redis_used_memory_bytes\": ", JsonNumber(m.redis_used),
                      ", \"redis_used_memory_rss_bytes\": ", JsonNumber(m.redis_rss),
                      ", \"roster_indexed\": ", JsonNumber(m.indexed), "}");
}

std::string Json(const std::vector<SetupStep>& steps, const std::vector<Row>& rows,
                 const std::vector<MemoryPoint>& memory) {
  std::vector<std::string> s, r, m;
  for (const SetupStep& step : steps) {
    std::optional<double> redis_cpu, forks;
    if (step.redis.has_value()) {
      redis_cpu = step.redis->cpu_seconds;
      forks = step.redis->forks;
    }
    s.push_back(absl::StrCat("    {\"call\": ", JsonString(step.call), ", \"asked\": ", step.asked,
                             ", \"clients\": ", step.clients, ", \"stopped_by_time_limit\": ",
                             step.stopped_by_time_limit ? "true" : "false",
                             ",\n     \"phase\": ", bench::JsonPhase(step.stats, "flagged"),
                             ",\n     \"redis_cpu_seconds\": ", JsonNumber(redis_cpu),
                             ", \"redis_forks\": ", JsonNumber(forks),
                             ", \"idle_after_seconds\": ", JsonNumber(step.settle_seconds), "}"));
  }
  for (const Row& row : rows) {
    std::optional<double> redis_cpu, forks;
    if (row.redis.has_value()) {
      redis_cpu = row.redis->cpu_seconds;
      forks = row.redis->forks;
    }
    r.push_back(absl::StrCat("    {\"clients\": ", row.clients, ", \"channels\": ", row.channels,
                             ", \"call\": ", JsonString(row.call),
                             ",\n     \"floor\": ", bench::JsonPhase(row.floor, "flagged"),
                             ",\n     \"phase\": ", bench::JsonPhase(row.stats, "flagged"),
                             ",\n     \"call_to_floor_throughput\": ", JsonNumber(row.ratio()),
                             ", \"redis_cpu_seconds\": ", JsonNumber(redis_cpu),
                             ", \"redis_forks\": ", JsonNumber(forks), "}"));
  }
  for (const MemoryPoint& point : memory) m.push_back(absl::StrCat("    ", JsonMemory(point)));
  return absl::StrCat("{\n  \"seconds_per_phase\": ", JsonNumber(absl::GetFlag(FLAGS_seconds)),
                      ",\n  \"setup\": [\n", absl::StrJoin(s, ",\n"), "\n  ],\n  \"load\": [\n",
                      absl::StrJoin(r, ",\n"), "\n  ],\n  \"memory\": [\n", absl::StrJoin(m, ",\n"),
                      "\n  ]\n}\n");
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "roster_bench: %s\n", message.c_str());
  return 2;
}

int Run(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for dispatchd's live roster: RegisterVolunteer, SetDutyStatus, "
      "ReportLocation and FindNearbyVolunteers against the gRPC floor, and memory.\n"
      "  roster_bench --server=HOST:PORT --token-file=FILE --server-pid=PID "
      "[--redis-socket=SOCK] [--metrics=URL] [--volunteers=N] [--on-duty=M] [--seconds=10] "
      "[--concurrency=1,16] [--json=FILE]");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  std::vector<char*> args_view = ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), args_view.data());

  std::optional<std::string> token = bench::ReadToken(absl::GetFlag(FLAGS_token_file));
  if (!token.has_value()) {
    return Fail(absl::StrCat("--token-file: cannot read a token from \"",
                             absl::GetFlag(FLAGS_token_file), "\""));
  }
  std::vector<int> levels;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_concurrency), ',', absl::SkipWhitespace())) {
    int c = 0;
    if (!absl::SimpleAtoi(part, &c) || c < 1) {
      return Fail(absl::StrCat("--concurrency: \"", part, "\" is not a positive number"));
    }
    levels.push_back(c);
  }
  const int64_t volunteers = absl::GetFlag(FLAGS_volunteers);
  const int64_t on_duty = absl::GetFlag(FLAGS_on_duty);
  const int register_clients = absl::GetFlag(FLAGS_register_clients);
  const double limit_seconds = absl::GetFlag(FLAGS_register_time_limit);
  if (levels.empty() || absl::GetFlag(FLAGS_seconds) <= 0 || absl::GetFlag(FLAGS_channels) < 1 ||
      volunteers < 1 || on_duty < 1 || on_duty > volunteers || register_clients < 1 ||
      limit_seconds < 0) {
    return Fail(
        "need --concurrency, --seconds > 0, --channels >= 1, --register-clients >= 1, "
        "1 <= --on-duty <= --volunteers, --register-time-limit >= 0");
  }
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  if (server_pid != 0 && !bench::ReadProcessMemory(server_pid).has_value()) {
    return Fail(absl::StrCat("--server-pid: cannot read /proc/", server_pid, "/status"));
  }
  const std::string redis_socket = absl::GetFlag(FLAGS_redis_socket);
  if (!redis_socket.empty() && !ReadRedisCounters(redis_socket).has_value()) {
    return Fail(absl::StrCat("--redis-socket: redis-cli -s ", redis_socket, " INFO failed"));
  }
  const std::string metrics = absl::GetFlag(FLAGS_metrics);
  if (!metrics.empty()) {
    std::optional<std::string> text = bench::FetchMetrics(metrics);
    if (!text.has_value() || !bench::MetricValue(*text, "yiyuan_roster_indexed").has_value()) {
      return Fail(absl::StrCat("--metrics: no yiyuan_roster_indexed at ", metrics));
    }
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int max_channels = absl::GetFlag(FLAGS_channels);

  std::vector<MemoryPoint> memory;
  std::vector<SetupStep> steps;
  memory.push_back(ReadMemory("before registering"));

  // a. Registration.
  RegistrationPlan registrations(volunteers);
  std::vector<std::shared_ptr<grpc::Channel>> setup_channels =
      bench::MakeChannels(server, std::min(register_clients, max_channels));
  std::fprintf(stderr, "roster_bench: registering %lld volunteers with %d clients...\n",
               static_cast<long long>(volunteers), register_clients);
  steps.push_back(RunSetup(
      "RegisterVolunteer", volunteers, register_clients, setup_channels,
      limit_seconds > 0 ? absl::Seconds(limit_seconds) : absl::InfiniteDuration(),
      [&](int, std::shared_ptr<grpc::Channel> ch) {
        return std::make_unique<RegisterCaller>(std::move(ch), *token, &registrations);
      },
      [&] { return registrations.registered(); }));
  std::vector<std::string> registered = registrations.Ids();
  memory.push_back(ReadMemory(absl::StrCat("after ", Count(registered.size()), " registered")));
  if (registered.empty()) return Fail("no volunteer was registered");

  // b. On duty.
  DutyPlan duty;
  PlanDuty(registered, std::min<int64_t>(on_duty, registered.size()), seed, &duty);
  const int64_t planned = static_cast<int64_t>(duty.ids.size());
  std::fprintf(stderr, "roster_bench: putting %lld volunteers on duty...\n",
               static_cast<long long>(planned));
  steps.push_back(RunSetup(
      "SetDutyStatus DUTY_ON", planned, register_clients, setup_channels, absl::InfiniteDuration(),
      [&](int, std::shared_ptr<grpc::Channel> ch) {
        return std::make_unique<DutyCaller>(std::move(ch), *token, &duty);
      },
      [&] { return duty.done.load(); }));
  const int64_t went_on_duty = duty.done.load();
  memory.push_back(ReadMemory(absl::StrCat("after ", Count(went_on_duty), " on duty")));
  if (went_on_duty == 0) return Fail("no volunteer went on duty");

  // c, d. Against the floor, at each concurrency.
  bench::PhaseOptions options;
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  options.server_pid = server_pid;
  const absl::Duration warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  std::vector<Row> rows;
  for (const std::string call : {"ReportLocation", "FindNearbyVolunteers"}) {
    for (int clients : levels) {
      Row row;
      row.clients = clients;
      row.channels = std::min(clients, max_channels);
      row.call = call;
      std::vector<std::shared_ptr<grpc::Channel>> channels =
          bench::MakeChannels(server, row.channels);
      std::fprintf(stderr, "roster_bench: %d clients on %d connections: Health/Check...\n", clients,
                   row.channels);
      absl::StatusOr<PhaseStats> floor = bench::WarmAndRun(
          channels, clients, "Health/Check", warmup, options,
          [&](int, std::shared_ptr<grpc::Channel> ch) {
            return std::make_unique<bench::HealthCaller>(std::move(ch), *token);
          },
          [] {});
      if (!floor.ok()) return Fail(std::string(floor.status().message()));
      row.floor = *floor;
      std::fprintf(stderr, "roster_bench: %d clients on %d connections: %s...\n", clients,
                   row.channels, call.c_str());
      CallerFactory factory =
          [&](int thread, std::shared_ptr<grpc::Channel> ch) -> std::unique_ptr<bench::Caller> {
        uint64_t s = seed * 1000003 + static_cast<uint64_t>(clients) * 1000 + thread;
        if (call == "ReportLocation") {
          return std::make_unique<ReportLocationCaller>(std::move(ch), *token, &duty, s);
        }
        return std::make_unique<NearbyCaller>(std::move(ch), *token, s);
      };
      std::optional<RedisCounters> redis_before;
      absl::StatusOr<PhaseStats> stats =
          bench::WarmAndRun(channels, clients, call, warmup, options, factory,
                            [&] { redis_before = ReadRedisCounters(redis_socket); });
      if (!stats.ok()) return Fail(std::string(stats.status().message()));
      row.stats = *stats;
      std::optional<RedisCounters> redis_after = ReadRedisCounters(redis_socket);
      if (redis_before.has_value() && redis_after.has_value()) {
        row.redis = RedisCounters{redis_after->cpu_seconds - redis_before->cpu_seconds,
                                  redis_after->forks - redis_before->forks};
      }
      rows.push_back(std::move(row));
    }
  }
  memory.push_back(ReadMemory("after steps c and d"));

  std::string out =
      absl::StrCat(SetupMarkdown(steps), "\n", LoadMarkdown(rows), "\n",
                   MemoryMarkdown(memory, static_cast<int64_t>(registered.size()), went_on_duty),
                   NotesMarkdown(steps, rows, limit_seconds));
  std::fputs(out.c_str(), stdout);
  if (std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream json(path, std::ios::trunc);
    json << Json(steps, rows, memory);
    if (!json) {
      std::fprintf(stderr, "roster_bench: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace yiyuan

int main(int argc, char** argv) { return yiyuan::Run(argc, argv); }
