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
