// AssignmentSolver against LEMON's NetworkSimplex (liblemon-dev, a test-only dependency)
// on seeded random medium instances: sparse and dense, k-nearest on a city, headcount and
// capacity above 1, duplicate and unordered arcs, nothing assignable, and warm starts
// after churn. Each failure names its seed and instance.
#include <lemon/network_simplex.h>
#include <lemon/static_graph.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/assignment_solver.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

// The cheapest arc cost per (request, volunteer) pair.
std::map<std::pair<int, int>, int64_t> CheapestArcs(const AssignmentProblem& p) {
  std::map<std::pair<int, int>, int64_t> cheapest;
  for (const AssignmentProblem::Arc& a : p.arcs()) {
    auto [it, inserted] = cheapest.insert({{a.request, a.volunteer}, a.cost});
    if (!inserted) it->second = std::min(it->second, a.cost);
  }
  return cheapest;
}

// The optimum by LEMON: supply headcount(r) at each request; arcs request -> volunteer
// (capacity 1), request -> sink (capacity headcount, the unassigned cost) and
// volunteer -> sink (capacity capacity).
int64_t LemonOptimum(const AssignmentProblem& p) {
  using Graph = lemon::StaticDigraph;
  const int R = p.num_requests();
  const int V = p.num_volunteers();
  const int sink = R + V;
  std::vector<std::pair<int, int>> arcs;
  std::vector<int> capacity;
  std::vector<int64_t> cost;
  const std::map<std::pair<int, int>, int64_t> cheapest = CheapestArcs(p);
  auto next = cheapest.begin();
  for (int r = 0; r < R; ++r) {  // StaticDigraph wants arcs ordered by source.
    for (; next != cheapest.end() && next->first.first == r; ++next) {
      arcs.push_back({r, R + next->first.second});
      capacity.push_back(1);
      cost.push_back(next->second);
    }
    arcs.push_back({r, sink});
    capacity.push_back(p.requests()[r].headcount);
    cost.push_back(p.requests()[r].unassigned_cost);
  }
  for (int v = 0; v < V; ++v) {
    arcs.push_back({R + v, sink});
    capacity.push_back(p.volunteers()[v].capacity);
    cost.push_back(0);
  }
  Graph g;
  g.build(sink + 1, arcs.begin(), arcs.end());
  Graph::ArcMap<int> upper(g);
  Graph::ArcMap<int64_t> arc_cost(g);
  for (int a = 0; a < static_cast<int>(arcs.size()); ++a) {
    upper[g.arc(a)] = capacity[a];
    arc_cost[g.arc(a)] = cost[a];
  }
  Graph::NodeMap<int> supply(g, 0);
  int total = 0;
  for (int r = 0; r < R; ++r) {
    supply[g.node(r)] = p.requests()[r].headcount;
    total += p.requests()[r].headcount;
  }
  supply[g.node(sink)] = -total;
  using Simplex = lemon::NetworkSimplex<Graph, int, int64_t>;
  Simplex simplex(g);
  simplex.upperMap(upper).costMap(arc_cost).supplyMap(supply);
  EXPECT_EQ(simplex.run(), Simplex::OPTIMAL);
  return simplex.totalCost<int64_t>();
}

// Checks that `s` is a feasible assignment of `p` whose cost is its total_cost.
void ExpectFeasible(const AssignmentProblem& p, const AssignmentSolution& s) {
  ASSERT_EQ(s.helpers_of_request.size(), static_cast<size_t>(p.num_requests()));
  ASSERT_EQ(s.unfilled.size(), static_cast<size_t>(p.num_requests()));
  const std::map<std::pair<int, int>, int64_t> cheapest = CheapestArcs(p);
  std::vector<int> load(p.num_volunteers(), 0);
  int64_t cost = 0;
  for (int r = 0; r < p.num_requests(); ++r) {
    const std::vector<int>& helpers = s.helpers_of_request[r];
    ASSERT_TRUE(std::is_sorted(helpers.begin(), helpers.end())) << "request " << r;
    ASSERT_EQ(std::adjacent_find(helpers.begin(), helpers.end()), helpers.end()) << "request " << r;
    ASSERT_EQ(s.unfilled[r], p.requests()[r].headcount - static_cast<int>(helpers.size()))
        << "request " << r;
    ASSERT_GE(s.unfilled[r], 0) << "request " << r;
    for (int v : helpers) {
      auto it = cheapest.find({r, v});
      ASSERT_NE(it, cheapest.end()) << "no arc " << r << " -> " << v;
      cost += it->second;
      ++load[v];
    }
    cost += p.requests()[r].unassigned_cost * s.unfilled[r];
  }
  for (int v = 0; v < p.num_volunteers(); ++v) {
    ASSERT_LE(load[v], p.volunteers()[v].capacity) << "volunteer " << v;
  }
  EXPECT_EQ(cost, s.total_cost);
}

