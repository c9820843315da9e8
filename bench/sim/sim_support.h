// What the simulator's gRPC players share (bench/sim): call contexts, stable per-key
// seeds, latency samples per RPC and a timer queue run by a few threads.
#ifndef YIYUAN_BENCH_SIM_SIM_SUPPORT_H_
#define YIYUAN_BENCH_SIM_SIM_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace yiyuan::sim {

int64_t NowMs();

// A client context carrying `token` as bearer, with a deadline `seconds` from now.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int seconds = 10);

// FNV-1a over `s`, mixed with `seed`: a stable per-key seed (absl::Hash is salted per
// process, so it would not repeat across runs).
uint64_t StableSeed(uint64_t seed, const std::string& s);

// The reason of a status's google.rpc.ErrorInfo detail (e.g. "NO_CAPACITY"), or "".
std::string ErrorReason(const grpc::Status& s);

// Nearest-rank percentile of sorted `v` (0 for an empty one).
int64_t Pct(const std::vector<int64_t>& v, double q);

// Log-spaced histogram of sorted microsecond samples: [[upper bound µs, count], ...]
// over buckets growing by 25 % from 50 µs, empty buckets left out.
nlohmann::json Histogram(const std::vector<int64_t>& sorted_us);

// Latency samples per RPC name, with failures counted by gRPC code. Thread-safe.
class Latencies {
 public:
  // `code` is the call's grpc::StatusCode (0 = OK).
  void Add(const std::string& rpc, absl::Duration d, int code);
  // Per RPC: count, errors, errors_by_code, p50/p90/p99/max µs and hist (Histogram).
  nlohmann::json ToJson() const;
  // The sorted samples of `rpc`, µs.
  std::vector<int64_t> Samples(const std::string& rpc) const;

 private:
  struct Rpc {
    std::vector<int64_t> us;
    int errors = 0;
    std::map<std::string, int> by_code;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Rpc> rpcs_ ABSL_GUARDED_BY(mu_);
};

// Runs functions at given times on a few threads.
class TimerQueue {
 public:
  explicit TimerQueue(int threads);
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `fn` on a worker at or after `when`.
  void At(absl::Time when, std::function<void()> fn);
  // Queued plus running tasks.
  int Outstanding() const;
  // Drops what is queued, waits for running tasks, joins.
  void Stop();

 private:
  struct Item {
    absl::Time when;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  void Loop();

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace yiyuan::sim

#endif  // YIYUAN_BENCH_SIM_SIM_SUPPORT_H_
