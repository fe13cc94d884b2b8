#!/usr/bin/env bash
# Fleet compliance reads at fleet size: for each fleet size (default 1,000 then 10,000
# hosts), a fresh managed database (durability on, default logging) is seeded with that many
# hosts and `--rules` results each (openwatch dev seed: states, transitions and rollups;
# past the corpus's rules, synthetic ones make up the count, in no framework),
# the built binary serves it with its workers, and wrk (32 connections over TLS) measures
# GET /fleet/score, /fleet/top-failing-rules, /fleet/top-failing-hosts and a host detail
# (with its compliance summary). It prints req/s, p50 and p99 per figure and size, then the
# p99 at the largest size over the p99 at the smallest (flat in fleet size: at most 1.5).
# Then, with the server stopped, `openwatch dev ingest` stores scans of --rules results with
# 5 % changed into the same database through the scan worker's write path, and prints the
# scans stored per second (BENCH_INGEST_SCANS, default 1000; 8 at a time).
#
#   make build && scripts/bench-compliance.sh [duration per figure, default 5s] [rules, default 600] [sizes, default "1000 10000"]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/managed-data.sh
dur=${1:-5s}
rules=${2:-600}
sizes=${3:-1000 10000}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
export OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128

data="" pid=""
cleanup() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  pid=""
  remove_data_dir "$data"
  data=""
}
trap cleanup EXIT

declare -A p99s
row() { printf '| %-7s | %-34s | %10s | %8s | %8s |\n' "$@"; }
echo "OpenWatch $("$bin" version | head -1); $rules rules per host; wrk -t2 -c32 -d$dur"
row hosts figure 'req/s' p50 p99
row ------- ---------------------------------- ---------- -------- --------
for n in $sizes; do
  data=$(mktemp -d); chmod 0755 "$data"
  export OPENWATCH_SERVER_DATA_DIR="$data/data"
  unset OPENWATCH_DATABASE_DSN
  "$bin" dev seed --hosts "$n" --rules "$rules" >"$data/seed.out" 2>"$data/seed.log" || { cat "$data/seed.log" >&2; exit 1; }
  OPENWATCH_SERVER_LISTEN=127.0.0.1:0 "$bin" serve >"$data/serve.out" 2>"$data/serve.log" &
  pid=$!
  port=$(listen_port "$data/serve.log" "$pid") || exit 1
  base="https://localhost:$port/api/v1"
  ca="$data/data/tls/ca.crt"
  until curl -sf --cacert "$ca" "$base/health" >/dev/null 2>&1; do sleep 0.02; done
  token=$(curl -s --cacert "$ca" -X POST "$base/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$(cat "$data/data/initial-admin-password")\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  host=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$base/fleet/top-failing-hosts?limit=1" | grep -o '"host_id":"[0-9a-f-]*"' | head -1 | cut -d'"' -f4)
  [ -n "$host" ] || { echo "no seeded host has results" >&2; exit 1; }
  for f in "fleet/score" "fleet/top-failing-rules?limit=10" "fleet/top-failing-hosts?limit=10" "hosts/$host"; do
    out=$(wrk -t2 -c32 -d"$dur" --latency -H "Authorization: Bearer $token" "$base/$f")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    row "$n" "GET /$f" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="50%" {print $2}' <<<"$out")" "$p99"
    grep -q 'Non-2xx' <<<"$out" && echo "  $(grep 'Non-2xx' <<<"$out")"
    p99s["$n ${f%%\?*}"]=$p99
  done
  echo "  ($(tail -1 "$data/seed.out"))"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "  ingest: $("$bin" dev ingest --scans "${BENCH_INGEST_SCANS:-1000}" --workers 8 --changed 5 2>"$data/ingest.log" || tail -3 "$data/ingest.log")"
  cleanup
done

# p99 in milliseconds, whatever unit wrk printed.
ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
first=${sizes%% *} last=${sizes##* }
if [ "$first" != "$last" ]; then
  echo "p99 at $last hosts over p99 at $first hosts (flat in fleet size: at most 1.5):"
  for f in fleet/score fleet/top-failing-rules fleet/top-failing-hosts hosts; do
    key_last="$last $f" key_first="$first $f"
    if [ "$f" = hosts ]; then
      for k in "${!p99s[@]}"; do case $k in "$last hosts/"*) key_last=$k ;; "$first hosts/"*) key_first=$k ;; esac; done
    fi
    a=$(ms "${p99s[$key_last]}") b=$(ms "${p99s[$key_first]}")
    printf '  %-28s %s / %s ms = %s\n' "$f" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
  done
fi
