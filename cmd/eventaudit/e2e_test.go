package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// root is the repository, seen from this package.
const root = "../.."

var fixedNow = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

// cli runs the CLI in-process with a fixed clock and sequential run ids.
type cli struct {
	env    map[string]string
	runIDs int
	// tty: stderr is a terminal, so audits draw their progress line.
	tty bool
}

type result struct {
	code           int
	stdout, stderr string
}

func newCLI() *cli { return &cli{env: map[string]string{}} }

func (c *cli) run(args ...string) result {
	var out, errb bytes.Buffer
	d := &deps{stdout: &out, stderr: &errb, getenv: func(k string) string { return c.env[k] },
		now: func() time.Time { return fixedNow }, isTTY: func(io.Writer) bool { return c.tty },
		newRunID: func(time.Time) string { c.runIDs++; return fmt.Sprintf("run-%04d", c.runIDs) }}
	code := execute(context.Background(), d, args)
	return result{code, out.String(), errb.String()}
}

// e2eCase is testdata/e2e/<case>/case.json: steps run in order, sharing one
// temporary directory ($TMP); $ROOT is the repository, $CASE the case dir,
// $REL the repository as a relative path.
type e2eCase struct {
	Steps []struct {
		Args   []string `json:"args"`
		Exit   int      `json:"exit"`
		Stdout string   `json:"stdout"` // golden file in the case dir, or ""
		Stderr string   `json:"stderr"` // substring the stderr must contain
		// StdoutContains is a substring, for steps whose whole output is
		// covered by another case's golden file.
		StdoutContains string `json:"stdout_contains"`
		// Env is the whole environment of the step.
		Env map[string]string `json:"env"`
	} `json:"steps"`
}

func TestE2E(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "testdata", "e2e", "*", "case.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no e2e cases: %v", err)
	}
	for _, file := range files {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var tc e2eCase
			if err := json.Unmarshal(raw, &tc); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			abs, _ := filepath.Abs(root)
			absCase, _ := filepath.Abs(dir)
			// $REL is the repository relative to this package: for output
			// whose layout depends on a path's length, like table widths.
			subst := strings.NewReplacer("$TMP", tmp, "$ROOT", abs, "$CASE", absCase, "$REL", root).Replace
			c := newCLI()
			for i, step := range tc.Steps {
				args := make([]string, len(step.Args))
				for j, a := range step.Args {
					args[j] = subst(a)
				}
				c.env = map[string]string{}
				for k, v := range step.Env {
					c.env[k] = subst(v)
				}
				r := c.run(args...)
				if r.code != step.Exit {
					t.Fatalf("step %d %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", i, step.Args, r.code, step.Exit, r.stdout, r.stderr)
				}
				if step.Stderr != "" && !strings.Contains(r.stderr, step.Stderr) {
					t.Errorf("step %d: stderr does not contain %q:\n%s", i, step.Stderr, r.stderr)
				}
				if step.StdoutContains != "" && !strings.Contains(r.stdout, step.StdoutContains) {
					t.Errorf("step %d: stdout does not contain %q:\n%s", i, step.StdoutContains, r.stdout)
				}
				if step.Stdout != "" {
					golden(t, filepath.Join(dir, step.Stdout), strings.NewReplacer(tmp, "$TMP", abs, "$ROOT").Replace(r.stdout))
				}
			}
		})
	}
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
