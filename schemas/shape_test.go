package schemas

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/google/go-cmp/cmp"
)

func TestShape(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("p/Cart Viewed/1-0.json", `{
  "$schema": "http://json-schema.org/draft-07/schema#", "$id": "p/Cart Viewed/1-0.json",
  "self": {"name": "Cart Viewed", "version": "1-0"},
  "definitions": {"money": {"type": "number", "minimum": 0}, "node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node"}}}},
  "type": "object", "additionalProperties": false,
  "allOf": [{"properties": {"coupon": {"type": ["string", "null"], "maxLength": 600}}}],
  "properties": {
    "total": {"$ref": "#/definitions/money"},
    "items": {"type": "array"},
    "product": {"type": "object", "properties": {"sku": {"type": "string", "maxLength": 40}}},
    "chain": {"$ref": "#/definitions/node"}
  }
}`)
	reg, err := Load(context.Background(), os.DirFS(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.ByName("Cart Viewed")
	got := s.(audit.Shaper).Shape()
	open := func(types ...string) *audit.Shape { return &audit.Shape{Types: types, MaxLength: -1} }
	want := &audit.Shape{Types: []string{"object"}, Closed: true, MaxLength: -1, Properties: map[string]*audit.Shape{
		"coupon":  {Types: []string{"string", "null"}, MaxLength: 600},
		"total":   open("number"),
		"items":   open("array"),
		"product": {Types: []string{"object"}, MaxLength: -1, Properties: map[string]*audit.Shape{"sku": {Types: []string{"string"}, MaxLength: 40}}},
	}}
	chain := got.Properties["chain"]
	delete(got.Properties, "chain")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shape (-want +got):\n%s", diff)
	}
	// A schema that refers to itself ends in an open object.
	depth := 0
	for n := chain; n != nil && n.Properties != nil; n = n.Properties["next"] {
		depth++
	}
	if depth == 0 || depth > maxShapeDepth {
		t.Errorf("recursive schema unrolled %d levels", depth)
	}
	if names := reg.EventNames(); len(names) != 1 || names[0] != "Cart Viewed" {
		t.Errorf("EventNames = %v", names)
	}
}
