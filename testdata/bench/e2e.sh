#!/usr/bin/env bash
# End-to-end benchmark: eventaudit against the Python reference and against the raw
# read limit of each warehouse, on one machine in one run. Prints a Markdown table.
#   N=1000000 BIG=10000000 bash testdata/bench/e2e.sh      (make bench-e2e)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000000}; BIG=${BIG:-10000000}; NPY=${NPY:-100000}
work=$(mktemp -d /tmp/eventaudit-bench.XXXXXX)
trap 'if [ -n "${PGDATA:-}" ]; then $PGRUN "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; fi; rm -rf "$work"' EXIT
log() { echo "$*" >&2; }

go build -tags duckdb_arrow -o "$work/eventaudit" ./cmd/eventaudit
go build -tags duckdb_arrow -o "$work/corpus" ./cmd/eventaudit-corpus
schemas=testdata/demo/schemas
window=(--since 2026-11-20 --until 2026-11-21)

# A throw-away PostgreSQL, as in the tests.
PGBIN=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")")
PGRUN=""; chmod 755 "$work"
if [ "$(id -u)" = 0 ]; then PGRUN="runuser -u postgres --"; chown postgres "$work"; fi
PGDATA="$work/pg"; PORT=$((20000 + RANDOM % 20000))
$PGRUN "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust -E UTF8 --no-sync >/dev/null
$PGRUN "$PGBIN/pg_ctl" -D "$PGDATA" -o "-p $PORT -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=512MB" -l "$work/pg.log" -w start >/dev/null
PG="postgres://bench@127.0.0.1:$PORT/postgres?sslmode=disable"
DUCK="duckdb://$work/bench.duckdb"

log "loading $N rows into DuckDB and Postgres"
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$DUCK" -table events
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$PG" -table events

# timed CMD...: prints "seconds peak_rss_mb"
timed() {
  /usr/bin/time -v "$@" >"$work/out" 2>"$work/time" || { s=$?; [ $s -le 1 ] || { cat "$work/time" >&2; exit $s; }; }
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]} /Maximum resident set size/ {r=$2/1024} END {printf "%.2f %.0f\n", s, r}' "$work/time"
}

log "python reference on $NPY rows"
"$work/corpus" -n "$NPY" -bad 0.05 -seed 1 -out "$work/py" 2>/dev/null
read -r _ _ _ py_rate < <(/usr/bin/python3 testdata/bench/reference.py "$schemas" segment/shop "$work/py/events.ndjson")

log "validation core"
go test -run '^$' -bench 'ValidationCore' -benchtime 5x -count 1 ./schemas/ >"$work/core"
core() { awk -v name="$1" '$1 ~ name {for(i=1;i<=NF;i++) if ($(i+1)=="events/s") print $i}' "$work/core"; }
c1=$(core 'ValidationCore/fast/workers=1'); c2=$(core 'ValidationCore/fast/workers=2')
l1=$(core 'ValidationCore/library/workers=1')

log "raw read limits"
read -r _ _ duck_raw < <("$work/corpus" -warehouse "$DUCK" -table events -scan)
read -r _ _ pg_raw < <("$work/corpus" -warehouse "$PG" -table events -scan)
start=$(date +%s.%N)
psql -q "$PG" -c "COPY (SELECT payload FROM events WHERE received_at >= '2026-11-20' AND received_at < '2026-11-21') TO STDOUT" >/dev/null
pg_copy=$(awk -v s="$start" -v e="$(date +%s.%N)" -v n="$N" 'BEGIN {printf "%.0f", n/(e-s)}')

log "end to end, $N rows"
read -r duck_s duck_rss < <(timed "$work/eventaudit" audit --warehouse "$DUCK" --table events --schemas "$schemas" --plan segment/shop "${window[@]}" --log-level warn)
read -r pg_s pg_rss < <(timed "$work/eventaudit" audit --warehouse "$PG" --table events --schemas "$schemas" --plan segment/shop "${window[@]}" --log-level warn)

log "end to end, $BIG rows (DuckDB, the $N rows repeated)"
"$work/corpus" -warehouse "$DUCK" -exec "CREATE TABLE events_big AS SELECT message_id || '-' || k AS message_id, received_at, payload FROM events, range($((BIG / N))) t(k)"
read -r big_s big_rss < <(timed "$work/eventaudit" audit --warehouse "$DUCK" --table events_big --schemas "$schemas" --plan segment/shop "${window[@]}" --log-level warn)

rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n/s}'; }
x() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f×", a/b}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }
duck_rate=$(rate "$N" "$duck_s"); pg_rate=$(rate "$N" "$pg_s"); big_rate=$(rate "$BIG" "$big_s")
cat <<TABLE
| measurement | events/s | vs Python | other |
|---|--:|--:|---|
| Python reference (jsonschema $(/usr/bin/python3 -c 'from importlib.metadata import version; print(version("jsonschema"))'), 1 core, $NPY events) | $py_rate | 1.0× | |
| validation core, jsonschema/v5 only, 1 worker | $l1 | $(x "$l1" "$py_rate") | |
| validation core, fast path, 1 worker | $c1 | $(x "$c1" "$py_rate") | target ≥ 10× |
| validation core, fast path, 2 workers | $c2 | $(x "$c2" "$py_rate") | $(x "$c2" "$c1") one worker (target ≥ 1.8×) |
| DuckDB raw scan through eventaudit's reader | $duck_raw | | |
| DuckDB end to end, $N rows | $duck_rate | $(x "$duck_rate" "$py_rate") | $(pct "$duck_rate" "$duck_raw") of raw scan; ${duck_s}s; peak RSS ${duck_rss} MB |
| DuckDB end to end, $BIG rows | $big_rate | $(x "$big_rate" "$py_rate") | ${big_s}s; peak RSS ${big_rss} MB (target ≤ 256 MB, flat) |
| Postgres COPY (SELECT payload …) TO STDOUT | $pg_copy | | the raw read limit |
| Postgres raw scan through eventaudit's reader | $pg_raw | | |
| Postgres end to end, $N rows | $pg_rate | $(x "$pg_rate" "$py_rate") | $(pct "$pg_rate" "$pg_copy") of COPY-out (target ≥ 50%); ${pg_s}s; peak RSS ${pg_rss} MB |
TABLE
