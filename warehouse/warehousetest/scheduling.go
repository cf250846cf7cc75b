package warehousetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// mixed loads n messages, every third one failing one check.
func (f *fixture) mixed(n int, from time.Time, step time.Duration) {
	rows := make([]audit.Row, n)
	for i := range rows {
		id, at := fmt.Sprintf("m%04d", i), from.Add(time.Duration(i)*step)
		if i%3 == 0 {
			rows[i] = missingTotal(id, at)
		} else {
			rows[i] = good(id, at)
		}
	}
	f.load(rows...)
}

func (f *fixture) runShard(w audit.Window, sh audit.Shard) *audit.Summary {
	f.t.Helper()
	src := f.source(0)
	src.Shard = sh
	run := f.newRun(w)
	run.Shard = sh
	s, err := f.auditor(src, f.sink()).Run(f.ctx, run)
	if err != nil {
		f.t.Fatalf("shard %s: %v", sh, err)
	}
	return s
}

func (f *fixture) violationSet() string {
	rows := f.query(`SELECT "message_id", "keyword", "instance_path" FROM ` + f.table(sqlwh.ViolationsTable) + ` ORDER BY 1, 2, 3`)
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|") + "\n")
	}
	return b.String()
}

func (f *fixture) statsTotals() []string {
	return f.query(`SELECT CAST(SUM("rows") AS BIGINT), CAST(SUM("invalid_rows") AS BIGINT) FROM ` + f.table(sqlwh.StatsTable))[0]
}

// The union of N shard runs equals one unsharded run, and re-running one
// shard touches no other shard's rows.
func testShardsUnionEqualsFull(t *testing.T, f *fixture) {
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	f.mixed(300, t0, 10*time.Second)
	full := f.mustRun(w)
	wantViolations, wantTotals := f.violationSet(), f.statsTotals()
	if strings.Count(wantViolations, "\n") != 100 {
		t.Fatalf("full run: %d violations, want 100", strings.Count(wantViolations, "\n"))
	}

	f.results += "_sharded"
	var scanned int64
	for k := range 3 {
		s := f.runShard(w, audit.Shard{Index: k, Count: 3})
		if s.Run.RowsScanned == 0 || s.Run.RowsScanned == full.Run.RowsScanned {
			t.Errorf("shard %d/3 scanned %d of %d rows: not a real split", k, s.Run.RowsScanned, full.Run.RowsScanned)
		}
		scanned += s.Run.RowsScanned
	}
	equal(t, "rows over all shards", scanned, full.Run.RowsScanned)
	equal(t, "violations of the shards", f.violationSet(), wantViolations)
	equal(t, "stats of the shards", f.statsTotals(), wantTotals)
	equal(t, "shards recorded", f.query(`SELECT "shard" FROM `+f.table(sqlwh.RunsTable)+` ORDER BY 1`),
		[][]string{{"0/3"}, {"1/3"}, {"2/3"}})

	f.runShard(w, audit.Shard{Index: 1, Count: 3})
	equal(t, "violations after re-running shard 1/3", f.violationSet(), wantViolations)
	equal(t, "stats after re-running shard 1/3", f.statsTotals(), wantTotals)
	equal(t, "runs after re-running shard 1/3", len(f.query(`SELECT "run_id" FROM `+f.table(sqlwh.RunsTable))), 3)

	f.mustRun(w)
	equal(t, "an unsharded re-run replaces every shard", f.query(`SELECT "shard" FROM `+f.table(sqlwh.RunsTable)), [][]string{{""}})
	equal(t, "violations after the unsharded re-run", f.violationSet(), wantViolations)
}

