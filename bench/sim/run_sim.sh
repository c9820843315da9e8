#!/usr/bin/env bash
# Runs the district simulator once: starts dispatchd on its embedded Redis in a temp dir,
# replays the seeded district with sim_driver (or, with --load, drives it at fixed submit
# rates) and prints the totals. Builds nothing: build dispatchd and sim_driver in
# BUILD_DIR first. Exits non-zero when a request was not submitted or ended neither
# COMPLETED, CANCELLED nor ESCALATED, or when the points audit failed.
#
#   bench/sim/run_sim.sh BUILD_DIR [--quick] [--seed N] [--speedup N] [--out FILE]
#                        [--policy optimal|greedy] [--batch-interval-ms N]
#                        [--load RATES] [--load-seconds N] [--ceiling-clients N] [--ceiling-seconds N]
#                        [--drain-seconds N] [-- MORE_DISPATCHD_FLAGS...]
set -euo pipefail

usage="usage: $0 BUILD_DIR [--quick] [--seed N] [--speedup N] [--out FILE] [--policy optimal|greedy] [--batch-interval-ms N] [--load RATES] [--load-seconds N] [--ceiling-clients N] [--ceiling-seconds N] [--drain-seconds N] [-- DISPATCHD_FLAGS...]"
[[ $# -ge 1 ]] || { echo "$usage" >&2; exit 2; }
build_dir=$(cd "$1" && pwd)
shift
driver_flags=()
server_flags=()
out=
policy=optimal
interval=5000
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) driver_flags+=(--quick); shift ;;
    --seed) driver_flags+=(--seed="$2"); shift 2 ;;
    --speedup) driver_flags+=(--speedup="$2"); shift 2 ;;
    --load) driver_flags+=(--load_rates="$2"); shift 2 ;;
    --load-seconds) driver_flags+=(--load_seconds="$2"); shift 2 ;;
    --ceiling-clients) driver_flags+=(--ceiling_clients="$2"); shift 2 ;;
    --ceiling-seconds) driver_flags+=(--ceiling_seconds="$2"); shift 2 ;;
    --drain-seconds) driver_flags+=(--drain_seconds="$2"); shift 2 ;;
    --policy) policy=$2; shift 2 ;;
    --batch-interval-ms) interval=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; server_flags=("$@"); break ;;
    *) echo "$0: unknown argument $1" >&2; echo "$usage" >&2; exit 2 ;;
  esac
done
sim_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
source "$sim_dir/../lib.sh"
for b in server/dispatchd bench/sim/sim_driver; do
  [[ -x $build_dir/$b ]] || { echo "$0: $build_dir/$b not built" >&2; exit 1; }
done

bench_workspace "/dev/shm" sim

start_dispatchd "$build_dir/server/dispatchd" "$data" "$work/dispatchd.log" \
  --batch-policy="$policy" --batch-interval-ms="$interval" ${server_flags[@]+"${server_flags[@]}"}
metrics=$(grep -o '"metrics":"[^"]*"' "$work/dispatchd.log" | head -n1 | cut -d'"' -f4)
echo "== dispatchd $address (pid $server_pid, --batch-policy=$policy), metrics $metrics" >&2
status=0
"$build_dir/bench/sim/sim_driver" --server="$address" --token-file="$data/admin.token" \
  --metrics="$metrics" --policy="$policy" --batch_interval_ms="$interval" \
  --out="${out:-$work/sim.json}" "${driver_flags[@]}" || status=$?
[[ -n $out ]] && echo "== result written to $out" >&2
exit "$status"
