#!/usr/bin/python3
"""SciPy's assignment solvers on instances written by solver_compare (bench/solver_compare.cc).

    solver_compare_scipy.py --reps N INSTANCE...

Each INSTANCE is a little-endian binary file:
    8 bytes   magic b"YSOLVER1"
    5 int64   kind (0 dense, 1 sparse), requests R, volunteers V, arcs M, unassigned cost U
  dense:  R*V int64 costs, row-major (request r, volunteer v)
  sparse: M int32 requests, M int32 volunteers, M int64 costs
Every request has headcount 1 and every volunteer capacity 1; leaving a request unassigned
costs U.

Dense instances go to scipy.optimize.linear_sum_assignment on the R x V matrix as it is.
solver_compare makes U larger than any cost and R == V, so a full assignment is optimal
and the square problem is the same problem.

Sparse instances go to scipy.sparse.csgraph.min_weight_full_bipartite_matching, which
needs a matching that covers every request, so each request gets a dummy column of its
own at cost U (the unassigned option): the R x (V + R) problem always has one, and its
optimum is the instance's. Its weights must be non-zero (explicit zeros are dropped), so
every weight is raised by 1 and R is taken off the total again.

Prints one JSON object per instance, a list, to stdout: name, function, cost, and the
thread CPU time and wall time of each call in milliseconds. Only the call is timed, not
reading the file or building the matrix.
"""

import argparse
import json
import sys
import time

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

MAGIC = b"YSOLVER1"


def read_instance(path):
    with open(path, "rb") as f:
        if f.read(8) != MAGIC:
            raise ValueError(f"{path}: not a solver_compare instance")
        kind, requests, volunteers, arcs, unassigned = np.fromfile(f, dtype="<i8", count=5)
        if kind == 0:
            costs = np.fromfile(f, dtype="<i8", count=requests * volunteers)
            return {"kind": "dense", "costs": costs.reshape(requests, volunteers),
                    "unassigned": int(unassigned)}
        rows = np.fromfile(f, dtype="<i4", count=arcs)
        cols = np.fromfile(f, dtype="<i4", count=arcs)
        costs = np.fromfile(f, dtype="<i8", count=arcs)
        return {"kind": "sparse", "requests": int(requests), "volunteers": int(volunteers),
                "rows": rows, "cols": cols, "costs": costs, "unassigned": int(unassigned)}


def timed(call):
    wall = time.perf_counter()
    cpu = time.thread_time()
    result = call()
    return result, (time.thread_time() - cpu) * 1e3, (time.perf_counter() - wall) * 1e3


def solve_dense(instance, reps):
    costs = instance["costs"]
    if costs.size and costs.max() >= instance["unassigned"]:
        raise ValueError("dense instance: the unassigned cost must exceed every arc cost")
    if costs.shape[0] != costs.shape[1]:
        raise ValueError("dense instance: must be square")
    runs = []
    for _ in range(reps):
        (rows, cols), cpu, wall = timed(lambda: linear_sum_assignment(costs))
        runs.append((cpu, wall, int(costs[rows, cols].sum())))
    return "scipy.optimize.linear_sum_assignment", runs


def solve_sparse(instance, reps):
    R, V, U = instance["requests"], instance["volunteers"], instance["unassigned"]
    rows = np.concatenate([instance["rows"], np.arange(R, dtype=np.int32)])
    cols = np.concatenate([instance["cols"], V + np.arange(R, dtype=np.int32)])
    weights = np.concatenate([instance["costs"], np.full(R, U, dtype=np.int64)]) + 1
    # Duplicate (request, volunteer) pairs would be summed by csr_matrix; solver_compare
    # writes none.
    matrix = csr_matrix((weights, (rows, cols)), shape=(R, V + R))
    if matrix.nnz != len(weights):
        raise ValueError("sparse instance: duplicate arcs")
    runs = []
    for _ in range(reps):
        (r, c), cpu, wall = timed(lambda: min_weight_full_bipartite_matching(matrix))
        runs.append((cpu, wall, int(np.asarray(matrix[r, c]).sum()) - R))
    return "scipy.sparse.csgraph.min_weight_full_bipartite_matching", runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("instances", nargs="*")
    args = parser.parse_args()
    out = []
    for path in args.instances:
        instance = read_instance(path)
        solve = solve_dense if instance["kind"] == "dense" else solve_sparse
        function, runs = solve(instance, args.reps)
        costs = {cost for _, _, cost in runs}
        if len(costs) != 1:
            raise ValueError(f"{path}: costs differ between runs: {sorted(costs)}")
        out.append({"path": path, "function": function, "cost": costs.pop(),
                    "cpu_ms": [cpu for cpu, _, _ in runs],
                    "wall_ms": [wall for _, wall, _ in runs],
                    "scipy_version": scipy.__version__})
        print(f"scipy: {path}: {function} {runs[0][0]:.1f} ms", file=sys.stderr)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
