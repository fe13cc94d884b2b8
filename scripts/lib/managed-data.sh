# Shell helpers of the benchmark scripts (sourced, not run).

# remove_data_dir DIR: removes a throwaway server data directory (DIR/data is the server's
# data dir) and the managed PostgreSQL cluster its pg.location names, which lives outside
# it when the cluster's server user cannot reach DIR; the cluster's server must be stopping.
remove_data_dir() {
  local dir=$1 loc=""
  [ -n "$dir" ] || return 0
  loc=$(cat "$dir/data/pg.location" 2>/dev/null) || true
  case "$loc" in
    /*/openwatch-pg/*)
      for _ in $(seq 1 100); do [ -e "$loc/data/postmaster.pid" ] || break; sleep 0.1; done
      [ -e "$loc/data/postmaster.pid" ] || rm -rf "$loc" ;;
  esac
  rm -rf "$dir"
}

# listen_port LOG PID: waits until the server PID logs its loopback listen address in LOG
# and prints the port; shows the log and fails when the server exits first or takes over
# 30 s.
listen_port() {
  local log=$1 pid=$2 port=""
  for _ in $(seq 1 3000); do
    port=$(grep -o '"listen":"127\.0\.0\.1:[0-9]*"' "$log" 2>/dev/null | head -1 | sed 's/.*://; s/"$//') || true
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.01
  done
  echo "the server did not start listening" >&2
  return 1
}

# start_managed_serve BIN DIR: starts `BIN serve` on a loopback port with its server data
# directory DIR/data (so its managed PostgreSQL, durability on, default settings) and
# waits for it; sets serve_pid, pg_sock and pg_port (the cluster's socket directory and
# port, read from its postmaster.pid) and pg_dsn for go tests (OPENWATCH_TEST_DSN). The
# caller stops serve_pid and calls remove_data_dir DIR on exit.
start_managed_serve() {
  local bin=$1 dir=$2 loc="" pidfile=""
  (unset OPENWATCH_DATABASE_DSN
   OPENWATCH_SERVER_DATA_DIR="$dir/data" OPENWATCH_SERVER_LISTEN=127.0.0.1:0 exec "$bin" serve) \
    >"$dir/serve.out" 2>"$dir/serve.log" &
  serve_pid=$!
  for _ in $(seq 1 3000); do
    loc=$(cat "$dir/data/pg.location" 2>/dev/null) || loc=pg
    case "$loc" in /*) ;; *) loc="$dir/data/$loc" ;; esac
    [ -s "$loc/data/postmaster.pid" ] && grep -q '"listen"' "$dir/serve.log" 2>/dev/null && { pidfile="$loc/data/postmaster.pid"; break; }
    kill -0 "$serve_pid" 2>/dev/null || { cat "$dir/serve.log" >&2; return 1; }
    sleep 0.01
  done
  [ -n "$pidfile" ] || { echo "the managed database did not come up" >&2; return 1; }
  # postmaster.pid: line 4 is the port, line 5 the socket directory.
  pg_port=$(sed -n 4p "$pidfile"); pg_sock=$(sed -n 5p "$pidfile")
  pg_dsn="host=$pg_sock port=$pg_port user=postgres dbname=postgres sslmode=disable"
  echo "storing into the managed database (durability on: fsync=$(psql -XAtq "$pg_dsn" -c 'SHOW fsync'), synchronous_commit=$(psql -XAtq "$pg_dsn" -c 'SHOW synchronous_commit'))"
}

# managed_bench_begin: the set-up the benchmark scripts share: checks that the binary
# (OPENWATCH_BIN, default bin/openwatch) is built, starts it on a throwaway data directory
# with start_managed_serve, and stops it and removes the directory when the script exits.
managed_bench_begin() {
  bin=${OPENWATCH_BIN:-bin/openwatch}
  [ -x "$bin" ] || { echo "build the binary first: make build" >&2; exit 1; }
  data=$(mktemp -d); chmod 0755 "$data"
  serve_pid=""
  trap managed_bench_end EXIT
  start_managed_serve "$bin" "$data"
}

managed_bench_end() {
  [ -n "$serve_pid" ] && { kill -TERM "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; }
  remove_data_dir "$data"
}
