#!/usr/bin/env bash
# Runs PointsService.Redeem through dispatchd (redeem_bench) beside a raw EVALSHA of
# the very same script on the very same redis-server (redis-benchmark), at each
# concurrency, in one run; with Health/Check and Redis PING as the two floors. Saves
# the raw figures to bench/results/redeem.json and rewrites the "## Points: Redeem
# throughput and latency" section of bench/RESULTS.md, leaving any other section
# alone. Builds nothing: configure with -DYIYUAN_BUILD_BENCH=ON and build dispatchd
# and redeem_bench first.
#
#   bench/run_redeem_bench.sh BUILD_DIR [--seconds N] [--concurrency LIST]
#
# dispatchd runs on its embedded Redis (AOF, appendfsync always, as deployed) with
# its data dir on disk: BENCH_DISK_DIR chooses where (default: $TMPDIR or /tmp).
set -euo pipefail

title="## Points: Redeem throughput and latency"
usage() { echo "usage: $0 BUILD_DIR [--seconds N] [--concurrency LIST]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
command_line="bench/run_redeem_bench.sh $*"
build_dir=$(cd "$1" && pwd)
shift
seconds=10
concurrency=1,8,32
volunteers=32
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
lua_dir=$src_dir/server/lua
# shellcheck source=bench/lib.sh
source "$bench_dir/lib.sh"
for b in server/dispatchd bench/redeem_bench; do
  [[ -x $build_dir/$b ]] || { echo "$0: $build_dir/$b not built" >&2; exit 1; }
done
for t in redis-benchmark redis-cli python3 sha1sum; do
  command -v "$t" >/dev/null || { echo "$0: $t not found" >&2; exit 1; }
done

disk_parent=${BENCH_DISK_DIR:-${TMPDIR:-/tmp}}
disk_fs=$(stat -f -c %T "$disk_parent")
if [[ $disk_fs == tmpfs ]]; then
  echo "$0: $disk_parent is tmpfs; set BENCH_DISK_DIR to a directory on disk" >&2
  exit 1
fi

bench_workspace "$disk_parent" redeem-bench

# The machine's busy CPU seconds (/proc/stat: user, nice, system, steal; interrupt
# time, mostly this run's own socket traffic, is left out), and the CPU
# seconds of this script's reaped children (bash's `times`; dispatchd's includes its
# redis-server's): what the rest of the machine used during the run is the difference.
busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu /{ printf "%.2f\n", ($2+$3+$4+$9) / hz }' /proc/stat
}
# children_seconds FILE: the children's user + system seconds in FILE, written by
# `times` run in this shell itself (in a pipe or $(...) it would report a subshell's
# children, none).
children_seconds() {
  tail -n1 "$1" | awk '{ t = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
    printf "%.2f\n", t }'
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
uptime_before=$(uptime)
busy_before=$(busy_seconds)
times >"$work/times"
children_before=$(children_seconds "$work/times")
started=$(date +%s)
start_dispatchd "$build_dir/server/dispatchd" "$data" "$work/dispatchd.log"
# The embedded redis-server listens only on this unix socket (port 0); see
# server/embedded_redis.cc.
sock=$data/redis.sock
rcli() { redis-cli -s "$sock" "$@"; }
[[ $(rcli PING) == PONG ]] || { echo "$0: no Redis answering on $sock" >&2; exit 1; }
appendonly=$(rcli CONFIG GET appendonly | tail -n1)
appendfsync=$(rcli CONFIG GET appendfsync | tail -n1)
metrics=$(grep -o '"metrics":"[^"]*"' "$work/dispatchd.log" | head -n1 | cut -d'"' -f4)
[[ -n $metrics ]] || { echo "$0: no metrics address in dispatchd's log" >&2; exit 1; }
# redeem_histogram: "COUNT LE_25MS LE_100MS" of dispatchd's own Redeem handler latency
# histogram (yiyuan_rpc_seconds), to tell stalls inside the handler from those outside.
redeem_histogram() {
  python3 - "http://$metrics/metrics" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
m = 'method="/yiyuan.v1.PointsService/Redeem"'
def value(pattern):
    for line in text.splitlines():
        if line.startswith(pattern):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0
print(value("yiyuan_rpc_seconds_count{" + m + "}"),
      value("yiyuan_rpc_seconds_bucket{" + m + ',le="0.025"}'),
      value("yiyuan_rpc_seconds_bucket{" + m + ',le="0.1"}'))
PY
}
echo "== dispatchd $address (pid $server_pid), metrics $metrics, Redis on $sock" \
  "(appendonly $appendonly, appendfsync $appendfsync), data dir $data ($disk_fs)" >&2

