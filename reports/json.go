package reports

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

type jsonReport struct {
	RunID         string    `json:"run_id"`
	Source        string    `json:"source"`
	WindowStart   time.Time `json:"window_start"`
	WindowEnd     time.Time `json:"window_end"`
	Status        string    `json:"status"`
	RowsScanned   int64     `json:"rows_scanned"`
	RowsInvalid   int64     `json:"rows_invalid"`
	RowsUnplanned int64     `json:"rows_unplanned"`
	Violations    int64     `json:"violations"`
	// ViolationsSuppressed are the violations ignore: entries accepted.
	ViolationsSuppressed int64 `json:"violations_suppressed"`
	// NewViolations is set when a threshold asked for it.
	NewViolations *int64  `json:"new_violations,omitempty"`
	InvalidRate   float64 `json:"invalid_rate"`
	SchemasDigest string  `json:"schemas_digest"`
	Label         string  `json:"label,omitempty"`
	// LatestReceivedAt and FreshnessSeconds are null for an empty source.
	LatestReceivedAt *time.Time `json:"latest_received_at"`
	FreshnessSeconds *float64   `json:"freshness_seconds"`
	DuplicateRows    int64      `json:"duplicate_rows"`
	DuplicateRate    float64    `json:"duplicate_rate"`
	// RowsProven rows were proven valid or unplanned in the warehouse (pushdown) and
	// never left it; RowsFetched and BytesFetched did.
	RowsProven   int64        `json:"rows_proven"`
	RowsFetched  int64        `json:"rows_fetched"`
	BytesFetched int64        `json:"bytes_fetched"`
	Breaches     []jsonBreach `json:"breaches"`
	Warnings     []jsonBreach `json:"warnings"`
	Events       []jsonEvent  `json:"events"`
	Unplanned    []jsonUnplan `json:"unplanned"`
	// Trend is null for the first run of a source.
	Trend *jsonTrend `json:"trend"`
	// NotCheckable: rules the layout cannot honour (Segment's layout only).
	NotCheckable []string `json:"not_checkable,omitempty"`
	// Drift is null when the run kept no property profile.
	Drift *jsonDrift `json:"drift"`
}

// jsonDrift lists every drifting path; the per-type counts of every path
// are in eventaudit_property_stats.
type jsonDrift struct {
	Undeclared []jsonDriftPath `json:"undeclared"`
	Unseen     []jsonDriftPath `json:"unseen"`
	Mixed      []jsonDriftPath `json:"mixed"`
	// Truncated names the events whose profile hit its path cap.
	Truncated []string `json:"truncated"`
}

type jsonDriftPath struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	SchemaID string `json:"schema_id"`
	Path     string `json:"path"`
	// Values is how many values the path carried in EventRows messages.
	Values    int64 `json:"values"`
	EventRows int64 `json:"event_rows"`
	// Types are a mixed path's non-null types, commonest first.
	Types []jsonTypeCount `json:"types,omitempty"`
}

type jsonTypeCount struct {
	Type  string `json:"type"`
	Count int64  `json:"count"`
}

func newJSONDrift(d *audit.Drift) *jsonDrift {
	if d == nil {
		return nil
	}
	list := func(ps []audit.PropertyDrift) []jsonDriftPath {
		out := []jsonDriftPath{}
		for _, p := range ps {
			jp := jsonDriftPath{Type: p.Type, Name: p.Name, SchemaID: p.SchemaID, Path: p.Path, Values: p.Values, EventRows: p.EventRows}
			for _, t := range p.Types {
				jp.Types = append(jp.Types, jsonTypeCount{t.Type, t.Count})
			}
			out = append(out, jp)
		}
		return out
	}
	return &jsonDrift{Undeclared: list(d.Undeclared), Unseen: list(d.Unseen), Mixed: list(d.Mixed),
		Truncated: TruncatedLabels(d)}
}

type jsonTrend struct {
	PreviousRunID       string   `json:"previous_run_id"`
	PreviousWindowStart string   `json:"previous_window_start"`
	PreviousWindowEnd   string   `json:"previous_window_end"`
	RowsScanned         int64    `json:"rows_scanned_change"`
	RowsInvalid         int64    `json:"rows_invalid_change"`
	RowsInvalidRelative *float64 `json:"rows_invalid_relative_change"`
	InvalidRate         float64  `json:"invalid_rate_change"`
	RowsUnplanned       int64    `json:"rows_unplanned_change"`
}

type jsonBreach struct {
	Metric string  `json:"metric"`
	Limit  float64 `json:"limit"`
	// Actual is null where there is no figure: freshness of an empty source.
	Actual  *float64 `json:"actual"`
	Message string   `json:"message"`
}

