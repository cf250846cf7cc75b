package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/google/go-cmp/cmp"
)

// memSink records committed runs; uncommitted writes vanish on rollback.
type memSink struct {
	committed []audit.Violation
	runs      []audit.Run
	stats     []audit.EventStats
	// properties are written before commit: a test that rolls back sees them.
	properties []audit.PropertyStats
}

type memTx struct {
	s       *memSink
	pending []audit.Violation
}

func (s *memSink) Begin(context.Context, audit.Run) (audit.SinkTx, error) { return &memTx{s: s}, nil }
func (t *memTx) WriteViolations(_ context.Context, vs []audit.Violation) error {
	t.pending = append(t.pending, vs...)
	return nil
}
func (t *memTx) Commit(_ context.Context, run audit.Run, stats []audit.EventStats) error {
	t.s.committed = append(t.s.committed, t.pending...)
	t.s.runs = append(t.s.runs, run)
	t.s.stats = append(t.s.stats, stats...)
	return nil
}
func (t *memTx) Rollback(context.Context) error { return nil }
func (t *memTx) WriteProperties(_ context.Context, ps []audit.PropertyStats) error {
	t.s.properties = append(t.s.properties, ps...)
	return nil
}

var window = audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}

func demoCatalog() *audittest.Catalog {
	c := audittest.NewCatalog()
	c.Add("Product Viewed", &audittest.Schema{SchemaID: "pv", Required: []string{"price"}, Types: map[string]string{"price": "number"}})
	c.Add("Product Added", &audittest.Schema{SchemaID: "pa", Types: map[string]string{"quantity": "integer"}})
	c.Add("Page", &audittest.Schema{SchemaID: "page"})
	return c
}

func runCorpus(t *testing.T, workers int, rows []audit.Row) (*audit.Summary, *memSink) {
	t.Helper()
	sink := &memSink{}
	a := &audit.Auditor{
		Source:  &audittest.Source{Rows: rows, BatchSize: 37},
		Sink:    sink,
		Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject},
		Workers: workers,
		Now:     func() time.Time { return audittest.CorpusStart },
	}
	s, err := a.Run(context.Background(), audit.Run{RunID: "r", Source: "t", Window: window})
	if err != nil {
		t.Fatal(err)
	}
	return s, sink
}

func violationKeys(vs []audit.Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%s|%s|%s|%s|%s|%s", v.MessageID, v.SchemaID, v.Keyword, v.InstancePath, v.Message, v.Value)
	}
	slices.Sort(out)
	return out
}

func TestWorkersDoNotChangeResults(t *testing.T) {
	rows := audittest.Generate(audittest.Options{N: 2000, BadRate: 0.1, Seed: 7}).Rows
	s1, sink1 := runCorpus(t, 1, rows)
	if s1.Run.RowsInvalid == 0 {
		t.Fatal("corpus produced no violations; the comparison would prove nothing")
	}
	for _, workers := range []int{2, 8} {
		sN, sinkN := runCorpus(t, workers, rows)
		if got, want := violationKeys(sinkN.committed), violationKeys(sink1.committed); !slices.Equal(got, want) {
			t.Errorf("workers=%d: %d violations, want the %d of workers=1", workers, len(got), len(want))
		}
		if fmt.Sprint(sinkN.stats) != fmt.Sprint(sink1.stats) {
			t.Errorf("workers=%d: stats differ:\n%v\n%v", workers, sinkN.stats, sink1.stats)
		}
		if diff := cmp.Diff(s1.Events, sN.Events); diff != "" {
			t.Errorf("workers=%d: summary differs (-1 worker +%d):\n%s", workers, workers, diff)
		}
	}
}