func testLocks(t *testing.T, f *fixture) {
	now := t0
	clock := func() time.Time { return now }
	run := func(id string, sh audit.Shard) audit.Run {
		return audit.Run{RunID: id, Source: f.src.Table.String(), Shard: sh}
	}
	sink := f.sink()
	release, err := sink.Lock(f.ctx, run("first", audit.Shard{}), clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var locked *sqlwh.LockedError
	if _, err := sink.Lock(f.ctx, run("second", audit.Shard{}), clock, time.Hour); !errors.As(err, &locked) || locked.Holder != "first" {
		t.Fatalf("a second run of the same source: want a LockedError naming run first, got %v", err)
	}
	if _, err := sink.Lock(f.ctx, run("shard", audit.Shard{Index: 0, Count: 2}), clock, time.Hour); !errors.As(err, &locked) {
		t.Fatalf("a shard while the unsharded run holds the source: want a LockedError, got %v", err)
	}
	other := run("other-source", audit.Shard{})
	other.Source += "_other"
	relOther, err := sink.Lock(f.ctx, other, clock, time.Hour)
	if err != nil {
		t.Fatalf("another source must not be blocked: %v", err)
	}
	relOther()
	release()

	rel0, err := sink.Lock(f.ctx, run("s0", audit.Shard{Index: 0, Count: 2}), clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rel1, err := sink.Lock(f.ctx, run("s1", audit.Shard{Index: 1, Count: 2}), clock, time.Hour)
	if err != nil {
		t.Fatalf("two shards of one source must run side by side: %v", err)
	}
	rel1()
	// s0 "crashes": it never releases. After the stale timeout a new run
	// takes over.
	_ = rel0
	if _, err := sink.Lock(f.ctx, run("s0-retry", audit.Shard{Index: 0, Count: 2}), clock, time.Hour); !errors.As(err, &locked) {
		t.Fatalf("within the stale timeout the lock holds: %v", err)
	}
	now = now.Add(2 * time.Hour)
	relRetry, err := sink.Lock(f.ctx, run("s0-retry", audit.Shard{Index: 0, Count: 2}), clock, time.Hour)
	if err != nil {
		t.Fatalf("a stale lock must be taken over: %v", err)
	}
	relRetry()
	equal(t, "locks left", f.query(`SELECT "run_id" FROM `+f.table(sqlwh.LocksTable)), [][]string(nil))
}

// Incremental runs: the next window starts at the watermark minus the
// lookback, so an event that lands behind the watermark is still audited,
// exactly once.
func testLateEvents(t *testing.T, f *fixture) {
	sink := f.sink()
	if _, ok, err := sink.LastWindowEnd(f.ctx, f.src.Table.String(), audit.Shard{}); ok || err != nil {
		t.Fatalf("before any run: ok=%v err=%v", ok, err)
	}
	f.load(missingTotal("on-time", t0.Add(10*time.Minute)), missingTotal("edge", t0.Add(50*time.Minute)))
	f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	end, ok, err := sink.LastWindowEnd(f.ctx, f.src.Table.String(), audit.Shard{})
	if err != nil || !ok || !end.Equal(t0.Add(time.Hour)) {
		t.Fatalf("watermark %v %v %v, want %v", end, ok, err, t0.Add(time.Hour))
	}
	// Loaded after the first run, received before its end.
	f.load(missingTotal("late", t0.Add(55*time.Minute)), missingTotal("next", t0.Add(90*time.Minute)))
	const lookback = 30 * time.Minute
	f.mustRun(audit.Window{Start: end.Add(-lookback), End: t0.Add(2 * time.Hour)})
	equal(t, "each message audited exactly once",
		f.query(`SELECT "message_id", CAST(COUNT(*) AS BIGINT) FROM `+f.table(sqlwh.ViolationsTable)+` GROUP BY 1 ORDER BY 1`),
		[][]string{{"edge", "1"}, {"late", "1"}, {"next", "1"}, {"on-time", "1"}})
}

func testCancelAtManyPoints(t *testing.T, f *fixture) {
	w, before := setupRerun(t, f)
	for _, point := range []struct {
		name     string
		atWrite  int // cancel after this write; 0: before commit
		atCommit bool
	}{
		{"after the first write", 1, false},
		{"mid-write", 3, false},
		{"just before commit", 0, true},
	} {
		ctx, cancel := context.WithCancel(f.ctx)
		reached := false
		hook := &audittest.HookSink{Sink: f.sink(),
			AfterWrite: func(n int) error {
				if n == point.atWrite {
					reached = true
					cancel()
				}
				return nil
			},
			BeforeCommit: func() error {
				if point.atCommit {
					reached = true
					cancel()
				}
				return nil
			}}
		_, err := f.auditor(f.source(2), hook).Run(ctx, f.newRun(w))
		cancel()
		if !reached {
			t.Fatalf("%s: the cancel point was never reached; the run ended with %v", point.name, err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: want context.Canceled, got %v", point.name, err)
		}
		equal(t, "tables after a cancel "+point.name, f.snapshot(), before)
	}
	// The next run covers the window as if nothing had happened.
	f.mustRun(w)
	// setupRerun's 20 messages each lack order_id and send total as a string.
	equal(t, "violations after recovery", len(f.query(`SELECT "message_id" FROM `+f.table(sqlwh.ViolationsTable))), 40)
	equal(t, "runs after recovery", len(f.query(`SELECT "run_id" FROM `+f.table(sqlwh.RunsTable))), 1)
}

// Runs that start together: exactly one gets the lock.
func testConcurrentLocks(t *testing.T, f *fixture) {
	const n = 6
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			run := audit.Run{RunID: fmt.Sprintf("racer-%d", i), Source: f.src.Table.String()}
			_, err := f.sink().Lock(f.ctx, run, time.Now, time.Hour)
			errs <- err
		}()
	}
	if err := f.sink().EnsureTables(f.ctx); err != nil {
		t.Fatal(err)
	}
	close(start)
	won := 0
	for range n {
		err := <-errs
		var locked *sqlwh.LockedError
		switch {
		case err == nil:
			won++
		case errors.As(err, &locked):
		default:
			t.Errorf("a losing run must get a LockedError, got %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d runs took the lock, want exactly 1", won)
	}
}
