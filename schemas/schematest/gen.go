// Package schematest generates random JSON Schemas and instances, for the
// differential tests of every path that calls a message valid without the
// library: the fast path (schemas) and pushdown's SQL (warehouse).
package schematest

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Gen builds random schemas from the keywords the fast path and pushdown
// implement (and a few they do not), and random instances near their
// edges.
type Gen struct {
	r *rand.Rand
	// keywords is how many of Schema's keyword cases it draws from: the
	// first eleven are those pushdown proves in SQL.
	keywords int
}

// New is the generator of one seed: the same seed, the same schemas and
// instances, so a fuzz corpus's seeds keep their meaning.
func New(seed uint64) Gen { return Gen{rand.New(rand.NewPCG(seed, seed^0xabcdef)), 21} }

// NewProvable is New's generator with only the keywords pushdown proves in
// SQL (type, enum, const, the bounds, lengths and counts, pattern,
// required, properties, additionalProperties, items, a local $ref), so that
// most schemas are proven and their edges are where SQL and Go must agree.
func NewProvable(seed uint64) Gen { return Gen{rand.New(rand.NewPCG(seed, seed^0xabcdef)), 11} }

// IntN is the generator's own random number in [0, n).
func (g Gen) IntN(n int) int { return g.r.IntN(n) }

func (g Gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g Gen) num() string {
	return g.pick("0", "1", "-1", "2", "2.5", "1.0", "1e2", "0.1", "0.30000000000000004", "9007199254740993", "-0", "3", "100")
}

func (g Gen) str() string {
	return g.pick(`""`, `"a"`, `"ab"`, `"USD"`, `"usd"`, `"é"`, `"a\u0062"`, `"aaaa"`, `"\ud83d\ude00"`, `"x y"`)
}

// Schema is a random schema; depth counts the levels above it.
func (g Gen) Schema(depth int) string {
	if depth > 2 || g.r.IntN(6) == 0 {
		return g.pick(`true`, `{}`, `{"type":"string"}`, `{"type":"integer"}`, `false`)
	}
	var kv []string
	add := func(k, v string) { kv = append(kv, fmt.Sprintf("%q:%s", k, v)) }
	if g.r.IntN(2) == 0 {
		add("type", g.pick(`"object"`, `"string"`, `"number"`, `"integer"`, `"array"`, `"boolean"`, `"null"`, `["string","null"]`, `["integer","string"]`))
	}
	for range g.r.IntN(4) {
		switch g.r.IntN(g.keywords) {
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
			add("properties", fmt.Sprintf(`{"a":%s,"b":%s}`, g.Schema(depth+1), g.Schema(depth+1)))
		case 8:
			add("additionalProperties", g.pick("false", "true", g.Schema(depth+1)))
		case 9:
			add("items", g.Schema(depth+1))
		case 10:
			add("$ref", `"#/definitions/d"`)
			add("definitions", fmt.Sprintf(`{"d":%s}`, g.Schema(depth+1)))
		case 11:
			add(g.pick("anyOf", "allOf", "oneOf"), fmt.Sprintf("[%s,%s]", g.Schema(depth+1), g.Schema(depth+1)))
		case 12:
			add("not", g.Schema(depth+1))
		case 13:
			add("multipleOf", g.pick("2", "0.5"))
		case 14:
			add("uniqueItems", g.pick("true", "false"))
		case 15:
			add("format", `"email"`)
		case 16: // a pointer $ref into a nested $id's resource
			add("$ref", `"#/definitions/n/definitions/b"`)
			add("definitions", fmt.Sprintf(`{"n":{"$id":"nested.json","definitions":{"b":{"$ref":"#/definitions/c"},"c":%s}},"c":%s}`,
				g.Schema(depth+1), g.Schema(depth+1)))
		case 17: // escaped pointers
			add("$ref", g.pick(`"#/definitions/a%2Fb"`, `"#/definitions/a~1b"`, `"#/definitions/a%25b"`, `"#/definitions/a~0b"`))
			add("definitions", fmt.Sprintf(`{"a/b":%s,"a%%b":%s,"a~b":%s,"a":{"b":%s}}`,
				g.Schema(depth+1), g.Schema(depth+1), g.Schema(depth+1), g.Schema(depth+1)))
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

// Instance is a random JSON value; depth counts the levels above it.
func (g Gen) Instance(depth int) string {
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
			kv = append(kv, fmt.Sprintf("%s:%s", g.pick(`"a"`, `"b"`, `"c"`, `"\u0061"`, `"["`), g.Instance(depth+1)))
		}
		return "{" + strings.Join(kv, ",") + "}"
	default:
		if depth > 2 {
			return "[]"
		}
		var xs []string
		for range g.r.IntN(4) {
			xs = append(xs, g.Instance(depth+1))
		}
		return "[" + strings.Join(xs, ",") + "]"
	}
}

// Other is the file a schema's "../Other/1-0.json" refers to: draft 7, or a later draft with its
// own keywords and $ref siblings, which draft 7 would ignore.
func (g Gen) Other() string {
	body := g.Schema(1)
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
