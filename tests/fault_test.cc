// Faults: Redis going away and coming back, dispatchd killed, two dispatchd on one dir.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/client.h"
#include "tests/testing/processes.h"

namespace yiyuan::testing {
namespace {

// grpc.health.v1.Health/Check for the whole server, without the health stubs: the
// request is empty, the response's field 1 is the status (1 SERVING, 2 NOT_SERVING).
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  std::string response;
  if (!RawUnaryCall(channel, "/grpc.health.v1.Health/Check", "", &response).ok()) return -1;
  return response.size() >= 2 ? response[1] : 0;
}

bool WaitForHealth(const std::shared_ptr<grpc::Channel>& channel, int want) {
  for (int i = 0; i < 500; ++i) {
    if (HealthStatus(channel) == want) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

constexpr int kServing = 1;
constexpr int kNotServing = 2;

TEST(FaultTest, RedisDownGivesUnavailableAndNotServingThenRecoversWithoutRestart) {
  RedisServer redis;
  TempDir dir;
  Dispatchd server(dir.path() + "/var", {"--redis=" + redis.url()});
  ASSERT_TRUE(server.Start()) << server.log();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::IntakeService::NewStub(channel);
  const std::string admin = server.admin_token();
  ASSERT_TRUE(WaitForHealth(channel, kServing));
  v1::SubmitRequestResponse resp;
  ASSERT_TRUE(stub->SubmitRequest(Ctx(admin).get(), ValidSubmit("fault-0001", "13900000001"), &resp).ok());

  redis.Kill();
  // Calls made while Redis is away fail fast and retryably. (The admin token is cached,
  // so this is the store failing, not authentication.)
  grpc::Status s = stub->SubmitRequest(Ctx(admin).get(), ValidSubmit("fault-0002", "13900000002"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  v1::GetRequestRequest get;
  get.set_id(resp.request().id().empty() ? "wuxing-1" : resp.request().id());
  v1::HelpRequest got;
  EXPECT_EQ(stub->GetRequest(Ctx(admin).get(), get, &got).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(WaitForHealth(channel, kNotServing));

  redis.Start();
  EXPECT_TRUE(WaitForHealth(channel, kServing));
  s = stub->SubmitRequest(Ctx(admin).get(), ValidSubmit("fault-0002", "13900000002"), &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  get.set_id("wuxing-1");
  EXPECT_TRUE(stub->GetRequest(Ctx(admin).get(), get, &got).ok());  // Survived via AOF.
  EXPECT_EQ(server.Stop(), 0);
}

TEST(FaultTest, EveryAcknowledgedRequestSurvivesSigkillOfDispatchd) {
  TempDir dir;
  const std::string data = dir.path() + "/var";
  std::vector<std::string> acked;
  {
    Dispatchd server(data);
    ASSERT_TRUE(server.Start()) << server.log();
    auto stub = v1::IntakeService::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    const std::string admin = server.admin_token();
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !stop.load(); ++i) {
          v1::SubmitRequestResponse resp;
          std::string phone = absl::StrCat("13", 100000000 + w * 1000000 + i);
          grpc::Status s = stub->SubmitRequest(
              Ctx(admin).get(), ValidSubmit(absl::StrCat("kill-", w, "-", i, "-xx"), phone), &resp);
          if (s.ok()) {
            std::lock_guard<std::mutex> l(mu);
            acked.push_back(resp.request().id());
          }
        }
      });
    }
    absl::SleepFor(absl::Milliseconds(700));
    server.Kill();  // Mid-load.
    stop = true;
    for (auto& t : writers) t.join();
  }
  ASSERT_GT(acked.size(), 10u);
  Dispatchd again(data);
  ASSERT_TRUE(again.Start()) << again.log();
  auto stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(again.address(), grpc::InsecureChannelCredentials()));
  for (const std::string& id : acked) {
    v1::GetRequestRequest get;
    get.set_id(id);
    v1::HelpRequest got;
    grpc::Status s = stub->GetRequest(Ctx(again.admin_token()).get(), get, &got);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
  }
  EXPECT_EQ(again.Stop(), 0);
}

TEST(FaultTest, SecondDispatchdOnTheSameDataDirRefusesToStart) {
  TempDir dir;
  Dispatchd first(dir.path() + "/var");
  ASSERT_TRUE(first.Start()) << first.log();
  Dispatchd second(dir.path() + "/var");
  EXPECT_FALSE(second.Start(absl::Seconds(10)));
  int status = second.child()->Wait(absl::Seconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  EXPECT_THAT(second.log(), ::testing::HasSubstr("in use by another dispatchd"));
  // The first one is unharmed.
  auto channel = grpc::CreateChannel(first.address(), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(WaitForHealth(channel, kServing));
  EXPECT_EQ(first.Stop(), 0);
}

TEST(FaultTest, EmbeddedRedisIsRestartedWhenItDies) {
  TempDir dir;
  Dispatchd server(dir.path() + "/var");
  ASSERT_TRUE(server.Start()) << server.log();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(WaitForHealth(channel, kServing));
  int pid = std::stoi(ReadFile(dir.path() + "/var/redis.pid"));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_TRUE(WaitForHealth(channel, kNotServing) || HealthStatus(channel) == kServing);
  EXPECT_TRUE(WaitForHealth(channel, kServing));
  auto stub = v1::IntakeService::NewStub(channel);
  v1::SubmitRequestResponse resp;
  EXPECT_TRUE(stub->SubmitRequest(Ctx(server.admin_token()).get(),
                                  ValidSubmit("restart-0001", "13900000009"), &resp).ok());
  EXPECT_THAT(server.log(), ::testing::HasSubstr("redis-server exited; restarting"));
  EXPECT_EQ(server.Stop(), 0);
}

TEST(FaultTest, StopsAndStopsItsRedisEvenWhenTheDataDirWasDeleted) {
  TempDir dir;
  Dispatchd server(dir.path() + "/var");
  ASSERT_TRUE(server.Start()) << server.log();
  int redis_pid = std::stoi(ReadFile(dir.path() + "/var/redis.pid"));
  // Redis cannot write its final snapshot now; it used to refuse to exit, and dispatchd
  // waited for it for ever.
  std::filesystem::remove_all(dir.path() + "/var");
  int status = server.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << server.log();
  for (int i = 0; i < 500 && kill(redis_pid, 0) == 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_NE(kill(redis_pid, 0), 0) << "redis-server " << redis_pid << " outlived dispatchd";
}

}  // namespace
}  // namespace yiyuan::testing
