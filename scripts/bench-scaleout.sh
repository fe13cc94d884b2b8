#!/usr/bin/env bash
# One serve against two: the main read endpoints under concurrent load, answered by one
# `openwatch serve`, then by two serves of the same database taking turns (round-robin on
# loopback). A fresh managed database (durability on, default settings) is seeded with
# --hosts hosts (openwatch dev seed, with --rules results each); both serves run with
# --with-worker=false, so no background job competes with the reads. The second serve
# shares the first one's keys, so one token works on both. scripts/scaleload (C clients,
# keep-alive, TLS) measures each path for DURATION after a one-second warm-up and prints
# req/s, p50, p95 and p99, and the ratio of two serves' req/s to one's. A ceiling is
# measured in the same run: the same load against one, then two, bare Go HTTPS servers
# (scripts/benchceiling) that answer every request with a fixed body; what the machine
# gives two processes of anything shows there.
#
#   make build && scripts/bench-scaleout.sh [duration per path, default 10s] [hosts, default 10000] [rules, default 100]
#
# BENCH_CONNECTIONS sets C (default 32).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/managed-data.sh
dur=${1:-10s}
hosts=${2:-10000}
rules=${3:-100}
conc=${BENCH_CONNECTIONS:-32}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
export OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128
unset OPENWATCH_DATABASE_DSN

