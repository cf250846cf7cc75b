package schemas_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/eventaudit/eventaudit/schemas"
	gocmp "github.com/google/go-cmp/cmp"
)

// loadOne compiles one schema document as the plan's only file.
func loadOne(t testing.TB, schema []byte) (*schemas.Schema, error) {
	return loadWith(t, schema, nil)
}

// loadWith compiles schema as suite/Case/1-0.json beside other files (path →
// document), which it may $ref.
func loadWith(t testing.TB, schema []byte, others map[string]string) (*schemas.Schema, error) {
	fsys := fstest.MapFS{"suite/Case/1-0.json": {Data: schema}}
	for name, doc := range others {
		fsys[name] = &fstest.MapFile{Data: []byte(doc)}
	}
	reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
	if err != nil {
		return nil, err
	}
	s, ok := reg.ByID("suite/Case/1-0.json")
	if !ok {
		return nil, fmt.Errorf("not loaded")
	}
	return s.(*schemas.Schema), nil
}

// Each case once made the fast path call valid what the library calls
// invalid (found by an independent differential run): the two must now
// agree, and where the library finds a failure the fast path must not
// prove the instance valid.
func TestFastPathHolesClosed(t *testing.T) {
	for _, c := range []struct {
		name, schema string
		others       map[string]string
		instance     string
		wantValid    bool
	}{
		{name: "a $ref resolved inside a nested $id's resource",
			schema: `{"properties":{"x":{"$ref":"#/definitions/a/definitions/b"}},
				"definitions":{"a":{"$id":"other.json","definitions":{"b":{"$ref":"#/definitions/c"},"c":{"type":"integer"}}},
				"c":{"type":"string"}}}`,
			instance: `{"x":"str"}`},
		{name: "regexProperties, the library's extension",
			schema: `{"type":"object","regexProperties":true}`, instance: `{"[":1}`},
		{name: "a draft-7 $ref to a 2019-09 file: maxLength beside $ref",
			schema: `{"properties":{"x":{"$ref":"../Next/1-0.json"}}}`,
			others: map[string]string{"suite/Next/1-0.json": `{"$schema":"https://json-schema.org/draft/2019-09/schema",
				"$ref":"#/$defs/s","maxLength":2,"$defs":{"s":{"type":"string"}}}`},
			instance: `{"x":"abcdef"}`},
		{name: "a draft-7 $ref to a 2020-12 file: dependentRequired",
			schema: `{"properties":{"x":{"$ref":"../Next/1-0.json"}}}`,
			others: map[string]string{"suite/Next/1-0.json": `{"$schema":"https://json-schema.org/draft/2020-12/schema",
				"type":"object","dependentRequired":{"a":["b"]}}`},
			instance: `{"x":{"a":1}}`},
		{name: "%2F in a $ref pointer",
			schema:   `{"properties":{"x":{"$ref":"#/definitions/a%2Fb"}},"definitions":{"a/b":{"type":"integer"},"a":{"b":{"type":"string"}}}}`,
			instance: `{"x":"str"}`},
		{name: "a key in invalid UTF-8, which the decoder reads as the U+FFFD a property names",
			schema:   `{"properties":{"\uFFFD":{"type":"string"}}}`,
			instance: "{\"\x80\":1}"},
		{name: "contentEncoding and contentMediaType are annotations in both",
			schema:   `{"properties":{"x":{"type":"string","contentEncoding":"base64","contentMediaType":"application/json"}}}`,
			instance: `{"x":"not base64 {"}`, wantValid: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := loadWith(t, []byte(c.schema), c.others)
			if err != nil {
				t.Fatal(err)
			}
			v, err := decode(c.instance)
			if err != nil {
				t.Fatal(err)
			}
			fails := s.Validate(v)
			if libValid := len(fails) == 0; libValid != c.wantValid {
				t.Fatalf("library: valid=%v (%v), want valid=%v", libValid, fails, c.wantValid)
			}
			if s.ValidJSON([]byte(c.instance)) && len(fails) > 0 {
				t.Errorf("the fast path proved valid what the library rejects: %v", fails)
			}
		})
	}
}

