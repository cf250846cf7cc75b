package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/segment"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/eventaudit/eventaudit/warehouse/warehousetest"
)

// BenchmarkLayouts audits the same 50,000 generated messages stored raw and
// stored as Segment's warehouse layout, in one DuckDB file, without writing
// results: what rebuilding messages from columns costs.
//
//	go test ./warehouse/duckdb -run '^$' -bench Layouts -count 6 | benchstat -col /layout -
func BenchmarkLayouts(b *testing.B) {
	ctx := context.Background()
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"raw", "events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	wh, corpus := benchTable(b, raw, 50000)
	if err := warehousetest.BuildSegmentLayout(corpus.Rows).Load(ctx, wh, "web_prod"); err != nil {
		b.Fatal(err)
	}
	reg, err := schemas.Load(ctx, os.DirFS("../../testdata/demo/schemas"), schemas.Options{Plan: "segment/shop"})
	if err != nil {
		b.Fatal(err)
	}
	m := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	for _, layout := range []struct {
		name string
		src  audit.Source
	}{
		{"raw", &sqlwh.Source{WH: wh, Table: raw}},
		{"segment", &segment.Source{WH: wh, Schema: "web_prod", Events: reg.EventNames(), Matcher: m}},
	} {
		b.Run("layout="+layout.name, func(b *testing.B) {
			var rows int64
			for b.Loop() {
				s, err := (&audit.Auditor{Source: layout.src, Matcher: m, Workers: 2}).Run(ctx, audit.Run{RunID: "bench", Window: w})
				if err != nil {
					b.Fatal(err)
				}
				rows += s.Run.RowsScanned
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkWindowScan reads the same 200,000 generated messages' window
// as the audit does (read=streamed: one statement, DuckDB's threads copying
// each vector out through eventaudit's scan function) and as it did before
// (read=sliced-arrow: slices of sqlwh.BaselineSliceRows at quantiles of
// received_at, each result materialised and read through Arrow), with
// nothing judged.
//
//	go test ./warehouse/duckdb -run '^$' -bench WindowScan -count 6 | benchstat -col /read -
func BenchmarkWindowScan(b *testing.B) {
	ctx := context.Background()
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	wh, corpus := benchTable(b, raw, 200000)
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	src := &sqlwh.Source{WH: wh, Table: raw}
	for _, read := range []struct {
		name string
		scan func() (int, error)
	}{
		{"streamed", func() (n int, err error) {
			err = src.Scan(ctx, w, func(rows []audit.Row) error {
				n += len(rows)
				src.Recycle(rows)
				return nil
			})
			return n, err
		}},
		{"sliced-arrow", func() (int, error) { return src.ReadSliced(ctx, w, sqlwh.BaselineSliceRows) }},
	} {
		b.Run("read="+read.name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				n, err := read.scan()
				if err != nil {
					b.Fatal(err)
				}
				if n != len(corpus.Rows) {
					b.Fatalf("read %d rows, want %d", n, len(corpus.Rows))
				}
				rows += n
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// benchTable opens a DuckDB file that the benchmark removes and loads n
// generated messages, 5% invalid, into raw.
func benchTable(b *testing.B, raw sqlwh.RawTable, n int) (*sqlwh.Warehouse, *audittest.Corpus) {
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, "duckdb://"+filepath.Join(b.TempDir(), "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { wh.Close() })
	corpus := audittest.Generate(audittest.Options{N: n, BadRate: 0.05, Seed: 11})
	if err := wh.LoadRaw(ctx, raw, "VARCHAR", corpus.Rows); err != nil {
		b.Fatal(err)
	}
	return wh, corpus
}
