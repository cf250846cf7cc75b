package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

// Every draft-7 case of the JSON-Schema-Test-Suite, as the properties of a
// track event whose schema is the case's, in a jsonb column: a run with
// pushdown writes what a run without it does. (A text column proves
// nothing, and is audited as without pushdown.)
func TestPushdownAgreesOnTheTestSuite(t *testing.T) {
	reg, rows := warehousetest.SuiteCorpus(t)
	for _, c := range []struct {
		typ       string
		minProven int64
	}{{"JSONB", 150}, {"TEXT", 0}} {
		t.Run(c.typ, func(t *testing.T) {
			proven, loaded := warehousetest.PushdownAgrees(t, openPostgres(t), c.typ, reg, rows)
			t.Logf("%d of %d cases proven valid in SQL", proven, loaded)
			if proven < c.minProven || (c.minProven == 0 && proven != 0) {
				t.Errorf("%d cases proven, want at least %d (and none for text)", proven, c.minProven)
			}
		})
	}
}

// 300 random schemas, each with 32 instances at its edges and around (the
// fast path's fuzz generator), in a jsonb column: a run with pushdown
// writes what a run without it does.
func TestPushdownAgreesOnRandomSchemas(t *testing.T) {
	reg, rows := warehousetest.RandomCorpus(t, 1, 300)
	proven, loaded := warehousetest.PushdownAgrees(t, openPostgres(t), "JSONB", reg, rows)
	t.Logf("%d of %d messages proven valid in SQL", proven, loaded)
	if proven < 1000 {
		t.Errorf("only %d messages proven: the check proves little", proven)
	}
}

// The demo plan's messages and their hostile variants, in a jsonb column
// (which refuses NaN, trailing commas and \u0000, as a loader would):
// a run with pushdown writes what a run without it does.
func TestPushdownAgreesOnHostileMessages(t *testing.T) {
	reg, rows := warehousetest.HostileCorpus(t)
	proven, loaded := warehousetest.PushdownAgrees(t, openPostgres(t), "JSONB", reg, rows)
	t.Logf("%d of %d messages proven valid in SQL", proven, loaded)
	if proven < 200 {
		t.Errorf("only %d messages proven: the check proves little", proven)
	}
}

// Segment's layout: a run that proves rows with column predicates writes
// what a run without pushdown does (warehousetest.SegmentPushdownSuite).
func TestSegmentPushdownAgrees(t *testing.T) {
	warehousetest.SegmentPushdownSuite(t, func(t *testing.T, _ string) *sqlwh.Warehouse { return openPostgres(t) })
}

// The same in the Redshift dialect, whose literals, finiteness and
// timestamps are rendered its own way (its collation is in
// testdata/redshift.sql).
func TestSegmentPushdownAgreesRedshiftDialect(t *testing.T) {
	warehousetest.SegmentPushdownSuite(t, func(t *testing.T, _ string) *sqlwh.Warehouse { return openRedshiftDialect(t) })
}

// Redshift reads a backslash in a string literal as an escape, Postgres as
// itself; the Redshift dialect's literals spell it CHR(92), so that both
// read back the very string, which the proof compares columns with.
func TestRedshiftLiteralReadsBackAsItself(t *testing.T) {
	wh := openRedshiftDialect(t)
	for _, s := range []string{`plain`, `a\b`, `\`, `\\n'`, `it's`, `'\'`, `é\u00e9`} {
		lit := wh.Dialect.ProveColumns.Literal(s)
		if strings.Contains(lit, `\`) {
			t.Errorf("literal of %q holds a backslash, which Redshift would read as an escape: %s", s, lit)
		}
		rows, err := wh.Conn.Query(context.Background(), "SELECT "+lit)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var got string
		for rows.Next() {
			if err := rows.Scan(&got); err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
		if got != s {
			t.Errorf("literal of %q reads back as %q", s, got)
		}
	}
}

// A case-insensitive collation equates "A" with the enum's "a", and an
// event_text "BOUNDED" with the table's "Bounded", where Go tells them
// apart: the proof compares text byte for byte whatever the collation, and
// counts a page name's or an event's rows under each spelling apart, as
// Go keys the rows it fetches.
func TestSegmentPushdownHoldsUnderACaseInsensitiveCollation(t *testing.T) {
	wh := openPostgres(t)
	err := wh.Conn.Exec(context.Background(), `CREATE COLLATION IF NOT EXISTS eventaudit_test_ci
		(provider = icu, locale = 'und-u-ks-level2', deterministic = false)`)
	if err != nil {
		t.Fatalf("this server has no ICU collations: %v", err)
	}
	reg, rows, extra := warehousetest.SegmentEdgeCorpus(t)
	for _, c := range []string{"bounded.event_text", "texts.code", "pages.name", "tracks.event_text"} {
		table, col, _ := strings.Cut(c, ".")
		extra = append(extra, "ALTER TABLE SCHEMA."+table+" ALTER COLUMN "+col+" TYPE text COLLATE eventaudit_test_ci")
	}
	extra = append(extra,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio) VALUES ('ci-event', '2026-11-20 00:00:21+00', 'bounded', 'BOUNDED', 5, 1)`,
		`INSERT INTO SCHEMA.pages (id, received_at, name, path) VALUES ('ci-page', '2026-11-20 00:00:22+00', 'HOME', '/')`,
		// Two spellings of one unplanned event, counted under each.
		`INSERT INTO SCHEMA.tracks (id, received_at, event, event_text) VALUES ('ci-track-1', '2026-11-20 00:00:23+00', 'mystery', 'Mystery Event')`,
		`INSERT INTO SCHEMA.tracks (id, received_at, event, event_text) VALUES ('ci-track-2', '2026-11-20 00:00:24+00', 'mystery', 'MYSTERY EVENT')`)
	proven, _ := warehousetest.SegmentPushdownAgrees(t, wh, reg, rows, extra...)
	if proven < 20 {
		t.Errorf("only %d rows proven", proven)
	}
}

// A statement that fails midway, while another table's proof runs beside
// it, fails the run with the server's message: no counts, no hang.
func TestSegmentPushdownFailsWholeWhenAStatementFails(t *testing.T) {
	reg, rows, extra := warehousetest.SegmentEdgeCorpus(t)
	// A view in the table's place, whose one row fails as it is read.
	extra = append(extra, `ALTER TABLE SCHEMA.texts RENAME TO texts_data`,
		`CREATE VIEW SCHEMA.texts AS SELECT * FROM SCHEMA.texts_data WHERE 1 / (CASE WHEN code = 'A' THEN 0 ELSE 1 END) = 1`)
	src, w := warehousetest.LoadSegment(t, openPostgres(t), reg, rows, extra...)
	matcher := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	plan := matcher.PushdownPlan(reg.EventNames())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := &audit.Auditor{Source: src, Sink: &audittest.CollectSink{}, Workers: 2, Matcher: matcher, Pushdown: &plan, MaxPayloadBytes: 1 << 20}
	s, err := a.Run(ctx, audit.Run{RunID: "r", Source: "s", Window: w})
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("run: %v, want the server's division by zero", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run hung until the test's deadline")
	}
	if s != nil {
		t.Errorf("a failed run returned a summary: %+v", s)
	}
}
