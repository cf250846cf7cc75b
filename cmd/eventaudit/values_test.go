package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// --values types and hash keep no offending value: not in the violations
// table, not in the report's examples. hash needs a key, and groups equal
// values alike.
func TestValuesKeepNoPersonalData(t *testing.T) {
	shapes := map[string]*regexp.Regexp{
		"types": regexp.MustCompile(`^(|null|boolean|number|string\(\d+\)|array\(\d+\)|object\(\d+\)|text\(\d+ bytes\))$`),
		"hash":  regexp.MustCompile(`^(|hmac-sha256:[0-9a-f]{16})$`),
	}
	for mode, shape := range shapes {
		t.Run(mode, func(t *testing.T) {
			c, wh, audit := demoAudits(t, t.TempDir())
			c.env["EVENTAUDIT_VALUES_KEY"] = "a-secret-of-at-least-16-bytes"
			r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--values", mode)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout, "@") || strings.Contains(r.stdout, `"value": "\"`) {
				t.Errorf("the report keeps a value:\n%s", r.stdout)
			}
			q := c.run("query", "--warehouse", wh, "--format", "json",
				"SELECT keyword, value, message FROM eventaudit.eventaudit_violations")
			if q.code != 0 {
				t.Fatal(q.stderr)
			}
			var rows []struct{ Keyword, Value, Message string }
			if err := json.Unmarshal([]byte(q.stdout), &rows); err != nil {
				t.Fatalf("%v\n%s", err, q.stdout)
			}
			if len(rows) == 0 {
				t.Fatal("no violations written")
			}
			hashes := map[string]int{}
			for _, row := range rows {
				if !shape.MatchString(row.Value) {
					t.Errorf("%s violation stores value %q", row.Keyword, row.Value)
				}
				hashes[row.Value]++
			}
			if mode == "hash" && len(hashes) == len(rows) {
				t.Error("no two violations share a hash, though the demo repeats values (the same wrong plan name)")
			}
		})
	}

	_, _, audit := demoAudits(t, t.TempDir())
	r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--values", "hash")
	if r.code != 2 || !strings.Contains(r.stderr, "EVENTAUDIT_VALUES_KEY") {
		t.Errorf("--values hash without a key: exit %d, want 2 and how to set one:\n%s", r.code, r.stderr)
	}
}
