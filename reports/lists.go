package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// ListFormats are the formats of the listings (runs, schemas list,
// query): a table for a person, JSON for a program.
func ListFormats() []string { return []string{FormatTable, FormatJSON} }

// CheckListFormat refuses a format the listings do not have.
func CheckListFormat(name string) error { return checkFormat(name, ListFormats()) }

// checkFormat refuses a format that is not one of names, listing them.
func checkFormat(name string, names []string) error {
	if slices.Contains(names, name) {
		return nil
	}
	return fmt.Errorf("unknown format %q (use %s)", name, OrList(names))
}

// Runs lists completed runs, as `eventaudit runs` shows them.
func Runs(w io.Writer, format string, runs []audit.Run) error {
	if err := CheckListFormat(format); err != nil {
		return err
	}
	if format == FormatJSON {
		type jsonRun struct {
			RunID         string    `json:"run_id"`
			Source        string    `json:"source"`
			Shard         string    `json:"shard"`
			WindowStart   time.Time `json:"window_start"`
			WindowEnd     time.Time `json:"window_end"`
			FinishedAt    time.Time `json:"finished_at"`
			Status        string    `json:"status"`
			RowsScanned   int64     `json:"rows_scanned"`
			RowsInvalid   int64     `json:"rows_invalid"`
			RowsUnplanned int64     `json:"rows_unplanned"`
			Violations    int64     `json:"violations"`
		}
		out := []jsonRun{}
		for _, r := range runs {
			out = append(out, jsonRun{r.RunID, r.Source, r.Shard.String(), r.Window.Start, r.Window.End, r.FinishedAt, r.Status,
				r.RowsScanned, r.RowsInvalid, r.RowsUnplanned, r.Violations})
		}
		return writeJSON(w, out)
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
			tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}}))
	t.Header("Run", "Source", "Shard", "Window", "Status", "Rows", "Invalid", "Unplanned", "Violations")
	for _, r := range runs {
		if err := t.Append(r.RunID, r.Source, r.Shard.String(), Window(r.Window), r.Status, Count(r.RowsScanned),
			Count(r.RowsInvalid), Count(r.RowsUnplanned), Count(r.Violations)); err != nil {
			return err
		}
	}
	return t.Render()
}

// SchemaEntry is one schema file in `eventaudit schemas list`.
type SchemaEntry struct {
	ID       string `json:"id"`
	Plan     string `json:"plan"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	File     string `json:"file"`
	Location string `json:"location"`
	Compiles bool   `json:"compiles"`
	Error    string `json:"error,omitempty"`
}

// Schemas lists schema files; where names the schemas' root for the
// table's closing line.
func Schemas(w io.Writer, format string, entries []SchemaEntry, where string) error {
	if err := CheckListFormat(format); err != nil {
		return err
	}
	if format == FormatJSON {
		if entries == nil {
			entries = []SchemaEntry{}
		}
		return writeJSON(w, entries)
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("ID", "Plan", "Event", "Version", "File", "Compiles")
	for _, e := range entries {
		ok := "yes"
		if !e.Compiles {
			ok = "NO: " + e.Error
		}
		if err := t.Append(e.ID, e.Plan, e.Name, e.Version, e.Location, ok); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s schemas in %s\n", Count(int64(len(entries))), where)
	return err
}

// QueryRows prints what eventaudit query read: a table with NULL shown as
// NULL, or JSON objects (null for NULL) in column order; more says the
// rows were cut at the limit, which the table says in a last line.
func QueryRows(w io.Writer, format string, cols []string, rows [][]*string, more bool) error {
	if err := CheckListFormat(format); err != nil {
		return err
	}
	if format == FormatJSON {
		out := make([]orderedRow, 0, len(rows))
		for _, r := range rows {
			out = append(out, orderedRow{cols, r})
		}
		return writeJSON(w, out)
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(anySlice(cols)...)
	for _, r := range rows {
		cells := make([]any, len(r))
		for i, c := range r {
			cells[i] = "NULL"
			if c != nil {
				cells[i] = *c
			}
		}
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	note := fmt.Sprintf("%s rows", Count(int64(len(rows))))
	if more {
		note = fmt.Sprintf("the first %s rows; raise --limit for more", Count(int64(len(rows))))
	}
	_, err := fmt.Fprintln(w, "("+note+")")
	return err
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// orderedRow is one row as a JSON object whose keys keep the columns'
// order.
type orderedRow struct {
	cols []string
	vals []*string
}

func (r orderedRow) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(r.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Check is one finding of `eventaudit doctor`.
type Check struct {
	Name string `json:"check"`
	// Status is "ok", "fail", or "skip" for a check that could not run
	// because one before it failed.
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// Checks prints doctor's findings: one line each for a person, or JSON.
func Checks(w io.Writer, format string, checks []Check) error {
	if format == FormatJSON {
		if checks == nil {
			checks = []Check{}
		}
		return writeJSON(w, checks)
	}
	width := 0
	for _, c := range checks {
		width = max(width, len(c.Name))
	}
	for _, c := range checks {
		mark := map[string]string{"ok": "ok  ", "fail": "FAIL", "skip": "skip"}[c.Status]
		if _, err := fmt.Fprintf(w, "%s  %-*s  %s\n", mark, width, c.Name, c.Detail); err != nil {
			return err
		}
	}
	return nil
}
