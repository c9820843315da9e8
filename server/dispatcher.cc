#include "server/dispatcher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/dispatch_convert.h"
#include "server/volunteer_store.h"

namespace yiyuan {
namespace {

// Mobilisations reach everyone in the area: this bounds one broadcast.
constexpr int kMaxMobilized = 10000;

bool Dispatchable(RequestState s) {
  return s == RequestState::kSubmitted || s == RequestState::kOffered ||
         s == RequestState::kAssigned || s == RequestState::kEnRoute ||
         s == RequestState::kInService;
}

// "v:wuxing-v3" -> "wuxing-v3".
absl::flat_hash_set<std::string> Ids(const absl::flat_hash_set<std::string>& keys) {
  absl::flat_hash_set<std::string> out;
  for (const std::string& k : keys) {
    absl::string_view id = k;
    if (!absl::ConsumePrefix(&id, "v:")) absl::ConsumePrefix(&id, "u:");
    out.insert(std::string(id));
  }
  return out;
}

}  // namespace

absl::StatusOr<DispatchPolicyOptions> ParseDispatchPolicy(absl::string_view spec,
                                                          DispatchPolicyOptions base) {
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(item, '=');
    absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(key, '.');
    UrgencyPolicy* u = parts.first == "routine"  ? &base.routine
                       : parts.first == "urgent" ? &base.urgent
                       : parts.first == "crisis" ? &base.crisis
                                                 : nullptr;
    auto bad = [&] {
      return absl::InvalidArgumentError(
          absl::StrCat("--dispatch-policy: cannot use \"", item, "\""));
    };
    if (u == nullptr) return bad();
    absl::string_view field = parts.second;
    bool ok = false;
    if (field == "offer_ttl") {
      ok = absl::ParseDuration(value, &u->offer_ttl);
    } else if (field == "sla") {
      ok = absl::ParseDuration(value, &u->sla);
    } else if (field == "offers_per_round") {
      ok = absl::SimpleAtoi(value, &u->offers_per_round);
    } else if (field == "max_rounds") {
      ok = absl::SimpleAtoi(value, &u->max_rounds);
    } else if (field == "first_radius_m") {
      ok = absl::SimpleAtod(value, &u->first_radius_m);
    } else if (field == "radius_growth") {
      ok = absl::SimpleAtod(value, &u->radius_growth);
    } else if (field == "max_radius_m") {
      ok = absl::SimpleAtod(value, &u->max_radius_m);
    }
    if (!ok) return bad();
  }
  if (absl::Status s = ValidateDispatchPolicyOptions(base); !s.ok()) return s;
  return base;
}

Dispatcher::Dispatcher(DispatchStore* store, Roster* roster, const Clock* clock,
                       DispatcherOptions options)
    : store_(store),
      roster_(roster),
      clock_(clock),
      options_(std::move(options)),
      policy_(options_.policy),
      scorer_(options_.scorer, *clock) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { Work(); });
  threads_.emplace_back([this] { Lead(); });
}

void Dispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  for (const auto& [district, token] : tokens_) {
    if (token > 0) {
      (void)store_->HoldLease(district, options_.instance_id, options_.lease_ttl, false,
                              absl::Now() + absl::Seconds(1));
    }
  }
}

