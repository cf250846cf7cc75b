package audit

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// eventKey identifies one row of eventaudit_event_stats.
type eventKey struct {
	Type, Name, SchemaID string
	Unplanned            bool
}

type checkKey struct{ Keyword, Path string }

type eventAgg struct {
	rows, invalid, violations int64
	checks                    map[checkKey]*checkAgg
	// example is the violation of the smallest message id, so that the
	// example a report shows does not depend on scheduling.
	example *Violation
}

// checkAgg counts one failed check of one event and keeps its first
// violation in (message id, message) order: an example that depends
// neither on scheduling nor on where it is read from, since the result
// tables give the same one (CheckSummary).
type checkAgg struct {
	n       int64
	example Violation
}

func (c *checkAgg) add(v *Violation) {
	if c.n == 0 || cmp.Or(cmp.Compare(v.MessageID, c.example.MessageID), cmp.Compare(v.Message, c.example.Message)) < 0 {
		c.example = *v
	}
	c.n++
}

func (c *checkAgg) merge(o *checkAgg) {
	if c.n == 0 || cmp.Or(cmp.Compare(o.example.MessageID, c.example.MessageID), cmp.Compare(o.example.Message, c.example.Message)) < 0 {
		c.example = o.example
	}
	c.n += o.n
}

// aggregate accumulates counts per event; merging is commutative, so any
// number of workers produces the same totals.
type aggregate struct {
	rows, invalid, unplanned, violations int64
	suppressed                           int64
	events                               map[eventKey]*eventAgg
	// prof is the property profile, when the run keeps one, routes the
	// fast path's and verdicts the library's kept for repeated invalid
	// objects: all are the worker's, lent for one batch.
	prof     *profile
	routes   *routes
	verdicts *verdictCache
}

func newAggregate() aggregate { return aggregate{events: map[eventKey]*eventAgg{}} }

func (a *aggregate) event(k eventKey) *eventAgg {
	e := a.events[k]
	if e == nil {
		e = &eventAgg{checks: map[checkKey]*checkAgg{}}
		a.events[k] = e
	}
	return e
}

func (e *eventAgg) check(k checkKey) *checkAgg {
	c := e.checks[k]
	if c == nil {
		c = &checkAgg{}
		e.checks[k] = c
	}
	return c
}

func (a *aggregate) add(base Violation, unplanned bool, vs []Violation) {
	a.addTo(a.event(eventKey{base.EventType, base.EventName, base.SchemaID, unplanned}), unplanned, vs)
}

// addTo counts a row of the event e, one of a's.
func (a *aggregate) addTo(e *eventAgg, unplanned bool, vs []Violation) {
	a.rows++
	e.rows++
	if unplanned {
		a.unplanned++
	}
	var counted *Violation
	for i := range vs {
		if vs[i].Suppressed {
			a.suppressed++
			continue
		}
		if counted == nil {
			counted = &vs[i]
		}
		a.violations++
		e.violations++
		e.check(checkKey{vs[i].Keyword, vs[i].InstancePath}).add(&vs[i])
	}
	if counted == nil {
		return // valid, or only accepted problems
	}
	a.invalid++
	e.invalid++
	if e.example == nil || counted.MessageID < e.example.MessageID {
		ex := *counted
		e.example = &ex
	}
}

// addFinding counts a violation that belongs to no message: it adds to the
// violations of its event, not to its rows. An unplanned table belongs to
// its unplanned event.
func (a *aggregate) addFinding(v Violation) {
	if v.Suppressed {
		a.suppressed++
		return
	}
	e := a.event(eventKey{v.EventType, v.EventName, v.SchemaID, v.Keyword == KeywordUnplannedTable})
	a.violations++
	e.violations++
	e.check(checkKey{v.Keyword, v.InstancePath}).add(&v)
	if e.example == nil {
		ex := v
		e.example = &ex
	}
}

func (a *aggregate) merge(b *aggregate) {
	if a.prof != nil && b.prof != nil {
		a.prof.merge(b.prof)
	}
	a.rows += b.rows
	a.invalid += b.invalid
	a.unplanned += b.unplanned
	a.violations += b.violations
	a.suppressed += b.suppressed
	for k, be := range b.events {
		e := a.event(k)
		e.rows += be.rows
		e.invalid += be.invalid
		e.violations += be.violations
		for ck, c := range be.checks {
			e.check(ck).merge(c)
		}
		if be.example != nil && (e.example == nil || be.example.MessageID < e.example.MessageID) {
			e.example = be.example
		}
	}
}

