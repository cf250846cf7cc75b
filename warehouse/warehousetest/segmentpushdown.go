package warehousetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse/segment"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// SegmentPushdownAgrees is pushdown's differential test in Segment's
// layout: it loads rows as Segment's destination would (LoadSegment),
// audits the layout with and without pushdown, and fails unless both runs
// write the same violations, findings and statistics. It returns how many
// rows SQL proved and how many the layout holds.
func SegmentPushdownAgrees(t *testing.T, wh *sqlwh.Warehouse, reg *schemas.Registry, rows []audit.Row, extra ...string) (proven, scanned int64) {
	t.Helper()
	src, w := LoadSegment(t, wh, reg, rows, extra...)
	return pushdownRuns(t, src, reg, w, func(string) string { return "" })
}

// LoadSegment loads rows, a second apart, as Segment's destination would
// (BuildSegmentLayout) into a new schema of wh, dropped after the test,
// runs each of extra there (SCHEMA names it: values no JSON message loads
// as, NaN and infinities), and returns a source reading it and the window
// that holds every row.
func LoadSegment(t *testing.T, wh *sqlwh.Warehouse, reg *schemas.Registry, rows []audit.Row, extra ...string) (*segment.Source, audit.Window) {
	t.Helper()
	ctx := context.Background()
	schema := "segpd_" + uniq()
	// A second apart, so that DuckDB's slices all hold rows.
	rows = slices.Clone(rows)
	if wh.Dialect.Name == "postgres" || wh.Dialect.Name == "redshift" {
		// Their text holds no NUL: no destination loads these.
		rows = slices.DeleteFunc(rows, func(r audit.Row) bool { return strings.Contains(string(r.Payload), `\u0000`) })
	}
	for i := range rows {
		rows[i].ReceivedAt = audittest.CorpusStart.Add(time.Duration(i) * time.Second)
	}
	if err := BuildSegmentLayout(rows).Load(ctx, wh, schema); err != nil {
		t.Fatalf("load Segment's layout: %v", err)
	}
	t.Cleanup(func() { _ = wh.Conn.Exec(context.Background(), "DROP SCHEMA "+wh.Dialect.QuoteName(schema)+" CASCADE") })
	for _, q := range extra {
		if err := wh.Conn.Exec(ctx, strings.ReplaceAll(q, "SCHEMA", wh.Dialect.QuoteName(schema))); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(time.Duration(len(rows)+1) * time.Second)}
	return &segment.Source{WH: wh, Schema: schema, Events: reg.EventNames(),
		Matcher: &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}, BatchSize: 256}, w
}

// SegmentPushdownSuite runs SegmentPushdownAgrees, one subtest each, over
// the demo plan's hostile messages, every draft-7 case of the
// JSON-Schema-Test-Suite, SegmentEdgeCorpus and four seeds of
// GeneratedSegmentCorpus, each on a warehouse open
// returns; each must also prove enough rows that the check means something.
func SegmentPushdownSuite(t *testing.T, open func(t *testing.T, corpus string) *sqlwh.Warehouse) {
	for _, c := range []struct {
		name   string
		corpus func(*testing.T) (*schemas.Registry, []audit.Row, []string)
		least  int64
	}{
		{"hostile", func(t *testing.T) (*schemas.Registry, []audit.Row, []string) {
			reg, rows := HostileCorpus(t)
			return reg, rows, nil
		}, 500},
		{"suite", func(t *testing.T) (*schemas.Registry, []audit.Row, []string) {
			reg, rows := SuiteCorpus(t)
			return reg, rows, nil
		}, 200},
		{"edges", SegmentEdgeCorpus, 20},
		{"random", func(t *testing.T) (*schemas.Registry, []audit.Row, []string) {
			reg, rows := RandomCorpus(t, 1, 40)
			return reg, rows, nil
		}, 100},
		{"generated/1", generated(1), 20}, {"generated/2", generated(2), 20}, {"generated/3", generated(3), 20}, {"generated/4", generated(4), 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg, rows, extra := c.corpus(t)
			proven, scanned := SegmentPushdownAgrees(t, open(t, c.name), reg, rows, extra...)
			t.Logf("%d of %d rows proven valid in SQL", proven, scanned)
			if proven < c.least {
				t.Errorf("only %d rows proven: the check proves little", proven)
			}
		})
	}
}

