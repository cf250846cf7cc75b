package postgres_test

import (
	"testing"

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
