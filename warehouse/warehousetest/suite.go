// Package warehousetest is the one conformance suite every warehouse backend
// passes: the same scans, writes, re-runs and faults, checked through SQL.
package warehousetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Backend is a warehouse under test. Open returns a connected warehouse;
// the suite isolates its cases with fresh schema names, so Open may return
// the same database every time.
type Backend struct {
	Name string
	Open func(t *testing.T) *sqlwh.Warehouse
	// Skip lists cases the backend cannot run, each with the reason, which
	// the suite logs.
	Skip map[string]string
	// EndSession ends the warehouse session a lock names as its holder, as
	// a crash or a server restart would; needed by backends whose Conn
	// implements sqlwh.Sessions.
	EndSession func(t *testing.T, wh *sqlwh.Warehouse, id string)
}

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// Run runs every conformance case against b.
func Run(t *testing.T, b Backend) {
	cases := []struct {
		name string
		fn   func(*testing.T, *fixture)
	}{
		{"ScanWindowEdges", testScanWindowEdges},
		{"WritesResults", testWritesResults},
		{"SuppressedAndKnownFailures", testSuppressedAndKnown},
		{"FreshnessAndDuplicates", testFreshnessAndDuplicates},
		{"ReadQueryOnlyReads", testReadQuery},
		{"RerunReplaces", testRerunReplaces},
		{"PropertyStats", testPropertyStats},
		{"OverlappingWindowOwnsOverlap", testOverlap},
		{"FailedWriteLeavesNothing", testFailedWrite},
		{"FailedCommitLeavesNothing", testFailedCommit},
		{"CancelMidScanLeavesNothing", testCancelMidScan},
		{"BadPayloadsAreViolations", testBadPayloads},
		{"JSONPayloadColumn", testJSONPayload},
		{"UnusualIdentifiers", testUnusualIdentifiers},
		{"MissingTableAndColumn", testMissing},
		{"PayloadColumnOfWrongType", testWrongPayloadType},
		{"ManyViolationsInOneRun", testManyViolations},
		{"ShardsUnionEqualsFull", testShardsUnionEqualsFull},
		{"Locks", testLocks},
		{"ConcurrentLocks", testConcurrentLocks},
		{"LockHolderTerms", testLockHolderTerms},
		{"OverlappingShardsConflict", testOverlappingShardsConflict},
		{"LockHolderGone", func(t *testing.T, f *fixture) { testLockHolderGone(t, f, b.EndSession) }},
		{"ReleaseRetries", testReleaseRetries},
		{"OrphansAreReplaced", testOrphansAreReplaced},
		{"OldResultTablesAreUpgraded", testOldTablesUpgraded},
		{"WholeResultTablesCostOneQuery", testWholeTablesCostOneQuery},
		{"UnstorableStrings", testUnstorableStrings},
		{"SpellingsOfOneTable", testSpellingsOfOneTable},
		{"LateEventsBehindTheWatermark", testLateEvents},
		{"CancelAtManyPoints", testCancelAtManyPoints},
		{"SegmentLayout", testSegmentLayout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := b.Skip[c.name]; ok {
				t.Skipf("%s: %s", b.Name, why)
			}
			wh := b.Open(t)
			f := &fixture{t: t, wh: wh, ctx: context.Background(), id: uniq()}
			f.src = sqlwh.RawTable{Table: sqlwh.Ident{"src_" + f.id, "events"}, MessageID: "message_id",
				ReceivedAt: "received_at", Payload: "payload"}
			f.results = "res_" + f.id
			c.fn(t, f)
		})
	}
}

func uniq() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type fixture struct {
	t       *testing.T
	wh      *sqlwh.Warehouse
	ctx     context.Context
	id      string
	src     sqlwh.RawTable
	results string
}

// catalog: "Order Completed" needs order_id (string) and total (number).
func catalog() *audittest.Catalog {
	return audittest.NewCatalog().Add("Order Completed", &audittest.Schema{
		SchemaID: "shop/Order Completed/1-0.json", Required: []string{"order_id", "total"},
		Types: map[string]string{"order_id": "string", "total": "number"}})
}

