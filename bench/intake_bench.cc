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
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

using Clock = std::chrono::steady_clock;

// What one call did.
struct CallResult {
  bool ok = false;
  bool folded = false;  // A submit answered as a replay or a duplicate.
  std::string error;
};

// Makes calls of one kind from one thread. Not thread-safe: one per thread.
class Caller {
 public:
  virtual ~Caller() = default;
  virtual CallResult Call() = 0;
};

void PrepareContext(const std::string& token, grpc::ClientContext* ctx) {
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::string DescribeError(const grpc::Status& s) {
  return absl::StrCat("code ", static_cast<int>(s.error_code()), ": ", s.error_message());
}

// grpc.health.v1.Health/Check with service "" through the generic blocking-call path,
// the same one generated stubs use, so the floor carries no codegen advantage.
class HealthCaller : public Caller {
 public:
  HealthCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token)
      : channel_(std::move(channel)),
        method_("/grpc.health.v1.Health/Check", grpc::internal::RpcMethod::NORMAL_RPC, channel_),
        token_(token) {}

  CallResult Call() override {
    // HealthCheckRequest{service: ""} serializes to no bytes; a valid (non-null) empty
    // buffer still has to be sent as the one request message.
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext ctx;
    PrepareContext(token_, &ctx);
    grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel_.get(), method_, &ctx, request, &response);
    CallResult r;
    if (!s.ok()) {
      r.error = DescribeError(s);
      return r;
    }
    // HealthCheckResponse{status: SERVING} is field 1, varint 1.
    std::vector<grpc::Slice> slices;
    std::string body;
    if (response.Valid() && response.Dump(&slices).ok()) {
      for (const grpc::Slice& sl : slices) {
        body.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
      }
    }
    r.ok = body == std::string("\x08\x01", 2);
    if (!r.ok) r.error = "health status is not SERVING";
    return r;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::internal::RpcMethod method_;
  const std::string token_;
};

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

class SubmitCaller : public Caller {
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
    PrepareContext(token_, &ctx);
    grpc::Status s = stub_->SubmitRequest(&ctx, request_, &response);
    CallResult r;
    if (!s.ok()) {
      r.error = DescribeError(s);
      return r;
    }
    r.ok = true;
    r.folded = response.replayed() || !response.duplicate_of().empty();
    return r;
  }

 private:
  std::unique_ptr<v1::IntakeService::Stub> stub_;
  const std::string token_;
  SubmitSequence* const sequence_;
  std::mt19937_64 rng_;
  v1::SubmitRequestRequest request_;
};

using CallerFactory =
    std::function<std::unique_ptr<Caller>(int thread, std::shared_ptr<grpc::Channel>)>;

// CPU seconds used by this process and by dispatchd (nullopt: unknown).
struct CpuSample {
  double client = 0;
  std::optional<double> server;
};

// What redis-server says (INFO cpu stats commandstats).
struct RedisSample {
  std::map<std::string, int64_t> calls;  // Per command, e.g. "evalsha".
  std::map<std::string, int64_t> usec;   // Time spent in each command, µs.
  double cpu_seconds = 0;                // used_cpu_user + used_cpu_sys.
  int64_t forks = 0;                     // total_forks (RDB saves, AOF rewrites).
};

struct PhaseStats {
  int64_t ok = 0;
  int64_t errors = 0;
  int64_t folded = 0;
  std::string first_error;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  CpuSample cpu;  // Used during the phase.

  int64_t calls() const { return ok + errors; }
  double calls_per_second() const { return seconds > 0 ? ok / seconds : 0; }
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

double SecondsOf(const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; }

double ClientCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return SecondsOf(u.ru_utime) + SecondsOf(u.ru_stime);
}

// utime + stime of `pid` from /proc (all its threads).
std::optional<double> ProcessCpuSeconds(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  // Fields after "(comm)" start at field 3 (state); utime and stime are fields 14, 15.
  std::vector<std::string> f = absl::StrSplit(stat.substr(paren + 2), ' ');
  int64_t utime = 0;
  int64_t stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) || !absl::SimpleAtoi(f[12], &stime)) {
    return std::nullopt;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Runs `command` with popen and returns its standard output, or nullopt if it fails.
std::optional<std::string> RunCommand(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) return std::nullopt;
  return out;
}