// Summary is the one model every report renders: terminal, JSON, Markdown and
// Slack all read it and compute nothing of their own.
type Summary struct {
	Run    Run
	Events []EventSummary // most invalid rows first
	// Breaches lists the --fail-on thresholds the run exceeded, and
	// Warnings the --warn-on ones it exceeded that did not fail it.
	Breaches []Breach
	Warnings []Breach
	// Previous is the baseline of the trend, nil for a first run.
	Previous *Run
	// Checks are every failed check of every event, most violations
	// first.
	Checks []CheckSummary
	// NewViolations counts the violations whose fingerprint no earlier
	// run of the source had; nil unless a threshold asked for it.
	NewViolations *int64
	// NotCheckable lists schema rules the audited layout cannot honour
	// (Segment's warehouse layout): checks the run could not make, which
	// are reported here rather than as violations.
	NotCheckable []string
	// Profiles are what each event's validated objects carried, and Drift
	// how that differs from the plan; both nil when the run kept no
	// profile (--profile=false, or a pushdown proved rows unseen).
	Profiles []EventProfile
	Drift    *Drift
}

// EventSummary is one event × schema of a run.
type EventSummary struct {
	Type        string
	Name        string
	SchemaID    string
	Unplanned   bool
	Rows        int64
	InvalidRows int64
	Violations  int64
	// TopCheck is the most frequent failed check (ties broken by keyword
	// then path), and TopCheckCount how many violations it accounts for.
	TopCheck      Check
	TopCheckCount int64
	// Example is one violation of this event, for reports to quote.
	Example *Violation
	// PreviousInvalidRows is this event's invalid rows in the previous run;
	// NewFailure is set when it fails now and did not then.
	PreviousInvalidRows int64
	NewFailure          bool
}

// CheckSummary is one failed check of one event × schema.
type CheckSummary struct {
	Type, Name, SchemaID string
	Unplanned            bool
	Check
	Violations int64
	// Example is the check's violation of the smallest message id (then
	// message).
	Example Violation
}

// CompareChecks orders checks most violations first, then by event and
// check, so that every report lists them alike.
func CompareChecks(x, y CheckSummary) int {
	return cmp.Or(cmp.Compare(y.Violations, x.Violations), cmp.Compare(x.Type, y.Type), cmp.Compare(x.Name, y.Name),
		cmp.Compare(x.SchemaID, y.SchemaID), cmp.Compare(x.Keyword, y.Keyword), cmp.Compare(x.Path, y.Path))
}

// Check is a failed keyword at a JSON pointer.
type Check struct {
	Keyword string
	Path    string
}

// InvalidRate is InvalidRows / Rows, 0 for an empty event.
func (e EventSummary) InvalidRate() float64 { return rate(e.InvalidRows, e.Rows) }

// InvalidRate is the run's invalid rows over rows scanned.
func (s *Summary) InvalidRate() float64 { return rate(s.Run.RowsInvalid, s.Run.RowsScanned) }

