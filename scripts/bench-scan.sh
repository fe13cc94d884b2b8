#!/usr/bin/env bash
# The scan figures: a full scan of the local Debian target (a real sshd on loopback, its
# /etc a throwaway overlay) with the whole rule corpus, through the API, beside the
# engine running one SSH session per rule over the same rules, in the same run. Prints
# time per evaluated rule (results not skipped), time per scan (start to finish, and from
# the request to completion), rules evaluated and SSH sessions per scan, counted from
# sshd's log. Needs root (the target sshd), like the SSH tests.
#
# The results are stored in what users run: the managed PostgreSQL of `openwatch serve`
# (durability on, default settings), brought up in a throwaway data directory; the
# benchmark's server works on its own database of that cluster.
#
#   make build && scripts/bench-scan.sh [scans per mode, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/managed-data.sh
n=${1:-5}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }

data=$(mktemp -d); chmod 0755 "$data"
pid=""
cleanup() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  remove_data_dir "$data"
}
trap cleanup EXIT
export OPENWATCH_SERVER_DATA_DIR="$data/data"
unset OPENWATCH_DATABASE_DSN
OPENWATCH_SERVER_LISTEN=127.0.0.1:0 "$bin" serve >"$data/serve.out" 2>"$data/serve.log" &
pid=$!
pidfile=""
for _ in $(seq 1 3000); do
  loc=$(cat "$data/data/pg.location" 2>/dev/null) || loc=pg
  case "$loc" in /*) ;; *) loc="$data/data/$loc" ;; esac
  [ -s "$loc/data/postmaster.pid" ] && grep -q '"listen"' "$data/serve.log" 2>/dev/null && { pidfile="$loc/data/postmaster.pid"; break; }
  kill -0 "$pid" 2>/dev/null || { cat "$data/serve.log" >&2; exit 1; }
  sleep 0.01
done
[ -n "$pidfile" ] || { echo "the managed database did not come up" >&2; exit 1; }
# postmaster.pid: line 4 is the port, line 5 the socket directory.
port=$(sed -n 4p "$pidfile"); sock=$(sed -n 5p "$pidfile")
echo "storing into the managed database (durability on: fsync=$(psql -XAtq "host=$sock port=$port user=postgres dbname=postgres" -c 'SHOW fsync'), synchronous_commit=$(psql -XAtq "host=$sock port=$port user=postgres dbname=postgres" -c 'SHOW synchronous_commit'))"
OPENWATCH_TEST_DSN="host=$sock port=$port user=postgres dbname=postgres sslmode=disable" \
  go test -run '^$' -bench '^BenchmarkScan$' -benchtime "${n}x" -count 1 ./internal/scan/ |
  grep -E '^(Benchmark|ok|FAIL)' | sed 's/^BenchmarkScan\///'
