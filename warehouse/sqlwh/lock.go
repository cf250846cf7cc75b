package sqlwh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// LockedError says another run holds the source (and shard) this run wants.
type LockedError struct {
	Source, Shard string
	Holder        string
	AcquiredAt    time.Time
	HeartbeatAt   time.Time
	Stale         time.Duration
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
		"if it died, its lock goes stale %s after its last heartbeat, or remove it with: DELETE FROM %s WHERE run_id = '%s'",
		e.Holder, e.AcquiredAt.UTC().Format(time.RFC3339), e.HeartbeatAt.UTC().Format(time.RFC3339), what, e.Stale, e.Table, e.Holder)
}

// Lock takes the run's lock on its source: one row in eventaudit_locks per
// running (source, shard). An unsharded run conflicts with every shard of
// its source. A lock whose heartbeat is older than stale is taken over, so
// a crashed run blocks the next one for at most that long. The lock is
// refreshed every stale/4 until release is called.
func (s *Sink) Lock(ctx context.Context, run audit.Run, now func() time.Time, stale time.Duration) (release func(), err error) {
	if err := s.EnsureTables(ctx); err != nil {
		return nil, err
	}
	d := s.WH.Dialect
	locks := d.Quote(s.table(LocksTable))
	p := d.Placeholder
	shard := run.Shard.String()
	tx, err := s.WH.Conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if d.LockTable != "" {
		if err := tx.Exec(ctx, fmt.Sprintf(d.LockTable, locks)); err != nil {
			return nil, fmt.Errorf("lock %s: %w", locks, err)
		}
	}
	t := now().UTC()
	if err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE "heartbeat_at" < %s`, locks, p(1)), t.Add(-stale)); err != nil {
		return nil, fmt.Errorf("clear stale locks: %w", err)
	}
	rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT "run_id", "shard", "acquired_at", "heartbeat_at" FROM %s
WHERE "source" = %s AND ("shard" = %s OR "shard" = '' OR %s = '') ORDER BY "acquired_at"`, locks, p(1), p(2), p(3)),
		run.Source, shard, shard)
	if err != nil {
		return nil, fmt.Errorf("read locks: %w", err)
	}
	held := &LockedError{Source: run.Source, Stale: stale, Table: locks}
	found := false
	for rows.Next() && !found {
		if err := rows.Scan(&held.Holder, &held.Shard, &held.AcquiredAt, &held.HeartbeatAt); err != nil {
			rows.Close()
			return nil, err
		}
		found = true
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if found {
		return nil, held
	}
	if err := tx.BulkInsert(ctx, s.table(LocksTable), LocksColumns, [][]any{{run.Source, shard, run.RunID, t, t}}); err != nil {
		return nil, s.conflict(run, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, s.conflict(run, err)
	}

	hbCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(max(stale/4, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-tick.C:
				_ = s.WH.Conn.Exec(hbCtx, fmt.Sprintf(`UPDATE %s SET "heartbeat_at" = %s WHERE "source" = %s AND "shard" = %s AND "run_id" = %s`,
					locks, p(1), p(2), p(3), p(4)), now().UTC(), run.Source, shard, run.RunID)
			}
		}
	}()
	return func() {
		stop()
		<-done
		// Release even when the run's context was cancelled.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = s.WH.Conn.Exec(rctx, fmt.Sprintf(`DELETE FROM %s WHERE "source" = %s AND "shard" = %s AND "run_id" = %s`,
			locks, p(1), p(2), p(3)), run.Source, shard, run.RunID)
	}, nil
}

// conflict reports a lost race: where a primary key rather than LOCK
// serialises lock-taking, the slower of two inserts fails.
func (s *Sink) conflict(run audit.Run, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w (%v)", &LockedError{Source: run.Source, Shard: run.Shard.String()}, err)
}

// LastWindowEnd is where the previous completed run of the same source and
// shard stopped: the watermark of --incremental. ok is false when there is
// none (or no result tables yet).
func (s *Sink) LastWindowEnd(ctx context.Context, source string, shard audit.Shard) (end time.Time, ok bool, err error) {
	q, args := s.WH.Dialect.Columns(s.Schema, RunsTable)
	cols, err := s.WH.Conn.Query(ctx, q, args...)
	if err != nil {
		return end, false, err
	}
	exists := cols.Next()
	if err := cols.Close(); err != nil || !exists {
		return end, false, err
	}
	p := s.WH.Dialect.Placeholder
	rows, err := s.WH.Conn.Query(ctx, fmt.Sprintf(`SELECT MAX("window_end") FROM %s WHERE "source" = %s AND "shard" = %s`,
		s.WH.Dialect.Quote(s.table(RunsTable)), p(1), p(2)), source, shard.String())
	if err != nil {
		return end, false, fmt.Errorf("read the last run of %s: %w", source, err)
	}
	defer rows.Close()
	var last *time.Time
	for rows.Next() {
		if err := rows.Scan(&last); err != nil {
			return end, false, err
		}
	}
	if err := rows.Err(); err != nil || last == nil {
		return end, false, err
	}
	return last.UTC(), true, nil
}
