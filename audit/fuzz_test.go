package audit_test

import (
	"context"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
)

// FuzzAuditRow: no payload may panic the auditor, and every row is either
// valid, unplanned, or has at least one violation with a keyword.
func FuzzAuditRow(f *testing.F) {
	for _, s := range []string{
		`{"type":"track","event":"Product Viewed","properties":{"price":"1"}}`,
		`{"type":"page","name":"Home","properties":null}`,
		`{"type":"identify","traits":[1,2]}`,
		`{"type":"track","event":"Product Viewed","properties":{"schema_id":"nope"}}`,
		`{"type":7}`, `[]`, `"x"`, `{`, ``, `{"a":1}{}`, "\xff\xfe",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(nil), true)
	f.Fuzz(func(t *testing.T, payload []byte, null bool) {
		if null {
			payload = nil
		}
		sink := &memSink{}
		a := &audit.Auditor{
			Source:  &audittest.Source{Rows: []audit.Row{{MessageID: "m", ReceivedAt: window.Start, Payload: payload}}},
			Sink:    sink,
			Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject},
			Workers: 1,
		}
		s, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: window})
		if err != nil {
			t.Fatal(err)
		}
		if s.Run.RowsScanned != 1 {
			t.Fatalf("row dropped: %+v", s.Run)
		}
		if (s.Run.RowsInvalid == 1) != (len(sink.committed) > 0) {
			t.Fatalf("invalid=%d but %d violations", s.Run.RowsInvalid, len(sink.committed))
		}
		for _, v := range sink.committed {
			if v.Keyword == "" || v.Message == "" || len(v.Value) > audit.MaxValueBytes {
				t.Fatalf("bad violation %+v", v)
			}
		}
	})
}
