package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

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

func TestConformance(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{Name: "duckdb", Open: open(0)})
}

// The same suite with tiny slices, so that every case — window edges,
// shards, cancellation — also runs through the sliced scan that bounds
// DuckDB's memory on big windows.
func TestConformanceSlicedScan(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{Name: "duckdb, 3-row slices", Open: open(3)})
}
