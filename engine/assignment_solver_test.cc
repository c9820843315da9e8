#include "engine/assignment_solver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

using ::testing::ElementsAre;
using Pair = std::pair<int, int>;

// The cheapest arc cost per (request, volunteer) pair.
std::map<Pair, int64_t> CheapestArcs(const AssignmentProblem& p) {
  std::map<Pair, int64_t> cheapest;
  for (const AssignmentProblem::Arc& a : p.arcs()) {
    auto [it, inserted] = cheapest.insert({{a.request, a.volunteer}, a.cost});
    if (!inserted) it->second = std::min(it->second, a.cost);
  }
  return cheapest;
}

// Checks that `s` is a feasible assignment of `p` and returns its cost recomputed from
// scratch.
int64_t CheckFeasible(const AssignmentProblem& p, const AssignmentSolution& s) {
  const std::map<Pair, int64_t> cheapest = CheapestArcs(p);
  EXPECT_EQ(s.helpers_of_request.size(), static_cast<size_t>(p.num_requests()));
  EXPECT_EQ(s.unfilled.size(), static_cast<size_t>(p.num_requests()));
  if (s.helpers_of_request.size() != static_cast<size_t>(p.num_requests()) ||
      s.unfilled.size() != static_cast<size_t>(p.num_requests())) {
    return -1;
  }
  std::vector<int> load(p.num_volunteers(), 0);
  int64_t cost = 0;
  for (int r = 0; r < p.num_requests(); ++r) {
    const std::vector<int>& helpers = s.helpers_of_request[r];
    const int headcount = p.requests()[r].headcount;
    EXPECT_LE(static_cast<int>(helpers.size()), headcount) << "request " << r;
    EXPECT_EQ(s.unfilled[r], headcount - static_cast<int>(helpers.size())) << "request " << r;
    EXPECT_TRUE(std::is_sorted(helpers.begin(), helpers.end()));
    EXPECT_EQ(std::adjacent_find(helpers.begin(), helpers.end()), helpers.end())
        << "request " << r << " uses a volunteer twice";
    for (int v : helpers) {
      auto it = cheapest.find({r, v});
      EXPECT_NE(it, cheapest.end()) << "no arc " << r << " -> " << v;
      if (it == cheapest.end()) continue;
      cost += it->second;
      ++load[v];
    }
    cost += p.requests()[r].unassigned_cost * s.unfilled[r];
  }
  for (int v = 0; v < p.num_volunteers(); ++v) {
    EXPECT_LE(load[v], p.volunteers()[v].capacity) << "volunteer " << v;
  }
  return cost;
}

// Enumerates every feasible assignment of a small problem.
class BruteForce {
 public:
  explicit BruteForce(const AssignmentProblem& p) : p_(p), load_(p.num_volunteers(), 0) {
    by_request_.resize(p.num_requests());
    for (const auto& [pair, cost] : CheapestArcs(p)) {
      by_request_[pair.first].push_back({pair.second, cost});
    }
  }

  int64_t Optimum() {
    best_ = std::numeric_limits<int64_t>::max();
    Request(0, 0);
    return best_;
  }

 private:
  void Request(int r, int64_t cost) {
    if (r == p_.num_requests()) {
      best_ = std::min(best_, cost);
      return;
    }
    Choose(r, 0, 0, cost);
  }
  // Decides arcs i.. of request r, `used` of which are taken so far.
  void Choose(int r, size_t i, int used, int64_t cost) {
    const AssignmentProblem::Request& q = p_.requests()[r];
    if (i == by_request_[r].size()) {
      Request(r + 1, cost + q.unassigned_cost * (q.headcount - used));
      return;
    }
    Choose(r, i + 1, used, cost);
    const auto [v, c] = by_request_[r][i];
    if (used < q.headcount && load_[v] < p_.volunteers()[v].capacity) {
      ++load_[v];
      Choose(r, i + 1, used + 1, cost + c);
      --load_[v];
    }
  }

  const AssignmentProblem& p_;
  std::vector<std::vector<std::pair<int, int64_t>>> by_request_;
  std::vector<int> load_;
  int64_t best_ = 0;
};

