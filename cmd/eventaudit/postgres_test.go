package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/eventaudit/eventaudit/warehouse/postgres/pgtest"
)

// violationRows reads a results schema's violations, run id left out, with
// the offending value in one form on every warehouse: compact JSON, and ""
// for none (a Snowflake VARIANT prints indented and holds none as NULL).
func violationRows(t *testing.T, url, schema string, creds warehouse.Credentials) []string {
	t.Helper()
	wh, err := warehouse.OpenSQL(context.Background(), url, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	rows, err := wh.Conn.Query(context.Background(), `SELECT message_id, event_type, event_name, schema_id, instance_path, keyword, message, value FROM `+
		schema+`.eventaudit_violations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]*string, 8)
		ptrs := make([]any, 8)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cols := make([]string, 8)
		for i, v := range vals {
			if v != nil {
				cols[i] = *v
			}
		}
		var compact bytes.Buffer
		var truncated string
		switch {
		case json.Unmarshal([]byte(cols[7]), &truncated) == nil && strings.HasSuffix(truncated, "…"):
			// A truncated value is not JSON; a VARIANT holds it as a string.
			cols[7] = truncated
		case json.Compact(&compact, []byte(cols[7])) == nil:
			cols[7] = compact.String()
		}
		out = append(out, strings.Join(cols, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// The demo loaded into Postgres gives the same report and the same violation
// rows as DuckDB.
func TestPostgresMatchesDuckDB(t *testing.T) {
	pg := requirePG(t)
	duck := "duckdb://" + filepath.Join(t.TempDir(), "demo.duckdb")
	events := filepath.Join(root, "testdata/demo/events.ndjson")
	results := uniqueName("demo_results")
	var reports []string
	for _, wh := range []string{duck, pg} {
		c := newCLI()
		if r := c.run("load", "--warehouse", wh, "--table", "raw.segment_events", "--replace", events); r.code != 0 {
			t.Fatalf("load %s: %s", wh, r.stderr)
		}
		r := c.run("audit", "--warehouse", wh, "--table", "raw.segment_events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--format", "json", "--results-schema", results)
		if r.code != 0 {
			t.Fatalf("audit %s: exit %d: %s", wh, r.code, r.stderr)
		}
		reports = append(reports, r.stdout)
	}
	if reports[0] != reports[1] {
		t.Errorf("JSON reports differ:\nduckdb:\n%s\npostgres:\n%s", reports[0], reports[1])
	}
	d, p := violationRows(t, duck, results, warehouse.Credentials{}), violationRows(t, pg, results, warehouse.Credentials{})
	if len(d) != 253 {
		t.Errorf("duckdb has %d violations, want the demo's 253", len(d))
	}
	if diff := diffSets(d, p); diff != "" {
		t.Errorf("violation rows differ (missing = only in DuckDB):\n%s", diff)
	}
}

// uniqueName keeps tests that share the package's Postgres server apart,
// also under go test -count=N.
func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

func requirePG(t *testing.T) string {
	t.Helper()
	return pgtest.Require(t, pgURL, pgErr)
}

func TestPostgresConnectionErrors(t *testing.T) {
	pg := requirePG(t)
	const secret = "Tr0ub4dor&3"
	host := pg[strings.Index(pg, "@")+1:]
	for _, tc := range []struct {
		name, url, want string
	}{
		{"unknown user", "postgres://nobody_here:" + secret + "@" + host, "nobody_here"},
		{"unreachable host", "postgres://eventaudit:" + secret + "@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5", "check the host, port"},
		{"bad URL", "postgres://eventaudit:" + secret + "@127.0.0.1:notaport/db", "postgres://…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCLI().run("audit", "--warehouse", tc.url, "--table", "t", "--schemas", filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop")
			want := exitRuntime
			if tc.name == "bad URL" {
				want = exitUsage
			}
			if r.code != want {
				t.Errorf("exit %d, want %d: %s", r.code, want, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr does not say %q: %s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, secret) {
				t.Errorf("the password leaked: %s", r.stderr)
			}
		})
	}
}
