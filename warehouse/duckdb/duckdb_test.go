package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

func TestConformance(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{
		Name: "duckdb",
		Open: func(t *testing.T) *sqlwh.Warehouse {
			wh, err := duckdb.Open(context.Background(), "duckdb://"+filepath.Join(t.TempDir(), "test.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { wh.Close() })
			return wh
		},
	})
}

// The same suite with tiny slices, so that every case — window edges,
// shards, cancellation — also runs through the sliced scan that bounds
// DuckDB's memory on big windows.
func TestConformanceSlicedScan(t *testing.T) {
	warehousetest.Run(t, warehousetest.Backend{
		Name: "duckdb, 3-row slices",
		Open: func(t *testing.T) *sqlwh.Warehouse {
			wh, err := duckdb.Open(context.Background(), "duckdb://"+filepath.Join(t.TempDir(), "test.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			wh.Dialect.SliceRows = 3
			t.Cleanup(func() { wh.Close() })
			return wh
		},
	})
}
