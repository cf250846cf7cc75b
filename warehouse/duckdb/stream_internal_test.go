package duckdb

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// A reader that saw fewer rows than the statement counted in the window
// fails the scan, so that a run never reports on rows it did not judge.
func TestStreamFailsWhenRowsGoMissing(t *testing.T) {
	for _, tc := range []struct {
		total int64
		want  string
	}{
		{2, ""},
		{3, "DuckDB counted 3 rows in the window but passed 2 to eventaudit"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		s := &rawStream{ctx: ctx, vectors: make(chan *rawVector, 1), stop: make(chan struct{})}
		r := &streamRows{s: s, cancel: cancel, done: make(chan struct{}), row: -1, total: tc.total}
		at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		s.vectors <- &rawVector{buf: []byte("{}"), ids: []string{"a", ""}, idOK: []bool{true, false},
			at: []time.Time{at, at}, spans: [][2]int{{0, 2}, {-1, -1}}}
		close(r.done)
		var got []audit.Row
		for r.Next() {
			var row audit.Row
			if _, _, err := r.ScanRow(&row, nil); err != nil {
				t.Fatal(err)
			}
			got = append(got, row)
		}
		if len(got) != 2 || got[0].MessageID != "a" || string(got[0].Payload) != "{}" || got[1].Payload != nil {
			t.Errorf("read %+v", got)
		}
		switch err := r.Err(); {
		case tc.want == "" && err != nil:
			t.Errorf("total %d: %v", tc.total, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("total %d: err %v, want %q", tc.total, err, tc.want)
		}
		r.Close()
	}
}

// A streamed scan gives the runtime one P more while it runs, and the
// process gets its GOMAXPROCS back when the last scan ends, however many
// ran at once.
func TestScansLeaveGOMAXPROCSAsTheyFoundIt(t *testing.T) {
	start := runtime.GOMAXPROCS(0)
	var p extraProc
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			p.raise()
			if got := runtime.GOMAXPROCS(0); got != start+1 {
				t.Errorf("GOMAXPROCS %d during a scan, want %d", got, start+1)
			}
			p.lower()
		})
	}
	wg.Wait()
	if got := runtime.GOMAXPROCS(0); got != start {
		t.Fatalf("GOMAXPROCS %d after the scans, want %d as before them", got, start)
	}
}
