#include "engine/assignment_solver.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace yiyuan {

int AssignmentProblem::AddRequest(int headcount, int64_t unassigned_cost) {
  requests_.push_back(Request{headcount, unassigned_cost});
  return static_cast<int>(requests_.size()) - 1;
}

int AssignmentProblem::AddVolunteer(int capacity) {
  volunteers_.push_back(Volunteer{capacity});
  return static_cast<int>(volunteers_.size()) - 1;
}

void AssignmentProblem::AddArc(int request, int volunteer, int64_t cost) {
  arcs_.push_back(Arc{request, volunteer, cost});
}

namespace {

constexpr int64_t kInf = std::numeric_limits<int64_t>::max();

// The problem's arcs ordered by request, then volunteer (duplicate pairs side by side),
// without a copy when the caller added them in that order, as callers usually do.
class SortedArcs {
 public:
  explicit SortedArcs(const AssignmentProblem& problem) {
    const std::vector<AssignmentProblem::Arc>& in = problem.arcs();
    const int R = problem.num_requests();
    const int V = problem.num_volunteers();
    // Without duplicate pairs (as callers usually add them), ForEachPair need not look
    // for them: half the work of a pass over a dense instance's arcs.
    bool sorted = true;
    distinct_ = true;
    for (size_t i = 1; i < in.size(); ++i) {
      const AssignmentProblem::Arc& p = in[i - 1];
      const AssignmentProblem::Arc& q = in[i];
      if (p.request < q.request || (p.request == q.request && p.volunteer < q.volunteer)) continue;
      if (p.request == q.request && p.volunteer == q.volunteer) {
        distinct_ = false;
        continue;
      }
      sorted = false;
      break;
    }
    if (sorted) {
      arcs_ = in.data();
    } else {
      // Two stable counting sorts, by volunteer and then by request: linear time.
      std::vector<int> start(V + 1, 0);
      for (const AssignmentProblem::Arc& a : in) ++start[a.volunteer + 1];
      for (int v = 0; v < V; ++v) start[v + 1] += start[v];
      std::vector<AssignmentProblem::Arc> by_volunteer(in.size());
      for (const AssignmentProblem::Arc& a : in) by_volunteer[start[a.volunteer]++] = a;
      start.assign(R + 1, 0);
      for (const AssignmentProblem::Arc& a : in) ++start[a.request + 1];
      for (int r = 0; r < R; ++r) start[r + 1] += start[r];
      copy_.resize(in.size());
      for (const AssignmentProblem::Arc& a : by_volunteer) copy_[start[a.request]++] = a;
      arcs_ = copy_.data();
    }
    begin_.assign(R + 1, 0);
    for (const AssignmentProblem::Arc& a : in) ++begin_[a.request + 1];
    for (int r = 0; r < R; ++r) begin_[r + 1] += begin_[r];
    for (size_t i = 1; !sorted && i < in.size() && distinct_; ++i) {  // The copy, sorted.
      distinct_ =
          arcs_[i - 1].request != arcs_[i].request || arcs_[i - 1].volunteer != arcs_[i].volunteer;
    }
  }

  int size() const { return begin_.back(); }

  // Calls f(index, volunteer, cost) once per volunteer of request r, ascending, with the
  // cheapest cost of that pair; index is the pair's first arc here.
  template <typename F>
  void ForEachPair(int r, F f) const {
    const int end = begin_[r + 1];
    if (distinct_) {
      for (int i = begin_[r]; i < end; ++i) f(i, arcs_[i].volunteer, arcs_[i].cost);
      return;
    }
    for (int i = begin_[r]; i < end;) {
      const int v = arcs_[i].volunteer;
      int64_t cost = arcs_[i].cost;
      int j = i + 1;
      for (; j < end && arcs_[j].volunteer == v; ++j) cost = std::min(cost, arcs_[j].cost);
      f(i, v, cost);
      i = j;
    }
  }

 private:
  const AssignmentProblem::Arc* arcs_ = nullptr;
  bool distinct_ = false;  // No (request, volunteer) pair twice.
  std::vector<AssignmentProblem::Arc> copy_;
  std::vector<int> begin_;  // Request r's arcs are [begin_[r], begin_[r + 1]).
};

// Candidate arcs grouped by request, volunteers ascending within a request, one arc per
// (request, volunteer) pair: the cheapest.
struct ArcTable {
  std::vector<int> begin;  // Request r's arcs are [begin[r], begin[r + 1]).
  std::vector<int> volunteer;
  std::vector<int64_t> cost;

