package sqlwh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// LockedError says another run holds part of what this run wants: the same
// source and an overlapping shard.
type LockedError struct {
	Source, Shard string
	Holder        string
	AcquiredAt    time.Time
	HeartbeatAt   time.Time
	ExpiresAt     time.Time
	Table         string
}

func (e *LockedError) Error() string {
	what := e.Source
	if e.Shard != "" {
		what += " shard " + e.Shard
	}
	if e.Holder == "" {
		return fmt.Sprintf("another eventaudit run took the lock on %s at the same moment; try again", what)
	}
	return fmt.Sprintf("another eventaudit run (run_id %s, started %s, last heartbeat %s) is auditing %s; "+
		"if it died, its lock expires at %s (sooner where the warehouse shows its session gone), or remove it with: DELETE FROM %s WHERE run_id = '%s'",
		e.Holder, e.AcquiredAt.UTC().Format(time.RFC3339), e.HeartbeatAt.UTC().Format(time.RFC3339), what,
		e.ExpiresAt.UTC().Format(time.RFC3339), e.Table, e.Holder)
}

// ErrLockLost means a run's lock was taken from it while it ran: its
// heartbeats failed for longer than the lock's expiry. The run must not
// commit, since another run may be auditing the same rows.
var ErrLockLost = errors.New("lost the lock on its source")

// Session is one warehouse session held for a lock's whole life. The lock
// records its ID, and heartbeats go through it, so that when the process
// dies or the server restarts, the session's end proves the lock stale.
// The lock is also taken through it, so a run needs one connection for its
// lock, however many runs share a pool.
type Session interface {
	ID() string
	Execer
	Begin(ctx context.Context) (Tx, error)
	// Gone reports whether the session named id has certainly ended; false
	// when it lives or the warehouse cannot tell.
	Gone(ctx context.Context, id string) (bool, error)
	Close() error
}

// Sessions is implemented by a Conn whose warehouse can tell a live session
// from one that has ended.
type Sessions interface {
	// Hold pins a session for a lock; nil, nil where the warehouse cannot
	// tell (Redshift shows a user only their own sessions).
	Hold(ctx context.Context) (Session, error)
}

// sessionConn is what lock-taking needs of a connection.
type sessionConn interface {
	Execer
	Begin(ctx context.Context) (Tx, error)
}

// legacyExpiry is how long a lock row written before locks recorded their
// own expiry stays valid after its heartbeat: the old default timeout.
const legacyExpiry = time.Hour

// guardShard marks the row every lock-taker of a source updates first. Two
// transactions updating one row queue (Postgres, Snowflake) or conflict
// (DuckDB), so lock-taking is serialised per source on every warehouse
// without LOCK TABLE; checking that shards do not overlap needs it, since
// no key can express overlap.
const guardShard = "*"

// HeartbeatEvery is how often a holder renews a lock of the given time to
// live: ten times per expiry, at most every 30 s.
func HeartbeatEvery(ttl time.Duration) time.Duration {
	return max(min(ttl/10, 30*time.Second), 10*time.Millisecond)
}

// Lease is a lock held by a run on its source and shard.
type Lease struct {
	sink  *Sink
	run   audit.Run
	ttl   time.Duration
	every time.Duration
	now   func() time.Time

	cleared []string

	lost     chan struct{}
	lostOnce sync.Once
	lostErr  error

	stop context.CancelFunc
	done chan struct{}

	mu   sync.Mutex
	sess Session // nil where the warehouse cannot prove a session gone
}

