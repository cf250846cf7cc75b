#!/usr/bin/env bash
# Pushdown off and on over N rows: in a throw-away Postgres (jsonb and text payloads), in
# DuckDB, and in Segment's layout in both; alternating, REPS each: wall, eventaudit's CPU,
# the server's CPU, rows and bytes fetched. DuckDB runs inside eventaudit: its CPU is eventaudit's.
#   N=200000 REPS=3 bash testdata/bench/pushdown.sh
# Needs: postgresql (initdb), GNU time, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-200000}; REPS=${REPS:-3}
work=$(mktemp -d /tmp/pdb.XXXXXX)
source testdata/bench/pg.sh
trap 'stop_pg; rm -rf "$work"' EXIT
# The build make builds: its tags, and the 16-byte string scan (Makefile).
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
go build -tags duckdb_arrow,minicore_disabled -o "$work/eventaudit" ./cmd/eventaudit
go build -tags duckdb_arrow,minicore_disabled -o "$work/corpus" ./cmd/eventaudit-corpus
start_pg "$work"
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$PG" -table events_text -payload-type TEXT
DUCK="duckdb://$work/bench.duckdb"
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$DUCK" -table events_duckdb
# Segment's layout, in both: the corpus as Segment's destination loads it
# (the loader holds the layout in memory: about 8 GB for 1M messages).
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$PG" -segment web_prod
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$DUCK" -segment web_prod
# jsonb refuses the corpus's malformed payloads, as a loader would.
"$PGBIN/psql" "$PG" -q <<'SQL'
CREATE FUNCTION try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$;
CREATE TABLE events_jsonb AS SELECT message_id, received_at, try_jsonb(payload) AS payload FROM events_text;
VACUUM ANALYZE;
SQL
for i in $(seq "$REPS"); do
  for t in jsonb text duckdb segment-pg segment-duckdb; do
    for mode in off on; do
      [ $t = text ] && [ $mode = on ] && mode=auto
      wh=$PG; [ "${t#*-}" = duckdb ] && wh=$DUCK
      src=(--table "events_$t")
      [ "${t%%-*}" = segment ] && src=(--layout segment --source web_prod)
      before=$(pg_cpu)
      /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$work/eventaudit" audit --warehouse "$wh" "${src[@]}" --schemas testdata/demo/schemas --plan segment/shop \
        --since 2026-11-20 --until 2026-11-21 --log-level warn --dry-run --format json --pushdown $mode >"$work/out" 2>"$work/err" || true
      read -r wall usr sys rss <"$work/time"
      sleep 0.3 # the postmaster reaps the closed backends
      server=$(awk -v a="$before" -v b="$(pg_cpu)" 'BEGIN { print b - a }')
      [ "${t#*-}" = duckdb ] && server=in-process
      python3 - "$t" "$mode" "$wall" "$usr" "$sys" "$rss" "$work/out" "$server" <<'PY'
import json,sys
t,mode,wall,usr,sys_,rss,out,server=sys.argv[1:]
s=json.load(open(out))
server = "in-process" if server == "in-process" else f"{float(server):6.2f}s"
print(f"{t:14} {mode:4} wall {float(wall):6.2f}s client_cpu {float(usr)+float(sys_):6.2f}s server_cpu {server} rss {int(rss)//1024}MB scanned {s['rows_scanned']} invalid {s['rows_invalid']} proven {s['rows_proven']} fetched {s['rows_fetched']} bytes {s['bytes_fetched']/1e6:.1f}MB")
PY
    done
  done
done
