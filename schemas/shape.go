package schemas

import (
	"slices"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Shape implements audit.Shaper from the compiled schema: $refs followed,
// allOf branches merged.
func (s *Schema) Shape() *audit.Shape { return shapeOf(s.compiled, 0) }

// maxShapeDepth stops recursive schemas; deeper objects are left open.
const maxShapeDepth = 16

func shapeOf(c *jsonschema.Schema, depth int) *audit.Shape {
	out := &audit.Shape{MaxLength: -1}
	if c == nil || depth > maxShapeDepth {
		return out
	}
	merge(out, c, depth)
	return out
}

func merge(out *audit.Shape, c *jsonschema.Schema, depth int) {
	if c == nil || depth > maxShapeDepth {
		return
	}
	if c.Ref != nil {
		// A $ref counts as a level, so a schema that refers to itself ends.
		merge(out, c.Ref, depth+1)
	}
	for _, sub := range c.AllOf {
		merge(out, sub, depth)
	}
	if len(c.Types) > 0 {
		if len(out.Types) == 0 {
			out.Types = slices.Clone(c.Types)
		} else {
			// allOf narrows: keep the types every branch allows.
			out.Types = slices.DeleteFunc(out.Types, func(t string) bool { return !slices.Contains(c.Types, t) })
		}
	}
	if c.MaxLength >= 0 && (out.MaxLength < 0 || c.MaxLength < out.MaxLength) {
		out.MaxLength = c.MaxLength
	}
	if b, ok := c.AdditionalProperties.(bool); ok && !b {
		out.Closed = true
	}
	// Draft 2020-12 names one schema for every item items; earlier drafts
	// named it items when it is not an array of schemas.
	items := c.Items2020
	if sub, ok := c.Items.(*jsonschema.Schema); ok && items == nil {
		items = sub
	}
	if items != nil {
		if out.Items == nil {
			out.Items = shapeOf(items, depth+1)
		} else {
			merge(out.Items, items, depth+1)
		}
	}
	for name, p := range c.Properties {
		if out.Properties == nil {
			out.Properties = map[string]*audit.Shape{}
		}
		if prev, ok := out.Properties[name]; ok {
			merge(prev, p, depth+1)
			continue
		}
		out.Properties[name] = shapeOf(p, depth+1)
	}
}

// EventNames lists the event names in the plan in scope, sorted.
func (r *Registry) EventNames() []string {
	out := make([]string, 0, len(r.byName))
	for name := range r.byName {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
