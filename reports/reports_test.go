package reports_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/google/go-cmp/cmp"
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
		SchemasDigest: "0123456789abcdef"}
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
	failing.Run.Status = audit.StatusFailed
	failing.Breaches = []audit.Breach{{Metric: audit.MetricInvalidRate, Limit: 0.01, Actual: 1237.0 / 10045}}
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
	return map[string]*audit.Summary{"clean": clean, "failing": failing, "segment": segment}
}

func TestRender(t *testing.T) {
	for name, s := range summaries() {
		for _, f := range []struct{ format, ext string }{{"table", "txt"}, {"json", "json"}, {"markdown", "md"}} {
			t.Run(name+"."+f.format, func(t *testing.T) {
				var b bytes.Buffer
				if err := reports.Render(&b, f.format, s); err != nil {
					t.Fatal(err)
				}
				golden(t, name+"."+f.ext, b.Bytes())
			})
		}
	}
	if err := reports.Render(&bytes.Buffer{}, "xml", summaries()["clean"]); err == nil {
		t.Error("an unknown format must be an error")
	}
}

func TestCount(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := reports.Count(in); got != want {
			t.Errorf("Count(%d) = %q, want %q", in, got, want)
		}
	}
}
