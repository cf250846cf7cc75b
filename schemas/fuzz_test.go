package schemas_test

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/eventaudit/eventaudit/schemas"
)

// FuzzLoad: no schema file may panic or hang the loader, and a schema that
// loads must validate any instance without panicking.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`,
		`{"$ref":"../B/1-0.json"}`,
		`{"$ref":"#"}`,
		`{"items":{"$ref":"#/items"}}`,
		`{"type":12}`, `{"$schema":"x"}`, `[]`, `{`, `{"enum":[]}`, `{"pattern":"("}`,
		`{"allOf":[{"$ref":"shop/B/1-0.json"}],"self":{"name":"A","version":"x-y"}}`,
	} {
		f.Add(s, `{"a":1,"b":[null,true,"x"]}`)
	}
	f.Fuzz(func(t *testing.T, schema, instance string) {
		fsys := fstest.MapFS{
			"shop/A/1-0.json": {Data: []byte(schema)},
			"shop/B/1-0.json": {Data: []byte(`{"type":"object"}`)},
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reg, _ := schemas.Load(ctx, fsys, schemas.Options{})
		if reg == nil {
			return
		}
		if s, ok := reg.ByID("shop/A/1-0.json"); ok {
			v, err := decode(instance)
			if err == nil {
				s.Validate(v)
			}
		}
	})
}
