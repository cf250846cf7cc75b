package schemas_test

import (
	"testing"

	"github.com/eventaudit/eventaudit/schemas"
)

// The library, judging only the members FailingMembers returns, each by
// its property's subschema, reports what it reports of the whole object:
// the same failures, at the same locations, in the same order, each
// value the same. Where the rest of the object is not proven valid (a
// required member missing, a member the schema does not name failing, a
// failing key written twice, with escapes or in invalid UTF-8), the
// object is left whole to the library.
func TestNarrowedFailuresAreTheWholeObjects(t *testing.T) {
	named, err := loadWith(t, []byte(`{"type": "object", "required": ["id", "kind"],
		"definitions": {"pos": {"type": "integer", "minimum": 1}},
		"properties": {
			"id": {"type": "string", "pattern": "^[a-z]+$"},
			"kind": {"enum": ["a", "b"]},
			"qty": {"$ref": "#/definitions/pos"},
			"tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2},
			"addr": {"type": "object", "properties": {"zip": {"type": "string", "minLength": 5}},
				"required": ["zip"], "additionalProperties": false},
			"never": false,
			"7": false,
			"a b": {"type": "string"},
			"a/b~c": {"type": "string"},
			"choice": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
		},
		"additionalProperties": {"type": ["string", "number", "boolean", "null"]}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	closed, err := loadWith(t, []byte(`{"type": "object", "required": ["a"],
		"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "additionalProperties": false}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	odd, err := loadWith(t, []byte(`{"properties": {"\uFFFD": {"type": "string"}, "n": {"type": "integer"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	unnamed, err := loadWith(t, []byte(`{"required": ["a", "toString"], "properties": {"a": {"type": "string"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		schema   *schemas.Schema
		instance string
		judged   int // members judged alone; 0: the whole object
	}{
		{named, `{"id": "abc", "kind": "c", "qty": 2}`, 1},
		{named, `{"id": "ABC", "kind": "a", "qty": 0}`, 2},
		{named, `{"id": "abc", "kind": "a", "qty": 1.5, "tags": ["abcd", "x", 7]}`, 2},
		{named, `{"id": "abc", "kind": "a", "addr": {"zip": "1", "x": 1}}`, 1},
		{named, `{"id": "abc", "kind": "a", "addr": {}}`, 1},
		{named, `{"id": "abc", "kind": "a", "never": 1}`, 1},
		{named, `{"id": "abc", "kind": "a", "7": 1}`, 1}, // the keyword is the one before the index: "properties"
		{named, `{"id": "abc", "kind": "a", "a b": 1}`, 1},
		{named, `{"id": "abc", "kind": "a", "a/b~c": {"x": [1]}}`, 1},
		{named, `{"id": "abc", "kind": "a", "choice": true}`, 1},
		{named, `{"id": "abc", "kind": "a", "choice": "x", "note": "n"}`, 1}, // only the library proves it valid
		{named, `{"id": "ab\u0063", "kind": "c", "note": null}`, 2},
		{named, `{"kind": "c", "tags": []}`, 0},                 // required missing
		{named, `{"kind": "a"}`, 0},                             // required missing, nothing else
		{named, `{"id": "abc", "kind": "c", "extra": {}}`, 0},   // additionalProperties fails
		{named, `{"id": "abc", "kind": "c", "kind": "a"}`, 0},   // the judged key, twice
		{named, `{"id": "abc", "kind": "a", "kind": "c"}`, 0},   // and the other way round
		{named, `{"i\u0064": "abc", "kind": "c"}`, 0},           // a key with escapes
		{odd, "{\"\x80\": 1, \"n\": \"x\"}", 0},                 // a key in invalid UTF-8, which decodes to "\uFFFD"
		{named, `{"id": "abc", "kind": "a", "tags": ["x"]}`, 0}, // valid: nothing to narrow
		{named, `["id"]`, 0},
		{closed, `{"a": "x", "b": "y", "zz": 1, "yy": [1]}`, 0}, // two members not allowed
		{closed, `{"a": "x", "b": "y"}`, 1},
		{closed, `{"b": 1, "zz": null}`, 0},     // required missing
		{unnamed, `{"a": 1, "toString": 2}`, 1}, // required, named only in required
		{unnamed, `{"a": 1}`, 0},
	} {
		raw, ok := c.schema.FailingMembers([]byte(c.instance))
		if len(raw) != c.judged || ok != (c.judged > 0) {
			t.Errorf("%s: %d members judged (ok %v), want %d", c.instance, len(raw), ok, c.judged)
			continue
		}
		whole, err := decode(c.instance)
		if err != nil {
			t.Fatal(err)
		}
		if d := schemas.NarrowedDisagrees(c.schema, []byte(c.instance), c.schema.Validate(whole)); d != "" {
			t.Errorf("%s: %s", c.instance, d)
		}
	}
}
