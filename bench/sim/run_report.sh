#!/usr/bin/env bash
# The simulator's report in one command: builds, replays the seeded district day against
# a fresh dispatchd twice (optimal and greedy batch policy), drives a third one at fixed
# submit rates and to its ceiling, then writes the "City simulator" section of
# bench/RESULTS.md and its PNG plots (bench/results/sim/) with bench/sim/report.py.
#
#   bench/sim/run_report.sh            full run: 10k volunteers, 3,000 requests, ~15 min
#   bench/sim/run_report.sh --quick    ~1 min smoke run of the same pipeline on the small
#                                      district; writes var/sim/quick/RESULTS.md and its
#                                      plots, never bench/RESULTS.md
#
# Options: --seed N (default 1), --skip-build (use ./build as it is). The JSON results
# stay in var/sim/ (or var/sim/quick/). Exits non-zero when any run fails its own checks
# (a request lost or stuck, the points audit) or the report cannot be written.
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$(pwd)
quick=0
seed=1
build=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1; shift ;;
    --seed) seed=$2; shift 2 ;;
    --skip-build) build=0; shift ;;
    *) echo "usage: $0 [--quick] [--seed N] [--skip-build]" >&2; exit 2 ;;
  esac
done
# shellcheck source=bench/lib.sh
source bench/lib.sh

if ((build)); then bash scripts/build.sh >/dev/null; fi
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  echo "$0: python3-matplotlib is missing: run scripts/install-deps.sh" >&2
  exit 1
fi

interval=5000
if ((quick)); then
  out=var/sim/quick
  results=$out/RESULTS.md
  plots=$out
  day=(--quick --speedup 14400 --drain-seconds 20)
  load=(--quick --load 500 --load-seconds 3 --ceiling-seconds 2 --drain-seconds 8)
  interval=1000
else
  out=var/sim
  results=bench/RESULTS.md
  plots=bench/results/sim
  day=(--speedup 600)
  load=(--load 100,250,500 --load-seconds 20 --ceiling-seconds 10)
fi
mkdir -p "$out" "$plots"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0
for policy in optimal greedy; do
  echo "== day, $policy batch policy" >&2
  bash bench/sim/run_sim.sh build --seed "$seed" "${day[@]}" --policy "$policy" \
    --batch-interval-ms "$interval" --out "$out/day-$policy.json" >"$out/day-$policy.log" 2>&1 ||
    { status=$?; echo "$0: the $policy day failed its checks (exit $status); see $out/day-$policy.log" >&2; }
  tail -n 3 "$out/day-$policy.log" >&2
done
echo "== load" >&2
bash bench/sim/run_sim.sh build --seed "$seed" "${load[@]}" --batch-interval-ms "$interval" \
  --out "$out/load.json" >"$out/load.log" 2>&1 ||
  { status=$?; echo "$0: the load run failed its checks (exit $status); see $out/load.log" >&2; }
grep -E '^ *[0-9]+/s offered|^ceiling' "$out/load.log" >&2 || true
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

header=$(mktemp)
trap 'rm -f "$header"' EXIT
mode="full"
((quick)) && mode="quick (small district, smoke run)"
cat >"$header" <<MD
Measured $started on $(machine_line "$root").
Written by \`bench/sim/run_report.sh\` ($mode, seed $seed): each run starts its own
dispatchd on its embedded Redis (data in /dev/shm), and sim_driver plays every resident,
operator, volunteer app and kiosk over real gRPC on the same 2 cores. Load average
(1, 5, 15 min) before: $load_before; after: $load_after.

- **Time.** The simulated day runs faster than real time (\`speedup\` below): arrivals,
  volunteers' thinking, travel and service are compressed. dispatchd's own clock is not:
  its batch interval (${interval} ms), offer lifetimes and every latency below are real
  milliseconds. "First offer" is submit → the first offer made (for ROUTINE, the batch
  cycle's decision); "assignment" is submit → an accepted offer, so it includes the
  volunteer's simulated thinking.
- **Day.** The same seeded district and day, once with \`--batch-policy=optimal\` (the
  min-cost solver) and once with \`--batch-policy=greedy\` (oldest request first, nearest
  free candidate). Kiosks redeem points during the day; at the end the ledger is read back
  and audited.
- **Load.** The district's request mix (new residents, no time windows) submitted open-loop
  at each rate while the simulated apps answer every offer, then a closed-loop ceiling phase
  (its requests are cancelled afterwards). At 500 submits/s the apps add about 5 calls per
  request, so dispatchd serves about 3,000 calls/s in all.
MD
/usr/bin/python3 bench/sim/report.py --day-optimal "$out/day-optimal.json" \
  --day-greedy "$out/day-greedy.json" --load "$out/load.json" --results "$results" \
  --plots-dir "$plots" --header-file "$header"
exit "$status"
