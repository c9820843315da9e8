# Shell helpers shared by bench/run_*.sh (source it).

# start_dispatchd DISPATCHD DATA_DIR LOG [FLAGS...]: starts dispatchd on a free port with
# its data under DATA_DIR and waits until it serves; sets server_pid and address.
start_dispatchd() {
  local dispatchd=$1 data=$2 log=$3
  shift 3
  "$dispatchd" --data-dir="$data" --listen=127.0.0.1:0 --metrics-listen=127.0.0.1:0 \
    --ready-file="$data/ready" "$@" >"$log" 2>&1 &
  server_pid=$!
  local waited=0
  until [[ -s $data/ready ]]; do
    if ! kill -0 "$server_pid" 2>/dev/null || (( waited >= 300 )); then
      echo "dispatchd did not start; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  address=$(<"$data/ready")
}

# bench_workspace PARENT NAME: makes $work (a temp dir) and $data (PARENT/yiyuan-NAME.XXXXXX,
# for dispatchd's data) and arranges that on exit the dispatchd in $server_pid is stopped
# and both are removed.
bench_workspace() {
  work=$(mktemp -d)
  data=$(mktemp -d "$1/yiyuan-$2.XXXXXX")
  server_pid=
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" && wait "$server_pid" || true
  fi
  rm -rf "$work" "$data"
}

# replace_section RESULTS TITLE SECTION_FILE: rewrites the "## TITLE" section of
# RESULTS.md with SECTION_FILE (appending it when absent), keeping every other section.
replace_section() {
  local results=$1 title=$2 section=$3
  local tmp
  tmp=$(mktemp)
  [[ -f $results ]] || printf '# Benchmark results\n' >"$results"
  awk -v section_file="$section" -v title="$title" '
    BEGIN { while ((getline line < section_file) > 0) section = section line "\n" }
    /^## / {
      in_section = 0
      if ($0 == title) { printf "%s", section; in_section = 1; done = 1; next }
    }
    !in_section { print }
    END { if (!done) { printf "\n%s", section } }
  ' "$results" >"$tmp"
  cp "$tmp" "$results"
  rm -f "$tmp"
}

# machine_line SRC_DIR: "N CPUs (model), Linux X; tree at REV; Redis server v=..."
machine_line() {
  local src=$1 cpu rev
  cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n $(git -C "$src" status --porcelain 2>/dev/null) ]]; then rev+=" (with uncommitted changes)"; fi
  echo "$(nproc) CPUs (${cpu:-unknown CPU}), Linux $(uname -r); tree at $rev; $(redis-server --version | cut -d' ' -f1-3)"
}
