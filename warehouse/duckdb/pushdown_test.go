package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

// Every draft-7 case of the JSON-Schema-Test-Suite, as the properties of a
// track event whose schema is the case's: a run with pushdown writes what a
// run without it does, on a VARCHAR and on a JSON payload column.
func TestPushdownAgreesOnTheTestSuite(t *testing.T) {
	reg, rows := warehousetest.SuiteCorpus(t)
	for _, typ := range []string{"VARCHAR", "JSON"} {
		t.Run(typ, func(t *testing.T) {
			proven, loaded := warehousetest.PushdownAgrees(t, openForPushdown(t), typ, reg, rows)
			t.Logf("%d of %d cases proven valid in SQL", proven, loaded)
			if proven < 150 {
				t.Errorf("only %d cases proven: the check proves little", proven)
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
