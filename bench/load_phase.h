// What the gRPC load generators in bench/ share: connections to dispatchd, a timed
// multi-thread phase runner with warm-up, the Health/Check floor call, latency
// percentiles, CPU and memory readings of this process and of dispatchd, redis-cli
// INFO, and the number formatting of their markdown and JSON output.
#ifndef YIYUAN_BENCH_LOAD_PHASE_H_
#define YIYUAN_BENCH_LOAD_PHASE_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_method.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace yiyuan {
namespace bench {

// What one call did.
struct CallResult {
  bool ok = false;
  // A successful call with an outcome its caller counts separately (for example a
  // submit answered as a replay); each Caller documents what it flags.
  bool flagged = false;
  std::string error;
};

// Makes calls of one kind from one thread. Not thread-safe: one per thread.
class Caller {
 public:
  virtual ~Caller() = default;
  virtual CallResult Call() = 0;
};

// Makes the caller of client thread `thread` (0-based) on `channel`.
using CallerFactory =
    std::function<std::unique_ptr<Caller>(int thread, std::shared_ptr<grpc::Channel> channel)>;

// Adds the bearer token and a 10 s deadline to `ctx`.
void PrepareContext(const std::string& token, grpc::ClientContext* ctx);

// "code N: message" of a failed call.
std::string DescribeError(const grpc::Status& s);

// grpc.health.v1.Health/Check with service "" through the generic blocking-call path,
// the same one generated stubs use, so the floor carries no codegen advantage. A call
// is ok when the server answers SERVING.
class HealthCaller : public Caller {
 public:
  HealthCaller(std::shared_ptr<grpc::Channel> channel, const std::string& token);
  CallResult Call() override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::internal::RpcMethod method_;
  const std::string token_;
};

// `n` channels to `target`, each its own connection (channels with equal arguments
// would share one).
std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(const std::string& target, int n);

// CPU seconds used by this process and by the server (nullopt: unknown).
struct CpuSample {
  double client = 0;
  std::optional<double> server;
};

// CPU seconds (user + system) this process has used.
double ClientCpuSeconds();
// utime + stime of `pid` from /proc (all its threads); nullopt when pid <= 0 or
// unreadable.
std::optional<double> ProcessCpuSeconds(int pid);
// This process's CPU and that of `server_pid` (0: not read).
CpuSample SampleCpu(int server_pid);
// a - b, or nullopt when either is unknown.
std::optional<double> Minus(const std::optional<double>& a, const std::optional<double>& b);

// Resident memory of a process, from /proc/<pid>/status.
struct ProcessMemory {
  int64_t rss_bytes = 0;  // VmRSS: resident now.
  int64_t hwm_bytes = 0;  // VmHWM: the most ever resident.
};
// nullopt when pid <= 0 or the file cannot be read.
std::optional<ProcessMemory> ReadProcessMemory(int pid);

// What one phase saw.
struct PhaseStats {
  int64_t ok = 0;
  int64_t errors = 0;
  int64_t flagged = 0;  // Successful calls their Caller flagged.
  std::string first_error;
  double seconds = 0;  // From the start signal to the last thread's last call.
  double p50_ms = 0;   // Latency percentiles of the successful calls.
  double p99_ms = 0;
  double mean_ms = 0;
  CpuSample cpu;  // Used during the phase.

  int64_t calls() const { return ok + errors; }
  double calls_per_second() const { return seconds > 0 ? ok / seconds : 0; }
};

// The q-quantile (0 < q <= 1, nearest rank) of ascending nanoseconds, in milliseconds;
// 0 when empty.
double Percentile(const std::vector<int64_t>& sorted_ns, double q);

// How long a phase runs and what it samples.
struct PhaseOptions {
  // Measured length; absl::InfiniteDuration() to run until `max_calls` are made.
  absl::Duration duration = absl::Seconds(10);
  // When positive, the phase ends once this many calls (successful or not) have been
  // started over all threads, or at `duration`, whichever comes first.
  int64_t max_calls = 0;
  // Server process whose CPU time is sampled around the phase; 0 for none.
  int server_pid = 0;
};

// Runs `clients` threads, each with its own caller on channels[i % channels.size()],
// for `options`; returns what they saw. CPU use is sampled around the phase, after
// every caller has been made and before any call.
PhaseStats RunPhase(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int clients,
                    const PhaseOptions& options, const CallerFactory& factory);

// Runs an unmeasured phase of `warmup`, calls `before_measuring`, then runs and returns
// the measured phase of `options`. FAILED_PRECONDITION (naming `what` and the first
// error) when every warm-up call failed; the measured phase is then not run.
absl::StatusOr<PhaseStats> WarmAndRun(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                                      int clients, absl::string_view what, absl::Duration warmup,
                                      const PhaseOptions& options, const CallerFactory& factory,
                                      const std::function<void()>& before_measuring);

// The content of the file at `path` (a bearer token) without surrounding whitespace;
// nullopt when it cannot be read or is empty.
std::optional<std::string> ReadToken(const std::string& path);

// Runs `command` with popen and returns its standard output, or nullopt if it fails.
std::optional<std::string> RunCommand(const std::string& command);
// `s` quoted for the shell.
std::string ShellQuote(absl::string_view s);
// The text of `redis-cli -s SOCKET INFO SECTIONS`; nullopt when it fails.
std::optional<std::string> RedisInfo(const std::string& socket, absl::string_view sections);
// The value of "name:value" in INFO text, as a number; nullopt when absent.
std::optional<double> InfoNumber(absl::string_view info, absl::string_view name);
// The text of dispatchd's Prometheus endpoint `url` (http://host:port/metrics, or
// host:port), fetched with curl, else python3; nullopt when empty or not fetched.
std::optional<std::string> FetchMetrics(std::string url);
// The value of the unlabelled sample `name` in Prometheus text; nullopt when absent.
std::optional<double> MetricValue(absl::string_view text, absl::string_view name);

// Markdown and JSON formatting of figures.
std::string Fixed(double v, int digits);
std::string Fixed(const std::optional<double>& v, int digits);  // "–" when unknown.
std::string Percent(double ratio);                              // 0.123 -> "12%".
std::string JsonString(absl::string_view s);
std::string JsonNumber(const std::optional<double>& v);  // "null" when unknown or not finite.
// A phase as a JSON object; the count of flagged calls is keyed `flagged_key`.
std::string JsonPhase(const PhaseStats& p, absl::string_view flagged_key);
// CPU µs per call of `seconds` over the phase's calls; nullopt when unknown or no calls.
std::optional<double> CpuMicrosPerCall(const std::optional<double>& seconds, const PhaseStats& p);

}  // namespace bench
}  // namespace yiyuan

#endif  // YIYUAN_BENCH_LOAD_PHASE_H_