// An object schema naming more members than the fast path searches in
// turn looks them up by name: it must still prove the valid instance and
// agree with the library on every other.
func TestFastPathWideObjects(t *testing.T) {
	var props []string
	for i := range 12 {
		typ := []string{"string", "integer", "boolean"}[i%3]
		props = append(props, fmt.Sprintf(`"p%02d":{"type":%q}`, i, typ))
	}
	schema := `{"type":"object","additionalProperties":false,"required":["p00","p07","p11","only_required"],` +
		`"properties":{` + strings.Join(props, ",") + `,"only_required":{"type":"null"}}}`
	valid := `{"p11":true,"p00":"a","p07":7,"p01":2,"only_required":null,"p05":false}`
	s, err := loadOne(t, []byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, instance string
		valid          bool
	}{
		{"valid, keys in any order", valid, true},
		{"a required member missing", `{"p11":true,"p00":"a","only_required":null}`, false},
		{"the 11th member of the wrong type", strings.Replace(valid, `"p11":true`, `"p11":"true"`, 1), false},
		{"the 8th member of the wrong type", strings.Replace(valid, `"p07":7`, `"p07":7.5`, 1), false},
		{"an undeclared member", strings.Replace(valid, `"p05":false`, `"p05":false,"p12":1`, 1), false},
	} {
		v, err := decode(c.instance)
		if err != nil {
			t.Fatal(err)
		}
		if libValid := len(s.Validate(v)) == 0; libValid != c.valid {
			t.Fatalf("%s: the library says valid=%v, want %v", c.name, libValid, c.valid)
		}
		if fast := s.ValidJSON([]byte(c.instance)); fast != c.valid {
			t.Errorf("%s: the fast path says valid=%v, want %v", c.name, fast, c.valid)
		}
	}
}

// With the fast path on or off, the audit of a corpus writes the same
// violations and the same statistics, under every policy for the values a
// violation quotes.
func TestFastPathVerdictsEqualTheLibrary(t *testing.T) {
	for _, c := range []struct {
		values audit.ValuePolicy
		rows   int
	}{
		{audit.ValuePolicy{}, 20000},
		{audit.ValuePolicy{Mode: audit.ValuesRedact}, 5000},
		{audit.ValuePolicy{Mode: audit.ValuesHash, Key: []byte("0123456789abcdef")}, 5000},
		{audit.ValuePolicy{Mode: audit.ValuesTypes}, 5000},
	} {
		t.Run("values="+string(cmp.Or(c.values.Mode, "default")), func(t *testing.T) {
			corpus := audittest.Generate(audittest.Options{N: c.rows, BadRate: 0.1, Seed: 77})
			run := func(disable bool) ([]string, []audit.EventStats) {
				sink := auditDemoWith(t, corpus.Rows, 2, 500, disable, c.values)
				return violationLines(sink.Violations), sink.Stats
			}
			fastV, fastS := run(false)
			slowV, slowS := run(true)
			if len(slowV) < c.rows/20 {
				t.Fatalf("only %d violations: the comparison proves little", len(slowV))
			}
			if !slices.Equal(fastV, slowV) {
				t.Errorf("violations differ: %d with the fast path, %d without", len(fastV), len(slowV))
				for i := range min(len(fastV), len(slowV)) {
					if fastV[i] != slowV[i] {
						t.Errorf("first difference:\n fast %s\n slow %s", fastV[i], slowV[i])
						break
					}
				}
			}
			if fmt.Sprint(fastS) != fmt.Sprint(slowS) {
				t.Errorf("stats differ:\n fast %v\n slow %v", fastS, slowS)
			}
		})
	}
}

// auditDemo audits rows against the demo plan with the fast path, or
// with the library alone (disable), and returns what the run wrote.
func auditDemo(t *testing.T, rows []audit.Row, workers, batchSize int, disable bool) *audittest.CollectSink {
	t.Helper()
	return auditDemoWith(t, rows, workers, batchSize, disable, audit.ValuePolicy{})
}

// auditDemoWith is auditDemo with a policy for the values violations quote.
func auditDemoWith(t *testing.T, rows []audit.Row, workers, batchSize int, disable bool, values audit.ValuePolicy) *audittest.CollectSink {
	t.Helper()
	reg, err := schemas.Load(context.Background(), os.DirFS(filepath.Join("..", "testdata", "demo", "schemas")),
		schemas.Options{Plan: "segment/shop", DisableFastPath: disable})
	if err != nil {
		t.Fatal(err)
	}
	sink := &audittest.CollectSink{}
	a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: batchSize}, Sink: sink, Workers: workers,
		Matcher: &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}, DisableFastPath: disable, Values: values}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	if _, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: w}); err != nil {
		t.Fatal(err)
	}
	return sink
}

