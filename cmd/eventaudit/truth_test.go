package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/warehouse/duckdb"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// queryStrings reads rows of a DuckDB file as "a|b|c" strings, sorted.
func queryStrings(t *testing.T, dbPath, q string) []string {
	t.Helper()
	var out []string
	for _, r := range queryRows(t, dbPath, q) {
		out = append(out, strings.Join(r, "|"))
	}
	slices.Sort(out)
	return out
}

// queryRows returns q's rows from a DuckDB file, every column as text.
func queryRows(t *testing.T, dbPath, q string) [][]string {
	t.Helper()
	wh, err := duckdb.Open(context.Background(), "duckdb://"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	rows, err := wh.Conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			r[i] = v.String
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// truthRows flattens the generator's record of what it broke.
func truthRows(tr audittest.Truth) []string {
	var out []string
	for id, checks := range tr.Invalid {
		for _, c := range checks {
			out = append(out, id+"|"+c.Keyword+"|"+c.Path)
		}
	}
	slices.Sort(out)
	return out
}

// The violations an audit writes must be exactly the bugs the generator
// injected: the expected rows come from the generator's intent, never from
// a validator.
func TestAuditFindsExactlyTheInjectedBugs(t *testing.T) {
	var demoTruth audittest.Truth
	raw, err := os.ReadFile(filepath.Join(root, "testdata/demo/truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &demoTruth); err != nil {
		t.Fatal(err)
	}
	fresh := audittest.Generate(audittest.Options{N: 4000, BadRate: 0.3, Seed: 42})
	for _, tc := range []struct {
		name  string
		load  func(t *testing.T, db string)
		truth audittest.Truth
	}{
		{"committed demo", func(t *testing.T, db string) {
			if r := newCLI().run("load", "--warehouse", "duckdb://"+db, "--table", "events",
				filepath.Join(root, "testdata/demo/events.ndjson")); r.code != 0 {
				t.Fatal(r.stderr)
			}
		}, demoTruth},
		{"fresh corpus, 30 percent bad", func(t *testing.T, db string) {
			wh, err := duckdb.Open(context.Background(), "duckdb://"+db)
			if err != nil {
				t.Fatal(err)
			}
			defer wh.Close()
			if err := wh.LoadRaw(context.Background(), sqlwh.RawTable{Table: sqlwh.Ident{"events"}, MessageID: "message_id",
				ReceivedAt: "received_at", Payload: "payload"}, "VARCHAR", fresh.Rows); err != nil {
				t.Fatal(err)
			}
		}, fresh.Truth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "t.duckdb")
			tc.load(t, db)
			want := truthRows(tc.truth)
			if len(want) < 100 {
				t.Fatalf("only %d injected bugs; the test would prove little", len(want))
			}
			var tables []string
			for _, workers := range []string{"1", "8"} {
				r := newCLI().run("audit", "--warehouse", "duckdb://"+db, "--table", "events", "--plan", "segment/shop",
					"--schemas", filepath.Join(root, "testdata/demo/schemas"), "--since", "2026-11-20", "--until", "2026-11-21",
					"--workers", workers, "--results-schema", "w"+workers)
				if r.code != 0 {
					t.Fatalf("audit --workers %s: exit %d: %s", workers, r.code, r.stderr)
				}
				got := queryStrings(t, db, `SELECT message_id, keyword, instance_path FROM w`+workers+`.eventaudit_violations`)
				if d := diffSets(want, got); d != "" {
					t.Errorf("--workers %s: violations differ from the injected bugs:\n%s", workers, d)
				}
				unplanned := queryStrings(t, db, `SELECT CAST(SUM(rows) AS VARCHAR), CAST(COUNT(*) AS VARCHAR), '' FROM w`+workers+`.eventaudit_event_stats WHERE unplanned`)
				if len(unplanned) != 1 || !strings.HasPrefix(unplanned[0], fmt.Sprint(len(tc.truth.Unplanned))+"|") {
					t.Errorf("--workers %s: unplanned rows %v, want %d", workers, unplanned, len(tc.truth.Unplanned))
				}
				tables = append(tables, strings.Join(queryStrings(t, db,
					`SELECT message_id || keyword || instance_path, message, value FROM w`+workers+`.eventaudit_violations`), "\n"))
			}
			if tables[0] != tables[1] {
				t.Error("--workers 1 and --workers 8 wrote different violation tables")
			}
		})
	}
}

func diffSets(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			fmt.Fprintf(&b, "  missing %s\n", w)
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			fmt.Fprintf(&b, "  extra   %s\n", g)
		}
	}
	if b.Len() > 2000 {
		return b.String()[:2000] + "…"
	}
	return b.String()
}
