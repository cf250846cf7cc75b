package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// HTMLPage is what the HTML report draws: one run, and the runs before it
// that its trend compares with.
type HTMLPage struct {
	Summary *audit.Summary
	// History holds the earlier runs like this one (audit.Like), newest
	// first, without it.
	History []audit.RunStats
	// CheckQuery renders the statement fetching every violation of a
	// check; nil when nothing was written (a dry run).
	CheckQuery func(audit.CheckSummary) string
	// DryRun says nothing was written.
	DryRun bool
	// FromTables says the page was rebuilt from the result tables, which
	// record a run's status but not the thresholds behind it.
	FromTables bool
	// Version is the eventaudit that drew the page.
	Version string
}

// HTMLTopChecks bounds the failing checks the page lists.
const HTMLTopChecks = 20

// chartEvents bounds the events the trend chart draws beside the whole
// source: more lines than this are unreadable.
const chartEvents = 4

//go:embed html.tmpl
var htmlTemplate string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"count":   Count,
	"percent": Percent,
	"event":   EventLabel,
	"schema":  SchemaLabel,
	"check":   CheckLabel,
	"window":  Window,
	"stamp":   func(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04 MST") },
	"checkEvent": func(c audit.CheckSummary) string {
		return EventLabel(audit.EventSummary{Type: c.Type, Name: c.Name})
	},
}).Parse(htmlTemplate))

// HTML writes the page: one self-contained file with inline CSS and SVG,
// no script, and nothing fetched from a network (its Content-Security-
// Policy forbids it), so it reads the same offline, attached to a ticket
// or served from a bucket.
func HTML(w io.Writer, p HTMLPage) error {
	return pageTemplate.Execute(w, newPageData(p))
}

// pageData is the page with every figure computed, so that the template
// only lays it out.
type pageData struct {
	HTMLPage
	S          *audit.Summary
	Status     statusBadge
	Runs       int // runs the trend covers, this one included
	Trend      *chart
	Rows       []eventRow
	Checks     []checkRow
	MoreChecks int64
	Replaced   int64 // violations of the run a later run replaced
	Unplanned  []audit.EventSummary
	// Alerts are what a reader must know first: breaches, warnings, what
	// the page cannot show.
	Alerts      []alert
	TrendLine   string
	VitalsLine  string
	HasPrevious bool
	// Drift is the run's drift, when it kept a profile (S.Drift).
	Drift     []DriftSection
	DriftLine string
	DriftCut  string
}

type alert struct{ Label, Text string }

type statusBadge struct{ Class, Symbol, Text string }

type eventRow struct {
	audit.EventSummary
	Since     string // "new", "failing before", ""
	Sparkline *sparkline
}

type checkRow struct {
	audit.CheckSummary
	Query string
}

func newPageData(p HTMLPage) pageData {
	s := p.Summary
	d := pageData{HTMLPage: p, S: s, Status: badge(s.Run.Status), VitalsLine: VitalsLine(s),
		TrendLine: TrendLine(s), Unplanned: s.Unplanned(), HasPrevious: s.Previous != nil}
	d.Alerts = alerts(p)
	d.Drift, d.DriftLine, d.DriftCut = DriftSections(s.Drift, HTMLTopChecks), DriftHeadline(s.Drift), DriftCut(s.Drift)
	runs := historyOldestFirst(p)
	d.Runs = len(runs)
	if len(runs) > 1 {
		d.Trend = trendChart(runs, s)
	}
	for _, e := range s.Events {
		if e.Unplanned && e.InvalidRows == 0 {
			continue // listed with the unplanned events
		}
		row := eventRow{EventSummary: e}
		switch {
		case e.InvalidRows > 0 && e.NewFailure && s.Previous != nil:
			row.Since = "new"
		case e.InvalidRows > 0 && s.Previous != nil:
			row.Since = "failing before"
		}
		if len(runs) > 1 {
			row.Sparkline = newSparkline(rates(runs, keyOf(e)))
		}
		d.Rows = append(d.Rows, row)
	}
	var listed int64
	for i, c := range s.Checks {
		listed += c.Violations
		if i >= HTMLTopChecks {
			continue
		}
		row := checkRow{CheckSummary: c}
		if p.CheckQuery != nil {
			row.Query = p.CheckQuery(c)
		}
		d.Checks = append(d.Checks, row)
	}
	d.MoreChecks = int64(max(0, len(s.Checks)-HTMLTopChecks))
	if p.FromTables && s.Run.Violations > listed {
		d.Replaced = s.Run.Violations - listed
	}
	return d
}

