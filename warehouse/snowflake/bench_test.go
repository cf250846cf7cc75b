package snowflake_test

import (
	"context"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// BenchmarkWindowScan reads a window of 20,000 generated messages through
// the driver, by database/sql rows and by the Arrow batch API, from the
// in-process endpoint answering in Arrow. The endpoint replays a recorded
// answer, so the time is the client's: HTTP, JSON and base64, Arrow
// decoding and eventaudit's reader.
//
//	go test ./warehouse/snowflake -run '^$' -bench WindowScan -count 6 | benchstat -col /read -
func BenchmarkWindowScan(b *testing.B) {
	srv := sftest.Start(b)
	corpus := audittest.Generate(audittest.Options{N: 20000, BadRate: 0.1, Seed: 7})
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"raw", "events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	loader := open(b, srv)
	if err := loader.LoadRaw(context.Background(), raw, "VARCHAR", corpus.Rows); err != nil {
		b.Fatal(err)
	}
	srv.ReplaySelects = true
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	for _, mode := range []struct{ name, extra string }{{"rows", "arrow_batches=false"}, {"arrow-batches", ""}} {
		b.Run("read="+mode.name, func(b *testing.B) {
			wh := openWith(b, srv, mode.extra)
			src := &sqlwh.Source{WH: wh, Table: raw}
			var bytes int64
			for b.Loop() {
				n := 0
				err := src.Scan(context.Background(), w, func(rows []audit.Row) error {
					n += len(rows)
					for _, r := range rows {
						bytes += int64(len(r.Payload))
					}
					return nil
				})
				if err != nil || n != len(corpus.Rows) {
					b.Fatalf("scanned %d rows: %v", n, err)
				}
			}
			b.ReportMetric(float64(len(corpus.Rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.SetBytes(bytes / int64(b.N))
		})
	}
}
