package sqlwh

import (
	"slices"
	"testing"
)

func TestParseIdent(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		display string
	}{
		{"events", []string{"events"}, "events"},
		{"raw.events", []string{"raw", "events"}, "raw.events"},
		{`analytics."Segment Events"`, []string{"analytics", "Segment Events"}, `analytics."Segment Events"`},
		{`"a.b"."c""d"`, []string{"a.b", `c"d`}, `"a.b"."c""d"`},
		{`db.Schema.Tbl`, []string{"db", "Schema", "Tbl"}, `db."Schema"."Tbl"`},
	}
	for _, tt := range tests {
		got, err := ParseIdent(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseIdent(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if got.String() != tt.display {
			t.Errorf("%q.String() = %s, want %s", tt.in, got.String(), tt.display)
		}
	}
	for _, bad := range []string{"", "a..b", `"open`, "a.", ".a"} {
		if _, err := ParseIdent(bad); err == nil {
			t.Errorf("ParseIdent(%q) accepted", bad)
		}
	}
}

func TestInsertBatchedRespectsCaps(t *testing.T) {
	d := &Dialect{Placeholder: Dollar, MaxParams: 10, MaxStatementBytes: 200}
	var stmts []int
	ex := execFunc(func(q string, args []any) { stmts = append(stmts, len(args)) })
	rows := make([][]any, 12)
	for i := range rows {
		rows[i] = []any{"x", "y"}
	}
	if err := d.InsertBatched(t.Context(), ex, Ident{"t"}, []string{"a", "b"}, rows); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stmts, []int{10, 10, 4}) {
		t.Errorf("params per statement %v, want at most 10 each, 24 in all", stmts)
	}
	// A 60-byte value fills half of a 200-byte statement by itself.
	stmts = nil
	big := [][]any{{string(make([]byte, 60)), "y"}, {string(make([]byte, 60)), "y"}, {"a", "b"}}
	if err := d.InsertBatched(t.Context(), ex, Ident{"t"}, []string{"a", "b"}, big); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stmts, []int{2, 4}) {
		t.Errorf("params per statement %v, want the size cap to split after the first row", stmts)
	}
}
