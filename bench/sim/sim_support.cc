#include "bench/sim/sim_support.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace yiyuan::sim {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int seconds) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->AddMetadata("authorization", "Bearer " + token);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

uint64_t StableSeed(uint64_t seed, const std::string& s) {
  uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string ErrorReason(const grpc::Status& s) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(s.error_details())) return "";
  for (const auto& any : rich.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

int64_t Pct(const std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

nlohmann::json Histogram(const std::vector<int64_t>& sorted_us) {
  nlohmann::json out = nlohmann::json::array();
  double bound = 50;
  size_t i = 0;
  while (i < sorted_us.size()) {
    int64_t upper = static_cast<int64_t>(std::llround(bound));
    size_t n = 0;
    while (i < sorted_us.size() && sorted_us[i] <= upper) {
      ++n;
      ++i;
    }
    if (n > 0) out.push_back({upper, n});
    bound *= 1.25;
  }
  return out;
}

void Latencies::Add(const std::string& rpc, absl::Duration d, int code) {
  absl::MutexLock l(&mu_);
  Rpc& r = rpcs_[rpc];
  r.us.push_back(absl::ToInt64Microseconds(d));
  if (code != 0) {
    ++r.errors;
    ++r.by_code[absl::StrCat(code)];
  }
}

std::vector<int64_t> Latencies::Samples(const std::string& rpc) const {
  absl::MutexLock l(&mu_);
  auto it = rpcs_.find(rpc);
  std::vector<int64_t> v = it == rpcs_.end() ? std::vector<int64_t>() : it->second.us;
  std::sort(v.begin(), v.end());
  return v;
}

nlohmann::json Latencies::ToJson() const {
  absl::MutexLock l(&mu_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, r] : rpcs_) {
    std::vector<int64_t> v = r.us;
    std::sort(v.begin(), v.end());
    out[name] = {{"count", v.size()},
                 {"errors", r.errors},
                 {"errors_by_code", r.by_code},
                 {"p50_us", Pct(v, 0.5)},
                 {"p90_us", Pct(v, 0.9)},
                 {"p99_us", Pct(v, 0.99)},
                 {"max_us", v.empty() ? 0 : v.back()},
                 {"hist", Histogram(v)}};
  }
  return out;
}

TimerQueue::TimerQueue(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

TimerQueue::~TimerQueue() { Stop(); }

void TimerQueue::At(absl::Time when, std::function<void()> fn) {
  absl::MutexLock l(&mu_);
  heap_.push(Item{when, seq_++, std::move(fn)});
  cv_.SignalAll();
}

int TimerQueue::Outstanding() const {
  absl::MutexLock l(&mu_);
  return static_cast<int>(heap_.size()) + running_;
}

void TimerQueue::Stop() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void TimerQueue::Loop() {
  absl::MutexLock l(&mu_);
  while (!stop_) {
    if (!heap_.empty() && heap_.top().when <= absl::Now()) {
      std::function<void()> fn = std::move(const_cast<Item&>(heap_.top()).fn);
      heap_.pop();
      ++running_;
      mu_.Unlock();
      fn();
      mu_.Lock();
      --running_;
      continue;
    }
    cv_.WaitWithDeadline(&mu_, heap_.empty() ? absl::InfiniteFuture() : heap_.top().when);
  }
}

}  // namespace yiyuan::sim
