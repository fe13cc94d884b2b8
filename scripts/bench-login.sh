#!/usr/bin/env bash
# Sign-in load: 50 concurrent logins (each an Argon2id hash of 19 MiB) against the built
# binary on loopback with a throwaway PostgreSQL, printing latency percentiles, status
# counts and the server's peak RSS (VmHWM). Every sign-in must end 200, 429 or 503.
#
#   make build && scripts/bench-login.sh [concurrency, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${OPENWATCH_TEST_DSN:-}" ]; then
  exec go run ./scripts/withpg -- bash "$0" "$@"
fi
n=${1:-50}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
data=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

export OPENWATCH_SERVER_DATA_DIR="$data" OPENWATCH_DATABASE_DSN="$OPENWATCH_TEST_DSN"
# The server's SSH connections and probes may reach this machine only.
export OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128
# One client address sends every sign-in here: lift the per-address limit so the run
# measures hashing, not the limiter.
export OPENWATCH_AUTH_LOGIN_BURST=100000 OPENWATCH_AUTH_LOGIN_RATE_PER_MINUTE=100000
OPENWATCH_SERVER_LISTEN=127.0.0.1:0 "$bin" serve >"$data/out" 2>"$data/log" &
pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(grep -o '"listen":"127\.0\.0\.1:[0-9]*"' "$data/log" 2>/dev/null | head -1 | sed 's/.*://; s/"$//') || true
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not start" >&2; exit 1; }
echo "serve RSS before: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
go run ./scripts/loginload -url "https://localhost:$port" -ca "$data/tls/ca.crt" \
  -user admin -password "$(cat "$data/initial-admin-password")" -n "$n"
echo "serve peak RSS (VmHWM): $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
