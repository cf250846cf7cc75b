package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eventaudit dbt writes the sources file into a dbt project, where dbt
// looks for it, naming the configured results schema; a folder that is
// not a dbt project is refused with what to pass.
func TestDBTSourcesFile(t *testing.T) {
	project := t.TempDir()
	if r := newCLI().run("dbt", "--project", project); r.code != 2 || !strings.Contains(r.stderr, "dbt_project.yml") {
		t.Fatalf("not a dbt project: exit %d, want 2 naming dbt_project.yml:\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(project, "dbt_project.yml"), []byte("name: analytics\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newCLI().run("dbt", "--project", project, "--results-schema", "audit_results")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(project, "models", "eventaudit", "_eventaudit__sources.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"schema: audit_results", "name: eventaudit_violations", "loaded_at_field: finished_at",
		"- passed\n", "name: suppressed"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the sources file lacks %q:\n%s", want, raw)
		}
	}
}
