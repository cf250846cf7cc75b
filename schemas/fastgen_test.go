package schemas_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// gen builds random schemas from the keywords the fast path implements (and
// a few it does not), and random instances near their edges.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) num() string {
	return g.pick("0", "1", "-1", "2", "2.5", "1.0", "1e2", "0.1", "0.30000000000000004", "9007199254740993", "-0", "3", "100")
}

func (g gen) str() string {
	return g.pick(`""`, `"a"`, `"ab"`, `"USD"`, `"usd"`, `"é"`, `"a\u0062"`, `"aaaa"`, `"\ud83d\ude00"`, `"x y"`)
}

func (g gen) schema(depth int) string {
	if depth > 2 || g.r.IntN(6) == 0 {
		return g.pick(`true`, `{}`, `{"type":"string"}`, `{"type":"integer"}`, `false`)
	}
	var kv []string
	add := func(k, v string) { kv = append(kv, fmt.Sprintf("%q:%s", k, v)) }
	if g.r.IntN(2) == 0 {
		add("type", g.pick(`"object"`, `"string"`, `"number"`, `"integer"`, `"array"`, `"boolean"`, `"null"`, `["string","null"]`, `["integer","string"]`))
	}
	for range g.r.IntN(4) {
		switch g.r.IntN(21) {
		case 0:
			add("enum", fmt.Sprintf("[%s,%s,%s]", g.str(), g.str(), g.pick("1", "null", `"b"`)))
		case 1:
			add("const", g.pick(g.str(), g.num(), "true"))
		case 2:
			add(g.pick("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), g.num())
		case 3:
			add(g.pick("minLength", "maxLength", "minItems", "maxItems"), g.pick("0", "1", "2", "2.0"))
		case 4:
			add("pattern", g.pick(`"^a"`, `"b$"`, `"^[A-Z]+$"`, `"."`))
		case 5:
			add("required", g.pick(`["a"]`, `["a","b"]`, `[]`, `["a","a"]`))
		case 6, 7:
			add("properties", fmt.Sprintf(`{"a":%s,"b":%s}`, g.schema(depth+1), g.schema(depth+1)))
		case 8:
			add("additionalProperties", g.pick("false", "true", g.schema(depth+1)))
		case 9:
			add("items", g.schema(depth+1))
		case 10:
			add("$ref", `"#/definitions/d"`)
			add("definitions", fmt.Sprintf(`{"d":%s}`, g.schema(depth+1)))
		case 11:
			add(g.pick("anyOf", "allOf", "oneOf"), fmt.Sprintf("[%s,%s]", g.schema(depth+1), g.schema(depth+1)))
		case 12:
			add("not", g.schema(depth+1))
		case 13:
			add("multipleOf", g.pick("2", "0.5"))
		case 14:
			add("uniqueItems", g.pick("true", "false"))
		case 15:
			add("format", `"email"`)
		case 16: // a pointer $ref into a nested $id's resource
			add("$ref", `"#/definitions/n/definitions/b"`)
			add("definitions", fmt.Sprintf(`{"n":{"$id":"nested.json","definitions":{"b":{"$ref":"#/definitions/c"},"c":%s}},"c":%s}`,
				g.schema(depth+1), g.schema(depth+1)))
		case 17: // escaped pointers
			add("$ref", g.pick(`"#/definitions/a%2Fb"`, `"#/definitions/a~1b"`, `"#/definitions/a%25b"`, `"#/definitions/a~0b"`))
			add("definitions", fmt.Sprintf(`{"a/b":%s,"a%%b":%s,"a~b":%s,"a":{"b":%s}}`,
				g.schema(depth+1), g.schema(depth+1), g.schema(depth+1), g.schema(depth+1)))
		case 18: // the library's extension keyword
			add("regexProperties", "true")
		case 19: // annotations in both
			add("contentEncoding", `"base64"`)
			add("contentMediaType", `"application/json"`)
		case 20: // another file, possibly of a later draft
			add("$ref", `"../Other/1-0.json"`)
		}
	}
	return "{" + strings.Join(kv, ",") + "}"
}

func (g gen) instance(depth int) string {
	switch g.r.IntN(7) {
	case 0:
		return g.num()
	case 1:
		return g.str()
	case 2:
		return g.pick("true", "false", "null")
	case 3, 4:
		if depth > 2 {
			return "{}"
		}
		var kv []string
		for range g.r.IntN(4) {
			kv = append(kv, fmt.Sprintf("%s:%s", g.pick(`"a"`, `"b"`, `"c"`, `"\u0061"`, `"["`), g.instance(depth+1)))
		}
		return "{" + strings.Join(kv, ",") + "}"
	default:
		if depth > 2 {
			return "[]"
		}
		var xs []string
		for range g.r.IntN(4) {
			xs = append(xs, g.instance(depth+1))
		}
		return "[" + strings.Join(xs, ",") + "]"
	}
}

// other is the file case 20 refers to: draft 7, or a later draft with its
// own keywords and $ref siblings, which draft 7 would ignore.
func (g gen) other() string {
	body := g.schema(1)
	switch g.r.IntN(3) {
	case 0:
		return body
	case 1:
		return `{"$schema":"https://json-schema.org/draft/2019-09/schema","$ref":"#/$defs/s","maxLength":2,` +
			`"dependentRequired":{"a":["b"]},"$defs":{"s":` + body + `}}`
	}
	return `{"$schema":"https://json-schema.org/draft/2020-12/schema","prefixItems":[{"type":"string"}],` +
		`"unevaluatedProperties":false,"properties":{"a":` + body + `}}`
}

func FuzzFastPathStructured(f *testing.F) {
	for seed := range uint64(64) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		g := gen{rand.New(rand.NewPCG(seed, seed^0xabcdef))}
		schema, other := g.schema(0), g.other()
		if !json.Valid([]byte(schema)) || !json.Valid([]byte(other)) {
			t.Fatalf("generator made invalid JSON: %s / %s", schema, other)
		}
		s, err := loadWith(t, []byte(schema), map[string]string{"suite/Other/1-0.json": other})
		if err != nil {
			return
		}
		for range 20 {
			inst := g.instance(0)
			if !s.ValidJSON([]byte(inst)) {
				continue
			}
			v, err := decode(inst)
			if err != nil {
				t.Fatalf("%s: %v", inst, err)
			}
			if fails := s.Validate(v); len(fails) > 0 {
				t.Fatalf("schema %s\nother file %s\ninstance %s\nfast path: valid; library: %v", schema, other, inst, fails)
			}
		}
	})
}
