// Package reports renders an audit.Summary. Every format reads the same
// summary and computes nothing of its own, so the terminal, JSON, Markdown
// and Slack outputs always agree.
package reports

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// Formats accepted by Render.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// Render writes s to w in format.
func Render(w io.Writer, format string, s *audit.Summary) error {
	switch format {
	case FormatTable, "":
		return Terminal(w, s)
	case FormatJSON:
		return JSON(w, s)
	case FormatMarkdown:
		return Markdown(w, s)
	}
	return fmt.Errorf("unknown format %q (use table, json or markdown)", format)
}

// EventLabel names an event for people: "track Order Completed",
// "page Home", "identify".
func EventLabel(e audit.EventSummary) string {
	switch {
	case e.Type == "":
		return "(unreadable payload)"
	case e.Name == "":
		return e.Type
	}
	return e.Type + " " + e.Name
}

// CheckLabel is "keyword at /path", or just the keyword at the root.
func CheckLabel(c audit.Check) string {
	if c.Keyword == "" {
		return ""
	}
	if c.Path == "" {
		return c.Keyword
	}
	return c.Keyword + " at " + c.Path
}

// Percent formats a rate as "12.34%".
func Percent(r float64) string { return strconv.FormatFloat(r*100, 'f', 2, 64) + "%" }

// Count formats n with thousands separators.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// SchemaLabel is the schema id, or what stands in its place.
func SchemaLabel(e audit.EventSummary) string {
	switch {
	case e.Unplanned:
		return "(unplanned)"
	case e.SchemaID == "":
		return "-"
	}
	return e.SchemaID
}

// Window renders the audited window.
func Window(w audit.Window) string {
	const layout = "2006-01-02T15:04:05Z07:00"
	return w.Start.UTC().Format(layout) + " → " + w.End.UTC().Format(layout)
}

// Totals is the one-line verdict shared by the text formats.
func Totals(s *audit.Summary) string {
	r := s.Run
	return fmt.Sprintf("%s rows scanned: %s invalid (%s), %s unplanned, %s violations.",
		Count(r.RowsScanned), Count(r.RowsInvalid), Percent(s.InvalidRate()), Count(r.RowsUnplanned), Count(r.Violations))
}

// Signed formats a count change: "+12", "-3", "±0".
func Signed(n int64) string {
	switch {
	case n > 0:
		return "+" + Count(n)
	case n < 0:
		return "-" + Count(-n)
	}
	return "±0"
}

// TrendLine says how the run compares with the previous one, or "" for a
// first run.
func TrendLine(s *audit.Summary) string {
	t := s.Trend()
	if t == nil {
		return ""
	}
	rel := ""
	if !math.IsNaN(t.RowsInvalidRel) {
		rel = fmt.Sprintf(", %+.1f%%", t.RowsInvalidRel*100)
	}
	return fmt.Sprintf("Since run %s (%s): invalid rows %s%s, invalid rate %+.2f pp, unplanned %s, rows scanned %s.",
		t.Previous.RunID, Window(t.Previous.Window), Signed(t.RowsInvalid), rel, t.InvalidRate*100,
		Signed(t.RowsUnplanned), Signed(t.RowsScanned))
}