// An independent reference: successive shortest paths with Bellman-Ford on a dense
// residual matrix over source, requests, volunteers, sink.
int64_t ReferenceMinCost(const AssignmentProblem& p) {
  const int R = p.num_requests();
  const int V = p.num_volunteers();
  const int n = R + V + 2;
  const int s = 0;
  const int t = n - 1;
  std::vector<std::vector<int64_t>> cap(n, std::vector<int64_t>(n, 0));
  std::vector<std::vector<int64_t>> cost(n, std::vector<int64_t>(n, 0));
  int64_t demand = 0;
  for (int r = 0; r < R; ++r) {
    cap[s][1 + r] = p.requests()[r].headcount;
    cap[1 + r][t] = p.requests()[r].headcount;
    cost[1 + r][t] = p.requests()[r].unassigned_cost;
    cost[t][1 + r] = -p.requests()[r].unassigned_cost;
    demand += p.requests()[r].headcount;
  }
  for (int v = 0; v < V; ++v) cap[1 + R + v][t] = p.volunteers()[v].capacity;
  for (const auto& [pair, c] : CheapestArcs(p)) {
    const int u = 1 + pair.first;
    const int w = 1 + R + pair.second;
    cap[u][w] = 1;
    cost[u][w] = c;
    cost[w][u] = -c;
  }
  const int64_t kInf = std::numeric_limits<int64_t>::max() / 4;
  int64_t total = 0;
  int64_t flow = 0;
  while (true) {
    std::vector<int64_t> dist(n, kInf);
    std::vector<int> pred(n, -1);
    dist[s] = 0;
    for (int round = 0; round < n; ++round) {
      bool changed = false;
      for (int u = 0; u < n; ++u) {
        if (dist[u] == kInf) continue;
        for (int w = 0; w < n; ++w) {
          if (cap[u][w] > 0 && dist[u] + cost[u][w] < dist[w]) {
            dist[w] = dist[u] + cost[u][w];
            pred[w] = u;
            changed = true;
          }
        }
      }
      if (!changed) break;
    }
    if (dist[t] == kInf) break;
    int64_t delta = kInf;
    for (int w = t; w != s; w = pred[w]) delta = std::min(delta, cap[pred[w]][w]);
    for (int w = t; w != s; w = pred[w]) {
      cap[pred[w]][w] -= delta;
      cap[w][pred[w]] += delta;
    }
    total += delta * dist[t];
    flow += delta;
  }
  EXPECT_EQ(flow, demand);
  return total;
}

AssignmentProblem RandomSmall(std::mt19937_64& rng) {
  AssignmentProblem p;
  const int R = std::uniform_int_distribution<int>(0, 5)(rng);
  const int V = std::uniform_int_distribution<int>(0, 5)(rng);
  const double density = std::uniform_real_distribution<double>(0, 1)(rng);
  const int64_t unassigned_choices[] = {0, 1, 5, 20, 50, 100, int64_t{1000000000000}};
  for (int r = 0; r < R; ++r) {
    const int64_t u = rng() % 2 ? unassigned_choices[rng() % 7] : static_cast<int64_t>(rng() % 60);
    p.AddRequest(1 + static_cast<int>(rng() % 2), u);
  }
  for (int v = 0; v < V; ++v) p.AddVolunteer(1 + static_cast<int>(rng() % 2));
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < V; ++v) {
      if (std::uniform_real_distribution<double>(0, 1)(rng) >= density) continue;
      p.AddArc(r, v, static_cast<int64_t>(rng() % 40));
      if (rng() % 8 == 0) p.AddArc(r, v, static_cast<int64_t>(rng() % 40));  // Duplicate.
    }
  }
  return p;
}

AssignmentProblem RandomSparse(std::mt19937_64& rng, int R, int V, int k, int64_t max_cost,
                               int64_t max_unassigned) {
  AssignmentProblem p;
  for (int r = 0; r < R; ++r) {
    p.AddRequest(1 + static_cast<int>(rng() % 3),
                 static_cast<int64_t>(rng() % (max_unassigned + 1)));
  }
  for (int v = 0; v < V; ++v) p.AddVolunteer(1 + static_cast<int>(rng() % 3));
  for (int r = 0; r < R; ++r) {
    for (int i = 0; i < k; ++i) {
      p.AddArc(r, static_cast<int>(rng() % V), static_cast<int64_t>(rng() % (max_cost + 1)));
    }
  }
  return p;
}

