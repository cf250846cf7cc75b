package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// Markdown renders the summary for a pull request, wiki or ticket.
func Markdown(w io.Writer, s *audit.Summary) error {
	r := s.Run
	var b strings.Builder
	fmt.Fprintf(&b, "## eventaudit: %s %s\n\n", r.Source, strings.ToUpper(r.Status))
	fmt.Fprintf(&b, "Run `%s`%s, window %s.\n\n", r.RunID, labelNote(r), Window(r.Window))
	fmt.Fprintf(&b, "%s\n%s\n\n", Totals(s), VitalsLine(s))
	if line := TrendLine(s); line != "" {
		fmt.Fprintf(&b, "%s\n\n", line)
	}
	for _, br := range s.Breaches {
		fmt.Fprintf(&b, "- **Failed threshold:** %s\n", br)
	}
	for _, br := range s.Warnings {
		fmt.Fprintf(&b, "- **Warning:** %s\n", br)
	}
	if len(s.Breaches)+len(s.Warnings) > 0 {
		b.WriteString("\n")
	}
	if len(s.NotCheckable) > 0 {
		b.WriteString("Not checkable in this layout:\n\n")
		for _, n := range s.NotCheckable {
			fmt.Fprintf(&b, "- %s\n", mdEscape(n))
		}
		b.WriteString("\n")
	}
	b.WriteString("| Event | Schema | Rows | Invalid | Invalid % | Most common check |\n")
	b.WriteString("|---|---|--:|--:|--:|---|\n")
	for _, e := range s.Events {
		top := ""
		if e.TopCheckCount > 0 {
			top = fmt.Sprintf("`%s` (%s)", CheckLabel(e.TopCheck), Count(e.TopCheckCount))
		}
		label := mdEscape(EventLabel(e))
		if e.NewFailure && s.Previous != nil {
			label += " (new)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", label, mdEscape(SchemaLabel(e)),
			Count(e.Rows), Count(e.InvalidRows), Percent(e.InvalidRate()), top)
	}
	if line := DriftHeadline(s.Drift); line != "" {
		fmt.Fprintf(&b, "\n### %s\n\n", strings.TrimSuffix(line, "."))
		b.WriteString("| Drift | Event | Path | Detail |\n|---|---|---|---|\n")
		for _, sec := range DriftSections(s.Drift, maxDriftItems) {
			for _, it := range sec.Items {
				fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", sec.Title, mdEscape(it.Event), mdEscape(it.Path), it.Detail)
			}
			if sec.More > 0 {
				fmt.Fprintf(&b, "| %s | …and %s more | | |\n", sec.Title, Count(int64(sec.More)))
			}
		}
	}
	if line := DriftCut(s.Drift); line != "" {
		fmt.Fprintf(&b, "\n%s\n", mdEscape(line))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
