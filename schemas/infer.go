package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// InferFormats are the formats inference may claim, most specific first;
// each is checked as the validator checks it when formats are asserted,
// so a claimed format never fails a value it was inferred from.
var InferFormats = []string{"date-time", "date", "uuid", "email", "uri"}

// FormatChecks are InferFormats' checks, for the profile to run on every
// string.
func FormatChecks() []audit.ProfileFormat {
	out := make([]audit.ProfileFormat, 0, len(InferFormats))
	for _, name := range InferFormats {
		check := jsonschema.Formats[name]
		if own, ok := formatCheckers[name]; ok {
			check = own
		}
		out = append(out, audit.ProfileFormat{Name: name, Check: func(s string) bool { return check(s) }})
	}
	return out
}

// InferOptions shape the schemas inference writes.
type InferOptions struct {
	// Plan prefixes every $id and file ("segment/shop").
	Plan string
	// Vendor is self.vendor.
	Vendor string
	// RequiredShare: a property present in at least this share of its
	// object's occurrences is required. 1 requires only those always sent.
	RequiredShare float64
	// EnumMax: a string property with at most this many distinct values,
	// each seen several times, becomes an enum.
	EnumMax int
	// Depth is how deep the profile looked under each object
	// (audit.ProfileLimits.Depth); 0 is the default limits' depth.
	Depth int
}

// enumRepeats is how many times, on average, each distinct value must
// recur before a string is taken for an enum rather than a free string
// seen a few times.
const enumRepeats = 5

// Inferred is one schema written from the data.
type Inferred struct {
	// ID is its $id, which in a Reflekt project is also its path under
	// the schemas directory.
	ID   string
	Name string
	// Rows are the messages it was inferred from, every page name
	// merged into Page.
	Rows int64
	JSON []byte
}

// TODO is how inferred descriptions begin; lint reports them as missing.
const TODO = "TODO"

// Infer writes one Reflekt schema (draft 7, version 1-0) per schema name
// the profiles' events match by DESIGN.md §4: a track event's own name,
// Page, Screen, Identify and Group. Types, required properties, enums and
// formats come from what the window carried, so that auditing the same
// window against them finds nothing; descriptions are TODOs.
func Infer(profiles []audit.EventProfile, o InferOptions) []Inferred {
	if o.EnumMax <= 0 {
		o.EnumMax = 10
	}
	byName := map[string]*inferGroup{}
	for _, e := range profiles {
		name := schemaNameOf(e)
		if name == "" {
			continue
		}
		g := byName[name]
		if g == nil {
			g = &inferGroup{name: name, props: map[string]*audit.PropertyProfile{}}
			byName[name] = g
		}
		g.add(e)
	}
	var out []Inferred
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		g := byName[name]
		id := path.Join(o.Plan, name, "1-0.json")
		root := g.tree()
		doc := ordered{
			{"$schema", "http://json-schema.org/draft-07/schema#"},
			{"$id", id},
			{"description", fmt.Sprintf("%s: describe when %s is sent (inferred from %d messages).", TODO, name, g.rows)},
			{"self", ordered{{"vendor", o.Vendor}, {"name", name}, {"format", "jsonschema"}, {"version", "1-0"}}},
		}
		doc = append(doc, root.schema(g.rows, !g.truncated, 0, o)...)
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(doc) // strings, numbers and nested ordered values only
		out = append(out, Inferred{ID: id, Name: name, Rows: g.rows, JSON: b.Bytes()})
	}
	return out
}

// schemaNameOf is the schema name an event is matched by, "" for calls a
// plan does not describe.
func schemaNameOf(e audit.EventProfile) string {
	switch e.Type {
	case "track":
		return e.Name
	case "page":
		return "Page"
	case "screen":
		return "Screen"
	case "identify":
		return "Identify"
	case "group":
		return "Group"
	}
	return ""
}

type inferGroup struct {
	name      string
	rows      int64
	truncated bool
	props     map[string]*audit.PropertyProfile // by path relative to the object
}

// add merges an event's profile in: every page name is one Page.
func (g *inferGroup) add(e audit.EventProfile) {
	g.rows += e.Rows
	g.truncated = g.truncated || e.Dropped > 0
	for _, p := range e.Properties {
		rel := strings.TrimPrefix(p.Path, e.ObjectPath)
		have := g.props[rel]
		if have == nil {
			cp := p
			cp.Types = slices.Clone(p.Types)
			g.props[rel] = &cp
			continue
		}
		mergeProperty(have, p)
	}
}

func mergeProperty(have *audit.PropertyProfile, p audit.PropertyProfile) {
	hadStrings := have.CountOf("string") > 0
	for _, t := range p.Types {
		i := slices.IndexFunc(have.Types, func(x audit.TypeCount) bool { return x.Type == t.Type })
		if i < 0 {
			have.Types = append(have.Types, t)
		} else {
			have.Types[i].Count += t.Count
		}
	}
	switch {
	case p.CountOf("string") == 0:
	case !hadStrings:
		have.Formats, have.Values = slices.Clone(p.Formats), slices.Clone(p.Values)
	default:
		have.Formats = slices.DeleteFunc(have.Formats, func(f string) bool { return !slices.Contains(p.Formats, f) })
		if have.Values == nil || p.Values == nil {
			have.Values = nil
		} else {
			have.Values = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(have.Values), p.Values...))))
		}
	}
}

