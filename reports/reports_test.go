package reports_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// summaries are hand-built so the reports are tested apart from the pipeline.
func summaries() map[string]*audit.Summary {
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	run := audit.Run{RunID: "20261121T020000Z-1a2b3c4d", Source: "analytics.segment_events",
		Window: audit.Window{Start: start, End: start.Add(24 * time.Hour)}, Status: audit.StatusPassed,
		SchemasDigest: "0123456789abcdef", StartedAt: start.Add(26 * time.Hour),
		LatestReceivedAt: start.Add(24*time.Hour - 3*time.Minute)}
	clean := &audit.Summary{Run: run, Events: []audit.EventSummary{
		{Type: "track", Name: "Order Completed", SchemaID: "shop/Order Completed/1-1.json", Rows: 1200},
		{Type: "page", Name: "Home", SchemaID: "shop/Page/1-0.json", Rows: 800},
	}}
	clean.Run.RowsScanned = 2000

	failing := &audit.Summary{Run: run, Events: []audit.EventSummary{
		{Type: "track", Name: "Product Viewed", SchemaID: "shop/Product Viewed/1-0.json", Rows: 10000, InvalidRows: 1234,
			Violations: 1300, TopCheck: audit.Check{Keyword: "enum", Path: "/properties/currency"}, TopCheckCount: 1000,
			Example: &audit.Violation{MessageID: "m-1", InstancePath: "/properties/currency", Keyword: "enum",
				Message: "value must be one of \"USD\", \"EUR\", \"GBP\"", Value: `"usd"`}},
		{Type: "", Name: "", Rows: 3, InvalidRows: 3, Violations: 3, TopCheck: audit.Check{Keyword: "payload"}, TopCheckCount: 3,
			Example: &audit.Violation{MessageID: "m-2", Keyword: "payload", Message: "payload is NULL"}},
		{Type: "track", Name: "Size | Color Picked", Unplanned: true, Rows: 42},
	}}
	failing.Run.RowsScanned, failing.Run.RowsInvalid, failing.Run.RowsUnplanned, failing.Run.Violations = 10045, 1237, 42, 1303
	failing.Run.Status, failing.Run.DuplicateRows = audit.StatusFailed, 12
	failing.Breaches = []audit.Breach{{Metric: audit.MetricInvalidRate, Limit: 0.01, Actual: 1237.0 / 10045}}
	// Drift: 12 undeclared paths (10 listed), one unseen, price a string in 3%.
	pv := audit.PropertyDrift{Type: "track", Name: "Product Viewed", SchemaID: "shop/Product Viewed/1-0.json", EventRows: 10000}
	failing.Drift = &audit.Drift{Limits: audit.DefaultProfileLimits,
		Truncated: []audit.PropertyDrift{{Type: "track", Name: "Size | Color Picked", Values: 7, EventRows: 42}}}
	for i := range 12 {
		u := pv
		u.Path, u.Values = fmt.Sprintf("/properties/extra_%02d", i), int64(1200-i*100)
		failing.Drift.Undeclared = append(failing.Drift.Undeclared, u)
	}
	unseen, mixed := pv, pv
	unseen.Path = "/properties/currency_code"
	mixed.Path, mixed.Values = "/properties/price", 10000
	mixed.Types = []audit.TypeCount{{Type: "number", Count: 9700}, {Type: "string", Count: 300}}
	failing.Drift.Unseen, failing.Drift.Mixed = []audit.PropertyDrift{unseen}, []audit.PropertyDrift{mixed}
	// A profiled run with no drift says so.
	clean.Drift = &audit.Drift{}
	// Segment's layout: a column typed wrong is one violation on no row, and
	// the rules the layout cannot check are listed.
	segment := &audit.Summary{Run: run, Events: []audit.EventSummary{
		{Type: "track", Name: "Order Completed", SchemaID: "shop/Order Completed/1-1.json", Rows: 500, Violations: 1,
			TopCheck: audit.Check{Keyword: "column_type", Path: "/properties/total"}, TopCheckCount: 1},
	}, NotCheckable: []string{
		"shop/Order Completed/1-1.json /coupon: null and absent look the same (a NULL column)",
		"shop/Order Completed/1-1.json /note: maxLength 1000 (Segment keeps 512 characters)",
	}}
	segment.Run.Source = "segment:web_prod"
	segment.Run.RowsScanned, segment.Run.Violations = 500, 1
	// A stalled loader: nothing in the window, the newest row three days
	// old, and the loader's last batch written twice (a warning only).
	stale := &audit.Summary{Run: run}
	stale.Run.LatestReceivedAt = start.Add(-50 * time.Hour)
	stale.Run.Status, stale.Run.Label = audit.StatusFailed, "adhoc"
	stale.Breaches = audit.Thresholds{audit.MetricMinRows: 1, audit.MetricFreshness: 7200}.Check(stale)
	warned := &audit.Summary{Run: clean.Run, Events: clean.Events}
	warned.Run.Status, warned.Run.DuplicateRows, warned.Run.ViolationsSuppressed = audit.StatusWarned, 40, 7
	warned.Warnings = audit.Thresholds{audit.MetricDuplicateRate: 0.01}.Check(warned)
	return map[string]*audit.Summary{"clean": clean, "failing": failing, "segment": segment, "stale": stale, "warned": warned}
}

