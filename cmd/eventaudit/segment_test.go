package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

type violationRow struct{ messageID, eventName, keyword, path, message string }

func readViolations(t *testing.T, url, schema string, creds warehouse.Credentials) []violationRow {
	t.Helper()
	wh, err := warehouse.OpenSQL(context.Background(), url, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	rows, err := wh.Conn.Query(context.Background(), `SELECT COALESCE(message_id, ''), COALESCE(event_name, ''), keyword, instance_path, message FROM `+
		schema+`.eventaudit_violations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []violationRow
	for rows.Next() {
		var v violationRow
		if err := rows.Scan(&v.messageID, &v.eventName, &v.keyword, &v.path, &v.message); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func invalidIDs(vs []violationRow) map[string][]violationRow {
	out := map[string][]violationRow{}
	for _, v := range vs {
		if v.messageID != "" {
			out[v.messageID] = append(out[v.messageID], v)
		}
	}
	return out
}

// The demo, loaded as Segment's warehouse destination would load it (in
// DuckDB, Postgres, and Snowflake through the real driver), gives
// the same invalid messages as the raw layout, except where loading lost
// what the raw audit sees: rows Segment never loads, values it casts or
// cuts, explicit nulls, and properties in a column typed by an earlier
// value of another type (reported once, as column_type). Nothing is
// invalid in the layout that is valid raw.
func TestSegmentLayoutMatchesRaw(t *testing.T) {
	for _, backend := range []string{"duckdb", "postgres", "snowflake"} {
		t.Run(backend, func(t *testing.T) {
			url := "duckdb://" + filepath.Join(t.TempDir(), "demo.duckdb")
			var creds warehouse.Credentials
			switch backend {
			case "postgres":
				url = requirePG(t)
			case "snowflake":
				url = sftest.Start(t).URL("tester", "ANALYTICS", "PUBLIC", "")
				creds.Password = snowflakePassword
			}
			events := filepath.Join(root, "testdata/demo/events.ndjson")
			schemasDir := filepath.Join(root, "testdata/demo/schemas")
			rawResults, segResults, layout := uniqueName("raw_results"), uniqueName("seg_results"), uniqueName("web_prod")
			c := newCLI()
			c.env["SNOWFLAKE_PASSWORD"] = creds.Password
			if r := c.run("load", "--warehouse", url, "--table", "raw.segment_events", "--replace", events); r.code != 0 {
				t.Fatalf("load: %s", r.stderr)
			}
			audit := func(results string, args ...string) map[string]any {
				t.Helper()
				args = append([]string{"audit", "--warehouse", url, "--schemas", schemasDir, "--plan", "segment/shop",
					"--since", "2026-11-20", "--until", "2026-11-21", "--format", "json", "--results-schema", results}, args...)
				r := c.run(args...)
				if r.code != 0 {
					t.Fatalf("audit %v: exit %d: %s", args, r.code, r.stderr)
				}
				var rep map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
					t.Fatalf("report: %v\n%s", err, r.stdout)
				}
				return rep
			}
			rawRep := audit(rawResults, "--table", "raw.segment_events")

			built := loadSegmentDemo(t, url, creds, layout)
			segRep := audit(segResults, "--layout", "segment", "--source", layout)

			rawV, segV := readViolations(t, url, rawResults, creds), readViolations(t, url, segResults, creds)
			raw, seg := invalidIDs(rawV), invalidIDs(segV)
			findings := map[string][]violationRow{} // keyword → table-level findings
			typeTrap := map[string]bool{}           // instance paths whose column cannot hold the schema's type
			for _, v := range segV {
				if v.messageID == "" {
					findings[v.keyword] = append(findings[v.keyword], v)
					if v.keyword == "column_type" {
						typeTrap[v.eventName+" "+v.path] = true
					}
				}
			}
			for id, vs := range seg {
				if _, ok := raw[id]; !ok {
					t.Errorf("message %s is invalid only in the Segment layout: %+v", id, vs)
				}
			}
			explained := map[string]int{}
			for id, vs := range raw {
				if _, ok := seg[id]; ok {
					continue
				}
				switch {
				case len(built.Lossy[id]) > 0:
					explained["lost in loading: "+reasonKind(built.Lossy[id][0])]++
				case allTrapped(vs, typeTrap):
					explained["column typed by an earlier value"]++
				default:
					t.Errorf("message %s is invalid raw but not in the Segment layout, with no documented reason: %+v", id, vs)
				}
			}
			t.Logf("raw invalid %d, Segment-layout invalid %d; not checkable in the layout: %v", len(raw), len(seg), explained)
			if len(seg) < len(raw)/2 {
				t.Errorf("only %d of %d invalid messages found in the layout", len(seg), len(raw))
			}
			// What only the layout reveals.
			if !hasFinding(findings["unknown_column"], "Product Added", "variant") {
				t.Errorf("no unknown_column finding for product_added.variant: %+v", findings["unknown_column"])
			}
			if !hasFinding(findings["unplanned_table"], "Coupon Applied", "coupon_applied") {
				t.Errorf("no unplanned_table finding for coupon_applied: %+v", findings["unplanned_table"])
			}
			for kw, fs := range findings {
				seen := map[string]bool{}
				for _, f := range fs {
					if seen[f.eventName+f.path+f.message] {
						t.Errorf("%s reported twice: %+v", kw, f)
					}
					seen[f.eventName+f.path+f.message] = true
				}
			}
			// The demo's nullable referral_code is reported as not checkable.
			if nc := fmt.Sprint(segRep["not_checkable"]); !strings.Contains(nc, "segment/shop/Signed Up/1-0.json /referral_code: null and absent look the same") {
				t.Errorf("not_checkable = %s", nc)
			}
			if _, ok := rawRep["not_checkable"]; ok {
				t.Error("a raw-layout report lists not_checkable rules")
			}
			// Unplanned events come from tracks, as many as raw.
			if got, want := segRep["rows_unplanned"], rawRep["rows_unplanned"]; got != want {
				t.Errorf("unplanned rows: layout %v, raw %v", got, want)
			}
		})
	}
}

// loadSegmentDemo loads the demo's events into schema as Segment's
// destination would, and returns the layout it built.
func loadSegmentDemo(t *testing.T, url string, creds warehouse.Credentials, schema string) *warehousetest.SegmentLayout {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "testdata/demo/events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadNDJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	built := warehousetest.BuildSegmentLayout(rows)
	wh, err := warehouse.OpenSQL(context.Background(), url, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if err := built.Load(context.Background(), wh, schema); err != nil {
		t.Fatal(err)
	}
	return built
}

func allTrapped(vs []violationRow, trapped map[string]bool) bool {
	for _, v := range vs {
		if !trapped[v.eventName+" "+v.path] {
			return false
		}
	}
	return len(vs) > 0
}

func hasFinding(fs []violationRow, event, inMessage string) bool {
	return slices.ContainsFunc(fs, func(f violationRow) bool {
		// Snowflake's catalog spells table names upper-case.
		return f.eventName == event && strings.Contains(strings.ToLower(f.message), inMessage)
	})
}

// reasonKind shortens a loading note for the log: its cause, not its value.
func reasonKind(note string) string {
	if i := strings.IndexAny(note, ":"); i > 0 {
		return note[:i]
	}
	return note
}

func TestSegmentLayoutUsage(t *testing.T) {
	schemasDir := filepath.Join(root, "testdata/demo/schemas")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--layout", "segment"}, "--layout segment needs --source"},
		{[]string{"--layout", "flat", "--table", "t"}, `--layout "flat": use raw or segment`},
		{[]string{"--layout", "segment", "--source", "a.b"}, `--source "a.b": name one schema`},
		{[]string{"--layout", "segment", "--source", "web", "--table", "t"}, "--table is for --layout raw"},
		{[]string{"--layout", "segment", "--source", "web", "--validate", "message"}, "--validate message needs --layout raw"},
	} {
		r := newCLI().run(append([]string{"audit", "--warehouse", "duckdb://:memory:", "--schemas", schemasDir}, tt.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", tt.args, r.code, r.stderr, exitUsage, tt.want)
		}
	}
}
