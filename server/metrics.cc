#include "server/metrics.h"

#include <httplib.h>

#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace yiyuan {
namespace {

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(Metrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    // The sync server runs the batch with POST_RECV_INITIAL_METADATA (and, for a unary
    // or server-streaming call, POST_RECV_MESSAGE) on the thread that then runs the
    // handler, before the handler; the handler sends the status on that same thread.
    // Initial metadata rather than the message: it is the earliest hook of every kind of
    // call, whereas a client-streaming handler receives its first message itself.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      received_on_ = std::this_thread::get_id();
      round_trips_at_receive_ = RedisClient::ThreadRoundTrips();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      code_ = static_cast<int>(methods->GetSendStatus().error_code());
      if (received_on_ == std::this_thread::get_id()) {
        round_trips_ = RedisClient::ThreadRoundTrips() - round_trips_at_receive_;
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_CLOSE)) {
      std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
      metrics_->Record(method_, code_, d.count(), round_trips_);
    }
    methods->Proceed();
  }

 private:
  Metrics* const metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
  int code_ = 0;
  std::thread::id received_on_;  // No thread until the request is received.
  int64_t round_trips_at_receive_ = 0;
  std::optional<int64_t> round_trips_;  // Set when both readings were on one thread.
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  Metrics* const metrics_;
};

}  // namespace

Metrics::Metrics(const RedisClient* redis) : redis_(redis) {}

Metrics::~Metrics() { Stop(); }

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
Metrics::InterceptorCreators() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> v;
  v.push_back(std::make_unique<MetricsInterceptorFactory>(this));
  return v;
}

void Metrics::Record(const std::string& method, int code, double seconds,
                     std::optional<int64_t> redis_round_trips) {
  absl::MutexLock lock(&mu_);
  MethodStats& m = methods_[method];
  if (code >= 0 && code < static_cast<int>(m.by_code.size())) ++m.by_code[code];
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  ++m.buckets[b];
  m.sum += seconds;
  ++m.count;
  if (redis_round_trips.has_value()) {
    m.redis_round_trips += *redis_round_trips;
    ++m.redis_attributed_calls;
  }
}

std::string Metrics::Render() const {
  std::string out;
  absl::StrAppend(&out,
                  "# HELP yiyuan_rpc_total Finished gRPC calls by method and status code.\n"
                  "# TYPE yiyuan_rpc_total counter\n");
  absl::MutexLock lock(&mu_);
  for (const auto& [method, m] : methods_) {
    for (size_t c = 0; c < m.by_code.size(); ++c) {
      if (m.by_code[c] == 0) continue;
      absl::StrAppend(&out, "yiyuan_rpc_total{method=\"", method, "\",code=\"", c, "\"} ",
                      m.by_code[c], "\n");
    }
  }
  absl::StrAppend(&out,
                  "# HELP yiyuan_rpc_seconds gRPC call latency by method.\n"
                  "# TYPE yiyuan_rpc_seconds histogram\n");
  for (const auto& [method, m] : methods_) {
    int64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += m.buckets[b];
      std::string le = b < kBuckets.size() ? absl::StrCat(kBuckets[b]) : "+Inf";
      absl::StrAppend(&out, "yiyuan_rpc_seconds_bucket{method=\"", method, "\",le=\"", le,
                      "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "yiyuan_rpc_seconds_sum{method=\"", method, "\"} ", m.sum, "\n",
                    "yiyuan_rpc_seconds_count{method=\"", method, "\"} ", m.count, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP yiyuan_rpc_redis_round_trips_total Redis round trips made while "
                  "serving calls of this method, on the handler's thread (work handed to "
                  "background threads is not included).\n"
                  "# TYPE yiyuan_rpc_redis_round_trips_total counter\n");
  for (const auto& [method, m] : methods_) {
    absl::StrAppend(&out, "yiyuan_rpc_redis_round_trips_total{method=\"", method, "\"} ",
                    m.redis_round_trips, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP yiyuan_rpc_redis_round_trips_attributed_calls_total Calls of this "
                  "method whose Redis round trips were counted in "
                  "yiyuan_rpc_redis_round_trips_total (round trips per call = the ratio).\n"
                  "# TYPE yiyuan_rpc_redis_round_trips_attributed_calls_total counter\n");
  for (const auto& [method, m] : methods_) {
    absl::StrAppend(&out, "yiyuan_rpc_redis_round_trips_attributed_calls_total{method=\"", method,
                    "\"} ", m.redis_attributed_calls, "\n");
  }
  RedisClientStats r = redis_->stats();
  absl::StrAppend(
      &out, "# HELP yiyuan_redis_round_trips_total Redis round trips (a pipeline counts once).\n",
      "# TYPE yiyuan_redis_round_trips_total counter\n", "yiyuan_redis_round_trips_total ",
      r.round_trips, "\n", "# HELP yiyuan_redis_errors_total Redis connection errors and timeouts.\n",
      "# TYPE yiyuan_redis_errors_total counter\n", "yiyuan_redis_errors_total ", r.errors, "\n",
      "# HELP yiyuan_redis_connects_total Redis connections opened.\n",
      "# TYPE yiyuan_redis_connects_total counter\n", "yiyuan_redis_connects_total ", r.connects,
      "\n", "# HELP yiyuan_redis_pool_open Redis connections open now.\n",
      "# TYPE yiyuan_redis_pool_open gauge\n", "yiyuan_redis_pool_open ", r.open, "\n",
      "# HELP yiyuan_redis_pool_idle Idle Redis connections in the pool.\n",
      "# TYPE yiyuan_redis_pool_idle gauge\n", "yiyuan_redis_pool_idle ", r.idle, "\n");
  for (const auto& source : sources_) out += source();
  return out;
}

void Metrics::AddSource(std::function<std::string()> source) {
  sources_.push_back(std::move(source));
}

absl::Status Metrics::Serve(const std::string& address) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-listen: expected host:port, got \"", address, "\""));
  }
  std::string host = address.substr(0, colon);
  http_ = std::make_unique<httplib::Server>();
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(Render(), "text/plain; version=0.0.4");
  });
  if (port == 0) {
    port = http_->bind_to_any_port(host);
  } else if (!http_->bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("--metrics-listen: cannot listen on ", address, " (in use?)"));
  }
  address_ = absl::StrCat(host, ":", port);
  http_thread_ = std::thread([this] { http_->listen_after_bind(); });
  return absl::OkStatus();
}

void Metrics::Stop() {
  if (http_) http_->stop();
  if (http_thread_.joinable()) http_thread_.join();
}

}  // namespace yiyuan
