package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/warehouse"
)

// A run that proves rows in the warehouse writes the tables a run that
// fetches every row writes, and records what left the warehouse.
func TestPushdownWritesWhatAFullRunWrites(t *testing.T) {
	// DuckDB's default memory limit, as make demo leaves it: the proof
	// makes its own room.
	db, c := "duckdb://"+filepath.Join(t.TempDir(), "demo.duckdb"), newCLI()
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
		return s, resultTables(t, c, db)
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

// explain prints the statement the audit sends: run as it is over the
// window, it proves and fetches what the audit records. It says what each
// rule leaves to Go and why, and what auto would do.
func TestExplainPrintsTheStatementTheAuditSends(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "demo.duckdb")
	db, c := "duckdb://"+file+"?memory_limit=1GB", newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	// A valid message over the payload limit below: a violation, which the
	// statement must fetch.
	big := filepath.Join(dir, "big.ndjson")
	payload, _ := json.Marshal(`{"type":"track","event":"Signed Up","messageId":"big-1","properties":{"method":"email"},"context":{"pad":"` + strings.Repeat("x", 1100) + `"}}`)
	if err := os.WriteFile(big, []byte(`{"message_id":"big-1","received_at":"2026-11-20T12:00:00Z","payload":`+string(payload)+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := c.run("load", "--warehouse", db, "--table", "events", big); r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	// The demo plan, with a pattern on Signed Up's referral code.
	schemaDir := filepath.Join(dir, "schemas")
	if err := os.CopyFS(schemaDir, os.DirFS(filepath.Join(root, "testdata/demo/schemas"))); err != nil {
		t.Fatal(err)
	}
	signedUp := filepath.Join(schemaDir, "segment/shop/Signed Up/1-0.json")
	b, err := os.ReadFile(signedUp)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `"type": ["string", "null"]}`, `"type": ["string", "null"], "pattern": "^[A-Z0-9]+$"}`, 1))
	if err := os.WriteFile(signedUp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A payload limit some demo messages exceed: those are violations, so
	// the statement must fetch them.
	args := []string{"--warehouse", db, "--table", "events", "--schemas", schemaDir, "--plan", "segment/shop",
		"--since", "2026-11-20", "--until", "2026-11-21", "--format", "json", "--max-payload-bytes", "1024"}
	explain := func(mode string) reports.Explanation {
		t.Helper()
		r := c.run(append([]string{"explain", "--pushdown", mode}, args...)...)
		var e reports.Explanation
		if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &e) != nil {
			t.Fatalf("explain --pushdown %s: exit %d\n%s%s", mode, r.code, r.stdout, r.stderr)
		}
		return e
	}
	on := explain("on")
	if !on.Used || on.SQL == "" {
		t.Fatalf("explain --pushdown on: used %v, SQL %q: want the statement", on.Used, on.SQL)
	}
	proven := map[string]string{}
	for _, r := range on.Rules {
		proven[r.Type+" "+strings.Join(r.Names, ",")] = r.Proven + " " + r.Why
	}
	if got := proven["track Signed Up"]; !strings.HasPrefix(got, "part ") || !strings.Contains(got, "/referral_code") {
		t.Errorf("track Signed Up: %q, want part, naming /referral_code's pattern", got)
	}
	if got := proven["track Order Completed"]; got != "all " {
		t.Errorf("track Order Completed: %q, want all", got)
	}

	r := c.run(append([]string{"audit", "--pushdown", "on", "--dry-run"}, args...)...)
	var s struct {
		RowsProven  int64 `json:"rows_proven"`
		RowsFetched int64 `json:"rows_fetched"`
	}
	if r.code != exitThreshold && r.code != exitOK || json.Unmarshal([]byte(r.stdout), &s) != nil {
		t.Fatalf("audit: exit %d\n%s", r.code, r.stderr)
	}
	conn, err := sql.Open("duckdb", file+"?memory_limit=1GB")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sent struct{ proven, fetched int64 }
	start, end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	if err := conn.QueryRow(`SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE "rule" IS NULL) FROM (`+on.SQL+`)`, start, end).
		Scan(&sent.proven, &sent.fetched); err != nil {
		t.Fatalf("run explain's statement: %v", err)
	}
	if sent.proven != s.RowsProven || sent.fetched != s.RowsFetched || s.RowsProven == 0 {
		t.Errorf("explain's statement proves %d and fetches %d rows; the audit proved %d and fetched %d", sent.proven, sent.fetched, s.RowsProven, s.RowsFetched)
	}

	if auto := explain("auto"); auto.Used || !strings.Contains(auto.Reason, "embedded") || auto.SQL != on.SQL {
		t.Errorf("explain --pushdown auto on DuckDB: used %v, reason %q: want unused, saying DuckDB is embedded, and the same statement", auto.Used, auto.Reason)
	}
}

