package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse"
)

// auditReport runs an audit that must finish (exit 0 or 1) and decodes
// its JSON report.
func auditReport(t *testing.T, c *cli, args ...string) map[string]any {
	t.Helper()
	r := c.run(append(append([]string{"audit"}, args...), "--format", "json", "--dry-run")...)
	if r.code > 1 {
		t.Fatalf("audit %v: exit %d: %s", args, r.code, r.stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, r.stdout)
	}
	return rep
}

// violationKeywords counts the report's invalid rows by their top check's
// keyword.
func invalidByKeyword(rep map[string]any) map[string]float64 {
	out := map[string]float64{}
	for _, e := range rep["events"].([]any) {
		ev := e.(map[string]any)
		if n := ev["invalid_rows"].(float64); n > 0 {
			out[ev["top_check"].(map[string]any)["keyword"].(string)] += n
		}
	}
	return out
}

// The demo round trip: a plan inferred from the window, audited over the
// same window, fails no check of its own. What still fails is what no plan
// can fix: payloads that are not JSON, and schema_ids naming schemas that
// do not exist, exactly as many as the demo's truth file says.
func TestInferDemoRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, wh, _ := demoAudits(t, dir)
	out := filepath.Join(dir, "inferred")
	window := []string{"--since", "2026-11-20", "--until", "2026-11-21"}
	r := c.run(append([]string{"schemas", "infer", "--warehouse", wh, "--table", "events", "--out", out}, window...)...)
	if r.code != 0 {
		t.Fatalf("infer: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Inferred 10 schemas from 3,000 rows") || !strings.Contains(r.stdout, "schemas check --schemas "+out) {
		t.Errorf("infer said:\n%s", r.stdout)
	}

	// schemas check finds only the TODO descriptions.
	chk := c.run("schemas", "check", "--schemas", out, "--format", "json")
	var findings []struct{ Rule, Message string }
	if err := json.Unmarshal([]byte(chk.stdout), &findings); err != nil {
		t.Fatalf("check: %v\n%s", err, chk.stdout)
	}
	if len(findings) == 0 {
		t.Fatal("schemas check found no TODO description")
	}
	for _, f := range findings {
		if f.Rule != "description" {
			t.Errorf("schemas check on the inferred plan: %s: %s", f.Rule, f.Message)
		}
	}

	rep := auditReport(t, c, append([]string{"--warehouse", wh, "--table", "events", "--schemas", out}, window...)...)
	var truth struct {
		Invalid map[string][]struct{ Keyword string }
	}
	raw, err := os.ReadFile(filepath.Join(root, "testdata/demo/truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, checks := range truth.Invalid {
		for _, ch := range checks {
			if ch.Keyword == "payload" || ch.Keyword == "schema_id" {
				want[ch.Keyword]++
			}
		}
	}
	got := invalidByKeyword(rep)
	if fmt.Sprint(got) != fmt.Sprint(want) || rep["rows_unplanned"].(float64) != 0 {
		t.Errorf("audit against the inferred plan: invalid rows by check %v and %v unplanned; want only the truth's %v, none unplanned",
			got, rep["rows_unplanned"], want)
	}
}

// A window with nested objects, arrays, nulls, formats, enums and mixed
// numbers round-trips to zero violations, and each of those is written
// as a person would.
func TestInferCleanRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 40 {
		props := map[string]any{
			"order_id":   fmt.Sprintf("0d9c8f5e-4b7a-4c1e-9f3a-%012d", i),
			"placed_at":  fmt.Sprintf("2026-11-20T%02d:00:00Z", i%24),
			"total":      []any{10, 12.5}[i%2],
			"currency":   []string{"EUR", "USD"}[i%2],
			"email":      fmt.Sprintf("buyer%d@example.com", i),
			"coupon":     nil,
			"note":       fmt.Sprintf("free text %d", i),
			"shipping":   map[string]any{"city": "Lyon", "express": i%3 == 0},
			"products":   []any{map[string]any{"sku": fmt.Sprintf("s-%d", i), "qty": 1}},
			"first_time": i%2 == 0,
		}
		if i%4 == 0 {
			props["coupon"] = "WELCOME"
			delete(props, "note")
		}
		msg := map[string]any{"type": "track", "event": "Order Completed", "messageId": fmt.Sprintf("m-%d", i), "properties": props}
		if i%5 == 0 {
			msg = map[string]any{"type": "page", "name": []string{"Home", "Cart"}[i%2], "messageId": fmt.Sprintf("m-%d", i),
				"properties": map[string]any{"path": "/", "referrer": nil}}
		}
		payload, _ := json.Marshal(msg)
		row, _ := json.Marshal(map[string]any{"message_id": fmt.Sprintf("m-%d", i), "received_at": "2026-11-20T01:00:00Z", "payload": string(payload)})
		lines = append(lines, string(row))
	}
	events := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(events, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wh := "duckdb://" + filepath.Join(dir, "w.duckdb")
	c := newCLI()
	if r := c.run("load", "--warehouse", wh, "--table", "events", events); r.code != 0 {
		t.Fatal(r.stderr)
	}
	out := filepath.Join(dir, "schemas")
	window := []string{"--since", "2026-11-20", "--until", "2026-11-21"}
	if r := c.run(append([]string{"schemas", "infer", "--warehouse", wh, "--table", "events", "--out", out, "--plan", "", "--vendor", "com.acme"}, window...)...); r.code != 0 {
		t.Fatalf("infer: exit %d: %s", r.code, r.stderr)
	}
	var oc struct {
		Self       struct{ Vendor, Name, Version string }
		ID         string `json:"$id"`
		Properties map[string]struct {
			Type   any
			Enum   []any
			Format string
			Items  struct {
				Required []string
			}
			Properties map[string]struct{ Type any }
		}
		Required             []string
		AdditionalProperties *bool
	}
	raw, err := os.ReadFile(filepath.Join(out, "Order Completed", "1-0.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &oc); err != nil {
		t.Fatal(err)
	}
	p := oc.Properties
	checks := []struct {
		what      string
		got, want any
	}{
		{"self", oc.Self, struct{ Vendor, Name, Version string }{"com.acme", "Order Completed", "1-0"}},
		{"$id", oc.ID, "Order Completed/1-0.json"},
		{"uuid", p["order_id"].Format, "uuid"},
		{"date-time", p["placed_at"].Format, "date-time"},
		{"email", p["email"].Format, "email"},
		{"integer and number are number", p["total"].Type, "number"},
		{"enum of a repeated string", p["currency"].Enum, []any{"EUR", "USD"}},
		{"a free string is no enum", p["note"].Enum, []any(nil)},
		{"nullable", p["coupon"].Type, []any{"string", "null"}},
		{"nested", p["shipping"].Properties["express"].Type, "boolean"},
		{"array items", p["products"].Items.Required, []any{"qty", "sku"}},
		{"required: sent in every message", oc.Required, []string{"coupon", "currency", "email", "first_time", "order_id", "placed_at", "products", "shipping", "total"}},
		{"closed", oc.AdditionalProperties != nil && !*oc.AdditionalProperties, true},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "Page", "1-0.json")); err != nil {
		t.Errorf("the pages (Home, Cart) are one Page schema: %v", err)
	}
	rep := auditReport(t, c, append([]string{"--warehouse", wh, "--table", "events", "--schemas", out, "--assert-format"}, window...)...)
	if rep["rows_invalid"].(float64) != 0 || rep["rows_unplanned"].(float64) != 0 || rep["rows_scanned"].(float64) != 40 {
		t.Errorf("round trip: %v invalid and %v unplanned of %v rows; want 0 and 0 of 40", rep["rows_invalid"], rep["rows_unplanned"], rep["rows_scanned"])
	}
}

// With a plan in scope, infer writes only the events it lacks, into its
// folder, and never overwrites a schema.
func TestInferOnlyUnplannedAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	c, wh, _ := demoAudits(t, dir)
	out := filepath.Join(dir, "schemas")
	args := []string{"schemas", "infer", "--warehouse", wh, "--table", "events", "--since", "2026-11-20", "--until", "2026-11-21",
		"--schemas", filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop", "--out", out}
	if r := c.run(args...); r.code != 0 {
		t.Fatalf("infer: exit %d: %s", r.code, r.stderr)
	}
	var written []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			written = append(written, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(written)
	want := []string{"segment/shop/Chat Opened/1-0.json", "segment/shop/Coupon Applied/1-0.json", "segment/shop/Wishlist Shared/1-0.json"}
	if !slices.Equal(written, want) {
		t.Fatalf("wrote %v, want the demo's unplanned events %v", written, want)
	}
	var doc struct{ Self struct{ Vendor string } }
	raw, _ := os.ReadFile(filepath.Join(out, want[0]))
	if json.Unmarshal(raw, &doc); doc.Self.Vendor != "com.example.shop" {
		t.Errorf("vendor %q, want the plan's com.example.shop", doc.Self.Vendor)
	}
	before, _ := os.ReadFile(filepath.Join(out, want[1]))
	if err := os.WriteFile(filepath.Join(out, want[1]), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, want[2]))
	r := c.run(args...)
	if r.code != 2 || !strings.Contains(r.stderr, "never overwrites") {
		t.Errorf("second infer: exit %d, %s; want 2 saying it never overwrites", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(out, want[1])); string(after) != "{}" || len(before) < 10 {
		t.Errorf("an existing schema was overwritten: %s", after)
	}
	if _, err := os.Stat(filepath.Join(out, want[2])); err == nil {
		t.Error("a refused infer wrote some files: it must write all or none")
	}
	// A plan folder with no schema yet is an empty plan.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if r := c.run("schemas", "infer", "--warehouse", wh, "--table", "events", "--since", "2026-11-20", "--until", "2026-11-21",
		"--schemas", empty, "--out", empty); r.code != 0 || !strings.Contains(r.stdout, "Inferred 10 schemas") {
		t.Errorf("infer into an empty plan folder: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run("schemas", "infer", "--warehouse", wh, "--table", "events", "--since", "2026-11-20"); r.code != 2 || !strings.Contains(r.stderr, "--out is required") {
		t.Errorf("no --out: exit %d: %s", r.code, r.stderr)
	}
}

// Segment's warehouse layout: event tables no schema describes are read
// column by column, and the plan inferred from them audits the same
// layout without failing a check of its own.
func TestInferSegmentLayout(t *testing.T) {
	dir := t.TempDir()
	url := "duckdb://" + filepath.Join(dir, "seg.duckdb")
	loadSegmentDemo(t, url, warehouse.Credentials{}, "web_prod")
	c := newCLI()
	out := filepath.Join(dir, "schemas")
	window := []string{"--since", "2026-11-20", "--until", "2026-11-21"}
	r := c.run(append([]string{"schemas", "infer", "--warehouse", url, "--layout", "segment", "--source", "web_prod", "--out", out, "--plan", "web"}, window...)...)
	if r.code != 0 {
		t.Fatalf("infer: exit %d: %s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(out, "web", "Coupon Applied", "1-0.json"))
	if err != nil {
		t.Fatalf("an unplanned event table was not inferred: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(string(raw), `"item_count": {`) || !strings.Contains(string(raw), `"type": "integer"`) {
		t.Errorf("Coupon Applied's schema lacks its columns:\n%s", raw)
	}
	rep := auditReport(t, c, append([]string{"--warehouse", url, "--layout", "segment", "--source", "web_prod", "--schemas", out, "--plan", "web"}, window...)...)
	for k, n := range invalidByKeyword(rep) {
		if k != "schema_id" && k != "column_type" {
			t.Errorf("%v rows fail %s against the plan inferred from the same layout", n, k)
		}
	}
}

// The demo's profile shows what its apps send beyond the plan: Product
// Added's variant (in 8 of its 388 messages) and Product Viewed's price,
// a string in 17 of 682; eventaudit_property_stats holds the counts, which
// a Python count over testdata/demo/events.ndjson agrees with (9 whole
// numbers, 656 others, 17 strings, leaving out the rows whose schema_id
// names no schema).
func TestDemoProfileAndDrift(t *testing.T) {
	dir := t.TempDir()
	c, wh, audit := demoAudits(t, dir)
	r := audit("2026-11-20", "2026-11-21")
	if r.code != 0 {
		t.Fatalf("audit: exit %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Drift struct {
			Undeclared, Unseen, Mixed []struct {
				Name, Path string
				Values     int64
				EventRows  int64 `json:"event_rows"`
				Types      []struct {
					Type  string
					Count int64
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	d := rep.Drift
	if len(d.Undeclared) != 1 || d.Undeclared[0].Name != "Product Added" || d.Undeclared[0].Path != "/properties/variant" || d.Undeclared[0].Values != 8 || d.Undeclared[0].EventRows != 388 {
		t.Errorf("undeclared: %+v; want Product Added's variant, in 8 of 388", d.Undeclared)
	}
	var price string
	for _, m := range d.Mixed {
		if m.Name == "Product Viewed" && m.Path == "/properties/price" {
			price = fmt.Sprint(m.Types)
		}
	}
	if price != "[{number 665} {string 17}]" {
		t.Errorf("Product Viewed's price: types %q, want number 665 and string 17; mixed: %+v", price, d.Mixed)
	}
	q := c.run("query", "--warehouse", wh, "--format", "json",
		`SELECT json_type, rows, in_plan FROM eventaudit.eventaudit_property_stats WHERE event_name = 'Product Viewed' AND path = '/properties/price' ORDER BY 1`)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(q.stdout), &rows); err != nil {
		t.Fatalf("query: %v\n%s%s", err, q.stdout, q.stderr)
	}
	if fmt.Sprint(rows) != "[map[in_plan:true json_type:integer rows:9] map[in_plan:true json_type:number rows:656] map[in_plan:true json_type:string rows:17]]" {
		t.Errorf("eventaudit_property_stats for price: %v", rows)
	}

	// --profile=false keeps none, and its re-run of the window replaces
	// the first run's profile with nothing.
	off := audit("2026-11-20", "2026-11-21", "--profile=false")
	if off.code != 0 || !strings.Contains(off.stdout, `"drift": null`) {
		t.Errorf("--profile=false: exit %d, drift not null:\n%s", off.code, off.stdout)
	}
	q = c.run("query", "--warehouse", wh, "SELECT count(*) FROM eventaudit.eventaudit_property_stats")
	if !strings.Contains(q.stdout, "│ 0 ") {
		t.Errorf("after a re-run without a profile, the first run's profile is still there:\n%s", q.stdout)
	}
}
