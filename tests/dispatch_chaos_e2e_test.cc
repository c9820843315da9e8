// Concurrency and fault tests of the dispatch loop (issue 5): several real dispatchd
// processes sharing one real redis-server, real gRPC, real SIGKILLs. Outcomes are
// checked both from what clients see and from Redis itself, read directly. Nothing
// waits a fixed time: every wait is for a condition, with a deadline.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/dispatch_store.h"
#include "server/dispatcher.h"
#include "server/keys.h"
#include "server/redis_client.h"
#include "server/redis_fields.h"
#include "server/stream_hub.h"
#include "tests/testing/client.h"
#include "tests/testing/dispatch_world.h"
#include "tests/testing/processes.h"
#include "yiyuan/v1/unit.grpc.pb.h"

namespace yiyuan::testing {
namespace {

// Short offer lifetimes so that expiry, rounds and escalation happen within a test.
constexpr char kShortPolicy[] =
    "routine.offer_ttl=700ms,routine.max_rounds=3,urgent.offer_ttl=500ms,urgent.max_rounds=3,"
    "crisis.offer_ttl=600ms,crisis.max_rounds=3";

// Dispatchd instances sharing one redis-server, as in production, and a client of that
// Redis for reading the state directly.
class Cluster {
 public:
  explicit Cluster(std::string policy) : policy_(std::move(policy)) {
    RedisClientOptions o;
    o.endpoint = *ParseRedisUrl(redis_.url());
    redis_client_ = std::make_unique<RedisClient>(o);
  }

  // Starts an instance named `name` (also its --instance-id); null if it did not come
  // up, with its log in `log`.
  Dispatchd* Start(const std::string& name, std::string* log) {
    auto d = std::make_unique<Dispatchd>(
        absl::StrCat(dir_.path(), "/", name),
        std::vector<std::string>{"--redis=" + redis_.url(), "--instance-id=" + name,
                                 "--dispatch-policy=" + policy_});
    if (!d->Start()) {
      *log = d->log();
      return nullptr;
    }
    instances_.push_back(std::move(d));
    return instances_.back().get();
  }

  DispatchWorld World(const Dispatchd* d, const std::string& district) {
    return DispatchWorld(grpc::CreateChannel(d->address(), grpc::InsecureChannelCredentials()),
                         d->admin_token(), district);
  }

  RedisClient& redis() { return *redis_client_; }

  // One command; a failure is a test failure (and an empty reply).
  RedisValue Command(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisValue> v = redis_client_->Command(argv, absl::Now() + absl::Seconds(5));
    EXPECT_TRUE(v.ok()) << absl::StrJoin(argv, " ") << ": " << v.status();
    return v.ok() ? *std::move(v) : RedisValue();
  }
  HashFields Hash(const std::string& key) { return HashFields(Command({"HGETALL", key})); }
  std::vector<std::string> Strings(const std::vector<std::string>& argv) {
    std::vector<std::string> out;
    for (const RedisValue& e : Command(argv).elements) out.push_back(e.str);
    return out;
  }

 private:
  const std::string policy_;
  RedisServer redis_;
  TempDir dir_;
  std::unique_ptr<RedisClient> redis_client_;
  std::vector<std::unique_ptr<Dispatchd>> instances_;
};

// True when the instance behind `w` has every one of `ids` on duty in its live index.
// An instance learns other instances' writes from the event stream, a moment later,
// and only offers volunteers it knows.
bool Indexed(const DispatchWorld& w, const std::vector<std::string>& ids,
             const v1::LatLng& center) {
  v1::FindNearbyVolunteersRequest req;
  req.set_district(w.district());
  *req.mutable_center() = center;
  req.set_limit(100);
  req.set_max_radius_m(20000);
  req.add_duty_statuses(v1::DUTY_ON);
  v1::FindNearbyVolunteersResponse resp;
  if (!w.Vol()->FindNearbyVolunteers(Ctx(w.admin()).get(), req, &resp).ok()) return false;
  absl::flat_hash_set<std::string> seen;
  for (const v1::NearbyCandidate& c : resp.candidates()) seen.insert(c.volunteer().id());
  for (const std::string& id : ids) {
    if (!seen.contains(id)) return false;
  }
  return true;
}

// "v:wuxing-v3" items of a ",v:wuxing-v3,u:wuxing-u1," list.
std::vector<std::string> ListItems(const std::string& list) {
  return absl::StrSplit(list, ',', absl::SkipEmpty());
}

int64_t Int(const std::string& s) {
  int64_t n = 0;
  (void)absl::SimpleAtoi(s, &n);
  return n;
}

// Everything of one district's dispatch state, read in one atomic script so that the
// invariants are checked on a consistent cut.
constexpr char kSnapshotScript[] = R"lua(
local P = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reqs = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'reqs', 0, -1)) do
  local n = tonumber(redis.call('HGET', P .. 'req:' .. id, 'n_offers') or '0')
  local offers = {}
  for i = 1, n do
    local o = redis.call('HGETALL', P .. 'offer:' .. id .. '-o' .. i)
    if #o > 0 then table.insert(offers, o) end
  end
  table.insert(reqs, {id, redis.call('HGETALL', P .. 'req:' .. id),
                      redis.call('SMEMBERS', P .. 'rpend:' .. id), offers,
                      redis.call('ZSCORE', P .. 'due', id) or '',
                      redis.call('ZSCORE', P .. 'esc', id) or ''})
end
local asgs = {}
for _, k in ipairs(redis.call('KEYS', P .. 'asg:*')) do
  table.insert(asgs, redis.call('HGETALL', k))
end
local helpers = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'vols', 0, -1)) do
  table.insert(helpers, {'v:' .. id, redis.call('HGETALL', P .. 'vol:' .. id),
                         redis.call('SMEMBERS', P .. 'apending:v:' .. id)})
end
for _, id in ipairs(redis.call('ZRANGE', P .. 'units', 0, -1)) do
  table.insert(helpers, {'u:' .. id, redis.call('HGETALL', P .. 'unit:' .. id),
                         redis.call('SMEMBERS', P .. 'apending:u:' .. id)})
end
return {tostring(now), reqs, asgs, helpers,
        redis.call('ZRANGE', P .. 'due', 0, -1, 'WITHSCORES'),
        redis.call('ZRANGE', P .. 'expiry', 0, -1, 'WITHSCORES')}
)lua";

struct Snapshot {
  struct Request {
    std::string id;
    HashFields h;
    std::set<std::string> pending;  // rpend
    std::vector<HashFields> offers;
    std::string due, esc;  // Scores, "" when not a member.
  };
  struct Helper {
    std::string key;  // "v:<volunteer id>" or "u:<unit id>"
    HashFields h;
    std::set<std::string> pending;  // apending
  };
  int64_t now_ms = 0;
  std::vector<Request> requests;
  std::vector<HashFields> assignments;
  std::vector<Helper> helpers;
  std::map<std::string, int64_t> due, expiry;

  // Nothing is overdue: every request the leader must look at and every pending offer
  // lies in the future, so no dispatcher has work it has not done yet.
  bool Quiet() const {
    for (const auto& [id, at] : due) {
      if (at <= now_ms) return false;
    }
    for (const auto& [id, at] : expiry) {
      if (at <= now_ms) return false;
    }
    return true;
  }
};

std::set<std::string> SetOf(const RedisValue& v) {
  std::set<std::string> out;
  for (const RedisValue& e : v.elements) out.insert(e.str);
  return out;
}

std::map<std::string, int64_t> ScoresOf(const RedisValue& v) {
  std::map<std::string, int64_t> out;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    double score = 0;
    (void)absl::SimpleAtod(v.elements[i + 1].str, &score);
    out[v.elements[i].str] = static_cast<int64_t>(score);
  }
  return out;
}

absl::StatusOr<Snapshot> TakeSnapshot(RedisClient& redis, const std::string& district) {
  absl::StatusOr<RedisValue> r = redis.Command(
      {"EVAL", kSnapshotScript, "0", keys::District(district)}, absl::Now() + absl::Seconds(10));
  if (!r.ok()) return r.status();
  const auto& e = r->elements;
  if (e.size() != 6) return absl::InternalError("malformed snapshot");
  Snapshot s;
  s.now_ms = Int(e[0].str);
  for (const RedisValue& q : e[1].elements) {
    Snapshot::Request req;
    req.id = q.elements[0].str;
    req.h = HashFields(q.elements[1]);
    req.pending = SetOf(q.elements[2]);
    for (const RedisValue& o : q.elements[3].elements) req.offers.emplace_back(o);
    req.due = q.elements[4].str;
    req.esc = q.elements[5].str;
    s.requests.push_back(std::move(req));
  }
  for (const RedisValue& a : e[2].elements) s.assignments.emplace_back(a);
  for (const RedisValue& v : e[3].elements) {
    s.helpers.push_back({v.elements[0].str, HashFields(v.elements[1]), SetOf(v.elements[2])});
  }
  s.due = ScoresOf(e[4]);
  s.expiry = ScoresOf(e[5]);
  return s;
}