void Dispatcher::FollowDistrict(absl::string_view district) {
  // The leader loop runs for the districts the roster follows, and the roster wakes the
  // district's WatchEvents and WatchOffers calls. Volunteers and units make a district
  // known, but requests may come first (or only): without this, such a district had no
  // leader (nothing expired, picked up or escalated its requests) and its watchers were
  // never woken. Once per district and process; a failure is retried next time.
  if (!roster_->Follow(district, absl::Now() + absl::Seconds(1)).ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void Dispatcher::Submitted(const HelpRequest& request) {
  FollowDistrict(request.district);
  // Pooled requests wait for the leader's next batch cycle (they are in its due set).
  if (options_.batch_interval > absl::ZeroDuration() &&
      request.content.urgency == Urgency::kRoutine) {
    return;
  }
  DispatchSnapshot s;
  s.request = request;
  s.headcount = std::max(1, request.content.headcount);
  s.phone_hash = PhoneKeyHash(request.content.resident.phone);
  Enqueue(Job{request.id, std::move(s)});
}

void Dispatcher::NeedsRound(const std::string& request_id) { Enqueue(Job{request_id, {}}); }

void Dispatcher::Enqueue(Job job) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || static_cast<int>(queue_.size()) >= options_.queue_limit) {
    // The request is in the leader's due set: it is not lost, only later.
    queue_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // CRISIS first: a new CRISIS request goes ahead of URGENT ones and of next rounds.
  if (job.snapshot.has_value() && job.snapshot->request.content.urgency == Urgency::kCrisis) {
    queue_.push_front(std::move(job));
  } else {
    queue_.push_back(std::move(job));
  }
}

void Dispatcher::Work() {
  while (true) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Dispatcher* d)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(d->mu_) { return d->stopping_ || !d->queue_.empty(); },
          this));
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    absl::Time deadline = absl::Now() + absl::Seconds(5);
    absl::StatusOr<DispatchSnapshot> s = job.snapshot.has_value()
                                             ? absl::StatusOr<DispatchSnapshot>(*job.snapshot)
                                             : store_->Load(job.request_id, deadline);
    if (s.ok() && Pooled(*s)) continue;  // The leader's batch cycle places it.
    absl::Status st = s.ok() ? Step(*s, 0, deadline) : s.status();
    if (absl::IsAborted(st)) {
      aborted_.fetch_add(1, std::memory_order_relaxed);
    } else if (!st.ok() && !absl::IsNotFound(st) && !absl::IsFailedPrecondition(st)) {
      errors_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Dispatcher::Lead() {
  absl::Time next_lease = absl::InfinitePast();
  while (true) {
    // Wakes every tick, and at a batch cycle's boundary so that pooled requests wait no
    // longer than one interval.
    absl::Duration wait = options_.tick;
    for (const auto& [district, at] : next_batch_) {
      wait = std::min(wait, std::max(absl::Milliseconds(1), at - absl::Now()));
    }
    // An open cycle goes on at once.
    for (const auto& [district, open] : cycle_open_) {
      if (open) wait = absl::Milliseconds(1);
    }
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return;
    }
    absl::Time now = absl::Now();
    if (now >= next_lease) {
      next_lease = now + options_.lease_renew;
      int64_t leading = 0;
      for (const std::string& d : roster_->Districts()) {
        absl::StatusOr<Lease> lease = store_->HoldLease(d, options_.instance_id, options_.lease_ttl,
                                                        true, now + absl::Seconds(1));
        if (!lease.ok()) {
          errors_.fetch_add(1, std::memory_order_relaxed);
          tokens_[d] = 0;
          continue;
        }
        tokens_[d] = lease->token;
        if (lease->token > 0) ++leading;
      }
      leader_of_.store(leading, std::memory_order_relaxed);
    }
    for (auto& [district, token] : tokens_) {
      if (token <= 0) continue;
      absl::Time deadline = absl::Now() + absl::Seconds(5);
      if (!next_batch_.contains(district)) next_batch_[district] = NextBatchAfter(absl::Now());
      std::vector<DispatchSnapshot>& pool = pools_[district];
      // A cycle opens at its boundary and stays open until the due set is drained: a
      // whole interval's ROUTINE requests fall due at once, and those beyond one pool's
      // worth (or one tick's work) go in further batches on the next ticks, not at the
      // next boundary.
      if (absl::Now() >= next_batch_[district]) {
        cycle_open_[district] = true;
        next_batch_[district] = NextBatchAfter(absl::Now());
      }
      // Due requests are taken `due_batch` at a time until none is left, the pool is full,
      // or a tick's worth of time is spent.
      const absl::Time pass_limit = absl::Now() + options_.tick;
      bool more = true, due_left = false;
      while (more && token > 0) {
        absl::StatusOr<std::vector<std::string>> due = store_->DueRequests(
            district, absl::ToUnixMillis(clock_->Now()), options_.due_batch, deadline);
        if (!due.ok()) {
          // Not left open: a cycle that cannot read its due set would spin on Redis.
          errors_.fetch_add(1, std::memory_order_relaxed);
          break;
        }
        due_left = static_cast<int>(due->size()) >= options_.due_batch;
        more = due_left && static_cast<int>(pool.size()) < options_.batch_pool_limit &&
               absl::Now() < pass_limit;
        TakeDue(district, *due, pool, token, deadline);
      }
      if (token <= 0) {
        pool.clear();
        continue;
      }
      if (!pool.empty() &&
          (cycle_open_[district] || static_cast<int>(pool.size()) >= options_.batch_pool_limit)) {
        absl::Status st = RunBatch(std::move(pool), token, absl::Now() + absl::Seconds(10));
        pool.clear();
        if (!st.ok() && !absl::IsAborted(st)) errors_.fetch_add(1, std::memory_order_relaxed);
      }
      if (!due_left) cycle_open_[district] = false;
    }
  }
}

