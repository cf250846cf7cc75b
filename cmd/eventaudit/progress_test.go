package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// clock is a settable time, safe to read from the ticker's goroutine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lastLine is what a terminal shows: the text after the last redraw.
func lastLine(s string) string { return s[strings.LastIndex(s, "\r\033[K")+len("\r\033[K"):] }

// While the warehouse works before its first rows, or between bursts, the
// line is redrawn with the time elapsed, so a person watching can tell a
// slow warehouse from a hung run; rows arriving redraw it as before, and
// nothing is drawn once the run has ended.
func TestProgressMovesWhileTheWarehouseWorks(t *testing.T) {
	for _, tc := range []struct {
		proving          bool
		waiting, flowing string
		final            string
	}{
		{false, "waiting for the warehouse's first rows (3s)", "scanned 2,000 rows (571 rows/s)", "scanned 2,000 rows (333 rows/s)\n"},
		{true, "the warehouse is proving rows valid; none fetched yet (3s)", "fetched 2,000 rows the warehouse did not prove valid (571 rows/s)",
			"scanned 90,000 rows: 88,000 proven valid in the warehouse, 2,000 fetched\n"},
	} {
		var out bytes.Buffer
		c := &clock{t: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)}
		p := newProgress(&out, c.now)
		p.proving = tc.proving

		c.add(500 * time.Millisecond)
		p.tick(time.Second)
		if out.Len() != 0 {
			t.Errorf("proving=%v: a run younger than a second drew %q", tc.proving, out.String())
		}
		c.add(2500 * time.Millisecond)
		p.tick(time.Second)
		if got := lastLine(out.String()); got != tc.waiting {
			t.Errorf("proving=%v: before any rows the line reads %q, want %q", tc.proving, got, tc.waiting)
		}
		c.add(500 * time.Millisecond)
		p.update(2000)
		if got := lastLine(out.String()); got != tc.flowing {
			t.Errorf("proving=%v: once rows arrive the line reads %q, want %q", tc.proving, got, tc.flowing)
		}
		drawn := out.Len()
		c.add(500 * time.Millisecond)
		p.tick(time.Second)
		if out.Len() != drawn {
			t.Errorf("proving=%v: the ticker redrew a line drawn half a second before: %q", tc.proving, out.String()[drawn:])
		}
		c.add(2 * time.Second)
		p.done(&audit.Run{RowsScanned: 90000, RowsProven: 88000, RowsFetched: 2000})
		if got := lastLine(out.String()); got != tc.final {
			t.Errorf("proving=%v: the last line reads %q, want %q", tc.proving, got, tc.final)
		}
		drawn = out.Len()
		c.add(time.Hour)
		p.tick(time.Second)
		p.update(3000)
		if out.Len() != drawn {
			t.Errorf("proving=%v: drawn after the run ended: %q", tc.proving, out.String()[drawn:])
		}
	}
}

// The ticker itself redraws a line left standing, and stops with the run.
func TestProgressTickerRedrawsAndStops(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(b) })
	c := &clock{t: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)}
	p := newProgress(w, c.now)
	p.keepDrawing(time.Millisecond)
	c.add(5 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := out.String()
		mu.Unlock()
		if strings.Contains(got, "waiting for the warehouse's first rows (5s)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ticker never redrew the line: %q", got)
		}
		time.Sleep(time.Millisecond)
	}
	p.done(nil)
	mu.Lock()
	drawn := out.Len()
	mu.Unlock()
	c.add(time.Hour)
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if out.Len() != drawn || !strings.HasSuffix(out.String(), "scanned 0 rows (0 rows/s)\n") {
		t.Errorf("after done the line must end on the run's rows and stay: %q", out.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