// On a terminal, an audit draws its progress on stderr; with pushdown only
// the rows the warehouse did not prove arrive, so the line counts those as
// fetched, and ends on the run's own counts, not on a share of the window.
func TestProgressLine(t *testing.T) {
	db, c := "duckdb://"+filepath.Join(t.TempDir(), "demo.duckdb"), newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	for _, tc := range []struct {
		mode      string
		want, not string
		wantFinal string
	}{
		{"off", "scanned 3,000 rows", "fetched", "scanned 3,000 rows (0 rows/s)\n"},
		{"on", "fetched 253 rows the warehouse did not prove valid", "ETA",
			"scanned 3,000 rows: 2,747 proven valid in the warehouse, 253 fetched\n"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			for _, tty := range []bool{false, true} {
				c.tty = tty
				r := c.run("audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
					"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--dry-run", "--log-level", "error",
					"--pushdown", tc.mode)
				if r.code != exitOK {
					t.Fatalf("audit --pushdown %s: exit %d\n%s", tc.mode, r.code, r.stderr)
				}
				if !tty {
					if strings.Contains(r.stderr, "\r") {
						t.Errorf("stderr is no terminal, yet it holds a progress line: %q", r.stderr)
					}
					continue
				}
				if !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, tc.not) || !strings.HasSuffix(r.stderr, tc.wantFinal) {
					t.Errorf("progress with --pushdown %s: %q; want %q, no %q, and the line ending %q", tc.mode, r.stderr, tc.want, tc.not, tc.wantFinal)
				}
			}
		})
	}
}

// resultTables prints the violations and event statistics a run wrote, in
// order, for comparing two runs.
func resultTables(t *testing.T, c *cli, db string) string {
	t.Helper()
	q := c.run("query", "--warehouse", db, "--format", "json", "--limit", "100000", `
SELECT message_id, event_type, event_name, schema_id, instance_path, keyword, message, value FROM eventaudit.eventaudit_violations
UNION ALL SELECT event_type, event_name, schema_id, CAST(rows AS VARCHAR), CAST(invalid_rows AS VARCHAR), CAST(unplanned AS VARCHAR), '', '' FROM eventaudit.eventaudit_event_stats
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`)
	if q.code != exitOK {
		t.Fatalf("query: %s", q.stderr)
	}
	return q.stdout
}

// In Segment's layout, where proving a row is a few column comparisons,
// --pushdown auto proves rows, unless the run keeps a property profile (the
// default), which needs every row; the result tables are those of a run
// without pushdown.
func TestSegmentLayoutPushdownAuto(t *testing.T) {
	db, c := "duckdb://"+filepath.Join(t.TempDir(), "demo.duckdb"), newCLI()
	loadSegmentDemo(t, db, warehouse.Credentials{}, "web_prod")
	type summary struct {
		RowsScanned int64 `json:"rows_scanned"`
		RowsProven  int64 `json:"rows_proven"`
	}
	results := func(args ...string) (summary, string) {
		t.Helper()
		args = append([]string{"audit", "--warehouse", db, "--layout", "segment", "--source", "web_prod", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--format", "json"}, args...)
		r := c.run(args...)
		if r.code != exitThreshold && r.code != exitOK {
			t.Fatalf("audit %v: exit %d\n%s", args, r.code, r.stderr)
		}
		var s summary
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("audit %v: %v\n%s", args, err, r.stdout)
		}
		return s, resultTables(t, c, db)
	}
	off, offTables := results("--pushdown", "off")
	profiled, _ := results()
	proved, provedTables := results("--profile=false")
	if profiled.RowsProven != 0 {
		t.Errorf("--pushdown auto with the profile on proved %d rows, want none: the profile needs every row", profiled.RowsProven)
	}
	if proved.RowsProven < off.RowsScanned/2 || proved.RowsScanned != off.RowsScanned {
		t.Errorf("--pushdown auto --profile=false proved %d of %d rows, want most", proved.RowsProven, proved.RowsScanned)
	}
	if offTables != provedTables || !strings.Contains(offTables, "segment/shop/Product Viewed") {
		t.Errorf("the result tables differ with pushdown:\noff: %.2000s\non:  %.2000s", offTables, provedTables)
	}
	e := c.run("explain", "--warehouse", db, "--layout", "segment", "--source", "web_prod", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--format", "json")
	if e.code != exitOK || !strings.Contains(e.stdout, `"used": false`) || !strings.Contains(e.stdout, "--profile=false") {
		t.Errorf("explain does not say why auto leaves the rows to Go: exit %d\n%.1500s", e.code, e.stdout)
	}
	if !strings.Contains(e.stdout, `"one_statement_per_table": true`) || strings.Count(e.stdout, `UNION ALL`) < 5 {
		t.Errorf("explain does not show a statement per table of the layout:\n%.1500s", e.stdout)
	}
}
