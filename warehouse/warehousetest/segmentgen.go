package warehousetest

import (
	"fmt"
	"math/rand/v2"
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
	bodies := map[string]string{}
	var rows []audit.Row
	for e := range 24 {
		event := fmt.Sprintf("Gen %d", e)
		body, obj := g.schema(0)
		bodies[event] = body
		for m := range 40 {
			rows = append(rows, corpusRow(fmt.Sprintf("g%d-%02d", e, m),
				fmt.Sprintf(`{"type":"track","event":%q,"properties":%s}`, event, g.properties(obj))))
		}
	}
	return draft7Plan(t, "gen", bodies), rows
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

// numbers, texts and arrays are the values drawn for properties.
func (segmentGen) numbers() []string {
	return []string{"0", "1", "-1", "2", "2.5", "1.0", "1e2", "0.1", "100", "101", "9007199254740993", "1e300", "-0", "3"}
}

func (segmentGen) texts() []string {
	return []string{`""`, `"a"`, `"ab"`, `"abc"`, `"é"`, `"日本"`, `"A b"`, `"A"`, `"a\nb"`, `"1"`}
}

func (segmentGen) arrays() []string {
	return []string{`["a"]`, `["abc"]`, `[]`, `[1]`, `[{"k":1}]`, `[{"k":-1}]`, `[{"j":1}]`, `["a","b"]`, `[{"k":0},{"k":2}]`}
}

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
		return "{" + strings.Join(kv, ", ") + "}", g.numbers()
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
		return "{" + strings.Join(kv, ", ") + "}", g.texts()
	case 4:
		return `{"type": "boolean"}`, []string{"true", "false"}
	case 5:
		return g.pick(`{"type": "array", "items": {"type": "string", "maxLength": 2}}`,
			`{"type": "array", "minItems": 1, "items": {"type": "object", "required": ["k"], "properties": {"k": {"type": "integer", "minimum": 0}}}}`), g.arrays()
	case 6:
		return g.pick(`{}`, `{"type": "null"}`, `{"enum": [1, "a"]}`), []string{"null", "1", `"a"`, "true"}
	}
	return g.pick(`{"type": "string", "maxLength": 3}`, `{"type": "integer"}`, `{"type": "number", "maximum": 2.5}`),
		append(g.numbers(), g.texts()...)
}

// value is any property value, of any type.
func (g segmentGen) value() string {
	switch g.r.IntN(4) {
	case 0:
		return g.pick(g.numbers()...)
	case 1:
		return g.pick(g.texts()...)
	case 2:
		return g.pick("true", "false", "null")
	}
	return g.pick(g.arrays()...)
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
