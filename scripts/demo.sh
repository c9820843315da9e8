#!/usr/bin/env bash
# Command (1) of the README: install what is missing, build, start dispatchd on its
# embedded Redis (data in ./var), and run a short demo through the real clients.
# dispatchd keeps running afterwards unless you pass --stop.
set -euo pipefail
cd "$(dirname "$0")/.."
stop_after=0
[ "${1:-}" = "--stop" ] && stop_after=1
bash scripts/install-deps.sh
bash scripts/build.sh

ctl=build/clients/dispatchctl
mkdir -p var
if [ -f var/dispatchd.pid ] && kill -0 "$(cat var/dispatchd.pid)" 2>/dev/null; then
  echo "demo: dispatchd already running (pid $(cat var/dispatchd.pid))"
else
  rm -f var/ready
  build/server/dispatchd --data-dir=var --listen=127.0.0.1:50051 \
    --metrics-listen=127.0.0.1:9464 --ready-file=var/ready 2>>var/dispatchd.log &
  echo $! > var/dispatchd.pid
  for _ in $(seq 1 300); do [ -s var/ready ] && break; sleep 0.1; done
  [ -s var/ready ] || { echo "demo: dispatchd did not start; see var/dispatchd.log"; exit 1; }
  echo "demo: dispatchd serving on $(cat var/ready) (pid $(cat var/dispatchd.pid)), log in var/dispatchd.log"
fi
export YIYUAN_SERVER="$(cat var/ready)"

run() { echo; echo "\$ dispatchctl $*"; "$ctl" "$@"; }
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
v1=$("$ctl" volunteers --external-id=demo-zj-001 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["volunteers"][0]["id"])')
v2=$("$ctl" volunteers --external-id=demo-zj-002 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["volunteers"][0]["id"])')
v3=$("$ctl" volunteers --external-id=demo-zj-003 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["volunteers"][0]["id"])')
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
echo; echo "# The Python example (an app backend) does the same over grpcio:"
/usr/bin/python3 clients/python/yiyuan_example.py --server="$YIYUAN_SERVER" --token-file=var/admin.token

if [ $stop_after -eq 1 ]; then
  kill "$(cat var/dispatchd.pid)" && rm -f var/dispatchd.pid
  echo; echo "demo: dispatchd stopped"
else
  echo; echo "demo: dispatchd is still running; stop it with: kill \$(cat var/dispatchd.pid)"
fi
