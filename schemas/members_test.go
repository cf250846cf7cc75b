package schemas_test

import (
	"testing"

	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/schemas/schematest"
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
	owns := schemas.OwnVerdicts{}
	for _, c := range []struct {
		schema   *schemas.Schema
		instance string
		judged   int    // members judged alone; 0: the whole object, or its own failures
		own      string // the object's own failures, where they are judged alone
	}{
		{named, `{"id": "abc", "kind": "c", "qty": 2}`, 1, ""},
		{named, `{"id": "ABC", "kind": "a", "qty": 0}`, 2, ""},
		{named, `{"id": "abc", "kind": "a", "qty": 1.5, "tags": ["abcd", "x", 7]}`, 2, ""},
		{named, `{"id": "abc", "kind": "a", "addr": {"zip": "1", "x": 1}}`, 1, ""},
		{named, `{"id": "abc", "kind": "a", "addr": {}}`, 1, ""},
		{named, `{"id": "abc", "kind": "a", "never": 1}`, 1, ""},
		{named, `{"id": "abc", "kind": "a", "7": 1}`, 1, ""}, // the keyword is the one before the index: "properties"
		{named, `{"id": "abc", "kind": "a", "a b": 1}`, 1, ""},
		{named, `{"id": "abc", "kind": "a", "a/b~c": {"x": [1]}}`, 1, ""},
		{named, `{"id": "abc", "kind": "a", "choice": true}`, 1, ""},
		{named, `{"id": "abc", "kind": "a", "choice": "x", "note": "n"}`, 1, ""}, // only the library proves it valid
		{named, `{"id": "ab\u0063", "kind": "c", "note": null}`, 2, ""},
		{named, `{"kind": "c", "tags": []}`, 0, ""},                 // required missing, and a member failing
		{named, `{"kind": "a"}`, 0, "1\x00"},                        // required missing, nothing else
		{named, `{"id": "abc", "kind": "c", "extra": {}}`, 0, ""},   // additionalProperties fails
		{named, `{"id": "abc", "kind": "c", "kind": "a"}`, 0, ""},   // the judged key, twice
		{named, `{"id": "abc", "kind": "a", "kind": "c"}`, 0, ""},   // and the other way round
		{named, `{"i\u0064": "abc", "kind": "c"}`, 0, ""},           // a key with escapes
		{odd, "{\"\x80\": 1, \"n\": \"x\"}", 0, ""},                 // a key in invalid UTF-8, which decodes to "\uFFFD"
		{named, `{"id": "abc", "kind": "a", "tags": ["x"]}`, 0, ""}, // valid: nothing to narrow
		{named, `["id"]`, 0, ""},
		{closed, `{"a": "x", "b": "y", "zz": 1, "yy": [1]}`, 0, ""},             // two members not allowed, and a member failing
		{closed, `{"a": "x", "zz": 1, "yy": [1], "zz": 2}`, 0, "0\x00yy\x00zz"}, // the same, with all its members valid
		{closed, `{"zz": 1}`, 0, "1\x00zz"},
		{closed, `{"a": "x", "b": "y"}`, 1, ""},
		{closed, `{"b": 1, "zz": null}`, 0, "1\x00zz"}, // required missing
		{unnamed, `{"a": 1, "toString": 2}`, 1, ""},    // required, named only in required
		{unnamed, `{"a": 1}`, 0, ""},                   // required "toString" missing, and a member failing
		{unnamed, `{"a": "x"}`, 0, "2\x00"},
	} {
		raw, own, ok := c.schema.FailingMembers([]byte(c.instance))
		if len(raw) != c.judged || own != c.own || ok != (c.judged > 0 || c.own != "") {
			t.Errorf("%s: %d members judged, own %q (ok %v), want %d, %q", c.instance, len(raw), own, ok, c.judged, c.own)
			continue
		}
		whole, err := decode(c.instance)
		if err != nil {
			t.Fatal(err)
		}
		if d := schemas.NarrowedDisagrees(c.schema, []byte(c.instance), c.schema.Validate(whole), owns); d != "" {
			t.Errorf("%s: %s", c.instance, d)
		}
	}
}

// An object whose members are all valid and whose own keywords fail (a
// required member missing, a key additionalProperties: false forbids) is
// judged once per own failures, and that verdict is kept for the objects
// after it with the same: over generated schemas, valid objects with their
// keys changed must get the library's failures that their own failures
// name, whatever their members' values.
func TestOwnFailuresNameTheLibrarysVerdict(t *testing.T) {
	judged := 0
	for seed := range uint64(2000) {
		g := schematest.NewProvable(seed)
		schema := g.Schema(0)
		s, err := loadWith(t, []byte(schema), nil)
		if err != nil {
			continue
		}
		owns := schemas.OwnVerdicts{}
		for _, inst := range generatedInstances(g, schema, s, keysChanged) {
			v, err := decode(inst)
			if err != nil {
				continue
			}
			if d := schemas.NarrowedDisagrees(s, []byte(inst), s.Validate(v), owns); d != "" {
				t.Fatalf("schema %s\ninstance %s\n%s", schema, inst, d)
			}
		}
		judged += len(owns)
	}
	if judged < 100 {
		t.Fatalf("only %d own failures judged: the generator no longer makes the objects this test is about", judged)
	}
}
