package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
)

// snowflakeChunkRows is the endpoint's result chunk: about 15 MB of the
// corpus's 740-byte messages, the size Snowflake's largest chunks reach
// (the server picks them, growing from small ones; the driver has no say).
const snowflakeChunkRows = 20000

// BenchmarkSnowflakePeakRSS runs the built binary, with writes, against the
// in-process Snowflake endpoint serving the window in chunks, and reports
// the child's peak RSS: eventaudit's own memory, apart from the endpoint's,
// which holds the table and every chunk. The endpoint shares the cores, so
// the time is not a figure.
//
//	go test -tags duckdb_arrow ./cmd/eventaudit -run '^$' -bench SnowflakePeakRSS -benchtime 1x
func BenchmarkSnowflakePeakRSS(b *testing.B) {
	bin := buildBinary(b)
	for _, n := range []int{1_000_000, 3_000_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			srv := sftest.Start(b)
			srv.ChunkRows = snowflakeChunkRows
			loadEndpoint(b, srv, n)
			var peak int64
			for b.Loop() {
				peak = max(peak, auditPeakRSS(b, bin, srv, n))
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
		})
	}
}

// loadEndpoint puts n corpus rows in the endpoint's raw.events, by way of
// a DuckDB file: the driver's binds would take an hour.
func loadEndpoint(b *testing.B, srv *sftest.Server, n int) {
	ctx := context.Background()
	file := filepath.Join(b.TempDir(), "corpus.duckdb")
	w, err := warehouse.Open(ctx, "duckdb://"+file, warehouse.Credentials{})
	if err != nil {
		b.Fatal(err)
	}
	loader, err := w.Loader(ctx, "events", "VARCHAR", true)
	if err != nil {
		b.Fatal(err)
	}
	err = audittest.NewGenerator(audittest.Options{N: n, BadRate: 0.05, Seed: 1}).EachChunk(100000, func(rows []audit.Row) error {
		return loader.Load(ctx, rows)
	})
	if err != nil {
		b.Fatal(err)
	}
	w.Close()
	for _, q := range []string{
		fmt.Sprintf("ATTACH '%s' AS corpus (READ_ONLY)", file),
		"CREATE SCHEMA IF NOT EXISTS raw",
		"CREATE TABLE raw.events AS SELECT * FROM corpus.events",
		"DETACH corpus",
	} {
		if _, err := srv.DB().Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
}

// auditPeakRSS audits the endpoint's whole window in a child process and
// returns its peak RSS in KiB, after checking it read every row. GNU time
// measures it: os/exec starts a child on the parent's memory until exec
// (vfork), and Linux keeps that high-water mark in the child's own figure,
// which would report the endpoint's gigabytes as eventaudit's.
func auditPeakRSS(b *testing.B, bin string, srv *sftest.Server, n int) int64 {
	rss := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command("/usr/bin/time", "-f", "%M", "-o", rss, bin, "audit", "--warehouse", srv.URL("tester", "ANALYTICS", "PUBLIC", ""), "--table", "raw.events",
		"--schemas", filepath.Join(root, "testdata/demo/schemas"), "--plan", "segment/shop",
		"--since", "2026-11-20", "--until", "2026-11-21", "--log-level", "warn", "--format", "json")
	cmd.Env = append(os.Environ(), "SNOWFLAKE_PASSWORD="+snowflakePassword)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != exitThreshold {
		b.Fatalf("audit: %v\n%s", err, errb.String())
	}
	var s struct {
		RowsScanned int64 `json:"rows_scanned"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.RowsScanned != int64(n) {
		b.Fatalf("the audit scanned %d rows, want %d (%v)\n%s", s.RowsScanned, n, err, errb.String())
	}
	text, err := os.ReadFile(rss)
	if err != nil {
		b.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(text)), 10, 64)
	if err != nil {
		b.Fatalf("GNU time wrote %q: %v", text, err)
	}
	return kib
}
