#!/usr/bin/env bash
# The hosts page at fleet scale, in Debian's Chromium: seeds N hosts (default 100,000) into a
# throwaway PostgreSQL, starts the built binary on loopback, and prints how long the hosts
# page takes to show its first rows (a full page load, and a click from the dashboard) and
# how smoothly its table scrolls (frame times while scrolling through server pages).
# Figures only, never pass/fail.
#
#   make build && web/scripts/bench-hosts-ui.sh [hosts, default 100000]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${OPENWATCH_TEST_DSN:-}" ]; then
  exec go run ./scripts/withpg -- bash "$0" "$@"
fi
n=${1:-100000}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
data=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
export OPENWATCH_SERVER_DATA_DIR="$data" OPENWATCH_DATABASE_DSN="$OPENWATCH_TEST_DSN" OPENWATCH_LOGGING_LEVEL=warn
# The seeded hosts sit at loopback addresses on a closed port; probes may reach nothing else.
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
url="https://localhost:$port"
cd web
OPENWATCH_URL="$url" OPENWATCH_PASSWORD="$(cat "$data/initial-admin-password")" BENCH_HOSTS="$n" \
  OPENWATCH_SPKI_PIN="$(node e2e/pin.mjs "$url" "$data/tls/ca.crt")" E2E_OUTPUT="$data/e2e" \
  npx --no-install playwright test --config playwright.bench.config.ts
