#!/usr/bin/env bash
# HTTP load figures for the closing notes: starts the built binary against a throwaway
# PostgreSQL (an external database, as in production), on loopback only, and prints
# start-up time to healthy, idle RSS, and wrk req/s and latency percentiles for
# GET /api/v1/health and an authenticated GET /api/v1/auth/me at 2 and 32 connections.
#
#   make build && scripts/bench-http.sh [duration, default 10s]
#
# The server logs at info (one access-log line per request) unless OPENWATCH_LOGGING_LEVEL
# says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${OPENWATCH_TEST_DSN:-}" ]; then
  exec go run ./scripts/withpg -- bash "$0" "$@"
fi
dur=${1:-10s}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
  else
    echo "wrk is required (apt-get install wrk)" >&2; exit 1
  fi
fi

data=$(mktemp -d)
log="$data/serve.log"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$data"
}
trap cleanup EXIT

# Generate the certificate and signing key outside the timed start-up.
OPENWATCH_SERVER_DATA_DIR="$data" OPENWATCH_DATABASE_DSN="$OPENWATCH_TEST_DSN" "$bin" migrate >/dev/null 2>&1

port=""
for p in $(seq 18443 18543); do
  if ! ss -ltnH 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then port=$p; break; fi
done
[ -n "$port" ] || { echo "no free port" >&2; exit 1; }
start=$(date +%s%N)
OPENWATCH_SERVER_DATA_DIR="$data" OPENWATCH_SERVER_LISTEN=127.0.0.1:$port OPENWATCH_DATABASE_DSN="$OPENWATCH_TEST_DSN" \
  OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128 \
  OPENWATCH_LOGGING_LEVEL="${OPENWATCH_LOGGING_LEVEL:-info}" "$bin" serve >"$data/serve.out" 2>"$log" &
pid=$!
base="https://localhost:$port/api/v1"
ca="$data/tls/ca.crt"
until curl -sf --cacert "$ca" "$base/health" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.005
done
ready=$(date +%s%N)
echo "startup to healthy (external database): $(( (ready - start) / 1000000 )) ms"

pw=$(cat "$data/initial-admin-password")
token=$(curl -s --cacert "$ca" -X POST "$base/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$pw\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
sleep 2
echo "serve idle RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"

run() { # run NAME CONNECTIONS [wrk args]
  local name=$1 c=$2; shift 2
  local out
  out=$(wrk -t2 -c"$c" -d"$dur" --latency "$@")
  printf '%-10s c=%-3s %12s req/s   p50 %-8s p90 %-8s p99 %s\n' "$name" "$c" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="90%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
  if grep -q 'Non-2xx' <<<"$out"; then grep 'Non-2xx' <<<"$out"; fi
}
for c in 2 32; do
  run health "$c" "$base/health"
  run auth/me "$c" -H "Authorization: Bearer $token" "$base/auth/me"
done
echo "serve RSS after load: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
