#!/usr/bin/env bash
# End-to-end benchmark, in one run on one machine: eventaudit beside its
# peers (Python jsonschema, ajv 8) on the same events, and beside the raw
# read limit of each warehouse (DuckDB: eventaudit's streamed scan alone,
# and the sliced Arrow read the DuckDB targets are set against; Postgres:
# COPY out). Runs alternate; each figure is the median of REPS
# runs with its min–max. Prints a Markdown table.
#   N=1000000 BIG=10000000 NPEER=200000 REPS=5 bash testdata/bench/e2e.sh      (make bench-e2e)
# Needs: postgresql (initdb), GNU time, python3 with jsonschema, node and npm.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000000}; BIG=${BIG:-10000000}; NPEER=${NPEER:-200000}; REPS=${REPS:-5}
PYTHON=${PYTHON:-python3}
work=$(mktemp -d /tmp/eventaudit-bench.XXXXXX)
source testdata/bench/pg.sh
trap 'stop_pg; rm -rf "$work"' EXIT
log() { echo "$*" >&2; }

# The build make builds: its tags, and the 16-byte string scan (Makefile).
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
go build -tags duckdb_arrow,minicore_disabled -o "$work/eventaudit" ./cmd/eventaudit
go build -tags duckdb_arrow,minicore_disabled -o "$work/corpus" ./cmd/eventaudit-corpus
schemas=testdata/demo/schemas
window=(--since 2026-11-20 --until 2026-11-21 --log-level warn)

# A throw-away PostgreSQL, as in the tests.
start_pg "$work"
DUCK="duckdb://$work/bench.duckdb"

log "loading $N rows into DuckDB and Postgres"
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$DUCK" -table events
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$PG" -table events
"$work/corpus" -n "$NPEER" -bad 0.05 -seed 1 -out "$work/peer" 2>/dev/null

# sample LABEL CMD...: one timed run of CMD; appends "seconds rss_mb" to
# $work/LABEL. Exit status 1 (an audit over its threshold) is a result.
sample() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    s=$?; [ $s -le 1 ] || { cat "$work/err" >&2; exit $s; }
  }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time" >>"$work/$label"
}
# rate LABEL: what a peer printed (events invalid seconds events/s); appends
# "events/s" to $work/LABEL.
rate() { awk '{print $4}' "$work/out" >>"$work/$1"; }
# stat FILE COLUMN: "median min max" of a column.
stat() { awk -v c="$2" '{print $c}' "$work/$1" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)], v[1], v[NR]}'; }
peakrss() { awk '$2>m {m=$2} END {print m}' "$work/$1"; }

log "peers on $NPEER events: Python jsonschema, ajv 8, eventaudit's validation core"
have_py=1; "$PYTHON" -c 'import jsonschema' 2>/dev/null || { have_py=0; log "no jsonschema for $PYTHON: pip install jsonschema (or set PYTHON)"; }
have_ajv=1; npm install --silent --prefix "$work/node" ajv@8 >/dev/null 2>&1 || { have_ajv=0; log "npm install ajv@8 failed: ajv is left out"; }
for i in $(seq "$REPS"); do
  if [ $have_py = 1 ] && [ "$i" -le 3 ]; then # Python takes a minute a run
    sample py "$PYTHON" -W ignore testdata/bench/reference.py "$schemas" segment/shop "$work/peer/events.ndjson"; rate py.rate
    read -r _ py_invalid _ _ <"$work/out"
  fi
  if [ $have_ajv = 1 ]; then
    sample ajv env NODE_PATH="$work/node/node_modules" node testdata/bench/ajv.js "$schemas" segment/shop "$work/peer/events.ndjson"; rate ajv.rate
    read -r _ ajv_invalid _ _ <"$work/out"
  fi
  sample core1 "$work/corpus" -n "$NPEER" -bad 0.05 -seed 1 -core "$schemas" -workers 1; rate core1.rate
  read -r _ core_invalid _ _ <"$work/out"
  sample core2 "$work/corpus" -n "$NPEER" -bad 0.05 -seed 1 -core "$schemas" -workers 2; rate core2.rate
done

log "raw read limits and end to end, $N rows, $REPS alternating runs"
audit=("$work/eventaudit" audit --table events --schemas "$schemas" --plan segment/shop "${window[@]}")
"${audit[@]}" --warehouse "$DUCK" >/dev/null || true # creates the result tables: later runs replace
"${audit[@]}" --warehouse "$PG" >/dev/null || true
for _ in $(seq "$REPS"); do
  sample duckscan "$work/corpus" -warehouse "$DUCK" -table events -scan
  sample ducksliced "$work/corpus" -warehouse "$DUCK" -table events -scan -sliced
  sample duck2 "${audit[@]}" --warehouse "$DUCK" --workers 2
  sample duck1 "${audit[@]}" --warehouse "$DUCK" --workers 1
  sample pgcopy psql -q "$PG" -c "COPY (SELECT payload FROM events WHERE received_at >= '2026-11-20' AND received_at < '2026-11-21') TO STDOUT"
  sample pg2 "${audit[@]}" --warehouse "$PG" --workers 2
