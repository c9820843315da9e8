#!/usr/bin/env bash
# Runs roster_bench against a fresh dispatchd whose data dir is on tmpfs (/dev/shm) and
# rewrites the "## Live roster (ReportLocation, FindNearbyVolunteers, memory)" section
# of bench/RESULTS.md, leaving any other section alone. Builds nothing.
#
#   bench/run_roster_bench.sh BUILD_DIR [--volunteers N] [--on-duty M] [--seconds S]
#       [--register-time-limit S]
#
# --volunteers and --on-duty default to 1000000 and 100000; --seconds (per measured
# phase) to 10; --register-time-limit (0: none) stops registering after that many
# seconds and goes on with the volunteers registered by then (the section says so).
set -euo pipefail

section_title="## Live roster (ReportLocation, FindNearbyVolunteers, memory)"
usage() {
  echo "usage: $0 BUILD_DIR [--volunteers N] [--on-duty M] [--seconds S] [--register-time-limit S]" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
command_line="bench/run_roster_bench.sh $*"
build_dir=$(cd "$1" && pwd)
shift
volunteers=1000000
on_duty=100000
seconds=10
time_limit=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --volunteers) volunteers=$2; shift 2 ;;
    --volunteers=*) volunteers=${1#*=}; shift ;;
    --on-duty) on_duty=$2; shift 2 ;;
    --on-duty=*) on_duty=${1#*=}; shift ;;
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --register-time-limit) time_limit=$2; shift 2 ;;
    --register-time-limit=*) time_limit=${1#*=}; shift ;;
    *) usage ;;
  esac
done

bench_dir=$(cd "$(dirname "$0")" && pwd)
src_dir=$(dirname "$bench_dir")
dispatchd=$build_dir/server/dispatchd
roster_bench=$build_dir/bench/roster_bench
results=$bench_dir/RESULTS.md
for b in "$dispatchd" "$roster_bench"; do
  [[ -x $b ]] || { echo "$0: $b not built" >&2; exit 1; }
done

