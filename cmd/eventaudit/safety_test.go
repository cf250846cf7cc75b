package main

import (
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
		!strings.Contains(r.stdout, "2026-10-01T00:00:00Z → 2026-10-02T00:00:00Z") {
		t.Errorf("empty window: exit %d, stdout %q; want exit 1 naming min_rows and the window", r.code, r.stdout)
	}
	if r := c.run(append(audit, "--fail-on", "min_rows=0")...); r.code != exitOK {
		t.Errorf("empty window with min_rows=0: exit %d: %s", r.code, r.stderr)
	}
	if r := c.run(append(audit[:len(audit)-5], "--since", "2026-11-20", "--until", "2026-11-21", "--dry-run")...); r.code != exitOK {
		t.Errorf("a window with rows: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}
