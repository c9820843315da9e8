// RedisClient, RequestStore and DispatchStore against a real redis-server.
#include "absl/strings/str_cat.h"
#include "engine/field_violations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/dispatch_store.h"
#include "server/redis_client.h"
#include "server/redis_fields.h"
#include "server/request_store.h"
#include "server/volunteer_store.h"
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

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// EvalMany is exercised with revoke_token.lua, a small embedded script whose reply
// depends on its input: the record of token id ARGV[1] (HGETALL), or NOT_FOUND for an
// unknown id. These are its keys.
constexpr char kTokenIndex[] = "{t}:tokens";
constexpr char kTokenPrefix[] = "{t}:token:";

// Token ids tok-0 .. tok-<n-1>, each a record named n-<i>.
void AddTokens(RedisClient& client, int n) {
  for (int i = 0; i < n; ++i) {
    std::string sha = absl::StrCat("sha-", i);
    ASSERT_TRUE(client.Command({"HSET", kTokenIndex, absl::StrCat("tok-", i), sha}).ok());
    ASSERT_TRUE(client
                    .Command({"HSET", absl::StrCat(kTokenPrefix, sha), "name",
                              absl::StrCat("n-", i), "revoked", "0"})
                    .ok());
  }
}

std::vector<RedisClient::ScriptCall> RevokeCalls(const std::vector<std::string>& token_ids) {
  std::vector<RedisClient::ScriptCall> calls;
  for (const std::string& id : token_ids) calls.push_back({{kTokenIndex}, {id, kTokenPrefix}});
  return calls;
}

// Round trips of `client` made by `f`, counted both by the client and by the thread.
template <typename F>
int64_t RoundTripsOf(RedisClient& client, F f) {
  int64_t before = client.stats().round_trips;
  int64_t thread_before = RedisClient::ThreadRoundTrips();
  f();
  int64_t made = client.stats().round_trips - before;
  EXPECT_EQ(RedisClient::ThreadRoundTrips() - thread_before, made);
  return made;
}

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
  absl::Status why =
      StatusFromRedisError("FAILED_PRECONDITION {OUT_OF_STOCK} out of stock: 0 left");
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

TEST(RedisClientTest, EvalManyRunsEachCallInOrderInOneRoundTrip) {
  RedisServer redis;
  RedisClient client(Options(redis));
  AddTokens(client, 50);
  const LuaScript script = LuaScript::Embedded("revoke_token.lua");
  ASSERT_TRUE(client.Command({"SCRIPT", "LOAD", script.body()}).ok());
  // Not in key order, so that the replies must follow the calls.
  std::vector<int> order;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    order.push_back(i * 17 % 50);
    ids.push_back(absl::StrCat("tok-", order.back()));
  }
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> r;
  EXPECT_EQ(RoundTripsOf(client, [&] { r = client.EvalMany(script, RevokeCalls(ids), Soon()); }),
            1);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 50u);
  for (size_t k = 0; k < r->size(); ++k) {
    ASSERT_TRUE((*r)[k].ok()) << k << ": " << (*r)[k].status();
    HashFields f(*(*r)[k]);
    EXPECT_EQ(f.str("name"), absl::StrCat("n-", order[k])) << k;
    EXPECT_EQ(f.str("revoked"), "1") << k;
  }
  // Every call ran.
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(
        client.Command({"HGET", absl::StrCat(kTokenPrefix, "sha-", i), "revoked"}, Soon())->str,
        "1")
        << i;
  }
}

TEST(RedisClientTest, EvalManyLoadsAScriptRedisDoesNotHave) {
  RedisServer redis;
  RedisClient client(Options(redis));
  AddTokens(client, 20);
  const LuaScript script = LuaScript::Embedded("revoke_token.lua");
  ASSERT_TRUE(client.Command({"SCRIPT", "LOAD", script.body()}).ok());
  ASSERT_TRUE(client.Command({"SCRIPT", "FLUSH"}).ok());
  std::vector<std::string> ids;
  for (int i = 19; i >= 0; --i) ids.push_back(absl::StrCat("tok-", i));
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> r;
  // The EVALSHAs, then one EVAL with the EVALSHAs after it.
  EXPECT_EQ(RoundTripsOf(client, [&] { r = client.EvalMany(script, RevokeCalls(ids), Soon()); }),
            2);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 20u);
  for (size_t k = 0; k < r->size(); ++k) {
    ASSERT_TRUE((*r)[k].ok()) << k << ": " << (*r)[k].status();
    EXPECT_EQ(HashFields(*(*r)[k]).str("name"), absl::StrCat("n-", 19 - k)) << k;
  }
  absl::StatusOr<RedisValue> exists = client.Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  ASSERT_EQ(exists->elements.size(), 1u);
  EXPECT_EQ(exists->elements[0].integer, 1) << "EvalMany left the script uncached";
  // Now cached: one round trip.
  EXPECT_EQ(RoundTripsOf(client, [&] { r = client.EvalMany(script, RevokeCalls(ids), Soon()); }),
            1);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 20u);
  for (size_t k = 0; k < r->size(); ++k) {
    ASSERT_TRUE((*r)[k].ok()) << k << ": " << (*r)[k].status();
    EXPECT_EQ(HashFields(*(*r)[k]).str("name"), absl::StrCat("n-", 19 - k)) << k;
  }
}