// The invariants of the dispatch state (the header of server/lua/dispatch_lib.lua) that
// hold whenever nothing is overdue; one line per violation.
std::vector<std::string> Violations(const Snapshot& s, const DispatchPolicyOptions& policy) {
  std::vector<std::string> out;
  auto bad = [&](const std::string& what, auto&&... more) {
    out.push_back(absl::StrCat(what, more...));
  };
  static const auto* const kStates = new absl::flat_hash_set<std::string>{
      "SUBMITTED", "OFFERED", "ASSIGNED",  "EN_ROUTE", "IN_SERVICE",
      "COMPLETED", "RATED",   "CANCELLED", "ESCALATED"};
  static const auto* const kOfferStates = new absl::flat_hash_set<std::string>{
      "PENDING", "ACCEPTED", "DECLINED", "EXPIRED", "WITHDRAWN"};

  // Assignments by request and by volunteer.
  absl::flat_hash_map<std::string, std::set<std::string>> standing_of_request;
  absl::flat_hash_map<std::string, int> open_of_helper;  // By assignee key.
  for (const HashFields& a : s.assignments) {
    std::string who = absl::StrCat(a.str("kind"), ":", a.str("who"));
    if (a.has("release_ms")) continue;
    standing_of_request[a.str("req")].insert(who);
    const std::string& p = a.str("progress");
    if (p != "COMPLETED" && p != "RATED") ++open_of_helper[who];
  }

  std::set<std::string> all_pending;  // Offer ids in state PENDING.
  absl::flat_hash_map<std::string, std::set<std::string>> pending_of_helper;
  for (const Snapshot::Request& r : s.requests) {
    const std::string& id = r.id;
    const std::string& state = r.h.str("state");
    int64_t headcount = std::max<int64_t>(1, r.h.integer("headcount"));
    int64_t assigned = r.h.integer("n_assigned");
    bool due_now = !r.due.empty() && Int(r.due) <= s.now_ms;
    if (!kStates->contains(state)) bad(id, ": unknown state \"", state, "\"");

    // Offers: live ones are in rpend, rpend holds only live ones.
    std::map<int64_t, int> per_round;
    for (const HashFields& o : r.offers) {
      const std::string& oid = o.str("id");
      if (!kOfferStates->contains(o.str("state"))) {
        bad(oid, ": unknown offer state \"", o.str("state"), "\"");
      }
      if (o.str("req") != id) bad(oid, ": belongs to ", o.str("req"));
      if (o.integer("round") > r.h.integer("round")) {
        bad(oid, ": round ", o.integer("round"), " is past the request's ", r.h.str("round"));
      }
      ++per_round[o.integer("round")];
      if (o.str("state") == "PENDING") {
        all_pending.insert(oid);
        pending_of_helper[absl::StrCat(o.str("kind"), ":", o.str("to"))].insert(oid);
        if (r.pending.count(oid) == 0) bad(oid, ": PENDING but not in rpend of ", id);
      }
    }
    // One round never has more offers than the policy makes (more than one dispatcher
    // making the same round would show here). Mobilisations add offers in chunks.
    if (r.h.str("mob").empty()) {
      const std::string& u = r.h.str("urgency");
      const UrgencyPolicy& up = u == "CRISIS"   ? policy.crisis
                                : u == "URGENT" ? policy.urgent
                                                : policy.routine;
      int64_t most = std::max<int64_t>(up.offers_per_round, headcount);
      for (const auto& [round, n] : per_round) {
        if (n > most) bad(id, ": ", n, " offers in round ", round, " (at most ", most, ")");
      }
      if (static_cast<int64_t>(r.pending.size()) > most) {
        bad(id, ": ", r.pending.size(), " offers out at once (at most ", most, ")");
      }
      // Rounds never overlap: a round starts only once every offer of the rounds
      // before it was answered, expired or withdrawn.
      for (const HashFields& later : r.offers) {
        for (const HashFields& earlier : r.offers) {
          if (earlier.integer("round") >= later.integer("round")) continue;
          bool open_then = earlier.str("state") == "PENDING" ||
                           earlier.integer("state_ms") > later.integer("create_ms");
          if (open_then) {
            bad(id, ": ", later.str("id"), " (round ", later.str("round"), ") made while ",
                earlier.str("id"), " (round ", earlier.str("round"), ") was still out");
          }
        }
      }
    }
    for (const std::string& oid : r.pending) {
      const HashFields* o = nullptr;
      for (const HashFields& f : r.offers) {
        if (f.str("id") == oid) o = &f;
      }
      if (o == nullptr) {
        bad(id, ": rpend holds ", oid, ", which is no offer of it");
        continue;
      }
      if (o->str("state") != "PENDING") bad(id, ": rpend holds ", oid, " in ", o->str("state"));
      if (o->integer("expire_ms") <= s.now_ms && !due_now) {
        bad(id, ": offer ", oid, " expired ", s.now_ms - o->integer("expire_ms"),
            " ms ago and the request is not due");
      }
      auto x = s.expiry.find(oid);
      if (x == s.expiry.end() || x->second != o->integer("expire_ms")) {
        bad(oid, ": pending but not in the expiry set at its expire_ms");
      }
    }

    // Exactly one state, consistent with the queues.
    bool offered = state == "OFFERED";
    if (offered != !r.pending.empty()) {
      bad(id, ": state ", state, " with ", r.pending.size(), " pending offers");
    }
    if ((state == "ESCALATED") != !r.esc.empty()) {
      bad(id, ": state ", state, (r.esc.empty() ? " but not" : " but"), " in the escalation queue");
    }
    bool closed = state == "CANCELLED" || state == "COMPLETED" || state == "RATED";
    if ((closed || state == "ESCALATED") && !r.due.empty()) {
      bad(id, ": state ", state, " but in the due set");
    }

    // Staffing: the counter, the assignee list and the assignment hashes agree.
    const std::set<std::string>& standing = standing_of_request[id];
    if (assigned > headcount) bad(id, ": n_assigned ", assigned, " > headcount ", headcount);
    if (assigned != static_cast<int64_t>(standing.size())) {
      bad(id, ": n_assigned ", assigned, " but ", standing.size(), " standing assignments {",
          absl::StrJoin(standing, " "), "}");
    }
    std::vector<std::string> listed = ListItems(r.h.str("assignees"));
    std::set<std::string> listed_set(listed.begin(), listed.end());
    if (listed.size() != listed_set.size() || listed_set != standing) {
      bad(id, ": assignees \"", r.h.str("assignees"), "\" but standing assignments {",
          absl::StrJoin(standing, " "), "}");
    }
    if (state == "ESCALATED" && assigned >= headcount) {
      bad(id, ": ESCALATED while fully staffed (", assigned, " of ", headcount, ")");
    }
    if ((state == "ASSIGNED" || state == "EN_ROUTE" || state == "IN_SERVICE") && assigned == 0) {
      bad(id, ": state ", state, " without an assignment");
    }
    if (state == "COMPLETED" || state == "RATED") {
      if (assigned < headcount) bad(id, ": ", state, " with ", assigned, " of ", headcount);
      for (const HashFields& a : s.assignments) {
        const std::string& p = a.str("progress");
        if (a.str("req") == id && !a.has("release_ms") && p != "COMPLETED" && p != "RATED") {
          bad(id, ": ", state, " but ", a.str("who"), " is ", p);
        }
      }
    }

    // Nothing stuck: an open request short of helpers has an offer out, or the leader
    // will look at it (it is in the due set; pooled ROUTINE requests wait there for the
    // next batch cycle).
    bool working = state == "SUBMITTED" || state == "OFFERED" || state == "ASSIGNED" ||
                   state == "EN_ROUTE" || state == "IN_SERVICE";
    if (working && assigned < headcount && r.pending.empty() && r.due.empty()) {
      bad(id, ": ", state, " with ", assigned, " of ", headcount,
          " helpers, no offer out and not in the due set");
    }
  }

  for (const auto& [oid, at] : s.expiry) {
    if (all_pending.count(oid) == 0) bad(oid, ": in the expiry set but not PENDING");
  }
  for (const HashFields& a : s.assignments) {
    bool known = false;
    for (const Snapshot::Request& r : s.requests) known = known || r.id == a.str("req");
    if (!known) bad("assignment of ", a.str("who"), " to unknown request ", a.str("req"));
  }
  for (const Snapshot::Helper& v : s.helpers) {
    int64_t active = v.h.integer("active_n");
    int64_t capacity = v.h.integer("capacity");
    if (active > capacity) bad(v.key, ": active_n ", active, " > capacity ", capacity);
    if (active != open_of_helper[v.key]) {
      bad(v.key, ": active_n ", active, " but ", open_of_helper[v.key], " open assignments");
    }
    if (v.pending != pending_of_helper[v.key]) {
      bad(v.key, ": apending {", absl::StrJoin(v.pending, " "), "} but pending offers {",
          absl::StrJoin(pending_of_helper[v.key], " "), "}");
    }
  }
  return out;
}

// Looks at one district again and again, checking the invariants on every quiet
// snapshot and reporting each violation once. Not thread-safe.
class Observer {
 public:
  Observer(RedisClient* redis, std::string district, DispatchPolicyOptions policy)
      : redis_(redis), district_(std::move(district)), policy_(policy) {}

  // Takes a snapshot and checks it if nothing is overdue. True when the district is at
  // rest: nothing overdue and no offer out.
  bool Look() {
    absl::StatusOr<Snapshot> s = TakeSnapshot(*redis_, district_);
    if (!s.ok()) return false;
    last_ = *std::move(s);
    if (!last_.Quiet()) return false;
    ++quiet_snapshots_;
    for (std::string& v : Violations(last_, policy_)) {
      if (seen_.insert(v).second) violations_.push_back(std::move(v));
    }
    return last_.expiry.empty();
  }

  const Snapshot& last() const { return last_; }
  int quiet_snapshots() const { return quiet_snapshots_; }
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  RedisClient* const redis_;
  const std::string district_;
  const DispatchPolicyOptions policy_;
  Snapshot last_;
  int quiet_snapshots_ = 0;
  std::set<std::string> seen_;
  std::vector<std::string> violations_;
};

// Pending offer ids of a request, straight from Redis.
std::vector<std::string> PendingOf(Cluster& c, const std::string& district,
                                   const std::string& request_id) {
  std::vector<std::string> ids =
      c.Strings({"SMEMBERS", keys::RequestPending(district, request_id)});
  std::sort(ids.begin(), ids.end());
  return ids;
}

