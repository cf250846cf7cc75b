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

// A tree whose nodes refer back to the node schema three times grew a
// Shape of 3^16 nodes, and an audit of Segment's layout or its drift report
// with it, before the Shape stopped at a cycle.
func TestShapeOfABranchingRecursiveSchemaStaysSmall(t *testing.T) {
	dir := t.TempDir()
	doc := `{"$schema": "http://json-schema.org/draft-07/schema#", "$id": "p/Tree Saved/1-0.json",
  "type": "object", "properties": {"value": {"type": "integer"},
    "left": {"$ref": "#"}, "right": {"$ref": "#"}, "up": {"$ref": "#"}}}`
	if err := os.MkdirAll(filepath.Join(dir, "p", "Tree Saved"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p", "Tree Saved", "1-0.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := Load(context.Background(), os.DirFS(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.ByName("Tree Saved")
	got := s.(audit.Shaper).Shape()
	var count func(*audit.Shape) int
	count = func(sh *audit.Shape) int {
		n := 1
		for _, p := range sh.Properties {
			n += count(p)
		}
		return n
	}
	if n := count(got); n > 100 {
		t.Errorf("the shape has %d nodes", n)
	}
	if v := got.Properties["value"]; v == nil || !v.Allows("integer") || got.Properties["left"] == nil {
		t.Errorf("the shape lost the tree's own properties: %+v", got.Properties)
	}
}
