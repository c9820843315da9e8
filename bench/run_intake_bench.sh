#!/usr/bin/env bash
# Runs intake_bench against a fresh dispatchd twice — data dir on disk, then on tmpfs
# (/dev/shm), to separate the cost of the AOF fsync (appendfsync always) from the
# rest — and rewrites the "## Intake (SubmitRequest)" section of bench/RESULTS.md,
# leaving any other section alone. Builds nothing.
#
#   bench/run_intake_bench.sh BUILD_DIR [--seconds N] [--concurrency LIST]
#
# BENCH_DISK_DIR chooses where the on-disk data dir is made (default: $TMPDIR or /tmp).
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [--seconds N] [--concurrency LIST]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
build_dir=$(cd "$1" && pwd)
shift
seconds=10
concurrency=1,16
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --concurrency=*) concurrency=${1#*=}; shift ;;
    *) usage ;;
  esac
done

bench_dir=$(cd "$(dirname "$0")" && pwd)
src_dir=$(dirname "$bench_dir")
dispatchd=$build_dir/server/dispatchd
intake_bench=$build_dir/bench/intake_bench
results=$bench_dir/RESULTS.md
for b in "$dispatchd" "$intake_bench"; do
  [[ -x $b ]] || { echo "$0: $b not built" >&2; exit 1; }
done

work=$(mktemp -d)
server_pid=
data_dirs=()
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" && wait "$server_pid" || true
  fi
  rm -rf "$work" "${data_dirs[@]}"
}
trap cleanup EXIT

# run_once DATA_PARENT NAME LABEL: starts dispatchd on a fresh data dir under
# DATA_PARENT, runs the bench (markdown to $work/NAME.md, JSON to $work/NAME.json) and
# stops dispatchd with SIGTERM.
run_once() {
  local parent=$1 name=$2 label=$3
  local data
  data=$(mktemp -d "$parent/yiyuan-bench.XXXXXX")
  data_dirs+=("$data")
  "$dispatchd" --data-dir="$data" --listen=127.0.0.1:0 --metrics-listen=127.0.0.1:0 \
    --ready-file="$data/ready" >"$work/$name.dispatchd.log" 2>&1 &
  server_pid=$!
  local waited=0
  until [[ -s $data/ready ]]; do
    if ! kill -0 "$server_pid" 2>/dev/null || (( waited >= 300 )); then
      echo "$0: dispatchd did not start; its log:" >&2
      cat "$work/$name.dispatchd.log" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  local address metrics
  address=$(<"$data/ready")
  metrics=$(grep -o '"metrics":"[^"]*"' "$work/$name.dispatchd.log" | head -n1 | cut -d'"' -f4)
  [[ -n $metrics ]] || { echo "$0: no metrics address in dispatchd's log" >&2; exit 1; }
  echo "== $label: dispatchd $address (pid $server_pid), metrics $metrics" >&2
  "$intake_bench" --server="$address" --token-file="$data/admin.token" \
    --redis-socket="$data/redis.sock" --metrics="http://$metrics/metrics" \
    --server-pid="$server_pid" --seconds="$seconds" --concurrency="$concurrency" \
    --label="$label" --json="$work/$name.json" >"$work/$name.md"
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "$0: dispatchd exited with status $?" >&2; exit 1; }
  server_pid=
  cat "$work/$name.md" >&2
}

disk_parent=${BENCH_DISK_DIR:-${TMPDIR:-/tmp}}
disk_fs=$(stat -f -c %T "$disk_parent")
if [[ $disk_fs == tmpfs ]]; then
  echo "$0: $disk_parent is tmpfs; set BENCH_DISK_DIR to a directory on disk" >&2
  exit 1
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_once "$disk_parent" disk \
  "Data dir on disk ($disk_parent, $disk_fs): AOF fsync on every write, as deployed"
run_once /dev/shm tmpfs \
  "Data dir on tmpfs (/dev/shm): same, with fsync nearly free — the cost of everything else"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

fsync_line=
if command -v python3 >/dev/null; then
  fsync_line=$(python3 - "$work/disk.json" "$work/tmpfs.json" <<'EOF'
import json, sys
disk, tmpfs = (json.load(open(p))["results"] for p in sys.argv[1:3])
parts = []
for d, t in zip(disk, tmpfs):
    a, b = d["submit"]["calls_per_second"], t["submit"]["calls_per_second"]
    if b:
        parts.append(f"c={d['clients']}: {100 * a / b:.0f}%")
print("Submit throughput with the data dir on disk, as a share of the same on tmpfs "
      "(the fsync's toll): " + "; ".join(parts) + ".")
EOF
)
fi

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
revision=$(git -C "$src_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$src_dir" status --porcelain 2>/dev/null) ]]; then revision+=" (with uncommitted changes)"; fi
section=$work/section.md
{
  echo "## Intake (SubmitRequest)"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (${cpu_model:-unknown CPU}),"
  echo "Linux $(uname -r); tree at $revision; $(redis-server --version | cut -d' ' -f1-3)."
  echo "Written by \`bench/run_intake_bench.sh\` ($seconds s per phase after a 1 s warm-up);"
  echo "intake_bench, dispatchd and redis-server share the same cores. Load average (1, 5, 15 min)"
  echo "before: $load_before; after: $load_after — anything else running skews the figures."
  echo
  echo "- **Reference (\"floor\"):** \`grpc.health.v1.Health/Check\` on the same dispatchd, from the"
  echo "  same client threads over the same connections, measured just before each submit phase."
  echo "  The figure to compare across runs is **submit / floor throughput**; calls/s and"
  echo "  milliseconds are context for this machine only."
  echo "- **Each submit** has a new \`request_id\` and a new resident phone (nothing is replayed"
  echo "  or folded as a duplicate): channel APP, SHOPPING, ROUTINE, community wx-aiguo."
  echo "- **Redis round trips per submit** are counted at both ends: EVALSHA+EVAL calls as"
  echo "  counted by redis-server (\`INFO commandstats\`, which also counts the commands run"
  echo "  inside scripts — the last column), and dispatchd's \`yiyuan_redis_round_trips_total\`."
  echo "- **Targets:** ≤ 1 Redis round trip per submit; submit throughput ≥ 50% of the floor's"
  echo "  at each concurrency. Stated as met or not met under each table."
  echo
  cat "$work/disk.md"
  echo
  cat "$work/tmpfs.md"
  if [[ -n $fsync_line ]]; then
    echo
    echo "$fsync_line"
  fi
  echo
} >"$section"

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
awk -v section_file="$section" '
  BEGIN { while ((getline line < section_file) > 0) section = section line "\n" }
  /^## / {
    in_section = 0
    if ($0 == "## Intake (SubmitRequest)") { printf "%s", section; in_section = 1; done = 1; next }
  }
  !in_section { print }
  END { if (!done) printf "%s", section }
' "$results" >"$work/RESULTS.md"
cp "$work/RESULTS.md" "$results"
echo "updated $results" >&2
