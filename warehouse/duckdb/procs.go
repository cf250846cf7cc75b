package duckdb

import (
	"runtime"
	"sync"
)

// DuckDB's threads call copyVector, which is Go, once a vector, and a call
// from a thread of DuckDB's must take one of the runtime's Ps to run. The
// validators keep a goroutine busy on every P, so each call waited until
// one of them blocked or was preempted, and the scan stalled behind them:
// a 1M-row run kept 1.7 of its two cores busy. One P more than GOMAXPROCS
// while a streamed scan runs lets DuckDB's calls in at once (1M rows with
// writes, 8 alternating runs: 1.75 s against 1.88 s; 10M rows 13.9 s
// against 15.0 s; docs/performance.md). The validators are counted before
// the scan starts, so they stay one a core.

// extraProc raises GOMAXPROCS by one while any streamed scan runs, and
// restores it when the last one ends.
type extraProc struct {
	mu     sync.Mutex
	scans  int
	before int // GOMAXPROCS when the first scan began
}

// scanProcs is the process's one: GOMAXPROCS is the process's, and two
// Warehouses raising and restoring it apart would race.
var scanProcs extraProc

func (p *extraProc) raise() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scans == 0 {
		p.before = runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(p.before + 1)
	}
	p.scans++
}

// lower ends one scan's raise. GOMAXPROCS is left as it is where someone
// else changed it meanwhile.
func (p *extraProc) lower() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scans--; p.scans == 0 && runtime.GOMAXPROCS(0) == p.before+1 {
		runtime.GOMAXPROCS(p.before)
	}
}
