package reports_test

import (
	"bytes"
	"testing"

	. "github.com/eventaudit/eventaudit/reports"
)

// explain's text and JSON, for a source that proves rows (in parts of the
// window at once, slice by slice, or table by table) and one that cannot:
// every kind of rule, and a statement or none.
func TestExplain(t *testing.T) {
	rules := []ExplainedRule{
		{Type: "track", Names: []string{"Order Completed"}, SchemaID: "segment/shop/Order Completed/1-1.json", Proven: "all"},
		{Type: "track", Names: []string{"Signed Up"}, SchemaID: "segment/shop/Signed Up/1-0.json", Proven: "part",
			Why: "a string checked against a pattern (/referral_code) is left to Go: Postgres's regular expressions are not ECMA-262's"},
		{Type: "page", Others: true, SchemaID: "segment/shop/Page/1-0.json", Proven: "none", Why: "a recursive $ref"},
		{Type: "identify", SchemaID: "segment/shop/Identify/1-0.json", Proven: "all"},
		{Type: "track", Others: true, Unplanned: true, Proven: "all"},
	}
	for name, e := range map[string]Explanation{
		"explain-postgres": {Source: "analytics.events", Pushdown: "on", Used: true, Reason: "--pushdown on", Rules: rules,
			SQL: "WITH \"proof\" AS (SELECT 1)\nSELECT * FROM \"proof\"", Statements: 2},
		"explain-duckdb": {Source: "main.events", Pushdown: "on", Used: true, Reason: "--pushdown on", Rules: rules[:1],
			SQL: "WITH \"proof\" AS (SELECT 1)\nSELECT * FROM \"proof\""},
		"explain-segment": {Source: "segment:web_prod", Pushdown: "auto", Used: true,
			Reason: "Segment's layout keeps properties as columns, which the server compares for less than sending each row costs", Rules: rules[:2],
			SQL:        "WITH \"proof\" AS (SELECT 1 FROM \"web_prod\".\"order_completed\")\nSELECT * FROM \"proof\";\n\nWITH \"proof\" AS (SELECT 1 FROM \"web_prod\".\"signed_up\")\nSELECT * FROM \"proof\";",
			Statements: 2, PerTable: true},
		"explain-empty": {Source: "analytics.events", Pushdown: "auto", Reason: "no schema of the plan can be proven in SQL"},
	} {
		for _, format := range []string{FormatTable, FormatJSON} {
			var b bytes.Buffer
			if err := Explain(&b, format, e); err != nil {
				t.Fatal(err)
			}
			golden(t, name+map[string]string{FormatTable: ".txt", FormatJSON: ".json"}[format], b.Bytes())
		}
	}
}
