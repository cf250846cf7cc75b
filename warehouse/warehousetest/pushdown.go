package warehousetest

import (
	"cmp"
	"context"
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
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/schemas/schematest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// PushdownAgrees is pushdown's differential test: it loads rows into a
// new table whose payload column has payloadType (rows the column refuses
// are left out, as a warehouse's loader would), audits the table with and
// without pushdown, and fails unless both runs write the same violations
// and the same statistics. A row SQL proved valid that Go finds invalid
// shows as a violation missing; one proved under the wrong schema or name,
// as statistics that differ. It returns how many rows SQL proved and how
// many were loaded, so a caller can check the proof is not vacuous.
func PushdownAgrees(t *testing.T, wh *sqlwh.Warehouse, payloadType string, reg *schemas.Registry, rows []audit.Row) (proven, loaded int64) {
	t.Helper()
	ctx := context.Background()
	table := sqlwh.RawTable{Table: sqlwh.Ident{"pushdown_" + uniq()}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
	// A second apart, so that every part of the window holds rows: a
	// dialect may prove parts at once (Dialect.ProofStatements), or slices.
	rows = slices.Clone(rows)
	for i := range rows {
		rows[i].ReceivedAt = audittest.CorpusStart.Add(time.Duration(i) * time.Second)
	}
	loaded = loadWhatFits(ctx, t, wh, table, payloadType, rows)
	t.Cleanup(func() { _ = wh.Conn.Exec(context.Background(), "DROP TABLE "+wh.Dialect.Quote(table.Table)) })

	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(time.Duration(len(rows)) * time.Second)}
	byID := map[string]string{}
	for _, r := range rows {
		byID[r.MessageID] = string(r.Payload)
	}
	proven, scanned := pushdownRuns(t, &sqlwh.Source{WH: wh, Table: table, BatchSize: 256}, reg, w,
		func(id string) string { return "payload " + byID[id] })
	if scanned != loaded {
		t.Errorf("%d rows scanned, %d loaded", scanned, loaded)
	}
	return proven, loaded
}

// pushdownRuns audits src over w with and without pushdown, with
// --unplanned allow and fail, and fails unless both runs write the same
// violations and statistics, and every row is either proven or fetched.
// about says, for an unsound row's report, what its message held. It
// returns the rows proven and scanned with --unplanned allow.
func pushdownRuns(t *testing.T, src audit.Source, reg *schemas.Registry, w audit.Window, about func(id string) string) (proven, scanned int64) {
	t.Helper()
	matcher := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	plan := matcher.PushdownPlan(reg.EventNames())
	// With --unplanned fail, unplanned rows are violations Go must write:
	// none may be counted in SQL.
	for _, unplannedFails := range []bool{false, true} {
		run := func(pushdown *audit.PushdownPlan) (*audit.Summary, *audittest.CollectSink) {
			sink := &audittest.CollectSink{}
			a := &audit.Auditor{Source: src, Sink: sink, Workers: 2, Matcher: matcher, Pushdown: pushdown,
				MaxPayloadBytes: 1 << 20, UnplannedIsViolation: unplannedFails}
			s, err := a.Run(context.Background(), audit.Run{RunID: "r", Source: "s", Window: w})
			if err != nil {
				t.Fatalf("audit (pushdown %v): %v", pushdown != nil, err)
			}
			return s, sink
		}
		off, offSink := run(nil)
		on, onSink := run(&plan)
		if !unplannedFails {
			proven, scanned = on.Run.RowsProven, off.Run.RowsScanned
		}
		if on.Run.RowsScanned != off.Run.RowsScanned || on.Run.RowsProven+on.Run.RowsFetched != off.Run.RowsScanned ||
			off.Run.RowsFetched != off.Run.RowsScanned {
			t.Errorf("scanned %d and fetched %d without pushdown; with it scanned %d, of which %d proven and %d fetched",
				off.Run.RowsScanned, off.Run.RowsFetched, on.Run.RowsScanned, on.Run.RowsProven, on.Run.RowsFetched)
		}
		if off.Run.RowsUnplanned != on.Run.RowsUnplanned || off.Run.RowsInvalid != on.Run.RowsInvalid {
			t.Errorf("unplanned %d and invalid %d without pushdown; %d and %d with (--unplanned fail: %v)",
				off.Run.RowsUnplanned, off.Run.RowsInvalid, on.Run.RowsUnplanned, on.Run.RowsInvalid, unplannedFails)
		}
		missing, extra := diffViolations(offSink.Violations, onSink.Violations)
		for _, v := range missing {
			t.Errorf("UNSOUND: SQL proved %s (%s) valid; Go says %s at %s: %s\n  %s", v.MessageID, v.EventName, v.Keyword, v.InstancePath, v.Message, about(v.MessageID))
		}
		for _, v := range extra {
			t.Errorf("with pushdown only: %s %s at %s: %s", v.MessageID, v.Keyword, v.InstancePath, v.Message)
		}
		if !slices.Equal(offSink.Stats, onSink.Stats) {
			t.Errorf("statistics differ:\nwithout pushdown %+v\nwith pushdown    %+v", offSink.Stats, onSink.Stats)
		}
	}
	return proven, scanned
}

func diffViolations(want, got []audit.Violation) (missing, extra []audit.Violation) {
	key := func(v audit.Violation) string {
		return strings.Join([]string{v.MessageID, v.EventType, v.EventName, v.SchemaID, v.InstancePath, v.Keyword, v.Message, v.Value}, "\x00")
	}
	count := map[string]int{}
	for _, v := range got {
		count[key(v)]++
	}
	for _, v := range want {
		if count[key(v)] == 0 {
			missing = append(missing, v)
			continue
		}
		count[key(v)]--
	}
	for _, v := range got {
		if count[key(v)] > 0 {
			count[key(v)]--
			extra = append(extra, v)
		}
	}
	sortByID := func(vs []audit.Violation) {
		slices.SortFunc(vs, func(a, b audit.Violation) int { return cmp.Compare(a.MessageID, b.MessageID) })
	}
	sortByID(missing)
	sortByID(extra)
	return missing, extra
}

// loadWhatFits loads rows, leaving out those the column refuses (a jsonb
// column refuses NaN, a trailing comma, \u0000), by halving a refused
// chunk until the refused rows stand alone.
func loadWhatFits(ctx context.Context, t *testing.T, wh *sqlwh.Warehouse, table sqlwh.RawTable, payloadType string, rows []audit.Row) int64 {
	t.Helper()
	if err := wh.LoadRaw(ctx, table, payloadType, nil); err != nil {
		t.Fatalf("create %s: %v", table.Table, err)
	}
	var load func(rows []audit.Row) int64
	load = func(rows []audit.Row) int64 {
		if len(rows) == 0 {
			return 0
		}
		if err := wh.LoadRaw(ctx, table, payloadType, rows); err == nil {
			return int64(len(rows))
		} else if len(rows) == 1 {
			return 0
		}
		return load(rows[:len(rows)/2]) + load(rows[len(rows)/2:])
	}
	var n int64
	for chunk := range slices.Chunk(rows, 2000) {
		n += load(chunk)
	}
	return n
}

// SuiteCorpus is every draft-7 case of the JSON-Schema-Test-Suite whose
// schema is an object, as the properties of a track event named after its
// group, with each group's schema as that event's.
func SuiteCorpus(t *testing.T) (*schemas.Registry, []audit.Row) {
	t.Helper()
	suite := filepath.Join("..", "..", "..", "shared", "corpora", "json-schema-test-suite", "draft7")
	files, _ := filepath.Glob(filepath.Join(suite, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no JSON-Schema-Test-Suite under %s", suite)
	}
	dir := t.TempDir()
	var rows []audit.Row
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
			writeSchema(t, dir, "suite/"+event, g.Schema)
			for i, tc := range g.Tests {
				rows = append(rows, corpusRow(fmt.Sprintf("%s-%d", event, i),
					fmt.Sprintf(`{"type":"track","event":%q,"properties":%s}`, event, tc.Data)))
				// The same object led by two schema_ids, which engines that
				// read the first of two equal keys see as a number, and Go,
				// reading the last, as an id to route by.
				if obj := strings.TrimSpace(string(tc.Data)); strings.HasPrefix(obj, "{") {
					rest := strings.TrimSpace(obj[1 : len(obj)-1])
					if rest != "" {
						rest = "," + rest
					}
					rows = append(rows, corpusRow(fmt.Sprintf("%s-%d-dup-schema-id", event, i),
						fmt.Sprintf(`{"type":"track","event":%q,"properties":{"schema_id":1,"schema_id":"x"%s}}`, event, rest)))
				}
			}
		}
	}
	return loadCompiling(t, dir), rows
}

