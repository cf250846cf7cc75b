package duckdb_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/duckdb"
)

// holdEnv makes the test binary a process that opens a DuckDB file, says
// so, and holds it until its stdin closes: what a running audit does.
const holdEnv = "EVENTAUDIT_TEST_HOLD_DUCKDB"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		wh, err := duckdb.Open(context.Background(), "duckdb://"+path)
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("holding\n")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		wh.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// DuckDB lets one process at a time write a file; a second one (eventaudit
// runs while an audit runs) is told that, and what to do, not DuckDB's
// lock error alone.
func TestFileInUseByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.duckdb")
	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), holdEnv+"="+path)
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = holder.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "holding\n" {
		t.Fatalf("the holder did not open the file: %q", line)
	}
	_, err = duckdb.Open(context.Background(), "duckdb://"+path)
	if err == nil {
		t.Fatal("a second process opened a DuckDB file another one holds")
	}
	for _, want := range []string{path, "in use by another process", "an audit", "wait for it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
