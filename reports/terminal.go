package reports

import (
	"fmt"
	"io"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Terminal renders a table, one row per event, then the totals and run id.
func Terminal(w io.Writer, s *audit.Summary) error {
	fmt.Fprintf(w, "eventaudit run %s%s: %s, window %s\n\n", s.Run.RunID, labelNote(s.Run), s.Run.Source, Window(s.Run.Window))
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
			tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}}),
	)
	t.Header("Event", "Schema", "Rows", "Invalid", "Invalid %", "Most common check")
	for _, e := range s.Events {
		top := CheckLabel(e.TopCheck)
		if e.TopCheckCount > 0 {
			top = fmt.Sprintf("%s (%s)", top, Count(e.TopCheckCount))
		}
		if err := t.Append(EventLabel(e), SchemaLabel(e), Count(e.Rows), Count(e.InvalidRows),
			Percent(e.InvalidRate()), top); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n%s\n", Totals(s), VitalsLine(s))
	if line := TrendLine(s); line != "" {
		fmt.Fprintln(w, line)
	}
	for _, b := range s.Breaches {
		fmt.Fprintf(w, "FAILED threshold: %s\n", b)
	}
	for _, b := range s.Warnings {
		fmt.Fprintf(w, "WARNING threshold: %s\n", b)
	}
	if len(s.NotCheckable) > 0 {
		fmt.Fprintf(w, "Not checkable in this layout (%d rules):\n", len(s.NotCheckable))
		for _, n := range s.NotCheckable {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if line := DriftHeadline(s.Drift); line != "" {
		fmt.Fprintln(w, line)
		for _, sec := range DriftSections(s.Drift, maxDriftItems) {
			fmt.Fprintf(w, "  %s:\n", sec.Title)
			for _, it := range sec.Items {
				fmt.Fprintf(w, "    %s %s: %s\n", it.Event, it.Path, it.Detail)
			}
			if sec.More > 0 {
				fmt.Fprintf(w, "    …and %s more (eventaudit_property_stats has them all)\n", Count(int64(sec.More)))
			}
		}
	}
	if line := DriftCut(s.Drift); line != "" {
		fmt.Fprintln(w, line)
	}
	_, err := fmt.Fprintf(w, "Run %s: %s\n", s.Run.RunID, s.Run.Status)
	return err
}
