package main

import (
	"fmt"
	"io"
	"sync"
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
	total atomic.Int64 // 0 until known
	// proving: the warehouse proves rows valid where they are, and only
	// the rest arrive, so rows is what was fetched, not a share of total.
	proving bool

	// mu guards the rest: the run's collector updates the line, and the
	// ticker redraws it while no rows arrive.
	mu      sync.Mutex
	last    time.Time
	rows    int64
	printed bool
	// stop ends the ticker; stopped, once done has drawn the last line.
	stop    chan struct{}
	stopped bool
}

// redrawEvery is how long the line may stand still before it is drawn
// again, with the time elapsed.
const redrawEvery = time.Second

func (p *progress) setTotal(n int64) { p.total.Store(n) }

func newProgress(w io.Writer, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, now: now, start: t}
}

func (p *progress) update(rows int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows = rows
	t := p.now()
	if p.stopped || t.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = t
	p.draw(t)
}

// keepDrawing redraws the line every interval in which nothing else did,
// until done: a warehouse can work for minutes before its first rows
// arrive (a proof on a remote engine, a cold scan), and a line that stays
// blank, or still, looks like a hung run.
func (p *progress) keepDrawing(every time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil || p.stopped {
		return
	}
	p.stop = make(chan struct{})
	ticker, stop := time.NewTicker(every), p.stop
	go func() {
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				p.tick(every)
			case <-stop:
				return
			}
		}
	}()
}

// tick redraws the line if nothing has for every, and the run is that old.
func (p *progress) tick(every time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	if p.stopped || t.Sub(p.last) < every || t.Sub(p.start) < every {
		return
	}
	p.last = t
	p.draw(t)
}

func (p *progress) draw(t time.Time) {
	elapsed := t.Sub(p.start)
	rate := 0.0
	if secs := elapsed.Seconds(); secs > 0 {
		rate = float64(p.rows) / secs
	}
	line := fmt.Sprintf("scanned %s rows (%s rows/s)", reports.Count(p.rows), reports.Count(int64(rate)))
	switch total := p.total.Load(); {
	case p.rows == 0 && !p.stopped && p.proving:
		line = fmt.Sprintf("the warehouse is proving rows valid; none fetched yet (%s)", elapsed.Round(time.Second))
	case p.rows == 0 && !p.stopped:
		line = fmt.Sprintf("waiting for the warehouse's first rows (%s)", elapsed.Round(time.Second))
	case p.proving:
		line = fmt.Sprintf("fetched %s rows the warehouse did not prove valid (%s rows/s)", reports.Count(p.rows), reports.Count(int64(rate)))
	case total > 0 && rate > 0 && p.rows < total:
		eta := time.Duration(float64(total-p.rows) / rate * float64(time.Second)).Round(time.Second)
		line = fmt.Sprintf("scanned %s of %s rows (%s rows/s, ETA %s)", reports.Count(p.rows), reports.Count(total),
			reports.Count(int64(rate)), eta)
	}
	fmt.Fprint(p.w, "\r\033[K"+line)
	p.printed = true
}

// done stops the ticker and ends the line: with the run's own counts once
// it has them (run is nil when it failed), so that a proving run ends on
// the rows it scanned.
func (p *progress) done(run *audit.Run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil && !p.stopped {
		close(p.stop)
	}
	p.stopped = true
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
