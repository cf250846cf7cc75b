package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// The attack's finding 2 on DuckDB: segment_events, main.segment_events and
// demo.main.segment_events are one source, so three audits of the window
// leave one run and one set of violations.
func TestOneSourceWhateverItsSpelling(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.duckdb")
	db := "duckdb://" + path
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "segment_events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, table := range []string{"segment_events", "main.segment_events", "demo.main.segment_events", "SEGMENT_EVENTS"} {
		r := c.run("audit", "--warehouse", db, "--table", table, "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21")
		if r.code != exitOK {
			t.Fatalf("--table %s: exit %d: %s", table, r.code, r.stderr)
		}
	}
	runs := column(t, path, `SELECT source FROM eventaudit.eventaudit_runs`)
	if len(runs) != 1 || runs[0] != "main.segment_events" {
		t.Errorf("runs after auditing under four spellings: %v, want one of main.segment_events", runs)
	}
	if n := column(t, path, `SELECT CAST(COUNT(*) AS VARCHAR) FROM eventaudit.eventaudit_violations`); n[0] != "253" {
		t.Errorf("%s violation rows, want the demo's 253 once", n[0])
	}
	// runs finds them under any spelling too.
	if r := c.run("runs", "--warehouse", db, "--source", "demo.main.segment_events", "--format", "json"); !strings.Contains(r.stdout, `"rows_scanned": 3000`) {
		t.Errorf("runs --source demo.main.segment_events: %s%s", r.stdout, r.stderr)
	}
}

// History written under the old spelling (before sources were resolved)
// stays the source's: an upgraded incremental job keeps its watermark.
func TestOldSpellingIsAdopted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db := "duckdb://" + path
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	args := []string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--format", "json"}
	if r := c.run(append(args, "--since", "2026-11-20", "--until", "2026-11-21")...); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	// What an older eventaudit recorded: the spelling as typed.
	wh, err := warehouse.OpenSQL(context.Background(), db, warehouse.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"eventaudit_runs", "eventaudit_violations", "eventaudit_event_stats"} {
		if err := wh.Conn.Exec(context.Background(), `UPDATE eventaudit.`+tbl+` SET source = 'events'`); err != nil {
			t.Fatal(err)
		}
	}
	wh.Close()
	// --lag 24h ends the window at 2026-11-21T06:00, a day before fixedNow.
	r := c.run(append(args, "--incremental", "--lookback", "1h", "--lag", "24h")...)
	if r.code != exitOK || !strings.Contains(r.stdout, `"window_start": "2026-11-20T23:00:00Z"`) {
		t.Fatalf("the incremental run must continue from the old spelling's watermark: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := column(t, path, `SELECT DISTINCT source FROM eventaudit.eventaudit_violations`); len(got) != 1 || got[0] != "main.events" {
		t.Errorf("violations' sources after the upgrade: %v", got)
	}
}

// Finding 1 through the CLI: a run with a 1s --lock-timeout cannot take
// the lock of a run that renewed it 2s ago with the default.
func TestShortLockTimeoutCannotTakeALiveLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock.duckdb")
	db := "duckdb://" + path
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	wh, err := warehouse.OpenSQL(context.Background(), db, warehouse.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	sink := &sqlwh.Sink{WH: wh, Schema: "eventaudit"}
	// The nightly run took its lock 2s before the test's clock.
	lease, err := sink.Lock(context.Background(), audit.Run{RunID: "nightly", Source: "main.events"},
		func() time.Time { return fixedNow.Add(-2 * time.Second) }, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release(context.Background())
	r := c.run("audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--lock-timeout", "1s")
	if r.code != exitRuntime || !strings.Contains(r.stderr, "run_id nightly") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// Finding 6: a webhook that is not byte-identical to Go's printing of it
// never appears in a log line or the final error; one with control
// characters is a configuration error that does not print it.
func TestWebhookNeverPrinted(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "hook.duckdb")
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	const secret = "Zx9s3cr3tW3bh00k"
	path := "/services/T0ABC/B0DEF/" + secret
	srv, _, _ := fakeSlack(t, func(_ int32, w http.ResponseWriter) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("no_service: " + path)) // Slack's body repeating the path
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	for name, hook := range map[string]string{
		"trailing newline":       srv.URL + path + "\n",
		"trailing space":         srv.URL + path + " ",
		"upper-case scheme":      "HTTP://" + host + path,
		"nothing listening":      "http://127.0.0.1:1" + path,
		"body repeats the path":  srv.URL + path,
		"percent-encoded secret": srv.URL + "/services/T0ABC/B0DEF/%5A" + secret[1:],
	} {
		t.Run(name, func(t *testing.T) {
			c.env = map[string]string{"SLACK_WEBHOOK_URL": hook}
			r := c.run("--log-format", "json", "audit", "--warehouse", db, "--table", "events", "--schemas",
				filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21",
				"--slack", "always", "--dry-run")
			if r.code != exitRuntime {
				t.Errorf("an undelivered digest exits 3, got %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, secret[1:]) {
				t.Errorf("the webhook leaked:\n%s", r.stderr)
			}
		})
	}
	t.Run("control characters", func(t *testing.T) {
		c.env = map[string]string{"SLACK_WEBHOOK_URL": srv.URL + path + "\x07x"}
		r := c.run("audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21")
		if r.code != exitUsage || !strings.Contains(r.stderr, "control characters") || strings.Contains(r.stderr, secret) {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
	})
}

// runs against a results schema with no tables says so instead of an
// empty table and exit 0.
func TestRunsOnAMissingResultsSchema(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "empty.duckdb")
	r := newCLI().run("runs", "--warehouse", db, "--results-schema", "typo")
	if r.code != exitUsage || !strings.Contains(r.stderr, `no eventaudit_runs table in schema "typo"`) {
		t.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// A schema file that is a symlink out of the schemas folder is refused.
func TestSchemaSymlinkOutOfTheFolder(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "secret.json")
	if err := os.WriteFile(outside, []byte(`{"$id":"x","self":{"name":"Order Completed"},"type":"object"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "schemas", "shop")
	if err := os.MkdirAll(plan, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(plan, "Order Completed.json")); err != nil {
		t.Fatal(err)
	}
	r := newCLI().run("schemas", "list", "--schemas", filepath.Join(dir, "schemas"))
	if r.code == exitOK || !strings.Contains(r.stderr, "Order Completed.json") || !strings.Contains(r.stderr, "escapes") {
		t.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// column returns the first column of q's rows as text.
func column(t *testing.T, dbPath, q string) []string {
	t.Helper()
	var out []string
	for _, r := range queryRows(t, dbPath, q) {
		out = append(out, r[0])
	}
	return out
}
