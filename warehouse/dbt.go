package warehouse

import (
	"fmt"
	"io"
	"slices"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"gopkg.in/yaml.v3"
)

// resultDocs describes the result tables and every column they have, for
// the dbt sources file and anything else that documents them. A test
// checks that each column of the DDL is described here.
var resultDocs = []struct {
	table, about string
	columns      map[string]string
}{
	{sqlwh.RunsTable, "One row per completed eventaudit run. A run that failed wrote nothing, so only finished runs appear.", map[string]string{
		"run_id":                "The run's id; every row of the other tables carries it.",
		"source":                "The audited table (schema.table), or segment:SCHEMA for Segment's layout.",
		"window_start":          "Start of the audited window of received_at, inclusive (UTC).",
		"window_end":            "End of the audited window, exclusive (UTC).",
		"started_at":            "When the run started (UTC).",
		"finished_at":           "When the run finished (UTC).",
		"status":                "passed, warned (over a --warn-on threshold) or failed (over a --fail-on threshold).",
		"rows_scanned":          "Rows of the window the run audited.",
		"rows_invalid":          "Rows with at least one violation not accepted by an ignore: entry.",
		"rows_unplanned":        "Rows of events that no schema in the plan matches.",
		"violations":            "Failed checks, one per message and check, accepted ones excluded.",
		"schemas_digest":        "A digest of the schema files the run used.",
		"version":               "The eventaudit version that wrote the run.",
		"shard":                 "K/N when the run audited one shard of the window; empty for all of it.",
		"label":                 "The run's --label, which keeps ad-hoc runs out of the nightly trend; empty for a scheduled run.",
		"latest_received_at":    "The newest received_at of the source when the run started, in the window or not.",
		"duplicate_rows":        "Rows of the window whose message_id another row of the window already has.",
		"rows_proven":           "Rows the warehouse's SQL proved valid (pushdown), which never left it.",
		"rows_fetched":          "Rows eventaudit fetched and validated itself.",
		"bytes_fetched":         "Bytes of message id and payload eventaudit fetched.",
		"violations_suppressed": "Violations that ignore: entries accepted; written, but not counted in violations.",
	}},
	{sqlwh.ViolationsTable, "One row per failed check per message.", map[string]string{
		"run_id":        "The run that found the violation.",
		"message_id":    "The Segment messageId of the message.",
		"received_at":   "The message's received_at (UTC).",
		"event_type":    "track, page, screen, identify or group.",
		"event_name":    "The event name (track), page or screen name; empty for identify and group.",
		"schema_id":     "The schema the message was validated against.",
		"instance_path": "A JSON pointer into the message to the failing value, e.g. /properties/products/0/price.",
		"keyword":       "The JSON Schema keyword that failed (type, required, enum, …), or payload, schema_id, unplanned, encoding.",
		"message":       "What failed, in words.",
		"value":         "The offending value, as --values keeps it: JSON (keep), strings masked (redact), a keyed hash (hash) or its type (types).",
		"source":        "The audited source, as in eventaudit_runs.",
		"suppressed":    "True when an ignore: entry accepted the violation; it then counts toward no threshold.",
	}},
	{sqlwh.StatsTable, "One row per event and schema per run: its rows and invalid rows.", map[string]string{
		"run_id":       "The run.",
		"event_type":   "track, page, screen, identify or group.",
		"event_name":   "The event name (track), page or screen name; empty for identify and group.",
		"schema_id":    "The schema the event was validated against; empty when unplanned.",
		"rows":         "Rows of the event in the window.",
		"invalid_rows": "Rows of the event with at least one counted violation.",
		"unplanned":    "True when no schema in the plan matches the event.",
		"source":       "The audited source, as in eventaudit_runs.",
	}},
	{sqlwh.PropertiesTable, "One row per property path and JSON type of each event per run: what the apps actually sent.", map[string]string{
		"run_id":     "The run.",
		"event_type": "track, page, screen, identify or group.",
		"event_name": "The event name (track), page or screen name; empty for identify and group.",
		"schema_id":  "The schema the event was validated against; empty when unplanned.",
		"path":       "A JSON pointer into the message, with * for every item of an array, e.g. /properties/products/*/sku.",
		"json_type":  "string, integer, number, boolean, array, object or null.",
		"rows":       "Values of this type at the path in the window: messages, or items under an array.",
		"in_plan":    "True when the event's schema names the path, every level of it; false for undeclared properties and unplanned events.",
		"example":    "The smallest value of this type, as --values keeps it; empty for arrays, objects and null.",
		"source":     "The audited source, as in eventaudit_runs.",
	}},
}

