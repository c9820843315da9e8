#!/usr/bin/env bash
# Command (1) of the README: install what is missing, build, start dispatchd on its
# embedded Redis (data in ./var), and run a short demo through the real clients.
# dispatchd keeps running afterwards unless you pass --stop.
#
# For a second copy beside a running one (e.g. a developer's own build): DEMO_BUILD_DIR
# uses the binaries already built there and skips install and build; DEMO_DATA_DIR,
# DEMO_LISTEN and DEMO_METRICS replace var, 127.0.0.1:50051 and 127.0.0.1:9464.
set -euo pipefail
cd "$(dirname "$0")/.."
stop_after=0
[ "${1:-}" = "--stop" ] && stop_after=1
build_dir=${DEMO_BUILD_DIR:-build}
var=${DEMO_DATA_DIR:-var}
if [ -z "${DEMO_BUILD_DIR:-}" ]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
fi

ctl_bin=$build_dir/clients/dispatchctl
ctl() { "$ctl_bin" --data-dir="$var" "$@"; }
mkdir -p "$var"
if [ -f "$var/dispatchd.pid" ] && kill -0 "$(cat "$var/dispatchd.pid")" 2>/dev/null; then
  echo "demo: dispatchd already running (pid $(cat "$var/dispatchd.pid"))"
else
  rm -f "$var/ready"
  "$build_dir/server/dispatchd" --data-dir="$var" --listen="${DEMO_LISTEN:-127.0.0.1:50051}" \
    --metrics-listen="${DEMO_METRICS-127.0.0.1:9464}" --ready-file="$var/ready" 2>>"$var/dispatchd.log" &
  echo $! > "$var/dispatchd.pid"
  for _ in $(seq 1 300); do [ -s "$var/ready" ] && break; sleep 0.1; done
  [ -s "$var/ready" ] || { echo "demo: dispatchd did not start; see $var/dispatchd.log"; exit 1; }
  echo "demo: dispatchd serving on $(cat "$var/ready") (pid $(cat "$var/dispatchd.pid")), log in $var/dispatchd.log"
fi
export YIYUAN_SERVER="$(cat "$var/ready")"

run() { echo; echo "\$ dispatchctl $*"; ctl "$@"; }
# As run, showing only the first line of the answer (what happened).
run1() { echo; echo "\$ dispatchctl $*"; local out; out=$(ctl "$@"); echo "${out%%$'\n'*}"; }
# Reads JSON on stdin and prints what the Python expression $1 makes of it (d).
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
stamp=$(date +%s)
run submit --request-id="demo-hotline-$stamp" --channel=hotline --category=elder_visit \
  --urgency=routine --name="Wang Guifen" --phone="138 5720 1234" --address="3-201 Aiguo Xincun" \
  --lat=30.8703 --lng=120.0933 --community=wx-aiguo --compound=aiguo-xincun --high-age --lives-alone \
  --description="Monthly visit; lives alone, 86 years old"
run submit --request-id="demo-station-$stamp" --channel=station --station=st-07 --category=repair \
  --urgency=urgent --name="Zhao Jun" --phone=0572-2234567 --lat=30.8812 --lng=120.1011 \
  --community=wx-renhuang --description="Leaking kitchen pipe"
run submit --request-id="demo-wechat-$stamp" --channel=wechat --category=escort --urgency=crisis \
  --name="Li Mei" --phone=13905721111 --lat=30.8655 --lng=120.0870 --community=wx-aiguo \
  --required-skills=driver --description="Needs escort to hospital now"
echo; echo "# The same resident calls again about the same need: folded into the open request."
run submit --request-id="demo-hotline2-$stamp" --channel=hotline --category=elder_visit \
  --urgency=routine --name="Wang Guifen" --phone=13857201234 --lat=30.8703 --lng=120.0933 \
  --community=wx-aiguo
echo; echo "# Bad input is refused, naming the field:"
run submit --request-id="demo-bad-$stamp" --channel=app --category=shopping --urgency=routine \
  --name="Test" --phone=12345 --lat=95 --lng=120 --community=wx-aiguo || true
run list --page-size=10

echo; echo "# Volunteers register (idempotent on their platform id), go on duty with a location,"
echo "# and report where they are; a van and a team are units that can be matched too."
run volunteer register --external-id=demo-zj-001 --name="Shen Aiying" --phone=13857209001 \
  --community=wx-aiguo --skills=cooking,chat --certificates=elder_care --languages=zh,wuu-huzhou \
  --availability="mon-sun 07:00-21:00" --capacity=2
