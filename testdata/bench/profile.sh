#!/usr/bin/env bash
# The property profile's memory at scale: BIG rows in DuckDB, each with one
# of KEYS distinct extra properties (plus a nested one), so that every
# event's profile hits its path cap. Prints the audit's wall time and peak
# RSS, with and without --profile, and the drift it reports.
#   BIG=10000000 KEYS=5000 bash testdata/bench/profile.sh
# Needs GNU time; takes a few minutes and about 4 GB of disk.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000000}; BIG=${BIG:-10000000}; KEYS=${KEYS:-5000}
work=$(mktemp -d /tmp/eventaudit-profile.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The build make builds: its tags, and the 16-byte string scan (Makefile).
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
go build -tags duckdb_arrow,minicore_disabled -o "$work/eventaudit" ./cmd/eventaudit
go build -tags duckdb_arrow,minicore_disabled -o "$work/corpus" ./cmd/eventaudit-corpus
DUCK="duckdb://$work/bench.duckdb"
"$work/corpus" -n "$N" -bad 0.05 -seed 1 -warehouse "$DUCK" -table events
"$work/corpus" -warehouse "$DUCK" -exec "CREATE TABLE events_big AS SELECT message_id || '-' || k AS message_id, received_at,
  replace(payload, '\"properties\":{', '\"properties\":{\"extra_' || ((hash(message_id) + k) % $KEYS) || '\":{\"v_' || (k % 7) || '\":1},')
  AS payload FROM events, range($((BIG / N))) t(k)"
audit=("$work/eventaudit" audit --warehouse "$DUCK" --table events_big --schemas testdata/demo/schemas --plan segment/shop
  --since 2026-11-20 --until 2026-11-21 --dry-run --log-level warn)
for profile in true false; do
  /usr/bin/time -f "%e %M" -o "$work/time" "${audit[@]}" --profile="$profile" --format json >"$work/out-$profile" || [ $? -le 1 ]
  read -r secs kb <"$work/time"
  echo "--profile=$profile: $(awk -v s="$secs" -v k="$kb" 'BEGIN {printf "%.1f s, peak RSS %.0f MB", s, k/1024}')"
done
python3 - "$work/out-true" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = r["drift"]
print(f'{r["rows_scanned"]:,} rows; drift: {len(d["undeclared"])} undeclared paths, {len(d["mixed"])} mixed, profile cut for: {", ".join(d["truncated"])}')
PY
