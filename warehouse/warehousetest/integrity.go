package warehousetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// A re-run replaces every violation and stats row its source left in its
// window, including orphans whose run row is gone (what a run taken over
// mid-write used to leave, and no later run could remove).
func testOrphansAreReplaced(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	f.load(missingTotal("a", t0.Add(time.Minute)), good("b", t0.Add(2*time.Minute)))
	first := f.mustRun(w)
	source := f.src.Table.String()
	// Plant what a lost run leaves: violations and stats with no run row,
	// in the window, of this source; and one of another source, which must
	// stay.
	v := f.wh.Dialect.Quote(sqlwh.Ident{f.results, sqlwh.ViolationsTable})
	st := f.wh.Dialect.Quote(sqlwh.Ident{f.results, sqlwh.StatsTable})
	p := f.wh.Dialect.Placeholder
	for _, plant := range []struct {
		q    string
		args []any
	}{
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {message_id}, {received_at}, {keyword}, {source}) VALUES ('ghost', 'a', %s, 'required', %s)`, v, p(1), p(2)),
			[]any{t0.Add(time.Minute), source}},
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {message_id}, {received_at}, {keyword}, {source}) VALUES ('ghost', 'x', %s, 'required', %s)`, v, p(1), p(2)),
			[]any{t0.Add(3 * time.Minute), source}},
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {message_id}, {received_at}, {keyword}, {source}) VALUES ('ghost', 'y', %s, 'required', 'other.events')`, v, p(1)),
			[]any{t0.Add(3 * time.Minute)}},
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {event_type}, {event_name}, {schema_id}, {rows}, {invalid_rows}, {unplanned}, {source}) VALUES ('ghost', 'track', 'Order Completed', '', 5, 5, FALSE, %s)`, st, p(1)),
			[]any{source}},
	} {
		if err := f.wh.Conn.Exec(f.ctx, plant.q, plant.args...); err != nil {
			t.Fatalf("plant orphans: %v", err)
		}
	}
	second := f.mustRun(w)
	equal(t, "violations after the re-run", f.query(`SELECT {run_id}, {message_id}, {source} FROM `+v+` ORDER BY 2`),
		[][]string{{second.Run.RunID, "a", source}, {"ghost", "y", "other.events"}})
	equal(t, "stats after the re-run", f.query(`SELECT {run_id}, {rows} FROM `+st+` ORDER BY 1`),
		[][]string{{second.Run.RunID, "2"}})
	if first.Run.RunID == second.Run.RunID {
		t.Fatal("run ids must differ")
	}
}