func alerts(p HTMLPage) []alert {
	s := p.Summary
	var out []alert
	for _, b := range s.Breaches {
		out = append(out, alert{"Failed threshold:", b.String()})
	}
	for _, b := range s.Warnings {
		out = append(out, alert{"Warning:", b.String()})
	}
	if p.FromTables && s.Run.Status != audit.StatusPassed {
		out = append(out, alert{"", "This page was drawn from the result tables, which record that the run " +
			strings.ToLower(badge(s.Run.Status).Text) + " but not which thresholds it crossed; the run's own report and Slack digest name them."})
	}
	if p.DryRun {
		out = append(out, alert{"Dry run:", "nothing was written to the result tables, so this page has no queries to fetch the violations."})
	}
	for _, n := range s.NotCheckable {
		out = append(out, alert{"Not checkable in this layout:", n})
	}
	return out
}

func badge(status string) statusBadge {
	switch status {
	case audit.StatusPassed:
		return statusBadge{"passed", "✓", "Passed"}
	case audit.StatusWarned:
		return statusBadge{"warned", "▲", "Warned"}
	case audit.StatusFailed:
		return statusBadge{"failed", "✗", "Failed"}
	}
	return statusBadge{"unknown", "?", status}
}

// historyOldestFirst is the trend's runs, the page's own run last.
func historyOldestFirst(p HTMLPage) []audit.RunStats {
	runs := make([]audit.RunStats, 0, len(p.History)+1)
	for _, r := range slices.Backward(p.History) {
		runs = append(runs, r)
	}
	return append(runs, audit.RunStats{Run: p.Summary.Run, Stats: p.Summary.EventStats()})
}

type eventKey struct {
	Type, Name, SchemaID string
	Unplanned            bool
}

func keyOf(e audit.EventSummary) eventKey { return eventKey{e.Type, e.Name, e.SchemaID, e.Unplanned} }

// rate is one run's invalid rate of an event; ok is false where the event
// had no rows in that run, which a line shows as a gap, not as zero.
type rate struct {
	Run          audit.Run
	Value        float64
	Invalid, Out int64
	OK           bool
}

func rates(runs []audit.RunStats, k eventKey) []rate {
	out := make([]rate, len(runs))
	for i, r := range runs {
		out[i].Run = r.Run
		for _, st := range r.Stats {
			if (eventKey{st.EventType, st.EventName, st.SchemaID, st.Unplanned}) == k && st.Rows > 0 {
				out[i] = rate{Run: r.Run, Value: float64(st.InvalidRows) / float64(st.Rows), Invalid: st.InvalidRows, Out: st.Rows, OK: true}
			}
		}
	}
	return out
}

func sourceRates(runs []audit.RunStats) []rate {
	out := make([]rate, len(runs))
	for i, r := range runs {
		out[i] = rate{Run: r.Run, Invalid: r.Run.RowsInvalid, Out: r.Run.RowsScanned, OK: r.Run.RowsScanned > 0}
		if out[i].OK {
			out[i].Value = float64(r.Run.RowsInvalid) / float64(r.Run.RowsScanned)
		}
	}
	return out
}

// Chart geometry, in the SVG's own units; the SVG scales to its box.
const (
	chartW, chartH                = 720.0, 280.0
	chartLeft, chartRight         = 56.0, 16.0
	chartTop, chartBottom         = 16.0, 44.0
	sparkW, sparkH, sparkPad      = 120.0, 28.0, 3.0
	chartPlotW                    = chartW - chartLeft - chartRight
	chartPlotH                    = chartH - chartTop - chartBottom
	sparkPlotW, sparkPlotH        = sparkW - 2*sparkPad, sparkH - 2*sparkPad
	markerCircle, markerSquare    = "circle", "square"
	markerTriangle, markerDiamond = "triangle", "diamond"
)