// Unplanned returns the unplanned events, most rows first.
func (s *Summary) Unplanned() []EventSummary {
	var out []EventSummary
	for _, e := range s.Events {
		if e.Unplanned {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(x, y EventSummary) int { return cmp.Compare(y.Rows, x.Rows) })
	return out
}

func rate(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func newSummary(run Run, a aggregate) *Summary {
	s := &Summary{Run: run}
	for k, e := range a.events {
		es := EventSummary{
			Type: k.Type, Name: k.Name, SchemaID: k.SchemaID, Unplanned: k.Unplanned,
			Rows: e.rows, InvalidRows: e.invalid, Violations: e.violations, Example: e.example,
		}
		for ck, c := range e.checks {
			s.Checks = append(s.Checks, CheckSummary{Type: k.Type, Name: k.Name, SchemaID: k.SchemaID, Unplanned: k.Unplanned,
				Check: Check(ck), Violations: c.n, Example: c.example})
		}
		s.Events = append(s.Events, es)
	}
	s.rank()
	return s
}

// SummaryOf rebuilds a run's summary from its result tables: its row, its
// per-event statistics and its failed checks. What the tables do not
// record stays empty: breaches and warnings (the status says whether
// there were any), the layout's notes, and each event's own example (its
// checks carry theirs).
func SummaryOf(run Run, stats []EventStats, checks []CheckSummary) *Summary {
	s := &Summary{Run: run, Checks: checks}
	at := map[eventKey]int{}
	for _, st := range stats {
		k := eventKey{st.EventType, st.EventName, st.SchemaID, st.Unplanned}
		at[k] = len(s.Events)
		s.Events = append(s.Events, EventSummary{Type: k.Type, Name: k.Name, SchemaID: k.SchemaID, Unplanned: k.Unplanned,
			Rows: st.Rows, InvalidRows: st.InvalidRows})
	}
	for _, c := range checks {
		k := eventKey{c.Type, c.Name, c.SchemaID, c.Unplanned}
		i, ok := at[k]
		if !ok {
			// A finding that belongs to no message has no rows.
			at[k] = len(s.Events)
			i = at[k]
			s.Events = append(s.Events, EventSummary{Type: k.Type, Name: k.Name, SchemaID: k.SchemaID, Unplanned: k.Unplanned})
		}
		s.Events[i].Violations += c.Violations
	}
	s.rank()
	return s
}

// EventStats are the summary's rows of eventaudit_event_stats, in the
// summary's order.
func (s *Summary) EventStats() []EventStats {
	out := make([]EventStats, 0, len(s.Events))
	for _, e := range s.Events {
		out = append(out, EventStats{RunID: s.Run.RunID, EventType: e.Type, EventName: e.Name, SchemaID: e.SchemaID,
			Rows: e.Rows, InvalidRows: e.InvalidRows, Unplanned: e.Unplanned})
	}
	return out
}

// rank orders events most invalid rows first and checks most violations
// first, and sets each event's top check.
func (s *Summary) rank() {
	s.rankChecks()
	slices.SortFunc(s.Events, func(x, y EventSummary) int {
		return cmp.Or(cmp.Compare(y.InvalidRows, x.InvalidRows), cmp.Compare(y.Rows, x.Rows),
			cmp.Compare(x.Type, y.Type), cmp.Compare(x.Name, y.Name), cmp.Compare(x.SchemaID, y.SchemaID))
	})
}

// rankChecks sorts Checks and sets each event's top check from them.
func (s *Summary) rankChecks() {
	slices.SortFunc(s.Checks, CompareChecks)
	top := map[eventKey]CheckSummary{}
	for _, c := range s.Checks {
		k := eventKey{c.Type, c.Name, c.SchemaID, c.Unplanned}
		if _, seen := top[k]; !seen {
			top[k] = c
		}
	}
	for i := range s.Events {
		e := &s.Events[i]
		if c, ok := top[eventKey{e.Type, e.Name, e.SchemaID, e.Unplanned}]; ok {
			e.TopCheck, e.TopCheckCount = c.Check, c.Violations
		}
	}
}

// Metric names accepted by --fail-on and --warn-on.
const (
	MetricInvalidRate = "invalid_rate"
	MetricInvalidRows = "invalid_rows"
	MetricViolations  = "violations"
	MetricUnplanned   = "unplanned"
	// MetricMinRows is a floor, not a ceiling: fewer rows scanned than
	// this fails the run. An empty window is a stalled loader, the wrong
	// table or a timezone slip far more often than a quiet night.
	MetricMinRows = "min_rows"
	// MetricFreshness is the most the newest received_at of the source may
	// lag the run's start, in seconds (written as a duration: 2h, 90m).
	MetricFreshness = "freshness"
	// MetricDuplicateRate is the share of the window's rows whose
	// message_id another row already has.
	MetricDuplicateRate = "duplicate_rate"
	// MetricNewViolations counts the violations whose fingerprint (event,
	// keyword, instance path with indexes as *) no earlier run of the
	// source recorded: alert on what is new, not on what is known.
	MetricNewViolations = "new_violations"
)

// metrics lists the metrics in the order breaches are reported.
var metrics = []string{MetricMinRows, MetricFreshness, MetricDuplicateRate,
	MetricInvalidRate, MetricInvalidRows, MetricViolations, MetricNewViolations, MetricUnplanned}

// Thresholds are --fail-on (or --warn-on) limits: a run is over one when a
// metric exceeds its limit, or falls below min_rows.
type Thresholds map[string]float64

// Breach is one exceeded threshold.
type Breach struct {
	Metric string
	Limit  float64
	// Actual is +Inf for freshness when the source holds no rows at all.
	Actual float64
	// Detail says what a person needs to act, where the numbers do not:
	// the window an empty run read, and the newest received_at found.
	Detail string
}

func (b Breach) String() string {
	var s string
	switch b.Metric {
	case MetricMinRows:
		s = fmt.Sprintf("%s: %s rows scanned < %s", b.Metric, formatFloat(b.Actual), formatFloat(b.Limit))
	case MetricFreshness:
		age := "no rows at all"
		if !math.IsInf(b.Actual, 1) {
			age = formatSeconds(b.Actual) + " old"
		}
		s = fmt.Sprintf("%s: newest received_at %s > %s", b.Metric, age, formatSeconds(b.Limit))
	default:
		s = fmt.Sprintf("%s %s > %s", b.Metric, formatFloat(b.Actual), formatFloat(b.Limit))
	}
	if b.Detail != "" {
		s += " (" + b.Detail + ")"
	}
	return s
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

func formatSeconds(sec float64) string { return FormatAge(time.Duration(sec * float64(time.Second))) }

// FormatAge prints a duration as a person reads it: 2h, 1h30m, 3d4h, 45s.
func FormatAge(d time.Duration) string {
	d = d.Round(time.Second)
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var b strings.Builder
	shown := 0
	for _, u := range units {
		// Two units are precise enough for an age: 3d4h, not 3d4h12m9s.
		if n := d / u.size; n > 0 && shown < 2 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
			shown++
		} else if shown > 0 {
			shown = 2
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// ParseThresholds parses "invalid_rate=0.01,unplanned=0,freshness=2h" style
// limits.
func ParseThresholds(specs []string) (Thresholds, error) {
	t := Thresholds{}
	for _, spec := range specs {
		for _, part := range strings.Split(spec, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, val, ok := strings.Cut(part, "=")
			if !ok {
				return nil, fmt.Errorf("threshold %q: want METRIC=LIMIT, e.g. invalid_rate=0.01", part)
			}
			name, val = strings.TrimSpace(name), strings.TrimSpace(val)
			if !slices.Contains(metrics, name) {
				return nil, fmt.Errorf("threshold %q: unknown metric %q (use %s)", part, name, strings.Join(metrics, ", "))
			}
			if name == MetricFreshness {
				d, err := time.ParseDuration(val)
				if err != nil || d <= 0 {
					return nil, fmt.Errorf("threshold %q: freshness takes a duration, e.g. freshness=2h", part)
				}
				t[name] = d.Seconds()
				continue
			}
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fmt.Errorf("threshold %q: limit must be a non-negative number", part)
			}
			if strings.HasSuffix(name, "_rate") && f > 1 {
				return nil, fmt.Errorf("threshold %q: a rate is a fraction of the rows, 0 to 1 (0.01 is 1%%)", part)
			}
			t[name] = f
		}
	}
	return t, nil
}

// Freshness is how long before the run started the newest received_at of
// the source was; ok is false when the source holds no rows, or did not
// say.
func (s *Summary) Freshness() (age time.Duration, ok bool) {
	if s.Run.LatestReceivedAt.IsZero() {
		return 0, false
	}
	return max(s.Run.StartedAt.Sub(s.Run.LatestReceivedAt), 0), true
}

// DuplicateRate is the share of the window's rows that repeat a message_id.
func (s *Summary) DuplicateRate() float64 { return rate(s.Run.DuplicateRows, s.Run.RowsScanned) }

// Check returns the breaches of s, in metric order.
func (t Thresholds) Check(s *Summary) []Breach {
	var out []Breach
	for _, m := range metrics {
		limit, ok := t[m]
		if !ok {
			continue
		}
		var actual float64
		switch m {
		case MetricMinRows:
			if actual = float64(s.Run.RowsScanned); actual < limit {
				out = append(out, Breach{Metric: m, Limit: limit, Actual: actual, Detail: s.emptyWindowDetail()})
			}
			continue
		case MetricFreshness:
			actual = math.Inf(1)
			if age, ok := s.Freshness(); ok {
				actual = age.Seconds()
			}
		case MetricDuplicateRate:
			actual = s.DuplicateRate()
		case MetricInvalidRate:
			actual = s.InvalidRate()
		case MetricInvalidRows:
			actual = float64(s.Run.RowsInvalid)
		case MetricViolations:
			actual = float64(s.Run.Violations)
		case MetricNewViolations:
			if s.NewViolations == nil {
				continue // not counted: no results to compare with
			}
			actual = float64(*s.NewViolations)
		case MetricUnplanned:
			actual = float64(s.Run.RowsUnplanned)
		}
		if actual > limit {
			out = append(out, Breach{Metric: m, Limit: limit, Actual: actual})
		}
	}
	return out
}

// newViolations sums the violations of the checks whose fingerprint is
// not in known.
func (s *Summary) newViolations(known map[Fingerprint]bool) int64 {
	var n int64
	for _, c := range s.Checks {
		if !known[FingerprintOf(c.Type, c.Name, c.Keyword, c.Path)] {
			n += c.Violations
		}
	}
	return n
}

// emptyWindowDetail names the window a thin run read and where the data
// actually is, which is what tells a stalled loader from a timezone slip.
func (s *Summary) emptyWindowDetail() string {
	w := s.Run.Window
	d := fmt.Sprintf("window %s to %s", w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
	switch latest := s.Run.LatestReceivedAt; {
	case latest.IsZero():
		return d
	case latest.Before(w.Start):
		return d + "; the newest received_at of the source is " + latest.UTC().Format(time.RFC3339) + ", before the window"
	default:
		return d + "; the newest received_at of the source is " + latest.UTC().Format(time.RFC3339)
	}
}