struct Shape {
  std::string name;
  AssignmentProblem problem;
};

// R requests and V volunteers with k random candidates each.
Shape RandomSparse(std::mt19937_64& rng) {
  const int R = std::uniform_int_distribution<int>(1, 150)(rng);
  const int V = std::uniform_int_distribution<int>(1, 150)(rng);
  const int k = std::uniform_int_distribution<int>(1, 12)(rng);
  const int max_headcount = 1 + static_cast<int>(rng() % 3);
  const int max_capacity = 1 + static_cast<int>(rng() % 3);
  const int64_t max_cost = rng() % 2 ? 1000 : 20;  // Few distinct costs: many ties.
  const int64_t unassigned_choices[] = {0, 50, 500, 3000, kMaxAssignmentCost};
  const int64_t max_unassigned = unassigned_choices[rng() % 5];
  AssignmentProblem p;
  for (int r = 0; r < R; ++r) {
    p.AddRequest(1 + static_cast<int>(rng() % max_headcount),
                 max_unassigned == kMaxAssignmentCost
                     ? kMaxAssignmentCost
                     : static_cast<int64_t>(rng() % (max_unassigned + 1)));
  }
  for (int v = 0; v < V; ++v) p.AddVolunteer(1 + static_cast<int>(rng() % max_capacity));
  const bool shuffled = rng() % 2;
  std::vector<AssignmentProblem::Arc> arcs;
  for (int r = 0; r < R; ++r) {
    for (int i = 0; i < k; ++i) {
      arcs.push_back(
          {r, static_cast<int>(rng() % V), static_cast<int64_t>(rng() % (max_cost + 1))});
    }
  }
  if (shuffled) std::shuffle(arcs.begin(), arcs.end(), rng);
  for (const AssignmentProblem::Arc& a : arcs) p.AddArc(a.request, a.volunteer, a.cost);
  return {absl::StrCat("sparse R=", R, " V=", V, " k=", k, " headcount<=", max_headcount,
                       " capacity<=", max_capacity, " cost<=", max_cost,
                       " unassigned<=", max_unassigned, shuffled ? " shuffled" : ""),
          std::move(p)};
}

// Requests and volunteers uniform in a 2 km square; each request's k nearest volunteers
// at their distance in metres, as the batch cycle builds them.
Shape City(std::mt19937_64& rng) {
  const int R = std::uniform_int_distribution<int>(20, 200)(rng);
  const int V = std::uniform_int_distribution<int>(R / 2, 2 * R)(rng);
  const int k = std::uniform_int_distribution<int>(2, 16)(rng);
  const int64_t unassigned = std::uniform_int_distribution<int64_t>(100, 5000)(rng);
  std::uniform_real_distribution<double> coordinate(0, 2000);
  std::vector<std::pair<double, double>> volunteers(V);
  for (auto& [x, y] : volunteers) {
    x = coordinate(rng);
    y = coordinate(rng);
  }
  AssignmentProblem p;
  for (int v = 0; v < V; ++v) p.AddVolunteer(1);
  std::vector<std::pair<int64_t, int>> nearest(V);
  for (int r = 0; r < R; ++r) {
    p.AddRequest(1, unassigned);
    const double x = coordinate(rng);
    const double y = coordinate(rng);
    for (int v = 0; v < V; ++v) {
      nearest[v] = {std::llround(std::hypot(x - volunteers[v].first, y - volunteers[v].second)), v};
    }
    std::partial_sort(nearest.begin(), nearest.begin() + std::min(k, V), nearest.end());
    for (int i = 0; i < std::min(k, V); ++i) p.AddArc(r, nearest[i].second, nearest[i].first);
  }
  return {absl::StrCat("city R=", R, " V=", V, " k=", k, " unassigned=", unassigned), std::move(p)};
}