TEST(AssignmentSolverTest, MatchesBruteForceOnSmallInstances) {
  AssignmentSolver solver;
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    const AssignmentProblem p = RandomSmall(rng);
    absl::StatusOr<AssignmentSolution> s = solver.Solve(p);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->total_cost, BruteForce(p).Optimum());
    EXPECT_EQ(CheckFeasible(p, *s), s->total_cost);
    if (HasFailure()) return;
  }
}

// With a core of one arc per request and volunteer, instances with more than four arcs per
// request take the dense path: its pricing rounds must reach the same optimum.
TEST(AssignmentSolverTest, DensePathMatchesBruteForceOnSmallInstances) {
  AssignmentSolverOptions options;
  options.dense_core_arcs = 1;
  AssignmentSolver solver(options);
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    const AssignmentProblem p = RandomSmall(rng);
    absl::StatusOr<AssignmentSolution> s = solver.Solve(p);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->total_cost, BruteForce(p).Optimum());
    EXPECT_EQ(CheckFeasible(p, *s), s->total_cost);
    if (HasFailure()) return;
  }
}

TEST(AssignmentSolverTest, MatchesBellmanFordReferenceOnMediumInstances) {
  AssignmentSolver solver;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    const AssignmentProblem p = RandomSparse(rng, 60, 80, 8, 1000, seed % 3 == 0 ? 100000 : 3000);
    absl::StatusOr<AssignmentSolution> s = solver.Solve(p);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->total_cost, ReferenceMinCost(p));
    EXPECT_EQ(CheckFeasible(p, *s), s->total_cost);
    if (HasFailure()) return;
  }
}

// Tiny cores on medium instances: many pricing rounds, each warm-started from the round
// before, where volunteers that lose a helper stay loaded but short until a shortest path
// fills them (directly, or through the sink when a cheaper unassigned option frees them).
// Capacities and headcounts up to 3, cheap and dear unassigned options, costs up to
// kMaxAssignmentCost.
TEST(AssignmentSolverTest, DensePathRoundsMatchReferenceOnMediumInstances) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(1000 + seed);
    AssignmentSolverOptions options;
    options.dense_core_arcs = 1 + static_cast<int>(seed % 3);
    const int64_t max_cost = seed % 5 == 0 ? kMaxAssignmentCost : 1000;
    const int64_t max_unassigned =
        seed % 4 == 0 ? max_cost / 4 : std::min(max_cost * 3, kMaxAssignmentCost);
    const AssignmentProblem p = RandomSparse(rng, 30, 40, 16, max_cost, max_unassigned);
    absl::StatusOr<AssignmentSolution> s = AssignmentSolver(options).Solve(p);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->total_cost, ReferenceMinCost(p));
    EXPECT_EQ(CheckFeasible(p, *s), s->total_cost);
    if (HasFailure()) return;
  }
}

TEST(AssignmentSolverTest, NoRequests) {
  AssignmentProblem p;
  p.AddVolunteer(3);
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_cost, 0);
  EXPECT_TRUE(s->helpers_of_request.empty());
  EXPECT_TRUE(s->unfilled.empty());
}

TEST(AssignmentSolverTest, NoVolunteersLeavesEverythingUnassigned) {
  AssignmentProblem p;
  p.AddRequest(2, 7);
  p.AddRequest(1, 100);
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_cost, 2 * 7 + 100);
  EXPECT_EQ(s->unfilled, (std::vector<int>{2, 1}));
  EXPECT_EQ(s->helpers_of_request, (std::vector<std::vector<int>>{{}, {}}));
}

TEST(AssignmentSolverTest, NoArcsLeavesEverythingUnassigned) {
  AssignmentProblem p;
  p.AddRequest(3, 5);
  p.AddVolunteer(2);
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_cost, 15);
  EXPECT_EQ(s->unfilled, (std::vector<int>{3}));
}

