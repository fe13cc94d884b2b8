// Package health holds health checks: probes the change machinery runs on a host before
// and after changing it (a failing post-check rolls that host back), and that an operator
// can run by hand on one host (POST /health-checks/{id}:test).
//
// A check is a kind with its typed parameters, a per-attempt timeout (1..300 s) and
// retries with a delay between attempts (a service may need a few seconds after a
// restart). Every kind runs on the host itself, over SSH, as root (agentless):
//
//   - service: a systemd unit is active (`systemctl is-active`); on a host without systemd
//     (no /run/systemd/system), `service NAME status` exits 0.
//   - tcp: host:port (default 127.0.0.1) accepts a connection within the timeout, tested
//     with the first of bash (/dev/tcp), python3 and nc the host has; with none of them the
//     check cannot run and says so.
//   - http: a URL answers the expected status (default 200), and its body contains a
//     substring when one is set, fetched with curl or else wget.
//   - command: a POSIX sh command exits 0 (and prints an expected substring when set).
//
// Command turns a check into one sshx.Command, a self-contained POSIX sh script that runs
// the attempts on the host (each under timeout(1) when the host has it) and reports on
// stderr, so any number of checks run in one SSH session batch; Evaluate reads the
// command's result into an Outcome. Both are pure, for the change machinery.
//
// Invariants: a check's name is unique among live checks; its kind never changes; deleted
// checks are kept (soft delete) so the records of jobs that ran them still resolve.
package health