// Every request a candidate of every volunteer: enough volunteers for the solver's dense
// path, and enough requests that its first core leaves arcs out. Costs are distances on a
// city, or two tiers: a few volunteers cheap for everyone and the rest at random costs
// (then most requests' cheapest arcs all go to the few); sometimes headcount and
// capacity are above 1.
Shape Dense(std::mt19937_64& rng) {
  const int R = std::uniform_int_distribution<int>(70, 200)(rng);
  const int V = std::uniform_int_distribution<int>(280, 400)(rng);
  const bool multi = rng() % 2;
  const bool city = rng() % 2;
  const int64_t unassigned = rng() % 3 == 0 ? kMaxAssignmentCost : 1000 + rng() % 2000;
  AssignmentProblem p;
  for (int r = 0; r < R; ++r) p.AddRequest(multi ? 1 + static_cast<int>(rng() % 3) : 1, unassigned);
  for (int v = 0; v < V; ++v) p.AddVolunteer(multi ? 1 + static_cast<int>(rng() % 2) : 1);
  std::uniform_real_distribution<double> coordinate(0, 2000);
  std::vector<std::pair<double, double>> volunteers(V);
  for (auto& [x, y] : volunteers) {
    x = coordinate(rng);
    y = coordinate(rng);
  }
  const int cheap = std::uniform_int_distribution<int>(10, 70)(rng);
  for (int r = 0; r < R; ++r) {
    const double x = coordinate(rng);
    const double y = coordinate(rng);
    for (int v = 0; v < V; ++v) {
      p.AddArc(r, v,
               city ? std::llround(std::hypot(x - volunteers[v].first, y - volunteers[v].second))
               : v < cheap ? static_cast<int64_t>(rng() % 10)
                           : 1000 + static_cast<int64_t>(rng() % 500));
    }
  }
  return {absl::StrCat("dense ", city ? "city" : absl::StrCat("two tiers (", cheap, " cheap)"),
                       " R=", R, " V=", V, multi ? " headcount and capacity up to 3 and 2" : "",
                       " unassigned=", unassigned),
          std::move(p)};
}

AssignmentSolverOptions WithCore(int dense_core_arcs) {
  AssignmentSolverOptions options;
  options.dense_core_arcs = dense_core_arcs;
  return options;
}

void ExpectOptimal(const Shape& shape, uint64_t seed, AssignmentSolverOptions options = {}) {
  SCOPED_TRACE(
      absl::StrCat("seed ", seed, ": ", shape.name, ", dense_core_arcs ", options.dense_core_arcs));
  absl::StatusOr<AssignmentSolution> s = AssignmentSolver(options).Solve(shape.problem);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_cost, LemonOptimum(shape.problem));
  ExpectFeasible(shape.problem, *s);
}

TEST(AssignmentSolverLemonTest, SparseRandomInstances) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    std::mt19937_64 rng(seed);
    ExpectOptimal(RandomSparse(rng), seed);
    if (HasFailure()) return;
  }
}

TEST(AssignmentSolverLemonTest, CityInstances) {
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    std::mt19937_64 rng(1000 + seed);
    ExpectOptimal(City(rng), 1000 + seed);
    if (HasFailure()) return;
  }
}

TEST(AssignmentSolverLemonTest, DenseInstances) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(2000 + seed);
    ExpectOptimal(Dense(rng), 2000 + seed);
    if (HasFailure()) return;
  }
}

// Small cores make the dense path price arcs in over many rounds, each warm-started from
// the one before.
TEST(AssignmentSolverLemonTest, SmallCoresGiveTheSameOptimum) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(5000 + seed);
    const Shape shape = seed % 3 == 0 ? Dense(rng) : seed % 3 == 1 ? City(rng) : RandomSparse(rng);
    ExpectOptimal(shape, 5000 + seed, WithCore(1 + static_cast<int>(seed % 4)));
    if (HasFailure()) return;
  }
}

