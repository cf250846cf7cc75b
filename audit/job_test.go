package audit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
)

// fakeStore records the order of a job's calls.
type fakeStore struct {
	memSink
	calls   []string
	last    time.Time
	hasLast bool
	lease   *fakeLease
	lockErr error
	adopted []string
}

type fakeLease struct {
	lost       chan struct{}
	err        error
	releaseErr error
	released   bool
}

func (l *fakeLease) Lost() <-chan struct{}         { return l.lost }
func (l *fakeLease) Err() error                    { return l.err }
func (l *fakeLease) Cleared() []string             { return []string{"run old (shard \"\"): expired"} }
func (l *fakeLease) Release(context.Context) error { l.released = true; return l.releaseErr }

func (s *fakeStore) Lock(_ context.Context, run audit.Run, _ time.Duration) (audit.Lease, error) {
	s.calls = append(s.calls, "lock")
	if s.lockErr != nil {
		return nil, s.lockErr
	}
	return s.lease, nil
}
func (s *fakeStore) AdoptSource(_ context.Context, _ string, spellings []string) error {
	s.calls = append(s.calls, "adopt")
	s.adopted = spellings
	return nil
}
func (s *fakeStore) LastWindowEnd(context.Context, audit.Run) (time.Time, bool, error) {
	s.calls = append(s.calls, "watermark")
	return s.last, s.hasLast, nil
}
func (s *fakeStore) Previous(context.Context, audit.Run) (*audit.Previous, error) {
	s.calls = append(s.calls, "previous")
	return nil, nil
}
func (s *fakeStore) Begin(ctx context.Context, run audit.Run) (audit.SinkTx, error) {
	s.calls = append(s.calls, "begin")
	return s.memSink.Begin(ctx, run)
}

func newJob(store *fakeStore, src audit.Source, plan audit.WindowPlan) *audit.Job {
	return &audit.Job{
		Auditor: &audit.Auditor{Source: src, Workers: 1, Now: func() time.Time { return window.Start },
			Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject}},
		Store: store, Plan: plan, LockTTL: time.Minute,
	}
}

func someRows() *audittest.Source {
	return &audittest.Source{Rows: audittest.Generate(audittest.Options{N: 50, Seed: 1}).Rows, BatchSize: 10}
}

// The lock comes first: the watermark is read only once no other run can
// move it, and the lock is given back at the end.
func TestJobLocksBeforePlanning(t *testing.T) {
	store := &fakeStore{lease: &fakeLease{lost: make(chan struct{})}, last: window.Start.Add(time.Hour), hasLast: true}
	job := newJob(store, someRows(), audit.WindowPlan{Incremental: true, Lookback: 30 * time.Minute, End: window.End})
	job.Spellings = []string{"events"}
	s, err := job.Run(context.Background(), audit.Run{RunID: "r", Source: "main.events"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(store.calls, " "); got != "lock adopt watermark previous begin" {
		t.Errorf("calls %q", got)
	}
	if want := window.Start.Add(30 * time.Minute); !s.Run.Window.Start.Equal(want) {
		t.Errorf("window starts %v, want the watermark minus the lookback, %v", s.Run.Window.Start, want)
	}
	if !store.lease.released || len(store.runs) != 1 || strings.Join(store.adopted, ",") != "events" {
		t.Errorf("released %v, committed runs %d, adopted %v", store.lease.released, len(store.runs), store.adopted)
	}
}

// blockingSource yields one batch, then waits for the run to be cancelled.
type blockingSource struct{ started chan struct{} }

func (b *blockingSource) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

// A run whose lock is taken from it stops, says why, and commits nothing.
func TestJobStopsWhenItsLockIsLost(t *testing.T) {
	lost := errors.New("lost the lock on its source: another run cleared it as stale")
	store := &fakeStore{lease: &fakeLease{lost: make(chan struct{}), err: lost}}
	src := &blockingSource{started: make(chan struct{})}
	job := newJob(store, src, audit.WindowPlan{Fixed: window})
	go func() {
		<-src.started
		close(store.lease.lost)
	}()
	_, err := job.Run(context.Background(), audit.Run{RunID: "r", Source: "events"})
	if !errors.Is(err, lost) {
		t.Fatalf("want the lease's reason, got %v", err)
	}
	if len(store.runs) != 0 || len(store.committed) != 0 {
		t.Errorf("a run that lost its lock committed %d runs", len(store.runs))
	}
}

// A lock that could not be given back is logged, not the run's failure:
// its results are committed, and the lock clears by itself.
func TestJobLogsAFailedRelease(t *testing.T) {
	var log bytes.Buffer
	store := &fakeStore{lease: &fakeLease{lost: make(chan struct{}), releaseErr: errors.New("connection refused")}}
	job := newJob(store, someRows(), audit.WindowPlan{Fixed: window})
	job.Logger = slog.New(slog.NewTextHandler(&log, nil))
	if _, err := job.Run(context.Background(), audit.Run{RunID: "r", Source: "events"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lock not released", "connection refused", "cleared a stale lock"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestJobDryRunTakesNoLockAndWritesNothing(t *testing.T) {
	store := &fakeStore{lockErr: errors.New("must not lock")}
	job := newJob(store, someRows(), audit.WindowPlan{Fixed: window})
	job.DryRun = true
	if _, err := job.Run(context.Background(), audit.Run{RunID: "r", Source: "events"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(store.calls, " "); got != "previous" {
		t.Errorf("a dry run called %q", got)
	}
}

func TestWindowPlan(t *testing.T) {
	t0 := window.Start
	for _, c := range []struct {
		name    string
		plan    audit.WindowPlan
		last    time.Time
		ok      bool
		want    audit.Window
		wantErr error
	}{
		{"fixed", audit.WindowPlan{Fixed: window}, time.Time{}, false, window, nil},
		{"continues behind the watermark", audit.WindowPlan{Incremental: true, Lookback: time.Hour, End: t0.Add(5 * time.Hour)},
			t0.Add(3 * time.Hour), true, audit.Window{Start: t0.Add(2 * time.Hour), End: t0.Add(5 * time.Hour)}, nil},
		{"first run from its start", audit.WindowPlan{Incremental: true, First: t0, End: t0.Add(time.Hour)},
			time.Time{}, false, audit.Window{Start: t0, End: t0.Add(time.Hour)}, nil},
		{"first run with no start", audit.WindowPlan{Incremental: true, End: t0}, time.Time{}, false, audit.Window{}, audit.ErrNoWatermark},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.plan.Plan("events", c.last, c.ok)
			if !errors.Is(err, c.wantErr) || got != c.want {
				t.Errorf("got %v, %v; want %v, %v", got, err, c.want, c.wantErr)
			}
			if c.wantErr != nil && !audit.IsConfig(err) {
				t.Errorf("a missing start is a configuration error: %v", err)
			}
		})
	}
	if _, err := (audit.WindowPlan{Incremental: true, End: t0}).Plan("events", t0.Add(time.Hour), true); err == nil ||
		!strings.Contains(err.Error(), "the window is empty") {
		t.Errorf("a watermark past the end: want an empty-window error, got %v", err)
	}
}
