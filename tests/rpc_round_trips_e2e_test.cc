// Redis round trips per RPC method in dispatchd's /metrics: real dispatchd (embedded
// redis-server), real gRPC, real HTTP scrape.
#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/client.h"
#include "tests/testing/processes.h"

namespace yiyuan::testing {
namespace {

constexpr char kSubmit[] = "/yiyuan.v1.IntakeService/SubmitRequest";
constexpr char kGet[] = "/yiyuan.v1.IntakeService/GetRequest";

// The metrics address dispatchd logs once it serves ("" if it does not within 10 s).
// The ready file is written just before that line, so the line may not be there yet.
std::string MetricsAddress(const Dispatchd& server) {
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    for (absl::string_view line : absl::StrSplit(server.log(), '\n')) {
      nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr,
                                               /*allow_exceptions=*/false);
      if (j.is_object() && j.value("msg", "") == "dispatchd serving") {
        return j.value("metrics", "");
      }
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return "";
}

// The value of the sample `name{method="<method>"}` in exposition `text`, if present.
std::optional<double> Sample(const std::string& text, absl::string_view name,
                             absl::string_view method) {
  std::string prefix = absl::StrCat(name, "{method=\"", method, "\"} ");
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    double v = 0;
    if (absl::ConsumePrefix(&line, prefix) && absl::SimpleAtod(line, &v)) return v;
  }
  return std::nullopt;
}

// A method's attributed round trips and calls at one scrape.
struct RoundTrips {
  double round_trips = 0;
  double calls = 0;
};

class RpcRoundTripsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Dispatchd>(dir_.path() + "/var",
                                          std::vector<std::string>{"--metrics-listen=127.0.0.1:0"});
    ASSERT_TRUE(server_->Start()) << server_->log();
    std::string address = MetricsAddress(*server_);
    ASSERT_FALSE(address.empty()) << server_->log();
    http_ = std::make_unique<httplib::Client>(absl::StrCat("http://", address));
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override { EXPECT_EQ(server_->Stop(), 0); }

  std::string Scrape() {
    httplib::Result r = http_->Get("/metrics");
    EXPECT_TRUE(r) << httplib::to_string(r.error());
    if (!r) return "";
    EXPECT_EQ(r->status, 200);
    return r->body;
  }

  // The metrics once `method` has `calls` attributed calls (or after 10 s): the server
  // records a call after its status is sent, so the client can be ahead of the page.
  std::string ScrapeWhen(absl::string_view method, int64_t calls) {
    std::string text = Scrape();
    for (int i = 0; i < 500 && Of(text, method).calls < calls; ++i) {
      absl::SleepFor(absl::Milliseconds(20));
      text = Scrape();
    }
    return text;
  }

  // Zero for a method not called yet.
  RoundTrips Of(const std::string& text, absl::string_view method) {
    return {
        Sample(text, "yiyuan_rpc_redis_round_trips_total", method).value_or(0),
        Sample(text, "yiyuan_rpc_redis_round_trips_attributed_calls_total", method).value_or(0)};
  }

  // Submits a new request; returns its id ("" on failure).
  std::string Submit(int i) {
    v1::SubmitRequestResponse resp;
    grpc::Status s = v1::IntakeService::NewStub(channel_)->SubmitRequest(
        Ctx(server_->admin_token()).get(),
        ValidSubmit(absl::StrCat("round-trips-", i), absl::StrCat("1381000", 1000 + i)), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.duplicate_of().empty() && !resp.replayed()) << i;
    return resp.request().id();
  }

  grpc::StatusCode Get(const std::string& id) {
    v1::GetRequestRequest req;
    req.set_id(id);
    v1::HelpRequest resp;
    return v1::IntakeService::NewStub(channel_)
        ->GetRequest(Ctx(server_->admin_token()).get(), req, &resp)
        .error_code();
  }

  TempDir dir_;
  std::unique_ptr<Dispatchd> server_;
  std::unique_ptr<httplib::Client> http_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(RpcRoundTripsE2ETest, SubmitMakesOneRoundTripAndGetOneUnlessTheIdIsMalformed) {
  constexpr int kCalls = 20;
  // The first call also reads the admin token into TokenStore's cache (trusted for 10 s,
  // far longer than the calls below take), makes the district known to the roster and
  // may load the script (NOSCRIPT, then EVAL): round trips later calls do not make.
  ASSERT_FALSE(Submit(0).empty());
  const std::string before = ScrapeWhen(kSubmit, 1);
  const RoundTrips submit0 = Of(before, kSubmit);
  const RoundTrips get0 = Of(before, kGet);
  EXPECT_EQ(submit0.calls, 1);
  EXPECT_GE(submit0.round_trips, 1);

  std::vector<std::string> ids;
  for (int i = 1; i <= kCalls; ++i) ids.push_back(Submit(i));
  // A well-formed id costs one HGETALL; a malformed one is refused before Redis.
  for (const std::string& id : ids) EXPECT_EQ(Get(id), grpc::StatusCode::OK) << id;
  for (int i = 0; i < kCalls / 2; ++i) {
    EXPECT_EQ(Get(absl::StrCat("malformed", i)), grpc::StatusCode::INVALID_ARGUMENT);
  }

  ScrapeWhen(kSubmit, submit0.calls + kCalls);
  const std::string after = ScrapeWhen(kGet, get0.calls + kCalls + kCalls / 2);
  const RoundTrips submit1 = Of(after, kSubmit);
  const RoundTrips get1 = Of(after, kGet);
  const double submit_calls = submit1.calls - submit0.calls;
  const double get_calls = get1.calls - get0.calls;
  ASSERT_EQ(submit_calls, kCalls) << after;
  ASSERT_EQ(get_calls, kCalls + kCalls / 2) << after;
  EXPECT_DOUBLE_EQ((submit1.round_trips - submit0.round_trips) / submit_calls, 1.0) << after;
  EXPECT_DOUBLE_EQ((get1.round_trips - get0.round_trips) / get_calls, 2.0 / 3.0) << after;
  // Each attributed call is one finished call.
  EXPECT_EQ(Sample(after, "yiyuan_rpc_seconds_count", kSubmit), submit1.calls) << after;
}

}  // namespace
}  // namespace yiyuan::testing