// DBTSources describes the result tables as a dbt sources file (schema
// version 2): each table and column with its description, tests on the
// keys and the run status, and a freshness check on the runs table that
// warns when no audit has finished in a day and a half, as a nightly job
// that stopped would cause.
type DBTSources struct {
	// Name is the dbt source name: {{ source('eventaudit', 'eventaudit_runs') }}.
	Name string
	// Schema holds the result tables; Database is left to dbt's target
	// when empty.
	Schema, Database string
}

// Write writes the file.
func (o DBTSources) Write(w io.Writer) error {
	type test any
	type column struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		DataTests   []test `yaml:"data_tests,omitempty"`
	}
	type table struct {
		Name          string         `yaml:"name"`
		Description   string         `yaml:"description"`
		LoadedAtField string         `yaml:"loaded_at_field,omitempty"`
		Freshness     map[string]any `yaml:"freshness,omitempty"`
		Columns       []column       `yaml:"columns"`
	}
	type source struct {
		Name        string  `yaml:"name"`
		Description string  `yaml:"description"`
		Database    string  `yaml:"database,omitempty"`
		Schema      string  `yaml:"schema"`
		Tables      []table `yaml:"tables"`
	}
	statuses := []string{audit.StatusPassed, audit.StatusWarned, audit.StatusFailed}
	var tables []table
	for _, doc := range resultDocs {
		t := table{Name: doc.table, Description: doc.about}
		if doc.table == sqlwh.RunsTable {
			t.LoadedAtField = "finished_at"
			t.Freshness = map[string]any{
				"warn_after":  map[string]any{"count": 36, "period": "hour"},
				"error_after": map[string]any{"count": 72, "period": "hour"},
			}
		}
		for _, name := range resultColumns(doc.table) {
			c := column{Name: name, Description: doc.columns[name]}
			switch {
			case name == "run_id" && doc.table == sqlwh.RunsTable:
				c.DataTests = []test{"not_null", "unique"}
			case name == "run_id":
				c.DataTests = []test{"not_null", map[string]any{"relationships": map[string]any{
					"to": fmt.Sprintf("source('%s', '%s')", o.Name, sqlwh.RunsTable), "field": "run_id"}}}
			case name == "status":
				c.DataTests = []test{"not_null", map[string]any{"accepted_values": map[string]any{"values": statuses}}}
			case slices.Contains([]string{"source", "window_start", "window_end", "finished_at", "message_id", "keyword"}, name):
				c.DataTests = []test{"not_null"}
			}
			t.Columns = append(t.Columns, c)
		}
		tables = append(tables, t)
	}
	doc := struct {
		Version int      `yaml:"version"`
		Sources []source `yaml:"sources"`
	}{2, []source{{
		Name:        o.Name,
		Description: "eventaudit's results: each audit run of the product-analytics events, its violations, its per-event statistics and property profile.",
		Database:    o.Database, Schema: o.Schema, Tables: tables,
	}}}
	if _, err := io.WriteString(w, "# Written by `eventaudit dbt`; run it again after upgrading eventaudit rather than editing.\n"); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// resultColumns lists a result table's columns in DDL order.
func resultColumns(table string) []string {
	switch table {
	case sqlwh.RunsTable:
		return sqlwh.RunsColumns
	case sqlwh.ViolationsTable:
		return sqlwh.ViolationsColumns
	case sqlwh.StatsTable:
		return sqlwh.StatsColumns
	case sqlwh.PropertiesTable:
		return sqlwh.PropertiesColumns
	}
	return nil
}
