#!/usr/bin/env bash
# End-to-end check of a fresh install: starts the built binary on its embedded default (a
# managed local PostgreSQL under a new data directory), on loopback, and checks what a
# newcomer does first: health through the generated CA, sign-in with the printed admin
# password, /auth/me, the error envelopes; then the web UI's Playwright suite (web/e2e,
# Debian's Chromium) runs against the same server. Screenshots of every page land in
# $E2E_OUTPUT/screenshots (default web/test-results/e2e). Prints "e2e-server: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${OPENWATCH_BIN:-bin/openwatch}
data=$(mktemp -d)
chmod 0711 "$data" # lets the managed database's unprivileged user reach <data>/pg
log="$data/serve.log"
out="$data/serve.out"
passed=0
failed=0
pid=""

finish() {
  local rc=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "${sshd_pid:-}" ] && kill -0 "$sshd_pid" 2>/dev/null; then
    kill -TERM "$sshd_pid" 2>/dev/null || true
    wait "$sshd_pid" 2>/dev/null || true
  fi
  [ -n "${sshd_dir:-}" ] && rm -rf "$sshd_dir"
  if [ -n "${op_pid:-}" ] && kill -0 "$op_pid" 2>/dev/null; then
    kill -TERM "$op_pid" 2>/dev/null || true
    wait "$op_pid" 2>/dev/null || true
  fi
  if [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
    echo "--- server log (tail) ---" >&2
    tail -n 40 "$log" >&2 || true
  fi
  loc=$(cat "$data/pg.location" 2>/dev/null || true)
  case "$loc" in /*) rm -rf "$loc" ;; esac
  rm -rf "$data"
  echo "e2e-server: $passed passed, $failed failed"
  if [ "$failed" -gt 0 ]; then exit 1; fi
  exit "$rc"
}
trap finish EXIT

quiet() { "$@" >/dev/null; }
check() { # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name" >&2; fi
}

export OPENWATCH_SERVER_DATA_DIR="$data"
# The server's SSH connections and probes may reach this machine only.
export OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128
# Every check and browser test signs in from 127.0.0.1; the default burst of 10 sign-ins
# per address would make the suite's speed decide whether it passes. (The rate limit has
# its own tests.)
export OPENWATCH_AUTH_LOGIN_BURST=100
OPENWATCH_SERVER_LISTEN=127.0.0.1:0 OPENWATCH_METRICS_LISTEN=127.0.0.1:0 "$bin" serve --database-dsn= >"$out" 2>"$log" &
pid=$!

addr=""
for _ in $(seq 1 600); do
  addr=$(grep -o '"listen":"127\.0\.0\.1:[0-9]*"' "$log" 2>/dev/null | head -1 | sed 's/.*:"//; s/"$//') || true
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited early" >&2; failed=$((failed + 1)); exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "server did not start" >&2; failed=$((failed + 1)); exit 1; }
port=${addr##*:}
base="https://localhost:$port/api/v1"
ca="$data/tls/ca.crt"
cjson() { curl -sS --cacert "$ca" "$@"; }
status() { curl -sS --cacert "$ca" -o /dev/null -w '%{http_code}' "$@"; }

health=$(cjson "$base/health")
check "health through the generated CA, no -k" grep -q '"db_connected":true' <<<"$health"
check "data dir keys are private" test "$(stat -c %a "$data/tls/server.key")" = 600
# Monitoring: /ready once the in-process worker leads, Prometheus metrics on their own
# listener, and ?format=yaml.
ready_status=""
for _ in $(seq 1 300); do
  ready_status=$(status "$base/ready")
  [ "$ready_status" = 200 ] && break
  sleep 0.1
done
check "/ready answers 200 with every check" test "$ready_status" = 200
check "/ready lists the managed database" grep -q '"name":"managed_database","status":"ok"' <(cjson "$base/ready")
metrics_addr=$(grep -o '"metrics_listen":"127\.0\.0\.1:[0-9]*"' "$log" | head -1 | sed 's/.*:"//; s/"$//') || true
check "metrics are served on their own listener" grep -q '^openwatch_build_info{' <(curl -sS "http://$metrics_addr/metrics")
check "?format=yaml answers YAML" grep -q '^db_connected: true$' <(cjson "$base/health?format=yaml")
pw=$(cat "$data/initial-admin-password")
check "initial admin password printed once" grep -q "$pw" "$out"
login=$(cjson -X POST "$base/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$pw\"}")
token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$login")
check "login returns tokens" test -n "$token"
me=$(cjson "$base/auth/me" -H "Authorization: Bearer $token")
# The UI flow scans its host by hand and watches that scan; the scheduler would scan a newly
# reachable host by itself within a minute (a host never scanned is due at once). Off here,
# through the API an operator would use.
scan_config=$(cjson "$base/system/scan/config" -H "Authorization: Bearer $token" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s).config;c.enabled=false;console.log(JSON.stringify(c))})')
check "scheduled scans can be switched off" test "$(status -X PUT "$base/system/scan/config" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d "$scan_config")" = 200
check "/auth/me returns the admin" grep -q '"username":"admin"' <<<"$me"

cid='e2e-check-1'
body=$(cjson -X POST "$base/auth/login" -H 'Content-Type: application/json' -H "X-Correlation-Id: $cid" -d '{"password":"x"}')
check "400 envelope names the field and carries the correlation id" \
  grep -q "\"human_message\":\"username is required\",\"correlation_id\":\"$cid\"" <<<"$body"
check "400 on malformed JSON" test "$(status -X POST "$base/auth/login" -H 'Content-Type: application/json' -d '{')" = 400
check "401 without a credential" test "$(status "$base/auth/me")" = 401
check "404 on an unknown path" test "$(status "$base/no-such-thing")" = 404
check "405 on a wrong method" test "$(status -X DELETE "$base/health")" = 405
{ printf '{"username":"'; head -c 3000000 /dev/zero | tr '\0' 'a'; printf '"}'; } >"$data/big.json"
check "413 on a body over 2 MiB" test "$(status -X POST "$base/auth/login" -H 'Content-Type: application/json' --data-binary "@$data/big.json")" = 413
user='{"username":"viewer1","email":"viewer1@example.com","password":"viewer-password-1"}'
check "create a viewer with an Idempotency-Key" test "$(status -X POST "$base/users" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -H 'Idempotency-Key: e2e-k1' -d "$user")" = 201
check "409 when the key is reused with another body" test "$(status -X POST "$base/users" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -H 'Idempotency-Key: e2e-k1' -d '{"username":"other","email":"o@example.com","password":"other-password-1"}')" = 409
vlogin=$(cjson -X POST "$base/auth/login" -H 'Content-Type: application/json' -d '{"username":"viewer1","password":"viewer-password-1"}')
vtoken=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$vlogin")
check "403 for a viewer creating users" test "$(status -X POST "$base/users" -H "Authorization: Bearer $vtoken" -H 'Content-Type: application/json' -d "$user")" = 403
check "create-admin works while serve is running" \
  quiet "$bin" create-admin --database-dsn= --username ops --email ops@example.com --password 'ops-password-123'
check "the new admin can sign in" grep -q access_token <(cjson -X POST "$base/auth/login" \
  -H 'Content-Type: application/json' -d '{"username":"ops","password":"ops-password-123"}')
check "swagger UI is served" grep -q 'swagger-ui' <(cjson "https://localhost:$port/api/docs")

# The scan target of the UI's full flow: a real sshd on loopback with its own host key, on a
# free port, accepting root with a key made for this run (the key goes to the UI as a
# credential). A scan only reads the machine; nothing is changed on it.
sshd_dir=$(mktemp -d)
chmod 0711 "$sshd_dir"
sshd_pid=""
sshd_port=""
start_sshd() {
  [ "$(id -u)" -eq 0 ] || { echo "the UI flow needs root to run sshd as a scan target" >&2; return 1; }
  mkdir -p -m 0755 /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$sshd_dir/host_key" || return 1
  ssh-keygen -q -t ed25519 -N '' -C e2e-client -f "$sshd_dir/client_key" || return 1
  cp "$sshd_dir/client_key.pub" "$sshd_dir/authorized_keys"
  chmod 0644 "$sshd_dir/authorized_keys"
  sshd_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  cat >"$sshd_dir/sshd_config" <<CFG
ListenAddress 127.0.0.1:$sshd_port
HostKey $sshd_dir/host_key
AuthorizedKeysFile $sshd_dir/authorized_keys
PidFile none
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
UseDNS no
PrintMotd no
X11Forwarding no
Subsystem sftp internal-sftp
CFG
  /usr/sbin/sshd -t -f "$sshd_dir/sshd_config" || return 1
  # sshd and every session it serves see /etc and /run through throwaway overlays in a
  # mount namespace of their own: a flow may change the target's files (alerts.spec.ts
  # breaks and fixes a rule; certificates.spec.ts has a host certificate installed, whose
  # delivery writes /etc/ssh and looks for systemd and /run/sshd.pid to reload sshd) and
  # this machine's /etc and /run stay as they are. unshare and sh exec, so sshd_pid is
  # sshd's (flow.spec.ts sends it SIGHUP).
  mkdir -p "$sshd_dir/etc-upper" "$sshd_dir/etc-work" "$sshd_dir/run-upper" "$sshd_dir/run-work"
  unshare --mount --propagation private -- /bin/sh -c "set -e
    mount -t overlay overlay -o 'lowerdir=/etc,upperdir=$sshd_dir/etc-upper,workdir=$sshd_dir/etc-work' /etc
    mount -t overlay overlay -o 'lowerdir=/run,upperdir=$sshd_dir/run-upper,workdir=$sshd_dir/run-work' /run
    rm -rf /run/systemd /run/sshd.pid
    exec /usr/sbin/sshd -D -e -f '$sshd_dir/sshd_config'" 2>"$sshd_dir/sshd.log" &
  sshd_pid=$!
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$sshd_port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "sshd did not start:" >&2
  cat "$sshd_dir/sshd.log" >&2
  return 1
}
if ! start_sshd; then
  failed=$((failed + 1))
  echo "FAIL start the sshd scan target" >&2
fi

# The identity provider of the single sign-on spec: a real OpenID Provider
# (internal/sso/ssotest) on a free loopback port, with the accounts the spec signs in as.
op_pid=""
op_issuer=""
start_testop() {
  go build -o "$data/testop" ./scripts/testop || return 1
  "$data/testop" -addr 127.0.0.1:0 >"$data/testop.out" 2>"$data/testop.log" &
  op_pid=$!
  for _ in $(seq 1 100); do
    op_issuer=$(sed -n 's/^issuer=//p' "$data/testop.out" 2>/dev/null | head -1)
    [ -n "$op_issuer" ] && return 0
    kill -0 "$op_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the test identity provider did not start:" >&2
  cat "$data/testop.log" >&2
  return 1
}
if ! start_testop; then
  failed=$((failed + 1))
  echo "FAIL start the test identity provider" >&2
fi

# The browser suite: Chromium accepts exactly the server key that pin.mjs verified against
# the generated CA (see web/e2e/pin.mjs). Each Playwright test counts as one check.
# E2E_SPECS (e.g. "hosts.spec.ts") runs only those spec files, for work on one page.
e2e_out=${E2E_OUTPUT:-$PWD/web/test-results/e2e}
# The specs run the same binary offline (openwatch verify-report) from web/.
bin_abs=$(realpath "$bin")
rm -rf "$e2e_out" && mkdir -p "$e2e_out"
if pin=$(node web/e2e/pin.mjs "https://localhost:$port" "$ca"); then
  report="$e2e_out/report.json"
  (cd web && OPENWATCH_URL="https://localhost:$port" OPENWATCH_PASSWORD="$pw" OPENWATCH_SPKI_PIN="$pin" \
    E2E_SSHD_PORT="$sshd_port" E2E_SSH_KEY="$sshd_dir/client_key" \
    E2E_SSHD_PID="$sshd_pid" E2E_SSHD_HOST_KEY="$sshd_dir/host_key" E2E_SSO_ISSUER="$op_issuer" \
    E2E_OUTPUT="$e2e_out" PLAYWRIGHT_JSON_OUTPUT_NAME="$report" E2E_OPENWATCH_BIN="$bin_abs" \
    npx --no-install playwright test --reporter=list,json ${E2E_SPECS:-}) || true
  counts=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.stats.expected} ${r.stats.unexpected + r.stats.flaky} ${r.stats.skipped}`);
  ' "$report" 2>/dev/null || echo "0 1 0")
  read -r ok bad skipped <<<"$counts"
  passed=$((passed + ok))
  failed=$((failed + bad + skipped))
  [ "$bad" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$ok" -gt 0 ] || echo "FAIL web UI suite: $bad failed, $skipped did not run" >&2
  echo "web UI screenshots: $e2e_out/screenshots"
else
  failed=$((failed + 1))
  echo "FAIL the server certificate does not verify against its CA" >&2
fi

if [ -n "$sshd_pid" ]; then kill -TERM "$sshd_pid" 2>/dev/null || true; wait "$sshd_pid" 2>/dev/null || true; fi
rm -rf "$sshd_dir"
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
pid=""
check "serve exits cleanly on SIGTERM" test "$rc" -eq 0