// 50 acceptances of the offers of one request, at once, spread over two instances:
// exactly one assignment, every other caller told FAILED_PRECONDITION (or, for the
// winning offer, the same answer again).
TEST(DispatchChaosTest, ConcurrentAcceptsAcrossInstancesMakeExactlyOneAssignment) {
  Cluster c("crisis.offer_ttl=60s");
  std::string log;
  Dispatchd* a = c.Start("race-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("race-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "race";
  DispatchWorld wa = c.World(a, d), wb = c.World(b, d);

  for (int trial = 0; trial < 4; ++trial) {
    SCOPED_TRACE(absl::StrCat("trial ", trial));
    // Each trial far from the others, with its own three volunteers.
    double north = 40000.0 * trial;
    std::vector<std::string> vols;
    for (int i = 0; i < 3; ++i) vols.push_back(wa.Volunteer(Where(north + 100.0 * (i + 1), 0)));
    ASSERT_TRUE(WaitFor([&] { return Indexed(wb, vols, Where(north)); }));
    v1::HelpRequest r = (trial % 2 == 0 ? wa : wb).Submit(v1::CRISIS, Where(north));
    ASSERT_FALSE(r.id().empty());
    std::vector<std::string> offers;
    ASSERT_TRUE(WaitFor([&] {
      offers = PendingOf(c, d, r.id());
      return offers.size() == 3;
    })) << offers.size()
        << " offers";

    constexpr int kCallers = 50;
    absl::Notification go;
    std::vector<grpc::Status> status(kCallers);
    std::vector<v1::RespondToOfferResponse> resp(kCallers);
    std::vector<std::thread> threads;
    for (int i = 0; i < kCallers; ++i) {
      threads.emplace_back([&, i] {
        const DispatchWorld& w = i % 2 == 0 ? wa : wb;
        go.WaitForNotification();
        status[i] = w.Respond(offers[i % 3], true, &resp[i]);
      });
    }
    go.Notify();
    for (std::thread& t : threads) t.join();

    std::set<std::string> winners;
    std::set<int64_t> accept_times;
    for (int i = 0; i < kCallers; ++i) {
      if (status[i].ok()) {
        winners.insert(resp[i].offer().offer_id());
        accept_times.insert(resp[i].assignment().accept_time_ms());
        EXPECT_EQ(resp[i].offer().state(), v1::OFFER_ACCEPTED);
      } else {
        EXPECT_EQ(status[i].error_code(), grpc::StatusCode::FAILED_PRECONDITION)
            << "caller " << i << ": " << status[i].error_message();
      }
    }
    ASSERT_EQ(winners.size(), 1u) << absl::StrJoin(winners, " ");
    EXPECT_EQ(accept_times.size(), 1u) << "replays return the one assignment";
    const std::string winner = *winners.begin();

    // And in Redis: one assignment, the winner's load 1, everyone else's 0.
    HashFields req = c.Hash(keys::Request(d, r.id()));
    EXPECT_EQ(req.integer("n_assigned"), 1);
    EXPECT_EQ(req.str("state"), "ASSIGNED");
    std::vector<std::string> asg = c.Strings({"KEYS", keys::Assignment(d, r.id(), "*")});
    ASSERT_EQ(asg.size(), 1u) << absl::StrJoin(asg, " ");
    std::string winner_vol = c.Hash(keys::Offer(d, winner)).str("to");
    EXPECT_EQ(asg[0], keys::Assignment(d, r.id(), "v:" + winner_vol));
    for (const std::string& v : vols) {
      EXPECT_EQ(c.Hash(keys::Volunteer(d, v)).integer("active_n"), v == winner_vol ? 1 : 0) << v;
    }
    for (const std::string& o : offers) {
      EXPECT_EQ(c.Hash(keys::Offer(d, o)).str("state"), o == winner ? "ACCEPTED" : "WITHDRAWN")
          << o;
    }
    EXPECT_TRUE(PendingOf(c, d, r.id()).empty());
    int accepted_events = 0;
    for (const RedisValue& e : c.Command({"XRANGE", keys::Events(d), "-", "+"}).elements) {
      HashFields f(e.elements[1]);
      if (f.str("type") == "offer.accepted" && f.str("request") == r.id()) ++accepted_events;
    }
    EXPECT_EQ(accepted_events, 1);
  }
}

// Found by the random operations below: a volunteer who went BUSY keeps the offers
// already made, and accepting one of them must still respect capacity.
TEST(DispatchChaosTest, ABusyVolunteerCannotAcceptBeyondCapacity) {
  Cluster c("crisis.offer_ttl=60s");
  std::string log;
  Dispatchd* a = c.Start("busy-a", &log);
  ASSERT_NE(a, nullptr) << log;
  const std::string d = "busycap";
  DispatchWorld w = c.World(a, d);
  std::string v = w.Volunteer(Where(100, 0), {}, 1);
  v1::HelpRequest r1 = w.Submit(v1::CRISIS, Where());
  v1::HelpRequest r2 = w.Submit(v1::CRISIS, Where(0, 10));
  std::vector<std::string> o1, o2;
  ASSERT_TRUE(WaitFor([&] {
    o1 = PendingOf(c, d, r1.id());
    o2 = PendingOf(c, d, r2.id());
    return o1.size() == 1 && o2.size() == 1;
  }));
  ASSERT_TRUE(w.Respond(o1[0], true).ok());
  v1::SetDutyStatusRequest busy;
  busy.set_volunteer_id(v);
  busy.set_status(v1::DUTY_BUSY);
  v1::Volunteer out;
  ASSERT_TRUE(w.Vol()->SetDutyStatus(Ctx(w.admin()).get(), busy, &out).ok());
  grpc::Status second = w.Respond(o2[0], true);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << second.error_message();
  EXPECT_EQ(ErrorReason(second), "NO_CAPACITY");
  EXPECT_EQ(c.Hash(keys::Volunteer(d, v)).integer("active_n"), 1);
  EXPECT_EQ(c.Hash(keys::Request(d, r2.id())).integer("n_assigned"), 0);
}

// Found by the random operations below: a request for two whose first helper is
// already on the way when the other offer is declined still gets offered to the next
// candidate (it stayed due, unstaffed, for ever).
TEST(DispatchChaosTest, ARequestShortOfHelpersMovesOnWhileTheFirstIsEnRoute) {
  Cluster c("urgent.offer_ttl=60s");
  std::string log;
  Dispatchd* a = c.Start("short-a", &log);
  ASSERT_NE(a, nullptr) << log;
  const std::string d = "shorthand";
  DispatchWorld w = c.World(a, d);
  std::string first = w.Volunteer(Where(100, 0));
  std::string second = w.Volunteer(Where(200, 0));
  std::string third = w.Volunteer(Where(300, 0));
  v1::HelpRequest r = w.Submit(v1::URGENT, Where(), 2);
  std::vector<std::string> offers;
  ASSERT_TRUE(WaitFor([&] {
    offers = PendingOf(c, d, r.id());
    return offers.size() == 2;
  }));
  std::string to_first =
      c.Hash(keys::Offer(d, offers[0])).str("to") == first ? offers[0] : offers[1];
  std::string to_second = to_first == offers[0] ? offers[1] : offers[0];
  ASSERT_TRUE(w.Respond(to_first, true).ok());
  ASSERT_TRUE(w.Progress(r.id(), first, v1::PROGRESS_EN_ROUTE).ok());
  ASSERT_TRUE(w.Respond(to_second, false).ok());
  ASSERT_TRUE(WaitFor([&] {
    for (const std::string& o : PendingOf(c, d, r.id())) {
      if (c.Hash(keys::Offer(d, o)).str("to") == third) return true;
    }
    return false;
  })) << "request "
      << c.Hash(keys::Request(d, r.id())).str("state") << ", round "
      << c.Hash(keys::Request(d, r.id())).str("round");
  EXPECT_EQ(c.Hash(keys::Request(d, r.id())).integer("round"), 2);
}

// Found by the random operations below (seed 5): assigning a volunteer again to a
// request they already completed their part of replaced the completed assignment and
// counted them twice.
TEST(DispatchChaosTest, AVolunteerWhoCompletedTheirPartCannotBeAssignedAgain) {
  Cluster c("urgent.offer_ttl=60s");
  std::string log;
  Dispatchd* a = c.Start("again-a", &log);
  ASSERT_NE(a, nullptr) << log;
  const std::string d = "again";
  DispatchWorld w = c.World(a, d);
  std::string v = w.Volunteer(Where(100, 0), {}, 2);
  v1::HelpRequest r = w.Submit(v1::URGENT, Where(), 2);
  auto assign = [&] {
    v1::AssignManuallyRequest req;
    req.set_request_id(r.id());
    req.mutable_assignee()->set_volunteer_id(v);
    req.set_reason("called her directly");
    v1::Assignment out;
    return w.Dispatch()->AssignManually(Ctx(w.admin()).get(), req, &out);
  };
  ASSERT_TRUE(assign().ok());
  ASSERT_TRUE(w.Progress(r.id(), v, v1::PROGRESS_COMPLETED, 30).ok());
  grpc::Status again = assign();
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << again.error_message();
  HashFields req = c.Hash(keys::Request(d, r.id()));
  EXPECT_EQ(req.integer("n_assigned"), 1);
  EXPECT_EQ(req.str("assignees"), ",v:" + v + ",");
  HashFields asg = c.Hash(keys::Assignment(d, r.id(), "v:" + v));
  EXPECT_EQ(asg.str("progress"), "COMPLETED") << "the completed assignment is kept";
  EXPECT_EQ(c.Hash(keys::Volunteer(d, v)).integer("active_n"), 0);
}

// An operator's assignment racing the dispatcher's escalation of the same round (the
// last offer declined): the request ends up staffed or escalated, never escalated while
// staffed (it was, in about one race in ten, and then stayed ESCALATED through its
// completion).
TEST(DispatchChaosTest, AnAssignmentRacingAnEscalationLeavesOneOutcome) {
  Cluster c("urgent.offer_ttl=60s,urgent.max_rounds=1");
  std::string log;
  Dispatchd* a = c.Start("esc-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("esc-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "escrace";
  DispatchWorld wa = c.World(a, d), wb = c.World(b, d);
  std::string near = wa.Volunteer(Where(50, 0), {}, 10);
  std::vector<std::string> by_hand;
  for (int i = 0; i < 5; ++i) by_hand.push_back(wa.Volunteer(Where(2500, 100.0 * i), {}, 10));
  std::vector<std::string> all = by_hand;
  all.push_back(near);
  ASSERT_TRUE(WaitFor([&] { return Indexed(wa, all, Where()) && Indexed(wb, all, Where()); }));
  int escalated_staffed = 0, staffed = 0, escalated = 0;
  for (int trial = 0; trial < 40; ++trial) {
    v1::HelpRequest r = wa.Submit(v1::URGENT, Where(0, trial));
    ASSERT_FALSE(r.id().empty());
    std::vector<std::string> offers;
    ASSERT_TRUE(WaitFor([&] {
      offers = PendingOf(c, d, r.id());
      return offers.size() == 1;
    }));
    absl::Notification go;
    std::thread decline([&] {
      go.WaitForNotification();
      (void)(trial % 2 == 0 ? wa : wb).Respond(offers[0], false);
    });
    std::thread assign([&] {
      v1::AssignManuallyRequest req;
      req.set_request_id(r.id());
      req.mutable_assignee()->set_volunteer_id(by_hand[trial % by_hand.size()]);
      req.set_reason("racing");
      v1::Assignment out;
      go.WaitForNotification();
      (void)(trial % 2 == 0 ? wb : wa).Dispatch()->AssignManually(Ctx(wa.admin()).get(), req, &out);
    });
    go.Notify();
    decline.join();
    assign.join();
    HashFields req;
    ASSERT_TRUE(WaitFor([&] {
      req = c.Hash(keys::Request(d, r.id()));
      return req.str("state") == "ESCALATED" || req.str("state") == "ASSIGNED";
    })) << req.str("state");
    // Let the loop finish with it: nothing due.
    ASSERT_TRUE(WaitFor([&] {
      return c.Command({"ZSCORE", keys::District(d) + "due", r.id()}).is_nil();
    }));
    req = c.Hash(keys::Request(d, r.id()));
    bool full = req.integer("n_assigned") >= req.integer("headcount");
    if (req.str("state") == "ESCALATED") ++escalated;
    if (full) ++staffed;
    if (full && req.str("state") == "ESCALATED") ++escalated_staffed;
  }
  std::cout << "[ race ] " << staffed << " staffed, " << escalated << " escalated\n";
  EXPECT_EQ(escalated_staffed, 0);
}

// Sets `a` from an assignee key ("v:<id>" or "u:<id>").
void SetAssignee(const std::string& key, v1::Assignee* a) {
  if (key.rfind("u:", 0) == 0) {
    a->set_unit_id(key.substr(2));
  } else {
    a->set_volunteer_id(key.substr(2));
  }
}

// Drives one district with random operations from several threads over two instances.
class RandomOperations {
 public:
  // `volunteers`: ids; `helpers`: every volunteer and unit as an assignee key.
  RandomOperations(Cluster* c, std::vector<DispatchWorld> worlds,
                   std::vector<std::string> volunteers, std::vector<std::string> helpers)
      : c_(c),
        worlds_(std::move(worlds)),
        volunteers_(std::move(volunteers)),
        helpers_(std::move(helpers)) {}

  void Run(uint64_t seed, int ops) {
    std::mt19937_64 rng(seed);
    auto uniform = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
    for (int i = 0; i < ops; ++i) {
      DispatchWorld& w = worlds_[uniform(static_cast<int>(worlds_.size()))];
      int dice = uniform(100);
      if (dice < 18) {
        Submit(w, rng);
      } else if (dice < 26) {
        Duty(w, volunteers_[uniform(static_cast<int>(volunteers_.size()))], uniform(100));
      } else if (dice < 46) {
        Answer(w, true);
      } else if (dice < 56) {
        Answer(w, false);
      } else if (dice < 59) {
        LetExpire();
      } else if (dice < 73) {
        Progress(w, uniform(100), rng);
      } else if (dice < 80) {
        Cancel(w, rng);
      } else if (dice < 89) {
        AssignManually(w, helpers_[uniform(static_cast<int>(helpers_.size()))], rng);
      } else {
        Reassign(w, uniform(2) == 0, rng);
      }
    }
  }

  std::vector<std::string> unexpected() {
    absl::MutexLock lock(&mu_);
    return unexpected_;
  }
  int calls() const { return calls_.load(); }

 private:
  const std::string& district() const { return worlds_[0].district(); }

  // Errors a caller may see in a busy district; anything else is a fault.
  void Note(const std::string& op, const grpc::Status& s) {
    calls_.fetch_add(1);
    switch (s.error_code()) {
      case grpc::StatusCode::OK:
      case grpc::StatusCode::FAILED_PRECONDITION:
      case grpc::StatusCode::NOT_FOUND:
        return;
      default:
        absl::MutexLock lock(&mu_);
        unexpected_.push_back(absl::StrCat(op, ": ", s.error_code(), " ", s.error_message()));
    }
  }

  std::string AnyRequest(std::mt19937_64& rng) {
    absl::MutexLock lock(&mu_);
    if (requests_.empty()) return "";
    return requests_[rng() % requests_.size()];
  }

  // A request with a current assignee, and that assignee's key.
  std::pair<std::string, std::string> AnyAssignment(std::mt19937_64& rng) {
    for (int attempt = 0; attempt < 6; ++attempt) {
      std::string id = AnyRequest(rng);
      if (id.empty()) return {};
      std::vector<std::string> who =
          ListItems(c_->Hash(keys::Request(district(), id)).str("assignees"));
      if (who.empty()) continue;
      return {id, who[rng() % who.size()]};
    }
    return {};
  }

  void Submit(DispatchWorld& w, std::mt19937_64& rng) {
    static const v1::Urgency kUrgencies[] = {v1::ROUTINE, v1::URGENT, v1::CRISIS};
    int h = static_cast<int>(rng() % 10);
    int headcount = h < 7 ? 1 : h < 9 ? 2 : 3;
    double north = static_cast<double>(rng() % 2000) - 1000;
    double east = static_cast<double>(rng() % 2000) - 1000;
    v1::HelpRequest r = w.Submit(kUrgencies[rng() % 3], Where(north, east), headcount);
    calls_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    if (r.id().empty()) {
      unexpected_.push_back("submit failed");
      return;
    }
    requests_.push_back(r.id());
  }

  void Duty(const DispatchWorld& w, const std::string& id, int dice) {
    v1::SetDutyStatusRequest req;
    req.set_volunteer_id(id);
    req.set_status(dice < 60 ? v1::DUTY_ON : dice < 85 ? v1::DUTY_OFF : v1::DUTY_BUSY);
    if (req.status() == v1::DUTY_ON) *req.mutable_location() = Where(dice * 10 - 500, 0);
    v1::Volunteer out;
    Note("duty " + id, w.Vol()->SetDutyStatus(Ctx(w.admin()).get(), req, &out));
  }

  // A random pending offer of the district ("" if none).
  std::string AnyPendingOffer() {
    RedisValue v = c_->Command({"ZRANDMEMBER", keys::District(district()) + "expiry"});
    return v.str;
  }

  void Answer(const DispatchWorld& w, bool accept) {
    std::string offer = AnyPendingOffer();
    if (offer.empty()) return;
    Note(absl::StrCat(accept ? "accept " : "decline ", offer), w.Respond(offer, accept));
  }

  // Leaves an offer unanswered and waits until the dispatcher has expired it.
  void LetExpire() {
    std::string offer = AnyPendingOffer();
    if (offer.empty()) return;
    const std::string key = keys::Offer(district(), offer);
    if (!WaitFor([&] { return c_->Hash(key).str("state") != "PENDING"; }, absl::Seconds(10))) {
      absl::MutexLock lock(&mu_);
      unexpected_.push_back(absl::StrCat("offer ", offer, " stayed PENDING 10 s, expire_ms ",
                                         c_->Hash(key).str("expire_ms")));
    }
  }

  void Progress(const DispatchWorld& w, int dice, std::mt19937_64& rng) {
    auto [request, who] = AnyAssignment(rng);
    if (request.empty()) return;
    v1::ReportProgressRequest req;
    req.set_request_id(request);
    SetAssignee(who, req.mutable_assignee());
    req.set_kind(dice < 30   ? v1::PROGRESS_EN_ROUTE
                 : dice < 50 ? v1::PROGRESS_ARRIVED
                 : dice < 80 ? v1::PROGRESS_COMPLETED
                 : dice < 90 ? v1::PROGRESS_NO_SHOW
                             : v1::PROGRESS_RATED);
    if (req.kind() == v1::PROGRESS_COMPLETED) req.set_minutes_served(30);
    if (req.kind() == v1::PROGRESS_RATED) req.set_rating(4);
    v1::Assignment out;
    Note(absl::StrCat("progress ", v1::ProgressKind_Name(req.kind()), " ", request, " ", who),
         w.Vol()->ReportProgress(Ctx(w.admin()).get(), req, &out));
  }

  void Cancel(const DispatchWorld& w, std::mt19937_64& rng) {
    std::string id = AnyRequest(rng);
    if (id.empty()) return;
    v1::CancelRequestRequest req;
    req.set_id(id);
    req.set_reason("chaos");
    v1::HelpRequest out;
    Note("cancel " + id, w.Intake()->CancelRequest(Ctx(w.admin()).get(), req, &out));
  }

  void AssignManually(const DispatchWorld& w, const std::string& who, std::mt19937_64& rng) {
    std::string id = AnyRequest(rng);
    if (id.empty()) return;
    v1::AssignManuallyRequest req;
    req.set_request_id(id);
    SetAssignee(who, req.mutable_assignee());
    req.set_reason("chaos: assigned by hand");
    v1::Assignment out;
    Note(absl::StrCat("assign ", id, " ", who),
         w.Dispatch()->AssignManually(Ctx(w.admin()).get(), req, &out));
  }

  void Reassign(const DispatchWorld& w, bool to_someone, std::mt19937_64& rng) {
    auto [request, from] = AnyAssignment(rng);
    if (request.empty()) return;
    v1::ReassignRequest req;
    req.set_request_id(request);
    SetAssignee(from, req.mutable_from_assignee());
    std::string to;
    if (to_someone) {
      to = helpers_[rng() % helpers_.size()];
      if (to == from) return;
      SetAssignee(to, req.mutable_to_assignee());
    }
    req.set_reason("chaos: moved");
    v1::ReassignResponse out;
    Note(absl::StrCat("reassign ", request, " from ", from, to_someone ? " to " : " back", to),
         w.Dispatch()->Reassign(Ctx(w.admin()).get(), req, &out));
  }

  Cluster* const c_;
  std::vector<DispatchWorld> worlds_;
  const std::vector<std::string> volunteers_;
  const std::vector<std::string> helpers_;
  std::atomic<int> calls_{0};
  absl::Mutex mu_;
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
};

uint64_t Seed() {
  if (const char* s = getenv("CHAOS_SEED")) {
    uint64_t seed = 0;
    if (absl::SimpleAtoi(s, &seed)) return seed;
  }
  return 20260511;
}

// 1,000 seeded random operations across two instances, then the invariants read from
// Redis once nothing is overdue. CHAOS_SEED=<n> replays another seed.
TEST(DispatchChaosTest, RandomOperationsKeepTheInvariants) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(absl::StrCat("seed ", seed, " (rerun with CHAOS_SEED=", seed, ")"));
  absl::StatusOr<DispatchPolicyOptions> policy = ParseDispatchPolicy(kShortPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  Cluster c(kShortPolicy);
  std::string log;
  Dispatchd* a = c.Start("mix-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("mix-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "mix";
  std::vector<DispatchWorld> worlds = {c.World(a, d), c.World(b, d)};

  std::mt19937_64 rng(seed);
  std::vector<std::string> vols;
  for (int i = 0; i < 16; ++i) {
    double north = static_cast<double>(rng() % 2000) - 1000;
    double east = static_cast<double>(rng() % 2000) - 1000;
    vols.push_back(
        worlds[i % 2].Volunteer(Where(north, east), {}, 1 + static_cast<int>(rng() % 3)));
    ASSERT_FALSE(vols.back().empty());
  }
  std::vector<std::string> helpers;
  for (const std::string& v : vols) helpers.push_back("v:" + v);
  // Stations take requests for two or more (and work assigned by hand).
  for (int i = 0; i < 3; ++i) {
    v1::CreateUnitRequest req;
    req.set_district(d);
    v1::Unit* u = req.mutable_unit();
    u->set_kind(v1::UNIT_STATION);
    u->set_name(absl::StrCat("Station ", i));
    u->set_community_id("wx-aiguo");
    *u->mutable_location() = Where(600.0 * i - 600, 300);
    u->set_capacity(2);
    u->set_active(true);
    v1::Unit out;
    grpc::Status st = v1::UnitService::NewStub(worlds[i % 2].channel())
                          ->CreateUnit(Ctx(worlds[0].admin()).get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    helpers.push_back("u:" + out.id());
  }
  ASSERT_TRUE(WaitFor(
      [&] { return Indexed(worlds[0], vols, Where()) && Indexed(worlds[1], vols, Where()); }));

  constexpr int kThreads = 4;
  constexpr int kOps = 1000;
  RandomOperations ops(&c, worlds, vols, helpers);
  Observer observer(&c.redis(), d, *policy);
  absl::Time start = absl::Now();
  std::atomic<bool> done{false};
  // The invariants hold at every quiet moment, not only at the end.
  std::thread watcher([&] {
    WaitFor(
        [&] {
          observer.Look();
          return done.load();
        },
        absl::Minutes(5));
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { ops.Run(seed * 31 + t, kOps / kThreads); });
  }
  for (std::thread& t : threads) t.join();
  done = true;
  watcher.join();
  absl::Duration took = absl::Now() - start;
  int quiet_during = observer.quiet_snapshots();
  bool at_rest = WaitFor([&] { return observer.Look(); }, absl::Seconds(40));
  const Snapshot& last = observer.last();
  std::map<std::string, int> by_state;
  for (const Snapshot::Request& r : last.requests) ++by_state[r.h.str("state")];
  std::cout << "[ chaos ] seed " << seed << ": " << ops.calls() << " calls in " << took << "; "
            << last.requests.size() << " requests, " << last.assignments.size() << " assignments ("
            << std::count_if(last.assignments.begin(), last.assignments.end(),
                             [](const HashFields& a) { return a.str("kind") == "u"; })
            << " to units); at rest " << (at_rest ? "" : "NOT ") << "after "
            << absl::Now() - start - took << "; invariants checked on " << quiet_during
            << " quiet snapshots during the operations and "
            << observer.quiet_snapshots() - quiet_during << " after\n[ chaos ] states at the end:";
  for (const auto& [state, n] : by_state) std::cout << " " << state << " " << n;
  std::cout << "\n";

  std::vector<std::string> unexpected = ops.unexpected();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " calls failed unexpectedly:\n"
                                  << absl::StrJoin(unexpected.begin(),
                                                   unexpected.begin() +
                                                       std::min<size_t>(20, unexpected.size()),
                                                   "\n");
  if (!at_rest) {
    std::vector<std::string> busy;
    for (const Snapshot::Request& r : last.requests) {
      auto due = last.due.find(r.id);
      bool overdue = due != last.due.end() && due->second <= last.now_ms;
      if (!overdue && r.pending.empty()) continue;
      busy.push_back(absl::StrCat(
          r.id, " ", r.h.str("urgency"), " ", r.h.str("state"), " ", r.h.str("n_assigned"), "/",
          r.h.str("headcount"), " round ", r.h.str("round"), ", ", r.pending.size(), " offers out",
          overdue ? absl::StrCat(", due ", last.now_ms - due->second, " ms ago") : ""));
    }
    ADD_FAILURE() << "the district never came to rest; still busy:\n" << absl::StrJoin(busy, "\n");
  }
  EXPECT_GT(observer.quiet_snapshots(), 0);
  const std::vector<std::string>& v = observer.violations();
  EXPECT_TRUE(v.empty()) << v.size() << " invariant violations:\n"
                         << absl::StrJoin(v.begin(), v.begin() + std::min<size_t>(40, v.size()),
                                          "\n");
}

// SIGKILL of the instance that made an offer, then a new instance on the same Redis:
// the offer expires and the request is offered to the next candidate or escalated.
// Also a kill right after a submission (the first offer may or may not have gone
// out): the request still moves on. Nothing stays in SUBMITTED or OFFERED.
TEST(DispatchChaosTest, SigkillMidOfferThenRestartMovesTheRequestOn) {
  Cluster c("urgent.offer_ttl=1500ms,urgent.max_rounds=3");
  std::string log;
  Dispatchd* a = c.Start("kill-a", &log);
  ASSERT_NE(a, nullptr) << log;
  const std::string d = "killed";
  DispatchWorld wa = c.World(a, d);
  std::string near = wa.Volunteer(Where(100, 0));
  std::string far = wa.Volunteer(Where(400, 0));
  v1::HelpRequest r = wa.Submit(v1::URGENT, Where());
  ASSERT_FALSE(r.id().empty());
  std::vector<std::string> first;
  ASSERT_TRUE(WaitFor([&] {
    first = PendingOf(c, d, r.id());
    return !first.empty();
  }));
  ASSERT_EQ(c.Hash(keys::Offer(d, first[0])).str("to"), near);
  // Right after the second submission, before its offer may have gone out.
  v1::HelpRequest r2 = wa.Submit(v1::URGENT, Where(0, 50));
  ASSERT_FALSE(r2.id().empty());
  a->Kill();
  EXPECT_EQ(c.Hash(keys::Offer(d, first[0])).str("state"), "PENDING");

  Dispatchd* b = c.Start("kill-b", &log);
  ASSERT_NE(b, nullptr) << log;
  DispatchWorld wb = c.World(b, d);
  // The first request: its offer expires, the next candidate gets round 2.
  auto moved_on = [&] {
    HashFields req = c.Hash(keys::Request(d, r.id()));
    if (req.str("state") == "ESCALATED") return true;
    if (req.str("state") != "OFFERED" || req.integer("round") < 2) return false;
    for (const std::string& o : PendingOf(c, d, r.id())) {
      if (c.Hash(keys::Offer(d, o)).str("to") == far) return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitFor(moved_on, absl::Seconds(20)))
      << c.Hash(keys::Request(d, r.id())).str("state");
  EXPECT_EQ(c.Hash(keys::Offer(d, first[0])).str("state"), "EXPIRED");
  // Nobody answers from here on: both requests run out of candidates and wait for an
  // operator; neither stays behind in SUBMITTED or OFFERED.
  ASSERT_TRUE(WaitFor(
      [&] {
        return wb.Get(r.id()).state() == v1::ESCALATED && wb.Get(r2.id()).state() == v1::ESCALATED;
      },
      absl::Seconds(30)))
      << r.id() << " " << v1::RequestState_Name(wb.Get(r.id()).state()) << ", " << r2.id() << " "
      << v1::RequestState_Name(wb.Get(r2.id()).state());
  EXPECT_TRUE(PendingOf(c, d, r2.id()).empty());
  absl::StatusOr<DispatchPolicyOptions> policy =
      ParseDispatchPolicy("urgent.offer_ttl=1500ms,urgent.max_rounds=3");
  ASSERT_TRUE(policy.ok());
  absl::StatusOr<Snapshot> s = TakeSnapshot(c.redis(), d);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<std::string> v = Violations(*s, *policy);
  EXPECT_TRUE(v.empty()) << absl::StrJoin(v, "\n");
}

// Many requests over two instances, their offers declined through both at once (each
// decline makes the instance that took it try the next round at once, while the
// leader does the same): no round of any request ever gets more offers than the
// policy allows, and rounds follow one another.
TEST(DispatchChaosTest, TwoInstancesNeverDispatchOneRoundTwice) {
  const std::string policy_spec =
      "crisis.offer_ttl=2s,crisis.max_rounds=4,urgent.offer_ttl=1s,urgent.max_rounds=4";
  absl::StatusOr<DispatchPolicyOptions> policy = ParseDispatchPolicy(policy_spec);
  ASSERT_TRUE(policy.ok());
  Cluster c(policy_spec);
  std::string log;
  Dispatchd* a = c.Start("round-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("round-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "rounds";
  std::vector<DispatchWorld> worlds = {c.World(a, d), c.World(b, d)};
  std::vector<std::string> vols;
  for (int i = 0; i < 12; ++i) {
    vols.push_back(worlds[i % 2].Volunteer(Where(80.0 * i, 40), {}, 10));
    ASSERT_FALSE(vols.back().empty());
  }
  ASSERT_TRUE(WaitFor(
      [&] { return Indexed(worlds[0], vols, Where()) && Indexed(worlds[1], vols, Where()); }));

  constexpr int kRequests = 16;
  std::vector<std::string> ids;
  for (int i = 0; i < kRequests; ++i) {
    v1::HelpRequest r =
        worlds[i % 2].Submit(i % 2 == 0 ? v1::CRISIS : v1::URGENT, Where(0, 10.0 * i));
    ASSERT_FALSE(r.id().empty());
    ids.push_back(r.id());
  }
  // One thread per request declines every offer it finds, alternating instances, and
  // leaves every third round to expire instead (the leader's path).
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      std::set<std::string> answered;
      int n = 0;
      WaitFor(
          [&] {
            HashFields req = c.Hash(keys::Request(d, ids[i]));
            if (req.str("state") == "ESCALATED") return true;
            if (req.integer("round") % 3 == 0) return false;
            std::vector<std::thread> declines;
            for (const std::string& o : PendingOf(c, d, ids[i])) {
              if (!answered.insert(o).second) continue;
              declines.emplace_back([&, o, k = n++] { (void)worlds[k % 2].Respond(o, false); });
            }
            for (std::thread& t : declines) t.join();
            return false;
          },
          absl::Seconds(40));
    });
  }
  for (std::thread& t : threads) t.join();

  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    HashFields req = c.Hash(keys::Request(d, id));
    EXPECT_EQ(req.str("state"), "ESCALATED");
    const UrgencyPolicy& up = req.str("urgency") == "CRISIS" ? policy->crisis : policy->urgent;
    std::map<int64_t, std::vector<std::string>> by_round;
    std::set<std::string> offered;
    for (int64_t n = 1; n <= req.integer("n_offers"); ++n) {
      HashFields o = c.Hash(keys::Offer(d, absl::StrCat(id, "-o", n)));
      by_round[o.integer("round")].push_back(o.str("to"));
      EXPECT_TRUE(offered.insert(o.str("to")).second) << o.str("to") << " offered twice";
    }
    int64_t expect_round = 1;
    for (const auto& [round, to] : by_round) {
      EXPECT_EQ(round, expect_round++) << "rounds follow one another";
      EXPECT_LE(static_cast<int>(to.size()), up.offers_per_round)
          << "round " << round << " offered to " << absl::StrJoin(to, " ");
    }
    EXPECT_EQ(static_cast<int64_t>(by_round.size()), req.integer("round"));
  }
  absl::StatusOr<Snapshot> s = TakeSnapshot(c.redis(), d);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<std::string> v = Violations(*s, *policy);
  EXPECT_TRUE(v.empty()) << absl::StrJoin(v, "\n");
}

// Killing the district's leader: the other instance takes the lease (with a larger
// fencing token) and expires the dead leader's offers, moving the request on.
TEST(DispatchChaosTest, LeaderFailoverTakesTheLeaseAndExpiresOffers) {
  Cluster c("urgent.offer_ttl=1500ms,urgent.max_rounds=3");
  std::string log;
  Dispatchd* a = c.Start("lead-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("lead-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "failover";
  std::map<std::string, Dispatchd*> by_name = {{"lead-a", a}, {"lead-b", b}};
  DispatchWorld wa = c.World(a, d);
  std::string near = wa.Volunteer(Where(100, 0));
  std::string far = wa.Volunteer(Where(400, 0));
  std::string lease;
  ASSERT_TRUE(WaitFor([&] {
    lease = c.Command({"GET", keys::Lease(d)}).str;
    return !lease.empty();
  }));
  std::pair<std::string, std::string> held = absl::StrSplit(lease, absl::MaxSplits(' ', 1));
  Dispatchd* leader = by_name[held.second];
  ASSERT_NE(leader, nullptr) << lease;
  Dispatchd* survivor = leader == a ? b : a;
  const std::string survivor_name = leader == a ? "lead-b" : "lead-a";
  DispatchWorld wl = c.World(leader, d), ws = c.World(survivor, d);
  ASSERT_TRUE(WaitFor([&] {
    return Indexed(wl, {near, far}, Where()) && Indexed(ws, {near, far}, Where());
  }));

  // The leader makes the first offer, then dies.
  v1::HelpRequest r = wl.Submit(v1::URGENT, Where());
  ASSERT_FALSE(r.id().empty());
  std::vector<std::string> first;
  ASSERT_TRUE(WaitFor([&] {
    first = PendingOf(c, d, r.id());
    return !first.empty();
  }));
  absl::Time killed = absl::Now();
  leader->Kill();

  ASSERT_TRUE(WaitFor(
      [&] {
        lease = c.Command({"GET", keys::Lease(d)}).str;
        return absl::EndsWith(lease, " " + survivor_name);
      },
      absl::Seconds(10)))
      << "lease still \"" << lease << "\"";
  absl::Duration takeover = absl::Now() - killed;
  std::pair<std::string, std::string> now_held = absl::StrSplit(lease, absl::MaxSplits(' ', 1));
  EXPECT_GT(Int(now_held.first), Int(held.first)) << "a new holder gets a larger fencing token";

  ASSERT_TRUE(WaitFor(
      [&] {
        if (c.Hash(keys::Offer(d, first[0])).str("state") != "EXPIRED") return false;
        for (const std::string& o : PendingOf(c, d, r.id())) {
          if (c.Hash(keys::Offer(d, o)).str("to") == far) return true;
        }
        return false;
      },
      absl::Seconds(10)))
      << "request " << ws.Get(r.id()).DebugString();
  std::cout << "[ failover ] lease taken over " << takeover << " after the kill; offer "
            << "moved on " << absl::Now() - killed << " after it\n";
  EXPECT_EQ(ws.Get(r.id()).state(), v1::OFFERED);
}

// Reads a server stream (WatchEvents, WatchOffers) on its own thread, once `start` is
// notified (a client that does not read yet: the server's writes back up): the
// messages received so far, the call cancelled on request.
template <typename Msg>
class StreamReader {
 public:
  template <typename Stub, typename Req>
  StreamReader(std::unique_ptr<Stub> stub, const std::string& token,
               std::unique_ptr<grpc::ClientReader<Msg>> (Stub::*method)(grpc::ClientContext*,
                                                                        const Req&),
               const Req& req, absl::Notification* start = nullptr)
      : ctx_(Ctx(token, 60)) {
    reader_ = ((*stub).*method)(ctx_.get(), req);
    stub_ = std::shared_ptr<Stub>(std::move(stub));
    thread_ = std::thread([this, start] {
      if (start != nullptr) start->WaitForNotification();
      Msg m;
      while (reader_->Read(&m)) {
        absl::MutexLock lock(&mu_);
        received_.push_back(m);
      }
    });
  }
  ~StreamReader() { Stop(); }

  // Waits until at least `n` messages arrived or `timeout` passes.
  bool AwaitCount(size_t n, absl::Duration timeout = absl::Seconds(20)) {
    return WaitFor([&] { return received().size() >= n; }, timeout);
  }
  std::vector<Msg> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  // Cancels the call (a client going away mid-stream) and returns what was received.
  std::vector<Msg> Stop() {
    if (thread_.joinable()) {
      ctx_->TryCancel();
      thread_.join();
      (void)reader_->Finish();
    }
    return received();
  }

 private:
  std::shared_ptr<void> stub_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReader<Msg>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<Msg> received_ ABSL_GUARDED_BY(mu_);
};

// A WatchEvents stream of `w`'s district after `after`.
class EventReader : public StreamReader<v1::Event> {
 public:
  EventReader(const DispatchWorld& w, const std::string& after, absl::Notification* start = nullptr)
      : StreamReader(w.Dispatch(), w.admin(), &v1::DispatchService::Stub::WatchEvents,
                     Request(w.district(), after), start) {}

 private:
  static v1::WatchEventsRequest Request(const std::string& district, const std::string& after) {
    v1::WatchEventsRequest req;
    req.set_district(district);
    req.set_after_event_id(after);
    return req;
  }
};

// What WatchEvents sends for the stream's entries in [from, to]: all but the
// bookkeeping types, as "<event id> <request id>".
std::vector<std::string> VisibleEvents(Cluster& c, const std::string& district,
                                       const std::string& from, const std::string& to) {
  std::vector<std::string> out;
  for (const RedisValue& e : c.Command({"XRANGE", keys::Events(district), from, to}).elements) {
    HashFields f(e.elements[1]);
    if (f.str("type") == "assignee.load" || f.str("type") == "leader.elected") continue;
    out.push_back(absl::StrCat(e.elements[0].str, " ", f.str("request")));
  }
  return out;
}

// A client follows the event stream in three sittings while the district is busy,
// alternating instances and going away mid-stream each time; in the second sitting it
// does not read at first, so the server's writes back up. Each reconnect passes the
// last event id received: together the sittings are exactly the stream, with no gap
// and nothing twice. A cursor older than the retained history gets EVENT_STREAM_GAP
// first.
TEST(DispatchChaosTest, WatchEventsResumesWithoutGapsOrDuplicates) {
  Cluster c(kShortPolicy);
  std::string log;
  Dispatchd* a = c.Start("watch-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("watch-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "watchev";
  std::vector<DispatchWorld> worlds = {c.World(a, d), c.World(b, d)};
  std::vector<std::string> vols;
  for (int i = 0; i < 6; ++i) vols.push_back(worlds[i % 2].Volunteer(Where(100.0 * i, 0), {}, 3));
  ASSERT_TRUE(WaitFor(
      [&] { return Indexed(worlds[0], vols, Where()) && Indexed(worlds[1], vols, Where()); }));

  std::vector<v1::Event> received;
  auto sitting1 = std::make_unique<EventReader>(worlds[0], "0");
  std::thread load([&] {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 120; ++i) {
      DispatchWorld& w = worlds[i % 2];
      v1::HelpRequest r = w.Submit(i % 3 == 0 ? v1::CRISIS : v1::URGENT, Where(0, 5.0 * i));
      std::vector<std::string> offers;
      WaitFor([&] {
        offers = PendingOf(c, d, r.id());
        return !offers.empty() || w.Get(r.id()).state() == v1::ESCALATED;
      });
      if (offers.empty()) continue;
      switch (rng() % 3) {
        case 0:
          (void)worlds[(i + 1) % 2].Respond(offers[0], false);
          break;
        case 1:
          if (worlds[(i + 1) % 2].Respond(offers[0], true).ok()) {
            std::string who = c.Hash(keys::Offer(d, offers[0])).str("to");
            (void)w.Progress(r.id(), who, v1::PROGRESS_COMPLETED, 20);
          }
          break;
        default:
          break;  // Let it expire.
      }
    }
  });
  auto append = [&](const std::vector<v1::Event>& part) {
    received.insert(received.end(), part.begin(), part.end());
    return part.size();
  };
  ASSERT_TRUE(sitting1->AwaitCount(40));
  size_t n1 = append(sitting1->Stop());
  sitting1.reset();

  // The second sitting, on the other instance, reads nothing until much has happened.
  ASSERT_TRUE(WaitFor(
      [&] { return VisibleEvents(c, d, "(" + received.back().event_id(), "+").size() >= 150; }));
  absl::Notification read;
  auto sitting2 = std::make_unique<EventReader>(worlds[1], received.back().event_id(), &read);
  ASSERT_TRUE(WaitFor(
      [&] { return VisibleEvents(c, d, "(" + received.back().event_id(), "+").size() >= 450; },
      absl::Seconds(30)));
  read.Notify();
  ASSERT_TRUE(sitting2->AwaitCount(400));
  size_t n2 = append(sitting2->Stop());
  sitting2.reset();

  // The third, back on the first instance, follows to the end of the load.
  EventReader sitting3(worlds[0], received.back().event_id());
  load.join();
  std::string last;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::vector<v1::Event> got = sitting3.received();
        last = VisibleEvents(c, d, "-", "+").back();
        last = last.substr(0, last.find(' '));
        return !got.empty() && !StreamIdBefore(got.back().event_id(), last);
      },
      absl::Seconds(20)));
  size_t n3 = append(sitting3.Stop());

  std::vector<std::string> got;
  for (const v1::Event& e : received) {
    if (!StreamIdBefore(last, e.event_id())) {
      got.push_back(absl::StrCat(e.event_id(), " ", e.request_id()));
    }
  }
  std::vector<std::string> want = VisibleEvents(c, d, "-", last);
  EXPECT_EQ(got.size(), want.size());
  auto diff = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  EXPECT_TRUE(got == want) << "first difference at " << diff.first - got.begin() << ": got \""
                           << (diff.first == got.end() ? "<end>" : *diff.first) << "\", want \""
                           << (diff.second == want.end() ? "<end>" : *diff.second) << "\"";
  std::cout << "[ watch ] " << n1 << " + " << n2 << " + " << n3 << " events in three sittings, "
            << want.size() << " in the stream\n";

  // History trimmed past the client's cursor: a gap marker first, then what is left.
  c.Command({"XTRIM", keys::Events(d), "MAXLEN", "10"});
  std::vector<std::string> kept = VisibleEvents(c, d, "-", "+");
  ASSERT_FALSE(kept.empty());
  std::string oldest =
      c.Command({"XRANGE", keys::Events(d), "-", "+", "COUNT", "1"}).elements[0].elements[0].str;
  EventReader gap(worlds[1], received.front().event_id());
  ASSERT_TRUE(gap.AwaitCount(2));
  std::vector<v1::Event> g = gap.Stop();
  EXPECT_EQ(g[0].type(), v1::EVENT_STREAM_GAP);
  EXPECT_EQ(g[0].attributes().at("oldest_event_id"), oldest);
  EXPECT_EQ(absl::StrCat(g[1].event_id(), " ", g[1].request_id()), kept[0]);
}

