// RedisClient and RequestStore against a real redis-server.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/field_violations.h"
#include "server/redis_client.h"
#include "server/request_store.h"
#include "tests/testing/processes.h"

namespace yiyuan::testing {
namespace {

RedisClientOptions Options(const RedisServer& redis) {
  RedisClientOptions o;
  o.endpoint.unix_path = redis.socket();
  o.pool_size = 4;
  return o;
}

RequestContent Content(const std::string& phone) {
  RequestContent c;
  c.channel = Channel::kApp;
  c.category = Category::kShopping;
  c.urgency = Urgency::kRoutine;
  c.resident.name = "Li";
  c.resident.phone = phone;
  c.resident.location = LatLng{30.9, 120.1};
  c.resident.community_id = "wx-renhuang";
  c.headcount = 1;
  c.recurrence = Recurrence::kOnce;
  return c;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

TEST(RedisClientTest, ParsesUrls) {
  EXPECT_EQ(ParseRedisUrl("redis://10.0.0.5:6380")->port, 6380);
  EXPECT_EQ(ParseRedisUrl("redis://db")->port, 6379);
  EXPECT_EQ(ParseRedisUrl("unix:///run/redis.sock")->unix_path, "/run/redis.sock");
  EXPECT_FALSE(ParseRedisUrl("http://x").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://x:0").ok());
  EXPECT_FALSE(ParseRedisUrl("unix://relative").ok());
}

TEST(RedisClientTest, MapsScriptErrorsToStatusCodes) {
  EXPECT_EQ(StatusFromRedisError("FAILED_PRECONDITION taken").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromRedisError("LOADING Redis is loading").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromRedisError("ERR wrong number of arguments").code(),
            absl::StatusCode::kInternal);
  absl::Status s = StatusFromRedisError("INVALID_ARGUMENT request_id: reused");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "request_id: reused");
  absl::Status why = StatusFromRedisError("FAILED_PRECONDITION {OUT_OF_STOCK} out of stock: 0 left");
  EXPECT_EQ(why.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(why.message(), "out of stock: 0 left");
  EXPECT_EQ(ReasonOf(why), "OUT_OF_STOCK");
  EXPECT_EQ(ReasonOf(StatusFromRedisError("FAILED_PRECONDITION {unclosed")), "");
}

TEST(RedisClientTest, ReloadsScriptsAfterScriptFlush) {
  RedisServer redis;
  RedisClient client(Options(redis));
  RequestStore store(&client);
  ASSERT_TRUE(store.Submit("wuxing", "flush-0001", Content("13800000001"), Soon()).ok());
  ASSERT_TRUE(client.Command({"SCRIPT", "FLUSH"}).ok());
  EXPECT_TRUE(store.Submit("wuxing", "flush-0002", Content("13800000002"), Soon()).ok());
}

TEST(RedisClientTest, ReconnectsAfterRedisRestarts) {
  RedisServer redis;
  RedisClient client(Options(redis));
  ASSERT_TRUE(client.Ping(Soon()).ok());
  redis.Kill();
  EXPECT_EQ(client.Ping(Soon()).code(), absl::StatusCode::kUnavailable);
  redis.Start();
  EXPECT_TRUE(client.Ping(Soon()).ok());
  EXPECT_GE(client.stats().connects, 2);
}

TEST(RedisClientTest, HonoursTheCallersDeadline) {
  RedisServer redis;
  RedisClient client(Options(redis));
  absl::StatusOr<RedisValue> r =
      client.Command({"BLPOP", "nothing-here", "0.5"}, absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client.Command({"PING"}, absl::Now() - absl::Seconds(1)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  // The timed-out connection was thrown away; the next call works.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_TRUE(client.Ping(Soon()).ok());
}

TEST(RequestStoreTest, SubmitCancelAndOneRoundTripEach) {
  RedisServer redis;
  RedisClient client(Options(redis));
  RequestStore store(&client);
  // The first call of a script after a Redis start loads it (NOSCRIPT, then EVAL).
  ASSERT_TRUE(store.Submit("warmup", "store-0000", Content("13800000009"), Soon()).ok());
  int64_t before = client.stats().round_trips;
  absl::StatusOr<SubmitResult> r = store.Submit("wuxing", "store-0001", Content("13800000003"), Soon());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(client.stats().round_trips - before, 1);
  EXPECT_EQ(r->outcome, SubmitOutcome::kCreated);
  EXPECT_EQ(r->request.id, "wuxing-1");
  EXPECT_EQ(r->request.state, RequestState::kSubmitted);
  EXPECT_EQ(r->request.content.resident.phone, "13800000003");
  EXPECT_GT(r->request.create_time_ms, 0);

  absl::StatusOr<HelpRequest> c = store.Cancel("wuxing-1", "no longer needed", "t1", Soon());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state, RequestState::kCancelled);
  EXPECT_EQ(store.Cancel("wuxing-2", "x", "t1", Soon()).status().code(),
            absl::StatusCode::kNotFound);
  // Both mutations are in the event stream.
  absl::StatusOr<RedisValue> events = client.Command({"XRANGE", "{d:wuxing}:events", "-", "+"});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->elements.size(), 2u);
  EXPECT_EQ(events->elements[0].elements[1].elements[1].str, "request.submitted");
  EXPECT_EQ(events->elements[1].elements[1].elements[1].str, "request.cancelled");
}

TEST(RequestStoreTest, ListPagesNewestFirstWithinTheScanBudget) {
  RedisServer redis;
  RedisClient client(Options(redis));
  RequestStoreOptions options;
  options.list_scan_budget = 7;
  RequestStore store(&client, options);
  for (int i = 0; i < 30; ++i) {
    RequestContent c = Content("138000001" + std::to_string(10 + i));
    c.urgency = i % 3 == 0 ? Urgency::kCrisis : Urgency::kRoutine;
    ASSERT_TRUE(store.Submit("wuxing", "list-" + std::to_string(i) + "-0000", c, Soon()).ok());
  }
  RequestFilter f;
  f.district = "wuxing";
  f.urgency = Urgency::kCrisis;
  std::vector<std::string> ids;
  std::optional<int64_t> cursor;
  int calls = 0;
  do {
    absl::StatusOr<RequestPage> page = store.List(f, cursor, 3, Soon());
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->requests.size(), 3u);
    for (const HelpRequest& r : page->requests) ids.push_back(r.id);
    cursor = page->next_cursor;
    ++calls;
  } while (cursor.has_value() && calls < 50);
  EXPECT_EQ(ids, (std::vector<std::string>{"wuxing-28", "wuxing-25", "wuxing-22", "wuxing-19",
                                           "wuxing-16", "wuxing-13", "wuxing-10", "wuxing-7",
                                           "wuxing-4", "wuxing-1"}));
  EXPECT_GT(calls, 4);  // The budget of 7 forces short pages.
}

}  // namespace
}  // namespace yiyuan::testing