TEST(RedisClientTest, EvalManyGivesEachCallItsOwnStatus) {
  RedisServer redis;
  RedisClient client(Options(redis));
  AddTokens(client, 3);
  const LuaScript script = LuaScript::Embedded("revoke_token.lua");
  const std::vector<std::string> ids = {"nope-0", "tok-0", "nope-1", "tok-2"};
  // Once with the script unknown to Redis (the first call, an error, goes by EVAL),
  // once with it cached.
  for (bool cached : {false, true}) {
    SCOPED_TRACE(cached ? "cached" : "not cached");
    absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> r =
        client.EvalMany(script, RevokeCalls(ids), Soon());
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->size(), 4u);
    EXPECT_EQ((*r)[0].status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ((*r)[0].status().message(), "no token with id nope-0");
    ASSERT_TRUE((*r)[1].ok()) << (*r)[1].status();
    EXPECT_EQ(HashFields(*(*r)[1]).str("name"), "n-0");
    EXPECT_EQ((*r)[2].status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ((*r)[2].status().message(), "no token with id nope-1");
    ASSERT_TRUE((*r)[3].ok()) << (*r)[3].status();
    EXPECT_EQ(HashFields(*(*r)[3]).str("name"), "n-2");
  }
  // Nothing to run: nothing sent.
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> none;
  EXPECT_EQ(RoundTripsOf(client, [&] { none = client.EvalMany(script, {}, Soon()); }), 0);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST(RequestStoreTest, SubmitCancelAndOneRoundTripEach) {
  RedisServer redis;
  RedisClient client(Options(redis));
  RequestStore store(&client);
  // The first call of a script after a Redis start loads it (NOSCRIPT, then EVAL).
  ASSERT_TRUE(store.Submit("warmup", "store-0000", Content("13800000009"), Soon()).ok());
  int64_t before = client.stats().round_trips;
  absl::StatusOr<SubmitResult> r =
      store.Submit("wuxing", "store-0001", Content("13800000003"), Soon());
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

// A volunteer of wuxing, registered and on duty, who can take two assignments.
std::string OnDutyVolunteer(VolunteerStore& volunteers, int n) {
  VolunteerProfile p;
  p.external_id = absl::StrCat("ext-", n);
  p.name = "Wang";
  p.phone = absl::StrCat("1390000000", n);
  p.home_community_id = "wx-renhuang";
  p.capacity = 2;
  bool replayed = false;
  absl::StatusOr<Volunteer> v = volunteers.Register("wuxing", p, Soon(), &replayed);
  EXPECT_TRUE(v.ok()) << v.status();
  if (!v.ok()) return "";
  absl::StatusOr<Volunteer> on =
      volunteers.SetDuty(v->id, DutyStatus::kOn, LatLng{30.9, 120.1}, "test", Soon());
  EXPECT_TRUE(on.ok()) << on.status();
  return v->id;
}

// A new ROUTINE request of wuxing.
std::string Submitted(RequestStore& requests, int n) {
  absl::StatusOr<SubmitResult> r = requests.Submit("wuxing", absl::StrCat("disp-", n, "-0000"),
                                                   Content(absl::StrCat("1380000010", n)), Soon());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->request.id : "";
}

std::vector<OfferToMake> OffersTo(const std::vector<std::string>& volunteer_ids) {
  std::vector<OfferToMake> offers;
  for (const std::string& id : volunteer_ids) offers.push_back({AssigneeRef{false, id}, "{}"});
  return offers;
}

std::vector<std::string> OfferIds(const MadeOffers& m) {
  std::vector<std::string> ids;
  for (const MadeOffers::Made& o : m.offers) ids.push_back(o.offer_id);
  return ids;
}

std::vector<std::string> OfferedTo(const MadeOffers& m) {
  std::vector<std::string> ids;
  for (const MadeOffers::Made& o : m.offers) ids.push_back(o.to.id);
  return ids;
}

void ExpectSameSnapshot(const DispatchSnapshot& many, const DispatchSnapshot& one) {
  EXPECT_EQ(many.gone, one.gone);
  EXPECT_EQ(many.request.id, one.request.id);
  EXPECT_EQ(many.request.state, one.request.state);
  EXPECT_EQ(many.round, one.round);
  EXPECT_EQ(many.pending, one.pending);
  EXPECT_EQ(many.expired, one.expired);
  EXPECT_EQ(many.offers_made, one.offers_made);
  EXPECT_EQ(many.tried, one.tried);
}

// The stores of one district over one real Redis, and `n` volunteers on duty.
class DispatchStoreTest : public ::testing::Test {
 protected:
  std::vector<std::string> OnDuty(int n) {
    std::vector<std::string> ids;
    for (int i = 1; i <= n; ++i) ids.push_back(OnDutyVolunteer(volunteers, i));
    return ids;
  }

  RedisServer redis;
  RedisClient client{Options(redis)};
  RequestStore requests{&client};
  VolunteerStore volunteers{&client};
  DispatchStore store{&client};
};

TEST_F(DispatchStoreTest, AdvanceManyIsAdvanceOfEachRequest) {
  const std::vector<std::string> v = OnDuty(3);
  const std::string &v1 = v[0], &v2 = v[1], &v3 = v[2];
  std::string a = Submitted(requests, 1);  // Two offers pending.
  std::string b = Submitted(requests, 2);  // No offer yet.
  std::string c = Submitted(requests, 3);  // One offer, overdue at once.
  ASSERT_TRUE(store.MakeOffers(a, 0, true, absl::Hours(1), "", 0, OffersTo({v1, v2}), Soon()).ok());
  absl::StatusOr<MadeOffers> made_c =
      store.MakeOffers(c, 0, true, absl::ZeroDuration(), "", 0, OffersTo({v3}), Soon());
  ASSERT_TRUE(made_c.ok()) << made_c.status();
  ASSERT_TRUE(made_c->made);
  ASSERT_TRUE(store.Advance(b, 0, Soon()).ok());  // Redis has the script now.

  const std::vector<std::string> ids = {a, "wuxing-x", b, c, "wuxing-99"};
  absl::StatusOr<std::vector<absl::StatusOr<DispatchSnapshot>>> many;
  EXPECT_EQ(RoundTripsOf(client, [&] { many = store.AdvanceMany(ids, 0, Soon()); }), 1);
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), ids.size());
  EXPECT_EQ((*many)[1].status().code(), absl::StatusCode::kInvalidArgument);
  for (size_t i : {0, 2, 3, 4}) {
    ASSERT_TRUE((*many)[i].ok()) << ids[i] << ": " << (*many)[i].status();
  }
  const DispatchSnapshot& sa = *(*many)[0];
  EXPECT_EQ(sa.request.state, RequestState::kOffered);
  EXPECT_EQ(sa.round, 1);
  EXPECT_EQ(sa.pending, 2);
  EXPECT_EQ(sa.expired_now, 0);
  EXPECT_THAT(sa.tried, UnorderedElementsAre("v:" + v1, "v:" + v2));
  const DispatchSnapshot& sb = *(*many)[2];
  EXPECT_EQ(sb.request.state, RequestState::kSubmitted);
  EXPECT_EQ(sb.round, 0);
  EXPECT_EQ(sb.pending, 0);
  EXPECT_TRUE(sb.tried.empty());
  const DispatchSnapshot& sc = *(*many)[3];
  EXPECT_EQ(sc.expired_now, 1);  // AdvanceMany did Advance's work, not only a read.
  EXPECT_EQ(sc.expired, 1);
  EXPECT_EQ(sc.pending, 0);
  EXPECT_THAT(sc.tried, UnorderedElementsAre("v:" + v3));
  EXPECT_TRUE((*many)[4]->gone);

  // Advance one by one now sees the same requests (c's offer already expired).
  for (size_t i : {0, 2, 3, 4}) {
    SCOPED_TRACE(ids[i]);
    absl::StatusOr<DispatchSnapshot> one = store.Advance(ids[i], 0, Soon());
    ASSERT_TRUE(one.ok()) << one.status();
    ExpectSameSnapshot(*(*many)[i], *one);
    EXPECT_EQ(one->expired_now, 0);
  }
  EXPECT_EQ(store.Advance("wuxing-x", 0, Soon()).status().code(), (*many)[1].status().code());
}

TEST_F(DispatchStoreTest, MakeOffersManyMakesEachBatchsOffersInOneRoundTrip) {
  const std::vector<std::string> v = OnDuty(4);
  const std::string &v1 = v[0], &v2 = v[1], &v3 = v[2], &v4 = v[3];
  std::string a = Submitted(requests, 1);
  std::string b = Submitted(requests, 2);
  std::string c = Submitted(requests, 3);
  ASSERT_TRUE(requests.Cancel(c, "no longer needed", "t1", Soon()).ok());
  // What MakeOffers says of a closed request (and Redis has the script now).
  absl::Status closed =
      store.MakeOffers(c, 0, true, absl::Hours(1), "", 0, OffersTo({v4}), Soon()).status();
  EXPECT_EQ(closed.code(), absl::StatusCode::kFailedPrecondition) << closed;

  std::vector<DispatchStore::OfferBatch> batches = {
      {a, 0, true, absl::Hours(1), "", OffersTo({v1, v2})},
      {b, 0, true, absl::Hours(1), "", OffersTo({v3})}};
  absl::StatusOr<std::vector<absl::StatusOr<MadeOffers>>> many;
  EXPECT_EQ(RoundTripsOf(client, [&] { many = store.MakeOffersMany(batches, 0, Soon()); }), 1);
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 2u);
  ASSERT_TRUE((*many)[0].ok()) << (*many)[0].status();
  ASSERT_TRUE((*many)[1].ok()) << (*many)[1].status();
  EXPECT_TRUE((*many)[0]->made);
  EXPECT_EQ((*many)[0]->round, 1);
  EXPECT_THAT(OfferIds(*(*many)[0]), ElementsAre(a + "-o1", a + "-o2"));
  EXPECT_THAT(OfferedTo(*(*many)[0]), ElementsAre(v1, v2));
  EXPECT_TRUE((*many)[1]->made);
  EXPECT_EQ((*many)[1]->round, 1);
  EXPECT_THAT(OfferIds(*(*many)[1]), ElementsAre(b + "-o1"));
  EXPECT_THAT(OfferedTo(*(*many)[1]), ElementsAre(v3));
  absl::StatusOr<DispatchSnapshot> la = store.Load(a, Soon());
  ASSERT_TRUE(la.ok()) << la.status();
  EXPECT_EQ(la->request.state, RequestState::kOffered);
  EXPECT_EQ(la->round, 1);
  EXPECT_EQ(la->pending, 2);
  EXPECT_THAT(la->tried, UnorderedElementsAre("v:" + v1, "v:" + v2));
  absl::StatusOr<DispatchSnapshot> lb = store.Load(b, Soon());
  ASSERT_TRUE(lb.ok()) << lb.status();
  EXPECT_EQ(lb->round, 1);
  EXPECT_EQ(lb->pending, 1);

  // a's round is stale now: only a is refused, as MakeOffers refuses it.
  absl::Status stale =
      store.MakeOffers(a, 0, true, absl::Hours(1), "", 0, OffersTo({v4}), Soon()).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted) << stale;
  batches = {{a, 0, true, absl::Hours(1), "", OffersTo({v4})},
             {"wuxing-x", 0, true, absl::Hours(1), "", OffersTo({v4})},
             {b, 1, true, absl::Hours(1), "", OffersTo({v4})},
             {c, 0, true, absl::Hours(1), "", OffersTo({v4})}};
  EXPECT_EQ(RoundTripsOf(client, [&] { many = store.MakeOffersMany(batches, 0, Soon()); }), 1);
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 4u);
  EXPECT_EQ((*many)[0].status().code(), stale.code()) << (*many)[0].status();
  EXPECT_EQ((*many)[1].status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*many)[2].ok()) << (*many)[2].status();
  EXPECT_TRUE((*many)[2]->made);
  EXPECT_EQ((*many)[2]->round, 2);
  EXPECT_THAT(OfferIds(*(*many)[2]), ElementsAre(b + "-o2"));
  EXPECT_THAT(OfferedTo(*(*many)[2]), ElementsAre(v4));
  EXPECT_EQ((*many)[3].status().code(), closed.code()) << (*many)[3].status();
  la = store.Load(a, Soon());
  ASSERT_TRUE(la.ok()) << la.status();
  EXPECT_EQ(la->round, 1);
  EXPECT_EQ(la->pending, 2);
  EXPECT_THAT(la->tried, UnorderedElementsAre("v:" + v1, "v:" + v2));
}

}  // namespace
}  // namespace yiyuan::testing
