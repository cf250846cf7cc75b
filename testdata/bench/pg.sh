# Sourced by the benchmarks. start_pg WORK starts a throw-away PostgreSQL
# in WORK/pg, as the tests do, and sets PG to its URL and PGBIN to its
# binaries; stop_pg stops it (safe to call when none was started).
start_pg() {
  local work=$1
  PGBIN=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")")
  PGRUN=""; chmod 755 "$work"
  if [ "$(id -u)" = 0 ]; then PGRUN="runuser -u postgres --"; chown postgres "$work"; fi
  PGDATA="$work/pg"; local port=$((20000 + RANDOM % 20000))
  $PGRUN "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust -E UTF8 --no-sync >/dev/null
  $PGRUN "$PGBIN/pg_ctl" -D "$PGDATA" -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=512MB" -l "$work/pg.log" -w start >/dev/null
  PG="postgres://bench@127.0.0.1:$port/postgres?sslmode=disable"
}
stop_pg() {
  if [ -n "${PGDATA:-}" ]; then $PGRUN "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; fi
}
# pg_cpu prints the CPU seconds the server's finished processes have used:
# the postmaster reaps every backend, so its children's times add up each
# connection's work once it has closed.
pg_cpu() {
  local pid; pid=$(head -1 "$PGDATA/postmaster.pid")
  awk -v hz="$(getconf CLK_TCK)" '{ print ($16 + $17) / hz }' "/proc/$pid/stat"
}