std::string ShellQuote(absl::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::optional<RedisSample> ReadRedis(const std::string& socket) {
  if (socket.empty()) return std::nullopt;
  std::optional<std::string> out =
      RunCommand(absl::StrCat("redis-cli -s ", ShellQuote(socket), " INFO cpu stats commandstats"));
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

// yiyuan_redis_round_trips_total from dispatchd's /metrics (curl, else python3).
std::optional<double> ReadRoundTrips(std::string url) {
  if (url.empty()) return std::nullopt;
  if (!absl::StartsWith(url, "http://")) url = absl::StrCat("http://", url);
  if (absl::StrContains(absl::string_view(url).substr(7), "/") == false) {
    absl::StrAppend(&url, "/metrics");
  }
  std::optional<std::string> text =
      RunCommand(absl::StrCat("curl -fsS --max-time 5 ", ShellQuote(url), " 2>/dev/null"));
  if (!text.has_value()) {
    text = RunCommand(absl::StrCat(
        "python3 -c 'import sys, urllib.request; "
        "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' ",
        ShellQuote(url), " 2>/dev/null"));
  }
  if (!text.has_value()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    double v = 0;
    if (absl::ConsumePrefix(&line, "yiyuan_redis_round_trips_total ") &&
        absl::SimpleAtod(absl::StripAsciiWhitespace(line), &v)) {
      return v;
    }
  }
  return std::nullopt;
}

CpuSample SampleCpu() {
  CpuSample s;
  s.client = ClientCpuSeconds();
  s.server = ProcessCpuSeconds(absl::GetFlag(FLAGS_server_pid));
  return s;
}

std::optional<double> Minus(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a.has_value() || !b.has_value()) return std::nullopt;
  return *a - *b;
}

double Percentile(const std::vector<int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted_ns.size())));
  rank = std::clamp<size_t>(rank, 1, sorted_ns.size());
  return static_cast<double>(sorted_ns[rank - 1]) / 1e6;
}

// Runs `clients` threads, each with its own caller on channels[i % channels.size()],
// for `duration`; returns what they saw. CPU use is sampled around the phase.
PhaseStats RunPhase(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int clients,
                    absl::Duration duration, const CallerFactory& factory) {
  struct PerThread {
    std::vector<int64_t> latency_ns;
    int64_t errors = 0;
    int64_t folded = 0;
    std::string first_error;
    Clock::time_point finished;
  };
  std::vector<PerThread> per(clients);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point end;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<Caller> caller = factory(i, channels[i % channels.size()]);
      PerThread& me = per[i];
      me.latency_ns.reserve(1 << 16);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      Clock::time_point now = Clock::now();
      while (now < end) {
        CallResult r = caller->Call();
        Clock::time_point done = Clock::now();
        if (r.ok) {
          me.latency_ns.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(done - now).count());
          if (r.folded) ++me.folded;
        } else {
          if (me.errors++ == 0) me.first_error = r.error;
        }
        now = done;
      }
      me.finished = now;
    });
  }
  while (ready.load() < clients) std::this_thread::yield();
  CpuSample cpu_before = SampleCpu();
  Clock::time_point start = Clock::now();
  end = start + absl::ToChronoNanoseconds(duration);
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  CpuSample cpu_after = SampleCpu();

  PhaseStats s;
  std::vector<int64_t> all;
  Clock::time_point last = start;
  for (PerThread& p : per) {
    all.insert(all.end(), p.latency_ns.begin(), p.latency_ns.end());
    s.errors += p.errors;
    s.folded += p.folded;
    if (s.first_error.empty()) s.first_error = p.first_error;
    last = std::max(last, p.finished);
  }
  std::sort(all.begin(), all.end());
  s.ok = static_cast<int64_t>(all.size());
  s.seconds = std::chrono::duration<double>(last - start).count();
  s.p50_ms = Percentile(all, 0.50);
  s.p99_ms = Percentile(all, 0.99);
  double sum = 0;
  for (int64_t v : all) sum += static_cast<double>(v);
  s.mean_ms = all.empty() ? 0 : sum / static_cast<double>(all.size()) / 1e6;
  s.cpu.client = cpu_after.client - cpu_before.client;
  s.cpu.server = Minus(cpu_after.server, cpu_before.server);
  return s;
}

