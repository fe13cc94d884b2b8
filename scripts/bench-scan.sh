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
managed_bench_begin
OPENWATCH_TEST_DSN="$pg_dsn" \
  go test -run '^$' -bench '^BenchmarkScan$' -benchtime "${n}x" -count 1 ./internal/scan/ |
  grep -E '^(Benchmark|ok|FAIL)' | sed 's/^BenchmarkScan\///'