// inferNode is one level of an object: its profile, its members and its
// items.
type inferNode struct {
	prof    *audit.PropertyProfile
	members map[string]*inferNode
	items   *inferNode
}

func (g *inferGroup) tree() *inferNode {
	root := &inferNode{}
	for _, rel := range slices.Sorted(maps.Keys(g.props)) {
		n := root
		for _, tok := range strings.Split(strings.TrimPrefix(rel, "/"), "/") {
			if tok == "*" {
				if n.items == nil {
					n.items = &inferNode{}
				}
				n = n.items
				continue
			}
			name := audit.UnescapeToken(tok)
			if n.members == nil {
				n.members = map[string]*inferNode{}
			}
			if n.members[name] == nil {
				n.members[name] = &inferNode{}
			}
			n = n.members[name]
		}
		n.prof = g.props[rel]
	}
	return root
}

// schema is the node's keywords. objects is how many times the node was
// an object (the messages, for the root), for required; closed says
// every member of the node's objects was profiled.
func (n *inferNode) schema(objects int64, closed bool, depth int, o InferOptions) ordered {
	var out ordered
	types := []string{"object"}
	if n.prof != nil {
		types = inferTypes(n.prof)
	}
	switch len(types) {
	case 0:
	case 1:
		out = append(out, kv{"type", types[0]})
	default:
		out = append(out, kv{"type", types})
	}
	if p := n.prof; p != nil && slices.Contains(types, "string") {
		nStrings := p.CountOf("string")
		if p.Values != nil && len(p.Values) <= o.EnumMax && onlyStrings(types) &&
			nStrings >= enumRepeats*int64(len(p.Values)) {
			enum := []any{}
			for _, v := range p.Values {
				enum = append(enum, v)
			}
			if slices.Contains(types, "null") {
				enum = append(enum, nil)
			}
			out = append(out, kv{"enum", enum})
		} else if nStrings > 0 && len(p.Formats) > 0 {
			out = append(out, kv{"format", p.Formats[0]})
		}
	}
	if slices.Contains(types, "object") {
		if n.prof != nil {
			objects = n.prof.CountOf("object")
		}
		props := ordered{}
		var required []string
		for _, name := range slices.Sorted(maps.Keys(n.members)) {
			m := n.members[name]
			sub := ordered{{"description", fmt.Sprintf("%s: describe %s.", TODO, name)}}
			if m.prof != nil && len(inferTypes(m.prof)) == 0 {
				sub[0].v = fmt.Sprintf("%s: describe %s (only null was seen).", TODO, name)
			}
			props = append(props, kv{name, append(sub, m.schema(0, closed, depth+1, o)...)})
			if m.prof != nil && objects > 0 && float64(m.prof.Count()) >= o.requiredShare()*float64(objects) {
				required = append(required, name)
			}
		}
		out = append(out, kv{"properties", props})
		if len(required) > 0 {
			out = append(out, kv{"required", required})
		}
		// Members deeper than the profile walks were not seen: leave
		// such objects open.
		if closed && depth < o.depth()-1 {
			out = append(out, kv{"additionalProperties", false})
		}
	}
	if slices.Contains(types, "array") && n.items != nil {
		out = append(out, kv{"items", n.items.schema(0, closed, depth+1, o)})
	}
	return out
}

func (o InferOptions) depth() int {
	if o.Depth > 0 {
		return o.Depth
	}
	return audit.DefaultProfileLimits.Depth
}

func (o InferOptions) requiredShare() float64 {
	if o.RequiredShare <= 0 {
		return 1
	}
	return o.RequiredShare
}

// inferTypes are the JSON types a path carried, integer folded into
// number when both were seen; none when only null was.
func inferTypes(p *audit.PropertyProfile) []string {
	var out []string
	hasNumber := p.CountOf("number") > 0
	for _, t := range []string{"string", "integer", "number", "boolean", "object", "array"} {
		if p.CountOf(t) == 0 || t == "integer" && hasNumber {
			continue
		}
		out = append(out, t)
	}
	if len(out) > 0 && p.CountOf("null") > 0 {
		out = append(out, "null")
	}
	return out
}

// onlyStrings says the types are string, or string and null.
func onlyStrings(types []string) bool {
	return types[0] == "string" && (len(types) == 1 || len(types) == 2 && types[1] == "null")
}

// ordered is a JSON object that keeps its members' order, so that an
// inferred schema reads like a written one: $schema, $id, self, then type.
type ordered []kv

type kv struct {
	k string
	v any
}

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalNoEscape(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
