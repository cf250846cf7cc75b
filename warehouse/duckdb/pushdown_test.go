package duckdb_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

// Every draft-7 case of the JSON-Schema-Test-Suite, as the properties of a
// track event whose schema is the case's: a run with pushdown writes what a
// run without it does, on a VARCHAR and on a JSON payload column.
func TestPushdownAgreesOnTheTestSuite(t *testing.T) {
	reg, rows := warehousetest.SuiteCorpus(t)
	agreesOnBothColumns(t, reg, rows, 150)
}

// 100 random schemas, each with 32 instances at its edges and around (the
// fast path's fuzz generator): a run with pushdown writes what a run
// without it does, on a VARCHAR and on a JSON payload column.
func TestPushdownAgreesOnRandomSchemas(t *testing.T) {
	reg, rows := warehousetest.RandomCorpus(t, 1, 100)
	agreesOnBothColumns(t, reg, rows, 1000)
}

// agreesOnBothColumns is warehousetest.PushdownAgrees on a VARCHAR and on
// a JSON payload column, each proving at least least rows.
func agreesOnBothColumns(t *testing.T, reg *schemas.Registry, rows []audit.Row, least int64) {
	for _, typ := range []string{"VARCHAR", "JSON"} {
		t.Run(typ, func(t *testing.T) {
			proven, loaded := warehousetest.PushdownAgrees(t, openForPushdown(t), typ, reg, rows)
			t.Logf("%d of %d rows proven valid in SQL", proven, loaded)
			if proven < least {
				t.Errorf("only %d rows proven: the check proves little", proven)
			}
		})
	}
}

// The demo plan's messages and their hostile variants (duplicate keys, NaN,
// lone surrogates, 1.0 for integers…): a run with pushdown writes what a
// run without it does.
func TestPushdownAgreesOnHostileMessages(t *testing.T) {
	reg, rows := warehousetest.HostileCorpus(t)
	proven, loaded := warehousetest.PushdownAgrees(t, openForPushdown(t), "VARCHAR", reg, rows)
	t.Logf("%d of %d messages proven valid in SQL", proven, loaded)
	if proven < 200 {
		t.Errorf("only %d messages proven: the check proves little", proven)
	}
}

// openForPushdown opens a DuckDB file as a user would, with the default
// memory limit: the proof must find its room (ProofRoom) by itself.
func openForPushdown(t *testing.T) *sqlwh.Warehouse {
	wh, err := duckdb.Open(context.Background(), "duckdb://"+filepath.Join(t.TempDir(), "test.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	// Several slices, as a large window has.
	wh.Dialect.SliceRows, wh.Dialect.ProofSliceRows = 700, 700
	t.Cleanup(func() { wh.Close() })
	return wh
}

// Segment's layout: a run that proves rows with column predicates writes
// what a run without pushdown does (warehousetest.SegmentPushdownSuite).
func TestSegmentPushdownAgrees(t *testing.T) {
	warehousetest.SegmentPushdownSuite(t, func(t *testing.T, corpus string) *sqlwh.Warehouse {
		if corpus != "suite" {
			return openForPushdown(t)
		}
		// A thousand tables, one per case: loading them needs more than
		// the default limit.
		wh, err := duckdb.Open(context.Background(), "duckdb://"+filepath.Join(t.TempDir(), "suite.duckdb")+"?memory_limit=1GB")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wh.Close() })
		return wh
	})
}

// catalogCounter counts the column descriptions a source asks for.
type catalogCounter struct {
	sqlwh.Conn
	mu sync.Mutex
	n  int
}

func (c *catalogCounter) Query(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	if strings.Contains(q, "information_schema.columns") {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return c.Conn.Query(ctx, q, args...)
}

func (c *catalogCounter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// Segment's layout holds a table per event, and on a remote catalog each
// description is a round trip: a scan describes all its tables in one
// query, and a pushdown run in one more (its proof's).
func TestSegmentScanDescribesItsTablesInOneQuery(t *testing.T) {
	reg, rows, _ := warehousetest.SegmentEdgeCorpus(t)
	src, w := warehousetest.LoadSegment(t, open(0)(t), reg, rows)
	counter := &catalogCounter{Conn: src.WH.Conn}
	src.WH = &sqlwh.Warehouse{Dialect: src.WH.Dialect, Conn: counter}
	ctx := context.Background()
	if err := src.Scan(ctx, w, func([]audit.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := counter.take(); n != 1 {
		t.Errorf("a scan of the layout's tables described them in %d queries, want 1", n)
	}
	plan := src.Matcher.PushdownPlan(reg.EventNames())
	if _, err := src.Proof(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ScanUnproven(ctx, w, plan, func([]audit.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := counter.take(); n != 2 {
		t.Errorf("a pushdown run described the layout's tables in %d queries, want 2", n)
	}
}

// A run asks for its raw table's columns to plan its proof, to measure its
// vitals and to scan; the catalog is asked once.
func TestRawRunDescribesItsTableOnce(t *testing.T) {
	reg, rows := warehousetest.HostileCorpus(t)
	wh := openForPushdown(t)
	ctx := context.Background()
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	if err := wh.LoadRaw(ctx, raw, "VARCHAR", rows); err != nil {
		t.Fatal(err)
	}
	// The corpus's rows are all received at audittest.CorpusStart.
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(time.Hour)}
	counter := &catalogCounter{Conn: wh.Conn}
	src := &sqlwh.Source{WH: &sqlwh.Warehouse{Dialect: wh.Dialect, Conn: counter}, Table: raw}
	matcher := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	plan := matcher.PushdownPlan(reg.EventNames())
	a := &audit.Auditor{Source: src, Matcher: matcher, Workers: 2, Pushdown: &plan}
	s, err := a.Run(ctx, audit.Run{RunID: "r", Window: w})
	if err != nil {
		t.Fatal(err)
	}
	if s.Run.RowsProven == 0 {
		t.Fatal("nothing proven: the run did not plan a proof")
	}
	if n := counter.take(); n != 1 {
		t.Errorf("a run described its table %d times, want once", n)
	}
}