std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(const std::string& target, int n) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    // Channels with equal arguments would share one subchannel, i.e. one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("yiyuan.bench.channel", i);
    channels.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }
  return channels;
}

// Warms up, then measures a phase; exits the program if every warm-up call failed.
PhaseStats WarmAndRun(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int clients,
                      const char* what, const CallerFactory& factory,
                      const std::function<void()>& before_measuring) {
  PhaseStats warm =
      RunPhase(channels, clients, absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds)), factory);
  if (warm.ok == 0) {
    std::fprintf(stderr, "intake_bench: every %s call failed during warm-up; first error: %s\n",
                 what, warm.first_error.c_str());
    std::exit(1);
  }
  before_measuring();
  return RunPhase(channels, clients, absl::Seconds(absl::GetFlag(FLAGS_seconds)), factory);
}

std::string Fixed(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }
std::string Fixed(const std::optional<double>& v, int digits) {
  return v.has_value() ? Fixed(*v, digits) : "–";
}
std::string Percent(double ratio) { return absl::StrFormat("%.0f%%", ratio * 100); }

std::optional<double> CpuMicrosPerCall(const std::optional<double>& seconds, const PhaseStats& p) {
  if (!seconds.has_value() || p.calls() == 0) return std::nullopt;
  return *seconds * 1e6 / static_cast<double>(p.calls());
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
    if (r.submit.folded > 0) {
      notes.push_back(absl::StrCat("c=", r.clients, ": ", r.submit.folded,
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

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonNumber(const std::optional<double>& v) {
  return v.has_value() && std::isfinite(*v) ? absl::StrFormat("%.6g", *v) : "null";
}

std::string JsonPhase(const PhaseStats& p) {
  return absl::StrCat(
      "{\"ok\": ", p.ok, ", \"errors\": ", p.errors, ", \"folded\": ", p.folded,
      ", \"first_error\": ", JsonString(p.first_error), ", \"seconds\": ", JsonNumber(p.seconds),
      ", \"calls_per_second\": ", JsonNumber(p.calls_per_second()),
      ", \"p50_ms\": ", JsonNumber(p.p50_ms), ", \"p99_ms\": ", JsonNumber(p.p99_ms),
      ", \"mean_ms\": ", JsonNumber(p.mean_ms),
      ", \"client_cpu_seconds\": ", JsonNumber(p.cpu.client),
      ", \"server_cpu_seconds\": ", JsonNumber(p.cpu.server), "}");
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
        ",\n     \"floor\": ", JsonPhase(r.floor), ",\n     \"submit\": ", JsonPhase(r.submit),
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

std::optional<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (token.empty()) return std::nullopt;
  return token;
}

int Run(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for IntakeService.SubmitRequest against the gRPC floor.\n"
      "  intake_bench --server=HOST:PORT --token-file=FILE [--redis-socket=SOCK] "
      "[--metrics=URL] [--server-pid=PID] [--seconds=10] [--concurrency=1,16] [--json=FILE]");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  std::vector<char*> args_view = ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), args_view.data());

  std::optional<std::string> token = ReadToken(absl::GetFlag(FLAGS_token_file));
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
        MakeChannels(absl::GetFlag(FLAGS_server), row.channels);
    std::fprintf(stderr, "intake_bench: %d clients on %d connections: Health/Check...\n", clients,
                 row.channels);
    row.floor = WarmAndRun(
        channels, clients, "Health/Check",
        [&](int, std::shared_ptr<grpc::Channel> ch) {
          return std::make_unique<HealthCaller>(std::move(ch), *token);
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