// Result tables written by an eventaudit before violations and stats had
// a source column are upgraded in place: rows with a run get its source,
// orphans are deleted, and the next run replaces the old run's rows.
func testOldTablesUpgraded(t *testing.T, f *fixture) {
	d := f.wh.Dialect
	q := func(name string) string { return d.Quote(sqlwh.Ident{f.results, name}) }
	source := f.src.Table.String()
	for _, s := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + d.QuoteName(f.results),
		f.wh.Dialect.SQL(`CREATE TABLE %s ({run_id} %s, {source} %s, {window_start} %s, {window_end} %s, {started_at} %s, {finished_at} %s, {status} %s, {rows_scanned} %s, {rows_invalid} %s, {rows_unplanned} %s, {violations} %s, {schemas_digest} %s, {version} %s, {shard} %s)`,
			q(sqlwh.RunsTable), d.ShortText, d.Text, d.Timestamp, d.Timestamp, d.Timestamp, d.Timestamp, d.ShortText, d.Bigint, d.Bigint, d.Bigint, d.Bigint, d.ShortText, d.ShortText, d.ShortText),
		f.wh.Dialect.SQL(`CREATE TABLE %s ({run_id} %s, {message_id} %s, {received_at} %s, {event_type} %s, {event_name} %s, {schema_id} %s, {instance_path} %s, {keyword} %s, {message} %s, {value} %s)`,
			q(sqlwh.ViolationsTable), d.ShortText, d.ShortText, d.Timestamp, d.ShortText, d.Text, d.Text, d.Text, d.ShortText, d.Text, d.Text),
		f.wh.Dialect.SQL(`CREATE TABLE %s ({run_id} %s, {event_type} %s, {event_name} %s, {schema_id} %s, {rows} %s, {invalid_rows} %s, {unplanned} %s)`,
			q(sqlwh.StatsTable), d.ShortText, d.ShortText, d.Text, d.Text, d.Bigint, d.Bigint, d.Bool),
		f.wh.Dialect.SQL(`CREATE TABLE %s ({source} %s, {shard} %s, {run_id} %s, {acquired_at} %s, {heartbeat_at} %s)`,
			q(sqlwh.LocksTable), d.ShortText, d.ShortText, d.ShortText, d.Timestamp, d.Timestamp),
	} {
		if err := f.wh.Conn.Exec(f.ctx, s); err != nil {
			t.Fatalf("create old tables: %v", err)
		}
	}
	p := d.Placeholder
	for _, plant := range []struct {
		q    string
		args []any
	}{
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {source}, {window_start}, {window_end}, {started_at}, {finished_at}, {status}, {rows_scanned}, {rows_invalid}, {rows_unplanned}, {violations}, {schemas_digest}, {version}, {shard}) VALUES ('old', %s, %s, %s, %s, %s, 'passed', 1, 1, 0, 1, '', 'v0', '')`,
			q(sqlwh.RunsTable), p(1), p(2), p(3), p(4), p(5)), []any{source, t0, t0.Add(time.Hour), t0, t0}},
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {message_id}, {received_at}, {keyword}) VALUES ('old', 'a', %s, 'required')`, q(sqlwh.ViolationsTable), p(1)),
			[]any{t0.Add(time.Minute)}},
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {message_id}, {received_at}, {keyword}) VALUES ('lost', 'a', %s, 'required')`, q(sqlwh.ViolationsTable), p(1)),
			[]any{t0.Add(time.Minute)}},
		{f.wh.Dialect.SQL(`INSERT INTO %s ({run_id}, {event_type}, {event_name}, {schema_id}, {rows}, {invalid_rows}, {unplanned}) VALUES ('old', 'track', 'Order Completed', '', 1, 1, FALSE)`, q(sqlwh.StatsTable)), nil},
	} {
		if err := f.wh.Conn.Exec(f.ctx, plant.q, plant.args...); err != nil {
			t.Fatalf("plant old rows: %v", err)
		}
	}
	if err := f.sink().EnsureTables(f.ctx); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	equal(t, "old violations after the upgrade", f.query(`SELECT {run_id}, {source} FROM `+q(sqlwh.ViolationsTable)),
		[][]string{{"old", source}})
	equal(t, "old stats after the upgrade", f.query(`SELECT {run_id}, {source} FROM `+q(sqlwh.StatsTable)),
		[][]string{{"old", source}})
	f.load(missingTotal("a", t0.Add(time.Minute)))
	s := f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	equal(t, "violations after the first new run", f.query(`SELECT {run_id}, {message_id} FROM `+q(sqlwh.ViolationsTable)),
		[][]string{{s.Run.RunID, "a"}})
	lease, err := f.sink().Lock(f.ctx, audit.Run{RunID: "new", Source: source}, time.Now, time.Hour)
	if err != nil {
		t.Fatalf("lock on an upgraded locks table: %v", err)
	}
	mustRelease(t, lease)
}

// On every run after the first, the result tables are whole, and checking
// them is one catalog query, not a statement per table and a description
// of each: on a remote warehouse each is a round trip.
func testWholeTablesCostOneQuery(t *testing.T, f *fixture) {
	if err := f.sink().EnsureTables(f.ctx); err != nil {
		t.Fatal(err)
	}
	sent := &statementLog{Conn: f.wh.Conn}
	later := &sqlwh.Sink{WH: &sqlwh.Warehouse{Dialect: f.wh.Dialect, Conn: sent}, Schema: f.results}
	if err := later.EnsureTables(f.ctx); err != nil {
		t.Fatal(err)
	}
	if len(sent.statements) != 1 {
		t.Errorf("a run on whole result tables sent %d statements, want one catalog query:\n%s",
			len(sent.statements), strings.Join(sent.statements, "\n"))
	}
	// Nor does reading the history after it ask the catalog again.
	sent.statements = nil
	if _, _, err := later.LastWindowEnd(f.ctx, audit.Run{Source: f.src.Table.String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := later.Runs(f.ctx, "", 1); err != nil {
		t.Fatal(err)
	}
	if len(sent.statements) != 2 { // the watermark, the runs
		t.Errorf("reading the history of whole result tables sent %d statements, want 2:\n%s",
			len(sent.statements), strings.Join(sent.statements, "\n"))
	}
	// A table short of one column is not whole: the column is added back.
	d := f.wh.Dialect
	runs := d.Quote(sqlwh.Ident{f.results, sqlwh.RunsTable})
	if err := f.wh.Conn.Exec(f.ctx, "ALTER TABLE "+runs+" DROP COLUMN "+d.QuoteName("rows_fetched")); err != nil {
		t.Fatal(err)
	}
	if err := f.sink().EnsureTables(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := Count(t, f.wh, "SELECT COUNT("+d.QuoteName("rows_fetched")+") FROM "+runs); n != 0 {
		t.Errorf("%d runs in a fresh table", n)
	}
}

// statementLog records the statements sent through a connection.
type statementLog struct {
	sqlwh.Conn
	statements []string
}

func (l *statementLog) Exec(ctx context.Context, q string, args ...any) error {
	l.statements = append(l.statements, q)
	return l.Conn.Exec(ctx, q, args...)
}

func (l *statementLog) Query(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	l.statements = append(l.statements, q)
	return l.Conn.Query(ctx, q, args...)
}

// Strings no results table can hold are made storable and flagged: a NUL
// (which Postgres text refuses) in event, type, schema_id or a property
// name used to fail the commit of every retry (finding 5).
func testUnstorableStrings(t *testing.T, f *fixture) {
	at := t0.Add(time.Minute)
	f.load(
		audit.Row{MessageID: "nul-event", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Order\u0000Completed","properties":{}}`)},
		audit.Row{MessageID: "nul-type", ReceivedAt: at, Payload: []byte(`{"type":"tr\u0000ack","event":"x"}`)},
		audit.Row{MessageID: "nul-key", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Order Completed","properties":{"order_id":"o","total":1,"k\u0000":{"a\u0000":1}}}`)},
		audit.Row{MessageID: "nul-schema-id", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Order Completed","properties":{"schema_id":"shop/\u0000.json"}}`)},
		audit.Row{MessageID: "long-event", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"` + strings.Repeat("E", 5000) + `"}`)},
		good("fine", at),
	)
	s := f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	equal(t, "rows scanned", s.Run.RowsScanned, 6)
	got := f.query(`SELECT {message_id}, {keyword}, {event_type}, {event_name} FROM ` + f.table(sqlwh.ViolationsTable) +
		` WHERE {keyword} = 'encoding' ORDER BY 1`)
	var ids []string
	for _, r := range got {
		ids = append(ids, r[0])
		for _, c := range r[1:] {
			if strings.ContainsRune(c, 0) || len(c) > audit.MaxNameBytes {
				t.Errorf("%s: an unstorable string was stored: %q", r[0], c)
			}
		}
	}
	equal(t, "rows flagged for their strings", ids, []string{"long-event", "nul-event", "nul-schema-id", "nul-type"})
	all := f.query(`SELECT {message_id}, {instance_path}, {message}, {schema_id} FROM ` + f.table(sqlwh.ViolationsTable))
	for _, r := range all {
		for _, c := range r {
			if strings.ContainsRune(c, 0) {
				t.Errorf("%s: a NUL was stored: %q", r[0], c)
			}
		}
	}
}

// Every spelling of one table is one source: a re-run under another
// spelling replaces the first run's results instead of adding its own
// (finding 2).
func testSpellingsOfOneTable(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	f.load(good("a", t0), missingTotal("b", t0.Add(time.Second)))
	schema, table := f.src.Table.Schema(), f.src.Table.Table()
	canonical, err := sqlwh.ResolveTable(f.ctx, f.wh, f.src.Table)
	if err != nil {
		t.Fatal(err)
	}
	spellings := []sqlwh.Ident{{schema, table}, {strings.ToUpper(schema), strings.ToUpper(table)}}
	if len(canonical) == 2 {
		db := f.query(`SELECT {table_catalog} FROM information_schema.tables WHERE LOWER({table_name}) = LOWER(`+f.wh.Dialect.Placeholder(1)+`)`, table)
		if len(db) > 0 {
			spellings = append(spellings, sqlwh.Ident{db[0][0], schema, table})
		}
	}
	for _, sp := range spellings {
		got, err := sqlwh.ResolveTable(f.ctx, f.wh, sp)
		if err != nil {
			t.Fatalf("resolve %s: %v", sp, err)
		}
		if got.String() != canonical.String() {
			t.Errorf("%s resolves to %s, %s to %s: one table, two sources", sp, got, f.src.Table, canonical)
		}
		src := &sqlwh.Source{WH: f.wh, Table: f.src}
		src.Table.Table = sp
		id, err := src.Resolve(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		run := f.newRun(w)
		run.Source = id.String()
		if _, err := f.auditor(src, f.sink()).Run(f.ctx, run); err != nil {
			t.Fatalf("audit as %s: %v", sp, err)
		}
	}
	equal(t, "runs after auditing under every spelling", len(f.query(`SELECT {run_id} FROM `+f.table(sqlwh.RunsTable))), 1)
	equal(t, "violations", f.query(`SELECT {message_id}, {keyword} FROM `+f.table(sqlwh.ViolationsTable)), [][]string{{"b", "required"}})
	if _, err := sqlwh.ResolveTable(f.ctx, f.wh, sqlwh.Ident{schema, "no_such_table"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a missing table: want not found, got %v", err)
	}
	// Segment's layout names a schema: its spellings are one source too.
	for _, sp := range []string{schema, strings.ToUpper(schema)} {
		got, err := sqlwh.ResolveSchema(f.ctx, f.wh, sp)
		if err != nil || got != canonical[len(canonical)-2] {
			t.Errorf("schema %s resolves to %q (%v), want %q", sp, got, err, canonical[len(canonical)-2])
		}
	}
	if _, err := sqlwh.ResolveSchema(f.ctx, f.wh, "no_such_schema_"+f.id); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a missing schema: want not found, got %v", err)
	}
}
