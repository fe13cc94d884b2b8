#!/usr/bin/env bash
# Alert fan-out figures: 1,000 alert transitions routed to webhook channels on loopback
# whose receivers verify the HMAC signature, through the real path (the transition's
# outbox row and NOTIFY, the dispatcher, one River job per delivery, the signed POST).
# Prints deliveries per second and, per live receiver, the p50 and p99 from the
# transition's commit to its delivery's arrival, for three runs in the same process:
# one live channel (the ceiling of this machine and database), two live channels, three
# live channels, and two live channels plus a receiver that accepts connections and never
# answers: compare the last two, where the same fan-out work is done, to see whether a
# dead receiver slows the others (its breaker holds its deliveries back). Figures only,
# never pass/fail.
#
# The data is stored in what users run: the managed PostgreSQL of `openwatch serve`
# (durability on, default settings), brought up in a throwaway data directory; each run
# works on its own database of that cluster.
#
#   make build && scripts/bench-alert-fanout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/managed-data.sh
managed_bench_begin
echo "1,000 transitions per run; p50/p99 in ms from commit to arrival at live receiver rN"
OPENWATCH_TEST_DSN="$pg_dsn" \
  go test -run '^$' -bench '^BenchmarkFanout$' -benchtime 1x -count 1 -timeout 30m ./internal/notify/ |
  grep -E '^(Benchmark|ok|FAIL|---|\s+fanout)' | sed 's/^BenchmarkFanout\///'