// chart is the invalid rate over the runs: the whole source, and the
// events failing most in this run (each at least 1% of its invalid rows,
// and not invalid in every row of every run). Each series has its own colour, dash
// pattern and marker, so that colour is never the only way to tell them
// apart.
type chart struct {
	W, H, PlotLeft, PlotRight, PlotTop, PlotBottom float64
	Ticks                                          []tick
	XLabels                                        []xLabel
	Series                                         []series
	Desc                                           string
	// Rows are the numbers behind the chart, one per run, oldest first.
	Rows []chartRow
}

type chartRow struct {
	RunID, Window string
	Values        []string
}

type tick struct {
	Y     float64
	Label string
}

type xLabel struct {
	X      float64
	Label  string
	Anchor string
}

type series struct {
	Name   string
	Class  string
	Colour string
	Dash   string
	Marker string
	Path   string // the line, with a gap where the event had no rows
	Points []point
	Latest string
}

type point struct {
	X, Y  float64
	Shape string // the marker's path, for markers other than circles
	Title string
	RunID string
}

var seriesStyles = []struct{ colour, dash, marker string }{
	{"#1d4f91", "", markerCircle},
	{"#b3261e", "6 4", markerSquare},
	{"#7a4e00", "2 3", markerTriangle},
	{"#1e6b3a", "10 3 2 3", markerDiamond},
	{"#5b2a86", "1 2", markerCircle},
}

func trendChart(runs []audit.RunStats, s *audit.Summary) *chart {
	type line struct {
		name, class string
		rates       []rate
	}
	lines := []line{{"All events", "series-all", sourceRates(runs)}}
	for _, e := range s.Events {
		if len(lines) > chartEvents {
			break
		}
		// An event with a handful of bad rows would set the scale and
		// flatten the lines that matter.
		if e.InvalidRows == 0 || e.InvalidRows*100 < s.Run.RowsInvalid {
			continue
		}
		// Nor would one whose every row is always invalid (an unreadable
		// payload, an unknown schema_id): its line is flat at 100%.
		if rs := rates(runs, keyOf(e)); !alwaysInvalid(rs) {
			lines = append(lines, line{EventLabel(e), "series-event", rs})
		}
	}
	top := 0.0
	for _, l := range lines {
		for _, r := range l.rates {
			top = math.Max(top, r.Value)
		}
	}
	top = niceCeil(top)
	c := &chart{W: chartW, H: chartH, PlotLeft: chartLeft, PlotRight: chartW - chartRight,
		PlotTop: chartTop, PlotBottom: chartTop + chartPlotH}
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.Ticks = append(c.Ticks, tick{Y: chartTop + chartPlotH*(1-v/top), Label: shortPercent(v)})
	}
	x := func(i int) float64 { return chartLeft + chartPlotW*float64(i)/float64(len(runs)-1) }
	y := func(v float64) float64 { return chartTop + chartPlotH*(1-v/top) }
	first, last := runs[0].Run, runs[len(runs)-1].Run
	c.XLabels = []xLabel{{x(0), first.Window.End.UTC().Format("Jan 2 15:04"), "start"},
		{x(len(runs) - 1), last.Window.End.UTC().Format("Jan 2 15:04"), "end"}}
	for li, l := range lines {
		st := seriesStyles[li%len(seriesStyles)]
		sr := series{Name: l.name, Class: l.class, Colour: st.colour, Dash: st.dash, Marker: st.marker, Latest: "no rows"}
		var vs []vertex
		sr.Path, vs = plot(l.rates, x, y)
		for _, v := range vs {
			r := l.rates[v.i]
			sr.Points = append(sr.Points, point{X: v.x, Y: v.y, Shape: markerPath(st.marker, v.x, v.y, 4),
				Title: fmt.Sprintf("%s, run %s (window ending %s): %s invalid (%s of %s rows)", l.name, r.Run.RunID,
					r.Run.Window.End.UTC().Format("2006-01-02 15:04 MST"), Percent(r.Value), Count(r.Invalid), Count(r.Out)),
				RunID: r.Run.RunID})
		}
		if last := l.rates[len(l.rates)-1]; last.OK {
			sr.Latest = Percent(last.Value)
		}
		c.Series = append(c.Series, sr)
	}
	for i, r := range runs {
		row := chartRow{RunID: r.Run.RunID, Window: Window(r.Run.Window)}
		for _, l := range lines {
			v := "no rows"
			if rt := l.rates[i]; rt.OK {
				v = Percent(rt.Value)
			}
			row.Values = append(row.Values, v)
		}
		c.Rows = append(c.Rows, row)
	}
	c.Desc = fmt.Sprintf("Invalid rate of %s over its last %d runs, from %s to %s, on a scale from 0 to %s.",
		s.Run.Source, len(runs), Window(first.Window), Window(last.Window), shortPercent(top))
	return c
}