// A volunteer's phone follows WatchOffers in three sittings while offers come, are
// answered and expire, reconnecting to the other instance each time with the last
// cursor (the second sitting not reading at first): together the sittings are exactly
// the volunteer's inbox, each offer change once, in order.
TEST(DispatchChaosTest, WatchOffersResumesWithoutGapsOrDuplicates) {
  Cluster c("urgent.offer_ttl=400ms,urgent.max_rounds=2");
  std::string log;
  Dispatchd* a = c.Start("offers-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("offers-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "offerwatch";
  std::vector<DispatchWorld> worlds = {c.World(a, d), c.World(b, d)};
  std::string v = worlds[0].Volunteer(Where(20, 0), {}, 10);
  std::string other = worlds[1].Volunteer(Where(3000, 0), {}, 10);
  ASSERT_TRUE(WaitFor([&] {
    return Indexed(worlds[0], {v, other}, Where()) && Indexed(worlds[1], {v, other}, Where());
  }));
  auto watch = [&](int instance, const std::string& cursor, absl::Notification* start) {
    v1::WatchOffersRequest req;
    req.set_volunteer_id(v);
    req.set_resume_after_cursor(cursor);
    return std::make_unique<StreamReader<v1::Offer>>(
        worlds[instance].Vol(), worlds[instance].admin(), &v1::VolunteerService::Stub::WatchOffers,
        req, start);
  };

  std::vector<v1::Offer> received;
  auto sitting1 = watch(0, "", nullptr);
  std::atomic<bool> done{false};
  std::thread load([&] {
    std::mt19937_64 rng(11);
    for (int i = 0; i < 60; ++i) {
      DispatchWorld& w = worlds[i % 2];
      v1::HelpRequest r = w.Submit(v1::URGENT, Where(0, 3.0 * i));
      std::vector<std::string> offers;
      if (!WaitFor([&] {
            offers = PendingOf(c, d, r.id());
            return !offers.empty();
          })) {
        continue;
      }
      switch (rng() % 3) {
        case 0:
          (void)worlds[(i + 1) % 2].Respond(offers[0], false);
          break;
        case 1:
          if (worlds[(i + 1) % 2].Respond(offers[0], true).ok()) {
            (void)w.Progress(r.id(), v, v1::PROGRESS_COMPLETED, 15);
          }
          break;
        default:
          break;  // Let it expire.
      }
    }
    done = true;
  });
  const std::string inbox = keys::Inbox(d, "v:" + v);
  auto inbox_after = [&](const std::string& cursor) {
    return c.Command({"XRANGE", inbox, "(" + cursor, "+"}).elements.size();
  };
  ASSERT_TRUE(sitting1->AwaitCount(10));
  std::vector<v1::Offer> part = sitting1->Stop();
  received.insert(received.end(), part.begin(), part.end());
  sitting1.reset();

  absl::Notification read;
  auto sitting2 = watch(1, received.back().cursor(), &read);
  ASSERT_TRUE(WaitFor([&] { return inbox_after(received.back().cursor()) >= 40; }));
  read.Notify();
  ASSERT_TRUE(sitting2->AwaitCount(30));
  part = sitting2->Stop();
  received.insert(received.end(), part.begin(), part.end());
  sitting2.reset();

  auto sitting3 = watch(0, received.back().cursor(), nullptr);
  load.join();
  ASSERT_TRUE(done);
  // Everything now in the inbox (the last offers expire by themselves) must arrive.
  std::string last;
  ASSERT_TRUE(WaitFor(
      [&] {
        RedisValue tip = c.Command({"XREVRANGE", inbox, "+", "-", "COUNT", "1"});
        last = tip.elements[0].elements[0].str;
        std::vector<v1::Offer> got = sitting3->received();
        return !got.empty() && got.back().cursor() == last &&
               c.Command({"SCARD", keys::AssigneePending(d, "v:" + v)}).integer == 0;
      },
      absl::Seconds(20)));
  part = sitting3->Stop();
  received.insert(received.end(), part.begin(), part.end());

  std::vector<std::string> got, want;
  for (const v1::Offer& o : received) {
    EXPECT_FALSE(o.snapshot()) << "nothing was pending when the first sitting began";
    got.push_back(absl::StrCat(o.cursor(), " ", o.offer_id(), " ", v1::OfferState_Name(o.state())));
  }
  for (const RedisValue& e : c.Command({"XRANGE", inbox, "-", last}).elements) {
    HashFields f(e.elements[1]);
    want.push_back(absl::StrCat(e.elements[0].str, " ", f.str("o"), " OFFER_", f.str("s")));
  }
  EXPECT_EQ(got.size(), want.size());
  auto diff = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  EXPECT_TRUE(got == want) << "first difference at " << diff.first - got.begin() << ": got \""
                           << (diff.first == got.end() ? "<end>" : *diff.first) << "\", want \""
                           << (diff.second == want.end() ? "<end>" : *diff.second) << "\"";
  std::cout << "[ watch ] " << got.size() << " offer messages in three sittings, " << want.size()
            << " in the inbox\n";
}

// Many watchers connect, read a little (or nothing) and cancel, on both instances,
// while the district is busy: both servers stay up, keep serving, stream events in
// order and shut down cleanly.
TEST(DispatchChaosTest, WatchersComingAndGoingUnderLoadDoNotHurtTheServers) {
  Cluster c(kShortPolicy);
  std::string log;
  Dispatchd* a = c.Start("churn-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("churn-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "churn";
  std::vector<DispatchWorld> worlds = {c.World(a, d), c.World(b, d)};
  std::vector<std::string> vols;
  for (int i = 0; i < 6; ++i) vols.push_back(worlds[i % 2].Volunteer(Where(100.0 * i, 0), {}, 5));
  ASSERT_TRUE(WaitFor(
      [&] { return Indexed(worlds[0], vols, Where()) && Indexed(worlds[1], vols, Where()); }));

  std::atomic<bool> done{false};
  std::thread load([&] {
    for (int i = 0; i < 80; ++i) {
      v1::HelpRequest r = worlds[i % 2].Submit(i % 2 ? v1::CRISIS : v1::URGENT, Where(0, 4.0 * i));
      std::vector<std::string> offers;
      if (WaitFor(
              [&] {
                offers = PendingOf(c, d, r.id());
                return !offers.empty();
              },
              absl::Seconds(2))) {
        (void)worlds[(i + 1) % 2].Respond(offers[0], i % 3 == 0);
      }
    }
    done = true;
  });
  std::atomic<int> opened{0}, out_of_order{0};
  std::vector<std::thread> watchers;
  for (int t = 0; t < 12; ++t) {
    watchers.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      while (!done) {
        const DispatchWorld& w = worlds[rng() % 2];
        bool offers = rng() % 2 == 0;
        std::unique_ptr<StreamReader<v1::Event>> events;
        std::unique_ptr<StreamReader<v1::Offer>> inbox;
        if (offers) {
          v1::WatchOffersRequest req;
          req.set_volunteer_id(vols[rng() % vols.size()]);
          inbox = std::make_unique<StreamReader<v1::Offer>>(
              w.Vol(), w.admin(), &v1::VolunteerService::Stub::WatchOffers, req);
        } else {
          events = std::make_unique<EventReader>(w, rng() % 2 ? "0" : "");
        }
        opened.fetch_add(1);
        size_t want = rng() % 20;
        if (events) {
          events->AwaitCount(want, absl::Milliseconds(300));
          std::vector<v1::Event> got = events->Stop();
          for (size_t i = 1; i < got.size(); ++i) {
            if (!StreamIdBefore(got[i - 1].event_id(), got[i].event_id()))
              out_of_order.fetch_add(1);
          }
        } else {
          inbox->AwaitCount(want, absl::Milliseconds(300));
          inbox->Stop();
        }
      }
    });
  }
  load.join();
  for (std::thread& t : watchers) t.join();
  std::cout << "[ churn ] " << opened.load() << " watch calls opened and dropped\n";
  EXPECT_EQ(out_of_order.load(), 0);
  EXPECT_TRUE(a->child()->running()) << a->log();
  EXPECT_TRUE(b->child()->running()) << b->log();
  // Both still serve, streams included.
  for (DispatchWorld& w : worlds) {
    EventReader r(w, "0");
    EXPECT_TRUE(r.AwaitCount(5));
    EXPECT_FALSE(w.Get(absl::StrCat(d, "-1")).id().empty());
  }
  EXPECT_EQ(a->Stop(), 0) << a->log();
  EXPECT_EQ(b->Stop(), 0) << b->log();
}

