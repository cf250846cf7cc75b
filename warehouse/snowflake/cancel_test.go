package snowflake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
)

// gosnowflake's chunk downloader sends on a channel that the last Next
// closes, whenever it finds the query's context cancelled after a chunk
// arrived: a context cancelled just after the rows were spent, as every
// scan's context is, crashed the whole process ("send on closed channel").
// The driver's reads must never see a cancellation after the query ran.
func TestCancelAfterChunkedRowsAreSpent(t *testing.T) {
	for _, v := range []struct{ name, format, extra string }{
		{"arrow rows", "arrow", "arrow_batches=false"},
		{"json results", "json", ""},
	} {
		t.Run(v.name, func(t *testing.T) {
			srv := sftest.Start(t)
			srv.ResultFormat, srv.ChunkRows = v.format, 5
			wh := openWith(t, srv, v.extra)
			for i := range 300 {
				ctx, cancel := context.WithCancel(context.Background())
				rows, err := wh.Conn.Query(ctx, "SELECT i FROM range(40) t(i)")
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				cancel()
				if err := rows.Err(); err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				rows.Close()
				if n != 40 {
					t.Fatalf("run %d: read %d rows, want 40", i, n)
				}
			}

			// A read cancelled half-way still stops, with the cause.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rows, err := wh.Conn.Query(ctx, "SELECT i FROM range(40) t(i)")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				if n++; n == 12 {
					cancel()
				}
			}
			if n != 12 || !errors.Is(rows.Err(), context.Canceled) {
				t.Errorf("a read cancelled after 12 rows read %d rows and ended with %v, want 12 and context.Canceled", n, rows.Err())
			}
		})
	}
}