done

log "end to end, $BIG rows (DuckDB, the $N rows repeated)"
"$work/corpus" -warehouse "$DUCK" -exec "CREATE TABLE events_big AS SELECT message_id || '-' || k AS message_id, received_at, payload FROM events, range($((BIG / N))) t(k)"
sample big "$work/eventaudit" audit --warehouse "$DUCK" --table events_big --schemas "$schemas" --plan segment/shop "${window[@]}"

# rows/s from the median seconds of LABEL: "median (min–max)"
per() {
  read -r med lo hi < <(stat "$2" 1)
  awk -v n="$1" -v m="$med" -v lo="$lo" -v hi="$hi" 'BEGIN {printf "%.0fk (%.0f–%.0fk)", n/m/1000, n/hi/1000, n/lo/1000}'
}
rated() {
  read -r med lo hi < <(stat "$1" 1)
  awk -v m="$med" -v lo="$lo" -v hi="$hi" 'BEGIN {printf "%.0fk (%.0f–%.0fk)", m/1000, lo/1000, hi/1000}'
}
med() { read -r m _ _ < <(stat "$1" 1); echo "$m"; }
# paired FAST SLOW: SLOW's rate as a share of FAST's, round by round (the
# two ran back to back in each round, so the ratio leaves out the drift of
# a noisy hour between rounds): "median% (min–max%)".
paired() {
  paste -d' ' "$work/$1" "$work/$2" | awk '{print 100*$1/$3}' | sort -g |
    awk '{v[NR]=$1} END {printf "%.0f%% (%.0f–%.0f%%)", v[int((NR+1)/2)], v[1], v[NR]}'
}
# Two decimals: rounded to one, 2.96× ajv printed as the 3.0× target.
x() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", a/b}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }

core1=$(med core1.rate); core2=$(med core2.rate)
duckscan=$(awk -v n="$N" -v s="$(med duckscan)" 'BEGIN {print n/s}')
ducksliced=$(awk -v n="$N" -v s="$(med ducksliced)" 'BEGIN {print n/s}')
duck2=$(awk -v n="$N" -v s="$(med duck2)" 'BEGIN {print n/s}'); duck1=$(awk -v n="$N" -v s="$(med duck1)" 'BEGIN {print n/s}')
pgcopy=$(awk -v n="$N" -v s="$(med pgcopy)" 'BEGIN {print n/s}'); pg2=$(awk -v n="$N" -v s="$(med pg2)" 'BEGIN {print n/s}')
py=$( [ $have_py = 1 ] && med py.rate || echo "")
ajv=$( [ $have_ajv = 1 ] && med ajv.rate || echo "")
vs() { [ -n "$2" ] && x "$1" "$2" || echo "n/a"; }

echo "| measurement | events/s, median (min–max) | ratio |"
echo "|---|--:|---|"
[ $have_py = 1 ] && echo "| Python jsonschema $("$PYTHON" -c 'from importlib.metadata import version; print(version("jsonschema"))'), 1 core, $NPEER events in memory ($py_invalid invalid) | $(rated py.rate) | 3 runs |"
[ $have_ajv = 1 ] && echo "| ajv $(node -e "console.log(require('$work/node/node_modules/ajv/package.json').version)"), 1 core, $NPEER events in memory ($ajv_invalid invalid) | $(rated ajv.rate) | $(vs "$ajv" "$py") Python |"
echo "| eventaudit validation core, 1 worker, the same events ($core_invalid invalid) | $(rated core1.rate) | $(vs "$core1" "$ajv") ajv, $(vs "$core1" "$py") Python |"
echo "| eventaudit validation core, 2 workers | $(rated core2.rate) | $(x "$core2" "$core1") one worker |"
echo "| DuckDB read limit: eventaudit's streamed scan, no validation, $N rows | $(per "$N" duckscan) | |"
echo "| DuckDB sliced Arrow read, 10,000-row slices, no validation, $N rows | $(per "$N" ducksliced) | the reader the streamed scan replaced |"
echo "| DuckDB end to end with writes, 2 workers, $N rows | $(per "$N" duck2) | $(pct "$duck2" "$ducksliced") of the sliced Arrow read (round by round $(paired ducksliced duck2)), $(pct "$duck2" "$duckscan") of the streamed scan; peak RSS $(peakrss duck2) MB |"
echo "| DuckDB end to end with writes, 1 worker | $(per "$N" duck1) | $(vs "$duck1" "$py") Python per core; 2 workers $(x "$duck2" "$duck1") |"
echo "| DuckDB end to end with writes, $BIG rows | $(per "$BIG" big) | peak RSS $(peakrss big) MB |"
echo "| Postgres read limit: COPY (SELECT payload …) TO STDOUT, $N rows | $(per "$N" pgcopy) | |"
echo "| Postgres end to end with writes, 2 workers, $N rows | $(per "$N" pg2) | $(pct "$pg2" "$pgcopy") of COPY out (round by round $(paired pgcopy pg2)); peak RSS $(peakrss pg2) MB |"