run volunteer register --external-id=demo-zj-002 --name="Qian Wei" --phone=13857209002 \
  --community=wx-aiguo --skills=repair --certificates=driver,first_aid
run volunteer register --external-id=demo-zj-003 --name="Dr. Lu Fang" --phone=13857209003 \
  --community=wx-renhuang --certificates=medical,licensed_social_worker
v1=$(ctl volunteers --external-id=demo-zj-001 --json | json 'd["volunteers"][0]["id"]')
v2=$(ctl volunteers --external-id=demo-zj-002 --json | json 'd["volunteers"][0]["id"]')
v3=$(ctl volunteers --external-id=demo-zj-003 --json | json 'd["volunteers"][0]["id"]')
run volunteer duty "$v1" on --lat=30.8711 --lng=120.0925
run volunteer duty "$v2" on --lat=30.8790 --lng=120.0990
run volunteer duty "$v3" busy --lat=30.8660 --lng=120.0880
run volunteer locate "$v2" --lat=30.8740 --lng=120.0950
run unit create --unit-id=demo-van-1 --kind=van --name="Service van 1" --community=wx-aiguo \
  --lat=30.8680 --lng=120.0900 --members="$v2" --equipment=wheelchair,blood_pressure_meter --capacity=2
run unit create --unit-id=demo-team-1 --kind=team --name="Aiguo elder-care team" --community=wx-aiguo \
  --lat=30.8703 --lng=120.0933 --members="$v1,$v3" --leader="$v3" --skills=elder_care
echo; echo "# Who is near the resident who called first? (busy volunteers are left out by default)"
run nearby --lat=30.8703 --lng=120.0933 --limit=5 --units
run nearby --lat=30.8703 --lng=120.0933 --certificates=medical --duty=on,busy
echo; echo "# A standing pairing: this volunteer looks after Wang Guifen every month."
run pair --volunteer="$v1" --name="Wang Guifen" --phone=13857201234 --community=wx-aiguo \
  --compound=aiguo-xincun --recurrence=monthly --high-age --lives-alone --notes="First Sunday"
run volunteers --community=wx-aiguo

# ---- Dispatch: requests become offers, volunteers answer, operators step in ----
# Waits (at most 5 s) until request $1 is in one of the states $2...: offers are made by
# dispatchd's dispatcher a few milliseconds after a submission or a decline.
wait_state() {
  local id=$1 state=""; shift
  for _ in $(seq 1 50); do
    state=$(ctl get "$id" --json | json 'd["state"]')
    for want in "$@"; do [ "$state" = "$want" ] && return 0; done
    sleep 0.1
  done
  echo "demo: $id is $state, expected $*"; return 1
}
# "VOLUNTEER_ID OFFER_ID" of the $2-th offer made for request $1, read from the event log.
nth_offer() {
  ctl watch --after=0 --request="$1" --types=offer_made --max="$2" --idle-ms=5000 --json |
    /usr/bin/python3 -c '
import json, sys
events = [json.loads(line) for line in sys.stdin]
if len(events) < int(sys.argv[1]):
    sys.exit("demo: only %d offers were made" % len(events))
print(events[-1]["volunteer_id"], events[-1]["offer_id"])' "$2"
}
echo; echo "# Two more volunteers come on duty: a first-aider and a handyman."
ctl volunteer register --external-id=demo-zj-004 --name="Xu Ming" --phone=13857209004 \
  --community=wx-aiguo --skills=chat --certificates=first_aid >/dev/null
ctl volunteer register --external-id=demo-zj-005 --name="Gao Lan" --phone=13857209005 \
  --community=wx-aiguo --skills=repair,plumbing --certificates=first_aid >/dev/null
v4=$(ctl volunteers --external-id=demo-zj-004 --json | json 'd["volunteers"][0]["id"]')
v5=$(ctl volunteers --external-id=demo-zj-005 --json | json 'd["volunteers"][0]["id"]')
ctl volunteer duty "$v4" on --lat=30.8725 --lng=120.0915 >/dev/null
ctl volunteer duty "$v5" on --lat=30.8760 --lng=120.0975 >/dev/null
echo "on duty: $v4 Xu Ming (first_aid), $v5 Gao Lan (repair, plumbing, first_aid)"
# Fresh phone numbers each run, so these are new requests rather than duplicates.
phone_tail=$(printf %08d $((stamp % 100000000)))

echo; echo "# A CRISIS: offered at once to the best three in parallel; the first to accept wins."
crisis=$(ctl submit --json --request-id="demo-crisis-$stamp" --channel=hotline --category=health_check \
  --urgency=crisis --name="Chen Xiuying" --phone="137$phone_tail" --lat=30.8722 --lng=120.0912 \
  --community=wx-aiguo --high-age --lives-alone \
  --description="Fell in the bathroom, conscious, cannot get up" | json 'd["request"]["id"]')
