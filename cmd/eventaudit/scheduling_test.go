package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

type jsonTotals struct {
	RowsScanned   int64 `json:"rows_scanned"`
	RowsInvalid   int64 `json:"rows_invalid"`
	RowsUnplanned int64 `json:"rows_unplanned"`
	Violations    int64 `json:"violations"`
}

// N shard runs of the demo add up to one full run, in DuckDB and Postgres,
// and their violation rows are the full run's.
func TestShardsOfTheDemoAddUpToTheFullRun(t *testing.T) {
	whs := map[string]string{"duckdb": "duckdb://" + filepath.Join(t.TempDir(), "s.duckdb")}
	if pgURL != "" || os.Getenv("CI") != "" {
		whs["postgres"] = requirePG(t)
	}
	for name, wh := range whs {
		t.Run(name, func(t *testing.T) {
			c := newCLI()
			if r := c.run("load", "--warehouse", wh, "--table", "shards.events", "--replace",
				filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
				t.Fatal(r.stderr)
			}
			audit := func(results string, extra ...string) jsonTotals {
				args := append([]string{"audit", "--warehouse", wh, "--table", "shards.events", "--schemas",
					filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop", "--since", "2026-11-20",
					"--until", "2026-11-21", "--format", "json", "--results-schema", results}, extra...)
				r := c.run(args...)
				if r.code != 0 {
					t.Fatalf("%v: exit %d: %s", extra, r.code, r.stderr)
				}
				var tot jsonTotals
				if err := json.Unmarshal([]byte(r.stdout), &tot); err != nil {
					t.Fatal(err)
				}
				return tot
			}
			fullSchema, shardSchema := uniqueName("full_"+name), uniqueName("sharded_"+name)
			full := audit(fullSchema)
			var sum jsonTotals
			for _, sh := range []string{"0/4", "1/4", "2/4", "3/4"} {
				s := audit(shardSchema, "--shard", sh)
				if s.RowsScanned == 0 || s.RowsScanned == full.RowsScanned {
					t.Errorf("shard %s scanned %d of %d rows", sh, s.RowsScanned, full.RowsScanned)
				}
				sum.RowsScanned += s.RowsScanned
				sum.RowsInvalid += s.RowsInvalid
				sum.RowsUnplanned += s.RowsUnplanned
				sum.Violations += s.Violations
			}
			if sum != full {
				t.Errorf("shards add up to %+v, the full run is %+v", sum, full)
			}
			if d := diffSets(violationRows(t, wh, fullSchema, warehouse.Credentials{}), violationRows(t, wh, shardSchema, warehouse.Credentials{})); d != "" {
				t.Errorf("violation rows differ (missing = only in the full run):\n%s", d)
			}
		})
	}
}

// A run that finds its source locked exits 3 and says who holds it.
func TestLockedSourceExits3(t *testing.T) {
	db := "duckdb://" + filepath.Join(t.TempDir(), "lock.duckdb")
	c := newCLI()
	if r := c.run("load", "--warehouse", db, "--table", "events", filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
		t.Fatal(r.stderr)
	}
	args := []string{"audit", "--warehouse", db, "--table", "events", "--schemas", filepath.Join(root, "testdata/demo/schemas"),
		"--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21", "--results-schema", "res"}
	wh, err := warehouse.OpenSQL(context.Background(), db, warehouse.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	sink := &sqlwh.Sink{WH: wh, Schema: "res"}
	// The CLI records the catalog's name: main.events, whatever --table says.
	release, err := sink.Lock(context.Background(), audit.Run{RunID: "nightly-running", Source: "main.events"}, time.Now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := c.run(args...)
	if r.code != exitRuntime || !strings.Contains(r.stderr, "another eventaudit run (run_id nightly-running") {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
	if err := release.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	wh.Close()
	if r := c.run(args...); r.code != exitThreshold && r.code != exitOK {
		t.Errorf("after release: exit %d: %s", r.code, r.stderr)
	}
}

// buildBinary builds eventaudit as a release is built (with DuckDB's Arrow
// reads), for tests that need a real process.
func buildBinary(tb testing.TB) string {
	bin := filepath.Join(tb.TempDir(), "eventaudit")
	if out, err := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// SIGTERM to a real process mid-scan: exit 130, nothing written, and the
// lock released for the next run.
func TestSIGTERMRollsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	db := filepath.Join(dir, "big.duckdb")
	wh, err := warehouse.OpenSQL(context.Background(), "duckdb://"+db, warehouse.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	// 50M rows generated as they are scanned: the audit is still going when
	// the signal arrives, however fast the machine.
	if err := wh.Conn.Exec(context.Background(), `CREATE VIEW events AS
SELECT 'm' || i AS message_id, TIMESTAMPTZ '2026-11-20 00:00:00+00' + to_microseconds(i) AS received_at,
  '{"type":"track","event":"Product Viewed","properties":{"price":"12"}}' AS payload
FROM range(50000000) t(i)`); err != nil {
		t.Fatal(err)
	}
	wh.Close()

	cmd := exec.Command(bin, "audit", "--warehouse", "duckdb://"+db, "--table", "events", "--schemas",
		filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop", "--since", "2026-11-20", "--until", "2026-11-21",
		"--workers", "1", "--log-format", "json")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the scan to be under way.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), `"msg":"audit started"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != exitInterrupted {
		t.Fatalf("exit %d (%v), want 130; the run may have finished before the signal:\n%s", code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted; nothing was written") {
		t.Errorf("stderr: %s", stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.HasPrefix(line, "{") && !strings.Contains(line, `"run_id":"`) {
			t.Errorf("a log line without run_id: %s", line)
		}
	}
	wh, err = warehouse.OpenSQL(context.Background(), "duckdb://"+db, warehouse.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	for _, q := range []string{`SELECT COUNT(*) FROM eventaudit.eventaudit_runs`, `SELECT COUNT(*) FROM eventaudit.eventaudit_violations`,
		`SELECT COUNT(*) FROM eventaudit.eventaudit_locks WHERE run_id <> ''`} {
		rows, err := wh.Conn.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for rows.Next() {
			_ = rows.Scan(&n)
		}
		rows.Close()
		if n != 0 {
			t.Errorf("%s = %d after an interrupted run, want 0", q, n)
		}
	}
}

// lockedBuffer is written by exec's copying goroutine while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
