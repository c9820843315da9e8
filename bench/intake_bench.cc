// intake_bench: a load generator for IntakeService.SubmitRequest, measured against
// the gRPC floor — grpc.health.v1.Health/Check on the same server, in the same run.
//
//   intake_bench --server=127.0.0.1:50051 --token-file=DATA/admin.token
//       [--redis-socket=DATA/redis.sock] [--metrics=http://127.0.0.1:9464/metrics]
//       [--server-pid=PID] [--seconds=10] [--concurrency=1,16] [--json=FILE]
//
// For each concurrency c it runs c client threads, first calling Health/Check, then
// SubmitRequest, each for --seconds after an unmeasured warm-up. Every submit has a new
// request_id and a new resident phone, so nothing is replayed or folded as a duplicate.
// It prints a markdown table (calls/s, p50, p99, submit/floor throughput) and the Redis
// round trips per submit seen from both ends: EVALSHA/EVAL calls counted by
// redis-server (INFO commandstats; commands run inside scripts are counted there too,
// so only EVALSHA/EVAL are client round trips) and dispatchd's own
// yiyuan_redis_round_trips_total. run_intake_bench.sh drives it.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "bench/load_phase.h"
#include "server/flag_names.h"
#include "yiyuan/v1/intake.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "dispatchd's gRPC address (host:port)");
ABSL_FLAG(std::string, token_file, "",
          "file holding a bearer token that may call SubmitRequest (e.g. DATA/admin.token)");
ABSL_FLAG(double, seconds, 10, "measured length of each phase, in seconds");
ABSL_FLAG(double, warmup_seconds, 1,
          "unmeasured calls before each phase (connections, Redis script cache), in seconds");
ABSL_FLAG(std::string, concurrency, "1,16", "comma-separated client thread counts");
ABSL_FLAG(int, channels, 4,
          "most gRPC channels (each its own connection) the client threads are spread over");
ABSL_FLAG(std::string, redis_socket, "",
          "unix socket of dispatchd's Redis, read with redis-cli INFO; empty skips it");
ABSL_FLAG(std::string, metrics, "",
          "dispatchd's Prometheus endpoint (http://host:port/metrics or host:port); empty "
          "skips it");
ABSL_FLAG(int, server_pid, 0, "dispatchd's pid, to report its CPU time per call; 0 skips it");
ABSL_FLAG(std::string, label, "", "heading of the markdown output, e.g. the storage tested");
ABSL_FLAG(std::string, json, "", "also write the results as JSON to this file");
ABSL_FLAG(std::string, district, "", "district to submit into; empty means the token's default");

namespace yiyuan {
namespace {

using bench::CallerFactory;
using bench::CallResult;
using bench::CpuMicrosPerCall;
using bench::Fixed;
using bench::JsonNumber;
using bench::JsonString;
using bench::Minus;
using bench::Percent;
using bench::PhaseStats;

// Numbers submissions: request ids and resident phones unique within the run, and
// (by a random run tag and phone base) very unlikely to meet an earlier run's.
class SubmitSequence {
 public:
  SubmitSequence() {
    std::random_device rd;
    run_tag_ = absl::StrFormat("%08x", rd());
    phone_base_ = static_cast<int64_t>(rd()) % kPhoneSpace;
  }
  // Fills `req` with the next unique, valid submission.
  void Fill(std::mt19937_64& rng, v1::SubmitRequestRequest* req) {
    int64_t n = next_.fetch_add(1, std::memory_order_relaxed);
    std::uniform_real_distribution<double> jitter(-0.01, 0.01);
    req->Clear();
    req->set_request_id(absl::StrCat("bench-", run_tag_, "-", n));
    req->set_district(absl::GetFlag(FLAGS_district));
    v1::HelpRequest* h = req->mutable_request();
    h->set_channel(v1::APP);
    h->set_category(v1::SHOPPING);
    h->set_urgency(v1::ROUTINE);
    v1::Resident* res = h->mutable_resident();
    res->set_name("bench");
    res->set_phone(absl::StrFormat("13%09d", (phone_base_ + n) % kPhoneSpace));
    res->mutable_location()->set_lat(30.87 + jitter(rng));
    res->mutable_location()->set_lng(120.09 + jitter(rng));
    res->set_community_id("wx-aiguo");
  }

