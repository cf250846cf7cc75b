package schemas

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// prepareSchema rewrites a schema document, in place, into the form the
// library then compiles with the meaning JSON Schema gives it:
//   - every pattern and patternProperties key becomes its RE2 translation
//     (ecmaToRE2); patterns maps each translation, as the library quotes it
//     in a message, back to the pattern the plan wrote;
//   - "enum": [] becomes a schema that nothing satisfies, which it is, where
//     jsonschema/v5 would read it under 2019-09 and later as "anything";
//   - under draft 4, where 1.0 is a number but not an integer, an integer
//     type gets a marker that draft4Integer checks: jsonschema/v5 counts
//     1.0 an integer in every draft;
//   - before draft 2019-09, "format" is dropped unless formats are
//     asserted: jsonschema/v5 asserts it there whatever it is told, and
//     eventaudit reads it as the annotation Python's jsonschema does. Later
//     drafts keep it, so a meta-schema's format-assertion vocabulary works.
//
// Only schema positions are walked: the values of const, enum, default,
// examples and Iglu's self block are data, and a property that happens to
// be named "pattern" stays as written.
func prepareSchema(v any, p *preparation) error {
	m, ok := v.(map[string]any)
	if !ok {
		if a, ok := v.([]any); ok {
			for _, child := range a {
				if err := prepareSchema(child, p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if e, ok := m["enum"].([]any); ok && len(e) == 0 {
		delete(m, "enum")
		allOf, _ := m["allOf"].([]any)
		m["allOf"] = append(allOf, map[string]any{"not": map[string]any{}})
	}
	if p.draft4 && integerOnly(m["type"]) {
		m[draft4IntegerKey] = true
	}
	if _, isString := m["format"].(string); isString && p.dropFormat {
		delete(m, "format")
	}
	for k, child := range m {
		switch k {
		case "const", "enum", "default", "examples", "self":
			// Data, not schemas (self is Iglu's description of the file).
		case "pattern":
			pat, ok := child.(string)
			if !ok {
				continue
			}
			re2, err := translatePattern(pat, p.patterns)
			if err != nil {
				return err
			}
			m[k] = re2
		case "patternProperties":
			props, ok := child.(map[string]any)
			if !ok {
				continue
			}
			out := make(map[string]any, len(props))
			for pat, sub := range props {
				re2, err := translatePattern(pat, p.patterns)
				if err != nil {
					return err
				}
				if err := prepareSchema(sub, p); err != nil {
					return err
				}
				out[re2] = sub
			}
			m[k] = out
		case "properties", "definitions", "$defs", "dependentSchemas", "dependencies":
			// Maps of schemas: their keys are names, not keywords.
			if subs, ok := child.(map[string]any); ok {
				for _, sub := range subs {
					if err := prepareSchema(sub, p); err != nil {
						return err
					}
				}
			}
		default:
			if err := prepareSchema(child, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func translatePattern(p string, patterns map[string]string) (string, error) {
	re2, err := ecmaToRE2(p)
	if err != nil {
		return "", fmt.Errorf("pattern %s %w", quotePattern(p), err)
	}
	if re2 != p {
		patterns[quotePattern(re2)] = quotePattern(p)
	}
	return re2, nil
}

// quotePattern quotes a pattern as jsonschema/v5 does in its messages.
func quotePattern(s string) string {
	s = fmt.Sprintf("%q", s)
	s = strings.ReplaceAll(s, `\"`, `"`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s[1:len(s)-1] + "'"
}

// preparation is what prepareSchema needs to know of one file.
type preparation struct {
	// patterns collects each translated pattern, quoted, to the original.
	patterns   map[string]string
	draft4     bool
	dropFormat bool
}

// draft4IntegerKey marks a draft-4 schema whose type admits integers but
// not numbers.
const draft4IntegerKey = "$eventaudit:draft4-integer"

func integerOnly(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "integer"
	case []any:
		return slices.Contains(t, any("integer")) && !slices.Contains(t, any("number"))
	}
	return false
}

// draft4Integer rejects, where draft4IntegerKey marks the schema, a number
// written with a fraction or an exponent: draft 4 calls 1.0 a number, as
// Python's jsonschema and the test suite do.
type draft4Integer struct{}

func (draft4Integer) Compile(_ jsonschema.CompilerContext, m map[string]any) (jsonschema.ExtSchema, error) {
	if m[draft4IntegerKey] == true {
		return draft4Integer{}, nil
	}
	return nil, nil
}

func (draft4Integer) Validate(ctx jsonschema.ValidationContext, v any) error {
	if n, ok := v.(json.Number); ok && strings.ContainsAny(string(n), ".eE") {
		return ctx.Error("type", "expected integer, but got number")
	}
	return nil
}

// draftOf names the draft a document is read under: its $schema, or that of
// the meta-schema it names, followed through the loaded files (meta finds a
// document by URL), or draft 7 when it says nothing.
func draftOf(doc map[string]any, meta func(url string) (map[string]any, bool)) string {
	for range 8 {
		s, _ := doc["$schema"].(string)
		s = strings.TrimSuffix(s, "#")
		s = strings.Replace(s, "https://", "http://", 1)
		switch s {
		case "":
			return "draft-07"
		case "http://json-schema.org/draft-04/schema", "http://json-schema.org/draft-06/schema",
			"http://json-schema.org/draft-07/schema":
			return strings.TrimSuffix(strings.TrimPrefix(s, "http://json-schema.org/"), "/schema")
		case "http://json-schema.org/draft/2019-09/schema", "http://json-schema.org/draft/2020-12/schema":
			return strings.TrimSuffix(strings.TrimPrefix(s, "http://json-schema.org/draft/"), "/schema")
		}
		next, ok := meta(strings.TrimSuffix(doc["$schema"].(string), "#"))
		if !ok {
			return ""
		}
		doc = next
	}
	return ""
}

// beforeDraft2019 reports whether a draft name is 4, 6 or 7.
func beforeDraft2019(draft string) bool {
	return strings.HasPrefix(draft, "draft-0")
}
