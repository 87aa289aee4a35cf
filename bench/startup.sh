#!/usr/bin/env bash
# Server start-up on an existing database: time from exec to the first 200 from
# /healthz, median of N runs. Usage: bench/startup.sh [runs] (builds the release binary).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
cargo build --release --locked -p pingxuan >/dev/null
bin="${CARGO_TARGET_DIR:-target}/release/pingxuan"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
export PINGXUAN_DATA_DIR="$data" PINGXUAN_LOG=warn
"$bin" demo >/dev/null   # an existing database with the seed campaigns and accounts
port=18080
times=()
for _ in $(seq "$runs"); do
  t0=$(date +%s%N)
  "$bin" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.002; done
  t1=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  times+=($(( (t1 - t0) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "start-up to first healthy answer, $runs runs: median ${sorted[$((runs / 2))]} ms, max ${sorted[$((runs - 1))]} ms"
