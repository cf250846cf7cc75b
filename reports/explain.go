package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Explanation is what `eventaudit explain` prints: whether an audit with
// the same settings would prove rows valid in the warehouse, what each
// matching rule proves, and the statement it would send.
type Explanation struct {
	Source string `json:"source"`
	// Pushdown is the setting (auto, on or off); Used, whether the audit
	// would prove rows in SQL; Reason, why or why not.
	Pushdown string          `json:"pushdown"`
	Used     bool            `json:"used"`
	Reason   string          `json:"reason"`
	Rules    []ExplainedRule `json:"rules"`
	// SQL is the statement each scan slice sends, whether or not the
	// setting would use it; "" where the source cannot prove rows.
	SQL string `json:"sql,omitempty"`
	// Statements, when above 1, is how many equal parts of the window the
	// statement runs over at once, one connection each; with PerTable, how
	// many tables are proven at once.
	Statements int `json:"statements_at_once,omitempty"`
	// PerTable says SQL holds one statement per table (Segment's layout).
	PerTable bool `json:"one_statement_per_table,omitempty"`
}

// ExplainedRule is one matching rule of a pushdown plan.
type ExplainedRule struct {
	Type string `json:"type"`
	// Names are the event or page names the rule takes; Others, that it
	// takes every other name, a missing one included.
	Names    []string `json:"names,omitempty"`
	Others   bool     `json:"other_names,omitempty"`
	SchemaID string   `json:"schema_id"`
	// Unplanned: no schema matches; the rows proven are counted as
	// unplanned.
	Unplanned bool `json:"unplanned,omitempty"`
	// Proven is "all" (every row the schema accepts can be proven), "part"
	// (some values are left to Go, Why says which) or "none".
	Proven string `json:"proven"`
	Why    string `json:"why,omitempty"`
}

// Explain prints an Explanation: a table for a person, or JSON.
func Explain(w io.Writer, format string, e Explanation) error {
	if format == FormatJSON {
		if e.Rules == nil {
			e.Rules = []ExplainedRule{}
		}
		return writeJSON(w, e)
	}
	verdict := "rows proven valid in SQL stay in the warehouse"
	if !e.Used {
		verdict = "every row is fetched and judged by eventaudit"
	}
	if _, err := fmt.Fprintf(w, "source:   %s\npushdown: %s: %s\n          %s\n\n", e.Source, e.Pushdown, verdict, e.Reason); err != nil {
		return err
	}
	if len(e.Rules) == 0 {
		if _, err := fmt.Fprintln(w, "No schema matches any call type: nothing can be proven."); err != nil {
			return err
		}
	} else {
		// Reasons are notes under the table, numbered once each: many rules
		// share one, and a table cell would be as wide as the longest.
		var notes []string
		note := map[string]int{}
		t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAutoWrap(tw.WrapNone))
		t.Header("Call", "Name", "Schema", "Proven in SQL")
		for _, r := range e.Rules {
			name := strings.Join(r.Names, ", ")
			if r.Others {
				name = "(any other name)"
			}
			proven := r.Proven
			if r.Why != "" {
				if _, ok := note[r.Why]; !ok {
					notes = append(notes, r.Why)
					note[r.Why] = len(notes)
				}
				proven = fmt.Sprintf("%s (%d)", proven, note[r.Why])
			}
			schema := r.SchemaID
			if r.Unplanned {
				schema = "(none: counted as unplanned)"
			}
			if err := t.Append(r.Type, name, schema, proven); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		for i, n := range notes {
			if _, err := fmt.Fprintf(w, "(%d) %s\n", i+1, n); err != nil {
				return err
			}
		}
	}
	if e.SQL == "" {
		return nil
	}
	sends := "The statement each scan slice sends (its parameters are the slice's start and end)"
	switch {
	case e.PerTable && e.Statements > 1:
		sends = fmt.Sprintf("The statements, one per table of the layout, %d at once, on a connection each (their parameters are the window's start and end)", e.Statements)
	case e.PerTable:
		sends = "The statements, one per table of the layout (their parameters are the start and end of the window, or of each slice where the engine reads in slices)"
	case e.Statements > 1:
		sends = fmt.Sprintf("The statement sent for each of %d equal parts of the window, all at once, on a connection each (its parameters are the part's start and end)", e.Statements)
	}
	_, err := fmt.Fprintf(w, "\n%s:\n\n%s\n", sends, e.SQL)
	return err
}
