#!/usr/bin/env bash
# Command (2) of the README: install what is missing, build, run every test.
# Tests start their own redis-server and dispatchd (temp dirs, no fixed ports).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest -j"${JOBS:-2}" --output-on-failure --timeout 600