// writeSchema writes doc as version 1-0 of the event at path (plan/event)
// under dir.
func writeSchema(t *testing.T, dir, path string, doc []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, path, "1-0.json"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadCompiling loads the schemas under dir, leaving out those that do not
// compile, as --on-bad-schema skip does.
func loadCompiling(t *testing.T, dir string) *schemas.Registry {
	t.Helper()
	reg, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{})
	var le *schemas.LoadError
	if err != nil && !errors.As(err, &le) {
		t.Fatal(err)
	}
	return reg
}

func corpusRow(id, payload string) audit.Row {
	return audit.Row{MessageID: id, ReceivedAt: audittest.CorpusStart, Payload: []byte(payload)}
}

// HostileCorpus is the demo plan's real messages, and each turned hostile
// where SQL engines and Go read JSON differently: duplicate keys, 1.0 and
// 1e2 for integers, huge numbers, NaN and trailing commas, escapes, lone
// surrogates and NUL, null or missing objects, a schema_id, other types
// and names, non-object payloads.
func HostileCorpus(t *testing.T) (*schemas.Registry, []audit.Row) {
	t.Helper()
	reg, err := schemas.Load(context.Background(), os.DirFS(filepath.Join("..", "..", "testdata", "demo", "schemas")),
		schemas.Options{Plan: "segment/shop"})
	if err != nil {
		t.Fatal(err)
	}
	corpus := audittest.Generate(audittest.Options{N: 300, BadRate: 0.3, Seed: 11})
	var rows []audit.Row
	add := func(id, payload string) { rows = append(rows, corpusRow(id, payload)) }
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
		key := "properties"
		if _, ok := msg["traits"]; ok {
			key = "traits"
		}
		props, _ := msg[key].(map[string]any)
		obj, _ := json.Marshal(props)
		others := strings.TrimSuffix(strings.TrimPrefix(mustJSON(without(msg, key)), "{"), "}")
		for name, v := range map[string]string{"-dup-last": `"x"`, "-dup-num": `1`, "-dup-obj": `{}`} {
			for _, k := range slices.Sorted(maps.Keys(props)) {
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
		add(id+"-long-name", strings.Replace(p, `"name":"`, `"name":"`+strings.Repeat("n", audit.MaxNameBytes), 1))
	}
	for i, p := range []string{`[]`, `"x"`, `null`, `{}`, `{"type":"track"}`, `{"type":7,"event":"Order Completed","properties":{}}`,
		`{"type":"page","properties":{}}`, `{"type":"page","name":7,"properties":{}}`, `{"type":"identify","traits":{}}`,
		`{"type":"page","name":"Other","properties":{}}`, `{"type":"screen","name":"Home","properties":{}}`,
		`{"type":"track","event":"Order Completed","properties":{}} trailing`, `{"type":"track","event":"Order Completed","properties":{},}`,
		// Unplanned, and what Go flags though no schema matches.
		`{"type":"track","event":"Unplanned One","properties":{}}`, `{"type":"track","event":"Unplanned One"}`,
		`{"type":"track","event":"","properties":{}}`, `{"type":"track","event":7,"properties":{}}`,
		`{"type":"track","event":"Unplanned One","properties":{"schema_id":"nope"}}`,
		`{"type":"track","event":"Unplanned One","properties":{"schema_id":1,"schema_id":"nope"}}`,
		`{"type":"track","event":"Order Completed","event":"Unplanned One","properties":{}}`,
		`{"type":"track","event":"a\u0000b","properties":{}}`, `{"type":"track","event":"\ud800","properties":{}}`,
		`{"type":"track","event":"` + strings.Repeat("n", audit.MaxNameBytes+1) + `","properties":{}}`,
		`{"type":"group","traits":{"plan":"pro"}}`, `{"type":"screen","name":"Nowhere","properties":{}}`, `{"type":"alias","properties":{}}`,
		// alias is counted as unplanned in SQL: its root is read, first type or last.
		`{"type":"alias","previousId":"a","userId":"b"}`, `{"type":"alias"}`, `{"type":"alias","schema_id":"nope"}`,
		`{"type":"alias","type":"track","event":"Order Completed","properties":{}}`, `{"type":"alias","userId":"\u0000\ud800"}`,
		`{"type":"alias","previousId":NaN}`, `{"type":"alias",}`} {
		add(fmt.Sprintf("fixed-%d", i), p)
	}
	rows = append(rows, audit.Row{MessageID: strings.Repeat("x", audit.MaxIDBytes+1), ReceivedAt: audittest.CorpusStart, Payload: corpus.Rows[0].Payload},
		audit.Row{MessageID: "null-payload", ReceivedAt: audittest.CorpusStart})
	return reg, rows
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

// RandomCorpus is n random schemas (schematest, the fast path's fuzz
// generator), each a track event's, with random instances near their
// edges as the events' properties: pushdown's differential test over
// schemas nobody wrote by hand. Three in four draw only on the keywords
// SQL proves, so that most are proven and their edges are where SQL and Go
// must agree; the rest on every keyword, so that SQL must also leave what
// it cannot prove. Half are objects whose members are random schemas. Of
// each schema's 32 instances, 24 are at its edges (schematest's Edges) and
// 8 random, most of them objects with the members it names.
func RandomCorpus(t *testing.T, seed uint64, n int) (*schemas.Registry, []audit.Row) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, doc string) {
		if !json.Valid([]byte(doc)) {
			t.Fatalf("the generator made invalid JSON: %s", doc)
		}
		writeSchema(t, dir, "rand/"+name, []byte(doc))
	}
	provable, every := schematest.NewProvable(seed), schematest.New(seed+1)
	write("Other", every.Other()) // what a schema's "../Other/1-0.json" reads
	var rows []audit.Row
	for i := range n {
		g := provable
		if i%4 == 3 {
			g = every
		}
		event := fmt.Sprintf("R%04d", i)
		schema := g.Schema(0)
		if g.IntN(2) == 0 {
			schema = fmt.Sprintf(`{"type":"object","properties":{"a":%s,"b":%s,"[":%s},"required":%s,"additionalProperties":%s}`,
				g.Schema(1), g.Schema(1), g.Schema(1), []string{`[]`, `["a"]`, `["a","b"]`}[g.IntN(3)],
				[]string{`false`, `true`, g.Schema(1)}[g.IntN(3)])
		}
		write(event, schema)
		edges := g.Edges(schema, 24)
		for j := range 32 {
			obj := g.Instance(0)
			if j < len(edges) {
				obj = edges[j]
			} else if g.IntN(4) != 0 {
				var kv []string
				for _, k := range []string{`"a"`, `"b"`, `"c"`, `"\u0061"`, `"["`} {
					if g.IntN(2) == 0 {
						kv = append(kv, k+":"+g.Instance(1))
					}
				}
				obj = "{" + strings.Join(kv, ",") + "}"
			}
			rows = append(rows, corpusRow(fmt.Sprintf("%s-%d", event, j), fmt.Sprintf(`{"type":"track","event":%q,"properties":%s}`, event, obj)))
		}
	}
	return loadCompiling(t, dir), rows
}
