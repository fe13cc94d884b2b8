#!/usr/bin/env bash
# The figures of the closing notes, measured on what users run: the built binary on its
# managed database (durability on, the PostgreSQL defaults) with default logging, its
# workers running (the liveness poller probes every seeded host), seeded with loopback
# hosts on a closed port (SSH may reach nothing else). Beside it, in the same run, a bare
# Go HTTPS server with the same certificate (scripts/benchceiling) is the ceiling.
#
# Each run prints one table: req/s, p50 and p99 at 32 connections (wrk over TLS), and the
# ratio to the ceiling measured just before and just after (their mean printed beside it), for
# GET /health, GET /auth/me, GET /hosts/{id}, GET /hosts (first page) and
# GET /audit/events?limit=50; sequential POST /hosts (one connection, each with its own
# Idempotency-Key: one commit per create) beside the database's own floor for the same
# statements (pgbench); start-up to healthy on the managed database and on an external one;
# 50 concurrent sign-ins with the server's peak RSS. Two runs by default.
#
#   make bench                      (builds first)
#   scripts/bench.sh [runs, default 2] [duration per figure, default 5s] [hosts, default 10000]
#
# BENCH_PROFILE=DIR also serves the runtime profiles on loopback (server.profile_listen) and
# keeps a CPU profile of the server under each figure's load in DIR, named
# run<N>-<figure>.pprof (read them with go tool pprof -top bin/openwatch FILE).
# BENCH_ONLY=REGEX measures only the table rows whose name matches (the ceiling always),
# and the start-up and sign-in figures only if "sign-in" matches: for quick iterations,
# never for the figures of a closing note.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/managed-data.sh
runs=${1:-2}
dur=${2:-5s}
hosts=${3:-10000}
bin=${OPENWATCH_BIN:-bin/openwatch}
[ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
for tool in wrk curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get install -y -qq --no-install-recommends "$tool" >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$tool" >/dev/null; }
    else
      echo "$tool is required (apt-get install $tool)" >&2; exit 1
    fi
  fi
done

tools=$(mktemp -d)
go build -o "$tools/benchceiling" ./scripts/benchceiling
go build -o "$tools/loginload" ./scripts/loginload

data=""
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  remove_data_dir "$data"
}
trap 'cleanup; rm -rf "$tools"' EXIT

# The server's SSH logins and probes may reach this machine only.
export OPENWATCH_SSH_ALLOWED_NETWORKS=127.0.0.0/8,::1/128

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# listen_port LOG PID: the port a serve that listens on 127.0.0.1:0 logged.
listen_port() {
  local port=""
  for _ in $(seq 1 2000); do
    port=$(grep -o '"listen":"127\.0\.0\.1:[0-9]*"' "$1" 2>/dev/null | head -1 | sed 's/.*://; s/"$//') || true
    [ -n "$port" ] && { echo "$port"; return; }
    kill -0 "$2" 2>/dev/null || { cat "$1" >&2; return 1; }
    sleep 0.005
  done
  echo "no port in $1" >&2; return 1
}

# wait_healthy URL PID: poll until the server answers /health (its CA is made at start-up).
wait_healthy() {
  until curl -sf --cacert "$OPENWATCH_SERVER_DATA_DIR/tls/ca.crt" "$1/health" >/dev/null 2>&1; do
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.005
  done
}

profile_dir=${BENCH_PROFILE:-}
[ -n "$profile_dir" ] && mkdir -p "$profile_dir"
prof_addr=""
run_no=0

