package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
)

const snowflakePassword = "tester-password"

// The demo loaded into Snowflake, through the real driver and the
// in-process endpoint, gives the same report and violation rows as DuckDB.
func TestSnowflakeMatchesDuckDB(t *testing.T) {
	srv := sftest.Start(t)
	sf := srv.URL("tester", "ANALYTICS", "PUBLIC", "")
	duck := "duckdb://" + filepath.Join(t.TempDir(), "demo.duckdb")
	events := filepath.Join(root, "testdata/demo/events.ndjson")
	var reports []string
	for _, wh := range []string{duck, sf} {
		c := newCLI()
		c.env["SNOWFLAKE_PASSWORD"] = snowflakePassword
		if r := c.run("load", "--warehouse", wh, "--table", "raw.segment_events", "--replace", events); r.code != 0 {
			t.Fatalf("load %s: %s", wh, r.stderr)
		}
		r := c.run("audit", "--warehouse", wh, "--table", "raw.segment_events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--format", "json")
		if r.code != 0 {
			t.Fatalf("audit %s: exit %d: %s", wh, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, snowflakePassword) {
			t.Errorf("the password leaked into the log: %s", r.stderr)
		}
		reports = append(reports, r.stdout)
	}
	if reports[0] != reports[1] {
		t.Errorf("JSON reports differ:\nduckdb:\n%s\nsnowflake:\n%s", reports[0], reports[1])
	}
	// The run reads back from Snowflake's result tables.
	c := newCLI()
	c.env["SNOWFLAKE_PASSWORD"] = snowflakePassword
	r := c.run("runs", "--warehouse", sf, "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"rows_scanned": 3000`) || !strings.Contains(r.stdout, `"source": "raw.segment_events"`) {
		t.Errorf("runs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d := violationRows(t, duck, "eventaudit", warehouse.Credentials{})
	s := violationRows(t, sf, "eventaudit", warehouse.Credentials{Password: snowflakePassword})
	if len(d) != 253 {
		t.Errorf("duckdb has %d violations, want the demo's 253", len(d))
	}
	if diff := diffSets(d, s); diff != "" {
		t.Errorf("violation rows differ (missing = only in DuckDB):\n%s", diff)
	}
}

// Connection faults exit 3 (or 2 for a URL or setup mistake) with what to
// fix, and never print the secret.
func TestSnowflakeConnectionErrors(t *testing.T) {
	srv := sftest.Start(t)
	const secret = "Tr0ub4dor&3-sf"
	tests := []struct {
		name, url string
		env       map[string]string
		code      int
		want      string
	}{
		{"wrong password", srv.URL("tester", "ANALYTICS", "PUBLIC", ""), map[string]string{"SNOWFLAKE_PASSWORD": secret},
			exitRuntime, "Incorrect username or password"},
		{"password in the URL", strings.Replace(srv.URL("tester", "ANALYTICS", "PUBLIC", ""), "tester@", "tester:"+secret+"@", 1), nil,
			exitRuntime, "Incorrect username or password"},
		{"wrong account", strings.Replace(srv.URL("tester", "ANALYTICS", "PUBLIC", ""), "@testacct/", "@typo-acct/", 1),
			map[string]string{"SNOWFLAKE_PASSWORD": secret}, exitRuntime, "check the account identifier"},
		{"missing warehouse", strings.Replace(srv.URL("tester", "ANALYTICS", "PUBLIC", ""), "warehouse=TEST_WH", "warehouse=GONE_WH", 1),
			map[string]string{"SNOWFLAKE_PASSWORD": snowflakePassword}, exitRuntime, "GRANT USAGE ON WAREHOUSE GONE_WH"},
		{"unreadable key file", srv.URL("tester", "ANALYTICS", "PUBLIC", ""), map[string]string{"SNOWFLAKE_PRIVATE_KEY_FILE": "/nonexistent/rsa_key.p8"},
			exitUsage, "SNOWFLAKE_PRIVATE_KEY_FILE"},
		{"no warehouse named", "snowflake://tester@testacct/ANALYTICS/PUBLIC", map[string]string{"SNOWFLAKE_PASSWORD": secret},
			exitUsage, "?warehouse=WH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI()
			for k, v := range tt.env {
				c.env[k] = v
			}
			r := c.run("audit", "--warehouse", tt.url, "--table", "raw.events", "--schemas", filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop")
			if r.code != tt.code {
				t.Errorf("exit %d, want %d: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q: %s", tt.want, r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, secret) {
				t.Errorf("the password leaked: %s", r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("want one line on stderr, eventaudit's own; got:\n%s", r.stderr)
			}
		})
	}
}
