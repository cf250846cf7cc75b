package segment

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// rebuild turns one row into a Segment message.
func (s *Source) rebuild(t *segmentTable, idx map[string]int, vals []any) (audit.Row, error) {
	text := func(name string) string {
		if i, ok := idx[name]; ok && vals[i] != nil {
			if s, ok := vals[i].(string); ok {
				return s
			}
			return fmt.Sprint(normalise(vals[i]))
		}
		return ""
	}
	id := text("id")
	var at time.Time
	switch v := vals[idx["received_at"]].(type) {
	case time.Time:
		at = v
	case nil:
		return audit.Row{}, fmt.Errorf("row %q has no received_at", id)
	default:
		return audit.Row{}, fmt.Errorf("received_at of row %q is %T, not a timestamp", id, v)
	}
	msg := message{typ: t.typ, id: &id, member: t.member}
	event, name := t.event, ""
	switch t.typ {
	case "track":
		if e := text("event_text"); e != "" {
			event = e
		}
		msg.event = &event
	case "page", "screen":
		name = text("name")
		if name != "" {
			msg.name = &name
		}
	}
	m := s.Matcher.Resolve(t.typ, event, name, text("schema_id"))
	shape, leaves, writer := s.checkedLayout(t, m)
	// used[i]: column i is read already, by its index in vals.
	used := make([]bool, len(vals))
	for _, col := range []string{"id", "received_at", "event_text"} {
		if i, ok := idx[col]; ok {
			used[i] = true
		}
	}
	if i, ok := idx["name"]; ok && (t.typ == "page" || t.typ == "screen") {
		used[i] = true
	}
	if msg.member != "" {
		head := msg.appendHead(make([]byte, 0, 512))
		if b, ok := writer.append(head, idx, vals, t.kinds, used); ok {
			return audit.Row{MessageID: deref(msg.id), ReceivedAt: at.UTC(), Payload: msg.appendTail(b)}, nil
		}
	}
	obj := object(leaves, idx, vals, t.kinds, used)
	// Columns the shape does not know keep their values under their column
	// name, so a closed schema reports them per message, as in the raw
	// layout; the column itself is reported once.
	for low, i := range idx {
		if used[i] || vals[i] == nil {
			continue
		}
		obj[low] = natural(vals[i], t.kinds[i])
		if shape != nil && shape.Closed && low != "schema_id" {
			s.find("unknown/"+t.name+"/"+low+"/"+m.SchemaID, audit.Violation{EventType: m.Type, EventName: m.Name,
				SchemaID: m.SchemaID, InstancePath: "/" + t.member, Keyword: audit.KeywordUnknownColumn, Value: jsonString(low),
				Message: fmt.Sprintf("column %s.%s holds values, but the schema does not declare property %q and allows no others",
					t.name, t.cols[i].Name, low)})
		}
	}
	msg.object = obj
	return msg.row(at), nil
}

// segmentLeaf is one column a schema's object is flattened into: the
// property path to it (nested objects joined with "_" in the column name)
// and the shape of its value.
type segmentLeaf struct {
	col   string
	props []string
	shape *audit.Shape
}

// segmentLeaves flattens shape as Segment flattens objects: a nested object
// with declared properties becomes its leaves' columns; anything else,
// arrays included, is one column.
func segmentLeaves(shape *audit.Shape) []segmentLeaf {
	var out []segmentLeaf
	var walk func(sh *audit.Shape, prefix string, path []string)
	walk = func(sh *audit.Shape, prefix string, path []string) {
		for prop, ps := range sh.Properties {
			col, p := prefix+Slug(prop), append(slices.Clone(path), prop)
			if len(ps.Properties) > 0 && !ps.Allows("array") {
				walk(ps, col+"_", p)
				continue
			}
			out = append(out, segmentLeaf{col: col, props: p, shape: ps})
		}
	}
	if shape != nil {
		walk(shape, "", nil)
	}
	slices.SortFunc(out, func(a, b segmentLeaf) int { return strings.Compare(a.col, b.col) })
	return out
}

