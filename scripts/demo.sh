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
echo; echo "# The Python example (an app backend) does the same over grpcio:"
/usr/bin/python3 clients/python/yiyuan_example.py --server="$YIYUAN_SERVER" --token-file=var/admin.token

if [ $stop_after -eq 1 ]; then
  kill "$(cat var/dispatchd.pid)" && rm -f var/dispatchd.pid
  echo; echo "demo: dispatchd stopped"
else
  echo; echo "demo: dispatchd is still running; stop it with: kill \$(cat var/dispatchd.pid)"
fi
