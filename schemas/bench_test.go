package schemas_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
)

// benchCorpus is the benchmark's workload: demo-plan messages of about
// 750 bytes, 5% with an injected bug.
func benchCorpus(b *testing.B, n int, disableFast bool) ([]audit.Row, *schemas.Registry) {
	b.Helper()
	reg, err := schemas.Load(context.Background(), os.DirFS(filepath.Join("..", "testdata", "demo", "schemas")),
		schemas.Options{Plan: "segment/shop", DisableFastPath: disableFast})
	if err != nil {
		b.Fatal(err)
	}
	return audittest.Generate(audittest.Options{N: n, BadRate: 0.05, Seed: 1}).Rows, reg
}

// BenchmarkValidationCore measures decode, match and validate — the work
// per event — with the source in memory and no sink: events/s is the
// figure to compare. "library" is jsonschema/v5 alone, "fast" the compiled
// fast path with the library as the judge of failures, and "fast+profile"
// the fast path with the property profile an audit keeps by default.
func BenchmarkValidationCore(b *testing.B) {
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	for _, mode := range []string{"fast", "fast+profile", "library"} {
		rows, reg := benchCorpus(b, 20000, mode == "library")
		var profile *audit.Profiling
		if mode == "fast+profile" {
			profile = &audit.Profiling{Limits: audit.DefaultProfileLimits}
		}
		var bytes int64
		for _, r := range rows {
			bytes += int64(len(r.Payload))
		}
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", mode, workers), func(b *testing.B) {
				a := &audit.Auditor{
					Source:          &audittest.Source{Rows: rows, BatchSize: 1000},
					Matcher:         &audit.Matcher{Catalog: reg, Target: audit.ValidateObject},
					Workers:         workers,
					DisableFastPath: mode == "library",
					Profile:         profile,
				}
				b.SetBytes(bytes)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := a.Run(context.Background(), audit.Run{RunID: "bench", Window: w}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