  int size() const { return static_cast<int>(cost.size()); }
};

// The pairs of `arcs` whose index `keep` marks (every pair when `keep` is null).
ArcTable BuildArcTable(int num_requests, const SortedArcs& arcs, const std::vector<char>* keep) {
  ArcTable t;
  t.begin.assign(num_requests + 1, 0);
  if (keep == nullptr) {
    t.volunteer.reserve(arcs.size());
    t.cost.reserve(arcs.size());
  }
  for (int r = 0; r < num_requests; ++r) {
    arcs.ForEachPair(r, [&](int i, int v, int64_t cost) {
      if (keep != nullptr && !(*keep)[i]) return;
      t.volunteer.push_back(v);
      t.cost.push_back(cost);
    });
    t.begin[r + 1] = t.size();
  }
  return t;
}

// Why this algorithm: the instance is a min-cost flow
//   source -> request r (capacity headcount) -> volunteer v (capacity 1 per arc)
//          -> sink (capacity v's capacity),
// plus an "unassigned" arc request -> sink (capacity headcount, cost unassigned_cost).
// Because of the unassigned arcs every request can always send its whole headcount, so
// the optimum saturates every source arc and the source can be dropped: each request is
// a supply of `headcount` units. Successive shortest paths then solve it exactly, one
// request unit at a time: add one unit of supply at r, augment along a shortest r -> sink
// path in the residual graph. This handles b-matching (headcount, capacity) and the
// "leave unassigned" option natively, where a Hungarian/JV solver would need node
// duplication and dummy columns. Dijkstra runs on reduced costs c + pi(u) - pi(w) >= 0
// (Johnson potentials), which double as the dual certificate and as the warm start.
//
// Each search stops as soon as the sink is settled, at distance D. Settled nodes x then
// get pi(x) += d(x) - D and the rest keep theirs; for any residual arc (x, y) this keeps
// the reduced cost non-negative (min(d(y), D) <= min(d(x), D) + reduced cost), leaves the
// sink's potential at 0, and makes the augmenting path tight. On k-nearest candidate
// graphs a search usually settles a small neighbourhood of the request, so the cost of a
// solve grows with the local congestion, not with the instance size.
//
// What measurement (bench/solver_compare, bench/RESULTS.md) decided:
//  - An auction phase first (AugmentingRowReduction) places ~90% of the requests of a
//    10k x 10k k-nearest city instance with a few arc scans each, and leaves the shortest
//    paths only the contested ones: searches fell from 10k to ~1.2k.
//  - The searches use a 4-ary heap with decrease-key, a node's potential and labels in one
//    cache line, and per-volunteer lists of the arcs in use (a settled volunteer costs its
//    load, not its degree): together ~2x fewer cycles per settled node.
//  - What is left is inherent to augmenting paths where requests and volunteers are about
//    equally many: the last requests reach the few free volunteers only over long
//    alternating paths, and ~1k searches settle ~1M nodes. That is where LEMON's network
//    simplex is as fast or faster. Tried and dropped: an epsilon-scaling auction on the
//    symmetric expansion (exact, but 7M bids and ~2x slower here), evictions at ties as in
//    JV (they cycle), a FIFO bidding order and interleaving the searches with the bids
//    (no gain or worse). LEMON's own cost scaling is ~4x slower than its network simplex
//    on these instances.
//  - Cost scaling was tried in full and dropped: push-relabel with epsilon-scaling in
//    the manner of Goldberg and Kennedy's CSA (costs times nodes + 1, so that epsilon = 1
//    is exact; alpha 8 to 64; the unassigned option as an arc to the sink; a relabel to
//    the second-best option and a push to the best, CSA's double push; global price
//    updates by a bucket search from the deficits every 0.05n to 2n relabels; exact
//    integer potentials recovered from the 1-optimal scaled ones by one label-correcting
//    pass). On kNN16 n = 10k it took 270-310 ms cold against 180-200 ms here: 8 phases,
//    ~80 global updates taking over half the time, and the one sink, whose price every
//    request and volunteer shares, takes flow back and relabels each time a request
//    chooses "unassigned" while a volunteer is short of a helper. From the previous
//    cycle's prices at epsilon = 4 (scaled) it took 185-230 ms after 5% churn, about a
//    cold solve here; from the auction's partial flow at epsilon = 1, 188 ms; on 50k, warm,
//    3.9 s against 3.0 s cold here; on the 1k x 5k batch-cycle shape 8.7 ms against 1.1.
//  - Warm starts after churn where requests and volunteers are about equally many: 5% of
//    the requests and volunteers moved leave only half of the optimal assignments of a
//    kNN16 n = 10k instance unchanged (5037 of ~9870), so a warm start can keep at most
//    half, and placing the rest takes paths as long as the end of a cold solve. Neither
//    method came near 5x there.
//  - When volunteers outnumber requests (the batch cycle: 1k x 5k), the auction phase
//    does nearly everything and a solve takes well under a millisecond.
class FlowSolver {
 public:
  FlowSolver(const AssignmentProblem& problem, ArcTable arcs)
      : num_requests_(problem.num_requests()),
        num_volunteers_(problem.num_volunteers()),
        request_begin_(std::move(arcs.begin)),
        arc_volunteer_(std::move(arcs.volunteer)),
        arc_cost_(std::move(arcs.cost)) {
    const int R = num_requests_;
    const int V = num_volunteers_;
    headcount_.resize(R);
    unassigned_cost_.resize(R);
    for (int r = 0; r < R; ++r) {
      headcount_[r] = problem.requests()[r].headcount;
      unassigned_cost_[r] = problem.requests()[r].unassigned_cost;
    }
    capacity_.resize(V);
    for (int v = 0; v < V; ++v) capacity_[v] = problem.volunteers()[v].capacity;

    const int num_arcs = static_cast<int>(arc_cost_.size());
    arc_request_.resize(num_arcs);
    for (int r = 0; r < R; ++r) {
      std::fill(arc_request_.begin() + request_begin_[r],
                arc_request_.begin() + request_begin_[r + 1], r);
    }
    arc_used_.assign(num_arcs, 0);
    arc_holder_pos_.assign(num_arcs, -1);
    // Room for every arc of a volunteer in its list of arcs in use: no list overflows,
    // even halfway through moving a path.
    holder_begin_.assign(V + 1, 0);
    for (int a = 0; a < num_arcs; ++a) ++holder_begin_[arc_volunteer_[a] + 1];
    for (int v = 0; v < V; ++v) holder_begin_[v + 1] += holder_begin_[v];
    holder_.assign(num_arcs, Holder{});
    held_.assign(V, 0);

    load_.assign(V, 0);
    helpers_.assign(R, 0);
    unfilled_flow_.assign(R, 0);
    supply_.assign(R, 0);
    const int n = R + V + 1;
    node_.assign(n, Node{});
  }

  // Adopts what can be kept of `warm`: its helpers whose arcs still exist (within the new
  // headcounts and capacities), its unfilled counts, and its potentials, then repairs them
  // into a certified optimal partial flow (Repair). Returns false, leaving the cold start,
  // when the result cannot be certified (potentials from elsewhere, say). With
  // `keep_short`, volunteers with a price that lose a helper stay loaded (FitRequest).
  bool WarmStart(const AssignmentSolution& warm, bool keep_short, int* kept_helpers) {
    keep_short_ = keep_short;
    if (static_cast<int>(warm.helpers_of_request.size()) != num_requests_ ||
        static_cast<int>(warm.unfilled.size()) != num_requests_ ||
        static_cast<int>(warm.request_potentials.size()) != num_requests_ ||
        static_cast<int>(warm.volunteer_potentials.size()) != num_volunteers_) {
      return false;
    }
    LoadWarm(warm);
    if (!Repair() || !AllCertified()) {
      ResetCold();
      return false;
    }
    *kept_helpers = 0;
    for (int r = 0; r < num_requests_; ++r) *kept_helpers += helpers_[r];
    return true;
  }

