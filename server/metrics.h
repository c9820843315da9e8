#ifndef YIYUAN_SERVER_METRICS_H_
#define YIYUAN_SERVER_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/redis_client.h"

namespace httplib {
class Server;
}

namespace yiyuan {

// Prometheus text metrics: per-method call counts by status code, latency histograms
// and Redis round trips (recorded by a gRPC server interceptor), and the Redis pool's
// counters. Thread-safe.
//
// A call's Redis round trips are those made on its handler thread between receiving the
// request and sending the status: right for the sync server, where one thread runs a
// call's handler from start to end. Work the handler hands to other threads is not
// counted, and a call whose hooks ran on different threads is not attributed at all.
class Metrics {
 public:
  explicit Metrics(const RedisClient* redis);
  ~Metrics();

  // Interceptor factories to pass to ServerBuilder::experimental().SetInterceptorCreators.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  InterceptorCreators();

  // Serves GET /metrics on `address` ("host:port"; port 0 picks one) in a thread.
  absl::Status Serve(const std::string& address);
  // "host:port" being served, or "" when not serving.
  std::string address() const { return address_; }
  void Stop();

  // Adds a producer of more exposition text (complete HELP/TYPE/sample lines),
  // rendered after the built-in metrics. Call before Serve(); `source` must be
  // thread-safe and outlive this.
  void AddSource(std::function<std::string()> source);

  // Records one finished call. `redis_round_trips` is what the call made on its handler
  // thread, or nullopt when that could not be attributed to it.
  void Record(const std::string& method, int code, double seconds,
              std::optional<int64_t> redis_round_trips);
  // The exposition text.
  std::string Render() const;

 private:
  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                       0.005,  0.01,    0.025,  0.05,  0.1,
                                                       0.25,   0.5,     1,      5};
  struct MethodStats {
    std::array<int64_t, 17> by_code{};  // gRPC codes 0..16.
    std::array<int64_t, kBuckets.size() + 1> buckets{};
    double sum = 0;
    int64_t count = 0;
    int64_t redis_round_trips = 0;       // Summed over the attributed calls.
    int64_t redis_attributed_calls = 0;  // Calls whose round trips were attributed.
  };

  const RedisClient* const redis_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, MethodStats> methods_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<std::string()>> sources_;
  std::unique_ptr<httplib::Server> http_;
  std::thread http_thread_;
  std::string address_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_METRICS_H_