func TestRunCountsAndExample(t *testing.T) {
	at := audittest.CorpusStart.Add(time.Minute)
	row := func(id, payload string) audit.Row {
		return audit.Row{MessageID: id, ReceivedAt: at, Payload: []byte(payload)}
	}
	rows := []audit.Row{
		row("b", `{"type":"track","event":"Product Viewed","properties":{"price":"9"}}`),
		row("a", `{"type":"track","event":"Product Viewed","properties":{"price":"1"}}`),
		row("c", `{"type":"track","event":"Product Viewed","properties":{}}`),
		row("d", `{"type":"track","event":"Product Viewed","properties":{"price":3}}`),
		row("e", `{"type":"track","event":"Mystery"}`),
		{MessageID: "f", ReceivedAt: at.Add(-time.Hour * 48)}, // outside the window
	}
	s, sink := runCorpus(t, 3, rows)
	r := s.Run
	if got := []int64{r.RowsScanned, r.RowsInvalid, r.RowsUnplanned, r.Violations}; fmt.Sprint(got) != "[5 3 1 3]" {
		t.Fatalf("scanned/invalid/unplanned/violations = %v, want [5 3 1 3]", got)
	}
	pv := s.Events[0]
	if pv.Name != "Product Viewed" || pv.Rows != 4 || pv.InvalidRows != 3 {
		t.Fatalf("first event = %+v", pv)
	}
	if pv.TopCheck != (audit.Check{Keyword: "type", Path: "/properties/price"}) || pv.TopCheckCount != 2 {
		t.Errorf("top check = %+v ×%d, want type at /properties/price ×2", pv.TopCheck, pv.TopCheckCount)
	}
	if pv.Example == nil || pv.Example.MessageID != "a" || pv.Example.Value != `"1"` {
		t.Errorf("example = %+v, want message a with value \"1\"", pv.Example)
	}
	if len(sink.runs) != 1 || sink.runs[0].Status != audit.StatusPassed || sink.runs[0].RowsScanned != 5 {
		t.Errorf("committed run = %+v", sink.runs)
	}
}

func TestFailuresRollBack(t *testing.T) {
	rows := audittest.Generate(audittest.Options{N: 500, BadRate: 0.5, Seed: 3}).Rows
	for _, tc := range []struct {
		name string
		src  audit.Source
		sink audit.Sink
	}{
		{"scan fails", &audittest.Source{Rows: rows, BatchSize: 10, FailAfter: 5}, &memSink{}},
		{"write fails", &audittest.Source{Rows: rows, BatchSize: 10}, audittest.FailingSink(&memSink{}, 3, false)},
		{"commit fails", &audittest.Source{Rows: rows, BatchSize: 10}, audittest.FailingSink(&memSink{}, 0, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &audit.Auditor{Source: tc.src, Sink: tc.sink, Workers: 4,
				Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject}}
			_, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: window})
			if err == nil || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("want the injected error, got %v", err)
			}
			var inner *memSink
			switch s := tc.sink.(type) {
			case *memSink:
				inner = s
			case *audittest.HookSink:
				inner = s.Sink.(*memSink)
			}
			if len(inner.committed) != 0 || len(inner.runs) != 0 {
				t.Errorf("a failed run committed %d violations and %d runs", len(inner.committed), len(inner.runs))
			}
		})
	}
}

func TestCancelStopsTheScan(t *testing.T) {
	rows := audittest.Generate(audittest.Options{N: 5000, Seed: 3}).Rows
	ctx, cancel := context.WithCancel(context.Background())
	scanned := int64(0)
	a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: 10}, Sink: &memSink{}, Workers: 2,
		Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject},
		Progress: func(n int64) {
			scanned = n
			if n >= 100 {
				cancel()
			}
		}}
	_, err := a.Run(ctx, audit.Run{RunID: "r", Window: window})
	if err != context.Canceled {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if scanned >= int64(len(rows)) {
		t.Errorf("the scan ran to the end (%d rows) after cancel", scanned)
	}
}

func TestThresholds(t *testing.T) {
	th, err := audit.ParseThresholds([]string{"invalid_rate=0.01", "unplanned=5,violations=100"})
	if err != nil {
		t.Fatal(err)
	}
	s := &audit.Summary{Run: audit.Run{RowsScanned: 1000, RowsInvalid: 10, RowsUnplanned: 6, Violations: 100}}
	got := fmt.Sprint(th.Check(s))
	if got != "[unplanned 6 > 5]" {
		t.Errorf("breaches = %s; invalid_rate 0.01 and violations 100 are at, not over, their limits", got)
	}
	for _, bad := range []string{"invalid_rate", "speed=1", "invalid_rate=-1", "violations=lots",
		"freshness=2", "freshness=-1h", "duplicate_rate=5", "invalid_rate=NaN", "min_rows=Inf"} {
		if _, err := audit.ParseThresholds([]string{bad}); err == nil {
			t.Errorf("ParseThresholds(%q) accepted", bad)
		}
	}
}