 private:
  static constexpr int64_t kPhoneSpace = 1000000000;  // 9 digits after "13".
  std::string run_tag_;
  int64_t phone_base_ = 0;
  std::atomic<int64_t> next_{0};
};

// Flags a submit answered as a replay or a duplicate.
class SubmitCaller : public bench::Caller {
 public:
  SubmitCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token,
               SubmitSequence* sequence, uint64_t seed)
      : stub_(v1::IntakeService::NewStub(channel)),
        token_(token),
        sequence_(sequence),
        rng_(seed) {}

  CallResult Call() override {
    sequence_->Fill(rng_, &request_);
    v1::SubmitRequestResponse response;
    grpc::ClientContext ctx;
    bench::PrepareContext(token_, &ctx);
    grpc::Status s = stub_->SubmitRequest(&ctx, request_, &response);
    CallResult r;
    if (!s.ok()) {
      r.error = bench::DescribeError(s);
      return r;
    }
    r.ok = true;
    r.flagged = response.replayed() || !response.duplicate_of().empty();
    return r;
  }

 private:
  std::unique_ptr<v1::IntakeService::Stub> stub_;
  const std::string token_;
  SubmitSequence* const sequence_;
  std::mt19937_64 rng_;
  v1::SubmitRequestRequest request_;
};

// What redis-server says (INFO cpu stats commandstats).
struct RedisSample {
  std::map<std::string, int64_t> calls;  // Per command, e.g. "evalsha".
  std::map<std::string, int64_t> usec;   // Time spent in each command, µs.
  double cpu_seconds = 0;                // used_cpu_user + used_cpu_sys.
  int64_t forks = 0;                     // total_forks (RDB saves, AOF rewrites).
};

// One concurrency level's results.
struct Row {
  int clients = 0;
  int channels = 0;
  PhaseStats floor;
  PhaseStats submit;
  std::optional<RedisSample> redis;             // Differences over the submit phase.
  std::optional<double> dispatchd_round_trips;  // Over the submit phase.