func generated(seed uint64) func(*testing.T) (*schemas.Registry, []audit.Row, []string) {
	return func(t *testing.T) (*schemas.Registry, []audit.Row, []string) {
		reg, rows := GeneratedSegmentCorpus(t, seed)
		return reg, rows, nil
	}
}

// SegmentEdgeCorpus is a plan whose schemas use each check the layout's
// proof renders, beside messages at each check's edge: integers loaded into
// a column typed by an earlier fraction, values at inclusive and exclusive
// bounds, huge integers, lengths in code points, nested and required
// objects, nulls, closed objects, and names that route elsewhere. Extra
// are statements that put in the layout what no JSON message loads as.
func SegmentEdgeCorpus(t *testing.T) (reg *schemas.Registry, rows []audit.Row, extra []string) {
	t.Helper()
	bodies := map[string]string{}
	write := func(event, body string) { bodies[event] = body }
	write("Bounded", `"type": "object", "required": ["qty", "ratio"], "properties": {
		"qty": {"type": "integer", "minimum": 2, "maximum": 9007199254740993},
		"ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 2.5},
		"score": {"type": "integer", "exclusiveMaximum": 10},
		"big": {"type": "integer", "maximum": 100000000000000000000},
		"tiny": {"type": "number", "minimum": 0.1},
		"units": {"type": "integer", "maximum": 100}}`)
	write("Texts", `"type": "object", "additionalProperties": false, "required": ["code"], "properties": {
		"code": {"type": "string", "enum": ["a", "b", "é", "\\n"]},
		"word": {"type": "string", "minLength": 2, "maxLength": 3},
		"flag": {"type": "boolean"},
		"when": {"type": "string"},
		"note": {"type": ["string", "null"]},
		"label": {"type": "string"},
		"sku": {"type": "string", "pattern": "^S"}}`)
	write("Nested", `"type": "object", "properties": {
		"item": {"type": "object", "required": ["id"], "additionalProperties": false, "properties": {
			"id": {"type": "integer"}, "name": {"type": "string", "maxLength": 4}}},
		"opt": {"type": ["integer", "null"], "minimum": 0}}`)
	write("Closed", `"type": "object", "additionalProperties": false, "properties": {"a": {"type": "integer"}}`)
	write("Listed", `"type": "object", "required": ["tags"], "properties": {
		"tags": {"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 3}},
		"alias": {"type": ["array", "string"], "maxLength": 2},
		"items": {"type": "array", "items": {"type": "object", "required": ["k"], "properties": {"k": {"type": "string", "maxLength": 3}, "n": {"type": "integer"}}}}}`)
	write("Home", `"type": "object", "additionalProperties": false, "required": ["path"], "properties": {"path": {"type": "string", "maxLength": 5}}`)
	write("Page", `"type": "object", "properties": {"title": {"type": "string", "minLength": 2}}`)
	write("Identify", `"type": "object", "additionalProperties": false, "required": ["email"], "properties": {"email": {"type": "string", "minLength": 3}, "age": {"type": "integer", "minimum": 0}}`)
	reg = draft7Plan(t, "edge", bodies)
	n := 0
	add := func(event, props string) {
		n++
		rows = append(rows, corpusRow(fmt.Sprintf("e%04d", n), fmt.Sprintf(`{"type":"track","event":%q,"properties":%s}`, event, props)))
	}
	// The first value types a column: ratio and score as doubles, qty and
	// big as bigints, when as a timestamp.
	for _, p := range []string{
		`{"qty":2,"ratio":0.5,"score":9.5,"big":1,"tiny":0.1}`, `{"qty":1,"ratio":0.5}`, `{"qty":3,"ratio":0}`,
		`{"qty":9007199254740993,"ratio":2.5}`, `{"qty":9007199254740994,"ratio":2.5}`, `{"qty":5,"ratio":2.5000001}`,
		`{"qty":5,"ratio":1e-300}`, `{"qty":5,"ratio":1,"score":9}`, `{"qty":5,"ratio":1,"score":10}`,
		`{"qty":5,"ratio":1,"score":9.0}`, `{"qty":5,"ratio":1,"score":8.5}`, `{"qty":5,"ratio":1,"score":-1e300}`, `{"qty":5,"ratio":1,"big":99999999999999999999}`,
		`{"qty":5,"ratio":1,"tiny":0.1}`, `{"qty":5,"ratio":1,"tiny":0.09999999999999999}`, `{"qty":5}`, `{"ratio":1}`,
		`{"qty":5,"ratio":1,"score":null}`, `{"qty":"5","ratio":1}`, `{"qty":5,"ratio":"1"}`, `{"qty":5,"ratio":1,"extra":"x"}`,
	} {
		add("Bounded", p)
	}
	for _, p := range []string{
		`{"code":"a","word":"ab","flag":true,"when":"2026-11-20T10:00:00Z","note":"n","label":"x","sku":"S1"}`,
		`{"code":"é","word":"éé"}`, `{"code":"c"}`, `{"code":"a","word":"a"}`, `{"code":"a","word":"abcd"}`, `{"code":"a","word":"日本語"}`,
		`{"code":"a","word":"日本語x"}`, `{"code":"a","flag":false}`, `{"code":"a","flag":"yes"}`, `{"code":"a","note":null}`,
		`{"code":"a","when":"soon"}`, `{"code":"a","label":7}`, `{"code":"a","sku":"T1"}`, `{"code":"a","sku":"S2"}`, `{}`,
		`{"code":"a","other":1}`, `{"code":"A"}`, `{"code":"a","label":""}`,
		// A backslash in a literal: Snowflake's and Redshift's are escapes.
		`{"code":"\\n"}`, `{"code":"\n"}`,
	} {
		add("Texts", p)
	}
	for _, p := range []string{
		`{"item":{"id":1,"name":"abc"},"opt":1}`, `{"item":{"name":"abc"}}`, `{"item":{"id":1,"name":"abcde"}}`, `{"opt":-1}`,
		`{"opt":null}`, `{}`, `{"item":{"id":1.5}}`, `{"item":{"id":2,"x":1}}`, `{"item":{}}`, `{"item":"flat"}`,
	} {
		add("Nested", p)
	}
	for _, p := range []string{`{"a":1}`, `{"a":1,"b":2}`, `{}`, `{"a":1.5}`, `{"a":null}`} {
		add("Closed", p)
	}
	for _, p := range []string{
		`{"tags":["a","bb"],"items":[{"k":"x","n":1}]}`, `{"tags":[]}`, `{"tags":["toolong"]}`, `{"tags":[1]}`, `{"tags":"abc"}`,
		`{"tags":["a"],"items":[{"n":1}]}`, `{"tags":["a"],"items":[{"k":"x","n":1.0}]}`, `{"tags":["a"],"items":[{"k":"x","n":1e2}]}`,
		`{"tags":["a"],"items":[]}`, `{"tags":["é"],"items":[{"k":"日本語"}]}`, `{"tags":["a"],"items":[{"k":"日本語x"}]}`, `{"tags":["a"],"alias":"ab"}`, `{"tags":["a"],"alias":["abc"]}`,
	} {
		add("Listed", p)
	}
	// Names that route elsewhere, unplanned events, and an event_text that
	// is not its table's.
	for _, p := range []string{
		`{"type":"track","event":"Unplanned One","properties":{"x":1}}`, `{"type":"track","event":"Unplanned One"}`,
		`{"type":"track","event":"Another","properties":{}}`, `{"type":"track","event":"closed","properties":{"a":1}}`,
		`{"type":"track","event":"Closed","properties":{"a":1,"schema_id":"edge/Closed/1-0.json"}}`,
		`{"type":"track","event":"Closed","properties":{"a":2,"schema_id":"nope"}}`,
		`{"type":"page","name":"Home","properties":{"path":"/"}}`, `{"type":"page","name":"Home","properties":{"path":"/long/path"}}`,
		`{"type":"page","name":"Home","properties":{}}`, `{"type":"page","name":"Home","properties":{"path":"/","title":"Hi"}}`,
		`{"type":"page","name":"Other","properties":{"title":"Hi"}}`, `{"type":"page","name":"Other","properties":{"title":"H"}}`,
		`{"type":"page","properties":{"title":"Hello"}}`, `{"type":"page","name":"","properties":{"title":"Hello"}}`,
		`{"type":"page","name":"Closed","properties":{"a":1}}`, `{"type":"page","name":"Closed","properties":{"title":"Hello"}}`,
		`{"type":"page","name":"Bounded","properties":{"title":"Hello"}}`, `{"type":"screen","name":"Home","properties":{"path":"/"}}`,
		`{"type":"screen","name":"Lobby","properties":{"title":"x"}}`,
		`{"type":"identify","traits":{"email":"a@b.co"}}`, `{"type":"identify","traits":{"email":"ab"}}`, `{"type":"identify","traits":{"age":3}}`,
		`{"type":"identify","traits":{"email":"a@b.co","age":-1}}`, `{"type":"identify","traits":{"email":"a@b.co","name":"Ann"}}`,
		`{"type":"group","traits":{"plan":"pro"}}`,
	} {
		n++
		rows = append(rows, corpusRow(fmt.Sprintf("e%04d", n), p))
	}
	extra = []string{
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio) VALUES ('nan', '2026-11-20 00:00:01+00', 'bounded', 'Bounded', 5, CAST('NaN' AS DOUBLE PRECISION))`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio) VALUES ('inf', '2026-11-20 00:00:02+00', 'bounded', 'Bounded', 5, CAST('Infinity' AS DOUBLE PRECISION))`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio, score) VALUES ('ninf', '2026-11-20 00:00:03+00', 'bounded', 'Bounded', 5, 1, CAST('-Infinity' AS DOUBLE PRECISION))`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio) VALUES ('text-other', '2026-11-20 00:00:04+00', 'bounded', 'Texts', 5, 1)`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio) VALUES (NULL, '2026-11-20 00:00:05+00', 'bounded', '', 5, 1)`,
		`INSERT INTO SCHEMA.texts (id, received_at, event, event_text, code, "when") VALUES ('when-infinite', '2026-11-20 00:00:09+00', 'texts', 'Texts', 'a', CAST('infinity' AS TIMESTAMP WITH TIME ZONE))`,
		`INSERT INTO SCHEMA.pages (id, received_at, name, path) VALUES ('page-long-name', '2026-11-20 00:00:10+00', '` + strings.Repeat("n", audit.MaxNameBytes+1) + `', NULL)`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio) VALUES ('` + strings.Repeat("i", audit.MaxIDBytes+1) + `', '2026-11-20 00:00:12+00', 'bounded', 'Bounded', 5, 1)`,
		`INSERT INTO SCHEMA.pages (id, received_at, name, path) VALUES (NULL, '2026-11-20 00:00:11+00', 'Home', '/')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-comma', '2026-11-20 00:00:13+00', 'listed', 'Listed', '["a",]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-trailing', '2026-11-20 00:00:14+00', 'listed', 'Listed', '["a"] ["toolong"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-string', '2026-11-20 00:00:15+00', 'listed', 'Listed', '"[1]"')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, alias) VALUES ('alias-json-string', '2026-11-20 00:00:20+00', 'listed', 'Listed', '["a"]', '"ab"')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-space', '2026-11-20 00:00:16+00', 'listed', 'Listed', '  ["a"]  ')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-dup', '2026-11-20 00:00:17+00', 'listed', 'Listed', '["a"]', '[{"k":"a","k":"toolong"}]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-nan', '2026-11-20 00:00:18+00', 'listed', 'Listed', '["a"]', '[{"k":"a","n":NaN}]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-escape', '2026-11-20 00:00:19+00', 'listed', 'Listed', '["\u00e9\u00e9\u00e9", "\ud800"]')`,
		// A fixed-point column (Snowflake's NUMBER(10,2)): proven only
		// where integral.
		`ALTER TABLE SCHEMA.bounded ADD COLUMN units DECIMAL(10,2)`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio, units) VALUES ('units-3', '2026-11-20 00:00:36+00', 'bounded', 'Bounded', 5, 1, 3.00)`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio, units) VALUES ('units-2.5', '2026-11-20 00:00:37+00', 'bounded', 'Bounded', 5, 1, 2.50)`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio, units) VALUES ('units-100', '2026-11-20 00:00:38+00', 'bounded', 'Bounded', 5, 1, 100.00)`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio, units) VALUES ('units-100.01', '2026-11-20 00:00:39+00', 'bounded', 'Bounded', 5, 1, 100.01)`,
		`INSERT INTO SCHEMA.bounded (id, received_at, event, event_text, qty, ratio, units) VALUES ('units-0', '2026-11-20 00:00:40+00', 'bounded', 'Bounded', 5, 1, 0)`,
		// JSON text at the edges of what an engine may parse as Go does.
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-escapes', '2026-11-20 00:00:21+00', 'listed', 'Listed', '["a\"b", "\/", "\\"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-u-escape', '2026-11-20 00:00:22+00', 'listed', 'Listed', '["a\u0041"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-json-space', '2026-11-20 00:00:23+00', 'listed', 'Listed', '[' || chr(9) || '"a"' || chr(13) || chr(10) || ']')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-vtab', '2026-11-20 00:00:24+00', 'listed', 'Listed', '[' || chr(11) || '"a"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-nbsp', '2026-11-20 00:00:25+00', 'listed', 'Listed', '[' || chr(160) || '"a"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-del', '2026-11-20 00:00:26+00', 'listed', 'Listed', '["' || chr(127) || '", "' || chr(8232) || '"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-long', '2026-11-20 00:00:27+00', 'listed', 'Listed', '[' || repeat('"a",', 3000) || '"a"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-exponent', '2026-11-20 00:00:28+00', 'listed', 'Listed', '["a"]', '[{"k":"x","n":1e2}]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-negative-zero', '2026-11-20 00:00:29+00', 'listed', 'Listed', '["a"]', '[{"k":"x","n":-0}]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-fraction', '2026-11-20 00:00:30+00', 'listed', 'Listed', '["a"]', '[{"k":"x","n":10.0}, {"k":"y","n":-2.5}]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-nested', '2026-11-20 00:00:31+00', 'listed', 'Listed', '["a"]', '[{"k":"x","o":{"k":"toolong"}}, [1]]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-huge', '2026-11-20 00:00:32+00', 'listed', 'Listed', '["a"]', '[{"k":"x","n":123456789012345678901234567890}]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-dup-valid', '2026-11-20 00:00:33+00', 'listed', 'Listed', '["a"]', '[{"k":"toolong","k":"x"} , {"k":"z","n":null}]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags, items) VALUES ('items-scalars', '2026-11-20 00:00:34+00', 'listed', 'Listed', '[]', '[true, null, 0, "k"]')`,
		`INSERT INTO SCHEMA.listed (id, received_at, event, event_text, tags) VALUES ('tags-long-fraction', '2026-11-20 00:00:35+00', 'listed', 'Listed', '[0.' || repeat('1', 17000) || ']')`,
		`INSERT INTO SCHEMA.tracks (id, received_at, event, event_text) VALUES ('no-text', '2026-11-20 00:00:06+00', 'mystery', NULL)`,
		`INSERT INTO SCHEMA.tracks (id, received_at, event, event_text) VALUES ('empty-text', '2026-11-20 00:00:07+00', 'mystery', '')`,
		`INSERT INTO SCHEMA.tracks (id, received_at, event, event_text) VALUES ('planned-text', '2026-11-20 00:00:08+00', 'mystery', 'Bounded')`,
	}
	return reg, rows, extra
}

