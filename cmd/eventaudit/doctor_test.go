package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkLines maps each of doctor's check names to its status.
func checkLines(t *testing.T, stdout string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "ok" || f[0] == "FAIL" || f[0] == "skip") {
			got[f[1]] = f[0]
		}
	}
	return got
}

// init writes a config that eventaudit reads back, with thresholds that
// fail an empty or stale window, never overwrites one by accident, and
// then checks it; doctor on that file says what an audit would meet.
func TestInitThenDoctor(t *testing.T) {
	dir := t.TempDir()
	db := "duckdb://" + filepath.Join(dir, "events.duckdb")
	cfg := filepath.Join(dir, "eventaudit.yml")
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	args := []string{"init", "--out", cfg, "--warehouse", db, "--table", "events",
		"--schemas", filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop"}
	// The demo's newest event is 30 hours before the test's clock: the
	// written freshness=6h fails, as it would in a nightly job.
	r := c.run(args...)
	checks := checkLines(t, r.stdout)
	if r.code != exitThreshold || checks["freshness"] != "FAIL" || checks["schemas"] != "ok" || checks["source"] != "ok" ||
		!strings.Contains(r.stdout, "wrote "+cfg) || !strings.Contains(r.stdout, "older than freshness=6h") {
		t.Fatalf("init: exit %d, checks %v\n%s%s", r.code, checks, r.stdout, r.stderr)
	}
	written, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"min_rows=1", "freshness=6h", "invalid_rate=0.05", "name: events", "\nplan: segment/shop"} {
		if !strings.Contains(string(written), want) {
			t.Errorf("the config lacks %q:\n%s", want, written)
		}
	}

	r = c.run("doctor", "--config", cfg, "--since", "2026-11-20", "--until", "2026-11-21", "--fail-on", "min_rows=1")
	checks = checkLines(t, r.stdout)
	if r.code != exitOK || len(checks) != 7 || strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "3,000 rows in") {
		t.Errorf("doctor on the written config: exit %d, checks %v\n%s%s", r.code, checks, r.stdout, r.stderr)
	}
	// The audit reads the same file: the thresholds init wrote decide it.
	if r := c.run("audit", "--config", cfg, "--since", "2026-11-20", "--until", "2026-11-21"); r.code != exitThreshold ||
		!strings.Contains(r.stdout, "freshness") {
		t.Errorf("audit with the written config: exit %d, want 1 on freshness\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = c.run("doctor", "--config", cfg)
	if checkLines(t, r.stdout)["results"] != "ok" || !strings.Contains(r.stdout, "last run of main.events: run-") {
		t.Errorf("doctor after an audit names its last run:\n%s", r.stdout)
	}

	r = c.run(args...)
	after, _ := os.ReadFile(cfg)
	if r.code != exitUsage || !strings.Contains(r.stderr, "exists; pass --force") || string(after) != string(written) {
		t.Errorf("init over an existing file: exit %d, stderr %q; want exit 2 and the file untouched", r.code, r.stderr)
	}
	if r := c.run(append(args, "--force", "--plan", "")...); r.code == exitUsage {
		t.Errorf("init --force: exit %d: %s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(cfg); strings.Contains(string(after), "\nplan: segment/shop") {
		t.Errorf("init --force did not rewrite the file:\n%s", after)
	}
}

// A password given to init stays out of the file and out of every line it
// prints, even when the connection fails; the file says where it goes.
func TestInitKeepsThePasswordOut(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "eventaudit.yml")
	r := newCLI().run("init", "--out", cfg, "--warehouse", "postgres://auditor:s3cret-pw@127.0.0.1:1/analytics",
		"--table", "segment.raw_events", "--schemas", filepath.Join(root, "testdata/demo/schemas"))
	written, _ := os.ReadFile(cfg)
	if strings.Contains(string(written)+r.stdout+r.stderr, "s3cret-pw") {
		t.Fatalf("the password leaked:\n%s\n%s%s", written, r.stdout, r.stderr)
	}
	if !strings.Contains(string(written), "warehouse: postgres://auditor@127.0.0.1:1/analytics") ||
		!strings.Contains(r.stdout, "export PGPASSWORD") {
		t.Errorf("config:\n%s\nstdout: %s", written, r.stdout)
	}
	if checks := checkLines(t, r.stdout); r.code != exitThreshold || checks["warehouse"] != "FAIL" || checks["source"] != "skip" {
		t.Errorf("exit %d, checks %v: want the unreachable warehouse to fail and what needs it skipped", r.code, checks)
	}
}

// doctor fails where the audit would, and says why: an empty window, a
// missing table, a Slack webhook Slack no longer knows.
func TestDoctorFindsWhatWouldFail(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "events.duckdb")
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	base := []string{"doctor", "--warehouse", db, "--schemas", filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop"}
	for _, tc := range []struct {
		name  string
		args  []string
		check string
		want  string
	}{
		{"empty window", []string{"--table", "events", "--since", "2026-11-10", "--until", "2026-11-11"},
			"window", "0 rows in 2026-11-10T00:00:00Z → 2026-11-11T00:00:00Z: fewer than min_rows=1"},
		{"missing table", []string{"--table", "evnets"}, "source", "evnets"},
		{"stale source", []string{"--table", "events", "--fail-on", "freshness=2h"},
			"freshness", "newest received_at 2026-11-20T23:59:36Z (1d6h ago): older than freshness=2h"},
	} {
		r := c.run(append(base, tc.args...)...)
		if checkLines(t, r.stdout)[tc.check] != "FAIL" || !strings.Contains(r.stdout, tc.want) || r.code != exitThreshold {
			t.Errorf("%s: exit %d; want check %s to fail saying %q:\n%s%s", tc.name, r.code, tc.check, tc.want, r.stdout, r.stderr)
		}
	}

	ok := []string{"--table", "events", "--since", "2026-11-20", "--until", "2026-11-21"}
	for _, tc := range []struct {
		name, status, body, want string
		code                     int
	}{
		{"live webhook", "400 Bad Request", "no_text", "webhook accepted by Slack", http.StatusBadRequest},
		{"revoked webhook", "404 Not Found", "no_service", "no_service", http.StatusNotFound},
	} {
		srv, calls, last := fakeSlack(t, func(_ int32, w http.ResponseWriter) {
			w.WriteHeader(tc.code)
			fmt.Fprint(w, tc.body)
		})
		c.env = map[string]string{"SLACK_WEBHOOK_URL": srv.URL + "/services/T0/B0/hooksecret"}
		r := c.run(append(base, ok...)...)
		want := map[bool]string{true: "ok", false: "FAIL"}[tc.code == http.StatusBadRequest]
		if checkLines(t, r.stdout)["slack"] != want || !strings.Contains(r.stdout, tc.want) || calls.Load() != 1 ||
			last.Load() != "{}" || strings.Contains(r.stdout+r.stderr, "hooksecret") {
			t.Errorf("%s: slack check %q, %d calls, body %v, want %s saying %q without the URL:\n%s%s",
				tc.name, checkLines(t, r.stdout)["slack"], calls.Load(), last.Load(), want, tc.want, r.stdout, r.stderr)
		}
	}
	srv, _, _ := fakeSlack(t, func(_ int32, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"team":"Acme","user":"eventaudit"}`)
	})
	c.env = map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-tokensecret", "EVENTAUDIT_SLACK_API_URL": srv.URL + "/"}
	r := c.run(append(base, append(ok, "--slack-channel", "#dq")...)...)
	if checkLines(t, r.stdout)["slack"] != "ok" || !strings.Contains(r.stdout, "bot token of eventaudit in workspace Acme; digests go to #dq") ||
		strings.Contains(r.stdout+r.stderr, "tokensecret") || r.code != exitOK {
		t.Errorf("bot token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// ${VAR} is expanded in values only: a commented-out secret needs no
// variable, and a secret holding YAML's comment or mapping marks stays
// whole.
func TestConfigExpandsValuesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventaudit.yml")
	yml := "warehouse: postgres://auditor:${PW}@db:5432/analytics\n# slack:\n#   webhook_url: ${SLACK_WEBHOOK_URL}\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "a #b: c"}
	cfg, err := loadConfig(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.values["warehouse"]; len(got) != 1 || got[0] != "postgres://auditor:a #b: c@db:5432/analytics" {
		t.Errorf("warehouse: %q", got)
	}
	delete(env, "PW")
	if _, err := loadConfig(path, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "unset environment variable(s): PW") ||
		strings.Contains(err.Error(), "SLACK_WEBHOOK_URL") {
		t.Errorf("unset PW: %v; want it named, and not the commented-out variable", err)
	}
}
