package duckdb_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// streamRows is how many rows the streamed scan's tests read: enough row
// groups (122,880 rows each) for DuckDB to scan them on several threads at
// once, so that vectors reach the reader out of order.
const streamRows = 300_000

var streamStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// streamPayload is row i's payload as the table holds it; ok=false for
// NULL. Payloads of up to 12 bytes sit inside DuckDB's string header, and
// longer ones behind a pointer: both are read.
func streamPayload(i int) (string, bool) {
	switch {
	case i%1000 == 3:
		return "", false
	case i%1000 == 5:
		return "", true
	case i%2 == 0:
		return fmt.Sprintf(`{"i":%d}`, i%100), true
	}
	return fmt.Sprintf(`{"type":"track","event":"Café ☕","i":%d,"pad":"%s"}`, i, strings.Repeat("x", i%50)), true
}

// streamTable creates streamRows rows in the window, a millisecond apart,
// and a row just before the window and one at its end, which the scan
// must leave out.
func streamTable(t *testing.T) (*sqlwh.Source, audit.Window) {
	t.Helper()
	wh := open(0)(t)
	ctx := context.Background()
	q := fmt.Sprintf(`CREATE TABLE events AS SELECT
		CASE WHEN i %% 1000 = 7 THEN NULL ELSE 'm' || i END AS message_id,
		TIMESTAMPTZ '2026-11-20 00:00:00+00' + to_milliseconds(i) AS received_at,
		CASE WHEN i %% 1000 = 3 THEN NULL
		     WHEN i %% 1000 = 5 THEN ''
		     WHEN i %% 2 = 0 THEN '{"i":' || (i %% 100) || '}'
		     ELSE '{"type":"track","event":"Café ☕","i":' || i || ',"pad":"' || repeat('x', CAST(i %% 50 AS INTEGER)) || '"}' END AS payload
		FROM range(-1, %d) t(i)`, streamRows+1)
	if err := wh.Conn.Exec(ctx, q); err != nil {
		t.Fatal(err)
	}
	src := &sqlwh.Source{WH: wh, Table: sqlwh.RawTable{Table: sqlwh.Ident{"events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}}
	return src, audit.Window{Start: streamStart, End: streamStart.Add(streamRows * time.Millisecond)}
}

// The window scan streams out of DuckDB on its threads: every row of the
// window arrives once, with its id, time and payload byte for byte,
// NULLs as NULLs, whatever order the vectors come in.
//
// While it runs, the runtime has one P more than before (DuckDB's threads
// call into Go for each vector), and the process gets its GOMAXPROCS back
// when it ends.
func TestWindowScanStreamsEveryRowOnce(t *testing.T) {
	src, w := streamTable(t)
	seen := make([]bool, streamRows)
	n := 0
	procs, raised := runtime.GOMAXPROCS(0), false
	err := src.Scan(context.Background(), w, func(rows []audit.Row) error {
		// The last batch may come after DuckDB's statement has ended.
		raised = raised || runtime.GOMAXPROCS(0) == procs+1
		for _, r := range rows {
			i := int(r.ReceivedAt.Sub(streamStart) / time.Millisecond)
			if i < 0 || i >= streamRows || r.ReceivedAt.Sub(streamStart)%time.Millisecond != 0 {
				return fmt.Errorf("row received at %s, outside the window or off the table's times", r.ReceivedAt)
			}
			if seen[i] {
				return fmt.Errorf("row %d read twice", i)
			}
			seen[i], n = true, n+1
			wantID := fmt.Sprint("m", i)
			if i%1000 == 7 {
				wantID = "" // NULL
			}
			if r.MessageID != wantID {
				return fmt.Errorf("row %d: message id %q, want %q", i, r.MessageID, wantID)
			}
			want, ok := streamPayload(i)
			if (r.Payload != nil) != ok || string(r.Payload) != want {
				return fmt.Errorf("row %d: payload %q (NULL %v), want %q (NULL %v)", i, r.Payload, r.Payload == nil, want, !ok)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != streamRows {
		t.Fatalf("read %d rows, want %d", n, streamRows)
	}
	if got := runtime.GOMAXPROCS(0); !raised || got != procs {
		t.Fatalf("GOMAXPROCS %d after the scan, want %d as before it, and %d during it (seen: %v)", got, procs, procs+1, raised)
	}
}

// The sliced read the benchmarks measure DuckDB against reads the window
// the streamed scan reads, each row once: a baseline over more or fewer
// rows would flatter or wrong the audit's figures.
func TestReadSlicedReadsTheWindowOnce(t *testing.T) {
	src, w := streamTable(t)
	n, err := src.ReadSliced(context.Background(), w, sqlwh.BaselineSliceRows)
	if err != nil {
		t.Fatal(err)
	}
	if n != streamRows {
		t.Fatalf("read %d rows in slices of %d, want the window's %d", n, sqlwh.BaselineSliceRows, streamRows)
	}
}

// A reader that stops early (a failed batch, a cancelled run) ends
// DuckDB's statement and leaves the warehouse usable: the scan returns
// the reader's own error, and the next scan reads the whole window.
func TestWindowScanStopsWhenTheReaderDoes(t *testing.T) {
	src, w := streamTable(t)
	stop := errors.New("stop")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		fail func() error
		want error
	}{
		{"the batch fails", context.Background(), func() error { return stop }, stop},
		{"the run is cancelled", ctx, func() error { cancel(); return nil }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			procs := runtime.GOMAXPROCS(0)
			done := make(chan error, 1)
			go func() {
				done <- src.Scan(tc.ctx, w, func([]audit.Row) error { return tc.fail() })
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tc.want) {
					t.Fatalf("scan ended with %v, want %v", err, tc.want)
				}
				if got := runtime.GOMAXPROCS(0); got != procs {
					t.Fatalf("GOMAXPROCS %d after the stopped scan, want %d as before it", got, procs)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the scan did not end when its reader stopped")
			}
			n := 0
			if err := src.Scan(context.Background(), w, func(rows []audit.Row) error { n += len(rows); return nil }); err != nil {
				t.Fatal(err)
			}
			if n != streamRows {
				t.Fatalf("the next scan read %d rows, want %d", n, streamRows)
			}
		})
	}
}

// The scan's function is eventaudit's reader, not a function for queries
// of one's own; called outside a scan it says so rather than crash.
func TestScanFunctionRefusesOtherQueries(t *testing.T) {
	src, w := streamTable(t)
	if err := src.Scan(context.Background(), w, func([]audit.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rows, err := src.WH.Conn.Query(context.Background(), `SELECT function_name FROM duckdb_functions() WHERE function_name LIKE 'eventaudit_scan_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for rows.Next() {
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	if name == "" {
		t.Fatal("no eventaudit_scan_ function is registered after a scan")
	}
	err = src.WH.Conn.Exec(context.Background(), `SELECT `+name+`(message_id, CAST(epoch_us(received_at) AS VARCHAR), payload) FROM events`)
	if err == nil || !strings.Contains(err.Error(), "eventaudit's reader") {
		t.Fatalf("calling %s from SQL: %v, want an error naming eventaudit's reader", name, err)
	}
}

// received_at may be any of DuckDB's time types; it is read to the
// microsecond, DuckDB's TIMESTAMP, so TIMESTAMP_NS loses its last three
// digits, which no window bound has.
func TestWindowScanReadsEveryTimeType(t *testing.T) {
	at := time.Date(2026, 11, 20, 1, 2, 3, 456789123, time.UTC)
	for _, tc := range []struct {
		typ  string
		want time.Time
	}{
		{"TIMESTAMPTZ", at.Truncate(time.Microsecond)},
		{"TIMESTAMP", at.Truncate(time.Microsecond)},
		{"TIMESTAMP_NS", at.Truncate(time.Microsecond)},
		{"TIMESTAMP_MS", at.Round(time.Millisecond)}, // DuckDB rounds the text to the column's unit
		{"DATE", at.Truncate(24 * time.Hour)},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			wh := open(0)(t)
			ctx := context.Background()
			q := `CREATE TABLE events AS SELECT 'm' AS message_id, CAST('2026-11-20 01:02:03.456789123' AS ` + tc.typ + `) AS received_at, '{}' AS payload`
			if err := wh.Conn.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
			src := &sqlwh.Source{WH: wh, Table: sqlwh.RawTable{Table: sqlwh.Ident{"events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}}
			var got []time.Time
			err := src.Scan(ctx, audit.Window{Start: streamStart, End: streamStart.Add(24 * time.Hour)}, func(rows []audit.Row) error {
				for _, r := range rows {
					got = append(got, r.ReceivedAt)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !got[0].Equal(tc.want) || got[0].Location() != time.UTC {
				t.Fatalf("received_at read as %v, want [%v] in UTC", got, tc.want)
			}
		})
	}
}