// Lock takes the run's lock on its source: one row in eventaudit_locks per
// running (source, shard). It conflicts with every running lock of the
// source whose shard overlaps this run's (an unsharded run overlaps them
// all). The holder renews it every HeartbeatEvery(ttl); a lock not renewed
// expires ttl after its last renewal. Staleness is judged by the expiry
// the holder wrote, never by the waiter's ttl, and a lock whose session
// the warehouse shows ended is stale at once.
func (s *Sink) Lock(ctx context.Context, run audit.Run, now func() time.Time, ttl time.Duration) (*Lease, error) {
	if err := s.EnsureTables(ctx); err != nil {
		return nil, err
	}
	l := &Lease{sink: s, run: run, ttl: ttl, every: HeartbeatEvery(ttl), now: now,
		lost: make(chan struct{}), done: make(chan struct{})}
	sessions, _ := s.WH.Conn.(Sessions)
	if sessions != nil {
		sess, err := sessions.Hold(ctx)
		if err != nil {
			return nil, fmt.Errorf("hold a session for the lock: %w", err)
		}
		l.sess = sess
	}
	if err := s.ensureGuard(ctx, l.conn(), run.Source); err != nil {
		l.closeSession()
		return nil, err
	}
	var err error
	// On DuckDB a concurrent lock-taker's guard update fails rather than
	// waits; the loser retries, then reads the winner's lock.
	for attempt := range 5 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt*attempt) * 20 * time.Millisecond)
		}
		var retry bool
		retry, err = l.take(ctx)
		if !retry {
			break
		}
	}
	if err != nil {
		l.closeSession()
		return nil, err
	}
	s.mu.Lock()
	if s.leases == nil {
		s.leases = map[string]*Lease{}
	}
	s.leases[run.RunID] = l
	s.mu.Unlock()

	hbCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = stop
	go l.heartbeat(hbCtx)
	return l, nil
}

// Store is the Sink as an audit.Store, with the clock its locks use.
type Store struct {
	*Sink
	Now func() time.Time
}

// Lock implements audit.Store.
func (s Store) Lock(ctx context.Context, run audit.Run, ttl time.Duration) (audit.Lease, error) {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	l, err := s.Sink.Lock(ctx, run, now, ttl)
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (s *Sink) lease(runID string) *Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leases[runID]
}

// ensureGuard creates the source's guard row once; a lost race to create
// it is harmless.
func (s *Sink) ensureGuard(ctx context.Context, ex Execer, source string) error {
	d := s.WH.Dialect
	p := d.Placeholder
	locks := d.Quote(s.table(LocksTable))
	q := d.SQL(`INSERT INTO %s ({source}, {shard}, {run_id}, {acquired_at}, {heartbeat_at})
SELECT CAST(%s AS %s), '%s', '', CAST(%s AS %s), CAST(%s AS %s) WHERE NOT EXISTS (SELECT 1 FROM %s WHERE {source} = %s AND {shard} = '%s')`,
		locks, p(1), d.Text, guardShard, p(2), d.Timestamp, p(3), d.Timestamp, locks, p(4), guardShard)
	t := time.Now().UTC()
	// An error is a lost race to create it (the update in take finds the
	// winner's row), unless the run was cancelled.
	_ = ex.Exec(ctx, q, source, t, t, source)
	return ctx.Err()
}

