#ifndef YIYUAN_SERVER_DISPATCHER_H_
#define YIYUAN_SERVER_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/assignment_solver.h"
#include "engine/clock.h"
#include "engine/dispatch_policy.h"
#include "engine/scorer.h"
#include "server/dispatch_store.h"
#include "server/roster.h"

namespace yiyuan {

struct DispatcherOptions {
  // Offers per round, TTLs, radii, rounds and SLAs by urgency.
  DispatchPolicyOptions policy;
  // Cost weights and travel-time model.
  ScorerOptions scorer;
  // Names this instance as a lease holder; must differ between instances.
  std::string instance_id;
  // How often the leader looks for due requests (offer expiry granularity).
  absl::Duration tick = absl::Milliseconds(100);
  // Leader lease lifetime, and how often it is renewed.
  absl::Duration lease_ttl = absl::Seconds(3);
  absl::Duration lease_renew = absl::Seconds(1);
  // Due requests handled per district and tick.
  int due_batch = 256;
  // Threads making first offers for new requests (and next offers after a decline).
  int workers = 2;
  // Most requests waiting for those threads; beyond it the leader picks them up.
  int queue_limit = 10000;
  // Offers per script call when mobilising.
  int mobilize_chunk = 500;
  // ROUTINE requests are pooled and assigned together by the min-cost solver every
  // this often (or once `batch_pool_limit` wait); zero offers them one by one at once,
  // like URGENT.
  absl::Duration batch_interval = absl::Seconds(5);
  int batch_pool_limit = 500;
  // What leaving a pooled request unassigned for one more cycle costs, in the scorer's
  // cost units, and how much that grows per minute it has waited.
  double unassigned_cost = 200;
  double unassigned_cost_per_minute = 2;
  // How a batch cycle assigns: the exact min-cost solver, or greedy nearest-first (oldest
  // request first, each taking its cheapest free candidates) — the baseline to compare
  // against, e.g. in bench/sim.
  enum class BatchPolicy { kOptimal, kGreedy };
  BatchPolicy batch_policy = BatchPolicy::kOptimal;
};

// Applies overrides such as "crisis.offer_ttl=10s,urgent.max_rounds=3" to `base`: keys
// are <routine|urgent|crisis>.<offers_per_round|offer_ttl|first_radius_m|radius_growth|
// max_radius_m|max_rounds|sla>; durations take a unit ("90s", "5m"). INVALID_ARGUMENT
// naming the bad key or value, or what ValidateDispatchPolicyOptions rejects.
absl::StatusOr<DispatchPolicyOptions> ParseDispatchPolicy(absl::string_view spec,
                                                          DispatchPolicyOptions base = {});

// What ExplainMatch shows.
struct Explanation {
  DispatchSnapshot snapshot;
  double searched_radius_m = 0;
  Ranking ranking;
  absl::flat_hash_set<std::string> unit_ids;  // Which candidates are units.
};

// What a Mobilize call did.
struct MobilizeOutcome {
  Mobilization mobilization;
  int reached = 0;
  int64_t expire_time_ms = 0;
};

// The dispatch loop (DESIGN.md section 4): turns requests into offers and moves them on
// when offers are declined or expire.
//
// Two paths make offers. The instance that takes a request (or a decline) makes the
// next round at once on a worker thread; the district's leader — one instance per
// district, holding a Redis lease whose token the scripts check — expires offers,
// runs the rounds that follow, escalates, and picks up whatever another instance left
// (e.g. after a crash). Every round is a compare-and-set on the request's round
// number in Redis, so two instances never both dispatch one round.
//
// Thread-safe.
class Dispatcher {
 public:
  Dispatcher(DispatchStore* store, Roster* roster, const Clock* clock, DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts the worker threads and the leader loop.
  void Start();
  // Stops them and gives up this instance's leases, so another instance takes over at
  // once.
  void Stop();

  // A request was just created: make its first offers (and make sure its district is
  // followed, so that it has a leader and its watchers are woken).
  void Submitted(const HelpRequest& request);
  // A request may need its next round now (an offer was declined, an assignee did not
  // show, an operator sent it back to matching).
  void NeedsRound(const std::string& request_id);

  // Ranks the candidates of a request now, with reasons for those excluded.
  absl::StatusOr<Explanation> Explain(absl::string_view request_id, int limit,
                                      bool include_excluded, absl::Time deadline);

  // Broadcasts a call for help: creates the tracking request and offers it to every
  // eligible on-duty volunteer within `radius_m` of `center`.
  absl::StatusOr<MobilizeOutcome> Mobilize(absl::string_view district, absl::string_view key,
                                           const RequestContent& content,
                                           absl::string_view fingerprint, double radius_m,
                                           absl::Duration ttl, absl::string_view actor,
                                           absl::Time deadline);

  const DispatchPolicy& policy() const { return policy_; }
  const Scorer& scorer() const { return scorer_; }

  struct Stats {
    int64_t rounds = 0;            // Rounds that made offers.
    int64_t offers = 0;            // Offers made.
    int64_t escalations = 0;       // Requests escalated by the loop.
    int64_t aborted = 0;           // Rounds lost to another instance (compare-and-set).
    int64_t errors = 0;            // Redis errors in the loop.
    int64_t leader_of = 0;         // Districts this instance leads now.
    int64_t queue_dropped = 0;     // Fast-path requests left to the leader (queue full).
    int64_t batch_cycles = 0;      // ROUTINE batch cycles run.
    int64_t batch_offered = 0;     // Requests offered by them.
    int64_t batch_unassigned = 0;  // Requests a cycle left for the next one.
    double last_batch_ms = 0;      // Duration of the latest cycle.
  };
  Stats stats() const;
  std::string MetricsText() const;

 private:
  struct Job {
    std::string request_id;
    std::optional<DispatchSnapshot> snapshot;  // Set for new requests.
  };
  // Decides and carries out the next step for `s`. `fence`: leader token or 0.
  absl::Status Step(const DispatchSnapshot& s, int64_t fence, absl::Time deadline);
  // The request as the scorer sees it, given its candidates' history.
  static MatchRequest MatchFor(const DispatchSnapshot& s, const CandidateHistory& history);
  // The k nearest on-duty or busy candidates of `s` within `radius_m` (live index only).
  std::vector<Roster::Hit> NearbyHits(const DispatchSnapshot& s, double radius_m, int k,
                                      double* searched_radius_m) const;
  static std::vector<std::string> VolunteerIds(const std::vector<Roster::Hit>& hits);
  // Scores `hits` for `s`.
  Ranking RankHits(const DispatchSnapshot& s, const std::vector<Roster::Hit>& hits,
                   const CandidateHistory& history, double radius_m, bool with_details,
                   bool rank_offered) const;
  // Ranks the candidates of `s` within `radius_m` (the `k` nearest). Candidates already
  // offered this request are excluded unless `rank_offered` (explanations show them
  // ranked, with their offer's state).
  absl::StatusOr<Ranking> RankAround(const DispatchSnapshot& s, double radius_m, int k,
                                     bool with_details, bool rank_offered,
                                     std::vector<Roster::Hit>* hits, double* searched_radius_m,
                                     absl::Time deadline);
  // Puts `s` into the operator queue (round compare-and-set, fenced).
  absl::Status Escalate(const DispatchSnapshot& s, EscalationReason reason,
                        const std::string& detail, int64_t fence, absl::Time deadline);
  // The first batch cycle time after `t`.
  absl::Time NextBatchAfter(absl::Time t) const;
  // True when `s` is a ROUTINE request the batch cycle should place.
  bool Pooled(const DispatchSnapshot& s) const;
  // Escalates `s` when its rounds or SLA ran out; true when it did (or tried).
  absl::StatusOr<bool> EscalateIfDue(const DispatchSnapshot& s, int64_t fence, absl::Time deadline);
  // One batch cycle over one district's pooled requests.
  absl::Status RunBatch(std::vector<DispatchSnapshot> pool, int64_t fence, absl::Time deadline);
  // Makes sure this instance's roster (and so every instance's) follows `district`.
  void FollowDistrict(absl::string_view district);
  void Enqueue(Job job);
  void Work();
  void Lead();
  // Leader loop: advances `due` requests of `district`, adding the pooled ones to `pool`
  // (and postponing them to the next cycle) and stepping the others; sets `token` to 0
  // when the lease turns out to be lost.
  void TakeDue(const std::string& district, const std::vector<std::string>& due,
               std::vector<DispatchSnapshot>& pool, int64_t& token, absl::Time deadline);

  DispatchStore* const store_;
  Roster* const roster_;
  const Clock* const clock_;
  const DispatcherOptions options_;
  const DispatchPolicy policy_;
  const Scorer scorer_;

  absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
  absl::flat_hash_map<std::string, int64_t> tokens_;  // Leader loop thread only.
  // Pooled ROUTINE requests and the next cycle's time, by district: leader thread only.
  absl::flat_hash_map<std::string, std::vector<DispatchSnapshot>> pools_;
  absl::flat_hash_map<std::string, absl::Time> next_batch_;
  absl::flat_hash_map<std::string, bool> cycle_open_;  // From a boundary until drained.

  std::atomic<int64_t> rounds_{0}, offers_{0}, escalations_{0}, aborted_{0}, errors_{0},
      leader_of_{0}, queue_dropped_{0}, batch_cycles_{0}, batch_offered_{0}, batch_unassigned_{0},
      last_batch_us_{0};
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_DISPATCHER_H_