# The body dispatchd sends: LuaScript::WithLibraries({"dispatch_lib.lua",
# "points_lib.lua"}, "redeem.lua") is each library's text and "\n", then the script's.
script=$work/redeem_composed.lua
{ cat "$lua_dir/dispatch_lib.lua"; printf '\n'; cat "$lua_dir/points_lib.lua"; printf '\n'
  cat "$lua_dir/redeem.lua"; } >"$script"
sha=$(sha1sum "$script" | cut -d' ' -f1)

# redis_benchmark OUT ARGS...: redis-benchmark ARGS with its output in $work/OUT; exits
# the script if it fails, which redis-benchmark 7 does at the first error reply.
redis_benchmark() {
  local name=$1
  shift
  if ! redis-benchmark "$@" >"$work/$name" 2>"$work/$name.err"; then
    echo "$0: redis-benchmark failed ($*):" >&2
    cat "$work/$name" "$work/$name.err" >&2
    exit 1
  fi
}
# bench_redis NAME CLIENTS ARGS...: redis-benchmark over the socket at CLIENTS
# connections, first briefly (warm-up, and a rate estimate) then with as many requests
# as that rate makes in $seconds s (at most $max_requests, when set); its CSV summary
# goes to $work/NAME.csv. Options must come before the command in ARGS (redis-benchmark
# takes whatever follows the command as its arguments).
max_requests=
bench_redis() {
  local name=$1 clients=$2 rps n
  shift 2
  redis_benchmark "$name.warm.csv" -s "$sock" -c "$clients" -n 2000 --csv "$@"
  rps=$(python3 -c 'import csv,sys; print(int(float(list(csv.reader(open(sys.argv[1])))[-1][1])))' \
    "$work/$name.warm.csv")
  n=$(( rps * ${seconds%.*} ))
  (( n >= 2000 )) || n=2000
  if [[ -n $max_requests ]] && (( n > max_requests )); then n=$max_requests; fi
  redis_benchmark "$name.csv" -s "$sock" -c "$clients" -n "$n" --csv "$@"
  echo "2000 $n" >"$work/$name.n"
}

run_tag=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
preloaded=
IFS=, read -r -a levels <<<"$concurrency"
for c in "${levels[@]}"; do
  echo "== $c clients: Redeem through dispatchd..." >&2
  hist_before=$(redeem_histogram)
  if ! "$build_dir/bench/redeem_bench" --server="$address" --token-file="$data/admin.token" \
    --clients="$c" --volunteers="$volunteers" --seconds="$seconds" --server-pid="$server_pid" \
    >"$work/grpc-$c.json"; then
    echo "$0: redeem_bench failed at $c clients; its output:" >&2
    cat "$work/grpc-$c.json" >&2
    exit 1
  fi
  echo "$hist_before $(redeem_histogram)" >"$work/grpc-$c.hist"
  read -r district kiosk item actor volunteer < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["district"], r["kiosk_id"], r["item_id"], r["kiosk_token_id"], r["volunteer_ids"][0])