echo "submitted $crisis"
wait_state "$crisis" OFFERED ESCALATED
read -r best best_offer <<<"$(nth_offer "$crisis" 1)"
echo; echo "# The best-placed volunteer's phone shows the offer (approximate place only):"
run offers "$best"
echo; echo "# Why them? explain ranks who is left (none, if all got offers) and says who was left out:"
run explain "$crisis" --excluded
run respond "$best_offer" accept --lat=30.8724 --lng=120.0914
echo; echo "# A second acceptance loses: the offers to the others were withdrawn."
read -r _ other_offer <<<"$(nth_offer "$crisis" 2)"
run respond "$other_offer" accept || true
run1 progress "$crisis" en-route
run1 progress "$crisis" arrived
run progress "$crisis" completed --minutes=35 --rating=5 --notes="Helped her up; daughter on her way"

echo; echo "# An URGENT repair: offered to the best one; a decline moves it on to the next."
urgent=$(ctl submit --json --request-id="demo-urgent-$stamp" --channel=app --category=repair \
  --urgency=urgent --name="Sun Hao" --phone="136$phone_tail" --lat=30.8755 --lng=120.0968 \
  --community=wx-aiguo --required-skills=repair --description="Burst pipe under the kitchen sink" |
  json 'd["request"]["id"]')
echo "submitted $urgent"
wait_state "$urgent" OFFERED ESCALATED
read -r first first_offer <<<"$(nth_offer "$urgent" 1)"
run offers "$first"
echo; echo "# Next in line, with the weighted value of each cost component (lower is better):"
run explain "$urgent"
run1 respond "$first_offer" decline --reason=busy --notes="At the hospital with my mother"
read -r second second_offer <<<"$(nth_offer "$urgent" 2)"
echo; echo "# Moved on: the next repairer holds the offer now."
run offers "$second"
run1 respond "$second_offer" decline --reason=too-far
echo; echo "# Nobody else can do it: the request goes to the operators' queue."
wait_state "$urgent" ESCALATED
run escalations --page-size=5
run assign "$urgent" --volunteer="$first" --reason="Called back: can go in 20 minutes"
run1 progress "$urgent" completed --minutes=50 --notes="Replaced the pipe joint"
echo; echo "# The request's story from the event log (watch resumes from any event id):"
run watch --after=0 --request="$urgent" --idle-ms=1000

echo; echo "# Points: completed service earns points (base + minutes + urgency bonus). The fund is"
echo "# empty on a fresh start, so the earnings wait; a top-up pays them, oldest first."
run points balance "$best"
run points fund 5000 --reason="Charity federation grant (demo)" --request-id="demo-fund-$stamp"
run points balance "$best"
run points ledger --account="volunteer:$best" --page-size=3
echo; echo "# The Aiguo love shop's kiosk: a catalog with stock, and a token that acts only there."
run catalog upsert aiguo-1 soap --name="香皂 soap" --price=10 --stock=30
run catalog upsert aiguo-1 rice-5kg --name="大米 rice 5 kg" --price=50 --stock=12
kiosk_token=$(ctl token create --role=kiosk --kiosk=aiguo-1 --district=wuxing \
  --name="Aiguo love shop counter (demo)" --json | json 'd["token"]')
echo; echo "# At the counter: the attendant scans $best's card, tries rice (too few points),"
echo "# then redeems two bars of soap with confirmation and prints a receipt."
echo "\$ kiosk   (stdin: the QR text, redeem rice-5kg, redeem soap 2, y, ledger 2, quit)"
printf '%s\n' "yiyuan:volunteer:wuxing:$best" "redeem rice-5kg 1" "redeem soap 2" y "ledger 2" quit |
  YIYUAN_TOKEN="$kiosk_token" "$build_dir/clients/kiosk" --server="$YIYUAN_SERVER"

echo; echo "# The Python example (an app backend) does the same over grpcio:"
/usr/bin/python3 clients/python/yiyuan_example.py --server="$YIYUAN_SERVER" --token-file="$var/admin.token"

if [ $stop_after -eq 1 ]; then
  kill "$(cat "$var/dispatchd.pid")" && rm -f "$var/dispatchd.pid"
  echo; echo "demo: dispatchd stopped"
else
  echo; echo "demo: dispatchd is still running; stop it with: kill \$(cat $var/dispatchd.pid)"
fi