  // Bids in the manner of an auction (Jonker and Volgenant's augmenting row reduction):
  // a request with headcount 1 and no helper takes the option with the least reduced
  // cost, raising that volunteer's price by the gap to its second-best option and
  // displacing the volunteer's previous (single) helper, who bids again. Every step keeps
  // all residual reduced costs non-negative, so what it leaves is a partial flow that is
  // optimal for its supplies, and the shortest paths continue from it. Requests that do
  // not fit the simple case, and bids that would not raise a price (two requests could
  // trade a volunteer back and forth for ever), are left to the shortest paths.
  void AugmentingRowReduction(int64_t budget) {
    // Every unit placed here ends at the sink; while a volunteer is short (FitRequest) the
    // sink must take no more than it has, so the shortest paths do all.
    if (short_volunteers_ > 0) return;
    const int R = num_requests_;
    std::vector<int> queue;
    for (int r = R - 1; r >= 0; --r) {
      if (headcount_[r] == 1 && supply_[r] == 0) queue.push_back(r);
    }
    while (!queue.empty() && budget-- > 0) {
      const int r = queue.back();
      queue.pop_back();
      // Best and second-best options by reduced cost, leaving out r's own potential; at
      // equal cost a volunteer with room beats a full one and the unassigned option (-1).
      int64_t u1 = unassigned_cost_[r];
      int64_t u2 = kInf;
      int a1 = -1;
      bool room1 = true;
      for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
        const int v = arc_volunteer_[a];
        const int64_t u = arc_cost_[a] - node_[R + v].potential;
        if (u > u2) continue;
        const bool room = load_[v] < capacity_[v];
        if (u < u1 || (u == u1 && room && (!room1 || a1 < 0))) {
          u2 = u1;
          u1 = u;
          a1 = a;
          room1 = room;
        } else if (u < u2) {
          u2 = u;
        }
      }
      if (a1 < 0) {  // Unassigned is strictly best, or as good as any volunteer with room.
        node_[r].potential = -u1;
        unfilled_flow_[r] = 1;
        supply_[r] = 1;
        continue;
      }
      const int v = arc_volunteer_[a1];
      int64_t& pi_v = node_[R + v].potential;
      const int64_t raise = u2 - u1;  // u2 is finite: the unassigned option is one.
      if (load_[v] < capacity_[v]) {
        // A volunteer with room has potential >= 0; one in use has potential <= 0. Only a
        // volunteer of capacity 1 that this bid fills may take a price.
        if (capacity_[v] == 1 && pi_v - raise <= 0) {
          pi_v -= raise;
          node_[r].potential = -u2;
        } else if (pi_v == 0) {
          node_[r].potential = -u1;
        } else {
          continue;
        }
        ++load_[v];
      } else {
        if (capacity_[v] != 1 || raise == 0) continue;
        const int old = holder_[holder_begin_[v]].arc;
        const int r_old = arc_request_[old];
        if (headcount_[r_old] != 1) continue;  // After a warm start it may be any request.
        FreeArc(old);
        helpers_[r_old] = 0;
        supply_[r_old] = 0;
        queue.push_back(r_old);
        pi_v -= raise;
        node_[r].potential = pi_v - arc_cost_[a1];
      }
      UseArc(a1);
      helpers_[r] = 1;
      supply_[r] = 1;
    }
  }

  void Run(AssignmentSolution::Stats* stats) {
    for (int r = 0; r < num_requests_; ++r) {
      while (supply_[r] < headcount_[r]) Augment(r, stats);
    }
  }