// violationLines are the violations as sorted lines: message, keyword,
// location, message and value, which two paths must write alike.
func violationLines(vs []audit.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.MessageID+"|"+v.Keyword+"|"+v.InstancePath+"|"+v.Message+"|"+v.Value)
	}
	slices.Sort(out)
	return out
}

// An object whose own keywords fail the same way on many rows (here each
// page leaves out path) is judged by the library once, and the verdict is
// kept for the rest; each row's violation still quotes that row's object
// as the library path writes it: keys sorted, the last of a repeated key,
// escapes and HTML characters written as encoding/json writes them, cut
// at the value's limit.
func TestKeptVerdictsQuoteEachRowsObject(t *testing.T) {
	objects := []string{
		`{"url":"https://shop.example.com/","title":"Home"}`,
		`{ "title" : "Cart", "url" : "https://shop.example.com/cart" }`,
		`{"url":"u","title":"Caf\u00e9 \"menu\""}`,
		`{"url":"u","title":"a & b <c>"}`,
		`{"url":"u","title":"x","title":"y"}`,
		`{"url":"u","title":"` + strings.Repeat("long title ", 40) + `"}`,
	}
	var rows []audit.Row
	for i, o := range objects {
		for j := range 2 {
			rows = append(rows, audit.Row{MessageID: fmt.Sprint(i, "-", j), ReceivedAt: audittest.CorpusStart,
				Payload: []byte(`{"type":"page","name":"Home","properties":` + o + `}`)})
		}
	}
	run := func(disable bool) []string { return violationLines(auditDemo(t, rows, 1, 0, disable).Violations) }
	fast, library := run(false), run(true)
	if len(library) != len(rows) {
		t.Fatalf("the library found %d violations in %d rows, each missing path: %v", len(library), len(rows), library)
	}
	for i := range library {
		if fast[i] != library[i] {
			t.Errorf("kept verdict:\n  %s\nthe library:\n  %s", fast[i], library[i])
		}
	}
}

// The envelope's walk proves a message's object against the schema that
// the fields before it name, guessing the type where the message names it
// later. Each message here is one where that guess, or the fields after
// the object, name another schema, so that keeping the walk's proof would
// call an invalid object valid; the rows run in one audit, so each guess
// also follows the types of the rows before it.
func TestEnvelopeProofsKeptOnlyForTheirSchema(t *testing.T) {
	messages := []struct {
		payload string
		invalid bool
	}{
		{`{"event":"Signed Up","name":"Home","properties":{"method":"email"},"type":"page"}`, true},
		{`{"event":"Signed Up","properties":{"method":"email","schema_id":"segment/shop/Product Added/1-0.json"},"type":"track"}`, true},
		{`{"properties":{"path":"/","url":"u"},"type":"track","event":"Signed Up"}`, true},
		{`{"properties":{"path":"/","url":"u"},"type":"page","name":"Signed Up"}`, true},
		{`{"name":"Home","properties":{"path":"/","url":"u"},"type":"screen"}`, false},
		{`{"name":"Home","properties":{"method":"email"},"type":"page"}`, true},
		{`{"name":"Home","properties":{"path":"/","url":"u","schema_id":"segment/shop/Signed Up/1-0.json"},"type":"page"}`, true},
		{`{"name":"Home","properties":{"path":"/","url":"u","schema_id":"segment/shop/Page/1-0.json","schema_id":"segment/shop/Signed Up/1-0.json"},"type":"page"}`, true},
		{`{"traits":{"email":"a@b.c","plan":"pro"},"type":"group"}`, false},
		{`{"traits":{"email":"a@b.c","plan":"pro","method":"email"},"type":"identify"}`, true},
		{`{"event":"Signed Up","properties":{"method":"email"}}`, true},
		{`{"event":"Signed Up","properties":{"method":"email"},"traits":{"method":"bad","schema_id":"segment/shop/Signed Up/1-0.json"},"type":"identify"}`, true},
		{`{"event":"Signed Up","properties":{"method":"email","schema_id":"segment/shop/Signed Up/1-0.json","schema_id":"nope"},"type":"track"}`, true},
		{`{"event":"Signed Up","properties":{"method":"email"},"type":"track"}`, false},
	}
	var rows []audit.Row
	for i, m := range messages {
		rows = append(rows, audit.Row{MessageID: fmt.Sprint(i), ReceivedAt: audittest.CorpusStart, Payload: []byte(m.payload)})
	}
	run := func(disable bool) (string, map[string]bool) {
		sink := auditDemo(t, rows, 1, 0, disable)
		failed := map[string]bool{}
		for _, v := range sink.Violations {
			failed[v.MessageID] = true
		}
		return fmt.Sprint(sink.Violations, sink.Stats), failed
	}
	fast, failed := run(false)
	slow, _ := run(true)
	if fast != slow {
		t.Errorf("the fast path and the library disagree:\nfast    %s\nlibrary %s", fast, slow)
	}
	for i, m := range messages {
		if failed[fmt.Sprint(i)] != m.invalid {
			t.Errorf("%s: violations %v, want %v", m.payload, failed[fmt.Sprint(i)], m.invalid)
		}
	}
}