// Freshness is the age of the newest received_at when the run started;
// an empty source is infinitely stale, not fresh.
func TestFreshnessAndDuplicateThresholds(t *testing.T) {
	th, err := audit.ParseThresholds([]string{"freshness=90m,duplicate_rate=0.01"})
	if err != nil {
		t.Fatal(err)
	}
	started := window.End.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		latest time.Time
		dups   int64
		want   string
	}{
		{"fresh, no duplicates", window.End.Add(-29 * time.Minute), 0, "[]"},
		{"exactly at the limit", window.End.Add(-30 * time.Minute), 10, "[]"},
		{"stale", window.End.Add(-26*time.Hour - 2*time.Minute), 0, "[freshness: newest received_at 1d3h old > 1h30m]"},
		{"empty source", time.Time{}, 0, "[freshness: newest received_at no rows at all > 1h30m]"},
		{"duplicates", window.End, 11, "[duplicate_rate 0.011 > 0.01]"},
	} {
		s := &audit.Summary{Run: audit.Run{StartedAt: started, RowsScanned: 1000, LatestReceivedAt: tc.latest, DuplicateRows: tc.dups}}
		if got := fmt.Sprint(th.Check(s)); got != tc.want {
			t.Errorf("%s: breaches %s, want %s", tc.name, got, tc.want)
		}
	}
}

// An auditor measures a VitalSource's vitals, and --warn-on marks the run
// warned without failing it; a failed measurement fails the run, whether
// it ran before the scan or beside it.
func TestWarningsAndVitals(t *testing.T) {
	rows := audittest.Generate(audittest.Options{N: 200, BadRate: 0.1, Seed: 3}).Rows
	latest := window.End.Add(-time.Minute)
	for _, beside := range []bool{false, true} {
		t.Run(fmt.Sprintf("beside=%v", beside), func(t *testing.T) {
			src := &vitalSource{Source: &audittest.Source{Rows: rows, BatchSize: 50}, v: audit.Vitals{Latest: latest, Duplicates: 4}, beside: beside}
			sink := &memSink{}
			a := &audit.Auditor{Source: src, Sink: sink, Workers: 2, Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject},
				Thresholds: audit.Thresholds{audit.MetricInvalidRate: 0.5}, Warnings: audit.Thresholds{audit.MetricInvalidRate: 0.01, audit.MetricDuplicateRate: 0.01},
				Now: func() time.Time { return window.End }}
			s, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: window})
			if err != nil {
				t.Fatal(err)
			}
			if s.Run.Status != audit.StatusWarned || len(s.Breaches) != 0 || len(s.Warnings) != 2 {
				t.Errorf("status %s, breaches %v, warnings %v; want warned with invalid_rate and duplicate_rate", s.Run.Status, s.Breaches, s.Warnings)
			}
			if !s.Run.LatestReceivedAt.Equal(latest) || s.Run.DuplicateRows != 4 || src.asked != window {
				t.Errorf("vitals %v %d (asked for %v), want %v 4 for the run's window", s.Run.LatestReceivedAt, s.Run.DuplicateRows, src.asked, latest)
			}
			src.err = errors.New("connection reset")
			sink.committed = nil
			if _, err := a.Run(context.Background(), audit.Run{RunID: "r2", Window: window}); err == nil || !strings.Contains(err.Error(), "connection reset") {
				t.Errorf("a failed measurement must fail the run, not report it fresh: %v", err)
			}
			if len(sink.committed) != 0 {
				t.Errorf("a run whose vitals failed committed %d violations", len(sink.committed))
			}
		})
	}
}

// A server's vitals are measured while the window is scanned, and an
// embedded engine's before the scan starts: counting duplicates there
// needs memory the scan's would add to.
func TestVitalsRunBesideTheScanOnlyOnAServer(t *testing.T) {
	rows := audittest.Generate(audittest.Options{N: 200, Seed: 3}).Rows
	for _, beside := range []bool{false, true} {
		scanning := make(chan struct{})
		src := &vitalSource{Source: &audittest.Source{Rows: rows, BatchSize: 50}, beside: beside, scanning: scanning}
		var seen bool
		src.measure = func(ctx context.Context) error {
			if !beside { // has the scan started by now?
				select {
				case <-scanning:
					seen = true
				default:
				}
				return nil
			}
			select {
			case <-scanning:
				seen = true
			case <-time.After(10 * time.Second): // the scan never started
			}
			return nil
		}
		a := &audit.Auditor{Source: src, Workers: 1, Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject}}
		if _, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: window}); err != nil {
			t.Fatal(err)
		}
		if seen != beside {
			t.Errorf("beside=%v: vitals saw the scan running: %v", beside, seen)
		}
	}
}

