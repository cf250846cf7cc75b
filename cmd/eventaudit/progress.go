package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
)

// progress draws one self-overwriting line on a terminal's stderr. It is
// only attached when stderr is a TTY, so logs and pipes never see it.
type progress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  time.Time
	rows  int64
	total atomic.Int64 // 0 until known
	// proving: the warehouse proves rows valid where they are, and only
	// the rest arrive, so rows is what was fetched, not a share of total.
	proving bool
	printed bool
}

func (p *progress) setTotal(n int64) { p.total.Store(n) }

func newProgress(w io.Writer, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, now: now, start: t}
}

func (p *progress) update(rows int64) {
	p.rows = rows
	t := p.now()
	if t.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = t
	p.draw(t)
}

func (p *progress) draw(t time.Time) {
	secs := t.Sub(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.rows) / secs
	}
	line := fmt.Sprintf("scanned %s rows (%s rows/s)", reports.Count(p.rows), reports.Count(int64(rate)))
	if p.proving {
		line = fmt.Sprintf("fetched %s rows the warehouse did not prove valid (%s rows/s)", reports.Count(p.rows), reports.Count(int64(rate)))
	} else if total := p.total.Load(); total > 0 && rate > 0 && p.rows < total {
		eta := time.Duration(float64(total-p.rows) / rate * float64(time.Second)).Round(time.Second)
		line = fmt.Sprintf("scanned %s of %s rows (%s rows/s, ETA %s)", reports.Count(p.rows), reports.Count(total),
			reports.Count(int64(rate)), eta)
	}
	fmt.Fprint(p.w, "\r\033[K"+line)
	p.printed = true
}

// done ends the line: with the run's own counts once it has them (run is
// nil when it failed), so that a proving run ends on the rows it scanned.
func (p *progress) done(run *audit.Run) {
	if !p.printed {
		return
	}
	if run != nil && p.proving {
		fmt.Fprintf(p.w, "\r\033[Kscanned %s rows: %s proven valid in the warehouse, %s fetched\n",
			reports.Count(run.RowsScanned), reports.Count(run.RowsProven), reports.Count(run.RowsFetched))
		return
	}
	p.draw(p.now())
	fmt.Fprintln(p.w)
}
