// Command eventaudit-corpus writes a deterministic Segment corpus for the
// demo plan (testdata/demo/schemas): as files with the ground truth of its
// injected bugs, or straight into a warehouse table for benchmarks.
//
//	go run ./cmd/eventaudit-corpus -n 3000 -bad 0.08 -seed 1 -out testdata/demo
//	go run ./cmd/eventaudit-corpus -n 1000000 -bad 0.05 -warehouse duckdb://bench.duckdb -table events
//	go run ./cmd/eventaudit-corpus -n 100000 -bad 0.05 -core testdata/demo/schemas -workers 1
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

func main() {
	n := flag.Int("n", 3000, "messages")
	bad := flag.Float64("bad", 0.08, "fraction of messages with an injected bug")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("out", "", "directory for events.ndjson and truth.json")
	wh := flag.String("warehouse", "", "load into this warehouse instead of writing files")
	table := flag.String("table", "events", "table to create and fill with -warehouse")
	payloadType := flag.String("payload-type", "", "payload column type with -warehouse (default: the warehouse's text type)")
	scan := flag.Bool("scan", false, "with -warehouse: time a plain scan of -table through eventaudit's reader, no validation, and print rows/s")
	sliced := flag.Bool("sliced", false, "with -scan: read the window in slices of 10,000 rows, each query's result materialised and read through Arrow, as eventaudit read DuckDB before its streamed scan: the read limit the DuckDB targets are set against")
	exec := flag.String("exec", "", "with -warehouse: run this SQL statement (benchmark setup) and exit")
	core := flag.String("core", "", "validate the corpus in memory against this schemas directory's segment/shop plan, no warehouse, and print events, invalid, seconds, events/s: the validation core on the corpus the peers read")
	workers := flag.Int("workers", 1, "validator goroutines with -core")
	segmentSchema := flag.String("segment", "", "with -warehouse: load the corpus as Segment's warehouse layout (a table per call type and per track event, properties as columns) into this schema, instead of -table")
	flag.Parse()
	opts := audittest.Options{N: *n, BadRate: *bad, Seed: *seed}
	var err error
	switch {
	case *core != "":
		err = validateCore(*core, *workers, opts)
	case *wh != "" && *exec != "":
		err = execSQL(*wh, *exec)
	case *wh != "" && *segmentSchema != "":
		err = loadSegment(*wh, *segmentSchema, opts)
	case *wh != "" && *scan:
		err = scanOnly(*wh, *table, *sliced)
	case *wh != "":
		err = load(*wh, *table, *payloadType, opts)
	case *out != "":
		err = write(*out, audittest.Generate(opts))
	default:
		err = fmt.Errorf("pass -out DIR or -warehouse URL")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventaudit-corpus:", err)
		os.Exit(1)
	}
}

// load streams the corpus into a table in chunks, so memory stays flat.
func load(url, table, payloadType string, o audittest.Options) error {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, url, warehouse.Credentials{})
	if err != nil {
		return err
	}
	defer w.Close()
	loader, err := w.Loader(ctx, table, payloadType, true)
	if err != nil {
		return err
	}
	start := time.Now()
	total := 0
	err = audittest.NewGenerator(o).EachChunk(20000, func(rows []audit.Row) error {
		total += len(rows)
		return loader.Load(ctx, rows)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "loaded %d rows into %s in %s\n", total, table, time.Since(start).Round(time.Millisecond))
	return nil
}

// loadSegment loads the corpus as Segment's destination would, through the
// tests' own reading of its documentation; it holds the layout in memory.
func loadSegment(url, schema string, o audittest.Options) error {
	ctx := context.Background()
	w, err := warehouse.OpenSQL(ctx, url, warehouse.Credentials{})
	if err != nil {
		return err
	}
	defer w.Close()
	start := time.Now()
	c := audittest.Generate(o)
	if err := warehousetest.BuildSegmentLayout(c.Rows).Load(ctx, w, schema); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "loaded %d messages as Segment's layout into %s in %s\n", len(c.Rows), schema, time.Since(start).Round(time.Millisecond))
	return nil
}

func execSQL(url, q string) error {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, url, warehouse.Credentials{})
	if err != nil {
		return err
	}
	defer w.Close()
	return w.Exec(ctx, q)
}

// scanOnly is the raw read limit: the same window query and row decoding
// the audit uses, and nothing else; or, sliced, the read eventaudit's
// DuckDB reader used to be.
func scanOnly(url, table string, sliced bool) error {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, url, warehouse.Credentials{})
	if err != nil {
		return err
	}
	defer w.Close()
	src, err := w.RawSource(ctx, warehouse.RawTable{Table: table, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}, audit.Shard{})
	if err != nil {
		return err
	}
	win := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	start := time.Now()
	n := 0
	if sliced {
		n, err = src.ReadSliced(ctx, win)
		secs := time.Since(start).Seconds()
		fmt.Printf("%d %.3f %.0f\n", n, secs, float64(n)/secs)
		return err
	}
	// Batches go back to the source at once, as the audit gives them back
	// once judged.
	recycler, _ := src.Source.(audit.RecyclingSource)
	err = src.Scan(ctx, win,
		func(rows []audit.Row) error {
			n += len(rows)
			if recycler != nil {
				recycler.Recycle(rows)
			}
			return nil
		})
	secs := time.Since(start).Seconds()
	fmt.Printf("%d %.3f %.0f\n", n, secs, float64(n)/secs)
	return err
}

// validateCore times the audit pipeline over rows already in memory, as
// the Python and ajv peers time validation of a file they have read.
func validateCore(dir string, workers int, o audittest.Options) error {
	ctx := context.Background()
	reg, err := schemas.Load(ctx, os.DirFS(dir), schemas.Options{Plan: "segment/shop"})
	if err != nil {
		return err
	}
	rows := audittest.Generate(o).Rows
	a := &audit.Auditor{
		Source:  &audittest.Source{Rows: rows, BatchSize: 1000},
		Matcher: &audit.Matcher{Catalog: reg, Target: audit.ValidateObject},
		Workers: workers,
	}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	// One pass untimed, as ajv.js gives its JIT one: the first pass also
	// pays for growing the heap.
	if _, err := a.Run(ctx, audit.Run{RunID: "warm-up", Window: w}); err != nil {
		return err
	}
	start := time.Now()
	s, err := a.Run(ctx, audit.Run{RunID: "core", Window: w})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("%d %d %.3f %.0f\n", s.Run.RowsScanned, s.Run.RowsInvalid, secs, float64(s.Run.RowsScanned)/secs)
	return nil
}

func write(dir string, c *audittest.Corpus) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "events.ndjson"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range c.Rows {
		var payload *string
		if r.Payload != nil {
			s := string(r.Payload)
			payload = &s
		}
		if err := enc.Encode(struct {
			MessageID  string    `json:"message_id"`
			ReceivedAt time.Time `json:"received_at"`
			Payload    *string   `json:"payload"`
		}{r.MessageID, r.ReceivedAt, payload}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	truth, err := json.MarshalIndent(c.Truth, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "truth.json"), append(truth, '\n'), 0o644)
}