  void Fill(AssignmentSolution* out) const {
    const int R = num_requests_;
    out->helpers_of_request.assign(R, {});
    out->unfilled.assign(R, 0);
    out->request_potentials.resize(R);
    for (int r = 0; r < R; ++r) out->request_potentials[r] = node_[r].potential;
    out->volunteer_potentials.resize(num_volunteers_);
    for (int v = 0; v < num_volunteers_; ++v) out->volunteer_potentials[v] = node_[R + v].potential;
    int64_t total = 0;
    for (int r = 0; r < R; ++r) {
      for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
        if (!arc_used_[a]) continue;
        out->helpers_of_request[r].push_back(arc_volunteer_[a]);
        total += arc_cost_[a];
      }
      out->unfilled[r] = headcount_[r] - static_cast<int>(out->helpers_of_request[r].size());
      total += unassigned_cost_[r] * out->unfilled[r];
    }
    out->total_cost = total;
  }

  // |potential| stays far below this for validated problems (see ValidateProblem).
  static constexpr int64_t kPotentialBound = int64_t{1} << 59;

 private:
  static constexpr int kNotInHeap = -1;
  static constexpr int kSettled = -2;

  int sink() const { return num_requests_ + num_volunteers_; }

  int FindArc(int r, int v) const {
    const auto begin = arc_volunteer_.begin() + request_begin_[r];
    const auto end = arc_volunteer_.begin() + request_begin_[r + 1];
    const auto it = std::lower_bound(begin, end, v);
    return it != end && *it == v ? static_cast<int>(it - arc_volunteer_.begin()) : -1;
  }

  // Marks arc a used or unused and keeps its volunteer's list of arcs in use.
  void UseArc(int a) {
    const int v = arc_volunteer_[a];
    const int pos = holder_begin_[v] + held_[v]++;
    holder_[pos] = Holder{arc_request_[a], a, arc_cost_[a]};
    arc_holder_pos_[a] = pos;
    arc_used_[a] = 1;
  }
  void FreeArc(int a) {
    const int v = arc_volunteer_[a];
    const int last = holder_begin_[v] + --held_[v];
    const int pos = arc_holder_pos_[a];
    holder_[pos] = holder_[last];
    arc_holder_pos_[holder_[pos].arc] = pos;
    arc_holder_pos_[a] = -1;
    arc_used_[a] = 0;
  }

  void LoadWarm(const AssignmentSolution& warm) {
    const int R = num_requests_;
    const int V = num_volunteers_;
    // Potentials from elsewhere are clamped so that later arithmetic cannot overflow;
    // clamping only risks failing the certificate, never a wrong answer.
    const int64_t bound = kPotentialBound;
    for (int r = 0; r < R; ++r) {
      node_[r].potential = std::clamp<int64_t>(warm.request_potentials[r], -bound, bound);
    }
    for (int v = 0; v < V; ++v) {
      node_[R + v].potential = std::clamp<int64_t>(warm.volunteer_potentials[v], -bound, bound);
    }
    for (int r = 0; r < R; ++r) {
      for (int v : warm.helpers_of_request[r]) {
        if (v < 0 || v >= V || helpers_[r] >= headcount_[r] || load_[v] >= capacity_[v]) continue;
        const int a = FindArc(r, v);
        if (a < 0 || arc_used_[a]) continue;
        UseArc(a);
        ++load_[v];
        ++helpers_[r];
      }
      unfilled_flow_[r] = std::clamp(warm.unfilled[r], 0, headcount_[r] - helpers_[r]);
      supply_[r] = helpers_[r] + unfilled_flow_[r];
    }
  }

  // Makes the loaded flow and potentials satisfy the optimality conditions, changing
  // little where little changed. Three steps, each keeping what the one before fixed:
  //  1. A volunteer in use may not have a positive potential: it is lowered to 0.
  //  2. Each request gets a potential that suits all its arcs, if there is one; if not,
  //     the helpers (and unfilled units) that stand in the way are dropped, to be
  //     re-augmented later.
  //  3. A volunteer with room may not have a negative potential (a price). Each such
  //     volunteer is repaired by a shortest-path search backwards from it, over the
  //     residual arcs into it, bounded by its price (RepairPrice): either the search
  //     reaches the sink first, which closes a negative cycle through the volunteer's
  //     arc to the sink, and one unit moves round it, or the region searched has its
  //     potentials raised, the volunteer's to 0. Either way every other arc stays
  //     certified, so the searches are local.
  // False when the work exceeds a budget: the caller then solves cold, so a warm start
  // costs at most about 20 passes over the arcs more than a cold solve. Measured: where
  // requests and volunteers are about equally many, volunteers' prices are high and
  // step 3's searches (and the re-augmentation of what step 2 dropped) are as long as the
  // end of a cold solve, so after 5% churn a warm start is about as fast as a cold one;
  // the global label-correcting pass this replaced was 1.5x slower than cold.
  bool Repair() {
    const int R = num_requests_;
    const int V = num_volunteers_;
    const int num_arcs = static_cast<int>(arc_cost_.size());
    for (int v = 0; v < V; ++v) {
      if (load_[v] > 0 && node_[R + v].potential > 0) node_[R + v].potential = 0;
    }
    for (int r = 0; r < R; ++r) FitRequest(r);
    std::vector<int> priced;  // Volunteers with room and a price.
    for (int v = 0; v < V; ++v) {
      if (load_[v] < capacity_[v] && node_[R + v].potential < 0) priced.push_back(v);
    }
    if (priced.empty()) return true;
    // Every arc of each volunteer, in use or not: the arcs into it.
    volunteer_begin_.assign(V + 1, 0);
    for (int a = 0; a < num_arcs; ++a) ++volunteer_begin_[arc_volunteer_[a] + 1];
    for (int v = 0; v < V; ++v) volunteer_begin_[v + 1] += volunteer_begin_[v];
    volunteer_arcs_.resize(num_arcs);
    std::vector<int> next(volunteer_begin_.begin(), volunteer_begin_.end() - 1);
    for (int a = 0; a < num_arcs; ++a) volunteer_arcs_[next[arc_volunteer_[a]]++] = a;
    int64_t budget = 20 * (int64_t{R} + V + num_arcs) + 1000;
    for (int v : priced) {
      while (load_[v] < capacity_[v] && node_[R + v].potential < 0) {
        if (!RepairPrice(v, &budget)) return false;
      }
    }
    return true;
  }

  // Step 2 of Repair for request r. Its potential must be at least pi(v) - cost for each
  // arc not in use (and -unassigned_cost while it has unassigned room) and at most that
  // for each arc in use (and -unassigned_cost while it has unfilled units).
  //
  // With keep_short_, a volunteer with a price that loses a helper here keeps its load and
  // is one short (held_ < load_): freed, it would have room and a price, which step 3
  // repairs with a search per volunteer (on dense instances each nearly as long as a cold
  // solve). Short, it is a deficit that the shortest paths fill (Augment), and every
  // residual arc keeps its non-negative reduced cost meanwhile.
  void FitRequest(int r) {
    const int R = num_requests_;
    constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
    int64_t lower = unfilled_flow_[r] < headcount_[r] ? -unassigned_cost_[r] : kNone;
    int64_t upper = unfilled_flow_[r] > 0 ? -unassigned_cost_[r] : kInf;
    for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
      const int64_t bound = node_[R + arc_volunteer_[a]].potential - arc_cost_[a];
      if (arc_used_[a]) {
        upper = std::min(upper, bound);
      } else {
        lower = std::max(lower, bound);
      }
    }
    int64_t& pi = node_[r].potential;
    if (lower <= upper) {
      pi = std::clamp(pi, lower, upper);
      return;
    }
    for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
      const int v = arc_volunteer_[a];
      if (!arc_used_[a] || node_[R + v].potential - arc_cost_[a] >= lower) continue;
      FreeArc(a);
      --helpers_[r];
      --supply_[r];
      if (keep_short_ && node_[R + v].potential < 0) {
        ++short_volunteers_;  // Stays loaded, one short: see below.
      } else {
        --load_[v];
      }
    }
    if (unfilled_flow_[r] > 0 && -unassigned_cost_[r] < lower) {
      supply_[r] -= unfilled_flow_[r];
      unfilled_flow_[r] = 0;
    }
    pi = std::max(lower, -unassigned_cost_[r]);
  }

  // One search of step 3 of Repair for volunteer v (with room and a negative potential):
  // see Repair. The cycle, if there is one, starts at the sink with a tight arc, so no
  // other volunteer is left with room and a price. False when `budget` runs out.
  bool RepairPrice(int v, int64_t* budget) {
    const int R = num_requests_;
    const int source = R + v;
    const int64_t bound = -node_[source].potential;
    heap_.clear();
    touched_.clear();
    settled_.clear();
    // Backwards: a node's dist is the reduced length of its path to the volunteer, its
    // pred_node the next node on that path.
    int64_t reach = kInf;  // Of the sink.
    int sink_next = -1;
    Relax(source, 0, -1, -1);
    while (!heap_.empty() && heap_[0].key < std::min(reach, bound)) {
      const int x = PopMin();
      settled_.push_back(x);
      const int64_t d = node_[x].dist;
      const int64_t pi_x = node_[x].potential;
      if (x >= R) {  // Arcs into volunteer u: from requests not using it, and from the sink.
        const int u = x - R;
        *budget -= volunteer_begin_[u + 1] - volunteer_begin_[u];
        for (int i = volunteer_begin_[u]; i < volunteer_begin_[u + 1]; ++i) {
          const int a = volunteer_arcs_[i];
          if (arc_used_[a]) continue;
          const int y = arc_request_[a];
          Relax(y, d + arc_cost_[a] + node_[y].potential - pi_x, x, a);
        }
        if (load_[u] > 0 && d - pi_x < reach) {
          reach = d - pi_x;
          sink_next = x;
        }
      } else {  // Arcs into request r: from the volunteers helping it, and from the sink.
        const int r = x;
        *budget -= request_begin_[r + 1] - request_begin_[r];
        for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
          if (!arc_used_[a]) continue;
          const int y = R + arc_volunteer_[a];
          Relax(y, d - arc_cost_[a] + node_[y].potential - pi_x, x, a);
        }
        if (unfilled_flow_[r] > 0 && d - unassigned_cost_[r] - pi_x < reach) {
          reach = d - unassigned_cost_[r] - pi_x;
          sink_next = x;
        }
      }
    }
    const int64_t level = std::min(reach, bound);
    for (int x : settled_) node_[x].potential += level - node_[x].dist;
    if (reach < bound) {
      // A negative cycle: sink -> sink_next -> ... -> v -> sink. Move one unit round it.
      if (sink_next >= R) {
        --load_[sink_next - R];  // Its potential is now 0: no price to repair.
      } else {
        --unfilled_flow_[sink_next];
      }
      for (int x = sink_next; x != source;) {
        const int a = node_[x].pred_arc;
        if (x < R) {  // Request x takes the volunteer next on the path.
          UseArc(a);
          ++helpers_[x];
        } else {  // Volunteer x gives up the request next on the path.
          FreeArc(a);
          --helpers_[arc_request_[a]];
        }
        x = node_[x].pred_node;
      }
      ++load_[v];
    }
    for (int y : touched_) {
      node_[y].dist = kInf;
      node_[y].heap_pos = kNotInHeap;
    }
    return *budget >= 0;
  }

  // The optimality conditions on every residual arc leaving or entering request r (with
  // the sink's potential 0).
  bool RequestCertified(int r) const {
    for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
      const int64_t reduced =
          arc_cost_[a] + node_[r].potential - node_[num_requests_ + arc_volunteer_[a]].potential;
      if (arc_used_[a] ? reduced > 0 : reduced < 0) return false;
    }
    const int64_t reduced = unassigned_cost_[r] + node_[r].potential;
    if (unfilled_flow_[r] > 0 && reduced > 0) return false;
    if (unfilled_flow_[r] < headcount_[r] && reduced < 0) return false;
    return true;
  }

  bool AllCertified() const {
    for (const Node& node : node_) {
      if (node.potential < -kPotentialBound || node.potential > kPotentialBound) return false;
    }
    if (node_[sink()].potential != 0) return false;
    for (int v = 0; v < num_volunteers_; ++v) {
      const int64_t pi = node_[num_requests_ + v].potential;
      if (load_[v] < capacity_[v] && pi < 0) return false;
      if (load_[v] > 0 && pi > 0) return false;
      if (load_[v] > capacity_[v] || held_[v] > load_[v]) return false;
    }
    for (int r = 0; r < num_requests_; ++r) {
      if (supply_[r] != helpers_[r] + unfilled_flow_[r] || supply_[r] > headcount_[r]) {
        return false;
      }
      if (!RequestCertified(r)) return false;
    }
    return true;
  }

  void ResetCold() {
    for (int a = 0; a < static_cast<int>(arc_used_.size()); ++a) {
      if (arc_used_[a]) FreeArc(a);
    }
    std::fill(load_.begin(), load_.end(), 0);
    short_volunteers_ = 0;
    std::fill(helpers_.begin(), helpers_.end(), 0);
    std::fill(unfilled_flow_.begin(), unfilled_flow_.end(), 0);
    std::fill(supply_.begin(), supply_.end(), 0);
    for (Node& node : node_) node.potential = 0;
  }

  // A 4-ary min-heap of nodes keyed by their distance, with decrease-key.
  void SiftUp(int i) {
    const HeapEntry e = heap_[i];
    while (i > 0) {
      const int parent = (i - 1) >> 2;
      if (heap_[parent].key <= e.key) break;
      heap_[i] = heap_[parent];
      node_[heap_[i].node].heap_pos = i;
      i = parent;
    }
    heap_[i] = e;
    node_[e.node].heap_pos = i;
  }
  void SiftDown(int i) {
    const HeapEntry e = heap_[i];
    const int size = static_cast<int>(heap_.size());
    while (true) {
      const int first = 4 * i + 1;
      if (first >= size) break;
      int best = first;
      const int end = std::min(first + 4, size);
      for (int c = first + 1; c < end; ++c) {
        if (heap_[c].key < heap_[best].key) best = c;
      }
      if (heap_[best].key >= e.key) break;
      heap_[i] = heap_[best];
      node_[heap_[i].node].heap_pos = i;
      i = best;
    }
    heap_[i] = e;
    node_[e.node].heap_pos = i;
  }
  int PopMin() {
    const int top = heap_[0].node;
    const HeapEntry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
      heap_[0] = last;
      SiftDown(0);
    }
    node_[top].heap_pos = kSettled;
    return top;
  }

  // Lowers the tentative distance of y to d, if that is lower, reached from `from` over
  // `arc`.
  void Relax(int y, int64_t d, int from, int arc) {
    if (d >= node_[y].dist) return;
    const int pos = node_[y].heap_pos;
    if (pos == kSettled) return;  // Only when d == node_[y].dist; kept for safety.
    node_[y].dist = d;
    node_[y].pred_node = from;
    node_[y].pred_arc = arc;
    if (pos == kNotInHeap) {
      touched_.push_back(y);
      heap_.push_back({d, y});
      SiftUp(static_cast<int>(heap_.size()) - 1);
    } else {
      heap_[pos].key = d;
      SiftUp(pos);
    }
  }

  // One shortest path from request `source` to a deficit, then one augmentation along it.
  // The deficits are the sink while no volunteer is short (see FitRequest), else the
  // volunteers that are: reached over an arc from a request (a new helper), or through the
  // sink (it gives back one of the volunteer's units).
  void Augment(int source, AssignmentSolution::Stats* stats) {
    const int R = num_requests_;
    const int S = sink();
    const bool sink_is_target = short_volunteers_ == 0;
    heap_.clear();
    touched_.clear();
    settled_.clear();
    // When it is the target, the sink is not kept in the heap: the search ends when
    // nothing left in the heap is nearer than the best way found into it.
    int64_t reach = kInf;
    int sink_pred = -1;  // Last node before the sink, when the sink is the target.
    int target = -1;     // The short volunteer reached, otherwise.
    auto into_sink = [&](int64_t d, int from, int kind) {
      if (sink_is_target) {
        if (d < reach) {
          reach = d;
          sink_pred = from;
        }
      } else {
        Relax(S, d, from, kind);
      }
    };
    Relax(source, 0, -1, -1);
    while (!heap_.empty() && heap_[0].key < reach) {
      const int x = PopMin();
      settled_.push_back(x);
      const int64_t d = node_[x].dist;
      const int64_t pi_x = node_[x].potential;
      if (x < R) {
        for (int a = request_begin_[x]; a < request_begin_[x + 1]; ++a) {
          if (arc_used_[a]) continue;
          const int y = R + arc_volunteer_[a];
          Relax(y, d + arc_cost_[a] + pi_x - node_[y].potential, x, a);
        }
        if (unfilled_flow_[x] < headcount_[x]) into_sink(d + unassigned_cost_[x] + pi_x, x, -1);
      } else if (x < S) {
        const int v = x - R;
        if (held_[v] < load_[v]) {  // A short volunteer: the target (never the sink's case).
          reach = d;
          target = x;
          break;
        }
        for (int i = holder_begin_[v]; i < holder_begin_[v] + held_[v]; ++i) {
          const Holder& h = holder_[i];
          Relax(h.request, d - h.cost + pi_x - node_[h.request].potential, x, h.arc);
        }
        if (load_[v] < capacity_[v]) into_sink(d + pi_x, x, -1);
      } else {  // The sink, on the way to a short volunteer: it gives back units.
        for (int v = 0; v < num_volunteers_; ++v) {
          if (load_[v] > 0) Relax(R + v, d + pi_x - node_[R + v].potential, S, -1);
        }
        for (int r = 0; r < R; ++r) {
          if (unfilled_flow_[r] > 0) {
            Relax(r, d - unassigned_cost_[r] + pi_x - node_[r].potential, S, -1);
          }
        }
      }
    }
    // The source's own unassigned arc always has room, and a short volunteer can always
    // be reached through the sink, so the search ends at a target.
    bool sink_settled = false;
    for (int x : settled_) {
      node_[x].potential += node_[x].dist - reach;
      sink_settled |= x == S;
    }
    if (sink_settled) {  // Back to the sink's potential being 0.
      const int64_t shift = node_[S].potential;
      for (Node& node : node_) node.potential -= shift;
    }

    // Bottleneck: only the unassigned arc and the volunteer-to-sink arc can carry more
    // than one unit, so more than one unit moves only along source -> sink directly.
    int delta = 1;
    int x = target;
    if (sink_is_target) {
      if (sink_pred == source) {
        delta = std::min(headcount_[source] - supply_[source],
                         headcount_[source] - unfilled_flow_[source]);
        unfilled_flow_[source] += delta;
      } else if (sink_pred < R) {
        ++unfilled_flow_[sink_pred];
      } else {
        ++load_[sink_pred - R];
      }
      x = sink_pred;
    } else {
      --short_volunteers_;
    }
    // Backwards from the end, so that a volunteer on the path gives up its old helper
    // before taking the new one.
    while (x != source) {
      const int pred = node_[x].pred_node;
      const int a = node_[x].pred_arc;
      if (x == S) {  // Into the sink from pred.
        if (pred < R) {
          ++unfilled_flow_[pred];
        } else {
          ++load_[pred - R];
        }
      } else if (pred == S) {  // Out of the sink: x takes back a unit.
        if (x < R) {
          --unfilled_flow_[x];
        } else {
          --load_[x - R];
        }
      } else if (x >= R) {  // Reached over a forward arc: a new helper.
        UseArc(a);
        ++helpers_[arc_request_[a]];
      } else {  // Reached over a reverse arc: that helper moves on.
        FreeArc(a);
        --helpers_[x];
      }
      x = pred;
    }
    supply_[source] += delta;

    for (int y : touched_) {
      node_[y].dist = kInf;
      node_[y].heap_pos = kNotInHeap;
    }
    ++stats->shortest_paths;
    stats->nodes_settled += static_cast<int64_t>(settled_.size());
  }

  const int num_requests_;
  const int num_volunteers_;
  std::vector<int> headcount_;
  std::vector<int64_t> unassigned_cost_;
  std::vector<int> capacity_;

  std::vector<int> request_begin_;  // Arcs by request (an ArcTable).
  std::vector<int> arc_volunteer_;
  std::vector<int64_t> arc_cost_;
  std::vector<int> arc_request_;
  std::vector<char> arc_used_;
  // Arcs in use by volunteer: v's are holder_[holder_begin_[v] + i], i < held_[v];
  // arc_holder_pos_[a] is a's place there (-1 when unused).
  std::vector<int> holder_begin_;
  struct Holder {
    int request = -1;
    int arc = -1;
    int64_t cost = 0;
  };
  std::vector<Holder> holder_;
  std::vector<int> held_;
  std::vector<int> arc_holder_pos_;
  // Every arc by volunteer, built only when a warm start needs it.
  std::vector<int> volunteer_begin_;
  std::vector<int> volunteer_arcs_;

  // Flow: helpers_ + unfilled_flow_ = supply_ <= headcount_ per request; held_ <= load_
  // per volunteer, and short_volunteers_ is the sum of load_ - held_ (see FitRequest).
  int64_t short_volunteers_ = 0;
  bool keep_short_ = false;
  std::vector<int> load_;
  std::vector<int> helpers_;
  std::vector<int> unfilled_flow_;
  std::vector<int> supply_;
  // Requests, then volunteers, then the sink: its potential (the sink's is always 0)
  // and the search scratch, reused across searches, side by side so that looking at a
  // node touches one cache line.
  struct Node {
    int64_t potential = 0;
    int64_t dist = kInf;
    int heap_pos = kNotInHeap;
    int pred_node = -1;
    int pred_arc = -1;
  };
  std::vector<Node> node_;

  struct HeapEntry {
    int64_t key;
    int node;
  };
  std::vector<HeapEntry> heap_;
  std::vector<int> touched_;
  std::vector<int> settled_;
};

