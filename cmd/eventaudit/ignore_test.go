package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeYAML(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "eventaudit.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// An ignore: entry accepts a known problem: its violations are written,
// marked suppressed, and count toward neither --fail-on nor the report's
// totals; an expired entry warns and accepts nothing.
func TestIgnoreEntries(t *testing.T) {
	dir := t.TempDir()
	c, wh, audit := demoAudits(t, dir)
	const window = "--since=2026-11-20T06:00:00Z"
	base := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--dry-run")
	var before auditJSON
	if err := json.Unmarshal([]byte(base.stdout), &before); err != nil {
		t.Fatal(err)
	}
	cfg := writeYAML(t, dir, `
ignore:
  - schema: segment/shop/Page/*
    keyword: required
    path: /properties
    reason: "WEB-1234: the SPA router drops path on client-side navigation"
    until: 2099-12-31
  - event: Product Viewed
    keyword: enum
    reason: an old promise
    until: 2020-01-31
`)
	r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--config", cfg, "--fail-on", "violations=50")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0: the accepted page violations no longer count toward violations=50\n%s", r.code, r.stderr)
	}
	var after auditJSON
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatal(err)
	}
	var suppressed struct {
		N int64 `json:"violations_suppressed"`
	}
	_ = json.Unmarshal([]byte(r.stdout), &suppressed)
	if suppressed.N == 0 || after.Violations+suppressed.N != before.Violations {
		t.Errorf("violations %d + suppressed %d, want %d in all", after.Violations, suppressed.N, before.Violations)
	}
	if !strings.Contains(r.stderr, "ignore entry 2 (line 8)") || !strings.Contains(r.stderr, "expired") {
		t.Errorf("the expired entry does not warn, by name and line:\n%s", r.stderr)
	}
	q := c.run("query", "--warehouse", wh, "--format", "json",
		"SELECT keyword FROM eventaudit.eventaudit_violations WHERE suppressed")
	var rows []struct{ Keyword string }
	if err := json.Unmarshal([]byte(q.stdout), &rows); err != nil {
		t.Fatalf("%v: %s%s", err, q.stdout, q.stderr)
	}
	if int64(len(rows)) != suppressed.N {
		t.Errorf("%d rows marked suppressed in the table, the report says %d", len(rows), suppressed.N)
	}
	for _, row := range rows {
		if row.Keyword != "required" {
			t.Errorf("suppressed %+v, which no active entry names", row)
		}
	}

	for name, bad := range map[string]string{
		"no reason":   "ignore:\n  - event: Page\n",
		"unknown key": "ignore:\n  - event: Page\n    reason: r\n    keywords: enum\n",
		"bad date":    "ignore:\n  - keyword: enum\n    reason: r\n    until: next week\n",
	} {
		r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--config", writeYAML(t, t.TempDir(), bad), window)
		if r.code != 2 || !strings.Contains(r.stderr, "ignore entry 1 (line 2)") {
			t.Errorf("%s: exit %d, want 2 naming ignore entry 1 (line 2):\n%s", name, r.code, r.stderr)
		}
	}
}

// --fail-on new_violations counts failures no earlier run of the source
// recorded: a first run's are all new; a re-run of the same window finds
// none new, though it replaces that window's violations.
func TestFailOnNewViolations(t *testing.T) {
	_, _, audit := demoAudits(t, t.TempDir())
	first := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--fail-on", "new_violations=0")
	if first.code != 1 || !strings.Contains(first.stdout, `"new_violations"`) {
		t.Fatalf("first run: exit %d, want 1 (every failure is new)\n%s", first.code, first.stderr)
	}
	again := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--fail-on", "new_violations=0")
	var s struct {
		New *int64 `json:"new_violations"`
	}
	if err := json.Unmarshal([]byte(again.stdout), &s); err != nil {
		t.Fatal(err)
	}
	if again.code != 0 || s.New == nil || *s.New != 0 {
		t.Errorf("re-run: exit %d, new_violations %v; want 0 and 0\n%s", again.code, s.New, again.stderr)
	}
}
