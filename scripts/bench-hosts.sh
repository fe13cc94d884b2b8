#!/usr/bin/env bash
# Inventory load figures: seeds 100,000 hosts (COPY) into a throwaway PostgreSQL, starts
# the built binary against it on loopback, and prints wrk figures for the first page and a
# page deep in the cursor of GET /hosts, GET /hosts/{id} at 32 connections, and sequential
# POST /hosts creates per second.
#
#   make build && scripts/bench-hosts.sh [hosts, default 100000] [duration, default 10s]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${OPENWATCH_TEST_DSN:-}" ]; then
  exec go run ./scripts/withpg -- bash "$0" "$@"
fi
n=${1:-100000}
dur=${2:-10s}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
data=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
# BENCH_DSN_SUFFIX (such as &plan_cache_mode=auto) appends DSN parameters for experiments.
export OPENWATCH_SERVER_DATA_DIR="$data" OPENWATCH_DATABASE_DSN="$OPENWATCH_TEST_DSN${BENCH_DSN_SUFFIX:-}" OPENWATCH_LOGGING_LEVEL=warn
# serve runs its workers, whose liveness poller probes every host: the seeded and created
# hosts are at loopback addresses on a closed port, and SSH may reach nothing else.
export OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128

"$bin" dev seed --hosts "$n" 2>/dev/null
OPENWATCH_LOGGING_LEVEL=info OPENWATCH_SERVER_LISTEN=127.0.0.1:0 "$bin" serve >"$data/out" 2>"$data/log" &
pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(grep -o '"listen":"127\.0\.0\.1:[0-9]*"' "$data/log" 2>/dev/null | head -1 | sed 's/.*://; s/"$//') || true
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/log" >&2; exit 1; }
  sleep 0.1
done
base="https://localhost:$port/api/v1"
ca="$data/tls/ca.crt"
token=$(curl -s --cacert "$ca" -X POST "$base/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$(cat "$data/initial-admin-password")\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
auth="Authorization: Bearer $token"
mid=$(psql "$OPENWATCH_TEST_DSN" -Atc "SELECT id FROM hosts WHERE deleted_at IS NULL ORDER BY id OFFSET $((n / 2)) LIMIT 1")
deep=$(printf '{"v":1,"k":"%s"}' "$mid" | base64 -w0 | tr '+/' '-_' | tr -d '=')
bytes=$(curl -s --cacert "$ca" -H "$auth" "$base/hosts" | wc -c)
gz=$(curl -s --cacert "$ca" -H "$auth" -H 'Accept-Encoding: gzip' "$base/hosts" | wc -c)
echo "hosts: $n; first page $bytes bytes ($gz gzip-compressed)"

run() { # run NAME CONNECTIONS [wrk args]
  local name=$1 c=$2; shift 2
  local out
  out=$(wrk -t2 -c"$c" -d"$dur" --latency "$@")
  printf '%-16s c=%-3s %10s req/s   p50 %-8s p99 %s\n' "$name" "$c" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
  if grep -q 'Non-2xx' <<<"$out"; then grep 'Non-2xx' <<<"$out"; fi
}
run "hosts first page" 32 -H "$auth" "$base/hosts"
run "hosts deep page" 32 -H "$auth" "$base/hosts?cursor=$deep"
run "host by id" 32 -H "$auth" "$base/hosts/$mid"
cat >"$data/create.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"hostname":"bench-%d-%d.example.com","ip_address":"127.250.%d.%d","port":1}', os.time(), counter, math.floor(counter / 250) % 250, counter % 250)
  return wrk.format("POST", "/api/v1/hosts", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $token"}, body)
end
LUA
run "create (serial)" 1 -t1 -s "$data/create.lua" "https://localhost:$port"
echo "serve RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
