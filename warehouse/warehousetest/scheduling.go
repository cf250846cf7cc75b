package warehousetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
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
	rows := f.query(`SELECT {message_id}, {keyword}, {instance_path} FROM ` + f.table(sqlwh.ViolationsTable) + ` ORDER BY 1, 2, 3`)
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|") + "\n")
	}
	return b.String()
}

func (f *fixture) statsTotals() []string {
	return f.query(`SELECT CAST(SUM({rows}) AS BIGINT), CAST(SUM({invalid_rows}) AS BIGINT) FROM ` + f.table(sqlwh.StatsTable))[0]
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
	equal(t, "shards recorded", f.query(`SELECT {shard} FROM `+f.table(sqlwh.RunsTable)+` ORDER BY 1`),
		[][]string{{"0/3"}, {"1/3"}, {"2/3"}})

	f.runShard(w, audit.Shard{Index: 1, Count: 3})
	equal(t, "violations after re-running shard 1/3", f.violationSet(), wantViolations)
	equal(t, "stats after re-running shard 1/3", f.statsTotals(), wantTotals)
	equal(t, "runs after re-running shard 1/3", len(f.query(`SELECT {run_id} FROM `+f.table(sqlwh.RunsTable))), 3)

	f.mustRun(w)
	equal(t, "an unsharded re-run replaces every shard", f.query(`SELECT {shard} FROM `+f.table(sqlwh.RunsTable)), [][]string{{""}})
	equal(t, "violations after the unsharded re-run", f.violationSet(), wantViolations)
}

