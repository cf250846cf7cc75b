package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// eventKey identifies one row of eventaudit_event_stats.
type eventKey struct {
	Type, Name, SchemaID string
	Unplanned            bool
}

type checkKey struct{ Keyword, Path string }

type eventAgg struct {
	rows, invalid, violations int64
	checks                    map[checkKey]int64
	// example is the violation of the smallest message id, so that the
	// example a report shows does not depend on scheduling.
	example *Violation
}

// aggregate accumulates counts per event; merging is commutative, so any
// number of workers produces the same totals.
type aggregate struct {
	rows, invalid, unplanned, violations int64
	events                               map[eventKey]*eventAgg
}

func newAggregate() aggregate { return aggregate{events: map[eventKey]*eventAgg{}} }

func (a *aggregate) event(k eventKey) *eventAgg {
	e := a.events[k]
	if e == nil {
		e = &eventAgg{checks: map[checkKey]int64{}}
		a.events[k] = e
	}
	return e
}

func (a *aggregate) add(base Violation, unplanned bool, vs []Violation) {
	e := a.event(eventKey{base.EventType, base.EventName, base.SchemaID, unplanned})
	a.rows++
	e.rows++
	if unplanned {
		a.unplanned++
	}
	if len(vs) == 0 {
		return
	}
	a.invalid++
	e.invalid++
	a.violations += int64(len(vs))
	e.violations += int64(len(vs))
	for i := range vs {
		e.checks[checkKey{vs[i].Keyword, vs[i].InstancePath}]++
	}
	if e.example == nil || vs[0].MessageID < e.example.MessageID {
		ex := vs[0]
		e.example = &ex
	}
}

// addFinding counts a violation that belongs to no message: it adds to the
// violations of its event, not to its rows. An unplanned table belongs to
// its unplanned event.
func (a *aggregate) addFinding(v Violation) {
	e := a.event(eventKey{v.EventType, v.EventName, v.SchemaID, v.Keyword == KeywordUnplannedTable})
	a.violations++
	e.violations++
	e.checks[checkKey{v.Keyword, v.InstancePath}]++
	if e.example == nil {
		ex := v
		e.example = &ex
	}
}

func (a *aggregate) merge(b *aggregate) {
	a.rows += b.rows
	a.invalid += b.invalid
	a.unplanned += b.unplanned
	a.violations += b.violations
	for k, be := range b.events {
		e := a.event(k)
		e.rows += be.rows
		e.invalid += be.invalid
		e.violations += be.violations
		for ck, n := range be.checks {
			e.checks[ck] += n
		}
		if be.example != nil && (e.example == nil || be.example.MessageID < e.example.MessageID) {
			e.example = be.example
		}
	}
}

func (a *aggregate) stats(runID string) []EventStats {
	out := make([]EventStats, 0, len(a.events))
	for k, e := range a.events {
		out = append(out, EventStats{
			RunID: runID, EventType: k.Type, EventName: k.Name, SchemaID: k.SchemaID,
			Rows: e.rows, InvalidRows: e.invalid, Unplanned: k.Unplanned,
		})
	}
	slices.SortFunc(out, func(x, y EventStats) int {
		return cmp.Or(cmp.Compare(x.EventType, y.EventType), cmp.Compare(x.EventName, y.EventName),
			cmp.Compare(x.SchemaID, y.SchemaID))
	})
	return out
}

// Summary is the one model every report renders: terminal, JSON, Markdown and
// Slack all read it and compute nothing of their own.
type Summary struct {
	Run    Run
	Events []EventSummary // most invalid rows first
	// Breaches lists the --fail-on thresholds the run exceeded.
	Breaches []Breach
	// Previous is the baseline of the trend, nil for a first run.
	Previous *Run
	// NotCheckable lists schema rules the audited layout cannot honour
	// (Segment's warehouse layout): checks the run could not make, which
	// are reported here rather than as violations.
	NotCheckable []string
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
		for ck, n := range e.checks {
			c := Check(ck)
			if n > es.TopCheckCount || (n == es.TopCheckCount && cmp.Or(
				cmp.Compare(c.Keyword, es.TopCheck.Keyword), cmp.Compare(c.Path, es.TopCheck.Path)) < 0) {
				es.TopCheck, es.TopCheckCount = c, n
			}
		}
		s.Events = append(s.Events, es)
	}
	slices.SortFunc(s.Events, func(x, y EventSummary) int {
		return cmp.Or(cmp.Compare(y.InvalidRows, x.InvalidRows), cmp.Compare(y.Rows, x.Rows),
			cmp.Compare(x.Type, y.Type), cmp.Compare(x.Name, y.Name), cmp.Compare(x.SchemaID, y.SchemaID))
	})
	return s
}

// Metric names accepted by --fail-on.
const (
	MetricInvalidRate = "invalid_rate"
	MetricInvalidRows = "invalid_rows"
	MetricViolations  = "violations"
	MetricUnplanned   = "unplanned"
	// MetricMinRows is a floor, not a ceiling: fewer rows scanned than
	// this fails the run. An empty window is a stalled loader, the wrong
	// table or a timezone slip far more often than a quiet night.
	MetricMinRows = "min_rows"
)

// Thresholds are --fail-on limits: a run fails when a metric exceeds its limit.
type Thresholds map[string]float64

// Breach is one exceeded threshold.
type Breach struct {
	Metric string
	Limit  float64
	Actual float64
}

func (b Breach) String() string {
	if b.Metric == MetricMinRows {
		return fmt.Sprintf("%s: %s rows scanned < %s", b.Metric, formatFloat(b.Actual), formatFloat(b.Limit))
	}
	return fmt.Sprintf("%s %s > %s", b.Metric, formatFloat(b.Actual), formatFloat(b.Limit))
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// ParseThresholds parses "invalid_rate=0.01,unplanned=0" style limits.
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
			name = strings.TrimSpace(name)
			switch name {
			case MetricInvalidRate, MetricInvalidRows, MetricViolations, MetricUnplanned, MetricMinRows:
			default:
				return nil, fmt.Errorf("threshold %q: unknown metric %q (use %s, %s, %s, %s or %s)", part, name,
					MetricInvalidRate, MetricInvalidRows, MetricViolations, MetricUnplanned, MetricMinRows)
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 {
				return nil, fmt.Errorf("threshold %q: limit must be a non-negative number", part)
			}
			t[name] = f
		}
	}
	return t, nil
}

// Check returns the breaches of s, in metric order.
func (t Thresholds) Check(s *Summary) []Breach {
	actual := map[string]float64{
		MetricInvalidRate: s.InvalidRate(),
		MetricInvalidRows: float64(s.Run.RowsInvalid),
		MetricViolations:  float64(s.Run.Violations),
		MetricUnplanned:   float64(s.Run.RowsUnplanned),
	}
	var out []Breach
	if limit, ok := t[MetricMinRows]; ok && float64(s.Run.RowsScanned) < limit {
		out = append(out, Breach{Metric: MetricMinRows, Limit: limit, Actual: float64(s.Run.RowsScanned)})
	}
	for _, m := range []string{MetricInvalidRate, MetricInvalidRows, MetricViolations, MetricUnplanned} {
		if limit, ok := t[m]; ok && actual[m] > limit {
			out = append(out, Breach{Metric: m, Limit: limit, Actual: actual[m]})
		}
	}
	return out
}
