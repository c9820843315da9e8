#ifndef YIYUAN_ENGINE_ASSIGNMENT_SOLVER_H_
#define YIYUAN_ENGINE_ASSIGNMENT_SOLVER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace yiyuan {

// A batch assignment instance (DESIGN.md section 4, ROUTINE mode): requests that each
// need some helpers, volunteers (or units) that each can take some requests, and a
// sparse list of candidate arcs saying who may help whom at what cost.
//
// An assignment picks a set of arcs such that request r uses at most headcount(r) arcs,
// volunteer v at most capacity(v) arcs, and each (request, volunteer) pair at most once.
// Its cost is the sum of the costs of the arcs used plus, for every request,
// unassigned_cost(r) times the number of helpers it still lacks. Leaving everything
// unassigned is always an assignment, so every instance has an optimum.
//
// Built with the Add* methods; nothing is checked until AssignmentSolver::Solve. Indices
// are dense and start at 0, in the order of the Add* calls. A plain value: copyable.
class AssignmentProblem {
 public:
  struct Request {
    int headcount = 1;            // Helpers wanted; must be >= 1.
    int64_t unassigned_cost = 0;  // Per helper left unfilled; must be >= 0.
  };
  struct Volunteer {
    int capacity = 1;  // Requests this volunteer may take; must be >= 1.
  };
  struct Arc {
    int request = 0;
    int volunteer = 0;
    int64_t cost = 0;  // Must be >= 0.
  };

  // Returns the index of the new request.
  int AddRequest(int headcount, int64_t unassigned_cost);
  // Returns the index of the new volunteer.
  int AddVolunteer(int capacity);
  // Lets `volunteer` help `request` at `cost`. When the same pair is added more than
  // once, the cheapest arc counts and the others are ignored.
  void AddArc(int request, int volunteer, int64_t cost);

  int num_requests() const { return static_cast<int>(requests_.size()); }
  int num_volunteers() const { return static_cast<int>(volunteers_.size()); }
  const std::vector<Request>& requests() const { return requests_; }
  const std::vector<Volunteer>& volunteers() const { return volunteers_; }
  const std::vector<Arc>& arcs() const { return arcs_; }

 private:
  std::vector<Request> requests_;
  std::vector<Volunteer> volunteers_;
  std::vector<Arc> arcs_;
};

// Every cost (arc or unassigned) must be at most this.
inline constexpr int64_t kMaxAssignmentCost = int64_t{1} << 40;

// An optimal assignment, and the state needed to warm-start the next solve.
struct AssignmentSolution {
  // Sum of the costs of the arcs used plus the unassigned penalties: the optimum.
  int64_t total_cost = 0;
  // helpers_of_request[r]: the volunteers helping request r, ascending.
  std::vector<std::vector<int>> helpers_of_request;
  // unfilled[r]: headcount(r) - helpers_of_request[r].size().
  std::vector<int> unfilled;

  // Dual potentials proving optimality (with the sink's potential fixed at 0). Pass the
  // whole solution back as a warm start; their meaning is otherwise unspecified.
  std::vector<int64_t> request_potentials;
  std::vector<int64_t> volunteer_potentials;

  // Statistics, for logging and benchmarks.
  struct Stats {
    bool warm_started = false;   // The warm start was usable (in whole or in part).
    int kept_helpers = 0;        // Helpers carried over from the warm start.
    int64_t shortest_paths = 0;  // Shortest-path searches, each followed by one augmentation.
    int64_t nodes_settled = 0;   // Summed over all searches.
  };
  Stats stats;
};

struct AssignmentSolverOptions {
  // Instances with more than 4 * dense_core_arcs arcs per request on average are solved
  // over a core first: each request's and each volunteer's dense_core_arcs cheapest arcs,
  // to which the other arcs are added, round by round, while the core's optimum is not
  // provably optimal for them too. The result is the same exact optimum; this only
  // changes the work. Values below 1 solve every instance over all its arcs at once.
  int dense_core_arcs = 64;
};

// Solves AssignmentProblem exactly: the result minimises the total cost over all
// assignments of the problem's candidate arcs. When several assignments are optimal,
// which one is returned is unspecified but deterministic.
//
// Cost: an auction phase, then successive shortest paths (assignment_solver.cc says
// why). The work grows with how contested the volunteers are more than with the size:
// with many more volunteers than requests (a batch cycle) most requests are placed at
// once; with about as many requests as volunteers, each of the last requests placed
// searches a large part of the graph.
//
// Stateless and thread-compatible: one solver may serve concurrent Solve calls.
class AssignmentSolver {
 public:
  explicit AssignmentSolver(AssignmentSolverOptions options = {}) : options_(options) {}

  // Returns an optimal assignment of `problem`.
  //
  // `warm_start`, if not null, should be the solution of an earlier, similar problem with
  // the same numbers of requests and volunteers, index for index (e.g. the previous batch
  // cycle with a few arcs changed). Its helpers whose arcs still exist, and its
  // potentials, are reused where they remain provably optimal; what does not fit is
  // dropped and re-solved. A warm start never changes the optimal cost, only the work; it
  // adds at most about twenty passes over the arcs to a cold solve (what cannot be
  // repaired within that goes cold). One that does not match in size is ignored.
  //
  // INVALID_ARGUMENT naming the offending item when a headcount or capacity is < 1, a
  // cost is negative or above kMaxAssignmentCost, an arc names a request or volunteer
  // that does not exist, or the instance is so large that costs could overflow int64.
  absl::StatusOr<AssignmentSolution> Solve(const AssignmentProblem& problem,
                                           const AssignmentSolution* warm_start = nullptr) const;

 private:
  AssignmentSolverOptions options_;
};

// Greedy nearest-first, the policy the batch solver is measured against (and
// dispatchd's --batch-policy=greedy): requests in index order (callers add them oldest
// first), each taking its cheapest candidates that still have room, one by one, while
// they cost less than leaving the place unfilled. Not optimal; no potentials (a warm
// start from it is a cold start). `problem` must be valid (see AssignmentSolver::Solve).
AssignmentSolution SolveGreedy(const AssignmentProblem& problem);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_ASSIGNMENT_SOLVER_H_
