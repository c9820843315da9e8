#!/usr/bin/env bash
# Runs offer_bench (CRISIS submit -> first offer on WatchOffers) and scorer_benchmark,
# and rewrites the "## Dispatch: CRISIS offer latency and scoring" section of
# bench/RESULTS.md, leaving any other section alone. Builds nothing: configure with
# -DYIYUAN_BUILD_BENCH=ON and build offer_bench, scorer_benchmark and dispatchd first.
#
#   bench/run_offer_bench.sh BUILD_DIR [--volunteers N] [--rate R] [--seconds S]
set -euo pipefail

title="## Dispatch: CRISIS offer latency and scoring"
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [--volunteers N] [--rate R] [--seconds S]" >&2; exit 2; }
command_line="bench/run_offer_bench.sh $*"
build_dir=$(cd "$1" && pwd)
shift
volunteers=10000
rate=200
seconds=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --volunteers) volunteers=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "$0: unknown argument $1" >&2; exit 2 ;;
  esac
done
bench_dir=$(cd "$(dirname "$0")" && pwd)
src_dir=$(dirname "$bench_dir")
# shellcheck source=bench/lib.sh
source "$bench_dir/lib.sh"
for b in server/dispatchd bench/offer_bench engine/scorer_benchmark; do
  [[ -x $build_dir/$b ]] || { echo "$0: $build_dir/$b not built" >&2; exit 1; }
done

bench_workspace "/dev/shm" offer-bench

start_dispatchd "$build_dir/server/dispatchd" "$data" "$work/dispatchd.log"
echo "== dispatchd $address (pid $server_pid), data dir $data" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
"$build_dir/bench/offer_bench" --server="$address" --token-file="$data/admin.token" \
  --volunteers="$volunteers" --rate="$rate" --seconds="$seconds" \
  --json="$work/offer.json" >"$work/offer.md"
kill -TERM "$server_pid"
wait "$server_pid" || { echo "$0: dispatchd exited with status $?" >&2; exit 1; }
server_pid=
"$build_dir/engine/scorer_benchmark" --benchmark_filter='BM_Rank|BM_Sort' \
  --benchmark_format=json >"$work/scorer.json" 2>/dev/null
elapsed=$(( $(date +%s) - started ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$work/offer.md" >&2

{
  echo "$title"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(machine_line "$src_dir")."
  echo "Written by \`$command_line\` (took $elapsed s). Load average (1, 5, 15 min) before:"
  echo "$load_before; after: $load_after — anything else running skews the figures."
  echo
  echo "- **Set-up:** $volunteers volunteers on duty at seeded random points of a 20 km square,"
  echo "  each with an open WatchOffers stream (gRPC callback API on both sides, spread over 8"
  echo "  connections). CRISIS requests at random points of the square, open loop at $rate/s"
  echo "  for $seconds s: each call has a scheduled time and latency counts from it."
  echo "- **Measured:** scheduled submit time → the first of the request's (up to 3) offers"
  echo "  arriving on a volunteer's stream. The path: SubmitRequest's script, a dispatcher"
  echo "  worker ranks the 16+ nearest (live index + one pipelined read of their history),"
  echo "  one script makes the offers and appends them to the volunteers' inboxes, the"
  echo "  event stream wakes the stream follower, which reads the inbox and writes."
  echo "- **Reference (floor):** \`grpc.health.v1.Health/Check\` at the same pacing, just before."
  echo "- **Data dir on tmpfs** (/dev/shm): AOF written, fsync nearly free; on disk with"
  echo "  \`appendfsync always\` every write pays the fsync (see the intake section)."
  echo "- **One machine:** the load generator, dispatchd and redis-server share the cores."
  echo
  cat "$work/offer.md"
  echo
  echo "**Scoring** (\`engine/scorer_benchmark\`, Scorer::Rank over candidates with random"
  echo "positions and histories; reference: sorting the same candidates by distance):"
  echo
  echo "| candidates | Rank, ns per candidate | with explanation details | reference sort |"
  echo "|---:|---:|---:|---:|"
  /usr/bin/python3 - "$work/scorer.json" <<'PY'
import json, sys, collections
rows = collections.defaultdict(dict)
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    name = b["name"]
    parts = name.split("/")
    n = int(parts[1])
    per = b["real_time"] / n if b.get("time_unit") == "ns" else None
    if per is None:
        scale = {"us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        per = b["real_time"] * scale / n
    kind = "sort" if "Sort" in name else ("details" if parts[2] == "1" else "plain")
    rows[n][kind] = per
for n in sorted(rows):
    r = rows[n]
    f = lambda k: f"{r[k]:.0f}" if k in r else "–"
    print(f"| {n} | {f('plain')} | {f('details')} | {f('sort')} |")
PY
  echo
} >"$work/section.md"
replace_section "$bench_dir/RESULTS.md" "$title" "$work/section.md"
echo "updated $bench_dir/RESULTS.md" >&2