// The leader freezes (SIGSTOP) long enough to lose its lease and the other instance
// takes over: the scripts refuse the old token (called directly here, as the frozen
// leader would once it woke), the woken leader does not take the lease back, and the
// district keeps every invariant throughout.
TEST(DispatchChaosTest, AFrozenLeaderThatWakesUpCannotAct) {
  const std::string spec =
      "urgent.offer_ttl=500ms,urgent.max_rounds=4,crisis.offer_ttl=500ms,crisis.max_rounds=3";
  absl::StatusOr<DispatchPolicyOptions> policy = ParseDispatchPolicy(spec);
  ASSERT_TRUE(policy.ok());
  Cluster c(spec);
  std::string log;
  Dispatchd* a = c.Start("frozen-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("frozen-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "frozen";
  DispatchWorld wa = c.World(a, d);
  std::vector<std::string> vols;
  for (int i = 0; i < 8; ++i) vols.push_back(wa.Volunteer(Where(90.0 * i, 0), {}, 5));
  std::string lease;
  ASSERT_TRUE(WaitFor([&] {
    lease = c.Command({"GET", keys::Lease(d)}).str;
    return !lease.empty();
  }));
  bool a_leads = absl::EndsWith(lease, " frozen-a");
  Dispatchd* leader = a_leads ? a : b;
  Dispatchd* other = a_leads ? b : a;
  const std::string other_name = a_leads ? "frozen-b" : "frozen-a";
  DispatchWorld w = c.World(other, d);
  ASSERT_TRUE(WaitFor([&] { return Indexed(w, vols, Where()); }));

  Observer observer(&c.redis(), d, *policy);
  std::atomic<bool> stop{false};
  std::atomic<int> submitted{0};
  // Load through the instance that stays awake: submissions, declines, expiries.
  std::thread load([&] {
    std::mt19937_64 rng(5);
    for (int i = 0; !stop; ++i) {
      v1::HelpRequest r = w.Submit(i % 2 ? v1::CRISIS : v1::URGENT, Where(0, 3.0 * (i % 300)));
      submitted.fetch_add(1);
      std::vector<std::string> offers;
      if (WaitFor(
              [&] {
                offers = PendingOf(c, d, r.id());
                return !offers.empty();
              },
              absl::Seconds(2)) &&
          rng() % 2 == 0) {
        (void)w.Respond(offers[0], false);
      }
      observer.Look();
    }
  });
  auto expired_events = [&] {
    int n = 0;
    for (const RedisValue& e : c.Command({"XRANGE", keys::Events(d), "-", "+"}).elements) {
      if (HashFields(e.elements[1]).str("type") == "offer.expired") ++n;
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return submitted.load() >= 10; }));
  const std::string lease_before = c.Command({"GET", keys::Lease(d)}).str;
  ASSERT_EQ(kill(leader->child()->pid(), SIGSTOP), 0);
  ASSERT_TRUE(WaitFor([&] {
    lease = c.Command({"GET", keys::Lease(d)}).str;
    return absl::EndsWith(lease, " " + other_name);
  }));
  // The new leader expires offers while the old one is frozen.
  int expired_before = expired_events();
  ASSERT_TRUE(WaitFor([&] { return expired_events() >= expired_before + 3; }));
  // What the frozen leader would do with its old token is refused by the scripts.
  int64_t old_token = Int(lease_before.substr(0, lease_before.find(' ')));
  std::vector<std::string> some = c.Strings({"ZRANGE", keys::RequestIndex(d), "-1", "-1"});
  ASSERT_EQ(some.size(), 1u);
  DispatchStore store(&c.redis());
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  EXPECT_TRUE(absl::IsAborted(store.Advance(some[0], old_token, deadline).status()));
  EXPECT_TRUE(absl::IsAborted(store
                                  .Escalate(some[0], std::nullopt, EscalationReason::kManual,
                                            "stale", "test", old_token, deadline)
                                  .status()));
  EXPECT_TRUE(absl::IsAborted(
      store.MakeOffers(some[0], 0, true, absl::Seconds(1), "", old_token, {}, deadline).status()));
  ASSERT_EQ(kill(leader->child()->pid(), SIGCONT), 0);
  // The old leader wakes up, finds the lease taken, and the load goes on.
  int at_wake = submitted.load();
  ASSERT_TRUE(WaitFor([&] { return submitted.load() >= at_wake + 15; }, absl::Seconds(30)));
  stop = true;
  load.join();
  EXPECT_TRUE(absl::EndsWith(c.Command({"GET", keys::Lease(d)}).str, " " + other_name))
      << "the woken leader does not take the lease back while it is held";
  EXPECT_TRUE(WaitFor([&] { return observer.Look(); }, absl::Seconds(30)));
  EXPECT_GT(observer.quiet_snapshots(), 0);
  EXPECT_TRUE(observer.violations().empty()) << absl::StrJoin(observer.violations(), "\n");
  EXPECT_TRUE(leader->child()->running()) << leader->log();
}