// The fast path remembers a bounded number of envelopes per worker. A table
// with more distinct event names than that (a name that is really data)
// must still be counted and profiled event by event, as the library path
// counts it.
func TestFastPathCountsMoreEventsThanItRemembers(t *testing.T) {
	corpus := audittest.Generate(audittest.Options{N: 3000, BadRate: 0.1, Seed: 5})
	var rows []audit.Row
	for i, r := range corpus.Rows {
		rows = append(rows, r)
		for k := range 3 { // 9,000 distinct unplanned events, beside the plan's
			n := 3*i + k
			rows = append(rows, audit.Row{MessageID: fmt.Sprintf("m-%05d", n), ReceivedAt: r.ReceivedAt,
				Payload: fmt.Appendf(nil, `{"type":"track","event":"Mystery %d","properties":{"n":%d,"tag":"t%d"}}`, n, n, n%7)})
		}
	}
	run := func(disable bool) *audittest.CollectSink {
		reg, err := schemas.Load(context.Background(), os.DirFS(filepath.Join("..", "testdata", "demo", "schemas")),
			schemas.Options{Plan: "segment/shop", DisableFastPath: disable})
		if err != nil {
			t.Fatal(err)
		}
		sink := &audittest.CollectSink{}
		a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: 250}, Sink: sink, Workers: 2,
			Matcher: &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}, DisableFastPath: disable,
			Profile: &audit.Profiling{ValueStats: true, Limits: audit.ProfileLimits{PathsPerEvent: 50, Paths: 100000, Distinct: 5, DistinctBytes: 64, Depth: 4}}}
		w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
		if _, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: w}); err != nil {
			t.Fatal(err)
		}
		return sink
	}
	fast, slow := run(false), run(true)
	if len(fast.Stats) < 9000 || len(fast.Properties) < 18000 {
		t.Fatalf("%d events, %d properties: the table should hold over 9,000 and 18,000", len(fast.Stats), len(fast.Properties))
	}
	if fmt.Sprint(fast.Stats) != fmt.Sprint(slow.Stats) {
		t.Error("the event counts differ between the fast path and the library path")
	}
	if fmt.Sprint(fast.Properties) != fmt.Sprint(slow.Properties) {
		t.Error("the profiles differ between the fast path and the library path")
	}
}