func alwaysInvalid(rs []rate) bool {
	for _, r := range rs {
		if r.OK && r.Value < 1 {
			return false
		}
	}
	return true
}

// sparkline is one event's invalid rate over the runs, drawn small in its
// table row.
type sparkline struct {
	W, H   float64
	Path   string
	LastX  float64
	LastY  float64
	HasEnd bool
	Label  string
}

func newSparkline(rs []rate) *sparkline {
	top := 0.0
	for _, r := range rs {
		top = math.Max(top, r.Value)
	}
	top = niceCeil(top)
	sp := &sparkline{W: sparkW, H: sparkH}
	path, vs := plot(rs, func(i int) float64 { return sparkPad + sparkPlotW*float64(i)/float64(len(rs)-1) },
		func(v float64) float64 { return sparkPad + sparkPlotH*(1-v/top) })
	sp.Path = path
	var seen []string
	for _, v := range vs {
		seen = append(seen, Percent(rs[v.i].Value))
		sp.LastX, sp.LastY, sp.HasEnd = v.x, v.y, v.i == len(rs)-1
	}
	switch len(seen) {
	case 0:
		sp.Label = fmt.Sprintf("No rows in the last %d runs", len(rs))
	case 1:
		sp.Label = fmt.Sprintf("Rows in only one of the last %d runs: %s invalid", len(rs), seen[0])
	default:
		sp.Label = fmt.Sprintf("Invalid rate over the last %d runs: %s", len(rs), strings.Join(seen, ", "))
	}
	return sp
}

// vertex is a drawn point of a line: the run's index and its position.
type vertex struct {
	i    int
	x, y float64
}

// plot draws the rates as an SVG path, lifting the pen where a run had no
// rows so that a gap shows as a gap, not as zero; it returns the path and
// the points it drew.
func plot(rs []rate, x func(int) float64, y func(float64) float64) (string, []vertex) {
	var path strings.Builder
	var vs []vertex
	pen := false
	for i, r := range rs {
		if !r.OK {
			pen = false
			continue
		}
		v := vertex{i, x(i), y(r.Value)}
		switch {
		case pen:
			path.WriteString(" L")
		case path.Len() > 0:
			path.WriteString(" M")
		default:
			path.WriteString("M")
		}
		path.WriteString(num(v.x) + " " + num(v.y))
		pen = true
		vs = append(vs, v)
	}
	return path.String(), vs
}

// niceCeil rounds a rate up to 1, 2 or 5 times a power of ten, at least
// 1%, so an axis reads in round steps and an all-valid history draws flat
// at the bottom rather than filling the chart.
func niceCeil(v float64) float64 {
	if v <= 0.01 {
		return 0.01
	}
	if v >= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p+1e-12 {
			return math.Min(m*p, 1)
		}
	}
	return 1
}

func shortPercent(v float64) string {
	return strconv.FormatFloat(math.Round(v*10000)/100, 'f', -1, 64) + "%"
}

func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// markerPath draws a marker of radius r at (x, y) as a path; circles are
// drawn as circles by the template.
func markerPath(marker string, x, y, r float64) string {
	switch marker {
	case markerSquare:
		return fmt.Sprintf("M%s %sh%sv%sh-%sz", num(x-r), num(y-r), num(2*r), num(2*r), num(2*r))
	case markerTriangle:
		return fmt.Sprintf("M%s %sL%s %sL%s %sz", num(x), num(y-r-1), num(x+r+1), num(y+r), num(x-r-1), num(y+r))
	case markerDiamond:
		return fmt.Sprintf("M%s %sL%s %sL%s %sL%s %sz", num(x), num(y-r-1), num(x+r+1), num(y), num(x), num(y+r+1), num(x-r-1), num(y))
	}
	return ""
}
