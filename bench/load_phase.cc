#include "bench/load_phase.h"

#include <grpcpp/impl/client_unary_call.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace yiyuan {
namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsOf(const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; }

}  // namespace

void PrepareContext(const std::string& token, grpc::ClientContext* ctx) {
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::string DescribeError(const grpc::Status& s) {
  return absl::StrCat("code ", static_cast<int>(s.error_code()), ": ", s.error_message());
}

HealthCaller::HealthCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token)
    : channel_(std::move(channel)),
      method_("/grpc.health.v1.Health/Check", grpc::internal::RpcMethod::NORMAL_RPC, channel_),
      token_(token) {}

CallResult HealthCaller::Call() {
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

double ClientCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return SecondsOf(u.ru_utime) + SecondsOf(u.ru_stime);
}

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

CpuSample SampleCpu(int server_pid) {
  CpuSample s;
  s.client = ClientCpuSeconds();
  s.server = ProcessCpuSeconds(server_pid);
  return s;
}

std::optional<double> Minus(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a.has_value() || !b.has_value()) return std::nullopt;
  return *a - *b;
}

std::optional<ProcessMemory> ReadProcessMemory(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  if (!in) return std::nullopt;
  ProcessMemory m;
  bool rss = false;
  bool hwm = false;
  std::string line;
  while (std::getline(in, line)) {
    // "VmRSS:	  123456 kB"
    absl::string_view rest = line;
    int64_t* into = nullptr;
    if (absl::ConsumePrefix(&rest, "VmRSS:")) {
      into = &m.rss_bytes;
      rss = true;
    } else if (absl::ConsumePrefix(&rest, "VmHWM:")) {
      into = &m.hwm_bytes;
      hwm = true;
    } else {
      continue;
    }
    rest = absl::StripAsciiWhitespace(rest);
    int64_t kb = 0;
    if (!absl::ConsumeSuffix(&rest, " kB") || !absl::SimpleAtoi(rest, &kb)) return std::nullopt;
    *into = kb * 1024;
  }
  if (!rss || !hwm) return std::nullopt;
  return m;
}

double Percentile(const std::vector<int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted_ns.size())));
  rank = std::clamp<size_t>(rank, 1, sorted_ns.size());
  return static_cast<double>(sorted_ns[rank - 1]) / 1e6;
}

PhaseStats RunPhase(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int clients,
                    const PhaseOptions& options, const CallerFactory& factory) {
  struct PerThread {
    std::vector<int64_t> latency_ns;
    int64_t errors = 0;
    int64_t flagged = 0;
    std::string first_error;
    Clock::time_point finished;
  };
  std::vector<PerThread> per(clients);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int64_t> started{0};
  const int64_t max_calls = options.max_calls;
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
      while (now < end &&
             (max_calls <= 0 || started.fetch_add(1, std::memory_order_relaxed) < max_calls)) {
        CallResult r = caller->Call();
        Clock::time_point done = Clock::now();
        if (r.ok) {
          me.latency_ns.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(done - now).count());
          if (r.flagged) ++me.flagged;
        } else {
          if (me.errors++ == 0) me.first_error = r.error;
        }
        now = done;
      }
      me.finished = now;
    });
  }
  while (ready.load() < clients) std::this_thread::yield();
  CpuSample cpu_before = SampleCpu(options.server_pid);
  Clock::time_point start = Clock::now();
  end = options.duration == absl::InfiniteDuration()
            ? Clock::time_point::max()
            : start + absl::ToChronoNanoseconds(options.duration);
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  CpuSample cpu_after = SampleCpu(options.server_pid);

  PhaseStats s;
  std::vector<int64_t> all;
  Clock::time_point last = start;
  for (PerThread& p : per) {
    all.insert(all.end(), p.latency_ns.begin(), p.latency_ns.end());
    s.errors += p.errors;
    s.flagged += p.flagged;
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

absl::StatusOr<PhaseStats> WarmAndRun(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                                      int clients, absl::string_view what, absl::Duration warmup,
                                      const PhaseOptions& options, const CallerFactory& factory,
                                      const std::function<void()>& before_measuring) {
  PhaseOptions warm_options = options;
  warm_options.duration = warmup;
  warm_options.max_calls = 0;
  PhaseStats warm = RunPhase(channels, clients, warm_options, factory);
  if (warm.ok == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "every ", what, " call failed during warm-up; first error: ", warm.first_error));
  }
  before_measuring();
  return RunPhase(channels, clients, options, factory);
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

std::optional<std::string> RedisInfo(const std::string& socket, absl::string_view sections) {
  if (socket.empty()) return std::nullopt;
  return RunCommand(absl::StrCat("redis-cli -s ", ShellQuote(socket), " INFO ", sections));
}

std::optional<double> InfoNumber(absl::string_view info, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    double v = 0;
    if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, ":") &&
        absl::SimpleAtod(line, &v)) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<std::string> FetchMetrics(std::string url) {
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
  return text;
}

std::optional<double> MetricValue(absl::string_view text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    double v = 0;
    if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, " ") &&
        absl::SimpleAtod(absl::StripAsciiWhitespace(line), &v)) {
      return v;
    }
  }
  return std::nullopt;
}

std::string Fixed(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

std::string Fixed(const std::optional<double>& v, int digits) {
  return v.has_value() ? Fixed(*v, digits) : "–";
}

std::string Percent(double ratio) { return absl::StrFormat("%.0f%%", ratio * 100); }

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

std::string JsonPhase(const PhaseStats& p, absl::string_view flagged_key) {
  return absl::StrCat(
      "{\"ok\": ", p.ok, ", \"errors\": ", p.errors, ", ", JsonString(flagged_key), ": ", p.flagged,
      ", \"first_error\": ", JsonString(p.first_error), ", \"seconds\": ", JsonNumber(p.seconds),
      ", \"calls_per_second\": ", JsonNumber(p.calls_per_second()),
      ", \"p50_ms\": ", JsonNumber(p.p50_ms), ", \"p99_ms\": ", JsonNumber(p.p99_ms),
      ", \"mean_ms\": ", JsonNumber(p.mean_ms),
      ", \"client_cpu_seconds\": ", JsonNumber(p.cpu.client),
      ", \"server_cpu_seconds\": ", JsonNumber(p.cpu.server), "}");
}

std::optional<double> CpuMicrosPerCall(const std::optional<double>& seconds, const PhaseStats& p) {
  if (!seconds.has_value() || p.calls() == 0) return std::nullopt;
  return *seconds * 1e6 / static_cast<double>(p.calls());
}

}  // namespace bench
}  // namespace yiyuan
