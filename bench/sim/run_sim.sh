#!/usr/bin/env bash
# Runs the district simulator (issue 7) once: starts dispatchd on its embedded Redis in a
# temp dir, replays the seeded district with sim_driver and prints the totals. Builds
# nothing: build dispatchd and sim_driver in BUILD_DIR first. Exits non-zero when a
# request was not submitted or ended neither COMPLETED, CANCELLED nor ESCALATED.
#
#   bench/sim/run_sim.sh BUILD_DIR [--quick] [--seed N] [--speedup N] [--out FILE]
#                        [-- DISPATCHD_FLAGS...]
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [--quick] [--seed N] [--speedup N] [--out FILE] [-- DISPATCHD_FLAGS...]" >&2; exit 2; }
build_dir=$(cd "$1" && pwd)
shift
driver_flags=()
server_flags=()
out=
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) driver_flags+=(--quick); shift ;;
    --seed) driver_flags+=(--seed="$2"); shift 2 ;;
    --speedup) driver_flags+=(--speedup="$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; server_flags=("$@"); break ;;
    *) echo "$0: unknown argument $1" >&2; exit 2 ;;
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
  ${server_flags[@]+"${server_flags[@]}"}
echo "== dispatchd $address (pid $server_pid), data dir $data" >&2
status=0
"$build_dir/bench/sim/sim_driver" --server="$address" --token-file="$data/admin.token" \
  --out="${out:-$work/sim.json}" "${driver_flags[@]}" || status=$?
[[ -n $out ]] && echo "== result written to $out" >&2
exit "$status"
