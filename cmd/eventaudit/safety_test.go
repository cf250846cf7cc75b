package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A usage mistake exits 2, which the README maps to "fix the command", never
// 3 ("retry") or 0, and says what to do.
func TestUsageMistakesExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audti"}, `unknown command "audti" for "eventaudit"; did you mean audit?`},
		{[]string{"audit", "extra"}, `unknown command "extra" for "eventaudit audit"`},
		{[]string{"load"}, "requires at least 1 arg(s)"},
		{[]string{"schemas", "lsit"}, `unknown command "lsit" for "eventaudit schemas"; did you mean list?`},
		{[]string{"runs", "now"}, "see eventaudit runs --help"},
	} {
		r := newCLI().run(tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := newCLI().run("schemas"); r.code != exitOK || !strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("schemas alone: exit %d, stdout %q; want its help and exit 0", r.code, r.stdout)
	}
}

// schemas check of nothing must not pass in CI: an empty folder, a plan
// that names nothing, or a folder of Go code.
func TestSchemasCheckOfNothingFails(t *testing.T) {
	demo := filepath.Join(root, "testdata/demo/schemas")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--schemas", t.TempDir()}, "no schema file found under"},
		{[]string{"--schemas", demo, "--plan", "segment/nope"}, `no schema in plan "segment/nope" (plans here: segment/shop)`},
		{[]string{"--schemas", filepath.Join(root, "schemas")}, "nothing was checked"},
	} {
		r := newCLI().run(append([]string{"schemas", "check"}, tc.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := newCLI().run("schemas", "check", "--schemas", demo, "--plan", "segment/shop"); r.code != exitOK {
		t.Errorf("the demo plan: exit %d: %s", r.code, r.stderr)
	}
}

// --slack always or failure, asked for by name with nowhere to post, is a
// configuration error; the default posts nowhere quietly.
func TestSlackWithoutTargetIsAUsageError(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "e.duckdb")
	base := []string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--dry-run", "--fail-on", "min_rows=0"}
	for _, mode := range []string{"always", "failure"} {
		r := newCLI().run(append(base, "--slack", mode)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--slack "+mode+" (from flag) but no Slack target") {
			t.Errorf("--slack %s: exit %d, stderr %q", mode, r.code, r.stderr)
		}
	}
	c := newCLI()
	c.env["EVENTAUDIT_SLACK"] = "always"
	if r := c.run(base...); r.code != exitUsage || !strings.Contains(r.stderr, "(from environment)") {
		t.Errorf("EVENTAUDIT_SLACK=always: exit %d, stderr %q", r.code, r.stderr)
	}
}

// An empty window fails (min_rows defaults to 1) unless min_rows=0 says it
// may be empty.
func TestEmptyWindowFails(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "e.duckdb")
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/e2e/iglu/events.ndjson")); r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	audit := []string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/e2e/iglu/schemas"),
		"--since", "2026-10-01", "--until", "2026-10-02", "--dry-run"}
	r := c.run(audit...)
	if r.code != exitThreshold || !strings.Contains(r.stdout, "min_rows: 0 rows scanned < 1") ||
		!strings.Contains(r.stdout, "2026-10-01T00:00:00Z → 2026-10-02T00:00:00Z") ||
		// Where the data is, which tells a stalled loader from a wrong window.
		!strings.Contains(r.stdout, "the newest received_at of the source is 2026-11-20T07:00:00Z") {
		t.Errorf("empty window: exit %d, stdout %q; want exit 1 naming min_rows, the window and the newest received_at", r.code, r.stdout)
	}
	if r := c.run(append(audit, "--fail-on", "min_rows=0")...); r.code != exitOK {
		t.Errorf("empty window with min_rows=0: exit %d: %s", r.code, r.stderr)
	}
	if r := c.run(append(audit[:len(audit)-5], "--since", "2026-11-20", "--until", "2026-11-21", "--dry-run")...); r.code != exitOK {
		t.Errorf("a window with rows: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// freshness and duplicate_rate are measured in SQL and fail the run like
// any --fail-on metric; the newest demo event is 2026-11-20T23:59:36Z, 30h
// before the tests' clock.
func TestFreshnessAndDuplicates(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "f.duckdb")
	c := newCLI()
	events := filepath.Join(root, "testdata/demo/events.ndjson")
	if r := c.run("load", "--warehouse", db, "--table", "events", events); r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	audit := func(extra ...string) result {
		return c.run(append([]string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--dry-run", "--format", "json"}, extra...)...)
	}
	for _, tc := range []struct {
		failOn string
		code   int
		want   string
	}{
		{"freshness=2h", exitThreshold, `"message": "freshness: newest received_at 1d6h old > 2h"`},
		{"freshness=48h", exitOK, `"freshness_seconds": 108023.`},
		{"duplicate_rate=0", exitOK, `"duplicate_rows": 0,`},
	} {
		if r := audit("--fail-on", tc.failOn); r.code != tc.code || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("--fail-on %s: exit %d, want %d and %s:\n%s%s", tc.failOn, r.code, tc.code, tc.want, r.stdout, r.stderr)
		}
	}
	// The same file loaded twice: every message is there twice.
	if r := c.run("load", "--warehouse", db, "--table", "events", events); r.code != 0 {
		t.Fatalf("load again: %s", r.stderr)
	}
	if r := audit("--fail-on", "duplicate_rate=0.01"); r.code != exitThreshold ||
		!strings.Contains(r.stdout, `"duplicate_rows": 3000,`) || !strings.Contains(r.stdout, `"duplicate_rate": 0.5,`) {
		t.Errorf("every message twice: exit %d, want 1 with 3000 duplicates of 6000 rows:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := audit("--fail-on", "freshness=2"); r.code != exitUsage || !strings.Contains(r.stderr, "freshness=2h") {
		t.Errorf("freshness without a unit: exit %d, %s", r.code, r.stderr)
	}
}

// --warn-on reports and posts, with status warned, and exits 0; a metric
// over both limits is one failure.
func TestWarnOn(t *testing.T) {
	db, c := demoEvents(t)
	srv, calls, last := fakeSlack(t, slackOK)
	c.env = map[string]string{"SLACK_WEBHOOK_URL": srv.URL + "/hook"}
	audit := []string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21"}
	r := c.run(append(audit, "--warn-on", "invalid_rate=0.05")...)
	if r.code != exitOK || !strings.Contains(r.stdout, "WARNING threshold: invalid_rate 0.0843333 > 0.05") || !strings.Contains(r.stdout, ": warned") {
		t.Errorf("over a warning: exit %d, want 0 with the warning shown:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if calls.Load() != 1 || !strings.Contains(last.Load().(string), "eventaudit warning: main.events") {
		t.Errorf("a warning must be posted under --slack failure: %d posts", calls.Load())
	}
	if got := queryStrings(t, strings.TrimPrefix(db, "duckdb://"), `SELECT status FROM eventaudit.eventaudit_runs`); len(got) != 1 || got[0] != "warned" {
		t.Errorf("eventaudit_runs.status: %v, want warned", got)
	}
	r = c.run(append(audit, "--warn-on", "invalid_rate=0.05", "--fail-on", "invalid_rate=0.08")...)
	if r.code != exitThreshold || strings.Contains(r.stdout, "WARNING") {
		t.Errorf("over both limits: exit %d, want 1 and the failure alone:\n%s", r.code, r.stdout)
	}
}

// --incremental owns its window's end: an until from any layer would audit
// the same window on every run, each reporting green.
func TestIncrementalWithUntilIsAUsageError(t *testing.T) {
	c := newCLI()
	args := []string{"audit", "--warehouse", "duckdb://" + filepath.Join(t.TempDir(), "i.duckdb"), "--table", "events",
		"--schemas", filepath.Join(root, "testdata/demo/schemas"), "--incremental", "--since", "2026-11-20"}
	if r := c.run(append(args, "--until", "2026-11-21")...); r.code != exitUsage || !strings.Contains(r.stderr, "remove until") {
		t.Errorf("--incremental --until: exit %d: %s", r.code, r.stderr)
	}
	c.env["EVENTAUDIT_UNTIL"] = "2026-11-21"
	if r := c.run(args...); r.code != exitUsage || !strings.Contains(r.stderr, "from environment") {
		t.Errorf("--incremental with EVENTAUDIT_UNTIL: exit %d: %s", r.code, r.stderr)
	}
}

// The trend compares like with like: an ad-hoc hour is not compared with
// the nightly day, and a labelled run neither moves the nightly watermark
// nor becomes the nightly baseline.
func TestTrendComparesLikeWithLike(t *testing.T) {
	db, c := demoEvents(t)
	audit := func(extra ...string) result {
		r := c.run(append([]string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
			"--plan", "segment/shop", "--format", "json", "--fail-on", "min_rows=0"}, extra...)...)
		if r.code != exitOK {
			t.Fatalf("audit %v: exit %d: %s", extra, r.code, r.stderr)
		}
		return r
	}
	audit("--since", "2026-11-20", "--until", "2026-11-21") // run-0001: a day, the nightly baseline
	if r := audit("--since", "2026-11-20T10:00:00Z", "--until", "2026-11-20T11:00:00Z"); !strings.Contains(r.stdout, `"trend": null`) {
		t.Errorf("an hour compared with a day:\n%s", r.stdout)
	}
	if r := audit("--since", "2026-11-21", "--until", "2026-11-22", "--label", "adhoc"); !strings.Contains(r.stdout, `"trend": null`) {
		t.Errorf("a labelled run compared with the nightly history:\n%s", r.stdout)
	}
	if r := audit("--since", "2026-11-20", "--until", "2026-11-21"); !strings.Contains(r.stdout, `"previous_run_id": "run-0001"`) {
		t.Errorf("the nightly day must compare with the nightly day before, not the hour or the labelled day:\n%s", r.stdout)
	}
	// The nightly watermark is the nightly run's end, not the later end of
	// the labelled run; a label with no runs has no watermark.
	if r := audit("--incremental", "--lookback", "0s", "--lag", "24h"); !strings.Contains(r.stdout, `"window_start": "2026-11-21T00:00:00Z"`) {
		t.Errorf("nightly incremental:\n%s", r.stdout)
	}
	if r := c.run("audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--incremental", "--label", "other"); r.code != exitUsage || !strings.Contains(r.stderr, "needs --since") {
		t.Errorf("a label with no runs has no watermark: exit %d: %s", r.code, r.stderr)
	}
}

// With --log-format json every line on stderr is JSON, the final error
// included (with its exit code), and the report alone is on stdout.
func TestJSONLogsEndToEnd(t *testing.T) {
	db, c := demoEvents(t)
	audit := []string{"audit", "--log-format", "json", "--warehouse", db, "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--dry-run"}
	for _, tc := range []struct {
		name  string
		extra []string
		code  int
		last  string // in the last line's msg; "" when the run succeeds
	}{
		{"a run", []string{"--table", "events"}, exitOK, ""},
		{"a missing table", []string{"--table", "nope"}, exitRuntime, "nope"},
		{"a flag that does not parse", []string{"--table", "events", "--workers", "many"}, exitUsage, "--workers"},
		{"an unknown flag", []string{"--table", "events", "--bogus"}, exitUsage, "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run(append(audit, tc.extra...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			var last map[string]any
			for _, l := range lines {
				last = nil
				if err := json.Unmarshal([]byte(l), &last); err != nil {
					t.Errorf("stderr line is not JSON: %q", l)
				}
			}
			if tc.last != "" && (last["level"] != "ERROR" || !strings.Contains(fmt.Sprint(last["msg"]), tc.last) || last["exit"] != float64(tc.code)) {
				t.Errorf("last stderr line %v: want level ERROR, exit %d and a msg naming %q", last, tc.code, tc.last)
			}
			if tc.code == exitOK && (!strings.Contains(r.stdout, "Dry run: nothing was written.") || strings.Contains(r.stderr, "rows scanned")) {
				t.Errorf("the report belongs on stdout alone:\nstdout %s\nstderr %s", r.stdout, r.stderr)
			}
		})
	}
}

// The SQL the demo prints runs without another client, and query never
// changes the results.
func TestQueryCommand(t *testing.T) {
	db, c := demoEvents(t)
	if r := c.run("audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21"); r.code != exitOK {
		t.Fatalf("audit: %s", r.stderr)
	}
	const top = "SELECT keyword, count(*) AS n FROM eventaudit.eventaudit_violations WHERE event_name = 'Product Viewed' GROUP BY ALL ORDER BY n DESC"
	// The same count, read straight from DuckDB.
	enum := queryStrings(t, strings.TrimPrefix(db, "duckdb://"), `SELECT count(*) FROM eventaudit.eventaudit_violations WHERE event_name = 'Product Viewed' AND keyword = 'enum'`)
	if r := c.run("query", "--warehouse", db, "--format", "json", top); r.code != exitOK || enum[0] == "0" ||
		!strings.Contains(r.stdout, `"keyword": "enum",`+"\n"+`    "n": "`+enum[0]+`"`) {
		t.Errorf("query: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run("query", "--warehouse", db, "--limit", "1", "SELECT run_id FROM eventaudit.eventaudit_runs UNION ALL SELECT 'x'"); r.code != exitOK ||
		!strings.Contains(r.stdout, "the first 1 rows; raise --limit") {
		t.Errorf("query --limit 1: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"query", "--warehouse", db, "DELETE FROM eventaudit.eventaudit_violations"},
		{"query", "--warehouse", db},
		{"query", "--warehouse", db, "SELECT 1", "SELECT 2"},
	} {
		if r := c.run(args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want 2: %s", args[3:], r.code, r.stderr)
		}
	}
	if got := queryStrings(t, strings.TrimPrefix(db, "duckdb://"), `SELECT count(*) FROM eventaudit.eventaudit_violations`); got[0] == "0" {
		t.Error("query deleted the violations")
	}
}

// demoEvents loads the demo's events into table events of a new DuckDB
// file.
func demoEvents(t *testing.T) (db string, c *cli) {
	t.Helper()
	db, c = "duckdb://"+filepath.Join(t.TempDir(), "demo.duckdb"), newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	return db, c
}