absl::Status ValidateProblem(const AssignmentProblem& problem) {
  const int R = problem.num_requests();
  const int V = problem.num_volunteers();
  int64_t max_cost = 0;
  int64_t total_headcount = 0;
  auto cost_error = [](int64_t cost) -> const char* {
    if (cost < 0) return "must be >= 0";
    if (cost > kMaxAssignmentCost) return "must be <= 2^40";
    return nullptr;
  };
  for (int r = 0; r < R; ++r) {
    const AssignmentProblem::Request& q = problem.requests()[r];
    if (q.headcount < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("request ", r, ": headcount: must be >= 1, got ", q.headcount));
    }
    if (const char* e = cost_error(q.unassigned_cost)) {
      return absl::InvalidArgumentError(
          absl::StrCat("request ", r, ": unassigned_cost: ", e, ", got ", q.unassigned_cost));
    }
    max_cost = std::max(max_cost, q.unassigned_cost);
    total_headcount += q.headcount;
  }
  for (int v = 0; v < V; ++v) {
    const int capacity = problem.volunteers()[v].capacity;
    if (capacity < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("volunteer ", v, ": capacity: must be >= 1, got ", capacity));
    }
  }
  const std::vector<AssignmentProblem::Arc>& arcs = problem.arcs();
  if (arcs.size() > static_cast<size_t>(std::numeric_limits<int>::max() / 2)) {
    return absl::InvalidArgumentError("arcs: too many");
  }
  for (size_t i = 0; i < arcs.size(); ++i) {
    const AssignmentProblem::Arc& a = arcs[i];
    if (a.request < 0 || a.request >= R) {
      return absl::InvalidArgumentError(
          absl::StrCat("arc ", i, ": request: ", a.request, " is not in [0, ", R, ")"));
    }
    if (a.volunteer < 0 || a.volunteer >= V) {
      return absl::InvalidArgumentError(
          absl::StrCat("arc ", i, ": volunteer: ", a.volunteer, " is not in [0, ", V, ")"));
    }
    if (const char* e = cost_error(a.cost)) {
      return absl::InvalidArgumentError(absl::StrCat("arc ", i, ": cost: ", e, ", got ", a.cost));
    }
    max_cost = std::max(max_cost, a.cost);
  }
  // Potentials and distances are sums of at most (nodes) arc costs along simple paths, and
  // the total cost is at most total_headcount * max_cost: keep both well inside int64.
  const int64_t terms = int64_t{R} + V + 2 + total_headcount;
  if (max_cost > 0 && terms > (int64_t{1} << 59) / max_cost) {
    return absl::InvalidArgumentError(
        "problem: too large for its costs (nodes plus total headcount times the largest "
        "cost must stay below 2^59)");
  }
  return absl::OkStatus();
}

