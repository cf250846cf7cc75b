package reports

import (
	"fmt"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// maxDriftItems is how many paths of each kind of drift a report lists;
// the JSON report and eventaudit_property_stats have them all.
const maxDriftItems = 10

// DriftSection is one kind of drift as every report words it.
type DriftSection struct {
	// Key names the kind in JSON: undeclared, unseen, mixed.
	Key   string
	Title string
	Items []DriftItem
	// More is how many items the section leaves out.
	More int
}

// DriftItem is one path of one event.
type DriftItem struct {
	Event, Path, Detail string
}

// DriftSections words the run's drift, at most n items a section (n <= 0
// lists all); nil when there is none or no profile.
func DriftSections(d *audit.Drift, n int) []DriftSection {
	if d.Empty() {
		return nil
	}
	var out []DriftSection
	add := func(key, title string, ps []audit.PropertyDrift, detail func(audit.PropertyDrift) string) {
		if len(ps) == 0 {
			return
		}
		sec := DriftSection{Key: key, Title: title}
		shown := ps
		if n > 0 && len(ps) > n {
			shown, sec.More = ps[:n], len(ps)-n
		}
		for _, p := range shown {
			sec.Items = append(sec.Items, DriftItem{Event: driftEvent(p), Path: p.Path, Detail: detail(p)})
		}
		out = append(out, sec)
	}
	add("undeclared", "Sent but not in the plan", d.Undeclared, func(p audit.PropertyDrift) string {
		if strings.Contains(p.Path, "/*") { // items, not messages
			return fmt.Sprintf("%s in %s", plural(p.Values, "item", "items"), plural(p.EventRows, "message", "messages"))
		}
		return fmt.Sprintf("in %s of %s (%s)", Count(p.Values), plural(p.EventRows, "message", "messages"), Percent(p.Share()))
	})
	add("unseen", "In the plan, never sent", d.Unseen, func(p audit.PropertyDrift) string {
		return "none in " + plural(p.EventRows, "message", "messages")
	})
	add("mixed", "Mixed types", d.Mixed, func(p audit.PropertyDrift) string {
		parts := make([]string, len(p.Types))
		for i, t := range p.Types {
			parts[i] = t.Type + " " + Count(t.Count)
		}
		return fmt.Sprintf("%s (%s not %s)", strings.Join(parts, ", "), Percent(p.Share()), p.Types[0].Type)
	})
	return out
}

// DriftHeadline counts the drift in one line, "" when there is none.
func DriftHeadline(d *audit.Drift) string {
	if d.Empty() {
		return ""
	}
	var parts []string
	if n := len(d.Undeclared); n > 0 {
		parts = append(parts, plural(int64(n), "property", "properties")+" sent but not in the plan")
	}
	if n := len(d.Unseen); n > 0 {
		parts = append(parts, plural(int64(n), "plan property", "plan properties")+" never sent")
	}
	if n := len(d.Mixed); n > 0 {
		parts = append(parts, plural(int64(n), "property", "properties")+" of mixed types")
	}
	return "Drift from the plan: " + strings.Join(parts, ", ") + "."
}

// DriftCut says which events' profiles hit a cap, "" when none did.
func DriftCut(d *audit.Drift) string {
	if d == nil || len(d.Truncated) == 0 {
		return ""
	}
	return fmt.Sprintf("The profile of %s hit its caps (%d paths per event, %s in the run, paths of at most %d bytes): later paths were not profiled.",
		strings.Join(TruncatedLabels(d), ", "), d.Limits.PathsPerEvent, Count(int64(d.Limits.Paths)), audit.MaxProfilePathBytes)
}

// TruncatedLabels names the events whose profile hit a cap.
func TruncatedLabels(d *audit.Drift) []string {
	out := []string{}
	for _, t := range d.Truncated {
		out = append(out, driftEvent(t))
	}
	return out
}

func driftEvent(p audit.PropertyDrift) string {
	return EventLabel(audit.EventSummary{Type: p.Type, Name: p.Name})
}

// plural is "1 row" or "2,000 rows".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}
