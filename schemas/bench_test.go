package schemas_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
)

// benchCorpus is the benchmark's workload: demo-plan messages of about
// 800 bytes, 5% with an injected bug.
func benchCorpus(b *testing.B, n int) ([]audit.Row, *schemas.Registry) {
	b.Helper()
	reg, err := schemas.Load(context.Background(), os.DirFS(filepath.Join("..", "testdata", "demo", "schemas")), schemas.Options{Plan: "segment/shop"})
	if err != nil {
		b.Fatal(err)
	}
	return audittest.Generate(audittest.Options{N: n, BadRate: 0.05, Seed: 1}).Rows, reg
}

// BenchmarkValidationCore measures decode, match and validate, the work
// per event, with a discarding sink: events/s is the figure to compare.
func BenchmarkValidationCore(b *testing.B) {
	rows, reg := benchCorpus(b, 20000)
	var bytes int64
	for _, r := range rows {
		bytes += int64(len(r.Payload))
	}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			a := &audit.Auditor{
				Source:  &audittest.Source{Rows: rows, BatchSize: 1000},
				Matcher: &audit.Matcher{Catalog: reg, Target: audit.ValidateObject},
				Workers: workers,
			}
			b.SetBytes(bytes)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := a.Run(context.Background(), audit.Run{RunID: "bench", Window: w}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