// The fast path profiles an object from its raw bytes, the library path
// from decoded values: the two must agree on objects their schema proves
// and on the rest, with and without value stats, for every kind of value,
// nested or not, in any key order, keys spelled plainly or not, and under
// the profile's caps.
func TestFastPathProfilesAsTheLibraryPathDoes(t *testing.T) {
	fsys := fstest.MapFS{"p/Any/1-0.json": {Data: []byte(`{"type":"object","required":["n"],"properties":{
		"n":{"type":"number"},"flag":{"type":"boolean"},"none":{"type":"null"},"s":{"type":"string"},
		"o":{"type":"object","properties":{"k":{"type":"integer"}}},"a":{"type":"array","items":{"type":["integer","object"]}}}}`)}}
	payloads := []string{
		`{"type":"track","event":"Any","properties":{"n":1,"flag":true,"none":null,"s":"x","o":{"k":2},"a":[1,{"z":false}],"extra":"y"}}`,
		`{"event":"Any","properties":{"s":"é\"q","n":1.0,"flag":false,"extra":[null],"o":{},"a":[]},"type":"track"}`,
		`{"event":"Any","properties":{"n":-2.5e3,"more":{"deep":{"deeper":["v"]}},"s":"\u00e9"},"type":"track"}`,
		`{"type":"track","event":"Any","properties":{"n":12345678901234567890,"s":"🟢","x1":1,"x2":2,"x3":3,"x4":4}}`,
		`{"type":"track","event":"Any","properties":{"n":3,"k\u00e9y":"escaped key","s":""}}`,
		`{"type":"track","event":"Any","properties":{"n":"not a number","flag":"no"}}`, // invalid: the library path
		`{"type":"track","event":"Other","properties":{"n":1,"flag":true,"s":"unplanned"}}`,
		`{"properties":{"n":4,"flag":true},"type":"track","event":"Any"}`, // the route guessed before the object
	}
	var rows []audit.Row
	for i, p := range payloads {
		rows = append(rows, audit.Row{MessageID: fmt.Sprint("m", i), ReceivedAt: audittest.CorpusStart, Payload: []byte(p)})
	}
	run := func(disable, stats bool, paths int) *audit.Summary {
		reg, err := schemas.Load(context.Background(), fsys, schemas.Options{Plan: "p", DisableFastPath: disable})
		if err != nil {
			t.Fatal(err)
		}
		limits := audit.DefaultProfileLimits
		limits.PathsPerEvent = paths
		a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: 3}, Workers: 1,
			Matcher: &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}, DisableFastPath: disable,
			Profile: &audit.Profiling{Limits: limits, ValueStats: stats}}
		w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
		s, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: w})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, stats := range []bool{false, true} {
		fast, slow := run(false, stats, 50), run(true, stats, 50)
		if len(fast.Profiles) != 2 || fast.Run.RowsInvalid != 1 {
			t.Fatalf("%d events profiled, %d rows invalid; want Any and Other, and one", len(fast.Profiles), fast.Run.RowsInvalid)
		}
		if diff := gocmp.Diff(slow.Profiles, fast.Profiles); diff != "" {
			t.Errorf("value stats %v: the fast path profiles differently (-library +fast):\n%s", stats, diff)
		}
		// Under the caps, which paths fit follows the order a walk meets
		// them in; each kept is whole, and the rest are counted dropped.
		whole := map[string]audit.PropertyProfile{}
		for _, p := range fast.Profiles[0].Properties {
			whole[p.Path] = p
		}
		capped := run(false, stats, 6).Profiles[0]
		if capped.Name != "Any" || len(capped.Properties) != 6 || capped.Dropped == 0 {
			t.Errorf("value stats %v: %s kept %d paths and dropped %d values under a cap of 6", stats, capped.Name, len(capped.Properties), capped.Dropped)
		}
		for _, p := range capped.Properties {
			if diff := gocmp.Diff(whole[p.Path], p); diff != "" {
				t.Errorf("value stats %v: %s under the cap is not the path whole (-whole +capped):\n%s", stats, p.Path, diff)
			}
		}
	}
}

// FuzzFastPathAgrees mutates schemas and instances: whenever the fast path
// calls an instance valid, the library must too.
func FuzzFastPathAgrees(f *testing.F) {
	seeds := []struct{ schema, instance string }{
		{`{"type":"object","properties":{"a":{"type":"integer","minimum":1}},"required":["a"],"additionalProperties":false}`, `{"a":1}`},
		{`{"type":"object","properties":{"p":{"type":"number","exclusiveMaximum":10}}}`, `{"p":9.999999999999999999}`},
		{`{"properties":{"c":{"enum":["USD","EUR"]}}}`, `{"c":"US\u0044"}`},
		{`{"properties":{"s":{"type":"string","minLength":2,"maxLength":3,"pattern":"^a"}}}`, `{"s":"aé"}`},
		{`{"type":"array","items":{"$ref":"#/definitions/x"},"minItems":1,"definitions":{"x":{"type":"boolean"}}}`, `[true,false]`},
		{`{"properties":{"n":{"type":"integer"}}}`, `{"n":1.0}`},
		{`{"properties":{"n":{"minimum":9007199254740993}}}`, `{"n":9007199254740992}`},
		{`{"additionalProperties":{"type":"string"}}`, `{"a":"x","a":1}`},
		{`{"$ref":"#"}`, `{}`},
		{`{"const":"x"}`, `"x"`},
		{`{"type":["null","string"]}`, `null`},
	}
	for _, s := range seeds {
		f.Add(s.schema, s.instance)
	}
	f.Fuzz(func(t *testing.T, schema, instance string) {
		s, err := loadOne(t, []byte(schema))
		if err != nil || !s.ValidJSON([]byte(instance)) {
			return
		}
		v, err := decode(instance)
		if err != nil {
			t.Fatalf("the fast path accepted JSON that encoding/json rejects: %q (%v)", instance, err)
		}
		if fails := s.Validate(v); len(fails) > 0 {
			t.Fatalf("schema %s\ninstance %s\nfast path: valid; library: %v", schema, instance, fails)
		}
		if strings.TrimSpace(instance) == "" {
			t.Fatal("empty input called valid")
		}
	})
}

