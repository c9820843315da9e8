// Micro-benchmarks of Scorer::Rank on the candidate lists a dispatch round sees: 16 and
// 64 (the k nearest of a round) and 1000 (a wide mobilisation area). Items are
// candidates, so items_per_second and per_candidate (seconds, SI prefix) read per candidate.
// BM_SortByDistance is the reference in the same run: what ordering the same list nearest-first
// costs.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/clock.h"
#include "engine/scorer.h"

namespace yiyuan {
namespace {

absl::Time Now() { return absl::FromUnixSeconds(1795000000); }

// A request and `n` candidates near it: most eligible, with statistics; a few units,
// busy, declined or lacking the required skill; some paired or served before.
struct Instance {
  MatchRequest request;
  std::deque<Candidate> candidates;
  std::deque<VolunteerStats> stats;
  std::vector<CandidateFacts> facts;
};

Instance MakeInstance(int n, uint64_t seed) {
  Instance in;
  in.request.urgency = Urgency::kUrgent;
  in.request.location = LatLng{30.87, 120.09};
  in.request.required_tokens = {"first-aid"};
  in.request.preferred_skills = {"cooking", "dialect-huzhou"};
  in.request.include_units = true;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const int64_t now_ms = absl::ToUnixMillis(Now());
  for (int i = 0; i < n; ++i) {
    Candidate c;
    c.tokens = {"first-aid"};
    if (u(rng) < 0.5) c.tokens.push_back("cooking");
    if (u(rng) < 0.3) c.tokens.push_back("dialect-huzhou");
    if (u(rng) < 0.05) c.tokens = {"cooking"};
    std::sort(c.tokens.begin(), c.tokens.end());
    if (u(rng) < 0.1) {
      c.is_unit = true;
      c.unit_kind = u(rng) < 0.5 ? UnitKind::kVan : UnitKind::kStation;
    }
    if (u(rng) < 0.05) c.duty = DutyStatus::kBusy;
    c.capacity = 2;
    c.location_time_ms = now_ms - static_cast<int64_t>(u(rng) * 600000);
    in.candidates.push_back(c);
    const VolunteerStats* st = nullptr;
    if (!c.is_unit) {
      VolunteerStats s;
      s.offers_answered = static_cast<int>(u(rng) * 30);
      s.offers_accepted = static_cast<int>(s.offers_answered * u(rng));
      s.assignments_ended = s.offers_accepted;
      s.completed = static_cast<int>(s.assignments_ended * (0.7 + 0.3 * u(rng)));
      s.recent_load = static_cast<int>(u(rng) * 6);
      s.last_offer_time_ms = now_ms - static_cast<int64_t>(u(rng) * 10800000);
      in.stats.push_back(s);
      st = &in.stats.back();
    }
    std::string id = absl::StrCat("wuxing-v", 100000 + i);
    if (u(rng) < 0.02) in.request.paired.insert(id);
    if (u(rng) < 0.05) in.request.served_before.insert(id);
    if (u(rng) < 0.03) in.request.declined.insert(id);
    in.facts.push_back(CandidateFacts{id, &in.candidates.back(), u(rng) * 5000, st});
  }
  return in;
}

void SetCounters(benchmark::State& state, int64_t n) {
  state.SetItemsProcessed(state.iterations() * n);
  // Seconds per candidate, shown with an SI prefix ("250n" = 250 ns).
  state.counters["per_candidate"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Range(0): candidates; range(1): 1 with details (ExplainMatch), 0 without (dispatch).
void BM_Rank(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool details = state.range(1) != 0;
  const Instance in = MakeInstance(n, 1);
  FakeClock clock(Now());
  Scorer scorer(ScorerOptions(), clock);
  for (auto _ : state) {
    Ranking r = scorer.Rank(in.request, in.facts, details);
    benchmark::DoNotOptimize(r.ranked.data());
  }
  SetCounters(state, n);
  state.SetLabel(details ? "with details" : "without details");
}
BENCHMARK(BM_Rank)->ArgsProduct({{16, 64, 1000}, {0, 1}});

// Reference: copying the ids and sorting the same candidates by (distance, id).
void BM_SortByDistance(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Instance in = MakeInstance(n, 1);
  for (auto _ : state) {
    std::vector<ExcludedCandidate> v;
    v.reserve(in.facts.size());
    for (const CandidateFacts& f : in.facts)
      v.push_back({f.id, f.distance_m, Exclusion::kNone, {}});
    std::sort(v.begin(), v.end(), [](const ExcludedCandidate& a, const ExcludedCandidate& b) {
      return a.distance_m != b.distance_m ? a.distance_m < b.distance_m : a.id < b.id;
    });
    benchmark::DoNotOptimize(v.data());
  }
  SetCounters(state, n);
}
BENCHMARK(BM_SortByDistance)->Arg(16)->Arg(64)->Arg(1000);

}  // namespace
}  // namespace yiyuan

BENCHMARK_MAIN();