// Solves over `arcs` (from `warm_start`, if usable, else cold) into `solution`, adding to
// its statistics. `keep_short`: see FlowSolver::FitRequest.
void SolveOn(const AssignmentProblem& problem, ArcTable arcs, const AssignmentSolution* warm_start,
             bool keep_short, AssignmentSolution* solution) {
  FlowSolver flow(problem, std::move(arcs));
  AssignmentSolution::Stats stats = solution->stats;
  if (warm_start != nullptr) {
    stats.warm_started = flow.WarmStart(*warm_start, keep_short, &stats.kept_helpers);
  }
  flow.AugmentingRowReduction(10 * int64_t{problem.num_requests()} + 1000);
  flow.Run(&stats);
  flow.Fill(solution);
  solution->stats = stats;
}

// Why a core: on dense instances (every request a candidate of every volunteer, or
// nearly) the optimum uses few of each request's arcs, nearly always among the cheapest
// of its request or of its volunteer. Solving over the core_arcs cheapest arcs of each
// request and of each volunteer, and then pricing the rest against the potentials (an
// arc left out with a negative reduced cost is the only thing that can make the core's
// optimum worse than the whole instance's), gives the exact optimum of the whole
// instance; each round adds the most negative arcs and warm-starts from the previous
// round. On 2000 x 2000 city instances the first core (64 arcs) is within 0.03% of the
// optimum and one more round, adding a few hundred arcs, makes it exact. That round's
// warm start keeps the volunteers that lose a helper loaded but short (FitRequest), which
// makes it about a tenth of the first round (8 ms against 70); freeing them instead cost
// a repair search each and ran out of budget, so the round solved cold, as long as the
// first. Cores of 16 to 128 arcs were all slower (measured before that change).
// At most core_arcs more arcs per request join the core in each round.
void SolveDense(const AssignmentProblem& problem, const SortedArcs& all, int core_arcs,
                const AssignmentSolution* warm_start, AssignmentSolution* solution) {
  const int R = problem.num_requests();
  const int V = problem.num_volunteers();
  std::vector<char> in_core(all.size(), 0);
  std::vector<std::pair<int64_t, int>> ranked;
  // Each volunteer's cheapest: a max-heap of at most core_arcs per volunteer, and the
  // cost an arc must beat to enter it (its top once full), kept apart so that the
  // arcs turned away, nearly all of them, touch one small array.
  std::vector<std::pair<int64_t, int>> column_heaps(static_cast<size_t>(V) * core_arcs);
  std::vector<int> column_size(V, 0);
  std::vector<int64_t> column_bar(V, kInf);
  // Each request's core_arcs cheapest: the core_arcs-th least cost, then the arcs below
  // it and as many at it as fit.
  std::vector<int64_t> row_costs;
  for (int r = 0; r < R; ++r) {
    row_costs.clear();
    all.ForEachPair(r, [&](int i, int v, int64_t cost) {
      row_costs.push_back(cost);
      if (cost >= column_bar[v]) return;
      std::pair<int64_t, int>* heap = &column_heaps[static_cast<size_t>(v) * core_arcs];
      int& size = column_size[v];
      if (size < core_arcs) {
        heap[size++] = {cost, i};
        std::push_heap(heap, heap + size);
        if (size == core_arcs) column_bar[v] = heap[0].first;
      } else {
        std::pop_heap(heap, heap + size);
        heap[size - 1] = {cost, i};
        std::push_heap(heap, heap + size);
        column_bar[v] = heap[0].first;
      }
    });
    if (static_cast<int>(row_costs.size()) <= core_arcs) {
      all.ForEachPair(r, [&](int i, int, int64_t) { in_core[i] = 1; });
      continue;
    }
    std::nth_element(row_costs.begin(), row_costs.begin() + (core_arcs - 1), row_costs.end());
    const int64_t bar = row_costs[core_arcs - 1];
    int ties = core_arcs;
    for (int k = 0; k < core_arcs - 1; ++k) ties -= row_costs[k] < bar;
    all.ForEachPair(r, [&](int i, int, int64_t cost) {
      if (cost < bar || (cost == bar && ties-- > 0)) in_core[i] = 1;
    });
  }
  for (int v = 0; v < V; ++v) {
    for (int k = 0; k < column_size[v]; ++k) {
      in_core[column_heaps[static_cast<size_t>(v) * core_arcs + k].second] = 1;
    }
  }
  // Arcs the warm start uses stay usable.
  if (warm_start != nullptr && static_cast<int>(warm_start->helpers_of_request.size()) == R) {
    for (int r = 0; r < R; ++r) {
      const std::vector<int>& helpers = warm_start->helpers_of_request[r];
      all.ForEachPair(r, [&](int i, int v, int64_t) {
        if (std::binary_search(helpers.begin(), helpers.end(), v)) in_core[i] = 1;
      });
    }
  }
  AssignmentSolution previous;
  for (bool first = true;; first = false) {
    SolveOn(problem, BuildArcTable(R, all, &in_core), first ? warm_start : &previous,
            /*keep_short=*/!first, solution);
    if (!first) {
      // A later round warm-starts from the round before; the caller's warm start is
      // what the statistics describe.
      solution->stats.warm_started = previous.stats.warm_started;
      solution->stats.kept_helpers = previous.stats.kept_helpers;
    }
    int added = 0;
    for (int r = 0; r < R; ++r) {
      ranked.clear();
      const int64_t pi_r = solution->request_potentials[r];
      all.ForEachPair(r, [&](int i, int v, int64_t cost) {
        if (in_core[i]) return;
        const int64_t reduced = cost + pi_r - solution->volunteer_potentials[v];
        if (reduced < 0) ranked.push_back({reduced, i});
      });
      if (static_cast<int>(ranked.size()) > core_arcs) {
        std::nth_element(ranked.begin(), ranked.begin() + core_arcs, ranked.end());
        ranked.resize(core_arcs);
      }
      for (const auto& [reduced, i] : ranked) in_core[i] = 1;
      added += static_cast<int>(ranked.size());
    }
    if (added == 0) return;
    previous = std::move(*solution);
    *solution = AssignmentSolution();
    solution->stats = previous.stats;
  }
}

}  // namespace

