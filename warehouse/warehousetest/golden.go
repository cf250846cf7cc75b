package warehousetest

import (
	"os"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/google/go-cmp/cmp"
)

// SQLDoc is the SQL a dialect sends, section by section, for a golden file
// that puts every change to it in review.
type SQLDoc struct{ b strings.Builder }

// Section adds statements under a heading.
func (s *SQLDoc) Section(name string, stmts ...string) {
	s.b.WriteString("-- " + name + "\n")
	for _, q := range stmts {
		s.b.WriteString(q + ";\n")
	}
	s.b.WriteString("\n")
}

func (s *SQLDoc) String() string { return s.b.String() }

// DialectSQL renders what every dialect has: the result tables' DDL, the
// catalog queries, the window scan for each payload type (the shard's with
// shardPayload), and the re-run's deletes. Backends add their own sections.
func DialectSQL(t *testing.T, d *sqlwh.Dialect, payloadTypes []string, shardPayload string) *SQLDoc {
	t.Helper()
	sink := &sqlwh.Sink{WH: &sqlwh.Warehouse{Dialect: d}, Schema: "eventaudit"}
	raw := sqlwh.RawTable{Table: sqlwh.Ident{"segment", "raw_events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	doc := &SQLDoc{}
	doc.Section("result tables", sink.DDL()...)
	cols, _ := d.Columns("segment", "raw_events")
	doc.Section("describe the source", cols)
	tables, _ := d.Tables("web_prod")
	doc.Section("list the tables of Segment's layout", tables)
	if d.TableColumns != nil {
		described, _ := d.TableColumns("web_prod", []string{"order_completed", "pages", "identifies"})
		doc.Section("describe three tables of Segment's layout", described)
	}
	for _, typ := range payloadTypes {
		q, err := sqlwh.WindowQuery(d, raw, typ, audit.Shard{})
		if err != nil {
			t.Fatal(err)
		}
		doc.Section("window scan, payload "+typ, q)
	}
	q, err := sqlwh.WindowQuery(d, raw, shardPayload, audit.Shard{Index: 2, Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	doc.Section("window scan of shard 2/4", q)
	dups, _ := sqlwh.DuplicatesSQL(d, raw, audit.Shard{}, audit.Window{})
	doc.Section("count the window's duplicate message ids", dups)
	if d.NewestByIndex != nil && d.DistinctCount {
		q, _ := d.NewestByIndex(d.Quote(raw.Table), raw.ReceivedAt)
		doc.Section("count the indexes that give the newest received_at", q)
		q, _ = sqlwh.OneScanVitalsSQL(d, raw, audit.Shard{}, audit.Window{})
		doc.Section("the newest received_at and the duplicates in one scan, where no index gives the first", q)
	}
	doc.Section("resolve the source table", d.ResolveTable)
	doc.Section("resolve the schema of Segment's layout", d.ResolveSchema)
	stmts, _ := sink.ReplaceSQL(audit.Run{}, []string{"run-a", "run-b"})
	doc.Section("replace the window's earlier results (two covered runs)", stmts...)
	stmts, _ = sink.ReplaceSQL(audit.Run{Shard: audit.Shard{Index: 2, Count: 4}}, nil)
	doc.Section("replace the window's earlier results of shard 2/4 (no covered run)", stmts...)
	return doc
}

// Golden compares got with the file at path, or rewrites the file when
// update is set (go test -update).
func Golden(t *testing.T, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
