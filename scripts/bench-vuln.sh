#!/usr/bin/env bash
# Vulnerability figures (issue 16, "Done when 3"): 10,000 hosts' package inventories
# (500 to 2,000 packages each, shared across hosts like a real fleet, four distribution
# releases) and 50,000 OSV records, generated straight into the database; prints the time
# to build the matching rows from the stored inventories, the import time (store and
# match), a full match with nothing to change, the incremental match after a 100-record
# feed update, the open exposures, the database size, the peak Go heap and RSS of the
# process, and the ceiling: the database copying the same matching rows itself. Figures
# only, never pass/fail. HOSTS and OSV_RECORDS override the sizes.
#
# The data is stored in what users run: the managed PostgreSQL of `openwatch serve`
# (durability on, default settings), brought up in a throwaway data directory.
#
#   make build && scripts/bench-vuln.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/managed-data.sh
managed_bench_begin
OPENWATCH_TEST_DSN="$pg_dsn" \
  go test -run '^$' -bench '^BenchmarkFleet$' -benchtime 1x -count 1 -timeout 60m ./internal/vuln/ |
  grep -E '^(Benchmark|ok|FAIL|---|\s+bench_test)' | sed 's/^ *bench_test.go:[0-9]*: /  /'