absl::StatusOr<AssignmentSolution> AssignmentSolver::Solve(
    const AssignmentProblem& problem, const AssignmentSolution* warm_start) const {
  if (absl::Status s = ValidateProblem(problem); !s.ok()) return s;
  AssignmentSolution solution;
  const SortedArcs arcs(problem);
  const int core_arcs = options_.dense_core_arcs;
  if (core_arcs >= 1 && arcs.size() / 4 / core_arcs > problem.num_requests()) {
    SolveDense(problem, arcs, core_arcs, warm_start, &solution);
  } else {
    SolveOn(problem, BuildArcTable(problem.num_requests(), arcs, nullptr), warm_start,
            /*keep_short=*/false, &solution);
  }
  return solution;
}

AssignmentSolution SolveGreedy(const AssignmentProblem& problem) {
  const int R = problem.num_requests();
  SortedArcs arcs(problem);
  std::vector<int> room(problem.num_volunteers());
  for (int v = 0; v < problem.num_volunteers(); ++v) room[v] = problem.volunteers()[v].capacity;
  AssignmentSolution out;
  out.helpers_of_request.resize(R);
  out.unfilled.resize(R);
  std::vector<std::pair<int64_t, int>> candidates;  // (cost, volunteer), cheapest first
  for (int r = 0; r < R; ++r) {
    const AssignmentProblem::Request& request = problem.requests()[r];
    candidates.clear();
    arcs.ForEachPair(r, [&](int, int v, int64_t cost) { candidates.push_back({cost, v}); });
    std::sort(candidates.begin(), candidates.end());
    std::vector<int>& helpers = out.helpers_of_request[r];
    for (const auto& [cost, v] : candidates) {
      if (static_cast<int>(helpers.size()) == request.headcount) break;
      if (cost >= request.unassigned_cost) break;
      if (room[v] == 0) continue;
      --room[v];
      helpers.push_back(v);
      out.total_cost += cost;
    }
    std::sort(helpers.begin(), helpers.end());
    out.unfilled[r] = request.headcount - static_cast<int>(helpers.size());
    out.total_cost += out.unfilled[r] * request.unassigned_cost;
  }
  return out;
}

}  // namespace yiyuan
