package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
)

// thirdParty is a schema another project publishes (testdata/third_party).
func thirdParty(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(root, "testdata", "third_party", name)
}

// The SARIF of schemas check is SARIF 2.1.0, by the OASIS schema checked
// with eventaudit's own validator, and each result points at the line and
// column of the finding's JSON pointer.
func TestSchemasCheckSARIF(t *testing.T) {
	raw, err := os.ReadFile(thirdParty(t, "sarif-2.1.0-rtm.5.json"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Load(t.Context(), fstest.MapFS{"ci/SARIF/2-1.json": {Data: raw}}, schemas.Options{})
	if err != nil {
		t.Fatalf("the SARIF schema does not load: %v", err)
	}
	sarif, ok := reg.ByID("ci/SARIF/2-1.json")
	if !ok {
		t.Fatal("the SARIF schema is not in the registry")
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "shop", "Order Completed", "1-0.json")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	// Line 5 holds a camelCase property, which Reflekt's rules refuse.
	if err := os.WriteFile(file, []byte(`{
  "self": {"name": "Order Completed", "version": "1-0"},
  "description": "An order went through.",
  "properties": {
    "orderId": {"type": "string", "description": "The order."}
  }
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, schemasDir := range []string{dir, filepath.Join(root, "testdata/e2e/schema-compile-error/schemas"), filepath.Join(root, "testdata/demo/schemas")} {
		r := newCLI().run("schemas", "check", "--schemas", schemasDir, "--format", "sarif")
		if r.code > 1 {
			t.Fatalf("schemas check: exit %d: %s", r.code, r.stderr)
		}
		doc, err := audit.DecodePayload([]byte(r.stdout))
		if err != nil {
			t.Fatalf("the SARIF is not a JSON object: %v\n%s", err, r.stdout)
		}
		if fails := sarif.Validate(doc); len(fails) > 0 {
			t.Errorf("%s: the SARIF breaks SARIF 2.1.0: %v", schemasDir, fails)
		}
	}

	r := newCLI().run("schemas", "check", "--schemas", dir, "--format", "sarif")
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, res := range log.Runs[0].Results {
		loc := res.Locations[0].PhysicalLocation
		if res.RuleID == "property-name" {
			found = true
			if loc.Region.StartLine != 5 || loc.Region.StartColumn != 5 {
				t.Errorf("the property-name finding is at %d:%d, want 5:5 (the key \"orderId\")", loc.Region.StartLine, loc.Region.StartColumn)
			}
			if !strings.HasSuffix(loc.ArtifactLocation.URI, "/shop/Order%20Completed/1-0.json") {
				t.Errorf("artifact uri %q is not the file, percent-encoded", loc.ArtifactLocation.URI)
			}
		}
	}
	if !found {
		t.Fatalf("no property-name result for orderId:\n%s", r.stdout)
	}

	gh := newCLI().run("schemas", "check", "--schemas", dir, "--format", "github")
	if gh.code != 1 || !strings.Contains(gh.stdout, "/shop/Order Completed/1-0.json,line=5,col=5,title=eventaudit property-name::/properties/orderId: property \"orderId\"") {
		t.Errorf("github format: exit %d, want 1 and an ::error at line 5, column 5:\n%s", gh.code, gh.stdout)
	}
}

// The JUnit XML of an audit is valid by Jenkins' JUnit schema, checked by
// libxml2's xmllint, whether the run fails or passes.
func TestAuditJUnit(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		msg := "no xmllint on PATH: install Debian's libxml2-utils, as .ci/run does"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	_, _, audit := demoAudits(t, dir)
	for name, args := range map[string][]string{
		"failed": {"--dry-run", "--format", "junit", "--fail-on", "invalid_rate=0.01"},
		"passed": {"--dry-run", "--format", "junit", "--fail-on", "invalid_rate=1"},
	} {
		r := audit("2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", args...)
		if want := map[string]int{"failed": 1, "passed": 0}[name]; r.code != want {
			t.Fatalf("%s: exit %d, want %d: %s", name, r.code, want, r.stderr)
		}
		out := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(out, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		lint := exec.Command(xmllint, "--noout", "--schema", thirdParty(t, "jenkins-junit.xsd"), out)
		if msg, err := lint.CombinedOutput(); err != nil {
			t.Errorf("%s: the JUnit XML breaks Jenkins' schema: %v\n%s", name, err, msg)
		}
		_, thresholds, _ := strings.Cut(r.stdout, `<testcase name="thresholds"`)
		thresholds, _, _ = strings.Cut(thresholds, "</testcase>")
		thresholdFails := strings.Contains(thresholds, `<failure message="invalid_rate`)
		if thresholdFails != (name == "failed") {
			t.Errorf("%s: the thresholds case fails=%v:\n%s", name, thresholdFails, r.stdout)
		}
	}
}
