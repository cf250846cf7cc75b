package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The orchestrator examples (examples/) call eventaudit with flags and
// read its JSON report by field name. A renamed flag or field breaks them
// here, not in a team's nightly DAG.
func TestExamplesUseRealFlagsAndFields(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "examples", "*", "*.py"))
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	rootCmd, _ := settingsCLI(nil)
	auditCmd, _, err := rootCmd.Find([]string{"audit"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, audit := demoAudits(t, t.TempDir())
	r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "--dry-run", "--fail-on", "new_violations=1000")
	var report map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatal(err)
	}
	var event map[string]any
	if events, _ := report["events"].([]any); len(events) > 0 {
		event, _ = events[0].(map[string]any)
	}

	flag := regexp.MustCompile(`"--([a-z][a-z-]*)"`)
	field := regexp.MustCompile(`(report|e)(?:\["|\.get\(")([a-z_]+)"`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		if !strings.Contains(text, `"audit"`) {
			t.Errorf("%s does not run eventaudit audit", f)
		}
		for _, m := range flag.FindAllStringSubmatch(text, -1) {
			if auditCmd.Flags().Lookup(m[1]) == nil && auditCmd.InheritedFlags().Lookup(m[1]) == nil {
				t.Errorf("%s: audit has no flag --%s", filepath.Base(f), m[1])
			}
		}
		for _, m := range field.FindAllStringSubmatch(text, -1) {
			obj := report
			if m[1] == "e" {
				obj = event
			}
			if _, ok := obj[m[2]]; !ok {
				t.Errorf("%s: the JSON report has no field %q", filepath.Base(f), m[2])
			}
		}
	}
}