' "$work/grpc-$c.json")
  if [[ -z $preloaded ]]; then
    # dispatchd has run Redeem, so Redis holds its script; the same sha proves the
    # body composed here is byte for byte the one dispatchd sends.
    preloaded=$(rcli SCRIPT EXISTS "$sha")
    loaded=$(rcli -x SCRIPT LOAD <"$script")
    [[ $loaded == "$sha" ]] || { echo "$0: SCRIPT LOAD gave $loaded, not $sha" >&2; exit 1; }
  fi

  echo "== $c clients: raw EVALSHA by redis-benchmark..." >&2
  prefix="{d:$district}:"
  balance=$(rcli HGET "${prefix}vol:$volunteer" points)
  max_requests=$(( balance - 4000 ))
  seq_before=$(rcli GET "${prefix}seq:led")
  stats_before=$(rcli INFO commandstats | tr -d '\r' | grep '^cmdstat_evalsha:' || true)
  # Every request has its own idempotency key (__rand_int__ drawn from 2^31 values),
  # so each is a real redemption; repeats of a key are replays and counted below.
  bench_redis "evalsha-$c" "$c" -r 2147483647 \
    EVALSHA "$sha" 1 "${prefix}ledger" "$prefix" 1000000 "" \
    "rbraw-$run_tag-c$c-__rand_int__" "$volunteer" "$kiosk" "$item" 1 0 "$actor"
  seq_after=$(rcli GET "${prefix}seq:led")
  stats_after=$(rcli INFO commandstats | tr -d '\r' | grep '^cmdstat_evalsha:')
  echo "$(( seq_after - seq_before )) $stats_before|$stats_after" >"$work/evalsha-$c.redis"

  echo "== $c clients: PING by redis-benchmark..." >&2
  max_requests=
  bench_redis "ping-$c" "$c" PING
done
kill -TERM "$server_pid"
wait "$server_pid" || { echo "$0: dispatchd exited with status $?" >&2; exit 1; }
server_pid=
elapsed=$(( $(date +%s) - started ))
times >"$work/times"
others=$(awk -v b0="$busy_before" -v b1="$(busy_seconds)" -v c0="$children_before" \
  -v c1="$(children_seconds "$work/times")" -v t="$elapsed" \
  'BEGIN { o = (b1 - b0) - (c1 - c0); if (o < 0) o = 0
           printf "%.0f CPU-seconds in %d s (%.0f%% of one core)", o, t, (t > 0 ? 100 * o / t : 0) }')
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
uptime_after=$(uptime)

measured=$(date -u '+%Y-%m-%d %H:%M UTC')
machine=$(machine_line "$src_dir")
mkdir -p "$bench_dir/results"
python3 - "$work" "$concurrency" "$bench_dir/results/redeem.json" "$work/tables.md" \
  "$measured" "$machine" "$load_before" "$load_after" "$seconds" "$sha" "$preloaded" \
  "$appendfsync" "$elapsed" "$disk_parent ($disk_fs)" "$others" <<'PY'
import csv, json, sys

(work, levels, json_out, md_out, measured, machine, load_before, load_after, seconds, sha,
 preloaded, appendfsync, elapsed, disk, others) = sys.argv[1:16]


def bench_csv(path, n_path):
    rows = list(csv.reader(open(path)))
    head, row = rows[0], rows[-1]
    r = dict(zip(head, row))
    warm, n = (int(x) for x in open(n_path).read().split())
    return {"warmup_requests": warm, "requests": n, "ops_per_second": float(r["rps"]),
            "avg_ms": float(r["avg_latency_ms"]), "p50_ms": float(r["p50_latency_ms"]),
            "p95_ms": float(r["p95_latency_ms"]), "p99_ms": float(r["p99_latency_ms"]),
            "max_ms": float(r["max_latency_ms"])}


def cmdstat(line):
    if not line:
        return 0, 0
    fields = dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))
    return int(fields["calls"]), int(fields["usec"])


rows = []
for c in [int(x) for x in levels.split(",")]:
    grpc = json.loads(open(f"{work}/grpc-{c}.json").read())
    raw = bench_csv(f"{work}/evalsha-{c}.csv", f"{work}/evalsha-{c}.n")
    written, stats = open(f"{work}/evalsha-{c}.redis").read().split(" ", 1)
    before, after = stats.strip().split("|")
    (c0, u0), (c1, u1) = cmdstat(before), cmdstat(after)
    raw["ledger_entries_written"] = int(written)
    # The warm-up's requests wrote entries too.
    raw["replays"] = raw["warmup_requests"] + raw["requests"] - int(written)
    raw["redis_usec_per_call"] = (u1 - u0) / (c1 - c0) if c1 > c0 else None
    ping = bench_csv(f"{work}/ping-{c}.csv", f"{work}/ping-{c}.n")
    h = [int(x) for x in open(f"{work}/grpc-{c}.hist").read().split()]
    grpc["dispatchd_redeem_handler"] = {
        "calls": h[3] - h[0], "over_25ms": (h[3] - h[4]) - (h[0] - h[1]),
        "over_100ms": (h[3] - h[5]) - (h[0] - h[2])}
    rows.append({"clients": c, "grpc": grpc, "evalsha": raw, "ping": ping})