// At --log-level debug a run says how long each of its phases took, so an
// operator can see where a slow night's time went: the vitals, the scan
// and judging, the commit.
func TestRunLogsItsPhasesAtDebug(t *testing.T) {
	rows := audittest.Generate(audittest.Options{N: 200, BadRate: 0.1, Seed: 3}).Rows
	var logs bytes.Buffer
	a := &audit.Auditor{Source: &vitalSource{Source: &audittest.Source{Rows: rows, BatchSize: 50}, v: audit.Vitals{Duplicates: 4}},
		Sink: &memSink{}, Workers: 2, Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if _, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: window}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`msg="vitals measured" beside_scan=false duplicates=4 took=`,
		`msg="window scanned and judged" rows_fetched=200 workers=2 took=`, `msg="results committed" took=`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the debug log lacks %q:\n%s", want, logs.String())
		}
	}
	logs.Reset()
	a.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := a.Run(context.Background(), audit.Run{RunID: "r2", Window: window}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "took=") {
		t.Errorf("phase timings belong to the debug level, but the info log has them:\n%s", logs.String())
	}
}

type vitalSource struct {
	*audittest.Source
	v      audit.Vitals
	err    error
	asked  audit.Window
	beside bool
	// scanning, when set, is closed as the scan starts; measure, when
	// set, runs inside Vitals.
	scanning chan struct{}
	measure  func(context.Context) error
}

func (s *vitalSource) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	if s.scanning != nil {
		close(s.scanning)
	}
	return s.Source.Scan(ctx, w, yield)
}

func (s *vitalSource) Vitals(ctx context.Context, w audit.Window) (audit.Vitals, error) {
	s.asked = w
	if s.measure != nil {
		if err := s.measure(ctx); err != nil {
			return audit.Vitals{}, err
		}
	}
	return s.v, s.err
}

func (s *vitalSource) VitalsBesideScan() bool { return s.beside }

func TestValueIsTruncated(t *testing.T) {
	long := strings.Repeat("é", 400)
	rows := []audit.Row{{MessageID: "x", ReceivedAt: window.Start,
		Payload: []byte(`{"type":"track","event":"Product Viewed","properties":{"price":"` + long + `"}}`)}}
	_, sink := runCorpus(t, 1, rows)
	v := sink.committed[0].Value
	if len(v) > audit.MaxValueBytes || !strings.HasSuffix(v, "…") || !strings.HasPrefix(v, `"éé`) {
		t.Errorf("value of %d bytes: %q", len(v), v)
	}
	if !utf8Valid(v) {
		t.Error("truncation split a UTF-8 sequence")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// findingSource adds table-level findings to a scan, as Segment's layout does.
type findingSource struct {
	audittest.Source
	findings []audit.Violation
}

func (f *findingSource) Findings() []audit.Violation { return f.findings }

// Findings count as violations of their event, not as rows, land in the
// window so a re-run replaces them, and commit with the run.
func TestFindingsJoinTheRun(t *testing.T) {
	at := audittest.CorpusStart.Add(time.Minute)
	src := &findingSource{
		Source: audittest.Source{Rows: []audit.Row{
			{MessageID: "a", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Product Viewed","properties":{"price":3}}`)},
			{MessageID: "b", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Mystery"}`)},
		}},
		findings: []audit.Violation{
			{EventType: "track", EventName: "Product Viewed", SchemaID: "pv", InstancePath: "/properties/price", Keyword: audit.KeywordColumnType},
			{EventType: "track", EventName: "Mystery", Keyword: audit.KeywordUnplannedTable},
		},
	}
	sink := &memSink{}
	a := &audit.Auditor{Source: src, Sink: sink, Workers: 2, Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject}}
	s, err := a.Run(context.Background(), audit.Run{RunID: "r9", Source: "segment:web", Window: window})
	if err != nil {
		t.Fatal(err)
	}
	if got := []int64{s.Run.RowsScanned, s.Run.RowsInvalid, s.Run.RowsUnplanned, s.Run.Violations}; fmt.Sprint(got) != "[2 0 1 2]" {
		t.Errorf("scanned/invalid/unplanned/violations = %v, want [2 0 1 2]", got)
	}
	if len(sink.committed) != 2 {
		t.Fatalf("committed %d violations, want the 2 findings", len(sink.committed))
	}
	for _, v := range sink.committed {
		if v.RunID != "r9" || !v.ReceivedAt.Equal(window.Start) {
			t.Errorf("finding %+v: want run r9 at the window's start", v)
		}
	}
	// One line per event: the unplanned table joins its unplanned event.
	var events []string
	for _, e := range s.Events {
		events = append(events, fmt.Sprintf("%s unplanned=%v rows=%d violations=%d", e.Name, e.Unplanned, e.Rows, e.Violations))
	}
	slices.Sort(events)
	want := []string{"Mystery unplanned=true rows=1 violations=1", "Product Viewed unplanned=false rows=1 violations=1"}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