  double ratio() const {
    double f = floor.calls_per_second();
    return f > 0 ? submit.calls_per_second() / f : 0;
  }
  std::optional<double> PerSubmit(const std::optional<double>& total) const {
    if (!total.has_value() || submit.calls() == 0) return std::nullopt;
    return *total / static_cast<double>(submit.calls());
  }
  std::optional<double> ScriptCalls() const {
    if (!redis.has_value()) return std::nullopt;
    auto get = [&](const char* k) {
      auto it = redis->calls.find(k);
      return it == redis->calls.end() ? 0 : it->second;
    };
    return static_cast<double>(get("evalsha") + get("eval"));
  }
  // Commands redis-server ran per submit, those inside scripts included; the bench's
  // own INFO and dispatchd's health PINGs are left out.
  std::optional<double> CommandsRun() const {
    if (!redis.has_value()) return std::nullopt;
    int64_t n = 0;
    for (const auto& [cmd, calls] : redis->calls) {
      if (cmd != "info" && cmd != "ping") n += calls;
    }
    return static_cast<double>(n);
  }
};

std::optional<RedisSample> ReadRedis(const std::string& socket) {
  std::optional<std::string> out = bench::RedisInfo(socket, "cpu stats commandstats");
  if (!out.has_value()) return std::nullopt;
  RedisSample r;
  for (absl::string_view line : absl::StrSplit(*out, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    double d = 0;
    if ((kv.first == "used_cpu_sys" || kv.first == "used_cpu_user") &&
        absl::SimpleAtod(kv.second, &d)) {
      r.cpu_seconds += d;
    } else if (kv.first == "total_forks") {
      if (!absl::SimpleAtoi(kv.second, &r.forks)) r.forks = 0;
    } else if (absl::ConsumePrefix(&kv.first, "cmdstat_")) {
      // calls=N,usec=N,usec_per_call=D,rejected_calls=N,failed_calls=N
      for (absl::string_view field : absl::StrSplit(kv.second, ',')) {
        int64_t v = 0;
        if (absl::ConsumePrefix(&field, "calls=") && absl::SimpleAtoi(field, &v)) {
          r.calls[std::string(kv.first)] = v;
        } else if (absl::ConsumePrefix(&field, "usec=") && absl::SimpleAtoi(field, &v)) {
          r.usec[std::string(kv.first)] = v;
        }
      }
    }
  }
  return r;
}

RedisSample Subtract(const RedisSample& after, const RedisSample& before) {
  RedisSample d;
  for (const auto& [cmd, n] : after.calls) {
    auto it = before.calls.find(cmd);
    int64_t diff = n - (it == before.calls.end() ? 0 : it->second);
    if (diff != 0) d.calls[cmd] = diff;
  }
  for (const auto& [cmd, n] : after.usec) {
    auto it = before.usec.find(cmd);
    int64_t diff = n - (it == before.usec.end() ? 0 : it->second);
    if (diff != 0) d.usec[cmd] = diff;
  }
  d.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
  d.forks = after.forks - before.forks;
  return d;
}

// yiyuan_redis_round_trips_total from dispatchd's /metrics.
std::optional<double> ReadRoundTrips(const std::string& url) {
  std::optional<std::string> text = bench::FetchMetrics(url);
  if (!text.has_value()) return std::nullopt;
  return bench::MetricValue(*text, "yiyuan_redis_round_trips_total");
}

// Warms up, then measures a phase; exits the program if every warm-up call failed.
PhaseStats WarmAndRun(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int clients,
                      const char* what, const CallerFactory& factory,
                      const std::function<void()>& before_measuring) {
  bench::PhaseOptions options;
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  options.server_pid = absl::GetFlag(FLAGS_server_pid);
  absl::StatusOr<PhaseStats> stats =
      bench::WarmAndRun(channels, clients, what, absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds)),
                        options, factory, before_measuring);
  if (!stats.ok()) {
    std::fprintf(stderr, "intake_bench: %s\n", std::string(stats.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(stats);
}

// A target is met when its figure, as printed (two decimals), is within the bound.
constexpr double kMaxRoundTrips = 1.0;
constexpr double kMinRatio = 0.5;

std::string Markdown(const std::vector<Row>& rows, const std::string& label) {
  std::string out;
  if (!label.empty()) absl::StrAppend(&out, "### ", label, "\n\n");
  absl::StrAppend(
      &out,
      "| clients | floor calls/s | floor p50 ms | floor p99 ms | submit calls/s | submit p50 ms "
      "| submit p99 ms | **submit / floor throughput** | EVALSHA+EVAL per submit | dispatchd "
      "Redis round trips per submit | Redis commands per submit (incl. in scripts) |\n",
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    absl::StrAppend(&out, "| ", r.clients, " (", r.channels, " conn) | ",
                    Fixed(r.floor.calls_per_second(), 0), " | ", Fixed(r.floor.p50_ms, 3), " | ",
                    Fixed(r.floor.p99_ms, 3), " | ", Fixed(r.submit.calls_per_second(), 0), " | ",
                    Fixed(r.submit.p50_ms, 3), " | ", Fixed(r.submit.p99_ms, 3), " | **",
                    Percent(r.ratio()), "** | ", Fixed(r.PerSubmit(r.ScriptCalls()), 2), " | ",
                    Fixed(r.PerSubmit(r.dispatchd_round_trips), 2), " | ",
                    Fixed(r.PerSubmit(r.CommandsRun()), 1), " |\n");
  }
  absl::StrAppend(&out,
                  "\nCPU time per call, µs (from the OS over each measured phase; the three "
                  "processes share the machine's cores):\n\n"
                  "| clients | call | intake_bench | dispatchd | redis-server | inside EVALSHA "
                  "(Redis's own count) | cores busy |\n"
                  "|---:|---|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    for (const PhaseStats* p : {&r.floor, &r.submit}) {
      bool submit = p == &r.submit;
      std::optional<double> redis_cpu;
      std::optional<double> in_script;
      if (submit && r.redis.has_value()) {
        redis_cpu = r.redis->cpu_seconds;
        auto it = r.redis->usec.find("evalsha");
        if (it != r.redis->usec.end()) in_script = it->second / 1e6;
      }
      double busy = p->cpu.client + p->cpu.server.value_or(0) + redis_cpu.value_or(0);
      absl::StrAppend(&out, "| ", r.clients, " | ", submit ? "SubmitRequest" : "Health/Check",
                      " | ", Fixed(CpuMicrosPerCall(p->cpu.client, *p), 0), " | ",
                      Fixed(CpuMicrosPerCall(p->cpu.server, *p), 0), " | ",
                      submit ? Fixed(CpuMicrosPerCall(redis_cpu, *p), 0) : "–", " | ",
                      submit ? Fixed(CpuMicrosPerCall(in_script, *p), 0) : "–", " | ",
                      p->seconds > 0 ? Fixed(busy / p->seconds, 2) : "–", " |\n");
    }
  }

  // Targets.
  bool rt_known = true;
  double worst_rt = 0;
  std::vector<std::string> rt_parts;
  bool ratio_met = true;
  std::vector<std::string> ratio_parts;
  for (const Row& r : rows) {
    std::optional<double> script = r.PerSubmit(r.ScriptCalls());
    std::optional<double> trips = r.PerSubmit(r.dispatchd_round_trips);
    if (!script.has_value() || !trips.has_value()) rt_known = false;
    worst_rt = std::max({worst_rt, script.value_or(0), trips.value_or(0)});
    rt_parts.push_back(absl::StrCat("c=", r.clients, ": ", Fixed(script, 2), " EVALSHA+EVAL, ",
                                    Fixed(trips, 2), " dispatchd round trips"));
    if (std::round(r.ratio() * 100) < kMinRatio * 100) ratio_met = false;
    ratio_parts.push_back(absl::StrCat("c=", r.clients, ": ", Percent(r.ratio())));
  }
  bool rt_met = rt_known && std::round(worst_rt * 100) <= kMaxRoundTrips * 100;
  absl::StrAppend(&out, "\nTargets:\n\n- ≤ 1 Redis round trip per submit: **",
                  !rt_known ? "not measured" : (rt_met ? "met" : "not met"), "** (",
                  absl::StrJoin(rt_parts, "; "), ").\n",
                  "- Submit throughput ≥ 50% of the floor's at each concurrency: **",
                  ratio_met ? "met" : "not met", "** (", absl::StrJoin(ratio_parts, "; "), ").\n");

  std::vector<std::string> notes;
  for (const Row& r : rows) {
    for (const PhaseStats* p : {&r.floor, &r.submit}) {
      if (p->errors > 0) {
        notes.push_back(absl::StrCat(
            "c=", r.clients, ", ", p == &r.submit ? "SubmitRequest" : "Health/Check", ": ",
            p->errors, " of ", p->calls(), " calls failed (first: ", p->first_error, ")"));
      }
    }
    if (r.submit.flagged > 0) {
      notes.push_back(absl::StrCat("c=", r.clients, ": ", r.submit.flagged,
                                   " submits were answered as replays/duplicates"));
    }
    if (r.redis.has_value() && r.redis->forks > 0) {
      notes.push_back(absl::StrCat("c=", r.clients, ": redis-server forked ", r.redis->forks,
                                   " time(s) during the submit phase (RDB save or AOF "
                                   "rewrite)"));
    }
  }
  if (!notes.empty()) {
    absl::StrAppend(&out, "\nNotes:\n\n");
    for (const std::string& n : notes) absl::StrAppend(&out, "- ", n, "\n");
  }
  return out;
}

std::string Json(const std::vector<Row>& rows, const std::string& label) {
  std::vector<std::string> items;
  for (const Row& r : rows) {
    std::string redis = "null";
    if (r.redis.has_value()) {
      std::vector<std::string> calls;
      for (const auto& [cmd, n] : r.redis->calls) {
        calls.push_back(absl::StrCat(JsonString(cmd), ": ", n));
      }
      std::vector<std::string> usec;
      for (const auto& [cmd, n] : r.redis->usec) {
        usec.push_back(absl::StrCat(JsonString(cmd), ": ", n));
      }
      redis = absl::StrCat("{\"calls\": {", absl::StrJoin(calls, ", "), "}, \"usec\": {",
                           absl::StrJoin(usec, ", "),
                           "}, \"cpu_seconds\": ", JsonNumber(r.redis->cpu_seconds),
                           ", \"forks\": ", r.redis->forks, "}");
    }
    items.push_back(absl::StrCat(
        "    {\"clients\": ", r.clients, ", \"channels\": ", r.channels,
        ",\n     \"floor\": ", bench::JsonPhase(r.floor, "folded"),
        ",\n     \"submit\": ", bench::JsonPhase(r.submit, "folded"),
        ",\n     \"submit_to_floor_throughput\": ", JsonNumber(r.ratio()),
        ",\n     \"evalsha_eval_per_submit\": ", JsonNumber(r.PerSubmit(r.ScriptCalls())),
        ",\n     \"dispatchd_round_trips_per_submit\": ",
        JsonNumber(r.PerSubmit(r.dispatchd_round_trips)), ",\n     \"redis_commands_per_submit\": ",
        JsonNumber(r.PerSubmit(r.CommandsRun())), ",\n     \"redis_during_submit\": ", redis, "}"));
  }
  return absl::StrCat("{\n  \"label\": ", JsonString(label),
                      ",\n  \"seconds_per_phase\": ", JsonNumber(absl::GetFlag(FLAGS_seconds)),
                      ",\n  \"results\": [\n", absl::StrJoin(items, ",\n"), "\n  ]\n}\n");
}

int Run(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for IntakeService.SubmitRequest against the gRPC floor.\n"
      "  intake_bench --server=HOST:PORT --token-file=FILE [--redis-socket=SOCK] "
      "[--metrics=URL] [--server-pid=PID] [--seconds=10] [--concurrency=1,16] [--json=FILE]");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  std::vector<char*> args_view = ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), args_view.data());

  std::optional<std::string> token = bench::ReadToken(absl::GetFlag(FLAGS_token_file));
  if (!token.has_value()) {
    std::fprintf(stderr, "intake_bench: --token-file: cannot read a token from \"%s\"\n",
                 absl::GetFlag(FLAGS_token_file).c_str());
    return 2;
  }
  std::vector<int> levels;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_concurrency), ',', absl::SkipWhitespace())) {
    int c = 0;
    if (!absl::SimpleAtoi(part, &c) || c < 1) {
      std::fprintf(stderr, "intake_bench: --concurrency: \"%s\" is not a positive number\n",
                   std::string(part).c_str());
      return 2;
    }
    levels.push_back(c);
  }
  if (levels.empty() || absl::GetFlag(FLAGS_seconds) <= 0 || absl::GetFlag(FLAGS_channels) < 1) {
    std::fprintf(stderr, "intake_bench: need --concurrency, --seconds > 0, --channels >= 1\n");
    return 2;
  }
  const std::string redis_socket = absl::GetFlag(FLAGS_redis_socket);
  const std::string metrics = absl::GetFlag(FLAGS_metrics);
  if (!redis_socket.empty() && !ReadRedis(redis_socket).has_value()) {
    std::fprintf(stderr, "intake_bench: --redis-socket: redis-cli -s %s INFO failed\n",
                 redis_socket.c_str());
    return 2;
  }
  if (!metrics.empty() && !ReadRoundTrips(metrics).has_value()) {
    std::fprintf(stderr, "intake_bench: --metrics: no yiyuan_redis_round_trips_total at %s\n",
                 metrics.c_str());
    return 2;
  }

  SubmitSequence sequence;
  std::vector<Row> rows;
  for (int clients : levels) {
    Row row;
    row.clients = clients;
    row.channels = std::min(clients, absl::GetFlag(FLAGS_channels));
    std::vector<std::shared_ptr<grpc::Channel>> channels =
        bench::MakeChannels(absl::GetFlag(FLAGS_server), row.channels);
    std::fprintf(stderr, "intake_bench: %d clients on %d connections: Health/Check...\n", clients,
                 row.channels);
    row.floor = WarmAndRun(
        channels, clients, "Health/Check",
        [&](int, std::shared_ptr<grpc::Channel> ch) {
          return std::make_unique<bench::HealthCaller>(std::move(ch), *token);
        },
        [] {});

    std::fprintf(stderr, "intake_bench: %d clients on %d connections: SubmitRequest...\n", clients,
                 row.channels);
    std::optional<RedisSample> redis_before;
    std::optional<double> trips_before;
    CallerFactory submit = [&](int thread, std::shared_ptr<grpc::Channel> ch) {
      return std::make_unique<SubmitCaller>(std::move(ch), *token, &sequence,
                                            static_cast<uint64_t>(clients) * 1000 + thread);
    };
    row.submit = WarmAndRun(channels, clients, "SubmitRequest", submit, [&] {
      redis_before = ReadRedis(redis_socket);
      trips_before = ReadRoundTrips(metrics);
    });
    std::optional<RedisSample> redis_after = ReadRedis(redis_socket);
    row.dispatchd_round_trips = Minus(ReadRoundTrips(metrics), trips_before);
    if (redis_before.has_value() && redis_after.has_value()) {
      row.redis = Subtract(*redis_after, *redis_before);
    }
    rows.push_back(std::move(row));
  }

  const std::string label = absl::GetFlag(FLAGS_label);
  std::fputs(Markdown(rows, label).c_str(), stdout);
  if (std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream out(path, std::ios::trunc);
    out << Json(rows, label);
    if (!out) {
      std::fprintf(stderr, "intake_bench: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace yiyuan

int main(int argc, char** argv) { return yiyuan::Run(argc, argv); }