// layout is the matched schema's Shape, its columns and their writer,
// computed once per schema; nil when nothing describes the event.
func (s *Source) layout(m audit.Match) (*audit.Shape, []segmentLeaf, *objectWriter) {
	sh, ok := m.Schema.(audit.Shaper)
	if !ok || m.Schema == nil {
		return nil, nil, nil
	}
	s.cache.Lock()
	defer s.cache.Unlock()
	if s.layouts == nil {
		s.layouts = map[string][]segmentLeaf{}
		s.shapes = map[string]*audit.Shape{}
		s.writers = map[string]*objectWriter{}
	}
	if leaves, ok := s.layouts[m.SchemaID]; ok {
		return s.shapes[m.SchemaID], leaves, s.writers[m.SchemaID]
	}
	shape := sh.Shape()
	leaves := segmentLeaves(shape)
	w := newObjectWriter(leaves)
	s.shapes[m.SchemaID], s.layouts[m.SchemaID], s.writers[m.SchemaID] = shape, leaves, w
	return shape, leaves, w
}

// checkedLayout is layout, with its writer, having checked, once per run,
// that t's columns can hold the matched schema's properties. With no shape
// the writer writes the empty object, as object does with no leaves.
func (s *Source) checkedLayout(t *segmentTable, m audit.Match) (*audit.Shape, []segmentLeaf, *objectWriter) {
	shape, leaves, w := s.layout(m)
	if shape == nil {
		return nil, nil, noLeaves
	}
	s.cache.Lock()
	first := !t.checked[m.SchemaID]
	if first {
		if t.checked == nil {
			t.checked = map[string]bool{}
		}
		t.checked[m.SchemaID] = true
	}
	s.cache.Unlock()
	if first {
		s.checkColumns(t, m, leaves)
	}
	return shape, leaves, w
}

// object rebuilds an object from its flattened columns, marking the columns
// it used; with no leaves it is empty, and the caller adds the unused
// columns as they are.
func object(leaves []segmentLeaf, idx map[string]int, vals []any, kinds []int, used []bool) map[string]any {
	obj := map[string]any{}
	var maps []segmentLeaf
	for _, l := range leaves {
		i, ok := idx[l.col]
		if ok {
			used[i] = true
		}
		switch {
		case ok && vals[i] != nil:
			setPath(obj, l.props, convert(vals[i], kinds[i], l.shape))
		case l.isMap():
			maps = append(maps, l)
		case l.shape.Allows("null"):
			// No column yet (Segment adds one with its first non-null
			// value) or NULL: absent, or null where the schema allows
			// null; the layout cannot tell the two apart.
			setPath(obj, l.props, nil)
		}
	}
	// Maps claim their columns once every declared property has its own,
	// the longest prefix first: map a_b's column a_b_c is not map a's b_c.
	slices.SortStableFunc(maps, func(a, b segmentLeaf) int { return len(b.col) - len(a.col) })
	for _, l := range maps {
		if m := foldMap(l.col+"_", idx, vals, kinds, used); len(m) > 0 {
			setPath(obj, l.props, m)
		} else if l.shape.Allows("null") {
			setPath(obj, l.props, nil)
		}
	}
	return obj
}

// isMap reports whether the leaf is an object with no declared properties,
// a map such as {"type":"object","additionalProperties":{"type":"string"}}:
// Segment flattens its keys into columns of their own (filters_color,
// filters_size), which no schema names.
func (l segmentLeaf) isMap() bool {
	return len(l.shape.Properties) == 0 && l.shape.Allows("object") && len(l.shape.Types) > 0
}

// foldMap gathers the unused, non-NULL columns named prefix+key into a map
// of key to value. Keys come back as Segment wrote the columns (snake_case,
// lower case): a map's keys are data, which Segment does not keep.
func foldMap(prefix string, idx map[string]int, vals []any, kinds []int, used []bool) map[string]any {
	var m map[string]any
	for col, i := range idx {
		key, ok := strings.CutPrefix(col, prefix)
		if !ok || key == "" || used[i] || vals[i] == nil {
			continue
		}
		if m == nil {
			m = map[string]any{}
		}
		m[key] = natural(vals[i], kinds[i])
		used[i] = true
	}
	return m
}

// setPath sets obj[p0][p1]…= v, creating the objects on the way.
func setPath(obj map[string]any, props []string, v any) {
	for _, p := range props[:len(props)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	obj[props[len(props)-1]] = v
}
