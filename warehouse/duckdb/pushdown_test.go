package duckdb_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse/duckdb"
)

// pushdownCase is one payload and the group of rules it is checked
// against (the suite checks each schema's cases against its own rule).
type pushdownCase struct {
	id, group, payload string
}

// soundness runs the plan's SQL over the payloads in DuckDB and the Go
// pipeline over the same rows, and fails on any row SQL proves valid that
// Go finds invalid, unplanned, or matched to another schema. It returns how
// many rows SQL proved, so a caller can check the proof is not vacuous.
func soundness(t *testing.T, reg *schemas.Registry, cases []pushdownCase, groups map[string]audit.PushdownPlan) int {
	t.Helper()
	ctx := context.Background()
	matcher := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}

	// Go's verdicts, through the real pipeline.
	var rows []audit.Row
	for _, c := range cases {
		rows = append(rows, audit.Row{MessageID: c.id, ReceivedAt: audittest.CorpusStart, Payload: []byte(c.payload)})
	}
	sink := &audittest.CollectSink{}
	a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: 256}, Sink: sink, Workers: 2, Matcher: matcher}
	if _, err := a.Run(ctx, audit.Run{RunID: "r", Window: audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(1)}}); err != nil {
		t.Fatal(err)
	}
	invalid := map[string]string{}
	for _, v := range sink.Violations {
		invalid[v.MessageID] = v.Keyword + " at " + v.InstancePath + ": " + v.Message
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id VARCHAR, grp VARCHAR, payload VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?)`, c.id, c.group, c.payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, c := range cases {
		byID[c.id] = c.payload
	}
	proven := 0
	for _, group := range slices.Sorted(maps.Keys(groups)) {
		plan := groups[group]
		for _, r := range plan.Rules {
			if r.Pred == nil {
				continue
			}
			one := audit.PushdownPlan{Rules: []audit.PushdownRule{r}}
			q := `SELECT id FROM t WHERE grp = ? AND ` + duckdb.ProvenSQL(one, "payload")
			res, err := db.QueryContext(ctx, q, group)
			if err != nil {
				t.Fatalf("rule %s %v → %s: %v\n%s", r.Type, r.Names, r.SchemaID, err, q)
			}
			for res.Next() {
				var id string
				if err := res.Scan(&id); err != nil {
					t.Fatal(err)
				}
				proven++
				if why, bad := invalid[id]; bad {
					t.Errorf("UNSOUND: SQL proves %s valid under %s, Go says %s\n  payload %s", id, r.SchemaID, why, byID[id])
					continue
				}
				msg, err := audit.DecodePayload([]byte(byID[id]))
				if err != nil {
					t.Errorf("UNSOUND: SQL proves %s valid, Go cannot read it: %v\n  payload %s", id, err, byID[id])
					continue
				}
				if m := matcher.Match(msg); m.Schema == nil || m.SchemaID != r.SchemaID {
					t.Errorf("UNSOUND: SQL matches %s to %s, Go to %q (unplanned %v)\n  payload %s", id, r.SchemaID, m.SchemaID, m.Unplanned, byID[id])
				}
			}
			if err := res.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return proven
}

// Every draft-7 case of the JSON-Schema-Test-Suite, as the properties of a
// track event whose schema is the case's: SQL never proves valid what the
// Go validator refuses.
func TestPushdownIsSoundOnTheTestSuite(t *testing.T) {
	suite := filepath.Join("..", "..", "..", "shared", "corpora", "json-schema-test-suite", "draft7")
	files, _ := filepath.Glob(filepath.Join(suite, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no JSON-Schema-Test-Suite under %s", suite)
	}
	dir := t.TempDir()
	var cases []pushdownCase
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var groups []struct {
			Schema json.RawMessage `json:"schema"`
			Tests  []struct {
				Data json.RawMessage `json:"data"`
			} `json:"tests"`
		}
		if err := json.Unmarshal(b, &groups); err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			if !strings.HasPrefix(strings.TrimSpace(string(g.Schema)), "{") {
				continue // a boolean schema is no event's
			}
			n++
			event := fmt.Sprintf("G%04d", n)
			if err := os.MkdirAll(filepath.Join(dir, "suite", event), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "suite", event, "1-0.json"), g.Schema, 0o644); err != nil {
				t.Fatal(err)
			}
			for i, tc := range g.Tests {
				cases = append(cases, pushdownCase{id: fmt.Sprintf("%s-%d", event, i), group: event,
					payload: fmt.Sprintf(`{"type":"track","event":%q,"properties":%s}`, event, tc.Data)})
			}
		}
	}
	reg, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{})
	var le *schemas.LoadError
	if err != nil && !errors.As(err, &le) {
		t.Fatal(err)
	}
	matcher := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	plans := map[string]audit.PushdownPlan{}
	provable := 0
	for _, r := range matcher.PushdownPlan(reg.EventNames()).Rules {
		if r.Type != "track" {
			continue
		}
		plans[r.Names[0]] = audit.PushdownPlan{Rules: []audit.PushdownRule{r}}
		if r.Pred != nil {
			provable++
		}
	}
	proven := soundness(t, reg, cases, plans)
	t.Logf("%d schemas, %d provable in SQL; %d of %d cases proven valid", len(plans), provable, proven, len(cases))
	if provable < 100 || proven < 150 {
		t.Errorf("only %d schemas provable and %d cases proven: the check proves little", provable, proven)
	}
}

// The demo plan's real messages, and each turned hostile where SQL engines
// and Go read JSON differently: duplicate keys, 1.0 and 1e2 for integers,
// NaN and trailing commas, escapes and lone surrogates, null or missing
// objects, a schema_id, other types and names, non-object payloads.
func TestPushdownIsSoundOnHostileMessages(t *testing.T) {
	reg, err := schemas.Load(context.Background(), os.DirFS(filepath.Join("..", "..", "testdata", "demo", "schemas")),
		schemas.Options{Plan: "segment/shop"})
	if err != nil {
		t.Fatal(err)
	}
	corpus := audittest.Generate(audittest.Options{N: 300, BadRate: 0.3, Seed: 11})
	var cases []pushdownCase
	add := func(id, payload string) { cases = append(cases, pushdownCase{id: id, group: "all", payload: payload}) }
	firstInt := regexp.MustCompile(`:(\d+)([,}])`)
	firstStr := regexp.MustCompile(`:"([A-Za-z])([^"\\]*)"`)
	for i, r := range corpus.Rows {
		p := string(r.Payload)
		id := fmt.Sprintf("m%05d", i)
		add(id, p)
		add(id+"-float", firstInt.ReplaceAllString(p, ":$1.0$2"))
		add(id+"-exp", firstInt.ReplaceAllString(p, ":${1}e0$2"))
		add(id+"-huge", firstInt.ReplaceAllString(p, ":123456789012345678901234567890$2"))
		add(id+"-nan", firstInt.ReplaceAllString(p, ":NaN$2"))
		add(id+"-inf", firstInt.ReplaceAllString(p, ":-Infinity$2"))
		add(id+"-comma", strings.TrimSuffix(p, "}")+",}")
		add(id+"-escape", firstStr.ReplaceAllString(p, `:"\u00$1$2"`))
		add(id+"-surrogate", firstStr.ReplaceAllString(p, `:"\ud800$2"`))
		add(id+"-nul", firstStr.ReplaceAllString(p, `:"$1\u0000$2"`))
		var msg map[string]any
		if json.Unmarshal(r.Payload, &msg) != nil {
			continue
		}
		props, _ := msg["properties"].(map[string]any)
		if props == nil {
			props, _ = msg["traits"].(map[string]any)
		}
		key := "properties"
		if _, ok := msg["traits"]; ok {
			key = "traits"
		}
		obj, _ := json.Marshal(props)
		others := strings.TrimSuffix(strings.TrimPrefix(mustJSON(without(msg, key)), "{"), "}")
		for name, v := range map[string]string{"-dup-last": `"x"`, "-dup-num": `1`, "-dup-obj": `{}`} {
			for k := range props {
				// The same key again, last: Go reads this one.
				dup := strings.TrimSuffix(string(obj), "}") + fmt.Sprintf(",%q:%s}", k, v)
				add(id+name+"-"+k, fmt.Sprintf(`{%s,%q:%s}`, others, key, dup))
				break
			}
		}
		add(id+"-dup-type", fmt.Sprintf(`{%s,%q:%s,"type":"alias"}`, others, key, obj))
		add(id+"-null-object", fmt.Sprintf(`{%s,%q:null}`, others, key))
		add(id+"-no-object", fmt.Sprintf(`{%s}`, others))
		add(id+"-schema-id", fmt.Sprintf(`{%s,%q:%s}`, others, key, strings.Replace(string(obj), "{", `{"schema_id":"nope",`, 1)))
		add(id+"-upper-type", strings.Replace(p, `"type":"`, `"type":"X`, 1))
	}
	for i, p := range []string{`[]`, `"x"`, `null`, `{}`, `{"type":"track"}`, `{"type":7,"event":"Order Completed","properties":{}}`,
		`{"type":"page","properties":{}}`, `{"type":"page","name":7,"properties":{}}`, `{"type":"identify","traits":{}}`,
		`{"type":"track","event":"Order Completed","properties":{}} trailing`, `{"type":"track","event":"Order Completed","properties":{},}`} {
		add(fmt.Sprintf("fixed-%d", i), p)
	}
	matcher := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	plan := matcher.PushdownPlan(reg.EventNames())
	proven := soundness(t, reg, cases, map[string]audit.PushdownPlan{"all": plan})
	t.Logf("%d rules; %d of %d messages proven valid", len(plan.Rules), proven, len(cases))
	if proven < 200 {
		t.Errorf("only %d messages proven valid: the check proves little", proven)
	}
}

func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
