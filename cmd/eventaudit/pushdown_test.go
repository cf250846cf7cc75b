package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// A run that proves rows in the warehouse writes the tables a run that
// fetches every row writes, and records what left the warehouse.
func TestPushdownWritesWhatAFullRunWrites(t *testing.T) {
	// The proof's json_ calls need more than DuckDB's 32 MB default.
	db, c := "duckdb://"+filepath.Join(t.TempDir(), "demo.duckdb")+"?memory_limit=1GB", newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	type summary struct {
		RowsScanned  int64 `json:"rows_scanned"`
		RowsInvalid  int64 `json:"rows_invalid"`
		RowsProven   int64 `json:"rows_proven"`
		RowsFetched  int64 `json:"rows_fetched"`
		BytesFetched int64 `json:"bytes_fetched"`
	}
	results := func(mode string) (summary, string) {
		t.Helper()
		r := c.run("audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--format", "json", "--pushdown", mode)
		if r.code != exitThreshold && r.code != exitOK {
			t.Fatalf("audit --pushdown %s: exit %d\n%s", mode, r.code, r.stderr)
		}
		var s summary
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("audit --pushdown %s: %v\n%s", mode, err, r.stdout)
		}
		q := c.run("query", "--warehouse", db, "--format", "json", "--limit", "100000", `
SELECT message_id, event_type, event_name, schema_id, instance_path, keyword, message, value FROM eventaudit.eventaudit_violations
UNION ALL SELECT event_type, event_name, schema_id, CAST(rows AS VARCHAR), CAST(invalid_rows AS VARCHAR), CAST(unplanned AS VARCHAR), '', '' FROM eventaudit.eventaudit_event_stats
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`)
		if q.code != exitOK {
			t.Fatalf("query: %s", q.stderr)
		}
		return s, q.stdout
	}
	off, offTables := results("off")
	on, onTables := results("on")
	t.Logf("off %+v, on %+v", off, on)
	if offTables != onTables {
		t.Errorf("the result tables differ with --pushdown on:\noff: %.2000s\non:  %.2000s", offTables, onTables)
	}
	if off.RowsProven != 0 || off.RowsFetched != off.RowsScanned || off.BytesFetched == 0 {
		t.Errorf("--pushdown off: %+v, want every row fetched", off)
	}
	if on.RowsScanned != off.RowsScanned || on.RowsInvalid != off.RowsInvalid || on.RowsProven+on.RowsFetched != on.RowsScanned ||
		on.RowsProven < on.RowsScanned/2 || on.BytesFetched >= off.BytesFetched {
		t.Errorf("--pushdown on: %+v; off: %+v: want the same rows, most proven, fewer bytes fetched", on, off)
	}
	if !strings.Contains(offTables, "segment/shop/Order Completed") {
		t.Errorf("the comparison saw no results:\n%.500s", offTables)
	}
	// auto leaves the embedded DuckDB alone: its proof costs more than it saves.
	if auto, _ := results("auto"); auto.RowsProven != 0 {
		t.Errorf("--pushdown auto on DuckDB proved %d rows, want none", auto.RowsProven)
	}
}
