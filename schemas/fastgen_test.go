package schemas_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/schemas/schematest"
)

func FuzzFastPathStructured(f *testing.F) {
	for seed := range uint64(64) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		g := schematest.New(seed)
		schema, other := g.Schema(0), g.Other()
		if !json.Valid([]byte(schema)) || !json.Valid([]byte(other)) {
			t.Fatalf("generator made invalid JSON: %s / %s", schema, other)
		}
		s, err := loadWith(t, []byte(schema), map[string]string{"suite/Other/1-0.json": other})
		if err != nil {
			return
		}
		// Each valid object with one member changed: where the rest stays
		// valid, the object is narrowed. With its keys changed, valid
		// objects of other values share their own failures (a required
		// member missing, a key not allowed), whose verdict the audit
		// keeps.
		insts := generatedInstances(g, schema, s, oneMemberChanged, keysChanged)
		owns := schemas.OwnVerdicts{}
		for _, inst := range insts {
			v, err := decode(inst)
			if err != nil {
				if s.ValidJSON([]byte(inst)) {
					t.Fatalf("%s: %v", inst, err)
				}
				continue
			}
			fails := s.Validate(v)
			if d := schemas.NarrowedDisagrees(s, []byte(inst), fails, owns); d != "" {
				t.Fatalf("schema %s\nother file %s\ninstance %s\n%s", schema, other, inst, d)
			}
			if d := schemas.ProvedInPlaceDisagrees(s, []byte(inst)); d != "" {
				t.Fatalf("schema %s\nother file %s\ninstance %s\n%s", schema, other, inst, d)
			}
			if s.ValidJSON([]byte(inst)) && len(fails) > 0 {
				t.Fatalf("schema %s\nother file %s\ninstance %s\nfast path: valid; library: %v", schema, other, inst, fails)
			}
		}
	})
}

// generatedInstances are instances of a generated schema: at its edges,
// where the fast path and the library would part, then random ones, then
// each variant of each one the fast path proves valid.
func generatedInstances(g schematest.Gen, schema string, s *schemas.Schema, variants ...func(inst string) []string) []string {
	insts := g.Edges(schema, 20)
	for range 20 {
		insts = append(insts, g.Instance(0))
	}
	for _, inst := range insts {
		if s.ValidJSON([]byte(inst)) {
			for _, vary := range variants {
				insts = append(insts, vary(inst)...)
			}
		}
	}
	return insts
}

// oneMemberChanged is the object inst with one member's value replaced by
// a value of each JSON type in turn, for each member; nothing for another
// value.
func oneMemberChanged(inst string) []string {
	dec := json.NewDecoder(strings.NewReader(inst))
	dec.UseNumber()
	var obj map[string]any
	if dec.Decode(&obj) != nil {
		return nil
	}
	var out []string
	for key, was := range obj {
		for _, v := range []string{`1`, `-2.5`, `"x"`, `""`, `true`, `null`, `[]`, `[1,"a"]`, `{}`, `{"a":1}`} {
			obj[key] = json.RawMessage(v)
			if b, err := json.Marshal(obj); err == nil {
				out = append(out, string(b))
			}
		}
		obj[key] = was
	}
	return out
}

// keysChanged is the object inst without each of its members in turn, and
// with members "zz", then "zy" too, added, with and without each; nothing
// for another value.
func keysChanged(inst string) []string {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(inst), &obj) != nil || obj == nil {
		return nil
	}
	var out []string
	add := func() {
		if b, err := json.Marshal(obj); err == nil {
			out = append(out, string(b))
		}
	}
	for _, extra := range []string{"", "zz", "zy"} {
		if extra != "" {
			if _, ok := obj[extra]; ok {
				break
			}
			obj[extra] = json.RawMessage(`1`)
			add()
		}
		for key, was := range obj {
			if key == "zz" || key == "zy" {
				continue
			}
			delete(obj, key)
			add()
			obj[key] = was
		}
	}
	return out
}