// take runs one lock-taking transaction. retry means the transaction
// conflicted with a concurrent one and may simply be tried again.
func (l *Lease) take(ctx context.Context) (retry bool, err error) {
	s := l.sink
	d := s.WH.Dialect
	locks := d.Quote(s.table(LocksTable))
	p := d.Placeholder
	run := l.run
	tx, err := l.conn().Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	if d.LockTable != "" {
		if err := tx.Exec(ctx, fmt.Sprintf(d.LockTable, locks)); err != nil {
			return false, fmt.Errorf("lock %s: %w", locks, err)
		}
	}
	t := l.now().UTC()
	if err := tx.Exec(ctx, d.SQL(`UPDATE %s SET {heartbeat_at} = %s WHERE {source} = %s AND {shard} = '%s'`,
		locks, p(1), p(2), guardShard), t, run.Source); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return l.conflict(err)
	}
	rows, err := tx.Query(ctx, d.SQL(`SELECT {shard}, {run_id}, {acquired_at}, {heartbeat_at}, {expires_at}, {holder} FROM %s
WHERE {source} = %s AND {shard} <> '%s' ORDER BY {acquired_at}`, locks, p(1), guardShard), run.Source)
	if err != nil {
		return false, fmt.Errorf("read locks: %w", err)
	}
	type lockRow struct {
		shard, runID        string
		acquired, heartbeat time.Time
		expires             *time.Time
		holder              *string
	}
	var existing []lockRow
	for rows.Next() {
		var r lockRow
		if err := rows.Scan(&r.shard, &r.runID, &r.acquired, &r.heartbeat, &r.expires, &r.holder); err != nil {
			rows.Close()
			return false, err
		}
		existing = append(existing, r)
	}
	if err := rows.Close(); err != nil {
		return false, err
	}
	var held *LockedError
	for _, r := range existing {
		expires := r.heartbeat.Add(legacyExpiry)
		if r.expires != nil {
			expires = *r.expires
		}
		why := ""
		switch {
		case !t.Before(expires):
			why = "expired at " + expires.UTC().Format(time.RFC3339)
		case r.holder != nil && *r.holder != "" && l.sess != nil:
			gone, err := l.sess.Gone(ctx, *r.holder)
			if err != nil {
				return false, fmt.Errorf("check whether the holder of a lock is alive: %w", err)
			}
			if gone {
				why = "its warehouse session " + *r.holder + " has ended"
			}
		}
		if why != "" {
			if err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s`, locks, lockRowWhere(d, 1)),
				run.Source, r.shard, r.runID); err != nil {
				return false, fmt.Errorf("clear a stale lock: %w", err)
			}
			l.cleared = append(l.cleared, fmt.Sprintf("run %s (shard %q): %s", r.runID, r.shard, why))
			continue
		}
		sh, err := audit.ParseShard(r.shard)
		if err != nil || sh.Overlaps(run.Shard) {
			if held == nil {
				held = &LockedError{Source: run.Source, Shard: r.shard, Holder: r.runID, AcquiredAt: r.acquired,
					HeartbeatAt: r.heartbeat, ExpiresAt: expires, Table: locks}
			}
		}
	}
	if held != nil {
		return false, held
	}
	if err := tx.BulkInsert(ctx, s.table(LocksTable), LocksColumns, [][]any{{run.Source, run.Shard.String(), run.RunID, t, t,
		t.Add(l.ttl), int64(l.every / time.Second), l.holder()}}); err != nil {
		return l.conflict(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return l.conflict(err)
	}
	return false, nil
}

// lockRowWhere renders the condition naming one lock row; its three
// parameters, numbered from first, are the source, the shard and the run id.
func lockRowWhere(d *Dialect, first int) string {
	p := d.Placeholder
	return d.SQL(`{source} = %s AND {shard} = %s AND {run_id} = %s`, p(first), p(first+1), p(first+2))
}

// conflict sorts a failed write while taking the lock: a concurrent
// lock-taker's (DuckDB fails the slower of two writes to one row or key;
// Redshift aborts one of two serializable transactions) is worth another
// try; anything else is an error of its own.
func (l *Lease) conflict(err error) (retry bool, _ error) {
	if l.sink.WH.Dialect.IsConflict(err) {
		return true, fmt.Errorf("%w (%v)", &LockedError{Source: l.run.Source, Shard: l.run.Shard.String()}, err)
	}
	return false, fmt.Errorf("take the lock on %s: %w", l.run.Source, err)
}

// conn is the held session, or the pool where there is none.
func (l *Lease) conn() sessionConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess != nil {
		return l.sess
	}
	return l.sink.WH.Conn
}

func (l *Lease) holder() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess == nil {
		return ""
	}
	return l.sess.ID()
}

func (l *Lease) closeSession() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess != nil {
		_ = l.sess.Close()
		l.sess = nil
	}
}

// Cleared lists the stale locks taking this one cleared, for the log.
func (l *Lease) Cleared() []string { return l.cleared }

// Lost is closed when the lock was taken from the run.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err says why the lock was lost; nil while it is held.
func (l *Lease) Err() error {
	select {
	case <-l.lost:
		return l.lostErr
	default:
		return nil
	}
}

func (l *Lease) markLost(err error) {
	l.lostOnce.Do(func() {
		l.lostErr = err
		close(l.lost)
	})
}

// heartbeat renews the lock until stopped. A renewal that fails is retried
// on a fresh session; once renewals have failed for the lock's whole time
// to live, another run may have taken it over, and the lease is lost.
func (l *Lease) heartbeat(ctx context.Context) {
	defer close(l.done)
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	lastOK := l.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := l.renew(ctx)
		switch {
		case err == nil:
			lastOK = l.now()
		case errors.Is(err, ErrLockLost):
			l.markLost(err)
			return
		case ctx.Err() != nil:
			return
		case l.now().Sub(lastOK) >= l.ttl:
			l.markLost(fmt.Errorf("%w: its heartbeats have failed since %s: %v", ErrLockLost, lastOK.UTC().Format(time.RFC3339), err))
			return
		default:
			// Reconnect: the session may have died with the server.
			if sessions, ok := l.sink.WH.Conn.(Sessions); ok {
				l.closeSession()
				if sess, err := sessions.Hold(ctx); err == nil && sess != nil {
					l.mu.Lock()
					l.sess = sess
					l.mu.Unlock()
				}
			}
		}
	}
}

// renew pushes the lock's expiry forward and checks the row is still the
// run's.
func (l *Lease) renew(ctx context.Context) error {
	s := l.sink
	d := s.WH.Dialect
	p := d.Placeholder
	locks := d.Quote(s.table(LocksTable))
	t := l.now().UTC()
	l.mu.Lock()
	var ex Execer = s.WH.Conn
	holder := ""
	if l.sess != nil {
		ex, holder = l.sess, l.sess.ID()
	}
	l.mu.Unlock()
	if err := ex.Exec(ctx, d.SQL(`UPDATE %s SET {heartbeat_at} = %s, {expires_at} = %s, {holder} = %s WHERE %s`,
		locks, p(1), p(2), p(3), lockRowWhere(d, 4)),
		t, t.Add(l.ttl), holder, l.run.Source, l.run.Shard.String(), l.run.RunID); err != nil {
		return err
	}
	return l.verify(ctx, s.WH.Conn)
}

// querier is what verify needs of a Conn or a Tx.
type querier interface {
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// verify checks that the run still holds its lock.
func (l *Lease) verify(ctx context.Context, q querier) error {
	if err := l.Err(); err != nil {
		return err
	}
	s := l.sink
	d := s.WH.Dialect
	rows, err := q.Query(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE %s`, d.Quote(s.table(LocksTable)), lockRowWhere(d, 1)),
		l.run.Source, l.run.Shard.String(), l.run.RunID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n == 0 {
		err := fmt.Errorf("%w: another run cleared it as stale; nothing of this run was written", ErrLockLost)
		l.markLost(err)
		return err
	}
	return nil
}