void Dispatcher::TakeDue(const std::string& district, const std::vector<std::string>& due,
                         std::vector<DispatchSnapshot>& pool, int64_t& token, absl::Time deadline) {
  std::vector<std::string> pooled;
  // A request pooled earlier in the cycle can fall due again (it was postponed to a
  // boundary now passed): its fresh snapshot replaces the old one, never a second entry.
  absl::flat_hash_map<std::string, size_t> in_pool;
  for (size_t i = 0; i < pool.size(); ++i) in_pool[pool[i].request.id] = i;
  // Every due request advanced in one round trip.
  absl::StatusOr<std::vector<absl::StatusOr<DispatchSnapshot>>> advanced =
      store_->AdvanceMany(due, token, deadline);
  if (!advanced.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  for (absl::StatusOr<DispatchSnapshot>& s : *advanced) {
    absl::Status st;
    if (s.ok() && Pooled(*s)) {
      absl::StatusOr<bool> escalated = EscalateIfDue(*s, token, deadline);
      st = escalated.status();
      if (escalated.ok() && !*escalated) {
        pooled.push_back(s->request.id);
        auto [at, fresh] = in_pool.try_emplace(s->request.id, pool.size());
        if (fresh) {
          pool.push_back(*std::move(s));
        } else {
          pool[at->second] = *std::move(s);
        }
      }
    } else {
      st = s.ok() ? Step(*s, token, deadline) : s.status();
    }
    if (absl::IsAborted(st)) {
      aborted_.fetch_add(1, std::memory_order_relaxed);
      if (absl::StrContains(st.message(), "lease")) {
        token = 0;  // Someone else leads now.
        break;
      }
    } else if (!st.ok() && !absl::IsNotFound(st) && !absl::IsFailedPrecondition(st)) {
      errors_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (token <= 0) return;
  // Pooled requests come back to the due set at the next cycle boundary still ahead (not
  // every tick, and not at once when a boundary just passed: they are in the pool).
  if (absl::Status st = store_->Postpone(district, pooled,
                                         absl::ToUnixMillis(NextBatchAfter(absl::Now())), deadline);
      !st.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

absl::Status Dispatcher::Escalate(const DispatchSnapshot& s, EscalationReason reason,
                                  const std::string& detail, int64_t fence, absl::Time deadline) {
  absl::StatusOr<HelpRequest> r =
      store_->Escalate(s.request.id, s.round, reason, detail, "dispatcher", fence, deadline);
  if (r.ok()) escalations_.fetch_add(1, std::memory_order_relaxed);
  return r.status();
}

absl::Time Dispatcher::NextBatchAfter(absl::Time t) const {
  // Cycles run at multiples of the interval since the epoch, where new ROUTINE requests
  // become due (see RequestStoreOptions::batch_interval): requests submitted together
  // meet in one cycle.
  int64_t interval = std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.batch_interval));
  int64_t ms = absl::ToUnixMillis(t);
  return absl::FromUnixMillis((ms / interval + 1) * interval);
}

bool Dispatcher::Pooled(const DispatchSnapshot& s) const {
  return options_.batch_interval > absl::ZeroDuration() && !s.gone &&
         s.request.content.urgency == Urgency::kRoutine && s.mobilization_id.empty() &&
         Dispatchable(s.request.state) && s.pending == 0 && s.assigned < s.headcount;
}

absl::StatusOr<bool> Dispatcher::EscalateIfDue(const DispatchSnapshot& s, int64_t fence,
                                               absl::Time deadline) {
  const RequestContent& c = s.request.content;
  auto escalate = [&](EscalationReason reason, const std::string& detail) -> absl::StatusOr<bool> {
    if (absl::Status st = Escalate(s, reason, detail, fence, deadline); !st.ok()) return st;
    return true;
  };
  if (!s.mobilization_id.empty() && s.round > 0) {
    return escalate(EscalationReason::kRoundsExhausted,
                    absl::StrCat("mobilisation ", s.mobilization_id, " expired with ", s.assigned,
                                 " of ", s.headcount, " places filled"));
  }
  int rounds_done = s.round - s.round_base;
  switch (policy_.Next(c.urgency, rounds_done, absl::FromUnixMillis(s.request.create_time_ms),
                       clock_->Now())) {
    case NextStep::kOffer:
      break;
    case NextStep::kEscalateRoundsExhausted:
      return escalate(
          EscalationReason::kRoundsExhausted,
          absl::StrCat(rounds_done, " rounds: ", s.declined, " declined, ", s.expired, " expired"));
    case NextStep::kEscalateSlaBreached:
      return escalate(
          EscalationReason::kSlaBreached,
          absl::StrCat("not assigned within ", absl::FormatDuration(policy_.For(c.urgency).sla)));
  }
  if (!c.resident.location.has_value()) {
    return escalate(EscalationReason::kNoCandidate, "the request has no location to match around");
  }
  return false;
}

absl::Status Dispatcher::RunBatch(std::vector<DispatchSnapshot> pool, int64_t fence,
                                  absl::Time deadline) {
  absl::Time start = absl::Now();
  // Oldest first: the order greedy serves them in (the solver does not care).
  std::stable_sort(pool.begin(), pool.end(),
                   [](const DispatchSnapshot& a, const DispatchSnapshot& b) {
                     return a.request.create_time_ms < b.request.create_time_ms;
                   });
  constexpr double kCostScale = 1000;  // Scorer cost units -> integer solver costs.
  AssignmentProblem problem;
  absl::flat_hash_map<std::string, int> volunteer_index;
  std::vector<AssigneeRef> volunteers;
  std::vector<std::vector<ScoredCandidate>> ranked(pool.size());
  // Candidates from the live index, then every request's history in one round trip.
  std::vector<std::vector<Roster::Hit>> all_hits(pool.size());
  std::vector<DispatchStore::HistoryAsk> asks(pool.size());
  for (size_t i = 0; i < pool.size(); ++i) {
    const DispatchSnapshot& s = pool[i];
    RoundPlan plan = policy_.Plan(Urgency::kRoutine, s.round - s.round_base + 1);
    double searched = 0;
    all_hits[i] = NearbyHits(s, plan.radius_m, plan.search_k, &searched);
    asks[i] = {s.phone_hash, VolunteerIds(all_hits[i])};
  }
  std::string district = pool.empty() ? std::string() : pool.front().request.district;
  absl::StatusOr<std::vector<CandidateHistory>> histories =
      store_->Histories(district, asks, deadline);
  if (!histories.ok()) return histories.status();
  for (size_t i = 0; i < pool.size(); ++i) {
    const DispatchSnapshot& s = pool[i];
    RoundPlan plan = policy_.Plan(Urgency::kRoutine, s.round - s.round_base + 1);
    const std::vector<Roster::Hit>& hits = all_hits[i];
    Ranking ranking = RankHits(s, hits, (*histories)[i], plan.radius_m, false, false);
    if (ranking.ranked.empty()) {
      // Nobody to weigh it against: waiting for later cycles would only run out its SLA.
      absl::Status st =
          Escalate(s, EscalationReason::kNoCandidate,
                   absl::StrFormat("no eligible candidate within %.1f km", plan.radius_m / 1000),
                   fence, deadline);
      if (!st.ok() && !absl::IsAborted(st)) return st;
    }
    double waited_min =
        absl::ToDoubleMinutes(clock_->Now() - absl::FromUnixMillis(s.request.create_time_ms));
    double unassigned =
        options_.unassigned_cost + options_.unassigned_cost_per_minute * std::max(0.0, waited_min);
    int r = problem.AddRequest(s.headcount - s.assigned,
                               static_cast<int64_t>(std::llround(unassigned * kCostScale)));
    for (const ScoredCandidate& sc : ranking.ranked) {
      auto [it, inserted] = volunteer_index.try_emplace(sc.id, problem.num_volunteers());
      if (inserted) {
        int capacity = 1;
        bool is_unit = false;
        for (const Roster::Hit& h : hits) {
          if (h.id == sc.id) {
            capacity = std::max(1, h.capacity_left);
            is_unit = h.is_unit;
          }
        }
        problem.AddVolunteer(capacity);
        volunteers.push_back({is_unit, sc.id});
      }
      problem.AddArc(r, it->second,
                     static_cast<int64_t>(std::llround(std::max(0.0, sc.total_cost) * kCostScale)));
    }
    ranked[i] = std::move(ranking.ranked);
  }
  absl::StatusOr<AssignmentSolution> solution =
      options_.batch_policy == DispatcherOptions::BatchPolicy::kGreedy
          ? SolveGreedy(problem)
          : AssignmentSolver().Solve(problem);
  if (!solution.ok()) return solution.status();
  int64_t offered = 0, unassigned = 0;
  absl::Status first_error;
  std::vector<DispatchStore::OfferBatch> batches;
  for (size_t i = 0; i < pool.size(); ++i) {
    const DispatchSnapshot& s = pool[i];
    const std::vector<int>& helpers = solution->helpers_of_request[i];
    if (helpers.empty()) {
      ++unassigned;
      continue;
    }
    std::vector<OfferToMake> offers;
    for (int v : helpers) {
      const AssigneeRef& to = volunteers[v];
      for (const ScoredCandidate& sc : ranked[i]) {
        if (sc.id != to.id) continue;
        offers.push_back({to, OfferDocument(s.request, to, sc.distance_m, sc.travel_time_s, "")});
      }
    }
    RoundPlan plan = policy_.Plan(Urgency::kRoutine, s.round - s.round_base + 1);
    batches.push_back({s.request.id, s.round, true, plan.ttl, "", std::move(offers)});
  }
  // Every request's offers in one round trip.
  absl::StatusOr<std::vector<absl::StatusOr<MadeOffers>>> made_all =
      store_->MakeOffersMany(batches, fence, deadline);
  if (!made_all.ok()) return made_all.status();
  for (const absl::StatusOr<MadeOffers>& made : *made_all) {
    if (made.ok() && made->made) {
      ++offered;
      offers_.fetch_add(static_cast<int64_t>(made->offers.size()), std::memory_order_relaxed);
    } else if (!made.ok() && first_error.ok() && !absl::IsAborted(made.status())) {
      first_error = made.status();
    }
  }
  batch_cycles_.fetch_add(1, std::memory_order_relaxed);
  batch_offered_.fetch_add(offered, std::memory_order_relaxed);
  batch_unassigned_.fetch_add(unassigned, std::memory_order_relaxed);
  last_batch_us_.store(absl::ToInt64Microseconds(absl::Now() - start), std::memory_order_relaxed);
  return first_error;
}

std::vector<Roster::Hit> Dispatcher::NearbyHits(const DispatchSnapshot& s, double radius_m, int k,
                                                double* searched_radius_m) const {
  const RequestContent& c = s.request.content;
  CandidateQuery q;  // Wide: the scorer gives the reasons.
  q.duty_statuses = {DutyStatus::kOn, DutyStatus::kBusy};
  q.include_units = c.headcount >= 2;
  return roster_->Nearest(s.request.district, *c.resident.location, k, radius_m, q, clock_->Now(),
                          searched_radius_m);
}

std::vector<std::string> Dispatcher::VolunteerIds(const std::vector<Roster::Hit>& hits) {
  std::vector<std::string> ids;
  for (const Roster::Hit& h : hits) {
    if (!h.is_unit) ids.push_back(h.id);
  }
  return ids;
}

absl::StatusOr<Ranking> Dispatcher::RankAround(const DispatchSnapshot& s, double radius_m, int k,
                                               bool with_details, bool rank_offered,
                                               std::vector<Roster::Hit>* hits,
                                               double* searched_radius_m, absl::Time deadline) {
  *hits = NearbyHits(s, radius_m, k, searched_radius_m);
  absl::StatusOr<CandidateHistory> history =
      store_->History(s.request.district, VolunteerIds(*hits), s.phone_hash, deadline);
  if (!history.ok()) return history.status();
  return RankHits(s, *hits, *history, radius_m, with_details, rank_offered);
}

Ranking Dispatcher::RankHits(const DispatchSnapshot& s, const std::vector<Roster::Hit>& hits,
                             const CandidateHistory& history, double radius_m, bool with_details,
                             bool rank_offered) const {
  MatchRequest m = MatchFor(s, history);
  m.max_travel_m = radius_m;
  if (rank_offered) m.offered.clear();
  std::vector<CandidateFacts> facts;
  facts.reserve(hits.size());
  for (const Roster::Hit& h : hits) {
    auto st = history.stats.find(h.id);
    facts.push_back(CandidateFacts{h.id, &h.candidate, h.distance_m,
                                   st == history.stats.end() ? nullptr : &st->second});
  }
  return scorer_.Rank(m, facts, with_details);
}

MatchRequest Dispatcher::MatchFor(const DispatchSnapshot& s, const CandidateHistory& history) {
  const RequestContent& c = s.request.content;
  MatchRequest m;
  m.urgency = c.urgency;
  m.location = *c.resident.location;
  m.required_tokens = c.required_skills;
  m.preferred_skills = c.preferred_skills;
  if (c.window_start_ms > 0) m.window_start = absl::FromUnixMillis(c.window_start_ms);
  m.include_units = c.headcount >= 2;
  m.paired = history.paired;
  m.served_before = history.served_before;
  m.declined = Ids(s.declined_by);
  m.no_show = Ids(s.no_show);
  absl::flat_hash_set<std::string> offered;
  for (const std::string& k : s.tried) {
    if (!s.declined_by.contains(k) && !s.no_show.contains(k)) offered.insert(k);
  }
  m.offered = Ids(offered);
  for (const AssigneeRef& a : s.assignees) m.assigned.insert(a.id);
  m.conflict = Ids(s.excluded);
  return m;
}

absl::Status Dispatcher::Step(const DispatchSnapshot& s, int64_t fence, absl::Time deadline) {
  if (s.gone || !Dispatchable(s.request.state)) return absl::OkStatus();
  if (s.pending > 0 || s.assigned >= s.headcount) return absl::OkStatus();
  const RequestContent& c = s.request.content;
  auto escalate = [&](EscalationReason reason, const std::string& detail) {
    return Escalate(s, reason, detail, fence, deadline);
  };
  absl::StatusOr<bool> escalated = EscalateIfDue(s, fence, deadline);
  if (!escalated.ok() || *escalated) return escalated.status();
  int rounds_done = s.round - s.round_base;
  RoundPlan plan = policy_.Plan(c.urgency, rounds_done + 1);
  int wanted = std::max(plan.offers, s.headcount - s.assigned);
  std::vector<Roster::Hit> hits;
  double searched = 0;
  absl::StatusOr<Ranking> ranking =
      RankAround(s, plan.radius_m, std::max(plan.search_k, 4 * wanted), false, false, &hits,
                 &searched, deadline);
  if (!ranking.ok()) return ranking.status();
  double max_radius = policy_.For(c.urgency).max_radius_m;
  if (ranking->ranked.empty() && plan.radius_m < max_radius) {
    ranking = RankAround(s, max_radius, std::max(plan.search_k, 4 * wanted), false, false, &hits,
                         &searched, deadline);
    if (!ranking.ok()) return ranking.status();
  }
  if (ranking->ranked.empty()) {
    return escalate(EscalationReason::kNoCandidate,
                    absl::StrFormat("no eligible candidate within %.1f km", max_radius / 1000));
  }
  std::vector<OfferToMake> offers;
  for (const ScoredCandidate& sc : ranking->ranked) {
    if (static_cast<int>(offers.size()) >= wanted) break;
    AssigneeRef to{false, sc.id};
    for (const Roster::Hit& h : hits) {
      if (h.id == sc.id) to.is_unit = h.is_unit;
    }
    offers.push_back({to, OfferDocument(s.request, to, sc.distance_m, sc.travel_time_s, "")});
  }
  absl::StatusOr<MadeOffers> made =
      store_->MakeOffers(s.request.id, s.round, true, plan.ttl, "", fence, offers, deadline);
  if (!made.ok()) return made.status();
  if (!made->made) {
    return escalate(EscalationReason::kNoCandidate,
                    "every ranked candidate became unavailable before the offer");
  }
  rounds_.fetch_add(1, std::memory_order_relaxed);
  offers_.fetch_add(static_cast<int64_t>(made->offers.size()), std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<Explanation> Dispatcher::Explain(absl::string_view request_id, int limit,
                                                bool include_excluded, absl::Time deadline) {
  absl::StatusOr<DispatchSnapshot> s = store_->Load(request_id, deadline);
  if (!s.ok()) return s.status();
  Explanation e;
  e.snapshot = *s;
  const RequestContent& c = s->request.content;
  if (!c.resident.location.has_value()) return e;
  int rounds_done = std::max(0, s->round - s->round_base);
  RoundPlan plan = policy_.Plan(c.urgency, std::max(1, rounds_done));
  std::vector<Roster::Hit> hits;
  absl::StatusOr<Ranking> ranking =
      RankAround(*s, plan.radius_m, std::max(4 * limit, plan.search_k), true, true, &hits,
                 &e.searched_radius_m, deadline);
  if (!ranking.ok()) return ranking.status();
  e.ranking = *std::move(ranking);
  for (const Roster::Hit& h : hits) {
    if (h.is_unit) e.unit_ids.insert(h.id);
  }
  if (static_cast<int>(e.ranking.ranked.size()) > limit) e.ranking.ranked.resize(limit);
  if (!include_excluded) {
    e.ranking.excluded.clear();
  } else if (static_cast<int>(e.ranking.excluded.size()) > limit) {
    e.ranking.excluded.resize(limit);
  }
  return e;
}

absl::StatusOr<MobilizeOutcome> Dispatcher::Mobilize(absl::string_view district,
                                                     absl::string_view key,
                                                     const RequestContent& content,
                                                     absl::string_view fingerprint, double radius_m,
                                                     absl::Duration ttl, absl::string_view actor,
                                                     absl::Time deadline) {
  FollowDistrict(district);
  absl::StatusOr<Mobilization> m =
      store_->Mobilize(district, key, content, fingerprint, actor, deadline);
  if (!m.ok()) return m.status();
  MobilizeOutcome out;
  out.mobilization = *m;
  if (m->replayed) {
    absl::StatusOr<DispatchSnapshot> s = store_->Load(m->request.id, deadline);
    if (!s.ok()) return s.status();
    out.reached = s->offers_made;
    absl::StatusOr<std::vector<OfferRecord>> first = store_->OffersOf(m->request.id, 1, deadline);
    if (first.ok() && !first->empty()) out.expire_time_ms = first->front().expire_time_ms;
    return out;
  }
  DispatchSnapshot s;
  s.request = m->request;
  s.headcount = std::max(1, content.headcount);
  CandidateQuery q;
  q.required_tokens = content.required_skills;
  q.available_now = true;
  double searched = 0;
  std::vector<Roster::Hit> hits = roster_->Nearest(
      district, *content.resident.location, kMaxMobilized, radius_m, q, clock_->Now(), &searched);
  int round = 0;
  for (size_t begin = 0; begin < hits.size(); begin += options_.mobilize_chunk) {
    std::vector<OfferToMake> offers;
    size_t end = std::min(hits.size(), begin + options_.mobilize_chunk);
    for (size_t i = begin; i < end; ++i) {
      AssigneeRef to{hits[i].is_unit, hits[i].id};
      int travel_s = static_cast<int>(hits[i].distance_m * options_.scorer.detour_factor /
                                      options_.scorer.volunteer_speed_mps);
      offers.push_back(
          {to, OfferDocument(m->request, to, hits[i].distance_m, travel_s, m->mobilization_id)});
    }
    absl::StatusOr<MadeOffers> made = store_->MakeOffers(m->request.id, round, round == 0, ttl,
                                                         m->mobilization_id, 0, offers, deadline);
    if (!made.ok()) return made.status();
    if (!made->made) continue;
    round = made->round;
    out.reached += static_cast<int>(made->offers.size());
    out.expire_time_ms = made->expire_time_ms;
  }
  offers_.fetch_add(out.reached, std::memory_order_relaxed);
  if (out.reached == 0) {
    absl::StatusOr<HelpRequest> r = store_->Escalate(
        m->request.id, std::nullopt, EscalationReason::kNoCandidate,
        absl::StrFormat("no eligible on-duty volunteer within %.1f km", radius_m / 1000), actor, 0,
        deadline);
    if (!r.ok()) return r.status();
    out.mobilization.request = *r;
  }
  return out;
}

Dispatcher::Stats Dispatcher::stats() const {
  Stats s;
  s.rounds = rounds_.load(std::memory_order_relaxed);
  s.offers = offers_.load(std::memory_order_relaxed);
  s.escalations = escalations_.load(std::memory_order_relaxed);
  s.aborted = aborted_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.leader_of = leader_of_.load(std::memory_order_relaxed);
  s.queue_dropped = queue_dropped_.load(std::memory_order_relaxed);
  s.batch_cycles = batch_cycles_.load(std::memory_order_relaxed);
  s.batch_offered = batch_offered_.load(std::memory_order_relaxed);
  s.batch_unassigned = batch_unassigned_.load(std::memory_order_relaxed);
  s.last_batch_ms = last_batch_us_.load(std::memory_order_relaxed) / 1000.0;
  return s;
}

std::string Dispatcher::MetricsText() const {
  Stats s = stats();
  return absl::StrCat(
      "# HELP yiyuan_dispatch_rounds_total Offer rounds made.\n"
      "# TYPE yiyuan_dispatch_rounds_total counter\n"
      "yiyuan_dispatch_rounds_total ",
      s.rounds, "\n",
      "# HELP yiyuan_dispatch_offers_total Offers made (rounds and mobilisations).\n"
      "# TYPE yiyuan_dispatch_offers_total counter\n"
      "yiyuan_dispatch_offers_total ",
      s.offers, "\n",
      "# HELP yiyuan_dispatch_escalations_total Requests escalated by the dispatcher.\n"
      "# TYPE yiyuan_dispatch_escalations_total counter\n"
      "yiyuan_dispatch_escalations_total ",
      s.escalations, "\n",
      "# HELP yiyuan_dispatch_aborted_total Rounds another instance made first.\n"
      "# TYPE yiyuan_dispatch_aborted_total counter\n"
      "yiyuan_dispatch_aborted_total ",
      s.aborted, "\n",
      "# HELP yiyuan_dispatch_errors_total Redis errors in the dispatch loop.\n"
      "# TYPE yiyuan_dispatch_errors_total counter\n"
      "yiyuan_dispatch_errors_total ",
      s.errors, "\n",
      "# HELP yiyuan_dispatch_leader_districts Districts this instance leads.\n"
      "# TYPE yiyuan_dispatch_leader_districts gauge\n"
      "yiyuan_dispatch_leader_districts ",
      s.leader_of, "\n",
      "# HELP yiyuan_dispatch_queue_dropped_total New requests left to the leader loop.\n"
      "# TYPE yiyuan_dispatch_queue_dropped_total counter\n"
      "yiyuan_dispatch_queue_dropped_total ",
      s.queue_dropped, "\n",
      "# HELP yiyuan_dispatch_batch_cycles_total ROUTINE batch assignment cycles run.\n"
      "# TYPE yiyuan_dispatch_batch_cycles_total counter\n"
      "yiyuan_dispatch_batch_cycles_total ",
      s.batch_cycles, "\n",
      "# HELP yiyuan_dispatch_batch_offered_total Requests offered by batch cycles.\n"
      "# TYPE yiyuan_dispatch_batch_offered_total counter\n"
      "yiyuan_dispatch_batch_offered_total ",
      s.batch_offered, "\n",
      "# HELP yiyuan_dispatch_batch_unassigned_total Requests a batch cycle left for the next.\n"
      "# TYPE yiyuan_dispatch_batch_unassigned_total counter\n"
      "yiyuan_dispatch_batch_unassigned_total ",
      s.batch_unassigned, "\n",
      "# HELP yiyuan_dispatch_last_batch_ms Duration of the latest batch cycle.\n"
      "# TYPE yiyuan_dispatch_last_batch_ms gauge\n"
      "yiyuan_dispatch_last_batch_ms ",
      s.last_batch_ms, "\n");
}

}  // namespace yiyuan