func TestRender(t *testing.T) {
	ext := map[string]string{"table": "txt", "json": "json", "markdown": "md", "junit": "xml"}
	for name, s := range summaries() {
		for _, f := range reports.Formats() {
			t.Run(name+"."+f.Name, func(t *testing.T) {
				var b bytes.Buffer
				if err := reports.Render(&b, f.Name, s, reports.Options{}); err != nil {
					t.Fatal(err)
				}
				if f.Name == reports.FormatSlack {
					// The digest itself has golden files in slack_test; here,
					// that the format prints it as a webhook's body.
					var got slack.WebhookMessage
					if err := json.Unmarshal(b.Bytes(), &got); err != nil {
						t.Fatalf("not a webhook body: %v", err)
					}
					want := reports.SlackMessage(s, reports.SlackOptions{})
					if got.Text != want.Text || got.Blocks == nil || len(got.Blocks.BlockSet) != len(want.Blocks.BlockSet) {
						t.Errorf("slack format: text %q with %v, want the digest %q with %d blocks", got.Text, got.Blocks, want.Text, len(want.Blocks.BlockSet))
					}
					return
				}
				if ext[f.Name] == "" {
					t.Fatalf("format %s has no golden file: add its extension here", f.Name)
				}
				golden(t, name+"."+ext[f.Name], b.Bytes())
			})
		}
	}
	err := reports.Render(&bytes.Buffer{}, "xml", summaries()["clean"], reports.Options{})
	if err == nil || !strings.Contains(err.Error(), "use table, json, markdown, junit or slack") {
		t.Errorf("an unknown format must be an error listing the formats, got %v", err)
	}
}

// The terminal report ends with where to look next, or says that a dry
// run wrote nothing.
func TestTerminalSaysWhereToLook(t *testing.T) {
	s := summaries()["failing"]
	for _, tc := range []struct {
		o    reports.Options
		want string
	}{
		{reports.Options{ViolationsTable: "eventaudit.eventaudit_violations"},
			"Violations are in eventaudit.eventaudit_violations; query them with:\n  SELECT * FROM eventaudit.eventaudit_violations WHERE run_id = '" + s.Run.RunID + "';\n"},
		{reports.Options{DryRun: true, ViolationsTable: "eventaudit.eventaudit_violations"}, "Dry run: nothing was written.\n"},
	} {
		var b bytes.Buffer
		if err := reports.Render(&b, "", s, tc.o); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(b.String(), tc.want) {
			t.Errorf("%+v: report ends %q, want %q", tc.o, b.String()[max(0, b.Len()-120):], tc.want)
		}
	}
}

func TestCount(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := reports.Count(in); got != want {
			t.Errorf("Count(%d) = %q, want %q", in, got, want)
		}
	}
}
