package sftest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name, in  string
		args      []any
		arrayRows int
		want      string
		wantArgs  []any
	}{
		{name: "types in DDL", in: `CREATE TABLE "s"."t" ("at" TIMESTAMP_TZ, "v" VARIANT, "n" timestamp_ntz)`,
			want: `CREATE TABLE "s"."t" ("at" TIMESTAMPTZ, "v" JSON, "n" TIMESTAMP)`},
		{name: "quoted names and literals are left alone", in: `SELECT "VARIANT", 'TIMESTAMP_TZ' FROM "variant"`,
			want: `SELECT "VARIANT", 'TIMESTAMP_TZ' FROM "variant"`},
		{name: "TO_JSON returns text", in: `SELECT TO_JSON("payload") FROM t`, want: `SELECT sf_to_json("payload") FROM t`},
		{name: "catalog", in: `SELECT column_name FROM information_schema.columns WHERE table_name = UPPER(?)`, args: []any{"t"},
			want: `SELECT column_name FROM sf_catalog.columns WHERE table_name = UPPER(?)`, wantArgs: []any{"t"}},
		{name: "array binds repeat the tuple", in: `INSERT INTO t ("a", "b") SELECT column1, PARSE_JSON(column2) FROM VALUES (?, ?)`,
			args: []any{[]any{"x", "y"}, []any{"1", "2"}}, arrayRows: 2,
			want:     `INSERT INTO t ("a", "b") SELECT column1, PARSE_JSON(column2) FROM (VALUES (?, ?), (?, ?)) AS v(column1, column2)`,
			wantArgs: []any{"x", "1", "y", "2"}},
		{name: "plain VALUES with array binds", in: `INSERT INTO t VALUES (?)`, args: []any{[]any{int64(1), int64(2), int64(3)}}, arrayRows: 3,
			want: `INSERT INTO t VALUES (?), (?), (?)`, wantArgs: []any{int64(1), int64(2), int64(3)}},
		{name: "string literals read as Snowflake reads them", in: `SELECT 'a\\b', 'it''s', '\'', 'x\ny', '\u00e9\x41'`,
			want: "SELECT 'a\\b', 'it''s', '''', 'x\ny', 'éA'"},
		{name: "bytes and collations", in: `SELECT OCTET_LENGTH("n"), COLLATE("n", 'utf8') FROM t`,
			want: `SELECT strlen("n"), sf_collate("n", 'utf8') FROM t`},
		{name: "scalar binds", in: `INSERT INTO t SELECT column1 FROM VALUES (?)`, args: []any{"a"},
			want: `INSERT INTO t SELECT column1 FROM (VALUES (?)) AS v(column1)`, wantArgs: []any{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, args, err := Translate(tt.in, tt.args, tt.arrayRows)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Translate:\n got %s\nwant %s", got, tt.want)
			}
			if diff := cmp.Diff(tt.wantArgs, args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
	if _, _, err := Translate(`SELECT ?`, []any{[]any{"a"}}, 1); err == nil {
		t.Error("array binds outside VALUES: want an error, as Snowflake gives")
	}
}