out = {"measured": measured, "machine": machine, "load_before": load_before,
       "load_after": load_after, "cpu_used_by_the_rest_of_the_machine": others,
       "seconds_per_phase": float(seconds), "elapsed_seconds":
       int(elapsed), "data_dir": disk, "appendfsync": appendfsync, "script_sha1": sha,
       "script_already_loaded_by_dispatchd": preloaded.strip() == "1", "rows": rows}
with open(json_out, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")

md = []
summary = ["| clients | Redeem ops/s | EVALSHA ops/s | **Redeem / EVALSHA throughput** "
           "| Redeem p50 ms | EVALSHA p50 ms | Redeem p99 ms | EVALSHA p99 ms "
           "| **Redeem / EVALSHA p99** |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    g, e = r["grpc"]["redeem"], r["evalsha"]
    summary.append(
        f"| {r['clients']} | {g['calls_per_second']:.0f} | {e['ops_per_second']:.0f} | "
        f"**{g['calls_per_second'] / e['ops_per_second']:.2f}** | {g['p50_ms']:.3f} | "
        f"{e['p50_ms']:.3f} | {g['p99_ms']:.3f} | {e['p99_ms']:.3f} | "
        f"**{g['p99_ms'] / e['p99_ms']:.1f}×** |")
md += summary
for r in rows:
    c, g, f, e, p = (r["clients"], r["grpc"]["redeem"], r["grpc"]["floor"], r["evalsha"],
                     r["ping"])
    md += ["", f"**{c} client{'s' if c > 1 else ''}** ({r['grpc']['channels']} gRPC "
           f"connection{'s' if r['grpc']['channels'] > 1 else ''}; redis-benchmark: {c} "
           f"connection{'s' if c > 1 else ''}):", "",
           "| call | ops/s | p50 ms | p99 ms | p99.9 ms | calls measured |",
           "|---|---:|---:|---:|---:|---:|",
           f"| PointsService.Redeem via dispatchd | {g['calls_per_second']:.0f} | "
           f"{g['p50_ms']:.3f} | {g['p99_ms']:.3f} | {g['p999_ms']:.3f} | {g['ok']} |",
           f"| raw EVALSHA of the same script | {e['ops_per_second']:.0f} | {e['p50_ms']:.3f} | "
           f"{e['p99_ms']:.3f} | – | {e['requests']} |",
           f"| **ratio Redeem / EVALSHA** | **{g['calls_per_second'] / e['ops_per_second']:.2f}** "
           f"| {g['p50_ms'] / e['p50_ms']:.1f}× | **{g['p99_ms'] / e['p99_ms']:.1f}×** | | |",
           f"| floor: gRPC Health/Check | {f['calls_per_second']:.0f} | {f['p50_ms']:.3f} | "
           f"{f['p99_ms']:.3f} | – | {f['ok']} |",
           f"| floor: Redis PING | {p['ops_per_second']:.0f} | {p['p50_ms']:.3f} | "
           f"{p['p99_ms']:.3f} | – | {p['requests']} |"]

notes = []
for r in rows:
    c, g, e = r["clients"], r["grpc"], r["evalsha"]
    red = g["redeem"]
    cpu = red["server_cpu_seconds"]
    parts = [f"c={c}: Redeem p50 − EVALSHA p50 = {red['p50_ms'] - e['p50_ms']:.3f} ms "
             f"(Health/Check p50 {g['floor']['p50_ms']:.3f} ms, PING p50 "
             f"{r['ping']['p50_ms']:.3f} ms)"]
    fcpu = g["floor"]["server_cpu_seconds"]
    if cpu is not None and red["ok"] and fcpu is not None and g["floor"]["ok"]:
        parts.append(f"dispatchd CPU {cpu * 1e6 / red['ok']:.0f} µs per Redeem, "
                     f"{fcpu * 1e6 / g['floor']['ok']:.0f} µs per Health/Check")
    if e["redis_usec_per_call"] is not None:
        parts.append(f"redis-server inside the script {e['redis_usec_per_call']:.0f} µs per "
                     "raw EVALSHA (INFO commandstats)")
    hd = g["dispatchd_redeem_handler"]
    parts.append(f"Redeem calls over 25 ms / over 100 ms as the client saw them: "
                 f"{red['calls_over_25ms']:.0f} / {red['calls_over_100ms']:.0f} of {red['ok']}; "
                 f"as dispatchd's own handler histogram saw them (warm-up included): "
                 f"{hd['over_25ms']} / {hd['over_100ms']} of {hd['calls']}")
    parts.append(f"raw EVALSHA replays (a repeated random key) {e['replays']} of "
                 f"{e['warmup_requests'] + e['requests']}")
    notes.append("; ".join(parts) + ".")
bad = [r["clients"] for r in rows if r["grpc"]["redeem_failed_or_replayed_incl_warmup"]]
md += ["", "Per concurrency, what the gap is made of (numbers from this run):", ""]
md += [f"- {n}" for n in notes]
if bad:
    md += ["", f"**Failed run:** Redeem calls failed or were replayed at c={bad}."]
open(md_out, "w").write("\n".join(md) + "\n")
PY

{
  echo "$title"
  echo
  echo "Measured $measured on $machine."
  echo "Written by \`$command_line\` (took $elapsed s; $seconds s per measured phase). Load"
  echo "average (1, 5, 15 min) before: $load_before; after: $load_after — redeem_bench,"
  echo "redis-benchmark, dispatchd and redis-server share the same cores, and anything else"
  echo "running skews the figures. Raw figures: \`bench/results/redeem.json\`."
  echo
  echo "- **Redeem:** \`redeem_bench\` against dispatchd on its embedded Redis (AOF,"
  echo "  \`appendfsync $appendfsync\`, data dir on disk: $disk_parent, $disk_fs). Set-up as ADMIN:"
  echo "  $volunteers new volunteers funded by AdjustPoints, one kiosk item (1 point, stock that cannot"
  echo "  run out), a KIOSK token for that kiosk. Then N threads call Redeem in a closed loop"
  echo "  (quantity 1, a new request_id each call, spread over ≤ 4 connections) after a 1 s"
  echo "  warm-up; latency as the client sees it. Any failed or replayed call fails the run."
  echo "- **Raw EVALSHA:** \`redis-benchmark -c N\` on the same redis-server's unix socket"
  echo "  (\`<data dir>/redis.sock\`), in the same run, just after: \`EVALSHA\` of the same"
  echo "  composed body (dispatch_lib.lua, points_lib.lua, redeem.lua as"
  echo "  \`LuaScript::WithLibraries\` joins them; sha ${sha:0:12}…, already cached by dispatchd's"
  echo "  own Redeem calls: $( [[ $preloaded == 1 ]] && echo yes || echo no)) with the arguments dispatchd passes, one of the"
  echo "  set-up's volunteers, the same kiosk and item, and a new idempotency key per request"
  echo "  (\`__rand_int__\`; the few repeats are replays and are counted). Request count chosen"
  echo "  from a 2,000-request warm-up so the phase lasts about as long as the gRPC one."
  echo "- **Floors:** gRPC \`Health/Check\` on the same dispatchd and connections, just before"
  echo "  Redeem; Redis \`PING\` by redis-benchmark at the same -c, just after EVALSHA."
  echo "- **What the ratio means:** the same script does the same Redis work either way, so"
  echo "  the gap is dispatchd's share: the gRPC call (HTTP/2, protobuf, a handler thread),"
  echo "  the token check, field validation, proto ↔ domain conversion and the reply's"
  echo "  conversion back, and the hop through dispatchd's Redis pool — plus the client's own"
  echo "  CPU, which competes for the same cores (redis-benchmark is one lean event-loop"
  echo "  thread; redeem_bench is N blocking gRPC threads). With \`appendfsync always\` both"
  echo "  pay the same fsync, which Redis shares across the writes of one event-loop turn."
  echo
  cat "$work/tables.md"
  echo
  echo "\`uptime\` before: \`${uptime_before# }\`; after: \`${uptime_after# }\`. CPU used during the"
  echo "run by everything but this script's processes (other processes, and kernel threads"
  echo "such as the fsync and journal workers; interrupt time left out): $others."
  echo
} >"$work/section.md"
replace_section "$bench_dir/RESULTS.md" "$title" "$work/section.md"
echo "updated $bench_dir/RESULTS.md and $bench_dir/results/redeem.json (took $elapsed s)" >&2