// FuzzFastPathMessages mutates whole Segment messages: the audit with the
// fast path must write exactly what the library alone writes.
func FuzzFastPathMessages(f *testing.F) {
	for _, r := range audittest.Generate(audittest.Options{N: 40, BadRate: 0.3, Seed: 3}).Rows {
		f.Add(r.Payload)
	}
	for _, s := range []string{
		`{"type":"track","event":"Signed Up","properties":{"method":"email"},"type":"page"}`,
		`{"type":"track","event":"Signed Up","properties":{"method":"email","schema_id":"segment/shop/Signed Up/1-0.json","schema_id":1}}`,
		`{"type":"track","event":"Signed Up","properties":{"method":"em\u0061il"}}`,
		`{"type":"track","event":"Signed Up","properties":null}`,
		`{"typ\u0065":"track","event":"Signed Up","properties":{}}`,
		`{"type":"track","event":"Signed Up","properties":{"method":"email","schema\u005fid":"nope"}}`,
		`{"type":"track","event":"Signed Up","properties":{"method":"email","note":"\"schema_id\"","schema_id":"nope"}}`,
		`{"type":"identify","traits":{"email":"a@b.c","plan":"pro"},"properties":{"schema_id":"nope","schema_id":"x"}}`,
		`{"type":"identify","traits":{"email":"a@b.c","plan":"pro","schema_id":"segment/shop/Signed Up/1-0.json"}}`,
		`{"schema_id":"segment/shop/Signed Up/1-0.json","type":"track","event":"Signed Up","properties":{"method":"email"}}`,
		`{"schema_id":"a","type":"track","event":"Signed Up","schema_id":"b","properties":{}}`,
		`{"schema_id":"nope","type":"track","event":"Signed Up","properties":{"method":"email"}}`,
		`{"schema_id":7,"type":"track","event":"Signed Up","properties":{"schema_id":"nope"}}`,
		`{"type":"identify","traits":{"email":"a@b.c","plan":"pro"}} x`,
		`{"event":"Signed Up","name":"Home","properties":{"method":"email"},"type":"page"}`,
		`{"properties":{"path":"/","url":"u"},"type":"page","name":"Signed Up"}`,
		`{"name":"Home","properties":{"path":"/","url":"u","schema_id":"segment/shop/Page/1-0.json","schema_id":"segment/shop/Signed Up/1-0.json"},"type":"page"}`,
		`{"traits":{"email":"a@b.c","plan":"pro"},"type":"group"}`,
	} {
		f.Add([]byte(s))
	}
	reg := map[bool]*schemas.Registry{}
	for _, disable := range []bool{false, true} {
		r, err := schemas.Load(context.Background(), os.DirFS(filepath.Join("..", "testdata", "demo", "schemas")),
			schemas.Options{Plan: "segment/shop", DisableFastPath: disable})
		if err != nil {
			f.Fatal(err)
		}
		reg[disable] = r
	}
	w := audit.Window{Start: audittest.CorpusStart, End: audittest.CorpusStart.Add(audittest.CorpusSpan)}
	f.Fuzz(func(t *testing.T, payload []byte) {
		// Both targets: the envelope finds schema_id in the whole message's
		// members or in the object's. The message comes twice, so that the
		// second is judged by any verdict the first left.
		rows := []audit.Row{{MessageID: "m", ReceivedAt: w.Start, Payload: payload}, {MessageID: "n", ReceivedAt: w.Start, Payload: payload}}
		for _, target := range []audit.ValidateTarget{audit.ValidateObject, audit.ValidateMessage} {
			var out [2]string
			for i, disable := range []bool{false, true} {
				sink := &audittest.CollectSink{}
				a := &audit.Auditor{Source: &audittest.Source{Rows: rows},
					Sink: sink, Workers: 1, Matcher: &audit.Matcher{Catalog: reg[disable], Target: target}, DisableFastPath: disable}
				if _, err := a.Run(context.Background(), audit.Run{RunID: "r", Window: w}); err != nil {
					t.Fatal(err)
				}
				out[i] = fmt.Sprint(sink.Violations, sink.Stats)
			}
			if out[0] != out[1] {
				t.Fatalf("target %v, payload %q\nfast path: %s\nlibrary:   %s", target, payload, out[0], out[1])
			}
		}
	})
}
