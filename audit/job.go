package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Store is where a Job keeps its results and coordinates with other runs
// of the same source: the sink, the lock, the watermark and the history.
// Warehouses implement it.
type Store interface {
	Sink
	// Lock takes the run's lock on its source and shard. The lock expires
	// ttl after the holder's last renewal; the holder renews it until
	// Release.
	Lock(ctx context.Context, run Run, ttl time.Duration) (Lease, error)
	// AdoptSource renames history recorded under older spellings of a
	// source to its canonical name.
	AdoptSource(ctx context.Context, canonical string, spellings []string) error
	// LastWindowEnd is where the last completed run of run's source, shard
	// and label ended; ok is false when there is none.
	LastWindowEnd(ctx context.Context, run Run) (end time.Time, ok bool, err error)
	// Previous is the last completed run like run, with its stats: the same
	// source, shard, label and window length, so that an hour is never
	// compared with a day. nil when there is none.
	Previous(ctx context.Context, run Run) (*Previous, error)
}

// Lease is a held lock.
type Lease interface {
	// Lost is closed when the lock was taken from the run; Err says why.
	Lost() <-chan struct{}
	Err() error
	// Cleared lists the stale locks taking this one cleared.
	Cleared() []string
	Release(ctx context.Context) error
}

// ErrNoWatermark means an incremental run found no earlier run to continue
// from and was given no start.
var ErrNoWatermark = errors.New("no earlier run to continue from")

// WindowPlan is how a Job chooses its window once it holds the lock.
type WindowPlan struct {
	// Fixed is the window of a run that is not incremental.
	Fixed Window
	// Incremental runs start at the last completed run's end minus
	// Lookback (late events), or at First when there is no such run, and
	// end at End.
	Incremental bool
	First       time.Time
	Lookback    time.Duration
	End         time.Time
}

// Plan returns the window, given the watermark (ok is false without one).
func (p WindowPlan) Plan(source string, last time.Time, ok bool) (Window, error) {
	if !p.Incremental {
		return p.Fixed, nil
	}
	w := Window{Start: p.First, End: p.End}
	switch {
	case ok:
		w.Start = last.Add(-p.Lookback)
	case p.First.IsZero():
		return Window{}, Configf(fmt.Errorf("the first incremental run of %s needs a start: %w", source, ErrNoWatermark))
	}
	w.Start, w.End = w.Start.UTC(), w.End.UTC()
	if !w.Start.Before(w.End) {
		return Window{}, Configf(fmt.Errorf("the window is empty: it would start at %s and end at %s",
			w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339)))
	}
	return w, nil
}

// Job runs one whole audit of a source: it takes the source's lock, plans
// the window, reads the previous run for the trend, scans, validates and
// commits, and gives the lock back. A run whose lock is taken from it
// stops and commits nothing.
type Job struct {
	// Auditor scans and validates; Job sets its Sink to Store unless
	// DryRun.
	Auditor *Auditor
	Store   Store
	Plan    WindowPlan
	// DryRun takes no lock and writes nothing.
	DryRun bool
	// LockTTL is how long the run's lock outlives its last renewal.
	LockTTL time.Duration
	// Spellings are older names of the source whose history becomes its.
	Spellings []string
	Logger    *slog.Logger
	// Planned, when set, is told the window before the scan starts.
	Planned func(ctx context.Context, w Window)
}

// Run audits run.Source (and run.Shard); run's Window is planned here.
func (j *Job) Run(ctx context.Context, run Run) (summary *Summary, err error) {
	logger := j.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := *j.Auditor
	a.Sink = nil
	runCtx := ctx
	if !j.DryRun {
		a.Sink = j.Store
		// The lock comes before the window: an incremental run reads its
		// watermark only once no other run of the source can move it.
		lease, err := j.Store.Lock(ctx, run, j.LockTTL)
		if err != nil {
			return nil, err
		}
		for _, c := range lease.Cleared() {
			logger.Warn("cleared a stale lock", "source", run.Source, "lock", c)
		}
		defer func() {
			if err := lease.Release(ctx); err != nil {
				logger.Warn("lock not released", "err", err)
			}
		}()
		var cancel context.CancelCauseFunc
		runCtx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			select {
			case <-lease.Lost():
				cancel(lease.Err())
			case <-runCtx.Done():
			}
		}()
		if err := j.Store.AdoptSource(ctx, run.Source, j.Spellings); err != nil {
			return nil, err
		}
	}
	last, ok := time.Time{}, false
	if j.Plan.Incremental {
		if last, ok, err = j.Store.LastWindowEnd(ctx, run); err != nil {
			return nil, err
		}
	}
	if run.Window, err = j.Plan.Plan(run.Source, last, ok); err != nil {
		return nil, err
	}
	if j.Planned != nil {
		j.Planned(runCtx, run.Window)
	}
	logger.Info("audit started", "source", run.Source, "window_start", run.Window.Start, "window_end", run.Window.End,
		"shard", run.Shard.String(), "dry_run", j.DryRun)
	// Read before the run: a re-run of a window compares with the run it
	// replaces. A trend is a nicety; failing to read one is only logged.
	prev, err := j.Store.Previous(ctx, run)
	if err != nil {
		logger.Warn("could not read the previous run for the trend", "err", err)
	}
	summary, err = a.Run(runCtx, run)
	if err != nil {
		if cause := context.Cause(runCtx); ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
			return nil, cause
		}
		return nil, err
	}
	summary.WithPrevious(prev)
	return summary, nil
}