TEST(AssignmentSolverLemonTest, NothingToAssign) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(3000 + seed);
    Shape shape = RandomSparse(rng);
    // The same requests with no volunteers, and with volunteers but no arcs.
    AssignmentProblem no_volunteers;
    AssignmentProblem no_arcs;
    for (const AssignmentProblem::Request& r : shape.problem.requests()) {
      no_volunteers.AddRequest(r.headcount, r.unassigned_cost);
      no_arcs.AddRequest(r.headcount, r.unassigned_cost);
    }
    for (const AssignmentProblem::Volunteer& v : shape.problem.volunteers())
      no_arcs.AddVolunteer(v.capacity);
    ExpectOptimal({shape.name + " without volunteers", no_volunteers}, 3000 + seed);
    ExpectOptimal({shape.name + " without arcs", no_arcs}, 3000 + seed);
    // Unassigned costs 0: leaving everything unassigned is optimal.
    AssignmentProblem free_to_leave;
    for (const AssignmentProblem::Request& r : shape.problem.requests()) {
      free_to_leave.AddRequest(r.headcount, 0);
    }
    for (const AssignmentProblem::Volunteer& v : shape.problem.volunteers()) {
      free_to_leave.AddVolunteer(v.capacity);
    }
    for (const AssignmentProblem::Arc& a : shape.problem.arcs()) {
      free_to_leave.AddArc(a.request, a.volunteer, a.cost + 1);
    }
    ExpectOptimal({shape.name + " with unassigned cost 0", free_to_leave}, 3000 + seed);
    // No requests at all.
    AssignmentProblem no_requests;
    for (const AssignmentProblem::Volunteer& v : shape.problem.volunteers()) {
      no_requests.AddVolunteer(v.capacity);
    }
    ExpectOptimal({shape.name + " without requests", no_requests}, 3000 + seed);
    if (HasFailure()) return;
  }
}

// The problem with about `fraction` of the requests replaced by new ones (new arcs, new
// unassigned cost) and as many volunteers moved (their arcs' costs redrawn).
AssignmentProblem Churn(const AssignmentProblem& p, double fraction, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<char> new_request(p.num_requests());
  for (char& c : new_request) c = u(rng) < fraction;
  std::vector<char> moved(p.num_volunteers());
  for (char& c : moved) c = u(rng) < fraction;
  AssignmentProblem q;
  for (int r = 0; r < p.num_requests(); ++r) {
    const AssignmentProblem::Request& old = p.requests()[r];
    q.AddRequest(old.headcount,
                 new_request[r] ? static_cast<int64_t>(rng() % 3000) : old.unassigned_cost);
  }
  for (const AssignmentProblem::Volunteer& v : p.volunteers()) q.AddVolunteer(v.capacity);
  for (const AssignmentProblem::Arc& a : p.arcs()) {
    if (new_request[a.request]) {
      q.AddArc(a.request, static_cast<int>(rng() % p.num_volunteers()),
               static_cast<int64_t>(rng() % 1001));
    } else {
      q.AddArc(a.request, a.volunteer,
               moved[a.volunteer] ? static_cast<int64_t>(rng() % 1001) : a.cost);
    }
  }
  return q;
}

TEST(AssignmentSolverLemonTest, WarmStartAfterChurn) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    // Every fourth with a small core, so that the warm start meets the pricing rounds.
    AssignmentSolver solver(
        WithCore(seed % 4 == 0 ? 2 : AssignmentSolverOptions().dense_core_arcs));
    std::mt19937_64 rng(4000 + seed);
    Shape shape = seed % 3 == 0 ? Dense(rng) : seed % 3 == 1 ? City(rng) : RandomSparse(rng);
    const double fraction = seed % 2 ? 0.05 : 0.3;
    SCOPED_TRACE(absl::StrCat("seed ", 4000 + seed, ": ", shape.name, ", churn ", fraction));
    absl::StatusOr<AssignmentSolution> before = solver.Solve(shape.problem);
    ASSERT_TRUE(before.ok()) << before.status();
    const AssignmentProblem after = Churn(shape.problem, fraction, rng);
    absl::StatusOr<AssignmentSolution> warm = solver.Solve(after, &*before);
    ASSERT_TRUE(warm.ok()) << warm.status();
    EXPECT_EQ(warm->total_cost, LemonOptimum(after));
    ExpectFeasible(after, *warm);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace yiyuan
