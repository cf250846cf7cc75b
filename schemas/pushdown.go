package schemas

import (
	"fmt"
	"slices"

	"github.com/eventaudit/eventaudit/audit"
)

// Pushdown implements audit.PushdownSchema. It starts from the fast path's
// validator, which already holds only what can be settled without the
// library, and gives up further where SQL cannot follow: a $ref cycle
// (SQL does not recurse), a schema for additional properties (SQL would
// have to walk every key), an enum or const that is not a string.
func (s *Schema) Pushdown() (*audit.Pred, string) {
	if s.fast == nil {
		return nil, "the schema is not draft 7, or its root uses a keyword the fast path does not prove"
	}
	p, why := pushdownPred(s.fast, nil)
	if why != "" {
		return nil, why
	}
	return p, ""
}

func pushdownPred(n *fastNode, seen []*fastNode) (*audit.Pred, string) {
	for n.ref != nil {
		if slices.Contains(seen, n) {
			return nil, "a recursive $ref"
		}
		seen = append(seen, n)
		n = n.ref
	}
	if slices.Contains(seen, n) {
		return nil, "a recursive $ref"
	}
	seen = append(seen, n)
	switch {
	case n.unsupported:
		return nil, "a keyword or form the fast path does not prove (" + unsupportedHint + ")"
	case n.never:
		return &audit.Pred{Never: true}, ""
	case n.addl != nil:
		return nil, "additionalProperties with a schema: SQL would have to check every key"
	}
	p := &audit.Pred{MinLength: n.minLen, MaxLength: n.maxLen, MinItems: n.minItems, MaxItems: n.maxItems,
		Required: n.required, Closed: n.addlFalse}
	for _, t := range []struct {
		bit  uint8
		name audit.JSONType
	}{{tString, audit.JSONString}, {tNumber, audit.JSONNumber}, {tInteger, audit.JSONInteger}, {tBoolean, audit.JSONBoolean},
		{tNull, audit.JSONNull}, {tObject, audit.JSONObject}, {tArray, audit.JSONArray}} {
		if n.types&t.bit != 0 {
			p.Types = append(p.Types, t.name)
		}
	}
	if n.hasEnum || n.hasConst {
		// The fast path proves only strings against an enum or const.
		if !n.allows(tString) || (n.hasConst && !n.constIsStr) {
			return &audit.Pred{Never: true}, ""
		}
		p.Types = []audit.JSONType{audit.JSONString}
		switch {
		case n.hasEnum:
			for v := range n.enum {
				if !n.hasConst || v == n.constStr {
					p.Enum = append(p.Enum, v)
				}
			}
			slices.Sort(p.Enum)
		default:
			p.Enum = []string{n.constStr}
		}
		if len(p.Enum) == 0 {
			return &audit.Pred{Never: true}, ""
		}
	}
	if n.pattern != nil {
		p.Pattern = n.pattern.String()
	}
	for _, b := range []struct {
		src bound
		dst **audit.Bound
	}{{n.min, &p.Min}, {n.max, &p.Max}} {
		if b.src.set {
			*b.dst = &audit.Bound{Value: b.src.f, Exclusive: b.src.exclusive, Exact: b.src.exactInt}
		}
	}
	if len(n.props) > 0 {
		p.Properties = map[string]*audit.Pred{}
		for name, child := range n.props {
			cp, why := pushdownPred(child, seen)
			if why != "" {
				return nil, fmt.Sprintf("property %q: %s", name, why)
			}
			p.Properties[name] = cp
		}
	}
	if n.items != nil {
		ip, why := pushdownPred(n.items, seen)
		if why != "" {
			return nil, "items: " + why
		}
		p.Items = ip
	}
	return p, ""
}

const unsupportedHint = "multipleOf, patternProperties, allOf/anyOf/oneOf/not, if/then/else, uniqueItems, an asserted format, tuple items, a nested $id or a $ref outside the plan"
