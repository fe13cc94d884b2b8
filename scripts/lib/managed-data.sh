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
