package warehousetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
)

// GeneratedSegmentCorpus is a random plan, drawn from seed, of track
// events whose schemas use the keywords the column proof renders (types
// and type lists, bounds exclusive or not, lengths, enums, required,
// closed and nested objects, arrays kept as JSON text) and a few it leaves
// to Go (patterns, multipleOf), with messages whose property values sit
// near those schemas' edges. The first value of a property types its
// column, so the same values land in integer, double, boolean and text
// columns from one seed to the next.
func GeneratedSegmentCorpus(t *testing.T, seed uint64) (*schemas.Registry, []audit.Row) {
	t.Helper()
	g := segmentGen{rand.New(rand.NewPCG(seed, seed^0x5e6e))}
	dir := t.TempDir()
	var rows []audit.Row
	for e := range 24 {
		event := fmt.Sprintf("Gen %d", e)
		if err := os.MkdirAll(filepath.Join(dir, "gen", event), 0o755); err != nil {
			t.Fatal(err)
		}
		body, obj := g.schema(0)
		doc := fmt.Sprintf(`{"$schema": "http://json-schema.org/draft-07/schema#", "$id": "gen/%s/1-0.json", %s}`, event, body)
		if err := os.WriteFile(filepath.Join(dir, "gen", event, "1-0.json"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		for m := range 40 {
			rows = append(rows, corpusRow(fmt.Sprintf("g%d-%02d", e, m),
				fmt.Sprintf(`{"type":"track","event":%q,"properties":%s}`, event, g.properties(obj))))
		}
	}
	reg, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{Plan: "gen"})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return reg, rows
}

type segmentGen struct{ r *rand.Rand }

func (g segmentGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// genObject is a generated object schema, kept to draw messages near it.
type genObject struct {
	props    []genProp
	required map[string]bool
}

// genProp is one property: its schema and the values drawn for it, most
// near its edges (an object's are drawn from obj).
type genProp struct {
	name, schema string
	pool         []string
	obj          *genObject
}

// schema draws an object schema, returning its keywords without braces.
func (g segmentGen) schema(depth int) (string, *genObject) {
	o := &genObject{required: map[string]bool{}}
	var ps, required []string
	for _, name := range []string{"a", "b", "c", "d", "o"} {
		if name == "o" && depth > 0 || g.r.IntN(4) == 0 {
			continue
		}
		p := genProp{name: name}
		if name == "o" {
			var body string
			body, p.obj = g.schema(depth + 1)
			p.schema = "{" + body + "}"
		} else {
			p.schema, p.pool = g.property()
		}
		o.props = append(o.props, p)
		ps = append(ps, fmt.Sprintf("%q: %s", name, p.schema))
		if g.r.IntN(3) == 0 {
			o.required[name] = true
			required = append(required, fmt.Sprintf("%q", name))
		}
	}
	kv := []string{`"type": "object"`, `"properties": {` + strings.Join(ps, ", ") + `}`}
	if len(required) > 0 {
		kv = append(kv, `"required": [`+strings.Join(required, ", ")+`]`)
	}
	if g.r.IntN(3) == 0 {
		kv = append(kv, `"additionalProperties": false`)
	}
	return strings.Join(kv, ", "), o
}

func (g segmentGen) bound() string {
	return g.pick("0", "1", "2", "2.5", "-1", "100", "0.1", "9007199254740993")
}

var (
	genNumbers = []string{"0", "1", "-1", "2", "2.5", "1.0", "1e2", "0.1", "100", "101", "9007199254740993", "1e300", "-0", "3"}
	genStrings = []string{`""`, `"a"`, `"ab"`, `"abc"`, `"é"`, `"日本"`, `"A b"`, `"A"`, `"a\nb"`, `"1"`}
	genArrays  = []string{`["a"]`, `["abc"]`, `[]`, `[1]`, `[{"k":1}]`, `[{"k":-1}]`, `[{"j":1}]`, `["a","b"]`, `[{"k":0},{"k":2}]`}
)

// property draws a property's schema and the values its messages take.
func (g segmentGen) property() (string, []string) {
	switch g.r.IntN(9) {
	case 0, 1:
		kv := []string{`"type": ` + g.pick(`"integer"`, `"number"`, `["integer", "null"]`, `["number", "string"]`)}
		for range g.r.IntN(3) {
			kv = append(kv, fmt.Sprintf("%q: %s", g.pick("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), g.bound()))
		}
		if g.r.IntN(8) == 0 {
			kv = append(kv, `"multipleOf": 2`)
		}
		return "{" + strings.Join(kv, ", ") + "}", genNumbers
	case 2, 3:
		kv := []string{`"type": ` + g.pick(`"string"`, `["string", "null"]`)}
		switch g.r.IntN(5) {
		case 0:
			kv = append(kv, `"enum": ["a", "é", "A b"]`)
		case 1:
			kv = append(kv, `"minLength": 2`)
		case 2:
			kv = append(kv, `"maxLength": 2`)
		case 3:
			kv = append(kv, `"pattern": "^a"`)
		}
		return "{" + strings.Join(kv, ", ") + "}", genStrings
	case 4:
		return `{"type": "boolean"}`, []string{"true", "false"}
	case 5:
		return g.pick(`{"type": "array", "items": {"type": "string", "maxLength": 2}}`,
			`{"type": "array", "minItems": 1, "items": {"type": "object", "required": ["k"], "properties": {"k": {"type": "integer", "minimum": 0}}}}`), genArrays
	case 6:
		return g.pick(`{}`, `{"type": "null"}`, `{"enum": [1, "a"]}`), []string{"null", "1", `"a"`, "true"}
	}
	return g.pick(`{"type": "string", "maxLength": 3}`, `{"type": "integer"}`, `{"type": "number", "maximum": 2.5}`),
		append(append([]string{}, genNumbers...), genStrings...)
}

// value is any property value, of any type.
func (g segmentGen) value() string {
	switch g.r.IntN(4) {
	case 0:
		return g.pick(genNumbers...)
	case 1:
		return g.pick(genStrings...)
	case 2:
		return g.pick("true", "false", "null")
	}
	return g.pick(genArrays...)
}

// properties draws an object near o: most properties present, most
// values from their own pool, now and then another type or an extra key.
func (g segmentGen) properties(o *genObject) string {
	var kv []string
	for _, p := range o.props {
		if !o.required[p.name] && g.r.IntN(4) == 0 || g.r.IntN(20) == 0 {
			continue
		}
		var v string
		switch {
		case p.obj != nil && g.r.IntN(6) > 0:
			v = g.properties(p.obj)
		case p.obj != nil:
			v = g.pick("null", `"flat"`, "{}")
		case g.r.IntN(12) > 0:
			v = g.pick(p.pool...)
		default:
			v = g.value()
		}
		kv = append(kv, fmt.Sprintf("%q: %s", p.name, v))
	}
	if g.r.IntN(20) == 0 {
		kv = append(kv, `"extra": 1`)
	}
	return "{" + strings.Join(kv, ", ") + "}"
}
