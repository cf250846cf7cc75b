package audit_test

import (
	"encoding/json"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
)

// BenchmarkSkipValue measures the strict scanner alone over the benchmark
// corpus's messages: what proving a message well-formed JSON costs the
// fast path before any schema is consulted.
func BenchmarkSkipValue(b *testing.B) {
	var msgs [][]byte
	var bytes int64
	for _, r := range audittest.Generate(audittest.Options{N: 20000, BadRate: 0.05, Seed: 1}).Rows {
		if json.Valid(r.Payload) { // the corpus's malformed payloads end early
			msgs = append(msgs, r.Payload)
			bytes += int64(len(r.Payload))
		}
	}
	b.SetBytes(bytes)
	for b.Loop() {
		for _, m := range msgs {
			if _, ok := audit.SkipValue(m, 0); !ok {
				b.Fatalf("the scanner rejected a well-formed message: %s", m)
			}
		}
	}
}