// SegmentProofSQL loads SegmentEdgeCorpus's messages as Segment's layout
// (LoadSegment) and returns the statements a pushdown run would send
// there, in wh's dialect, the schema named segment_golden: a golden file
// pins them, for the engines no test here runs (Redshift) and for review.
func SegmentProofSQL(t *testing.T, wh *sqlwh.Warehouse) string {
	t.Helper()
	reg, rows, _ := SegmentEdgeCorpus(t)
	src, _ := LoadSegment(t, wh, reg, rows)
	proof, err := src.Proof(context.Background(), src.Matcher.PushdownPlan(reg.EventNames()))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(proof.SQL, src.Schema, "segment_golden") + "\n"
}

// draft7Plan loads a plan of one draft-7 schema per track event: bodies
// maps each event to its schema's keywords, without braces.
func draft7Plan(t *testing.T, plan string, bodies map[string]string) *schemas.Registry {
	t.Helper()
	files := fstest.MapFS{}
	for event, body := range bodies {
		files[plan+"/"+event+"/1-0.json"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
			`{"$schema": "http://json-schema.org/draft-07/schema#", "$id": "%s/%s/1-0.json", %s}`, plan, event, body))}
	}
	reg, err := schemas.Load(context.Background(), files, schemas.Options{Plan: plan})
	if err != nil {
		t.Fatalf("plan %s: %v", plan, err)
	}
	return reg
}