// Release stops the heartbeats and deletes the lock. It runs even when the
// run's context was cancelled, and retries on fresh connections with
// backoff, since it often follows a failure of the warehouse itself. Its
// error says what becomes of the lock if it could not be removed.
func (l *Lease) Release(ctx context.Context) error {
	l.stop()
	<-l.done
	l.closeSession()
	l.sink.mu.Lock()
	delete(l.sink.leases, l.run.RunID)
	l.sink.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	s := l.sink
	d := s.WH.Dialect
	q := fmt.Sprintf(`DELETE FROM %s WHERE %s`, d.Quote(s.table(LocksTable)), lockRowWhere(d, 1))
	var err error
	for attempt, wait := 0, 200*time.Millisecond; attempt < 6; attempt, wait = attempt+1, wait*2 {
		if err = s.WH.Conn.Exec(ctx, q, l.run.Source, l.run.Shard.String(), l.run.RunID); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	return fmt.Errorf("release the lock of run %s on %s: %w; it expires at the latest %s after its last heartbeat, and sooner where the warehouse shows its session gone",
		l.run.RunID, l.run.Source, err, l.ttl)
}

// LastWindowEnd is where the previous completed run of the same source,
// shard and label stopped: the watermark of --incremental. ok is false when
// there is none (or no result tables yet).
func (s *Sink) LastWindowEnd(ctx context.Context, run audit.Run) (end time.Time, ok bool, err error) {
	if exists, err := s.HasResults(ctx); err != nil || !exists {
		return end, false, err
	}
	have, err := s.columns(ctx, RunsTable)
	if err != nil {
		return end, false, err
	}
	d := s.WH.Dialect
	p := d.Placeholder
	q, args := d.SQL(`SELECT MAX({window_end}) FROM %s WHERE {source} = %s AND {shard} = %s`,
		s.WH.Dialect.Quote(s.table(RunsTable)), p(1), p(2)), []any{run.Source, run.Shard.String()}
	switch {
	case have["label"]:
		q += d.SQL(` AND COALESCE({label}, '') = %s`, p(3))
		args = append(args, run.Label)
	case run.Label != "":
		// Tables from before labels hold unlabelled runs only (a dry run
		// does not add the column).
		return end, false, nil
	}
	var last *time.Time
	if err := queryOne(ctx, s.WH, q, args, &last); err != nil {
		return end, false, fmt.Errorf("read the last run of %s: %w", run.Source, err)
	}
	if last == nil {
		return end, false, nil
	}
	return last.UTC(), true, nil
}
