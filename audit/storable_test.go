package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
)

// fastValid claims every object valid from its bytes, so a test sees what
// the fast path alone would let through.
type fastValid struct{ audittest.Schema }

func (fastValid) ValidJSON([]byte) bool { return true }

// loudSchema fails every object with a message as long as the one the
// attack got for 100k unknown keys.
type loudSchema struct{ audittest.Schema }

func (loudSchema) Validate(any) []audit.Failure {
	return []audit.Failure{{Keyword: "additionalProperties", Message: "additional properties " + strings.Repeat(`"k", `, 200000) + "not allowed"}}
}

func auditRows(t *testing.T, a *audit.Auditor, rows ...audit.Row) (*audit.Summary, *memSink) {
	t.Helper()
	sink := &memSink{}
	a.Source, a.Sink = &audittest.Source{Rows: rows, BatchSize: 2}, sink
	a.Now = func() time.Time { return window.Start }
	s, err := a.Run(context.Background(), audit.Run{RunID: "r", Source: "events", Window: window})
	if err != nil {
		t.Fatal(err)
	}
	return s, sink
}

// Every string a run writes is storable on every warehouse, and a row
// whose own identity was not says so (finding 5).
func TestEveryWrittenStringIsStorable(t *testing.T) {
	at := window.Start.Add(time.Minute)
	cat := audittest.NewCatalog().
		Add("Fast", &fastValid{audittest.Schema{SchemaID: "fast"}}).
		Add("Loud", &loudSchema{audittest.Schema{SchemaID: "loud"}})
	a := &audit.Auditor{Matcher: &audit.Matcher{Catalog: cat, Target: audit.ValidateObject}, Workers: 2}
	row := func(id, payload string) audit.Row {
		return audit.Row{MessageID: id, ReceivedAt: at, Payload: []byte(payload)}
	}
	s, sink := auditRows(t, a,
		row("nul-event", `{"type":"track","event":"Fa\u0000st","properties":{}}`),
		row("raw-invalid-utf8", "{\"type\":\"track\",\"event\":\"Fast\xff\",\"properties\":{}}"),
		row("loud", `{"type":"track","event":"Loud","properties":{}}`),
		row("nul\x00id", `{"type":"track","event":"Loud","properties":{}}`),
		row("fine", `{"type":"track","event":"Fast","properties":{}}`),
	)
	flagged := map[string]bool{}
	for _, v := range sink.committed {
		for _, f := range []string{v.MessageID, v.EventType, v.EventName, v.SchemaID, v.InstancePath, v.Keyword, v.Message, v.Value} {
			if strings.IndexByte(f, 0) >= 0 || !utf8.ValidString(f) {
				t.Errorf("%s: unstorable string written: %q", v.MessageID, f)
			}
		}
		if len(v.Message) > audit.MaxMessageBytes {
			t.Errorf("%s: a %d-byte message", v.MessageID, len(v.Message))
		}
		if v.Keyword == audit.KeywordEncoding {
			flagged[v.MessageID] = true
		}
	}
	for _, id := range []string{"nul-event", "raw-invalid-utf8", "nul\uFFFDid"} {
		if !flagged[id] {
			t.Errorf("%q: its identity had to be changed to be stored, and no encoding violation says so", id)
		}
	}
	if flagged["fine"] || flagged["loud"] {
		t.Errorf("flagged a row with a storable identity: %v", flagged)
	}
	for _, st := range sink.stats {
		if !utf8.ValidString(st.EventName) || strings.IndexByte(st.EventName, 0) >= 0 {
			t.Errorf("stats row with an unstorable event name %q", st.EventName)
		}
	}
	if s.Run.RowsScanned != 5 || s.Run.RowsInvalid != 4 {
		t.Errorf("scanned %d, invalid %d; want 5, 4", s.Run.RowsScanned, s.Run.RowsInvalid)
	}
}

