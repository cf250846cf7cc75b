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

// BenchmarkInvalidRows measures what the corpus's invalid objects (5% of
// its rows) cost the slow path, per row: decoding the object, and the
// library judging it and writing its messages. The fast path proves the
// other 95% valid; these rows are the floor of BenchmarkValidationCore
// that only a faster judge lowers.
func BenchmarkInvalidRows(b *testing.B) {
	rows, reg := benchCorpus(b, 20000, false)
	m := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	var judges []audit.Schema
	var raws [][]byte
	var invalid []audit.Row
	for _, r := range rows {
		msg, err := audit.DecodePayload(r.Payload)
		if err != nil {
			continue
		}
		match := m.Match(msg)
		if match.Problem != nil || match.Unplanned || len(match.Schema.Validate(match.Object)) == 0 {
			continue
		}
		raw, ok := audit.AppendJSON(nil, match.Object)
		if !ok {
			b.Fatalf("the object of %s does not encode", r.MessageID)
		}
		judges, raws = append(judges, match.Schema), append(raws, raw)
		invalid = append(invalid, r)
	}
	if len(raws) < 500 {
		b.Fatalf("only %d invalid objects in the corpus", len(raws))
	}
	perRow := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(raws)), "ns/row")
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			for _, raw := range raws {
				if _, err := audit.DecodeJSON(raw); err != nil {
					b.Fatal(err)
				}
			}
		}
		perRow(b)
	})
	objs := make([]any, len(raws))
	for i, raw := range raws {
		objs[i], _ = audit.DecodeJSON(raw)
	}
	b.Run("judge", func(b *testing.B) {
		for b.Loop() {
			for i, s := range judges {
				if len(s.Validate(objs[i])) == 0 {
					b.Fatal("an invalid object passed")
				}
			}
		}
		perRow(b)
	})
	// What the pipeline does with an invalid object: the failing members
	// alone where the schema can narrow it (decoded and judged by their
	// properties' subschemas), else the whole object decoded and judged.
	b.Run("decode+judge", func(b *testing.B) {
		narrowed := 0
		for b.Loop() {
			narrowed = 0
			for i, raw := range raws {
				s := judges[i].(*schemas.Schema)
				if members, own, ok := s.FailingMembers(raw); ok && own == "" {
					values := make(map[string]any, len(members))
					for _, m := range members {
						values[m.Key], _ = audit.DecodeJSON(m.Value)
					}
					if fs, ok := s.ValidateMembers(values); ok && len(fs) > 0 {
						narrowed++
						continue
					}
				}
				obj, _ := audit.DecodeJSON(raw)
				if len(s.Validate(obj)) == 0 {
					b.Fatal("an invalid object passed")
				}
			}
		}
		perRow(b)
		b.ReportMetric(float64(narrowed)/float64(len(raws)), "narrowed/row")
	})
	// The invalid rows through an audit, as a pushdown run fetches them:
	// routed by the fast path, narrowed, judged, their violations written.
	b.Run("audit", func(b *testing.B) {
		w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
		a := &audit.Auditor{Source: &audittest.Source{Rows: invalid, BatchSize: 1000},
			Matcher: &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}, Workers: 1}
		for b.Loop() {
			if _, err := a.Run(context.Background(), audit.Run{RunID: "bench", Window: w}); err != nil {
				b.Fatal(err)
			}
		}
		perRow(b)
	})
}
