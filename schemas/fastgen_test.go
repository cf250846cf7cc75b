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
		switch g.r.IntN(16) {
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
			kv = append(kv, fmt.Sprintf("%s:%s", g.pick(`"a"`, `"b"`, `"c"`, `"\u0061"`), g.instance(depth+1)))
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

func FuzzFastPathStructured(f *testing.F) {
	for seed := range uint64(64) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		g := gen{rand.New(rand.NewPCG(seed, seed^0xabcdef))}
		schema := g.schema(0)
		if !json.Valid([]byte(schema)) {
			t.Fatalf("generator made invalid JSON: %s", schema)
		}
		s, err := loadOne(t, []byte(schema))
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
				t.Fatalf("schema %s\ninstance %s\nfast path: valid; library: %v", schema, inst, fails)
			}
		}
	})
}