func track(id string, at time.Time, event string, props map[string]any) audit.Row {
	b, _ := json.Marshal(map[string]any{"type": "track", "event": event, "messageId": id, "properties": props})
	return audit.Row{MessageID: id, ReceivedAt: at, Payload: b}
}

// missingTotal fails exactly one check: required total.
func missingTotal(id string, at time.Time) audit.Row {
	return track(id, at, "Order Completed", map[string]any{"order_id": "o-" + id})
}

func good(id string, at time.Time) audit.Row {
	return track(id, at, "Order Completed", map[string]any{"order_id": "o-" + id, "total": 10.5})
}

func (f *fixture) load(rows ...audit.Row) { f.loadAs(f.src, f.wh.Dialect.Text, rows...) }

func (f *fixture) loadAs(t sqlwh.RawTable, payloadType string, rows ...audit.Row) {
	f.t.Helper()
	if err := f.wh.LoadRaw(f.ctx, t, payloadType, rows); err != nil {
		f.t.Fatalf("load: %v", err)
	}
}

func (f *fixture) sink() *sqlwh.Sink { return &sqlwh.Sink{WH: f.wh, Schema: f.results} }

func (f *fixture) auditor(src audit.Source, sink audit.Sink) *audit.Auditor {
	return &audit.Auditor{Source: src, Sink: sink, Workers: 2,
		Matcher: &audit.Matcher{Catalog: catalog(), Target: audit.ValidateObject},
		Profile: &audit.Profiling{Limits: audit.DefaultProfileLimits}}
}

func (f *fixture) source(batch int) *sqlwh.Source {
	return &sqlwh.Source{WH: f.wh, Table: f.src, BatchSize: batch}
}

func (f *fixture) run(w audit.Window) (*audit.Summary, error) {
	return f.auditor(f.source(0), f.sink()).Run(f.ctx, f.newRun(w))
}

func (f *fixture) newRun(w audit.Window) audit.Run {
	return audit.Run{RunID: "run-" + uniq(), Source: f.src.Table.String(), Window: w}
}

func (f *fixture) mustRun(w audit.Window) *audit.Summary {
	f.t.Helper()
	s, err := f.run(w)
	if err != nil {
		f.t.Fatalf("audit: %v", err)
	}
	return s
}

func (f *fixture) table(name string) string {
	return f.wh.Dialect.Quote(sqlwh.Ident{f.results, name})
}

