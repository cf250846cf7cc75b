package schemas_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
)

// What each schema gives SQL to prove, or why it gives nothing.
func TestPushdownPredicates(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		want         string // the predicate as JSON, or "why: …" (a substring)
	}{
		{"closed object", `{"type":"object","properties":{"n":{"type":"integer","minimum":1}},"required":["n"],"additionalProperties":false}`,
			`{"Types":["object"],"Required":["n"],"Properties":{"n":{"Types":["integer"],"Min":{"Value":1,"Exact":true}}},"Closed":true}`},
		{"strings", `{"properties":{"c":{"enum":["USD","EUR"],"const":"EUR"},"s":{"type":["string","null"],"minLength":2,"maxLength":3}}}`,
			`{"Properties":{"c":{"Types":["string"],"Enum":["EUR"]},"s":{"Types":["string","null"],"MinLength":2,"MaxLength":3}}}`},
		{"exclusive bound", `{"properties":{"p":{"type":"number","exclusiveMaximum":0.5}}}`,
			`{"Properties":{"p":{"Types":["number"],"Max":{"Value":0.5,"Exclusive":true}}}}`},
		{"items", `{"properties":{"a":{"type":"array","items":{"$ref":"#/definitions/x"},"maxItems":3}},"definitions":{"x":{"type":"boolean"}}}`,
			`{"Properties":{"a":{"Types":["array"],"MaxItems":3,"Items":{"Types":["boolean"]}}}}`},
		{"numeric enum", `{"properties":{"n":{"enum":[1,2]}}}`, `{"Properties":{"n":{"Never":true}}}`},
		{"anyOf", `{"properties":{"a":{"anyOf":[{"type":"string"}]}}}`, `why: property "a": a keyword or form the fast path does not prove`},
		{"additional schema", `{"additionalProperties":{"type":"string"}}`, "why: additionalProperties with a schema"},
		{"recursion", `{"properties":{"child":{"$ref":"#"}}}`, `why: property "child": a recursive $ref`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"p/E/1-0.json": {Data: []byte(tc.schema)}}
			reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := reg.ByName("E")
			p, why := s.(audit.PushdownSchema).Pushdown()
			if want, ok := strings.CutPrefix(tc.want, "why: "); ok {
				if p != nil || !strings.Contains(why, want) {
					t.Errorf("got %+v, why %q; want no predicate, because %q", p, why, want)
				}
				return
			}
			var want any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			canonical, _ := json.Marshal(want) // sorted keys, as got's
			got := predJSON(t, p)
			if got != string(canonical) {
				t.Errorf("predicate\n got %s\nwant %s (why %q)", got, tc.want, why)
			}
		})
	}
}

// predJSON drops the zero fields a reader does not need: -1 for "no
// maximum" and empty lists.
func predJSON(t *testing.T, p *audit.Pred) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m any
	_ = json.Unmarshal(b, &m)
	var prune func(v any) any
	prune = func(v any) any {
		obj, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for k, x := range obj {
			switch x := x.(type) {
			case nil, []any:
				if x == nil || len(x.([]any)) == 0 {
					delete(obj, k)
				}
			case float64:
				if x == 0 || (x == -1 && (k == "MaxLength" || k == "MaxItems")) {
					delete(obj, k)
				}
			case bool:
				if !x {
					delete(obj, k)
				}
			case string:
				if x == "" {
					delete(obj, k)
				}
			case map[string]any:
				obj[k] = prune(x)
			}
		}
		return obj
	}
	out, _ := json.Marshal(prune(m))
	return string(out)
}
