package sqlwh

import (
	"slices"
	"strings"
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

// Every statement eventaudit writes goes through Dialect.SQL, so a backend
// that quotes differently changes them all by setting QuoteIdent.
func TestSQLQuotesNamesTheDialectsWay(t *testing.T) {
	backtick := &Dialect{QuoteIdent: func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }}
	standard := &Dialect{}
	tests := []struct {
		d    *Dialect
		in   string
		args []any
		want string
	}{
		{standard, `SELECT {run_id} FROM %s WHERE {source} = %s`, []any{`"r"."t"`, "$1"}, `SELECT "run_id" FROM "r"."t" WHERE "source" = $1`},
		{backtick, `SELECT {run_id} FROM %s WHERE {source} = %s`, []any{"`r`.`t`", "?"}, "SELECT `run_id` FROM `r`.`t` WHERE `source` = ?"},
		// Arguments are never rewritten, nor are braces that are not names.
		{standard, `SELECT %s WHERE {a} = '{"b": {}}'`, []any{"'{c}'"}, `SELECT '{c}' WHERE "a" = '{"b": {}}'`},
		{standard, `{shard} LIKE '50%'`, nil, `"shard" LIKE '50%'`},
	}
	for _, tt := range tests {
		if got := tt.d.SQL(tt.in, tt.args...); got != tt.want {
			t.Errorf("SQL(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := backtick.Quote(Ident{"a b", "c"}); got != "`a b`.`c`" {
		t.Errorf("Quote = %s", got)
	}
	if got := standard.AsText(standard.QuoteName("id")); got != `CAST("id" AS VARCHAR)` {
		t.Errorf("AsText = %s", got)
	}
}

func TestFitTextCutsOnARuneBoundary(t *testing.T) {
	d := &Dialect{MaxTextBytes: 4}
	rows := d.FitText([][]any{{"abcdef", "ab", 42, "aé€"}})
	want := []any{"abcd", "ab", 42, "aé"} // € would straddle byte 4
	if !slices.Equal(rows[0], want) {
		t.Errorf("FitText = %q, want %q", rows[0], want)
	}
	if got := (&Dialect{}).FitText([][]any{{"abcdef"}}); got[0][0] != "abcdef" {
		t.Error("no MaxTextBytes must mean no cut")
	}
}