TEST(AssignmentSolverTest, ZeroUnassignedCostIsStillOptimal) {
  AssignmentProblem p;
  p.AddRequest(2, 0);
  p.AddVolunteer(1);
  p.AddArc(0, 0, 0);
  p.AddRequest(1, 0);
  p.AddArc(1, 0, 4);
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_cost, 0);
  EXPECT_EQ(CheckFeasible(p, *s), 0);
  EXPECT_TRUE(s->helpers_of_request[1].empty());
}

TEST(AssignmentSolverTest, HugeUnassignedCostFillsWhatItCan) {
  AssignmentProblem p;
  p.AddRequest(2, kMaxAssignmentCost);
  p.AddRequest(1, 10);
  p.AddVolunteer(1);
  p.AddVolunteer(1);
  p.AddArc(0, 0, 1000);
  p.AddArc(1, 1, 1);
  p.AddArc(0, 1, 5000);
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->helpers_of_request[0], (std::vector<int>{0, 1}));
  EXPECT_EQ(s->total_cost, 1000 + 5000 + 10);
}

TEST(AssignmentSolverTest, TiesGiveAnOptimalFeasibleAssignment) {
  AssignmentProblem p;
  for (int r = 0; r < 4; ++r) p.AddRequest(2, 10);
  for (int v = 0; v < 4; ++v) p.AddVolunteer(2);
  for (int r = 0; r < 4; ++r) {
    for (int v = 0; v < 4; ++v) p.AddArc(r, v, 10);
  }
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_cost, 80);
  EXPECT_EQ(CheckFeasible(p, *s), 80);
  EXPECT_EQ(BruteForce(p).Optimum(), 80);
}

TEST(AssignmentSolverTest, DuplicateArcsKeepTheCheaper) {
  AssignmentProblem p;
  p.AddRequest(2, 100);
  p.AddVolunteer(1);
  p.AddArc(0, 0, 30);
  p.AddArc(0, 0, 20);
  p.AddArc(0, 0, 40);
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->helpers_of_request[0], (std::vector<int>{0}));  // Once, not twice.
  EXPECT_EQ(s->total_cost, 20 + 100);
}

TEST(AssignmentSolverTest, LargeHeadcountWithoutArcs) {
  AssignmentProblem p;
  p.AddRequest(1000000000, 3);
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver().Solve(p);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_cost, int64_t{3000000000});
  EXPECT_EQ(s->stats.shortest_paths, 1);
}

TEST(AssignmentSolverTest, InvalidInput) {
  AssignmentSolver solver;
  auto code_and_message = [&](const AssignmentProblem& p) {
    absl::StatusOr<AssignmentSolution> s = solver.Solve(p);
    return std::make_pair(s.status().code(), std::string(s.status().message()));
  };
  {
    AssignmentProblem p;
    p.AddRequest(0, 1);
    auto [code, message] = code_and_message(p);
    EXPECT_EQ(code, absl::StatusCode::kInvalidArgument);
    EXPECT_NE(message.find("request 0: headcount"), std::string::npos) << message;
  }
  {
    AssignmentProblem p;
    p.AddRequest(1, -1);
    auto [code, message] = code_and_message(p);
    EXPECT_EQ(code, absl::StatusCode::kInvalidArgument);
    EXPECT_NE(message.find("unassigned_cost"), std::string::npos) << message;
  }
  {
    AssignmentProblem p;
    p.AddRequest(1, 1);
    p.AddVolunteer(0);
    auto [code, message] = code_and_message(p);
    EXPECT_EQ(code, absl::StatusCode::kInvalidArgument);
    EXPECT_NE(message.find("volunteer 0: capacity"), std::string::npos) << message;
  }
  {
    AssignmentProblem p;
    p.AddRequest(1, 1);
    p.AddVolunteer(1);
    p.AddArc(0, 1, 5);
    auto [code, message] = code_and_message(p);
    EXPECT_EQ(code, absl::StatusCode::kInvalidArgument);
    EXPECT_NE(message.find("arc 0: volunteer"), std::string::npos) << message;
  }
  {
    AssignmentProblem p;
    p.AddRequest(1, 1);
    p.AddVolunteer(1);
    p.AddArc(-1, 0, 5);
    auto [code, message] = code_and_message(p);
    EXPECT_EQ(code, absl::StatusCode::kInvalidArgument);
    EXPECT_NE(message.find("arc 0: request"), std::string::npos) << message;
  }
  {
    AssignmentProblem p;
    p.AddRequest(1, 1);
    p.AddVolunteer(1);
    p.AddArc(0, 0, 5);
    p.AddArc(0, 0, -5);
    auto [code, message] = code_and_message(p);
    EXPECT_EQ(code, absl::StatusCode::kInvalidArgument);
    EXPECT_NE(message.find("arc 1: cost"), std::string::npos) << message;
  }
  {
    AssignmentProblem p;
    p.AddRequest(1, kMaxAssignmentCost + 1);
    EXPECT_EQ(code_and_message(p).first, absl::StatusCode::kInvalidArgument);
  }
  {
    AssignmentProblem p;
    p.AddRequest(1 << 30, kMaxAssignmentCost);
    EXPECT_EQ(code_and_message(p).first, absl::StatusCode::kInvalidArgument);
  }
}