func newJSONBreach(b audit.Breach) jsonBreach {
	jb := jsonBreach{Metric: b.Metric, Limit: b.Limit, Message: b.String()}
	if !math.IsInf(b.Actual, 0) && !math.IsNaN(b.Actual) {
		jb.Actual = &b.Actual
	}
	return jb
}

type jsonEvent struct {
	Type        string       `json:"type"`
	Name        string       `json:"name"`
	SchemaID    string       `json:"schema_id"`
	Unplanned   bool         `json:"unplanned"`
	Rows        int64        `json:"rows"`
	InvalidRows int64        `json:"invalid_rows"`
	InvalidRate float64      `json:"invalid_rate"`
	Violations  int64        `json:"violations"`
	NewFailure  bool         `json:"new_since_previous"`
	TopCheck    *jsonCheck   `json:"top_check,omitempty"`
	Example     *jsonExample `json:"example,omitempty"`
}

type jsonCheck struct {
	Keyword string `json:"keyword"`
	Path    string `json:"path"`
	Count   int64  `json:"count"`
}

type jsonExample struct {
	MessageID    string `json:"message_id"`
	InstancePath string `json:"instance_path"`
	Keyword      string `json:"keyword"`
	Message      string `json:"message"`
	Value        string `json:"value"`
}

type jsonUnplan struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// JSON renders the summary as one indented JSON object.
func JSON(w io.Writer, s *audit.Summary) error {
	r := s.Run
	out := jsonReport{
		RunID: r.RunID, Source: r.Source, WindowStart: r.Window.Start.UTC(), WindowEnd: r.Window.End.UTC(),
		Status: r.Status, RowsScanned: r.RowsScanned, RowsInvalid: r.RowsInvalid, RowsUnplanned: r.RowsUnplanned,
		Violations: r.Violations, ViolationsSuppressed: r.ViolationsSuppressed, NewViolations: s.NewViolations, InvalidRate: s.InvalidRate(), SchemasDigest: r.SchemasDigest,
		Label: r.Label, DuplicateRows: r.DuplicateRows, DuplicateRate: s.DuplicateRate(),
		RowsProven: r.RowsProven, RowsFetched: r.RowsFetched, BytesFetched: r.BytesFetched,
		Breaches: []jsonBreach{}, Warnings: []jsonBreach{}, Events: []jsonEvent{}, Unplanned: []jsonUnplan{}, NotCheckable: s.NotCheckable,
	}
	if age, ok := s.Freshness(); ok {
		latest, sec := r.LatestReceivedAt.UTC(), age.Seconds()
		out.LatestReceivedAt, out.FreshnessSeconds = &latest, &sec
	}
	for _, b := range s.Breaches {
		out.Breaches = append(out.Breaches, newJSONBreach(b))
	}
	for _, b := range s.Warnings {
		out.Warnings = append(out.Warnings, newJSONBreach(b))
	}
	for _, e := range s.Events {
		je := jsonEvent{Type: e.Type, Name: e.Name, SchemaID: e.SchemaID, Unplanned: e.Unplanned, Rows: e.Rows,
			InvalidRows: e.InvalidRows, InvalidRate: e.InvalidRate(), Violations: e.Violations,
			NewFailure: e.NewFailure && s.Previous != nil}
		if e.TopCheckCount > 0 {
			je.TopCheck = &jsonCheck{Keyword: e.TopCheck.Keyword, Path: e.TopCheck.Path, Count: e.TopCheckCount}
		}
		if x := e.Example; x != nil {
			je.Example = &jsonExample{MessageID: x.MessageID, InstancePath: x.InstancePath, Keyword: x.Keyword,
				Message: x.Message, Value: x.Value}
		}
		out.Events = append(out.Events, je)
	}
	for _, e := range s.Unplanned() {
		out.Unplanned = append(out.Unplanned, jsonUnplan{Type: e.Type, Name: e.Name, Rows: e.Rows})
	}
	out.Drift = newJSONDrift(s.Drift)
	if t := s.Trend(); t != nil {
		out.Trend = &jsonTrend{PreviousRunID: t.Previous.RunID,
			PreviousWindowStart: t.Previous.Window.Start.UTC().Format(time.RFC3339),
			PreviousWindowEnd:   t.Previous.Window.End.UTC().Format(time.RFC3339),
			RowsScanned:         t.RowsScanned, RowsInvalid: t.RowsInvalid, InvalidRate: t.InvalidRate, RowsUnplanned: t.RowsUnplanned}
		if !math.IsNaN(t.RowsInvalidRel) {
			out.Trend.RowsInvalidRelative = &t.RowsInvalidRel
		}
	}
	return writeJSON(w, out)
}

// writeJSON writes v as indented JSON, as every JSON output here is.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Read by tools and people, never embedded in HTML: "<" stays "<".
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
