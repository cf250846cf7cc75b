package duckdb_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSQL puts every statement DuckDB is sent in review, as the other
// dialects' golden files do.
func TestSQL(t *testing.T) {
	d := duckdb.NewDialect()
	doc := warehousetest.DialectSQL(t, d, []string{"json", "varchar"}, "varchar")
	doc.Section("slice a big window at quantiles of received_at (4 slices)",
		d.Quantiles(d.QuoteName("received_at"), d.Quote(sqlwh.Ident{"segment", "raw_events"}), d.SQL(`{received_at} >= ? AND {received_at} < ?`), 4))
	warehousetest.Golden(t, filepath.Join("testdata", "duckdb.sql"), doc.String(), *update)
}

// TestSegmentProofSQL pins the statements a pushdown run sends in
// Segment's layout.
func TestSegmentProofSQL(t *testing.T) {
	wh := open(0)(t)
	warehousetest.Golden(t, filepath.Join("testdata", "duckdb-segment-proof.sql"), warehousetest.SegmentProofSQL(t, wh), *update)
}

// open returns a fresh DuckDB file; sliceRows > 0 overrides the scan's slice
// size.
func open(sliceRows int) func(t *testing.T) *sqlwh.Warehouse {
	return func(t *testing.T) *sqlwh.Warehouse {
		wh, err := duckdb.Open(context.Background(), "duckdb://"+filepath.Join(t.TempDir(), "test.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		if sliceRows > 0 {
			wh.Dialect.SliceRows = sliceRows
		}
		t.Cleanup(func() { wh.Close() })
		return wh
	}
}

// endProcess makes a lock look as a crashed process leaves it: held by a
// process other than this one. Only one process at a time can write a
// DuckDB file, so such a lock is stale for certain.
func endProcess(t *testing.T, wh *sqlwh.Warehouse, id string) {
	rows, err := wh.Conn.Query(context.Background(), `SELECT table_schema FROM information_schema.tables WHERE table_name = 'eventaudit_locks'`)
	if err != nil {
		t.Fatal(err)
	}
	var schemas []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		schemas = append(schemas, s)
	}
	rows.Close()
	for _, s := range schemas {
		q := `UPDATE ` + (sqlwh.Ident{s, "eventaudit_locks"}).String() + ` SET holder = 'duckdb:elsewhere:1:000000000000' WHERE holder = ?`
		if err := wh.Conn.Exec(context.Background(), q, id); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConformance(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{Name: "duckdb", Open: open(0), EndSession: endProcess})
}

// The same suite with tiny slices, so that every case — window edges,
// shards, cancellation — also runs through the sliced scans that bound
// DuckDB's memory on big windows in Segment's layout and with pushdown
// (the raw layout's scan streams, and takes no slices).
func TestConformanceSlicedScan(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{Name: "duckdb, 3-row slices", Open: open(3), EndSession: endProcess})
}