// Replaces about `fraction` of the arcs by arcs to other volunteers or with other costs.
AssignmentProblem PerturbArcs(const AssignmentProblem& p, double fraction, std::mt19937_64& rng) {
  AssignmentProblem q;
  for (const auto& r : p.requests()) q.AddRequest(r.headcount, r.unassigned_cost);
  for (const auto& v : p.volunteers()) q.AddVolunteer(v.capacity);
  for (const AssignmentProblem::Arc& a : p.arcs()) {
    if (std::uniform_real_distribution<double>(0, 1)(rng) >= fraction) {
      q.AddArc(a.request, a.volunteer, a.cost);
    } else if (rng() % 2) {
      q.AddArc(a.request, a.volunteer, static_cast<int64_t>(rng() % 1001));
    } else {
      q.AddArc(a.request, static_cast<int>(rng() % p.num_volunteers()),
               static_cast<int64_t>(rng() % 1001));
    }
  }
  return q;
}

TEST(AssignmentSolverTest, WarmStartAfterChangingFivePercentOfArcs) {
  AssignmentSolver solver;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    const AssignmentProblem before = RandomSparse(rng, 300, 400, 8, 1000, 3000);
    absl::StatusOr<AssignmentSolution> first = solver.Solve(before);
    ASSERT_TRUE(first.ok()) << first.status();
    const AssignmentProblem after = PerturbArcs(before, 0.05, rng);
    absl::StatusOr<AssignmentSolution> cold = solver.Solve(after);
    absl::StatusOr<AssignmentSolution> warm = solver.Solve(after, &*first);
    ASSERT_TRUE(cold.ok()) << cold.status();
    ASSERT_TRUE(warm.ok()) << warm.status();
    EXPECT_EQ(warm->total_cost, cold->total_cost);
    EXPECT_EQ(CheckFeasible(after, *warm), warm->total_cost);
    EXPECT_TRUE(warm->stats.warm_started);
    EXPECT_GT(warm->stats.kept_helpers, 0);
    EXPECT_LT(warm->stats.shortest_paths, cold->stats.shortest_paths);
    // Solving the same problem again from its own solution does no search at all.
    absl::StatusOr<AssignmentSolution> again = solver.Solve(after, &*warm);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->total_cost, cold->total_cost);
    EXPECT_EQ(again->stats.shortest_paths, 0);
    if (HasFailure()) return;
  }
}