tools=$(mktemp -d)
data=$(mktemp -d); chmod 0755 "$data"
serve_pid="" second_pid="" ceiling_pids=()
cleanup() {
  for p in "${ceiling_pids[@]}" "$second_pid"; do
    [ -n "$p" ] && { kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; }
  done
  # The first serve started the managed database and stops it.
  [ -n "$serve_pid" ] && { kill -TERM "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; }
  remove_data_dir "$data"
  rm -rf "$tools"
}
trap cleanup EXIT
go build -o "$tools/scaleload" ./scripts/scaleload
go build -o "$tools/benchceiling" ./scripts/benchceiling

echo "OpenWatch $("$bin" version | head -1); $(nproc) CPUs; $hosts hosts, $rules rules each; $conc clients, $dur per path"
OPENWATCH_SERVER_DATA_DIR="$data/data" "$bin" dev seed --hosts "$hosts" --rules "$rules" >"$data/seed.out" 2>"$data/seed.log" \
  || { cat "$data/seed.log" >&2; exit 1; }
sed 's/^/  /' "$data/seed.out"

export OPENWATCH_WORKER_WITH_WORKER=false
start_managed_serve "$bin" "$data"
port1=$(listen_port "$data/serve.log" "$serve_pid")
keys="$data/data/keys"
# The managed cluster's own database and role (pg_dsn names the superuser's database).
app_dsn="host=$pg_sock port=$pg_port user=openwatch dbname=openwatch sslmode=disable"
mkdir -p "$data/second"
OPENWATCH_SERVER_DATA_DIR="$data/second/data" OPENWATCH_SERVER_LISTEN=127.0.0.1:0 OPENWATCH_DATABASE_DSN="$app_dsn" \
  OPENWATCH_SECRETS_KEY_FILE="$keys/secrets.key" OPENWATCH_AUTH_SIGNING_KEY_FILE="$keys/jwt-signing.jwk" \
  "$bin" serve >"$data/second/serve.out" 2>"$data/second/serve.log" &
second_pid=$!
port2=$(listen_port "$data/second/serve.log" "$second_pid")
one="https://localhost:$port1" two="https://localhost:$port2"
ca1="$data/data/tls/ca.crt" ca2="$data/second/data/tls/ca.crt"
for u in "$one|$ca1" "$two|$ca2"; do
  until curl -sf --cacert "${u#*|}" "${u%|*}/api/v1/health" >/dev/null 2>&1; do sleep 0.02; done
done

token=$(curl -s --cacert "$ca1" -X POST "$one/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$(cat "$data/data/initial-admin-password")\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "sign-in failed" >&2; exit 1; }
get() { curl -sf --cacert "$ca2" -H "Authorization: Bearer $token" "$two/api/v1/$1"; }
host=$(get "hosts?limit=1" | grep -o '"id":"[0-9a-f-]*"' | head -1 | cut -d'"' -f4) || true
[ -n "$host" ] || { echo "no seeded host (or the token does not work on the second serve)" >&2; exit 1; }
cursor=$(get "hosts?limit=50" | sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p') || true
[ -n "$cursor" ] || { echo "no second page of hosts" >&2; exit 1; }
paths=(
  "/hosts?limit=50"
  "/hosts?limit=50&cursor=$cursor"
  "/hosts/$host"
  "/hosts/$host/compliance"
  "/fleet/score"
  "/alerts?limit=50"
  "/scans?limit=50"
)
label() { case $1 in *cursor=*) echo "/hosts?limit=50&cursor=(page 2)" ;; *) echo "${1//$host/\{id\}}" ;; esac; }

# The ceiling: the same client against one, then two, bare HTTPS servers, measured
# before and after the serves' figures (the machine may be shared).
ceiling_urls=()
for _ in 1 2; do
  out="$data/ceiling-${#ceiling_urls[@]}.out"
  "$tools/benchceiling" -cert "$data/data/tls/server.crt" -key "$data/data/tls/server.key" >"$out" 2>&1 &
  ceiling_pids+=($!)
  for _ in $(seq 1 500); do grep -q '^listening on' "$out" 2>/dev/null && break; sleep 0.01; done
  ceiling_urls+=("https://localhost:$(awk '/^listening on/ {print $3}' "$out")")
done
ceiling() { # prints: req/s with one bare server, req/s with two
  local a b
  IFS=$'\t' read -r _ a _ _ _ _ < <(load "${ceiling_urls[0]}" /ceiling)
  IFS=$'\t' read -r _ b _ _ _ _ < <(load "${ceiling_urls[0]},${ceiling_urls[1]}" /ceiling)
  echo "$a $b"
}
declare -A r1 r2
load() { "$tools/scaleload" -targets "$1" -ca "$ca1,$ca2" -token "$token" -c "$conc" -d "$dur" "${@:2}"; }
read -r c1 c2 < <(ceiling)
while IFS=$'\t' read -r p rps p50 p95 p99 bad; do r1[$p]="$rps $p50 $p95 $p99 $bad"; done < <(load "$one" "${paths[@]}")
while IFS=$'\t' read -r p rps p50 p95 p99 bad; do r2[$p]="$rps $p50 $p95 $p99 $bad"; done < <(load "$one,$two" "${paths[@]}")

read -r c3 c4 < <(ceiling)

row() { printf '| %-32s | %9s | %7s | %7s | %7s | %9s | %7s | %7s | %7s | %5s |\n' "$@"; }
row path "1: req/s" p50 p95 p99 "2: req/s" p50 p95 p99 "2/1"
row -------------------------------- --------- ------- ------- ------- --------- ------- ------- ------- -----
for p in "${paths[@]}"; do
  read -r a a50 a95 a99 abad <<<"${r1[$p]}"
  read -r b b50 b95 b99 bbad <<<"${r2[$p]}"
  row "$(label "$p")" "$a" "$a50" "$a95" "$a99" "$b" "$b50" "$b95" "$b99" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
  [ "$abad$bbad" = 00 ] || echo "  not 2xx: $abad with one serve, $bbad with two"
done
row "ceiling before (bare HTTPS)" "$c1" "" "" "" "$c2" "" "" "" "$(awk -v a="$c1" -v b="$c2" 'BEGIN { printf "%.2f", b / a }')"
row "ceiling after (bare HTTPS)" "$c3" "" "" "" "$c4" "" "" "" "$(awk -v a="$c3" -v b="$c4" 'BEGIN { printf "%.2f", b / a }')"
echo "latencies in ms; 1 = one serve, 2 = two serves of the same database, round-robin"
rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$1/status"; }
echo "after the load: serve RSS $(rss "$serve_pid") and $(rss "$second_pid"); database size $(psql -XAtq "$pg_dsn" -c "SELECT pg_size_pretty(pg_database_size('openwatch'))")"
