#include "engine/assignment_solver.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
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
class FlowSolver {
 public:
  explicit FlowSolver(const AssignmentProblem& problem)
      : num_requests_(problem.num_requests()), num_volunteers_(problem.num_volunteers()) {
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

    // Request-major CSR of the arcs, volunteers ascending within a request, keeping the
    // cheapest of duplicate pairs.
    const std::vector<AssignmentProblem::Arc>& in = problem.arcs();
    std::vector<int> order(in.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&in](int a, int b) {
      if (in[a].request != in[b].request) return in[a].request < in[b].request;
      if (in[a].volunteer != in[b].volunteer) return in[a].volunteer < in[b].volunteer;
      return in[a].cost < in[b].cost;
    });
    request_begin_.assign(R + 1, 0);
    for (size_t i = 0; i < order.size(); ++i) {
      const AssignmentProblem::Arc& a = in[order[i]];
      if (i > 0 && in[order[i - 1]].request == a.request &&
          in[order[i - 1]].volunteer == a.volunteer) {
        continue;
      }
      arc_request_.push_back(a.request);
      arc_volunteer_.push_back(a.volunteer);
      arc_cost_.push_back(a.cost);
      ++request_begin_[a.request + 1];
    }
    for (int r = 0; r < R; ++r) request_begin_[r + 1] += request_begin_[r];
    const int num_arcs = static_cast<int>(arc_cost_.size());
    arc_used_.assign(num_arcs, 0);

    // Volunteer-major index over the same arcs.
    volunteer_begin_.assign(V + 1, 0);
    for (int a = 0; a < num_arcs; ++a) ++volunteer_begin_[arc_volunteer_[a] + 1];
    for (int v = 0; v < V; ++v) volunteer_begin_[v + 1] += volunteer_begin_[v];
    volunteer_arcs_.resize(num_arcs);
    std::vector<int> next(volunteer_begin_.begin(), volunteer_begin_.end() - 1);
    for (int a = 0; a < num_arcs; ++a) volunteer_arcs_[next[arc_volunteer_[a]]++] = a;

