#!/usr/bin/env bash
# The hosts page at fleet scale, in Debian's Chromium, on what users run: for each size, a
# fresh managed PostgreSQL (durability on, default logging) is seeded with that many hosts,
# each with results of $BENCH_RULES rules (default 10, so every row has a score and a
# last scan), the built binary serves it on loopback, and the page's own clock reports how long the
# hosts page takes to show its first rows (a full page load, and a click from the
# dashboard) and how smoothly its table scrolls (frame times through server pages). The
# first size (default 1 host) is the ceiling of the same run: the same page with almost
# nothing to fetch. Figures only, never pass/fail.
#
#   make build && web/scripts/bench-hosts-ui.sh ["sizes", default "1 100000"]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/managed-data.sh
sizes=${1:-1 100000}
rules=${BENCH_RULES:-10}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
# The seeded hosts sit at loopback addresses on a closed port; probes may reach nothing else.
export OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128
unset OPENWATCH_DATABASE_DSN

data="" pid=""
cleanup() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  pid=""
  remove_data_dir "$data"
  data=""
}
trap cleanup EXIT

for n in $sizes; do
  data=$(mktemp -d); chmod 0755 "$data"
  export OPENWATCH_SERVER_DATA_DIR="$data/data"
  start=$(date +%s)
  "$bin" dev seed --hosts "$n" --rules "$rules" >"$data/seed.out" 2>"$data/seed.log" || { cat "$data/seed.log" >&2; exit 1; }
  echo "seeded $n hosts with $rules results each into the managed database in $(( $(date +%s) - start )) s"
  OPENWATCH_SERVER_LISTEN=127.0.0.1:0 "$bin" serve >"$data/serve.out" 2>"$data/serve.log" &
  pid=$!
  port=$(listen_port "$data/serve.log" "$pid") || exit 1
  url="https://localhost:$port"
  (cd web && OPENWATCH_URL="$url" OPENWATCH_PASSWORD="$(cat "$data/data/initial-admin-password")" BENCH_HOSTS="$n" \
    OPENWATCH_SPKI_PIN="$(node e2e/pin.mjs "$url" "$data/data/tls/ca.crt")" E2E_OUTPUT="$data/e2e" \
    npx --no-install playwright test --config playwright.bench.config.ts)
  cleanup
done