work=$(mktemp -d)
data=
server_pid=
bench_pid=
cleanup() {
  if [[ -n $bench_pid ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" && wait "$bench_pid" || true
  fi
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" && wait "$server_pid" || true
  fi
  rm -rf "$work" ${data:+"$data"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1M volunteers with appendfsync always on disk would take far too long here; tmpfs
# keeps the AOF but makes its fsync nearly free (run_intake_bench.sh measures that toll).
data=$(mktemp -d /dev/shm/yiyuan-roster-bench.XXXXXX)
"$dispatchd" --data-dir="$data" --listen=127.0.0.1:0 --metrics-listen=127.0.0.1:0 \
  --ready-file="$data/ready" >"$work/dispatchd.log" 2>&1 &
server_pid=$!
waited=0
until [[ -s $data/ready ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null || (( waited >= 300 )); then
    echo "$0: dispatchd did not start; its log:" >&2
    cat "$work/dispatchd.log" >&2
    exit 1
  fi
  sleep 0.1
  waited=$((waited + 1))
done
address=$(<"$data/ready")
metrics=$(grep -o '"metrics":"[^"]*"' "$work/dispatchd.log" | head -n1 | cut -d'"' -f4)
[[ -n $metrics ]] || { echo "$0: no metrics address in dispatchd's log" >&2; exit 1; }
echo "== dispatchd $address (pid $server_pid), metrics $metrics, data dir $data" >&2

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
"$roster_bench" --server="$address" --token-file="$data/admin.token" \
  --redis-socket="$data/redis.sock" --metrics="http://$metrics/metrics" \
  --server-pid="$server_pid" --volunteers="$volunteers" --on-duty="$on_duty" \
  --seconds="$seconds" --register-time-limit="$time_limit" \
  --json="$work/roster.json" >"$work/roster.md" &
bench_pid=$!
wait "$bench_pid" || { echo "$0: roster_bench failed" >&2; exit 1; }
bench_pid=
elapsed=$(( $(date +%s) - started ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
kill -TERM "$server_pid"
wait "$server_pid" || { echo "$0: dispatchd exited with status $?" >&2; exit 1; }
server_pid=
cat "$work/roster.md" >&2

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
revision=$(git -C "$src_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$src_dir" status --porcelain 2>/dev/null) ]]; then revision+=" (with uncommitted changes)"; fi
sizes="the full sizes"
if (( volunteers < 1000000 || on_duty < 100000 )); then
  sizes="**smaller than the full sizes** (1,000,000 registered, 100,000 on duty)"
fi
limit_text="no time limit on registering"
if [[ $time_limit != 0 ]]; then
  limit_text="registering limited to $time_limit s (a note below says if the limit cut it short)"
fi
section=$work/section.md
{
  echo "$section_title"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (${cpu_model:-unknown CPU}),"
  echo "Linux $(uname -r); tree at $revision; $(redis-server --version | cut -d' ' -f1-3)."
  echo "Written by \`$command_line\`"
  echo "(took $elapsed s): $volunteers volunteers asked, $on_duty on duty — $sizes;"
  echo "$limit_text; $seconds s per load phase after a 1 s warm-up. Load average (1, 5, 15 min)"
  echo "before: $load_before; after: $load_after — anything else running skews the figures."
  echo
  echo "- **Data dir on tmpfs (/dev/shm)**, not on disk as deployed: registering 1,000,000"
  echo "  volunteers with \`appendfsync always\` on this disk would take too long. The AOF is"
  echo "  still written, but its fsync is nearly free, so write throughput here is an upper"
  echo "  bound (\"Intake (SubmitRequest)\" above measures the fsync's toll)."
  echo "- **One machine:** roster_bench, dispatchd and redis-server share the $(nproc) cores."
  echo "  The load generator is kept modest (8 clients for steps a and b; 1 and 16 blocking"
  echo "  client threads on at most 4 connections for c and d), but it still takes a share"
  echo "  of the CPU (the roster_bench column below)."
  echo "- **Reference (\"floor\"):** \`grpc.health.v1.Health/Check\` on the same dispatchd, from the"
  echo "  same client threads over the same connections, measured just before each phase."
  echo "  The figure to compare across runs is **call / floor throughput**."
  echo "- **Calls:** RegisterVolunteer with distinct external ids and phones, two skills, 0–2"
  echo "  certificates, one or two languages and three weekly slots; SetDutyStatus DUTY_ON for"
  echo "  volunteers picked at random (seeded), at uniformly random points of a 20 km × 20 km"
  echo "  square around 30.87, 120.09; ReportLocation moves a random on-duty volunteer up to"
  echo "  5 m east and north of that point (fix time \"now\"); FindNearbyVolunteers asks for"
  echo "  k = 16 within 5 km of a random point of the square (default filters: DUTY_ON only),"
  echo "  as ADMIN, so each answer carries 16 full volunteer records read from Redis."
  echo "- **Memory:** dispatchd's VmRSS and VmHWM from /proc/PID/status, redis-server's"
  echo "  used_memory from INFO, each read once dispatchd has gone idle after the step (its"
  echo "  live roster has caught up with the event streams). Per-volunteer figures divide a"
  echo "  step's growth by the volunteers it added."
  echo "- **Target:** dispatchd VmRSS ≤ 2 GiB with 1,000,000 registered and 100,000 on duty;"
  echo "  stated as met or not met under the memory table (only at the full sizes)."
  echo
  cat "$work/roster.md"
  echo
} >"$section"

# Re-read RESULTS.md only now, so sections others wrote meanwhile are kept.
if [[ ! -f $results ]]; then
  cat >"$results" <<'EOF'
# Benchmark results

Every figure that matters here is a ratio against a reference measured in the same run on
the same machine (for example SubmitRequest throughput against a trivial gRPC call to the
same server). Absolute figures (calls/s, milliseconds, µs) appear beside the ratios for
context only: they depend on the machine and on whatever else ran on it, and are not
comparable across runs. Each section is rewritten by the script it names; the others are
left as they are.

EOF
fi
awk -v section_file="$section" -v title="$section_title" '
  BEGIN { while ((getline line < section_file) > 0) section = section line "\n" }
  /^## / {
    in_section = 0
    if ($0 == title) { printf "%s", section; in_section = 1; done = 1; next }
  }
  !in_section { print }
  END { if (!done) { printf "\n%s", section } }
' "$results" >"$work/RESULTS.md"
cp "$work/RESULTS.md" "$results"
echo "updated $results" >&2