// query returns every row as strings, in the query's order.
func (f *fixture) query(q string, args ...any) [][]string {
	f.t.Helper()
	q = f.wh.Dialect.SQL(q) // the suite writes {name} for identifiers, as eventaudit does
	rows, err := f.wh.Conn.Query(f.ctx, q, args...)
	if err != nil {
		f.t.Fatalf("query %s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		cols, err := rows.Columns()
		if err != nil {
			f.t.Fatal(err)
		}
		n := len(cols)
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			f.t.Fatalf("scan %s: %v", q, err)
		}
		row := make([]string, n)
		for i := range n {
			row[i] = str(vals[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatalf("query %s: %v", q, err)
	}
	return out
}

// valueText puts column col, a violation's offending value, in one form:
// a JSON-typed column (Snowflake's VARIANT) prints indented and holds "no
// value" as NULL, a text column compact and as "".
func valueText(rows [][]string, col int) [][]string {
	for _, r := range rows {
		var b bytes.Buffer
		switch {
		case r[col] == "NULL":
			r[col] = ""
		case json.Compact(&b, []byte(r[col])) == nil:
			r[col] = b.String()
		}
	}
	return rows
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}

// snapshot reads all four result tables in a stable order.
func (f *fixture) snapshot() string {
	var b strings.Builder
	for _, q := range []string{
		`SELECT {run_id}, {source}, {window_start}, {window_end}, {status}, {rows_scanned}, {rows_invalid} FROM ` + f.table(sqlwh.RunsTable) + ` ORDER BY 1`,
		`SELECT {run_id}, {message_id}, {keyword}, {instance_path}, {received_at} FROM ` + f.table(sqlwh.ViolationsTable) + ` ORDER BY 1, 2, 3, 4`,
		`SELECT {run_id}, {event_name}, {schema_id}, {rows}, {invalid_rows} FROM ` + f.table(sqlwh.StatsTable) + ` ORDER BY 1, 2, 3`,
		`SELECT {run_id}, {event_name}, {path}, {json_type}, {rows} FROM ` + f.table(sqlwh.PropertiesTable) + ` ORDER BY 1, 2, 3, 4`,
	} {
		for _, r := range f.query(q) {
			b.WriteString(strings.Join(r, "|") + "\n")
		}
		b.WriteString("--\n")
	}
	return b.String()
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := fmt.Sprint(got), fmt.Sprint(want)
	if g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testScanWindowEdges(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour)}
	f.load(
		good("before", w.Start.Add(-time.Microsecond)),
		good("at-start", w.Start),
		good("middle", w.Start.Add(30*time.Minute+123456*time.Microsecond)),
		good("last", w.End.Add(-time.Microsecond)),
		good("at-end", w.End),
	)
	var got []string
	err := f.source(2).Scan(f.ctx, w, func(rows []audit.Row) error {
		for _, r := range rows {
			got = append(got, r.MessageID+"@"+r.ReceivedAt.Format(time.RFC3339Nano))
			if _, err := audit.DecodePayload(r.Payload); err != nil {
				t.Errorf("%s: payload did not survive the round trip: %v", r.MessageID, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	equal(t, "rows in [start, end)", got, []string{
		"at-start@2026-11-20T01:00:00Z", "last@2026-11-20T01:59:59.999999Z", "middle@2026-11-20T01:30:00.123456Z"})
}

func testWritesResults(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	at := t0.Add(time.Minute)
	f.load(
		good("a", at), good("b", at),
		track("c", at, "Order Completed", map[string]any{"total": 3}),
		track("d", at, "Order Completed", map[string]any{"order_id": "o-d", "total": "3.00"}),
		track("e", at, "Coupon Applied", nil),
		audit.Row{MessageID: "f", ReceivedAt: at},
	)
	s := f.mustRun(w)
	equal(t, "summary", []int64{s.Run.RowsScanned, s.Run.RowsInvalid, s.Run.RowsUnplanned, s.Run.Violations}, []int64{6, 3, 1, 3})
	runs := f.query(`SELECT {run_id}, {source}, {window_start}, {window_end}, {status}, {rows_scanned}, {rows_invalid}, {rows_unplanned}, {violations} FROM ` + f.table(sqlwh.RunsTable))
	equal(t, "runs", runs, [][]string{{s.Run.RunID, f.src.Table.String(), "2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z", "passed", "6", "3", "1", "3"}})
	viol := valueText(f.query(`SELECT {message_id}, {event_type}, {event_name}, {schema_id}, {keyword}, {instance_path}, {value}, {received_at} FROM `+
		f.table(sqlwh.ViolationsTable)+` ORDER BY 1`), 6)
	equal(t, "violations", viol, [][]string{
		{"c", "track", "Order Completed", "shop/Order Completed/1-0.json", "required", "/properties", `{"total":3}`, "2026-11-20T00:01:00Z"},
		{"d", "track", "Order Completed", "shop/Order Completed/1-0.json", "type", "/properties/total", `"3.00"`, "2026-11-20T00:01:00Z"},
		{"f", "", "", "", "payload", "", "", "2026-11-20T00:01:00Z"},
	})
	stats := f.query(`SELECT {event_type}, {event_name}, {schema_id}, {rows}, {invalid_rows}, CASE WHEN {unplanned} THEN 'true' ELSE 'false' END FROM ` + f.table(sqlwh.StatsTable) + ` ORDER BY 1, 2`)
	equal(t, "event stats", stats, [][]string{
		{"", "", "", "1", "1", "false"},
		{"track", "Coupon Applied", "", "1", "0", "true"},
		{"track", "Order Completed", "shop/Order Completed/1-0.json", "4", "2", "false"},
	})

	// Read back as `eventaudit report` draws it, the run is the one it
	// reported: the same events, counts, checks and examples.
	recorded, err := f.sink().Run(f.ctx, s.Run.RunID)
	if err != nil || recorded == nil {
		t.Fatalf("run %s read back: %v, %v", s.Run.RunID, recorded, err)
	}
	back, err := f.sink().Summary(f.ctx, *recorded)
	if err != nil {
		t.Fatal(err)
	}
	type eventRow struct {
		Type, Name, SchemaID     string
		Unplanned                bool
		Rows, Invalid, Violation int64
		Top                      audit.Check
	}
	type checkRow struct {
		Type, Name, SchemaID string
		Unplanned            bool
		audit.Check
		Violations                 int64
		MessageID, Message, AtTime string
	}
	project := func(s *audit.Summary) (events []eventRow, checks []checkRow) {
		for _, e := range s.Events {
			events = append(events, eventRow{e.Type, e.Name, e.SchemaID, e.Unplanned, e.Rows, e.InvalidRows, e.Violations, e.TopCheck})
		}
		for _, c := range s.Checks {
			checks = append(checks, checkRow{c.Type, c.Name, c.SchemaID, c.Unplanned, c.Check, c.Violations,
				c.Example.MessageID, c.Example.Message, c.Example.ReceivedAt.UTC().Format(time.RFC3339)})
		}
		return events, checks
	}
	wantEvents, wantChecks := project(s)
	gotEvents, gotChecks := project(back)
	equal(t, "events read back", gotEvents, wantEvents)
	equal(t, "checks read back", gotChecks, wantChecks)
	if none, err := f.sink().Run(f.ctx, "no-such-run"); err != nil || none != nil {
		t.Errorf("an unknown run id read back as %v, %v; want nil", none, err)
	}
}

// An accepted violation is written, marked suppressed, and counted in
// the run's violations_suppressed, not its violations; read back, it is in
// no check. The failures a later run asks for (new_violations) are every
// failure the source recorded, accepted ones included.
func testSuppressedAndKnown(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	at := t0.Add(time.Minute)
	f.load(good("a", at),
		track("c", at, "Order Completed", map[string]any{"total": 3}),
		track("d", at, "Order Completed", map[string]any{"order_id": "o-d", "total": "3.00"}))
	accept := audit.Suppression{Event: "Order *", Keyword: "type", Reason: "known", Entry: "ignore entry 1"}
	if err := accept.Compile(); err != nil {
		t.Fatal(err)
	}
	a := f.auditor(f.source(0), f.sink())
	a.Suppressions = []audit.Suppression{accept}
	s, err := a.Run(f.ctx, f.newRun(w))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "invalid, violations, suppressed", []int64{s.Run.RowsInvalid, s.Run.Violations, s.Run.ViolationsSuppressed}, []int64{1, 1, 1})
	viol := f.query(`SELECT {message_id}, {keyword}, CASE WHEN {suppressed} THEN 'true' ELSE 'false' END FROM ` + f.table(sqlwh.ViolationsTable) + ` ORDER BY 1`)
	equal(t, "violations", viol, [][]string{{"c", "required", "false"}, {"d", "type", "true"}})
	recorded, err := f.sink().Run(f.ctx, s.Run.RunID)
	if err != nil || recorded == nil {
		t.Fatalf("run read back: %v, %v", recorded, err)
	}
	equal(t, "suppressed read back", recorded.ViolationsSuppressed, int64(1))
	checks, err := f.sink().Checks(f.ctx, s.Run.RunID, func(string, string, string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	var keywords []string
	for _, c := range checks {
		keywords = append(keywords, c.Keyword)
	}
	equal(t, "checks read back", keywords, []string{"required"})
	known, err := f.sink().Fingerprints(f.ctx, s.Run)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "known failures", known, map[audit.Fingerprint]bool{
		audit.FingerprintOf("track", "Order Completed", "required", "/properties"):   true,
		audit.FingerprintOf("track", "Order Completed", "type", "/properties/total"): true,
	})
}

// The newest received_at is the source's, past the window too; duplicates
// are the window's rows that repeat a message_id; both are recorded with
// the run and read back, and a shard measures its own rows only.
func testFreshnessAndDuplicates(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	newest := t0.Add(5*time.Hour + 30*time.Second)
	// Duplicates: a's second and third copies, and d's second; b's other
	// copy is outside the window.
	f.load(good("a", t0.Add(time.Minute)), good("a", t0.Add(2*time.Minute)), good("a", t0.Add(3*time.Minute)),
		good("b", t0.Add(4*time.Minute)), good("b", t0.Add(-time.Minute)), good("c", newest),
		good("d", t0.Add(5*time.Minute)), good("d", t0.Add(6*time.Minute)),
		good("n1", t0.Add(7*time.Minute)), good("n2", t0.Add(8*time.Minute)))
	// Two rows without an id repeat no id.
	if err := f.wh.Conn.Exec(f.ctx, fmt.Sprintf("UPDATE %s SET %s = NULL WHERE %s IN ('n1', 'n2')", f.wh.Dialect.Quote(f.src.Table),
		f.wh.Dialect.QuoteName(f.src.MessageID), f.wh.Dialect.QuoteName(f.src.MessageID))); err != nil {
		t.Fatal(err)
	}
	run := f.newRun(w)
	run.Label = "adhoc"
	s, err := f.auditor(f.source(0), f.sink()).Run(f.ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "latest, duplicates", []any{s.Run.LatestReceivedAt.UTC(), s.Run.DuplicateRows}, []any{newest, int64(3)})
	runs, err := f.sink().RecentRuns(f.ctx, f.src.Table.String(), 5)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	equal(t, "recorded", []any{runs[0].Label, runs[0].LatestReceivedAt, runs[0].DuplicateRows}, []any{"adhoc", newest, int64(3)})

	// Shards split the rows by message_id, so each message's copies fall
	// in one shard and the shards' duplicates add up; the newest row is
	// the table's, whichever shard holds it.
	var dups int64
	for k := range 3 {
		v, err := (&sqlwh.Source{WH: f.wh, Table: f.src, Shard: audit.Shard{Index: k, Count: 3}}).Vitals(f.ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		dups += v.Duplicates
		if !v.Latest.Equal(newest) {
			t.Errorf("shard %d/3: newest %v, want the table's %v", k, v.Latest, newest)
		}
	}
	equal(t, "duplicates over the shards", dups, int64(3))
}

// eventaudit query reads the result tables, cut at its limit, and nothing
// it is given changes them: not a DELETE, not two statements, not a writing
// CTE behind a WITH.
func testReadQuery(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	f.load(missingTotal("a", t0.Add(time.Minute)), missingTotal("b", t0.Add(2*time.Minute)), good("c", t0.Add(3*time.Minute)))
	f.mustRun(w)
	viol := f.table(sqlwh.ViolationsTable)
	cols, rows, more, err := sqlwh.ReadQuery(f.ctx, f.wh, f.wh.Dialect.SQL(`SELECT {message_id}, {keyword}, NULL AS nothing FROM `+viol+` ORDER BY 1;`), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 3 || strings.ToLower(cols[0]) != "message_id" || len(rows) != 1 || !more ||
		*rows[0][0] != "a" || *rows[0][1] != "required" || rows[0][2] != nil {
		t.Errorf("read %v %v (more %v), want the first violation, a, with a NULL, and more after it", cols, rows, more)
	}
	for _, q := range []string{
		`DELETE FROM ` + viol,
		`SELECT 1; DELETE FROM ` + viol,
		`WITH gone AS (DELETE FROM ` + viol + ` RETURNING 1) SELECT * FROM gone`,
	} {
		_, _, _, err := sqlwh.ReadQuery(f.ctx, f.wh, q, 10)
		if err == nil {
			t.Errorf("%s: ran", q)
		}
	}
	equal(t, "violations left", f.query(`SELECT CAST(COUNT(*) AS VARCHAR) FROM `+viol), [][]string{{"2"}})
}

func testRerunReplaces(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	f.load(good("a", t0), missingTotal("b", t0.Add(time.Second)))
	first := f.mustRun(w)
	second := f.mustRun(w)
	if first.Run.RunID == second.Run.RunID {
		t.Fatal("run ids must differ")
	}
	equal(t, "runs", f.query(`SELECT {run_id} FROM `+f.table(sqlwh.RunsTable)), [][]string{{second.Run.RunID}})
	equal(t, "violations", f.query(`SELECT {run_id}, {message_id}, {keyword} FROM `+f.table(sqlwh.ViolationsTable)+` ORDER BY 2, 3`),
		[][]string{{second.Run.RunID, "b", "required"}})
	equal(t, "stats", f.query(`SELECT {run_id}, {rows} FROM `+f.table(sqlwh.StatsTable)), [][]string{{second.Run.RunID, "2"}})
	equal(t, "property stats", f.query(`SELECT DISTINCT {run_id} FROM `+f.table(sqlwh.PropertiesTable)), [][]string{{second.Run.RunID}})
}

// The property profile lands in eventaudit_property_stats: a row per path
// and JSON type, with in_plan from the schema and an example value.
func testPropertyStats(t *testing.T, f *fixture) {
	at := t0.Add(time.Minute)
	f.load(good("a", at), good("b", at),
		track("c", at, "Order Completed", map[string]any{"order_id": "o-c", "total": "3.00", "coupon": "SAVE10"}),
		track("d", at, "Signed Up", map[string]any{"plan": "pro"}))
	s := f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	equal(t, "property stats", valueText(f.query(`SELECT {run_id}, {event_type}, {event_name}, {schema_id}, {path}, {json_type}, {rows},
		CASE WHEN {in_plan} THEN 'true' ELSE 'false' END, {example}, {source} FROM `+f.table(sqlwh.PropertiesTable)+` ORDER BY 3, 5, 6`), 8),
		[][]string{
			{s.Run.RunID, "track", "Order Completed", "shop/Order Completed/1-0.json", "/properties/coupon", "string", "1", "false", `"SAVE10"`, s.Run.Source},
			{s.Run.RunID, "track", "Order Completed", "shop/Order Completed/1-0.json", "/properties/order_id", "string", "3", "true", `"o-a"`, s.Run.Source},
			{s.Run.RunID, "track", "Order Completed", "shop/Order Completed/1-0.json", "/properties/total", "number", "2", "true", "10.5", s.Run.Source},
			{s.Run.RunID, "track", "Order Completed", "shop/Order Completed/1-0.json", "/properties/total", "string", "1", "true", `"3.00"`, s.Run.Source},
			{s.Run.RunID, "track", "Signed Up", "", "/properties/plan", "string", "1", "false", `"pro"`, s.Run.Source},
		})
	if len(s.Drift.Undeclared) != 1 || s.Drift.Undeclared[0].Path != "/properties/coupon" || len(s.Drift.Mixed) != 1 {
		t.Errorf("drift: %+v", s.Drift)
	}
	// eventaudit report reads the same drift back, but for what needs
	// the plan.
	back, err := f.sink().Summary(f.ctx, s.Run)
	if err != nil {
		t.Fatal(err)
	}
	if back.Drift == nil || !back.Drift.FromTables {
		t.Fatalf("drift read back: %+v", back.Drift)
	}
	equal(t, "undeclared read back", back.Drift.Undeclared, s.Drift.Undeclared)
	equal(t, "mixed read back", back.Drift.Mixed, s.Drift.Mixed)
}

func testOverlap(t *testing.T, f *fixture) {
	bad := missingTotal
	f.load(bad("early", t0.Add(30*time.Minute)), bad("overlap", t0.Add(90*time.Minute)), bad("late", t0.Add(150*time.Minute)))
	a := f.mustRun(audit.Window{Start: t0, End: t0.Add(2 * time.Hour)})
	b := f.mustRun(audit.Window{Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour)})
	equal(t, "each message's violation is held once, by the latest run covering it",
		f.query(`SELECT {message_id}, {run_id} FROM `+f.table(sqlwh.ViolationsTable)+` ORDER BY 1`),
		[][]string{{"early", a.Run.RunID}, {"late", b.Run.RunID}, {"overlap", b.Run.RunID}})
	equal(t, "a run only partly overlapped keeps its row", len(f.query(`SELECT {run_id} FROM `+f.table(sqlwh.RunsTable))), 2)
}

// setupRerun writes a first run and returns the snapshot a failed re-run
// must leave untouched.
func setupRerun(t *testing.T, f *fixture) (audit.Window, string) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	var rows []audit.Row
	for i := range 20 {
		rows = append(rows, track(fmt.Sprintf("m%02d", i), t0.Add(time.Duration(i)*time.Minute), "Order Completed", map[string]any{"total": "x"}))
	}
	f.load(rows...)
	f.mustRun(w)
	before := f.snapshot()
	if !strings.Contains(before, "m19") {
		t.Fatalf("first run wrote no violations:\n%s", before)
	}
	return w, before
}

func testFailedWrite(t *testing.T, f *fixture) {
	w, before := setupRerun(t, f)
	a := f.auditor(f.source(3), audittest.FailingSink(f.sink(), 2, false))
	if _, err := a.Run(f.ctx, f.newRun(w)); err == nil || !strings.Contains(err.Error(), audittest.ErrInjected.Error()) {
		t.Fatalf("want the injected failure, got %v", err)
	}
	equal(t, "tables after a failed re-run", f.snapshot(), before)
}

func testFailedCommit(t *testing.T, f *fixture) {
	w, before := setupRerun(t, f)
	a := f.auditor(f.source(3), audittest.FailingSink(f.sink(), 0, true))
	if _, err := a.Run(f.ctx, f.newRun(w)); err == nil {
		t.Fatal("want an error")
	}
	equal(t, "tables after a failed commit", f.snapshot(), before)
}

// cancelAfter cancels the run's context once the scan has yielded n batches.
type cancelAfter struct {
	audit.Source
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	seen := 0
	return c.Source.Scan(ctx, w, func(rows []audit.Row) error {
		if seen++; seen == c.n {
			c.cancel()
		}
		return yield(rows)
	})
}

func testCancelMidScan(t *testing.T, f *fixture) {
	w, before := setupRerun(t, f)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	a := f.auditor(&cancelAfter{Source: f.source(2), n: 3, cancel: cancel}, f.sink())
	if _, err := a.Run(ctx, f.newRun(w)); err != context.Canceled {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	equal(t, "tables after a cancelled re-run", f.snapshot(), before)
}

func testBadPayloads(t *testing.T, f *fixture) {
	at := t0.Add(time.Minute)
	f.load(
		audit.Row{MessageID: "null", ReceivedAt: at},
		audit.Row{MessageID: "truncated", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Order`)},
		audit.Row{MessageID: "array", ReceivedAt: at, Payload: []byte(`[1,2]`)},
		audit.Row{MessageID: "string", ReceivedAt: at, Payload: []byte(`"track"`)},
		audit.Row{MessageID: "empty", ReceivedAt: at, Payload: []byte(``)},
		audit.Row{MessageID: "notype", ReceivedAt: at, Payload: []byte(`{"event":"Order Completed"}`)},
		good("fine", at),
	)
	s := f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	equal(t, "rows scanned / invalid", []int64{s.Run.RowsScanned, s.Run.RowsInvalid}, []int64{7, 6})
	got := f.query(`SELECT {message_id}, {keyword}, {message} FROM ` + f.table(sqlwh.ViolationsTable) + ` ORDER BY 1`)
	want := map[string]string{
		"array": "payload is an array, not a JSON object", "empty": "payload is not valid JSON",
		"notype": "message has no type", "null": "payload is NULL",
		"string": "payload is a string, not a JSON object", "truncated": "payload is not valid JSON",
	}
	if len(got) != len(want) {
		t.Fatalf("want one violation per bad payload, got %v", got)
	}
	for _, r := range got {
		if r[1] != audit.KeywordPayload || !strings.HasPrefix(r[2], want[r[0]]) {
			t.Errorf("%s: got keyword %q message %q, want payload / %q", r[0], r[1], r[2], want[r[0]])
		}
	}
}

func testJSONPayload(t *testing.T, f *fixture) {
	at := t0.Add(time.Minute)
	f.loadAs(f.src, f.wh.Dialect.JSON, good("a", at), track("b", at, "Order Completed", map[string]any{"order_id": 7, "total": 1}))
	s := f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	equal(t, "scanned, invalid", []int64{s.Run.RowsScanned, s.Run.RowsInvalid}, []int64{2, 1})
	equal(t, "violation", valueText(f.query(`SELECT {message_id}, {instance_path}, {value} FROM `+f.table(sqlwh.ViolationsTable)), 2),
		[][]string{{"b", "/properties/order_id", "7"}})
}

func testUnusualIdentifiers(t *testing.T, f *fixture) {
	f.src = sqlwh.RawTable{Table: sqlwh.Ident{"Mixed Case " + f.id, "select"}, MessageID: "Message ID",
		ReceivedAt: "Received-At", Payload: "order"}
	f.results = "Audit \"Results\" " + f.id
	f.load(good("a", t0), missingTotal("b", t0))
	s := f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	equal(t, "scanned, invalid", []int64{s.Run.RowsScanned, s.Run.RowsInvalid}, []int64{2, 1})
	equal(t, "violations", f.query(`SELECT {message_id} FROM `+f.table(sqlwh.ViolationsTable)), [][]string{{"b"}})
	if got := f.src.Table.String(); got != `"Mixed Case `+f.id+`"."select"` && got != `"Mixed Case `+f.id+`".select` {
		t.Errorf("source name %s", got)
	}
}

func testMissing(t *testing.T, f *fixture) {
	_, err := f.run(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "events") || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing table: want an error naming it, got %v", err)
	}
	f.load(good("a", t0))
	f.src.Payload = "body"
	_, err = f.run(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), `no column "body"`) {
		t.Errorf("missing column: want an error naming it, got %v", err)
	}
}

func testWrongPayloadType(t *testing.T, f *fixture) {
	ddl := "CREATE SCHEMA IF NOT EXISTS " + f.wh.Dialect.QuoteName(f.src.Table.Schema())
	tbl := f.wh.Dialect.SQL(`CREATE TABLE %s ({message_id} %s, {received_at} %s, {payload} %s)`,
		f.wh.Dialect.Quote(f.src.Table), f.wh.Dialect.ShortText, f.wh.Dialect.Timestamp, f.wh.Dialect.Bigint)
	for _, q := range []string{ddl, tbl} {
		if err := f.wh.Conn.Exec(f.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.run(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	// The type as the warehouse's catalog names it: Snowflake says NUMBER.
	if msg := strings.ToLower(fmt.Sprint(err)); err == nil || !strings.Contains(msg, "payload") ||
		!strings.Contains(msg, "bigint") && !strings.Contains(msg, "number") {
		t.Errorf("want an error naming the column and its type, got %v", err)
	}
}

func testManyViolations(t *testing.T, f *fixture) {
	// Enough rows to need several bulk-insert statements on every dialect.
	var rows []audit.Row
	for i := range 3000 {
		rows = append(rows, track(fmt.Sprintf("m%05d", i), t0.Add(time.Duration(i)*time.Second), "Order Completed",
			map[string]any{"order_id": i, "total": strings.Repeat("x", 300)}))
	}
	f.load(rows...)
	s := f.mustRun(audit.Window{Start: t0, End: t0.Add(2 * time.Hour)})
	equal(t, "violations", s.Run.Violations, 6000)
	equal(t, "rows in the table", f.query(`SELECT COUNT(*) FROM `+f.table(sqlwh.ViolationsTable)), [][]string{{"6000"}})
}

// Count runs a query of one integer, such as SELECT count(*), and returns it.
func Count(t *testing.T, wh *sqlwh.Warehouse, q string, args ...any) int64 {
	t.Helper()
	rows, err := wh.Conn.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			t.Fatalf("scan %s: %v", q, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	return n
}