// Found while probing WatchEvents: a district that has requests but no volunteer or
// unit yet was followed by no instance, so it had no leader (its requests were never
// expired, picked up or escalated by the loop) and watchers of its events were never
// woken. The request here is ROUTINE, which only the leader handles, with a short SLA.
TEST(DispatchChaosTest, ADistrictWithRequestsButNoVolunteersIsLedAndWatched) {
  Cluster c("routine.sla=2s");
  std::string log;
  Dispatchd* a = c.Start("lonely-a", &log);
  ASSERT_NE(a, nullptr) << log;
  Dispatchd* b = c.Start("lonely-b", &log);
  ASSERT_NE(b, nullptr) << log;
  const std::string d = "lonely";
  EventReader events(c.World(a, d), "0");
  DispatchWorld wb = c.World(b, d);
  v1::HelpRequest r = wb.Submit(v1::ROUTINE, Where());
  ASSERT_FALSE(r.id().empty());
  EXPECT_TRUE(events.AwaitCount(1)) << "the watcher on the other instance was never woken";
  EXPECT_TRUE(WaitFor([&] { return wb.Get(r.id()).state() == v1::ESCALATED; }, absl::Seconds(20)))
      << "nobody leads the district: " << v1::RequestState_Name(wb.Get(r.id()).state());
  std::vector<v1::Event> got = events.Stop();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].type(), v1::EVENT_REQUEST_SUBMITTED);
}

}  // namespace
}  // namespace yiyuan::testing
