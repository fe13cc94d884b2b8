#!/usr/bin/env bash
# Rollout figures: a change rolled out to 50 namespaced SSH targets on loopback in waves
# (a canary of one, then batches doubling: 1, 2, 4, 8, 16, 19) with a health check before
# and after each host, through the real path (the API, one River job per host, SSH).
# Prints hosts per minute, the p50 and p99 of one host's change and the SSH sessions per
# host change, for two runs in the same process:
#   marker: each host's change writes one file under /etc (the machinery's own cost: the
#           ceiling of this machine and database);
#   apt:    each host upgrades a package with real apt and dpkg from a local repository
#           (targets in their own mount namespaces; this machine's packages never change).
# Figures only, never pass/fail.
#
# The data is stored in what users run: the managed PostgreSQL of `openwatch serve`
# (durability on, default settings), brought up in a throwaway data directory.
#
#   make build && scripts/bench-rollout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/managed-data.sh
managed_bench_begin
OPENWATCH_TEST_DSN="$pg_dsn" \
  go test -run '^$' -bench '^BenchmarkRollout$' -benchtime 1x -count 1 -timeout 30m ./internal/change/ |
  grep -E '^(Benchmark|ok|FAIL|---|\s+rollout)' | sed 's/^BenchmarkRollout\///'
