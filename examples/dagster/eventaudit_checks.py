"""An eventaudit audit as a Dagster asset check on the raw Segment events table.

The check runs `eventaudit audit` for the day before the run and reads its JSON report.
eventaudit's exit status says what happened: 0 passed, 1 over a --fail-on threshold (the
check fails; the results are written), anything else means the audit could not run, and
the check errors rather than passing.
"""
import json
import subprocess
from datetime import datetime, timedelta, timezone

from dagster import (AssetCheckResult, AssetCheckSeverity, AssetKey, Definitions,
                     MetadataValue, asset_check)

CONFIG = "/opt/eventaudit/eventaudit.yml"


@asset_check(asset=AssetKey(["raw", "segment_events"]), blocking=False,
             description="Yesterday's events match the tracking plan (eventaudit).")
def segment_events_match_tracking_plan(context) -> AssetCheckResult:
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=1)
    proc = subprocess.run(
        ["eventaudit", "audit", "--config", CONFIG, "--format", "json", "--log-format", "json",
         "--since", start.isoformat(), "--until", end.isoformat(),
         "--fail-on", "invalid_rate=0.02,new_violations=0",
         "--metrics-file", "/var/lib/node_exporter/textfile/eventaudit.prom"],
        capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        # 2: config or schemas; 3: warehouse, S3 or lock; 130: interrupted.
        raise RuntimeError(f"eventaudit exited {proc.returncode}: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    worst = sorted(report["events"], key=lambda e: e["invalid_rows"], reverse=True)[:5]
    return AssetCheckResult(
        passed=proc.returncode == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "run_id": report["run_id"],
            "rows_scanned": report["rows_scanned"],
            "rows_invalid": report["rows_invalid"],
            "invalid_rate": MetadataValue.float(report["invalid_rate"]),
            "new_violations": report.get("new_violations", 0),
            "breaches": MetadataValue.json(report["breaches"]),
            "worst_events": MetadataValue.json(
                [{"event": e["name"] or e["type"], "invalid_rows": e["invalid_rows"]} for e in worst]),
        },
    )


defs = Definitions(asset_checks=[segment_events_match_tracking_plan])
