package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Edges is n instances of schema drawn from its edges: each bound, just
// inside and outside it, written as an integer and as a fraction; strings
// at each length limit, in one-byte, two-byte and astral characters (a
// code point, two UTF-16 units); arrays at each count; each enum member
// and a near miss; objects with and without each required member, with
// and without a member the schema does not name. Random instances rarely
// land on an edge, and an edge is where two checkers disagree.
func (g Gen) Edges(schema string, n int) []string {
	dec := json.NewDecoder(strings.NewReader(schema))
	dec.UseNumber()
	var root any
	if dec.Decode(&root) != nil {
		return nil
	}
	e := edger{g: g, root: root}
	vals := e.values(root, 0)
	out := make([]string, n)
	for i := range out {
		out[i] = vals[g.r.IntN(len(vals))]
	}
	return out
}

type edger struct {
	g    Gen
	root any
}

// most is how many values a subschema offers its parent: enough for each
// edge, few enough that nesting does not multiply them.
const most = 24

func (e edger) values(s any, depth int) []string {
	m, ok := s.(map[string]any)
	if !ok || depth > 4 {
		return []string{`1`, `"x"`, `null`, `{}`}
	}
	if ref, ok := m["$ref"].(string); ok {
		// Draft 7 ignores a $ref's siblings; only local definitions are
		// followed here.
		if d, ok := e.definition(ref); ok {
			return e.values(d, depth+1)
		}
		return []string{`1`, `"x"`, `{}`}
	}
	var out []string
	add := func(vs ...string) { out = append(out, vs...) }
	for _, t := range types(m) {
		add(map[string][]string{"string": {`"a"`, `""`}, "integer": {`1`, `-1`, `1.0`}, "number": {`2.5`, `0`},
			"boolean": {`true`}, "null": {`null`}, "array": {`[]`}, "object": {`{}`}}[t]...)
	}
	for _, k := range []string{"enum", "const"} {
		if v, ok := m[k]; ok {
			members := []any{v}
			if k == "enum" {
				members, _ = v.([]any)
			}
			for _, x := range members {
				add(jsonText(x))
				if str, ok := x.(string); ok {
					add(jsonText(strings.ToUpper(str)), jsonText(str+"a"))
				}
				if num, ok := x.(json.Number); ok {
					add(numbersNear(string(num))...)
				}
			}
		}
	}
	for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
		if num, ok := m[k].(json.Number); ok {
			add(numbersNear(string(num))...)
		}
	}
	for _, k := range []string{"minLength", "maxLength"} {
		if l, ok := count(m[k]); ok {
			for _, n := range []int{l - 1, l, l + 1} {
				if n >= 0 {
					add(jsonText(strings.Repeat("a", n)), jsonText(strings.Repeat("é", n)), jsonText(strings.Repeat("😀", n)))
				}
			}
		}
	}
	if _, ok := m["pattern"]; ok {
		add(`"a"`, `"ab"`, `"b"`, `"ABC"`, `"aB"`, `""`, `"é"`, `"a\nb"`)
	}
	if items, ok := m["items"]; ok || m["minItems"] != nil || m["maxItems"] != nil {
		elems := []string{`1`, `"x"`}
		if ok {
			elems = e.values(items, depth+1)
		}
		counts := []int{0, 1, 2}
		for _, k := range []string{"minItems", "maxItems"} {
			if l, ok := count(m[k]); ok {
				counts = append(counts, l-1, l, l+1)
			}
		}
		for _, c := range counts {
			if c >= 0 && c <= 4 {
				add(e.array(elems, c))
			}
		}
	}
	if props, ok := m["properties"].(map[string]any); ok || m["required"] != nil || m["additionalProperties"] != nil {
		for range 6 {
			add(e.object(m, props, depth))
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		out = []string{`1`, `"x"`, `null`, `{}`}
	}
	for len(out) > most {
		i := e.g.r.IntN(len(out))
		out = slices.Delete(out, i, i+1)
	}
	return out
}

// object is one object at the edges of m: each named member present or
// not (a required one more often), with a value at its own edges, and
// sometimes a member m does not name.
func (e edger) object(m, props map[string]any, depth int) string {
	required := map[string]bool{}
	if rs, ok := m["required"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	named := map[string]bool{}
	for k := range props {
		named[k] = true
	}
	for k := range required {
		named[k] = true
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(named)) {
		keep := 3
		if required[k] {
			keep = 5
		}
		if e.g.r.IntN(6) >= keep {
			continue
		}
		vals := e.values(props[k], depth+1)
		kv = append(kv, jsonText(k)+":"+vals[e.g.r.IntN(len(vals))])
	}
	if e.g.r.IntN(3) == 0 {
		vals := e.values(m["additionalProperties"], depth+1)
		kv = append(kv, jsonText([]string{"c", "z", "a"}[e.g.r.IntN(3)])+":"+vals[e.g.r.IntN(len(vals))])
	}
	return "{" + strings.Join(kv, ",") + "}"
}

func (e edger) array(elems []string, n int) string {
	xs := make([]string, n)
	for i := range xs {
		xs[i] = elems[e.g.r.IntN(len(elems))]
	}
	return "[" + strings.Join(xs, ",") + "]"
}

// definition resolves a local "#/definitions/name".
func (e edger) definition(ref string) (any, bool) {
	name, ok := strings.CutPrefix(ref, "#/definitions/")
	if !ok || strings.ContainsAny(name, "/~%") {
		return nil, false
	}
	defs, _ := e.root.(map[string]any)["definitions"].(map[string]any)
	d, ok := defs[name]
	return d, ok
}

// types are the schema's types, or those its keywords suggest.
func types(m map[string]any) []string {
	switch t := m["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return []string{"string", "integer", "number", "object", "array", "null", "boolean"}
}

// numbersNear are a bound and the numbers around it, in the spellings
// JSON allows for each: 1, 1.0, 1e0; one and a half either side.
func numbersNear(num string) []string {
	out := []string{num}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) {
		return out
	}
	for _, d := range []float64{0, -1, 1, -0.5, 0.5} {
		x := f + d
		s := strconv.FormatFloat(x, 'f', -1, 64)
		out = append(out, s)
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			out = append(out, s+".0", fmt.Sprintf("%se0", s))
		}
	}
	return out
}

// count reads minLength and its kin, which a schema may write as 2.0.
func count(v any) (int, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := num.Float64()
	if err != nil || f != math.Trunc(f) || f < 0 || f > 64 {
		return 0, false
	}
	return int(f), true
}

func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return `null`
	}
	return strings.TrimSuffix(b.String(), "\n")
}
