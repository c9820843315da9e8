#!/usr/bin/env bash
# Installs the Debian 12 packages Yiyuan Dispatch needs to build, test and run.
# Uses sudo when not root. Does nothing when every package is already installed.
set -euo pipefail
packages=(
  build-essential cmake pkg-config ccache git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libssl-dev redis-server redis-tools
  libgtest-dev libgmock-dev libbenchmark-dev liblemon-dev python3-scipy
  nlohmann-json3-dev libcpp-httplib-dev
  python3 python3-grpcio python3-grpc-tools python3-protobuf python3-matplotlib
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# The redis-server package may start a system-wide instance; dispatchd runs its own.