// make builds with the tag duckdb_arrow; a build without it still works
// but takes about 1.7 times as long to read Segment's layout or a pushdown
// scan, which CI must not hide.
func TestWindowScanReadsArrow(t *testing.T) {
	if !duckdb.ArrowReads {
		if os.Getenv("CI") != "" {
			t.Fatal("built without -tags duckdb_arrow: window scans take database/sql's slow path (run make test, which sets the tag)")
		}
		t.Skip("built without -tags duckdb_arrow; make test sets it")
	}
	wh := open(0)(t)
	ctx := context.Background()
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	at := time.Date(2026, 11, 20, 1, 2, 3, 456789000, time.UTC)
	want := []audit.Row{
		{MessageID: "a", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"é"}`)},
		{MessageID: "b", ReceivedAt: at.Add(time.Second)}, // NULL payload
	}
	if err := wh.LoadRaw(ctx, raw, "VARCHAR", want); err != nil {
		t.Fatal(err)
	}
	src := &sqlwh.Source{WH: wh, Table: raw}
	query, err := src.ScanSQL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := wh.Conn.Query(sqlwh.WithBulkRead(ctx), query, at, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rows.(*sqlwh.ArrowRows); !ok {
		t.Errorf("window scan read through %T, want Arrow", rows)
	}
	var got []audit.Row
	for rows.Next() {
		var r audit.Row
		if _, ok, err := rows.(sqlwh.RowScanner).ScanRow(&r, nil); err != nil || !ok {
			t.Fatalf("ScanRow: ok %v, err %v", ok, err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v\nwant %+v", got, want)
	}
}

// The Appender writes inside the run's transaction: rows appended and
// rolled back are gone, as a failed run must leave nothing behind.
func TestAppendedRowsRollBack(t *testing.T) {
	wh := open(0)(t)
	ctx := context.Background()
	if err := wh.Conn.Exec(ctx, `CREATE TABLE t (id VARCHAR, seen TIMESTAMPTZ, n BIGINT, ok BOOLEAN)`); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, 5000)
	for i := range rows {
		rows[i] = []any{fmt.Sprint(i), time.Date(2026, 11, 20, 0, 0, i, 0, time.UTC), int64(i), i%2 == 0}
	}
	for _, commit := range []bool{false, true} {
		tx, err := wh.Conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.BulkInsert(ctx, sqlwh.Ident{"t"}, []string{"id", "seen", "n", "ok"}, rows); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := warehousetest.Count(t, wh, `SELECT count(*) FROM t`); n != int64(len(rows)) {
		t.Errorf("%d rows after a rolled-back and a committed append of %d, want %d", n, len(rows), len(rows))
	}
}

// A run whose violations outgrow one write (the sink gathers 8,192 rows
// per write) stores every one of them.
func TestManyViolationsAllStored(t *testing.T) {
	wh := open(0)(t)
	ctx := context.Background()
	corpus := audittest.Generate(audittest.Options{N: 12000, BadRate: 1, Seed: 3})
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	if err := wh.LoadRaw(ctx, raw, "VARCHAR", corpus.Rows); err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Load(ctx, os.DirFS("../../testdata/demo/schemas"), schemas.Options{Plan: "segment/shop"})
	if err != nil {
		t.Fatal(err)
	}
	m := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	sink := &sqlwh.Sink{WH: wh, Schema: "eventaudit"}
	s, err := (&audit.Auditor{Source: &sqlwh.Source{WH: wh, Table: raw}, Sink: sink, Matcher: m}).Run(ctx, audit.Run{RunID: "r1", Source: "events", Window: w})
	if err != nil {
		t.Fatal(err)
	}
	if s.Run.Violations < 10000 {
		t.Fatalf("only %d violations: the corpus no longer exercises more than one write", s.Run.Violations)
	}
	n := warehousetest.Count(t, wh, `SELECT count(*) FROM eventaudit.eventaudit_violations WHERE run_id = 'r1'`)
	if n != s.Run.Violations {
		t.Errorf("%d violation rows stored, the run counted %d", n, s.Run.Violations)
	}
}

// Counting duplicates and proving rows in SQL each raise DuckDB's memory
// limit and put it back, so the next scan is bounded as before.
func TestRoomsRestoreTheMemoryLimit(t *testing.T) {
	w := audit.Window{Start: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		name string
		run  func(context.Context, *sqlwh.Source) error
	}{
		{"counting duplicates", func(ctx context.Context, src *sqlwh.Source) error {
			v, err := src.Vitals(ctx, w)
			if err == nil && v.Duplicates != 7 {
				err = fmt.Errorf("%d duplicates, want 7 of 3 ids in 10 rows", v.Duplicates)
			}
			return err
		}},
		{"proving rows", func(ctx context.Context, src *sqlwh.Source) error {
			plan := audit.PushdownPlan{Rules: []audit.PushdownRule{{Type: "identify", Pred: &audit.Pred{}, Unplanned: true}}}
			fetched := 0
			_, err := src.ScanUnproven(ctx, w, plan, func(rows []audit.Row) error { fetched += len(rows); return nil })
			if err == nil && fetched != 10 {
				err = fmt.Errorf("%d rows fetched, want all 10 (none is an identify call)", fetched)
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wh := open(0)(t)
			ctx := context.Background()
			if err := wh.Conn.Exec(ctx, `CREATE TABLE ev AS SELECT 'm' || (i % 3) AS message_id, TIMESTAMPTZ '2026-11-20 00:00:00+00' AS received_at, '{}' AS payload FROM range(10) t(i)`); err != nil {
				t.Fatal(err)
			}
			src := &sqlwh.Source{WH: wh, Table: sqlwh.RawTable{Table: sqlwh.Ident{"ev"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}}
			if err := tc.run(ctx, src); err != nil {
				t.Fatal(err)
			}
			if limit := memoryLimit(t, wh); limit != "30.5 MiB" {
				t.Errorf("memory_limit after %s is %s, want the 32MB default back (30.5 MiB)", tc.name, limit)
			}
		})
	}
}

// A run's results, a few MB in one commit, are in the database file once
// committed, not left in the write-ahead log for closing the file to
// checkpoint; a URL's own threshold still decides. 60,000 rows of two
// strings weigh 1.9 MB to DuckDB (16 bytes a string), past the 1 MB
// threshold.
func TestResultsCommitToTheFile(t *testing.T) {
	for _, tc := range []struct {
		query   string
		logKept bool
	}{{"", false}, {"?checkpoint_threshold=1GB", true}, {"?wal_autocheckpoint=1GB", true}} {
		t.Run("url"+tc.query, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "test.duckdb")
			wh, err := duckdb.Open(context.Background(), "duckdb://"+path+tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer wh.Close()
			ctx := context.Background()
			if err := wh.Conn.Exec(ctx, `CREATE TABLE t (id VARCHAR, message VARCHAR)`); err != nil {
				t.Fatal(err)
			}
			rows := make([][]any, 60000)
			for i := range rows {
				rows[i] = []any{fmt.Sprint("m", i), fmt.Sprintf("value %d is not one of the allowed values of /properties/currency", i)}
			}
			tx, err := wh.Conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.BulkInsert(ctx, sqlwh.Ident{"t"}, []string{"id", "message"}, rows); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			var logged int64
			if fi, err := os.Stat(path + ".wal"); err == nil {
				logged = fi.Size()
			}
			if kept := logged > 1<<20; kept != tc.logKept {
				t.Errorf("the write-ahead log holds %d bytes after committing %d rows; want it to hold them: %v", logged, len(rows), tc.logKept)
			}
		})
	}
}

// A memory limit the URL sets, by either of its names, is the user's: the
// 32 MB default does not replace it.
func TestURLMemoryLimitStands(t *testing.T) {
	for _, query := range []string{"?memory_limit=1GB", "?max_memory=1GB"} {
		t.Run(query, func(t *testing.T) {
			wh, err := duckdb.Open(context.Background(), "duckdb://"+filepath.Join(t.TempDir(), "test.duckdb")+query)
			if err != nil {
				t.Fatal(err)
			}
			defer wh.Close()
			if limit := memoryLimit(t, wh); limit != "953.6 MiB" {
				t.Errorf("memory_limit is %s with %s, want the URL's 1GB (953.6 MiB)", limit, query)
			}
		})
	}
}

// memoryLimit is DuckDB's memory_limit as it shows it ("30.5 MiB").
func memoryLimit(t *testing.T, wh *sqlwh.Warehouse) string {
	t.Helper()
	rows, err := wh.Conn.Query(context.Background(), `SELECT current_setting('memory_limit')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var limit string
	for rows.Next() {
		if err := rows.Scan(&limit); err != nil {
			t.Fatal(err)
		}
	}
	return limit
}

// Where DuckDB runs out of memory under a limit the URL set, eventaudit
// says what to do in its own terms: appending a run's results or loaded
// events (DuckDB's own advice names its settings, one of which makes
// appends fail sooner), and counting duplicate message ids. Nothing of
// the failed write stays.
func TestOutOfMemorySaysWhatToDo(t *testing.T) {
	ctx := context.Background()
	// openLimited opens file under a 2 MB limit, after setup has run on it
	// under the default one.
	openLimited := func(t *testing.T, setup string) *sqlwh.Warehouse {
		file := filepath.Join(t.TempDir(), "test.duckdb")
		wh, err := duckdb.Open(ctx, "duckdb://"+file)
		if err != nil {
			t.Fatal(err)
		}
		err = wh.Conn.Exec(ctx, setup)
		wh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if wh, err = duckdb.Open(ctx, "duckdb://"+file+"?memory_limit=2MB"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wh.Close() })
		return wh
	}
	t.Run("writing results", func(t *testing.T) {
		wh := openLimited(t, `CREATE TABLE t (id VARCHAR, v VARCHAR)`)
		tx, err := wh.Conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Violation-sized rows, 8,192 a write as the sink writes them: 2 MB
		// holds none of DuckDB's row groups of them.
		long := strings.Repeat("x", 1000)
		for b := 0; b < 24 && err == nil; b++ {
			rows := make([][]any, 8192)
			for i := range rows {
				rows[i] = []any{fmt.Sprint(b, "-", i), long}
			}
			err = tx.BulkInsert(ctx, sqlwh.Ident{"t"}, []string{"id", "v"}, rows)
		}
		if err == nil {
			t.Fatal("196,608 rows of 1 KB appended under a 2 MB limit: the test no longer runs out of memory")
		}
		for _, want := range []string{"ran out of memory appending to t", "the transaction writes nothing", "?memory_limit=256MB", "in shards"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error says\n%v\nwithout %q", err, want)
			}
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if n := warehousetest.Count(t, wh, `SELECT count(*) FROM t`); n != 0 {
			t.Errorf("%d rows of the failed write stayed", n)
		}
	})
	t.Run("counting duplicates", func(t *testing.T) {
		wh := openLimited(t, `CREATE TABLE ev AS SELECT 'message-' || i AS message_id, TIMESTAMPTZ '2026-11-20 00:00:00+00' AS received_at, '{}' AS payload FROM range(200000) t(i)`)
		src := &sqlwh.Source{WH: wh, Table: sqlwh.RawTable{Table: sqlwh.Ident{"ev"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}}
		w := audit.Window{Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
		_, err := src.Vitals(ctx, w)
		if err == nil {
			t.Fatal("200,000 message ids counted under a 2 MB limit: the test no longer runs out of memory")
		}
		if !strings.Contains(err.Error(), "add ?memory_limit=1GB to the warehouse URL") {
			t.Errorf("the error says\n%v\nwithout what to do", err)
		}
	})
}