TEST(AssignmentSolverTest, WarmStartSurvivesAnyChange) {
  AssignmentSolver solver;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    const AssignmentProblem a = RandomSmall(rng);
    absl::StatusOr<AssignmentSolution> first = solver.Solve(a);
    ASSERT_TRUE(first.ok()) << first.status();
    // Same shape, everything else redrawn; sometimes garbage potentials.
    AssignmentProblem b;
    for (int r = 0; r < a.num_requests(); ++r) {
      b.AddRequest(1 + static_cast<int>(rng() % 2), static_cast<int64_t>(rng() % 60));
    }
    for (int v = 0; v < a.num_volunteers(); ++v) b.AddVolunteer(1 + static_cast<int>(rng() % 2));
    for (const AssignmentProblem::Arc& arc : a.arcs()) {
      if (rng() % 4) b.AddArc(arc.request, arc.volunteer, static_cast<int64_t>(rng() % 40));
    }
    AssignmentSolution warm = *first;
    if (seed % 3 == 0) {
      for (int64_t& pi : warm.request_potentials) pi = static_cast<int64_t>(rng() % 200) - 100;
      for (int64_t& pi : warm.volunteer_potentials) pi = static_cast<int64_t>(rng() % 200) - 100;
    }
    absl::StatusOr<AssignmentSolution> s = solver.Solve(b, &warm);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->total_cost, BruteForce(b).Optimum());
    EXPECT_EQ(CheckFeasible(b, *s), s->total_cost);
    if (HasFailure()) return;
  }
}

TEST(AssignmentSolverTest, WarmStartOfAnotherShapeIsIgnored) {
  std::mt19937_64 rng(7);
  const AssignmentProblem a = RandomSparse(rng, 20, 30, 4, 100, 300);
  const AssignmentProblem b = RandomSparse(rng, 21, 30, 4, 100, 300);
  AssignmentSolver solver;
  absl::StatusOr<AssignmentSolution> first = solver.Solve(a);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<AssignmentSolution> s = solver.Solve(b, &*first);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->stats.warm_started);
  EXPECT_EQ(s->total_cost, solver.Solve(b)->total_cost);
}

TEST(SolveGreedyTest, TakesTheCheapestFreeCandidatesInRequestOrder) {
  AssignmentProblem p;
  int a = p.AddRequest(1, 1000);
  int b = p.AddRequest(2, 1000);
  int c = p.AddRequest(1, 50);
  int v0 = p.AddVolunteer(1);
  int v1 = p.AddVolunteer(2);
  int v2 = p.AddVolunteer(1);
  p.AddArc(a, v0, 10);  // a takes v0, its cheapest ...
  p.AddArc(a, v1, 20);
  p.AddArc(b, v0, 5);   // ... though b would have paid less for v0 (greedy is not optimal)
  p.AddArc(b, v1, 30);
  p.AddArc(b, v2, 40);
  p.AddArc(b, v2, 35);  // a duplicate pair: the cheaper counts, once
  p.AddArc(c, v1, 60);  // dearer than leaving c unassigned
  AssignmentSolution g = SolveGreedy(p);
  EXPECT_THAT(g.helpers_of_request[a], ElementsAre(v0));
  EXPECT_THAT(g.helpers_of_request[b], ElementsAre(v1, v2));
  EXPECT_THAT(g.helpers_of_request[c], ElementsAre());
  EXPECT_THAT(g.unfilled, ElementsAre(0, 0, 1));
  EXPECT_EQ(g.total_cost, 10 + 30 + 35 + 50);
  EXPECT_EQ(CheckFeasible(p, g), g.total_cost);
  absl::StatusOr<AssignmentSolution> best = AssignmentSolver().Solve(p);
  ASSERT_TRUE(best.ok());
  EXPECT_LT(best->total_cost, g.total_cost);
}

TEST(SolveGreedyTest, IsFeasibleAndNeverBeatsTheOptimum) {
  std::mt19937_64 rng(20261123);
  for (int trial = 0; trial < 200; ++trial) {
    AssignmentProblem p = RandomSmall(rng);
    AssignmentSolution g = SolveGreedy(p);
    EXPECT_EQ(CheckFeasible(p, g), g.total_cost) << "trial " << trial;
    absl::StatusOr<AssignmentSolution> best = AssignmentSolver().Solve(p);
    ASSERT_TRUE(best.ok());
    EXPECT_GE(g.total_cost, best->total_cost) << "trial " << trial;
  }
}

}  // namespace
}  // namespace yiyuan
