package reports

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"
)

// MaxMetricEvents bounds the per-event series of one run: events past it,
// the fewest rows first, are summed into event_name="(other)", so that a
// client sending a new event name on every message cannot grow the label
// set without bound.
const MaxMetricEvents = 100

// MetricsJob is the Pushgateway job a run pushes under.
const MetricsJob = "eventaudit"

// metricIdentity names the run's series: as a Pushgateway grouping key,
// or as labels on every series of a textfile.
func metricIdentity(r audit.Run) [][2]string {
	id := [][2]string{{"source", r.Source}}
	if r.Shard.Sharded() {
		id = append(id, [2]string{"shard", r.Shard.String()})
	}
	if r.Label != "" {
		id = append(id, [2]string{"label", r.Label})
	}
	return id
}

// metricsRegistry holds a run's metrics as gauges: a pushed or written
// file states the last run's values, which is what a gauge is. constant
// are labels put on every series.
func metricsRegistry(s *audit.Summary, constant prometheus.Labels) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	r := s.Run
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: constant})
		g.Set(v)
		reg.MustRegister(g)
	}
	gauge("eventaudit_rows_scanned", "Rows of the window the run audited.", float64(r.RowsScanned))
	gauge("eventaudit_rows_invalid", "Rows with at least one violation.", float64(r.RowsInvalid))
	gauge("eventaudit_rows_unplanned", "Rows of events no schema in the plan matches.", float64(r.RowsUnplanned))
	gauge("eventaudit_violations", "Failed checks, one per message and check.", float64(r.Violations))
	gauge("eventaudit_duplicate_rows", "Rows whose message_id another row of the window already has.", float64(r.DuplicateRows))
	gauge("eventaudit_run_duration_seconds", "How long the run took.", r.FinishedAt.Sub(r.StartedAt).Seconds())
	gauge("eventaudit_window_end_timestamp_seconds", "The end of the window the run audited.", unix(r.Window.End))
	gauge("eventaudit_last_success_timestamp_seconds",
		"When a run of this source last completed, whatever its verdict; a run that errors pushes nothing, so this ages.",
		unix(r.FinishedAt))
	status := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventaudit_run_status",
		Help: "1 for the run's verdict (passed, warned or failed), 0 for the others.", ConstLabels: constant}, []string{"status"})
	for _, st := range []string{audit.StatusPassed, audit.StatusWarned, audit.StatusFailed} {
		status.WithLabelValues(st).Set(map[bool]float64{true: 1}[st == r.Status])
	}
	reg.MustRegister(status)

	labels := []string{"event_type", "event_name"}
	rows := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventaudit_event_rows", Help: "Rows of each event.", ConstLabels: constant}, labels)
	invalid := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventaudit_event_invalid_rows", Help: "Invalid rows of each event.", ConstLabels: constant}, labels)
	unplanned := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "eventaudit_event_unplanned_rows", Help: "Rows of each event that no schema in the plan matches.", ConstLabels: constant}, labels)
	for _, e := range metricEvents(s.Events) {
		rows.WithLabelValues(e.Type, e.Name).Add(float64(e.Rows))
		invalid.WithLabelValues(e.Type, e.Name).Add(float64(e.InvalidRows))
		if e.Unplanned {
			unplanned.WithLabelValues(e.Type, e.Name).Add(float64(e.Rows))
		} else {
			unplanned.WithLabelValues(e.Type, e.Name).Add(0)
		}
	}
	reg.MustRegister(rows, invalid, unplanned)
	return reg
}

// metricEvents sums a run's events by type and name (over schema
// versions) and folds all but the MaxMetricEvents largest into "(other)".
func metricEvents(events []audit.EventSummary) []audit.EventSummary {
	type key struct{ typ, name string }
	sums := map[key]*audit.EventSummary{}
	var out []*audit.EventSummary
	for _, e := range events {
		k := key{e.Type, e.Name}
		if e.Type == "" && e.Name == "" {
			k.name = EventLabel(e) // the label every report gives it
		}
		sum, ok := sums[k]
		if !ok {
			sum = &audit.EventSummary{Type: k.typ, Name: k.name, Unplanned: e.Unplanned}
			sums[k] = sum
			out = append(out, sum)
		}
		sum.Rows += e.Rows
		sum.InvalidRows += e.InvalidRows
		sum.Unplanned = sum.Unplanned && e.Unplanned
	}
	slices.SortFunc(out, func(a, b *audit.EventSummary) int {
		return cmp.Or(cmp.Compare(b.Rows, a.Rows), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	res := make([]audit.EventSummary, 0, min(len(out), MaxMetricEvents+1))
	for i, e := range out {
		if i < MaxMetricEvents {
			res = append(res, *e)
			continue
		}
		if i == MaxMetricEvents {
			res = append(res, audit.EventSummary{Name: "(other)"})
		}
		other := &res[MaxMetricEvents]
		other.Rows += e.Rows
		other.InvalidRows += e.InvalidRows
	}
	return res
}

func unix(t time.Time) float64 { return float64(t.Unix()) }

// WriteMetrics writes the run's metrics in the OpenMetrics text format,
// every series labelled with the run's source (and shard and label), for
// node_exporter's textfile collector.
func WriteMetrics(w io.Writer, s *audit.Summary) error {
	constant := prometheus.Labels{}
	for _, l := range metricIdentity(s.Run) {
		constant[l[0]] = l[1]
	}
	families, err := metricsRegistry(s, constant).Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeOpenMetrics))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	if c, ok := enc.(io.Closer); ok {
		return c.Close() // writes OpenMetrics' "# EOF"
	}
	return nil
}

// PushMetrics replaces the run's group on a Pushgateway (a PUT of job
// eventaudit and the run's source, shard and label), so that an event
// absent from this run leaves no stale series behind.
func PushMetrics(ctx context.Context, client *http.Client, url string, s *audit.Summary) error {
	p := push.New(url, MetricsJob).Gatherer(metricsRegistry(s, nil)).Client(client).Format(expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, l := range metricIdentity(s.Run) {
		p = p.Grouping(l[0], l[1])
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("push metrics to %s: %w", url, err)
	}
	return nil
}
