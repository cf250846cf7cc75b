package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
)

// A violation an ignore: entry accepts is written, marked, and counted
// toward nothing: a row whose only problems are accepted is valid, and a
// threshold over violations does not see it.
func TestSuppressedViolationsAreWrittenNotCounted(t *testing.T) {
	at := audittest.CorpusStart.Add(time.Minute)
	rows := []audit.Row{
		{MessageID: "a", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Product Viewed","properties":{"price":"1"}}`)},
		{MessageID: "b", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Product Viewed","properties":{}}`)},
		{MessageID: "c", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Product Added","properties":{"quantity":"2"}}`)},
	}
	accept := audit.Suppression{Event: "Product *", Keyword: "type", Path: "/properties/*", Reason: "the iOS app sends strings until 4.3", Entry: "ignore entry 1"}
	if err := accept.Compile(); err != nil {
		t.Fatal(err)
	}
	th, _ := audit.ParseThresholds([]string{"violations=1"})
	sink := &memSink{}
	a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: 2}, Sink: sink, Workers: 2,
		Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject}, Thresholds: th,
		Suppressions: []audit.Suppression{accept}, Now: func() time.Time { return audittest.CorpusStart }}
	s, err := a.Run(context.Background(), audit.Run{RunID: "r", Source: "events", Window: window})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Run
	if got := fmt.Sprint([]int64{r.RowsScanned, r.RowsInvalid, r.Violations, r.ViolationsSuppressed}); got != "[3 1 1 2]" {
		t.Errorf("scanned/invalid/violations/suppressed = %s, want [3 1 1 2]: a and c only break an accepted check", got)
	}
	if r.Status != audit.StatusPassed {
		t.Errorf("status %s: violations=1 is not exceeded by the one counted violation", r.Status)
	}
	marked := map[string]bool{}
	for _, v := range sink.committed {
		marked[v.MessageID] = v.Suppressed
	}
	if len(sink.committed) != 3 || !marked["a"] || marked["b"] || !marked["c"] {
		t.Errorf("written %d violations, suppressed %v; want all 3 written, a and c marked", len(sink.committed), marked)
	}
	for _, c := range s.Checks {
		if c.Keyword == "type" {
			t.Errorf("an accepted check is in the summary: %+v", c)
		}
	}
}

func TestSuppressionEntries(t *testing.T) {
	for _, s := range []audit.Suppression{
		{Event: "Order Completed", Entry: "no reason"},
		{Reason: "matches everything", Entry: "no selector"},
	} {
		if err := s.Compile(); err == nil {
			t.Errorf("%s: accepted", s.Entry)
		}
	}
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s := audit.Suppression{Keyword: "enum", Reason: "r", Until: until}
	if s.Expired(until.Add(-time.Second)) || !s.Expired(until) {
		t.Error("an entry applies until, not through, its first expired instant")
	}
}

type knownFailures map[audit.Fingerprint]bool

func (k knownFailures) Fingerprints(context.Context, audit.Run) (map[audit.Fingerprint]bool, error) {
	return k, nil
}

// new_violations counts only failures no earlier run had; array indexes do
// not make a failure new.
func TestNewViolations(t *testing.T) {
	at := audittest.CorpusStart.Add(time.Minute)
	rows := []audit.Row{
		{MessageID: "a", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Product Viewed","properties":{"price":"1"}}`)},
		{MessageID: "b", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Product Viewed","properties":{}}`)},
		{MessageID: "c", ReceivedAt: at, Payload: []byte(`{"type":"track","event":"Product Viewed","properties":{}}`)},
	}
	th, _ := audit.ParseThresholds([]string{"new_violations=1"})
	run := func(known audit.FingerprintSource) (*audit.Summary, error) {
		a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: 2}, Workers: 1,
			Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject}, Thresholds: th,
			NewViolationsFrom: known, Now: func() time.Time { return audittest.CorpusStart }}
		return a.Run(context.Background(), audit.Run{RunID: "r", Source: "events", Window: window})
	}
	seenType := knownFailures{audit.FingerprintOf("track", "Product Viewed", "type", "/properties/price"): true}
	s, err := run(seenType)
	if err != nil {
		t.Fatal(err)
	}
	if s.NewViolations == nil || *s.NewViolations != 2 || s.Run.Status != audit.StatusFailed {
		t.Errorf("new violations %v, status %s; want the 2 required failures, over the limit of 1", s.NewViolations, s.Run.Status)
	}
	if _, err := run(nil); err == nil {
		t.Error("new_violations with no earlier results to read passed; it must not report green by mistake")
	}
	if a, b := audit.FingerprintOf("t", "n", "k", "/properties/products/7/price"), audit.FingerprintOf("t", "n", "k", "/properties/products/0/price"); a != b {
		t.Errorf("fingerprints differ by an array index: %v, %v", a, b)
	}
}