func testLocks(t *testing.T, f *fixture) {
	now := newClock(t0)
	clock := now.Now
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
	mustRelease(t, relOther)
	mustRelease(t, release)

	rel0, err := sink.Lock(f.ctx, run("s0", audit.Shard{Index: 0, Count: 2}), clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rel1, err := sink.Lock(f.ctx, run("s1", audit.Shard{Index: 1, Count: 2}), clock, time.Hour)
	if err != nil {
		t.Fatalf("two shards of one source must run side by side: %v", err)
	}
	mustRelease(t, rel1)
	// s0 "crashes": it never releases. After the stale timeout a new run
	// takes over.
	defer mustRelease(t, rel0)
	if _, err := sink.Lock(f.ctx, run("s0-retry", audit.Shard{Index: 0, Count: 2}), clock, time.Hour); !errors.As(err, &locked) {
		t.Fatalf("within the stale timeout the lock holds: %v", err)
	}
	now.Add(2 * time.Hour)
	relRetry, err := sink.Lock(f.ctx, run("s0-retry", audit.Shard{Index: 0, Count: 2}), clock, time.Hour)
	if err != nil {
		t.Fatalf("a stale lock must be taken over: %v", err)
	}
	mustRelease(t, relRetry)
	equal(t, "locks left", f.locks(), [][]string(nil))
}

// Incremental runs: the next window starts at the watermark minus the
// lookback, so an event that lands behind the watermark is still audited,
// exactly once.
func testLateEvents(t *testing.T, f *fixture) {
	sink := f.sink()
	if _, ok, err := sink.LastWindowEnd(f.ctx, audit.Run{Source: f.src.Table.String()}); ok || err != nil {
		t.Fatalf("before any run: ok=%v err=%v", ok, err)
	}
	f.load(missingTotal("on-time", t0.Add(10*time.Minute)), missingTotal("edge", t0.Add(50*time.Minute)))
	f.mustRun(audit.Window{Start: t0, End: t0.Add(time.Hour)})
	end, ok, err := sink.LastWindowEnd(f.ctx, audit.Run{Source: f.src.Table.String()})
	if err != nil || !ok || !end.Equal(t0.Add(time.Hour)) {
		t.Fatalf("watermark %v %v %v, want %v", end, ok, err, t0.Add(time.Hour))
	}
	// Loaded after the first run, received before its end.
	f.load(missingTotal("late", t0.Add(55*time.Minute)), missingTotal("next", t0.Add(90*time.Minute)))
	const lookback = 30 * time.Minute
	f.mustRun(audit.Window{Start: end.Add(-lookback), End: t0.Add(2 * time.Hour)})
	equal(t, "each message audited exactly once",
		f.query(`SELECT {message_id}, CAST(COUNT(*) AS BIGINT) FROM `+f.table(sqlwh.ViolationsTable)+` GROUP BY 1 ORDER BY 1`),
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
	equal(t, "violations after recovery", len(f.query(`SELECT {message_id} FROM `+f.table(sqlwh.ViolationsTable))), 40)
	equal(t, "runs after recovery", len(f.query(`SELECT {run_id} FROM `+f.table(sqlwh.RunsTable))), 1)
}

// Runs that start together: exactly one gets the lock.
func testConcurrentLocks(t *testing.T, f *fixture) {
	const n = 6
	type result struct {
		lease *sqlwh.Lease
		err   error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			run := audit.Run{RunID: fmt.Sprintf("racer-%d", i), Source: f.src.Table.String()}
			lease, err := f.sink().Lock(f.ctx, run, time.Now, time.Hour)
			results <- result{lease, err}
		}()
	}
	if err := f.sink().EnsureTables(f.ctx); err != nil {
		t.Fatal(err)
	}
	close(start)
	won := 0
	for range n {
		r := <-results
		err := r.err
		var locked *sqlwh.LockedError
		switch {
		case err == nil:
			won++
			defer mustRelease(t, r.lease)
		case errors.As(err, &locked):
		default:
			t.Errorf("a losing run must get a LockedError, got %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d runs took the lock, want exactly 1", won)
	}
}

func mustRelease(t *testing.T, l *sqlwh.Lease) {
	t.Helper()
	if err := l.Release(context.Background()); err != nil {
		t.Errorf("release: %v", err)
	}
}

// locks lists the run locks (not the per-source guard rows).
func (f *fixture) locks() [][]string {
	return f.query(`SELECT {run_id}, {shard} FROM ` + f.table(sqlwh.LocksTable) + ` WHERE {run_id} <> '' ORDER BY 1`)
}

// A waiter judges a lock by the holder's expiry, not its own timeout: a
// run with a short --lock-timeout cannot take over a live run's lock
// (finding 1 of the attack). A run whose lock was taken over anyway (its
// heartbeats failed past its expiry) commits nothing.
func testLockHolderTerms(t *testing.T, f *fixture) {
	now := newClock(t0)
	clock := now.Now
	w := audit.Window{Start: t0, End: t0.Add(time.Hour)}
	f.mixed(30, t0, time.Minute)
	holder := f.sink()
	runA := f.newRun(w)
	runA.RunID = "nightly"
	lease, err := holder.Lock(f.ctx, runA, clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer mustRelease(t, lease)
	now.Add(2 * time.Second)
	runB := f.newRun(w)
	runB.RunID = "hourly"
	var locked *sqlwh.LockedError
	if _, err := f.sink().Lock(f.ctx, runB, clock, time.Second); !errors.As(err, &locked) || locked.Holder != "nightly" {
		t.Fatalf("a waiter with a 1s timeout took a lock renewed 2s ago: want a LockedError naming nightly, got %v", err)
	}
	if !locked.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("the lock's expiry is the holder's: got %v, want %v", locked.ExpiresAt, t0.Add(time.Hour))
	}

	// Past the holder's own expiry the lock is stale: B takes it over, and
	// A, still running, must not commit.
	now.Add(2 * time.Hour)
	leaseB, err := f.sink().Lock(f.ctx, runB, clock, time.Hour)
	if err != nil {
		t.Fatalf("an expired lock must be taken over: %v", err)
	}
	defer mustRelease(t, leaseB)
	if len(leaseB.Cleared()) != 1 || !strings.Contains(leaseB.Cleared()[0], "nightly") {
		t.Errorf("the takeover must say whose lock it cleared: %v", leaseB.Cleared())
	}
	_, err = f.auditor(f.source(0), holder).Run(f.ctx, runA)
	if !errors.Is(err, sqlwh.ErrLockLost) {
		t.Fatalf("a run whose lock was taken over: want ErrLockLost at commit, got %v", err)
	}
	equal(t, "runs after the lost run", f.query(`SELECT {run_id} FROM `+f.table(sqlwh.RunsTable)), [][]string(nil))
	equal(t, "violations after the lost run", f.query(`SELECT COUNT(*) FROM `+f.table(sqlwh.ViolationsTable)), [][]string{{"0"}})
	if _, err := f.auditor(f.source(0), holder).Run(f.ctx, runB); err != nil {
		t.Fatalf("the run holding the lock commits: %v", err)
	}
}

// Shards lock by what they cover: K/N conflicts with every running shard
// sharing a message with it, whatever its N (finding 3).
func testOverlappingShardsConflict(t *testing.T, f *fixture) {
	shard := func(s string) audit.Shard {
		sh, err := audit.ParseShard(s)
		if err != nil {
			t.Fatal(err)
		}
		return sh
	}
	run := func(id, sh string) audit.Run {
		return audit.Run{RunID: id, Source: f.src.Table.String(), Shard: shard(sh)}
	}
	held, err := f.sink().Lock(f.ctx, run("half", "0/2"), time.Now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		shard    string
		conflict bool
	}{
		{"2/4", true}, {"0/4", true}, {"0/3", true}, {"", true}, {"4/6", true},
		{"1/4", false}, {"3/4", false}, {"1/2", false}, {"5/6", false},
	} {
		lease, err := f.sink().Lock(f.ctx, run("other-"+c.shard, c.shard), time.Now, time.Hour)
		var locked *sqlwh.LockedError
		switch {
		case c.conflict && !errors.As(err, &locked):
			t.Errorf("shard %q while 0/2 runs: want a LockedError, got %v", c.shard, err)
		case c.conflict && locked.Holder != "half":
			t.Errorf("shard %q: the error must name the holder, got %v", c.shard, err)
		case !c.conflict && err != nil:
			t.Errorf("shard %q shares no message with 0/2 and must run beside it: %v", c.shard, err)
		}
		if err == nil {
			mustRelease(t, lease)
		}
	}
	mustRelease(t, held)
	equal(t, "locks left", f.locks(), [][]string(nil))
}

// A lock whose holder's warehouse session has ended (the process died, the
// server restarted) is cleared by the next run at once, without waiting
// for its expiry (finding 4). Where the warehouse cannot tell, expiry
// alone decides.
func testLockHolderGone(t *testing.T, f *fixture, endSession func(t *testing.T, wh *sqlwh.Warehouse, id string)) {
	now := newClock(t0)
	clock := now.Now
	run := func(id string) audit.Run { return audit.Run{RunID: id, Source: f.src.Table.String()} }
	crashed, err := f.sink().Lock(f.ctx, run("crashed"), clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = crashed.Release(f.ctx) }()
	holder := f.query(`SELECT {holder} FROM ` + f.table(sqlwh.LocksTable) + ` WHERE {run_id} = 'crashed'`)[0][0]
	sessions, _ := f.wh.Conn.(sqlwh.Sessions)
	if sessions == nil || holder == "" || holder == "NULL" {
		var locked *sqlwh.LockedError
		if _, err := f.sink().Lock(f.ctx, run("next"), clock, time.Hour); !errors.As(err, &locked) {
			t.Fatalf("no session to prove the holder gone: the lock must hold until it expires, got %v", err)
		}
		t.Logf("%s cannot prove a session gone; the lock waits for its expiry", f.wh.Dialect.Name)
		return
	}
	if endSession == nil {
		t.Fatalf("the backend holds locks by session (%s) but gives the suite no way to end one", holder)
	}
	endSession(t, f.wh, holder)
	next, err := f.sink().Lock(f.ctx, run("next"), clock, time.Hour)
	if err != nil {
		t.Fatalf("the holder's session has ended: the next run must clear its lock at once, got %v", err)
	}
	defer mustRelease(t, next)
	if len(next.Cleared()) != 1 || !strings.Contains(next.Cleared()[0], "session") {
		t.Errorf("the clearing must say the session ended: %v", next.Cleared())
	}
}

// Releasing retries on fresh connections: a warehouse that fails the first
// attempts (a restart, a dropped connection) still ends with no lock.
func testReleaseRetries(t *testing.T, f *fixture) {
	flaky := &flakyConn{Conn: f.wh.Conn}
	wh := &sqlwh.Warehouse{Dialect: f.wh.Dialect, Conn: flaky}
	sink := &sqlwh.Sink{WH: wh, Schema: f.results}
	lease, err := sink.Lock(f.ctx, audit.Run{RunID: "flaky", Source: f.src.Table.String()}, time.Now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	flaky.failNext.Store(2)
	if err := lease.Release(f.ctx); err != nil {
		t.Fatalf("release after two failed attempts: %v", err)
	}
	equal(t, "locks left", f.locks(), [][]string(nil))
	if flaky.failNext.Load() != 0 {
		t.Errorf("release did not retry")
	}
}

type flakyConn struct {
	sqlwh.Conn
	failNext atomic.Int32
}

func (c *flakyConn) Exec(ctx context.Context, q string, args ...any) error {
	if c.failNext.Load() > 0 && strings.HasPrefix(q, "DELETE") {
		c.failNext.Add(-1)
		return errors.New("connection reset by peer (injected)")
	}
	return c.Conn.Exec(ctx, q, args...)
}

// clock is a settable clock that lease heartbeats may read while a test
// moves it.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
