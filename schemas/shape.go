package schemas

import (
	"maps"
	"slices"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Shape implements audit.Shaper from the compiled schema: $refs followed,
// allOf branches merged.
func (s *Schema) Shape() *audit.Shape {
	b := &shaper{budget: maxShapeNodes}
	return b.shapeOf(s.compiled, 0)
}

// maxShapeDepth stops deep schemas, and a schema met again on the way down
// (a $ref cycle) is not followed: deeper objects are left open. Without
// that, a schema whose properties refer back to it twice or more grew as
// many nodes as 2^16 or more, and the audit with it.
const maxShapeDepth = 16

// maxShapeNodes bounds a Shape however a schema's references branch.
const maxShapeNodes = 10000

type shaper struct {
	budget int
	path   []*jsonschema.Schema // the schemas being merged, root first
}

func (b *shaper) shapeOf(c *jsonschema.Schema, depth int) *audit.Shape {
	out := &audit.Shape{MaxLength: -1}
	b.budget--
	if c == nil || depth > maxShapeDepth || b.budget < 0 {
		return out
	}
	b.merge(out, c, depth)
	return out
}

func (b *shaper) merge(out *audit.Shape, c *jsonschema.Schema, depth int) {
	if c == nil || depth > maxShapeDepth || slices.Contains(b.path, c) {
		return
	}
	b.path = append(b.path, c)
	defer func() { b.path = b.path[:len(b.path)-1] }()
	if c.Ref != nil {
		// A $ref counts as a level.
		b.merge(out, c.Ref, depth+1)
	}
	for _, sub := range c.AllOf {
		b.merge(out, sub, depth)
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
	if v, ok := c.AdditionalProperties.(bool); ok && !v {
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
			out.Items = b.shapeOf(items, depth+1)
		} else {
			b.merge(out.Items, items, depth+1)
		}
	}
	// In order, so that a Shape cut by the budget is always cut alike.
	for _, name := range slices.Sorted(maps.Keys(c.Properties)) {
		p := c.Properties[name]
		if out.Properties == nil {
			out.Properties = map[string]*audit.Shape{}
		}
		if prev, ok := out.Properties[name]; ok {
			b.merge(prev, p, depth+1)
			continue
		}
		out.Properties[name] = b.shapeOf(p, depth+1)
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