    load_.assign(V, 0);
    helpers_.assign(R, 0);
    unfilled_flow_.assign(R, 0);
    supply_.assign(R, 0);
    potential_.assign(R + V + 1, 0);
    dist_.assign(R + V + 1, kInf);
    pred_node_.assign(R + V + 1, -1);
    pred_arc_.assign(R + V + 1, -1);
    settled_mark_.assign(R + V + 1, 0);
  }

  // Adopts what can be kept of `warm`: its helpers whose arcs still exist (within the new
  // headcounts and capacities), its unfilled counts, and its potentials, then repairs them
  // into a certified optimal partial flow. Returns false, leaving the cold start, when the
  // result cannot be certified.
  bool WarmStart(const AssignmentSolution& warm, int* kept_helpers) {
    if (static_cast<int>(warm.helpers_of_request.size()) != num_requests_ ||
        static_cast<int>(warm.unfilled.size()) != num_requests_ ||
        static_cast<int>(warm.request_potentials.size()) != num_requests_ ||
        static_cast<int>(warm.volunteer_potentials.size()) != num_volunteers_) {
      return false;
    }
    LoadWarm(warm);
    if (!RepairByLabelCorrecting()) {
      ResetCold();
      LoadWarm(warm);
      RepairByClearing();
    }
    if (!AllCertified()) {
      ResetCold();
      return false;
    }
    *kept_helpers = 0;
    for (int r = 0; r < num_requests_; ++r) *kept_helpers += helpers_[r];
    return true;
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
    out->request_potentials.assign(potential_.begin(), potential_.begin() + R);
    out->volunteer_potentials.assign(potential_.begin() + R, potential_.end() - 1);
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
  static constexpr int64_t kInf = std::numeric_limits<int64_t>::max();

  int sink() const { return num_requests_ + num_volunteers_; }

  int FindArc(int r, int v) const {
    const auto begin = arc_volunteer_.begin() + request_begin_[r];
    const auto end = arc_volunteer_.begin() + request_begin_[r + 1];
    const auto it = std::lower_bound(begin, end, v);
    return it != end && *it == v ? static_cast<int>(it - arc_volunteer_.begin()) : -1;
  }

  void LoadWarm(const AssignmentSolution& warm) {
    const int R = num_requests_;
    const int V = num_volunteers_;
    // Potentials from elsewhere are clamped so that later arithmetic cannot overflow;
    // clamping only risks failing the certificate, never a wrong answer.
    const int64_t bound = kPotentialBound;
    for (int r = 0; r < R; ++r) {
      potential_[r] = std::clamp<int64_t>(warm.request_potentials[r], -bound, bound);
    }
    for (int v = 0; v < V; ++v) {
      potential_[R + v] = std::clamp<int64_t>(warm.volunteer_potentials[v], -bound, bound);
    }
    for (int r = 0; r < R; ++r) {
      for (int v : warm.helpers_of_request[r]) {
        if (v < 0 || v >= V || helpers_[r] >= headcount_[r] || load_[v] >= capacity_[v]) continue;
        const int a = FindArc(r, v);
        if (a < 0 || arc_used_[a]) continue;
        arc_used_[a] = 1;
        ++load_[v];
        ++helpers_[r];
      }
      unfilled_flow_[r] = std::clamp(warm.unfilled[r], 0, headcount_[r] - helpers_[r]);
      supply_[r] = helpers_[r] + unfilled_flow_[r];
    }
  }

  // Calls f(y, reduced-free cost, arc) for every residual arc leaving node x; arc is -1 for
  // arcs to or from the sink.
  template <typename F>
  void ForEachResidualArc(int x, F f) const {
    const int R = num_requests_;
    const int t = sink();
    if (x < R) {
      for (int a = request_begin_[x]; a < request_begin_[x + 1]; ++a) {
        if (!arc_used_[a]) f(R + arc_volunteer_[a], arc_cost_[a], a);
      }
      if (unfilled_flow_[x] < headcount_[x]) f(t, unassigned_cost_[x], -1);
    } else if (x < t) {
      const int v = x - R;
      for (int i = volunteer_begin_[v]; i < volunteer_begin_[v + 1]; ++i) {
        const int a = volunteer_arcs_[i];
        if (arc_used_[a]) f(arc_request_[a], -arc_cost_[a], a);
      }
      if (load_[v] < capacity_[v]) f(t, 0, -1);
    } else {
      for (int v = 0; v < num_volunteers_; ++v) {
        if (load_[v] > 0) f(R + v, 0, -1);
      }
      for (int r = 0; r < R; ++r) {
        if (unfilled_flow_[r] > 0) f(r, -unassigned_cost_[r], -1);
      }
    }
  }

  // Whether x -> y (over `arc` when neither end is the sink) has residual capacity.
  bool Residual(int x, int y, int arc) const {
    const int R = num_requests_;
    const int t = sink();
    if (x == t) return y >= R ? load_[y - R] > 0 : unfilled_flow_[y] > 0;
    if (y == t) {
      return x >= R ? load_[x - R] < capacity_[x - R] : unfilled_flow_[x] < headcount_[x];
    }
    if (x < R)
      return arc >= 0 && arc_request_[arc] == x && arc_volunteer_[arc] == y - R && !arc_used_[arc];
    return arc >= 0 && arc_volunteer_[arc] == x - R && arc_request_[arc] == y && arc_used_[arc];
  }

  // Moves one unit along residual arc x -> y.
  void PushUnit(int x, int y, int arc) {
    const int R = num_requests_;
    const int t = sink();
    if (x == t) {
      if (y >= R) {
        --load_[y - R];
      } else {
        --unfilled_flow_[y];
      }
    } else if (y == t) {
      if (x >= R) {
        ++load_[x - R];
      } else {
        ++unfilled_flow_[x];
      }
    } else if (x < R) {
      arc_used_[arc] = 1;
      ++helpers_[x];
    } else {
      arc_used_[arc] = 0;
      --helpers_[y];
    }
  }

  // Keeps the warm flow and lowers potentials until every residual arc has a non-negative
  // reduced cost (a label-correcting shortest-path pass seeded with the old potentials, so
  // it does little where nothing changed). Where the changed costs make the kept flow
  // suboptimal the pass meets a negative cycle; that cycle is cancelled (one unit moved
  // round it, which keeps every request's supply) and the pass resumes. Gives up, for the
  // caller to fall back, when the work exceeds a budget.
  bool RepairByLabelCorrecting() {
    const int n = num_requests_ + num_volunteers_ + 1;
    const int t = sink();
    int64_t budget = 20 * (static_cast<int64_t>(n) + static_cast<int64_t>(arc_cost_.size())) + 1000;
    std::vector<int> queue(n);
    std::iota(queue.begin(), queue.end(), 0);
    std::vector<char> in_queue(n, 1);
    std::vector<int> length(n, 0);
    std::fill(pred_node_.begin(), pred_node_.end(), -1);
    size_t head = 0;
    while (head < queue.size()) {
      const int x = queue[head++];
      if (head > static_cast<size_t>(n) && head * 2 > queue.size()) {
        queue.erase(queue.begin(), queue.begin() + head);
        head = 0;
      }
      in_queue[x] = 0;
      if (t == x && (budget -= n) < 0) return false;
      const int64_t pi_x = potential_[x];
      bool failed = false;
      ForEachResidualArc(x, [&](int y, int64_t cost, int arc) {
        if (failed || pi_x + cost >= potential_[y]) return;
        if (--budget < 0 || pi_x + cost < -kPotentialBound) {
          failed = true;
          return;
        }
        potential_[y] = pi_x + cost;
        pred_node_[y] = x;
        pred_arc_[y] = arc;
        length[y] = length[x] + 1;
        // A cycle in the predecessor graph is a negative cycle. Short ones (the usual
        // kind after a few arcs change) show up on a short walk up from x; long ones
        // eventually make some path length reach n.
        bool cycle = length[y] >= n;
        for (int z = x, steps = 0; !cycle && z >= 0 && steps < 32; z = pred_node_[z], ++steps) {
          cycle = z == y;
        }
        if (cycle) {
          if (!CancelCycleThrough(y, &queue, &in_queue, &length)) failed = true;
          return;
        }
        if (!in_queue[y]) {
          in_queue[y] = 1;
          queue.push_back(y);
        }
      });
      if (failed) return false;
    }
    // Shift so that the sink's potential is 0 again.
    const int64_t shift = potential_[t];
    for (int64_t& pi : potential_) pi -= shift;
    return true;
  }

  // Finds the cycle of predecessors reachable from y and moves one unit round it, if it is
  // a cycle of residual arcs with negative cost. False when there is no such cycle.
  // The cycle's nodes lose their predecessors and are queued again.
  bool CancelCycleThrough(int y, std::vector<int>* queue, std::vector<char>* in_queue,
                          std::vector<int>* length) {
    ++stamp_;
    int z = y;
    while (z >= 0 && settled_mark_[z] != stamp_) {
      settled_mark_[z] = stamp_;
      z = pred_node_[z];
    }
    if (z < 0) return false;
    // z is on the cycle; its arcs are (pred_node_[w] -> w) for w round the cycle.
    const int R = num_requests_;
    const int t = sink();
    int64_t cost = 0;
    int w = z;
    do {
      const int x = pred_node_[w];
      if (x == t) {
        cost += w >= R ? 0 : -unassigned_cost_[w];
      } else if (w == t) {
        cost += x >= R ? 0 : unassigned_cost_[x];
      } else {
        cost += x < R ? arc_cost_[pred_arc_[w]] : -arc_cost_[pred_arc_[w]];
      }
      w = x;
    } while (w != z);
    if (cost >= 0) return false;
    std::vector<int> cycle;
    w = z;
    do {
      const int x = pred_node_[w];
      if (!Residual(x, w, pred_arc_[w])) return false;
      PushUnit(x, w, pred_arc_[w]);
      cycle.push_back(w);
      w = x;
    } while (w != z);
    for (int c : cycle) {
      pred_node_[c] = -1;
      (*length)[c] = 0;
      if (!(*in_queue)[c]) {
        (*in_queue)[c] = 1;
        queue->push_back(c);
      }
    }
    return true;
  }

  // The simple repair: keeps only requests whose own arcs are still certified.
  void RepairByClearing() {
    const int R = num_requests_;
    const int V = num_volunteers_;
    // A volunteer with spare capacity needs pi >= 0 (arc to the sink), one with load needs
    // pi <= 0 (reverse arc from the sink).
    for (int v = 0; v < V; ++v) {
      int64_t& pi = potential_[R + v];
      if (load_[v] < capacity_[v] && pi < 0) pi = 0;
      if (load_[v] > 0 && pi > 0) pi = 0;
    }
    // Then requests, to a fixpoint. A request with no flow has no residual arc into it, so
    // raising its potential always certifies it; a request whose arcs fail is cleared.
    // Clearing frees volunteers, whose potentials may then have to rise to 0, which can
    // break other requests. Each request is cleared at most once and each volunteer rises
    // at most once, so this ends.
    std::vector<int> work(R);
    std::iota(work.begin(), work.end(), 0);
    std::vector<char> queued(R, 1);
    while (!work.empty()) {
      const int r = work.back();
      work.pop_back();
      queued[r] = 0;
      if (supply_[r] > 0 && RequestCertified(r)) continue;
      for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
        if (!arc_used_[a]) continue;
        arc_used_[a] = 0;
        const int v = arc_volunteer_[a];
        --load_[v];
        if (potential_[R + v] < 0) {  // Now has spare capacity.
          potential_[R + v] = 0;
          for (int i = volunteer_begin_[v]; i < volunteer_begin_[v + 1]; ++i) {
            const int r2 = arc_request_[volunteer_arcs_[i]];
            if (!queued[r2]) {
              queued[r2] = 1;
              work.push_back(r2);
            }
          }
        }
      }
      helpers_[r] = 0;
      unfilled_flow_[r] = 0;
      supply_[r] = 0;
      int64_t pi = std::max(potential_[r], -unassigned_cost_[r]);
      for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
        pi = std::max(pi, potential_[R + arc_volunteer_[a]] - arc_cost_[a]);
      }
      potential_[r] = pi;
    }
  }

  // The optimality conditions on every residual arc leaving or entering request r (with
  // the sink's potential 0).
  bool RequestCertified(int r) const {
    for (int a = request_begin_[r]; a < request_begin_[r + 1]; ++a) {
      const int64_t reduced =
          arc_cost_[a] + potential_[r] - potential_[num_requests_ + arc_volunteer_[a]];
      if (arc_used_[a] ? reduced > 0 : reduced < 0) return false;
    }
    const int64_t reduced = unassigned_cost_[r] + potential_[r];
    if (unfilled_flow_[r] > 0 && reduced > 0) return false;
    if (unfilled_flow_[r] < headcount_[r] && reduced < 0) return false;
    return true;
  }

  bool AllCertified() const {
    for (int64_t pi : potential_) {
      if (pi < -kPotentialBound || pi > kPotentialBound) return false;
    }
    if (potential_[sink()] != 0) return false;
    for (int v = 0; v < num_volunteers_; ++v) {
      const int64_t pi = potential_[num_requests_ + v];
      if (load_[v] < capacity_[v] && pi < 0) return false;
      if (load_[v] > 0 && pi > 0) return false;
      if (load_[v] > capacity_[v]) return false;
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
    std::fill(arc_used_.begin(), arc_used_.end(), 0);
    std::fill(load_.begin(), load_.end(), 0);
    std::fill(helpers_.begin(), helpers_.end(), 0);
    std::fill(unfilled_flow_.begin(), unfilled_flow_.end(), 0);
    std::fill(supply_.begin(), supply_.end(), 0);
    std::fill(potential_.begin(), potential_.end(), 0);
  }

  // One shortest path from request `source` to the sink, then one augmentation along it.
  void Augment(int source, AssignmentSolution::Stats* stats) {
    const int R = num_requests_;
    const int t = sink();
    ++stamp_;
    using Entry = std::pair<int64_t, int>;
    heap_.clear();
    touched_.clear();
    settled_.clear();
    auto relax = [&](int y, int64_t d, int from, int arc) {
      if (d < dist_[y]) {
        if (dist_[y] == kInf) touched_.push_back(y);
        dist_[y] = d;
        pred_node_[y] = from;
        pred_arc_[y] = arc;
        heap_.push_back({d, y});
        std::push_heap(heap_.begin(), heap_.end(), std::greater<Entry>());
      }
    };
    relax(source, 0, -1, -1);
    int64_t reach = kInf;
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<Entry>());
      const auto [d, x] = heap_.back();
      heap_.pop_back();
      if (settled_mark_[x] == stamp_ || d > dist_[x]) continue;
      if (x == t) {
        reach = d;
        break;
      }
      settled_mark_[x] = stamp_;
      settled_.push_back(x);
      const int64_t pi_x = potential_[x];
      if (x < R) {
        for (int a = request_begin_[x]; a < request_begin_[x + 1]; ++a) {
          if (arc_used_[a]) continue;
          const int y = R + arc_volunteer_[a];
          if (settled_mark_[y] == stamp_) continue;
          relax(y, d + arc_cost_[a] + pi_x - potential_[y], x, a);
        }
        if (unfilled_flow_[x] < headcount_[x]) relax(t, d + unassigned_cost_[x] + pi_x, x, -1);
      } else {
        const int v = x - R;
        for (int i = volunteer_begin_[v]; i < volunteer_begin_[v + 1]; ++i) {
          const int a = volunteer_arcs_[i];
          if (!arc_used_[a]) continue;
          const int y = arc_request_[a];
          if (settled_mark_[y] == stamp_) continue;
          relax(y, d - arc_cost_[a] + pi_x - potential_[y], x, a);
        }
        if (load_[v] < capacity_[v]) relax(t, d + pi_x, x, -1);
      }
    }
    // The source's own unassigned arc always has room, so the sink is reached.
    for (int x : settled_) potential_[x] += dist_[x] - reach;

    // Bottleneck: only the unassigned arc and the volunteer-to-sink arc can carry more
    // than one unit, so more than one unit moves only along source -> sink directly.
    int delta = 1;
    const int last = pred_node_[t];
    if (last == source) {
      delta = std::min(headcount_[source] - supply_[source],
                       headcount_[source] - unfilled_flow_[source]);
      unfilled_flow_[source] += delta;
    } else if (last < R) {
      ++unfilled_flow_[last];
    } else {
      ++load_[last - R];
    }
    for (int x = last; x != source;) {
      const int a = pred_arc_[x];
      if (x >= R) {  // Reached over a forward arc: a new helper.
        arc_used_[a] = 1;
        ++helpers_[arc_request_[a]];
      } else {  // Reached over a reverse arc: that helper moves on.
        arc_used_[a] = 0;
        --helpers_[x];
      }
      x = pred_node_[x];
    }
    supply_[source] += delta;

    for (int y : touched_) dist_[y] = kInf;
    ++stats->shortest_paths;
    stats->nodes_settled += static_cast<int64_t>(settled_.size());
  }

  const int num_requests_;
  const int num_volunteers_;
  std::vector<int> headcount_;
  std::vector<int64_t> unassigned_cost_;
  std::vector<int> capacity_;

  std::vector<int> request_begin_;  // CSR over arcs, by request.
  std::vector<int> arc_request_;
  std::vector<int> arc_volunteer_;
  std::vector<int64_t> arc_cost_;
  std::vector<char> arc_used_;
  std::vector<int> volunteer_begin_;  // CSR over arc ids, by volunteer.
  std::vector<int> volunteer_arcs_;

  // Flow: helpers_ + unfilled_flow_ = supply_ <= headcount_ per request.
  std::vector<int> load_;
  std::vector<int> helpers_;
  std::vector<int> unfilled_flow_;
  std::vector<int> supply_;
  // Requests, then volunteers, then the sink (always 0).
  std::vector<int64_t> potential_;

  // Search scratch, reused across searches.
  std::vector<int64_t> dist_;
  std::vector<int> pred_node_;
  std::vector<int> pred_arc_;
  std::vector<uint32_t> settled_mark_;
  uint32_t stamp_ = 0;
  std::vector<std::pair<int64_t, int>> heap_;
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

}  // namespace

absl::StatusOr<AssignmentSolution> AssignmentSolver::Solve(
    const AssignmentProblem& problem, const AssignmentSolution* warm_start) const {
  if (absl::Status s = ValidateProblem(problem); !s.ok()) return s;
  FlowSolver flow(problem);
  AssignmentSolution solution;
  if (warm_start != nullptr) {
    solution.stats.warm_started = flow.WarmStart(*warm_start, &solution.stats.kept_helpers);
  }
  flow.Run(&solution.stats);
  flow.Fill(&solution);
  return solution;
}

}  // namespace yiyuan
