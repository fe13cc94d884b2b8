#!/usr/bin/env bash
# Liveness poller figures: probes 10,000 in-process SSH banner endpoints on loopback
# (sshtest.Farm) through the poller's real path (lease due hosts, TCP connect + SSH banner,
# record results in batches) in a throwaway PostgreSQL, and prints hosts per minute with
# the default settings (one tick a second, rate_limit 200) and with no rate limit.
#
#   scripts/bench-liveness.sh [ticks, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
ticks=${1:-30}
exec go run ./scripts/withpg -- go test -run '^$' -bench '^BenchmarkPoller$' -benchtime="${ticks}x" ./internal/liveness/