# cpu_ticks PID...: CPU time (user + system, in clock ticks) the processes have used.
cpu_ticks() {
  local t=0 p f
  for p in "$@"; do
    f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    f=${f##*) } # fields after the command name, which may hold spaces
    t=$(( t + $(awk '{print $12 + $13}' <<<"$f") ))
  done
  echo "$t"
}
# db_ticks: CPU time of the managed PostgreSQL: its postmaster, its children (backends,
# walwriter...) and the children that have exited (the postmaster's cutime and cstime),
# so a backend ending during a figure does not take its time with it.
db_ticks() {
  [ -n "$db_pid" ] || { echo 0; return; }
  local f reaped
  f=$(cat "/proc/$db_pid/stat" 2>/dev/null) || { echo 0; return; }
  f=${f##*) }
  reaped=$(awk '{print $14 + $15}' <<<"$f")
  echo $(( reaped + $(cpu_ticks "$db_pid" $(ps -o pid= --ppid "$db_pid" 2>/dev/null)) ))
}
srv_pid=""
ceiling_pid=""
db_pid=""
tick_us=$(( 1000000 / $(getconf CLK_TCK) ))

# figure NAME CONNECTIONS [wrk args]: one table row; the first row of a run is the ceiling.
# The last two columns are the CPU time per request of the server (on the first row, of the
# bare ceiling server) and of its database (the rest of the machine goes to wrk). With BENCH_PROFILE, the server's CPU
# profile under the load is saved beside the others.
ceiling=""
ceiling_last=""
figure() {
  local name=$1 c=$2; shift 2
  if [ -n "${BENCH_ONLY:-}" ] && [ -n "$ceiling" ] && ! grep -Eq "$BENCH_ONLY" <<<"$name"; then return; fi
  local out rps ratio prof_pid="" s0 d0 s1 d1 n srv_us="" db_us=""
  # The machine's speed drifts (a shared virtual machine): each figure at 32 connections is
  # compared with the mean of the ceilings measured just before and just after it (the
  # one after a row is the one before the next), and that mean is printed too.
  local paired="" before=$ceiling_last
  # The profile covers the figure's own load, not the paired ceiling's.
  if [ -n "$prof_addr" ] && [ -n "$ceiling" ]; then
    local slug; slug=$(tr -c 'a-zA-Z0-9\n' '-' <<<"$name" | tr -s '-' | sed 's/^-//; s/-$//')
    curl -s "http://$prof_addr/debug/pprof/profile?seconds=$(( ${dur%s} - 1 ))" \
      -o "$profile_dir/run$run_no-$slug.pprof" &
    prof_pid=$!
  fi
  # The ceiling's row gives the bare server's own CPU per request, for comparison.
  local measured=$srv_pid
  [ -z "$ceiling" ] && measured=$ceiling_pid
  s0=$(cpu_ticks "$measured"); d0=$(db_ticks)
  out=$(wrk -t2 -c"$c" -d"$dur" --latency "$@")
  s1=$(cpu_ticks "$measured"); d1=$(db_ticks)
  [ -n "$prof_pid" ] && wait "$prof_pid"
  if [ -n "$ceiling" ] && [ "$c" -gt 1 ]; then
    ceiling_last=$(wrk -t2 -c"$c" -d"$dur" "$ceiling_url" | awk '/Requests\/sec/ {print $2}')
    paired=$(awk -v a="$before" -v b="$ceiling_last" 'BEGIN { printf "%.2f", (a + b) / 2 }')
  fi
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  if [ "${n:-0}" -gt 0 ]; then
    srv_us=$(( (s1 - s0) * tick_us / n ))
    [ -n "$ceiling" ] && db_us=$(( (d1 - d0) * tick_us / n ))
  fi
  if [ -z "$ceiling" ]; then ceiling=$rps; paired=$rps; ceiling_last=$rps; fi
  ratio=""
  if [ "$c" -gt 1 ]; then
    ratio=$(awk -v a="$rps" -v b="${paired:-$ceiling}" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  fi
  last_rps=$rps
  printf '| %-28s | %3s | %10s | %8s | %8s | %10s | %10s | %9s | %9s |\n' "$name" "$c" "$rps" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" "$ratio" \
    "$paired" "${srv_us:+$srv_us us}" "${db_us:+$db_us us}"
  if grep -q 'Non-2xx' <<<"$out"; then echo "  $(grep 'Non-2xx' <<<"$out")"; fi
}

# create_floor DIR: the database's own ceiling for a create. pgbench (a C client on the
# unix socket: no HTTP, TLS or Go) sends the statements of POST /hosts with an
# Idempotency-Key in the same two round trips (BEGIN, the key's reservation, the insert
# returning the host and the audit head's lock; then the event, the stored response and
# COMMIT), one connection, durability on. A create can be no faster than this.
create_floor() {
  local pgbench sock db user
  pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | head -1) || true
  if [ -z "$pgbench" ]; then echo "  (no pgbench: the database's floor for a create is not measured)"; return; fi
  sock=$(grep -o '"msg":"database connected","host":"[^"]*"' "$1/serve.log" | head -1 | sed 's/.*"host":"//; s/"$//')
  db=$(grep -o '"database":"[^"]*"' "$1/serve.log" | head -1 | cut -d'"' -f4)
  user=$(grep -o '"msg":"database connected"[^}]*"user":"[^"]*"' "$1/serve.log" | head -1 | sed 's/.*"user":"//; s/"$//')
  # pgbench reads ":name" as a variable: no literal below has a colon before a letter.
  cat >"$1/floor.sql" <<'SQL'
\set n random(1, 2000000000)
\startpipeline
BEGIN;
INSERT INTO idempotency_keys (principal, key, request_hash, correlation_id, expires_at)
  VALUES ('floor', 'floor-' || :n::text, '\x0011', 'floor', now() + interval '1 day')
  ON CONFLICT (principal, key) DO UPDATE SET state = 'in_progress' WHERE idempotency_keys.expires_at <= now() RETURNING principal;
WITH h AS (INSERT INTO hosts (id, hostname, ip_address, port, display_name, description, environment, tags, group_id, username, created_by)
  VALUES (gen_random_uuid(), 'floor-' || :n::text || '.example.com', '127.251.1.1', 1, '', '', 'production', '{}', NULL, '', 'floor') RETURNING *)
  SELECT h.*, (h.maintenance_mode OR (h.group_id IS NOT NULL AND COALESCE((SELECT g.maintenance_mode FROM host_groups g WHERE g.id = h.group_id), false)))::boolean FROM h;
WITH head AS (SELECT seq, mac FROM audit_head WHERE id FOR UPDATE) SELECT head.seq, head.mac, clock_timestamp() FROM head;
\endpipeline
\startpipeline
WITH inserted AS (INSERT INTO audit_events (id, seq, occurred_at, recorded_at, correlation_id, action, severity, actor_type, actor_id, resource_type, resource_id, client_addr, detail, redactions, prev_mac, mac)
  SELECT gen_random_uuid(), h.seq + 1, now(), now(), 'floor', 'host.created', 'info', 'user', 'floor', 'host', 'floor', '', '{"hostname": "floor"}', '{}', h.mac, h.mac FROM audit_head h WHERE h.id RETURNING seq),
  moved AS (UPDATE audit_head SET seq = inserted.seq FROM inserted WHERE audit_head.id RETURNING audit_head.seq)
  SELECT audit_appended((SELECT count(*) FROM moved));
UPDATE idempotency_keys SET state = 'done', status_code = 201, content_type = 'application/json', response_body = convert_to(repeat('x', 700), 'UTF8')
  WHERE principal = 'floor' AND key = 'floor-' || :n::text;
COMMIT;
\endpipeline
SQL
  local out tps lat
  out=$("$pgbench" -h "$sock" -U "$user" -n -M prepared -c 1 -T "${dur%s}" -f "$1/floor.sql" "$db" 2>&1) || { echo "  pgbench failed: $(tail -2 <<<"$out")"; return; }
  tps=$(awk '/^tps/ {print $3}' <<<"$out")
  lat=$(awk '/latency average/ {print $4 $5}' <<<"$out")
  # Its "of ceiling" is the create's rate over this floor's.
  printf '| %-28s | %3s | %10.2f | %8s | %8s | %10s | %10s | %9s | %9s |\n' "  the database alone (pgbench)" 1 "$tps" "$lat" "" \
    "$(awk -v a="$last_rps" -v b="$tps" 'BEGIN { printf "%.0f%%", 100 * a / b }')" "" "" ""
}

one_run() {
  data=$(mktemp -d)
  chmod 0755 "$data" # the managed PostgreSQL runs as its own user and must reach it
  local dd="$data/data"
  export OPENWATCH_SERVER_DATA_DIR="$dd"
  unset OPENWATCH_DATABASE_DSN

  "$bin" dev seed --hosts "$hosts" >/dev/null 2>"$data/seed.log" || { cat "$data/seed.log" >&2; exit 1; }

  # Start-up on the managed database: the cluster is stopped (dev seed stopped it).
  local t0 port pid base ca token host
  local prof_listen=""
  [ -n "$profile_dir" ] && prof_listen=127.0.0.1:0
  t0=$(date +%s%N)
  OPENWATCH_SERVER_PROFILE_LISTEN=$prof_listen OPENWATCH_SERVER_LISTEN=127.0.0.1:0 "$bin" serve >"$data/serve.out" 2>"$data/serve.log" &
  pid=$!; pids+=("$pid")
  port=$(listen_port "$data/serve.log" "$pid")
  if [ -n "$profile_dir" ]; then
    prof_addr=$(grep -o '"profile_listen":"127\.0\.0\.1:[0-9]*"' "$data/serve.log" | head -1 | cut -d'"' -f4)
  fi
  base="https://localhost:$port/api/v1"
  wait_healthy "$base" "$pid"
  local managed_ms; managed_ms=$(ms_since "$t0")
  ca="$dd/tls/ca.crt"

  token=$(curl -s --cacert "$ca" -X POST "$base/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$(cat "$dd/initial-admin-password")\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || { echo "sign-in failed" >&2; exit 1; }
  host=$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$base/hosts?limit=200" | grep -o '"id":"[0-9a-f-]*"' | sed -n '100p' | cut -d'"' -f4)
  [ -n "$host" ] || { echo "no seeded host found" >&2; exit 1; }

  "$tools/benchceiling" -cert "$dd/tls/server.crt" -key "$dd/tls/server.key" >"$data/ceiling.out" 2>&1 &
  ceiling_pid=$!
  pids+=("$ceiling_pid")
  until grep -q 'listening on' "$data/ceiling.out" 2>/dev/null; do sleep 0.01; done
  local cport; cport=$(awk '/listening on/ {print $3}' "$data/ceiling.out")

  cat >"$data/create.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"hostname":"bench-%d-%d.example.com","ip_address":"127.250.%d.%d","port":1}', os.time(), counter, math.floor(counter / 250) % 250, counter % 250)
  local key = string.format("bench-%d-%d", os.time(), counter)
  return wrk.format("POST", "/api/v1/hosts", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $token", ["Idempotency-Key"] = key}, body)
end
LUA

  ceiling=""
  ceiling_last=""
  local auth="Authorization: Bearer $token"
  srv_pid=$pid
  # The postmaster's pid is the first line of its socket's lock file.
  local sockdir lock
  sockdir=$(grep -o '"msg":"database connected","host":"[^"]*"' "$data/serve.log" | head -1 | sed 's/.*"host":"//; s/"$//')
  lock=$(ls "$sockdir"/.s.PGSQL.*.lock 2>/dev/null | head -1) || true
  db_pid=""
  [ -n "$lock" ] && db_pid=$(head -1 "$lock")
  printf '| %-28s | %3s | %10s | %8s | %8s | %10s | %10s | %9s | %9s |\n' figure c 'req/s' p50 p99 'of ceiling' 'ceiling' 'server' 'database'
  printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------------ ----- ------------ ---------- ---------- ------------ ------------ ----------- -----------
  ceiling_url="https://localhost:$cport/"
  figure "ceiling (bare Go TLS hello)" 32 "$ceiling_url"
  figure "GET /health" 32 "$base/health"
  figure "GET /auth/me" 32 -H "$auth" "$base/auth/me"
  figure "GET /hosts/{id}" 32 -H "$auth" "$base/hosts/$host"
  figure "GET /hosts (first page)" 32 -H "$auth" "$base/hosts"
  figure "GET /audit/events?limit=50" 32 -H "$auth" "$base/audit/events?limit=50"
  figure "POST /hosts (sequential)" 1 -t1 -s "$data/create.lua" "https://localhost:$port"
  create_floor "$data"
  echo "start-up to healthy, managed database (cluster stopped): $managed_ms ms"
  echo "serve RSS after the load: $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$pid/status")"
  if [ -n "${BENCH_ONLY:-}" ] && ! grep -Eq "$BENCH_ONLY" <<<"sign-in"; then cleanup; return; fi

  # Start-up on an external database: a second process pointed at the running cluster's
  # socket, as a replica would be. It then takes 50 concurrent sign-ins (default limits).
  local sock db user
  sock=$(grep -o '"msg":"database connected","host":"[^"]*"' "$data/serve.log" | head -1 | sed 's/.*"host":"//; s/"$//')
  db=$(grep -o '"database":"[^"]*"' "$data/serve.log" | head -1 | cut -d'"' -f4)
  user=$(grep -o '"msg":"database connected"[^}]*"user":"[^"]*"' "$data/serve.log" | head -1 | sed 's/.*"user":"//; s/"$//')
  local t1 pid2 port2
  t1=$(date +%s%N)
  OPENWATCH_DATABASE_DSN="host=$sock dbname=$db user=$user" OPENWATCH_SERVER_LISTEN=127.0.0.1:0 \
    "$bin" serve >"$data/serve2.out" 2>"$data/serve2.log" &
  pid2=$!; pids+=("$pid2")
  port2=$(listen_port "$data/serve2.log" "$pid2")
  wait_healthy "https://localhost:$port2/api/v1" "$pid2"
  echo "start-up to healthy, external database: $(ms_since "$t1") ms"
  "$tools/loginload" -url "https://localhost:$port2" -ca "$ca" -user admin \
    -password "$(cat "$dd/initial-admin-password")" -n 50
  echo "serve peak RSS under the sign-ins (VmHWM): $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$pid2/status")"
  # The floor of "at once": the same 50 new TLS connections to the ceiling, which answers
  # each POST with its hello.
  echo -n "ceiling, same load: "
  "$tools/loginload" -url "https://localhost:$cport" -ca "$ca" -n 50 | head -1 | sed "s/sign-ins/requests/"
  cleanup
}

echo "OpenWatch $("$bin" version 2>/dev/null | head -1); $hosts hosts; $(nproc) cores; wrk -t2, $dur per figure"
for r in $(seq 1 "$runs"); do
  run_no=$r
  echo
  echo "run $r of $runs"
  one_run
done