// A payload over the limit is a violation and is never parsed.
func TestOversizePayloadIsNotParsed(t *testing.T) {
	huge := `{"type":"track","event":"Fast","properties":{"blob":"` + strings.Repeat("x", 3<<20) + `"}}`
	a := &audit.Auditor{Matcher: &audit.Matcher{Catalog: audittest.NewCatalog().Add("Fast", &audittest.Schema{SchemaID: "fast"}),
		Target: audit.ValidateObject}, Workers: 1, MaxPayloadBytes: 1 << 20}
	s, sink := auditRows(t, a, audit.Row{MessageID: "huge", ReceivedAt: window.Start, Payload: []byte(huge)},
		audit.Row{MessageID: "small", ReceivedAt: window.Start, Payload: []byte(`{"type":"track","event":"Fast","properties":{}}`)})
	if len(sink.committed) != 1 {
		t.Fatalf("want one violation, got %+v", sink.committed)
	}
	v := sink.committed[0]
	if v.MessageID != "huge" || v.Keyword != audit.KeywordPayload || !strings.Contains(v.Message, "over the 1048576-byte limit") ||
		len(v.Value) > audit.MaxValueBytes {
		t.Errorf("violation %s %s %q (value %d bytes)", v.MessageID, v.Keyword, v.Message, len(v.Value))
	}
	if s.Run.RowsInvalid != 1 {
		t.Errorf("invalid rows %d, want 1", s.Run.RowsInvalid)
	}
}

// Secrets in an event's own data never reach the results tables.
func TestViolationsAreRedacted(t *testing.T) {
	a := &audit.Auditor{Matcher: &audit.Matcher{Catalog: audittest.NewCatalog().Add("Fast",
		&audittest.Schema{SchemaID: "fast", Types: map[string]string{"hook": "number"}}), Target: audit.ValidateObject},
		Workers: 1, Redact: func(s string) string { return strings.ReplaceAll(s, "T0SECRET", "xxxxx") }}
	_, sink := auditRows(t, a, audit.Row{MessageID: "m", ReceivedAt: window.Start,
		Payload: []byte(`{"type":"track","event":"Fast","properties":{"hook":"https://hooks.slack.com/services/T0SECRET/B/x"}}`)})
	if len(sink.committed) != 1 || strings.Contains(sink.committed[0].Value, "T0SECRET") {
		t.Errorf("violations: %+v", sink.committed)
	}
}

func TestShardOverlapAndCover(t *testing.T) {
	sh := func(s string) audit.Shard {
		x, err := audit.ParseShard(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range []struct {
		a, b            string
		overlap, covers bool
	}{
		{"", "1/4", true, true},
		{"0/2", "2/4", true, true},
		{"0/2", "1/4", false, false},
		{"0/2", "0/3", true, false},
		{"2/4", "0/2", true, false},
		{"1/3", "4/6", true, true},
		{"1/3", "5/6", false, false},
		{"0/4", "", true, false},
	} {
		if got := sh(c.a).Overlaps(sh(c.b)); got != c.overlap {
			t.Errorf("%q overlaps %q = %v, want %v", c.a, c.b, got, c.overlap)
		}
		if got := sh(c.a).Covers(sh(c.b)); got != c.covers {
			t.Errorf("%q covers %q = %v, want %v", c.a, c.b, got, c.covers)
		}
	}
	// Overlap is exact: brute force over hash values.
	for na := 1; na <= 6; na++ {
		for nb := 1; nb <= 6; nb++ {
			for ka := range na {
				for kb := range nb {
					a, b := audit.Shard{Index: ka, Count: na}, audit.Shard{Index: kb, Count: nb}
					if na == 1 {
						a = audit.Shard{}
					}
					if nb == 1 {
						b = audit.Shard{}
					}
					shared, allB := false, true
					for h := range 60 {
						inA, inB := h%na == ka, h%nb == kb
						shared = shared || inA && inB
						allB = allB && (!inB || inA)
					}
					if a.Overlaps(b) != shared || a.Covers(b) != allB {
						t.Errorf("%v vs %v: overlaps %v covers %v, brute force %v %v", a, b, a.Overlaps(b), a.Covers(b), shared, allB)
					}
				}
			}
		}
	}
}
