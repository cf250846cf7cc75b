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

// Formats of an audit report.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
	FormatSlack    = "slack"
)

// Options are what a report needs beyond the summary.
type Options struct {
	// ViolationsTable is the qualified table holding the run's violations,
	// for the query a person runs next; "" when nothing was written.
	ViolationsTable string
	// DryRun says nothing was written.
	DryRun bool
	// Slack shapes the digest (the slack format, and the posted digest).
	Slack SlackOptions
}

// A Format is one way to render an audit's summary.
type Format struct {
	Name string
	// Help is the format's description in --help.
	Help   string
	render func(w io.Writer, s *audit.Summary, o Options) error
}

// Formats are the audit report formats, in the order --help lists them.
// New outputs are added here and nowhere else: the flag's help and its
// validation come from this list.
func Formats() []Format {
	return []Format{
		{FormatTable, "a terminal table", func(w io.Writer, s *audit.Summary, o Options) error {
			if err := Terminal(w, s); err != nil {
				return err
			}
			return whereToLook(w, s, o)
		}},
		{FormatJSON, "the summary as JSON", func(w io.Writer, s *audit.Summary, _ Options) error { return JSON(w, s) }},
		{FormatMarkdown, "Markdown, for a CI job summary or a PR comment", func(w io.Writer, s *audit.Summary, _ Options) error { return Markdown(w, s) }},
		{FormatJUnit, "JUnit XML for a CI system's test view: a test case per event and schema", func(w io.Writer, s *audit.Summary, _ Options) error { return JUnit(w, s) }},
		{FormatSlack, "the Slack digest's Block Kit JSON", func(w io.Writer, s *audit.Summary, o Options) error { return SlackJSON(w, s, o.Slack) }},
	}
}

// FormatNames lists the formats' names.
func FormatNames() []string {
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
	}
	return names
}

// FormatHelp describes every format, for --help.
func FormatHelp() string {
	var parts []string
	for _, f := range Formats() {
		parts = append(parts, f.Name+" ("+f.Help+")")
	}
	return strings.Join(parts, ", ")
}

// CheckFormat refuses a format no renderer has.
func CheckFormat(name string) error { return checkFormat(name, FormatNames()) }

// Render writes s to w in format; "" is table.
func Render(w io.Writer, format string, s *audit.Summary, o Options) error {
	if format == "" {
		format = FormatTable
	}
	for _, f := range Formats() {
		if f.Name == format {
			return f.render(w, s, o)
		}
	}
	return CheckFormat(format)
}

// whereToLook ends the terminal report with the query a person runs next.
func whereToLook(w io.Writer, s *audit.Summary, o Options) error {
	var err error
	switch {
	case o.DryRun:
		_, err = fmt.Fprintln(w, "Dry run: nothing was written.")
	case o.ViolationsTable != "":
		_, err = fmt.Fprintf(w, "Violations are in %s; query them with:\n  SELECT * FROM %s WHERE run_id = '%s';\n",
			o.ViolationsTable, o.ViolationsTable, s.Run.RunID)
	}
	return err
}

// OrList joins names for a sentence: "a, b or c".
func OrList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// EventLabel names an event for people: "track Order Completed",
// "page Home", "identify", or a bare name when only the plan knows it (a
// schema file that does not compile).
func EventLabel(e audit.EventSummary) string {
	switch {
	case e.Type == "" && e.Name != "":
		return e.Name
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
	line := fmt.Sprintf("%s rows scanned: %s invalid (%s), %s unplanned, %s violations",
		Count(r.RowsScanned), Count(r.RowsInvalid), Percent(s.InvalidRate()), Count(r.RowsUnplanned), Count(r.Violations))
	if r.ViolationsSuppressed > 0 {
		line += fmt.Sprintf(" (and %s accepted by ignore: entries, not counted)", Count(r.ViolationsSuppressed))
	}
	return line + "."
}

// labelNote is " (label adhoc)" for a labelled run.
func labelNote(r audit.Run) string {
	if r.Label == "" {
		return ""
	}
	return " (label " + r.Label + ")"
}

// VitalsLine says how fresh the source is and how many messages its loader
// wrote twice, shared by the text formats.
func VitalsLine(s *audit.Summary) string {
	fresh := "The source holds no rows at all"
	if age, ok := s.Freshness(); ok {
		fresh = fmt.Sprintf("Newest received_at %s (%s before the run)",
			s.Run.LatestReceivedAt.UTC().Format("2006-01-02T15:04:05Z07:00"), audit.FormatAge(age))
	} else if s.Run.RowsScanned > 0 {
		fresh = "Newest received_at not measured"
	}
	line := fmt.Sprintf("%s; %s duplicate message_ids in the window (%s).", fresh, Count(s.Run.DuplicateRows), Percent(s.DuplicateRate()))
	if s.Run.RowsProven > 0 {
		line += fmt.Sprintf(" %s rows were proven valid or unplanned in the warehouse; %s rows (%s) left it.",
			Count(s.Run.RowsProven), Count(s.Run.RowsFetched), Bytes(s.Run.BytesFetched))
	}
	return line
}

// Bytes formats a size in bytes, KB, MB or GB (powers of 1000).
func Bytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
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
