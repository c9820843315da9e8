#!/usr/bin/env bash
# Runs geo_bench (GeoIndex k-nearest against Redis GEOSEARCH on the same points and
# centres) against a fresh redis-server on a unix socket in a temp dir, and rewrites the
# "## Geo index (k nearest)" section of bench/RESULTS.md, leaving any other section
# alone. Builds nothing.
#
#   bench/run_geo_bench.sh BUILD_DIR [geo_bench flags...]
#
# e.g. bench/run_geo_bench.sh build --queries=20000
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [geo_bench flags...]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
build_dir=$(cd "$1" && pwd)
shift

bench_dir=$(cd "$(dirname "$0")" && pwd)
src_dir=$(dirname "$bench_dir")
geo_bench=$build_dir/bench/geo_bench
results=$bench_dir/RESULTS.md
heading="## Geo index (k nearest)"
[[ -x $geo_bench ]] || { echo "$0: $geo_bench not built" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "$0: redis-server not found" >&2; exit 1; }

work=$(mktemp -d)
redis_pid=
cleanup() {
  if [[ -n $redis_pid ]] && kill -0 "$redis_pid" 2>/dev/null; then
    kill -TERM "$redis_pid" && wait "$redis_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

socket=$work/redis.sock
redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 --save '' \
  --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
waited=0
until [[ -S $socket ]] && redis-cli -s "$socket" ping >/dev/null 2>&1; do
  if ! kill -0 "$redis_pid" 2>/dev/null || (( waited >= 100 )); then
    echo "$0: redis-server did not start; its log:" >&2
    cat "$work/redis.log" >&2
    exit 1
  fi
  sleep 0.1
  waited=$((waited + 1))
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$geo_bench" --redis-socket="$socket" "$@" >"$work/geo.md"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$work/geo.md" >&2

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
revision=$(git -C "$src_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$src_dir" status --porcelain 2>/dev/null) ]]; then revision+=" (with uncommitted changes)"; fi
flags=${*:-none}
section=$work/section.md
{
  echo "$heading"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (${cpu_model:-unknown CPU}),"
  echo "Linux $(uname -r); tree at $revision; $(redis-server --version | cut -d' ' -f1-3)."
  echo "Written by \`bench/run_geo_bench.sh\` (extra geo_bench flags: $flags); geo_bench and"
  echo "redis-server share the same cores. Load average (1, 5, 15 min) before: $load_before;"
  echo "after: $load_after — anything else running skews the figures, the tail most."
  echo
  echo "- **Reference:** Redis \`GEOSEARCH\` on the same points and the same query centres, in"
  echo "  the same run. The figures to compare across runs are the **Redis / GeoIndex** ratios;"
  echo "  microseconds are context for this machine only."
  echo "- **As the caller sees it** (p50, p99, mean): one call at a time, timed around"
  echo "  \`GeoIndex::Nearest\` or around \`RedisClient::Command\` (request, round trip over the"
  echo "  socket, reply parsing). **Redis's own** time per call (\`INFO commandstats\`) leaves"
  echo "  out the round trip and the client, so the comparison is fair to Redis too."
  echo "- **Agreement:** both answers compared id by id for every centre; Redis's positions"
  echo "  are 52-bit geohashes, so neighbours within about a metre may swap places."
  echo "- **Targets:** GeoIndex p99 ≤ 10 µs; ≥ 100× faster than GEOSEARCH BYRADIUS 1000 m."
  echo
  cat "$work/geo.md"
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
awk -v section_file="$section" -v heading="$heading" '
  BEGIN { while ((getline line < section_file) > 0) section = section line "\n" }
  /^## / {
    in_section = 0
    if ($0 == heading) { printf "%s", section; in_section = 1; done = 1; next }
  }
  !in_section { print }
  END { if (!done) { print ""; printf "%s", section } }
' "$results" >"$work/RESULTS.md"
cp "$work/RESULTS.md" "$results"
echo "updated $results" >&2
