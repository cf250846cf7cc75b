package audit

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Pushdown's intermediate representation: what a warehouse's SQL may prove
// about a message, with no JSON Schema in it. schemas compiles each schema,
// and the matching rules, into it; a backend's dialect renders it with its
// engine's JSON functions. Its one meaning is "proven valid": a row for
// which the rendered predicate is not true is not invalid, only not proven,
// and the Go validator judges it as it judges every row without pushdown.
// A rendering may therefore give up anywhere (render false), never the
// other way.

// JSONType is a JSON value's type as the Go validator sees it. Integer is
// a number written without a fraction or exponent that fits an int64; a
// number the SQL engine reads another way (1.0, 1e2, a huge integer) is
// never proven an integer.
type JSONType string

const (
	JSONString  JSONType = "string"
	JSONInteger JSONType = "integer"
	JSONNumber  JSONType = "number" // any number, integers included
	JSONBoolean JSONType = "boolean"
	JSONNull    JSONType = "null"
	JSONObject  JSONType = "object"
	JSONArray   JSONType = "array"
)

// Bound is a numeric bound. Only a strict inequality between the engine's
// double and Value proves it, since rounding is monotonic; a tie proves it
// only when both sides are exact integers (Exact, and an integer value).
type Bound struct {
	Value     float64
	Exclusive bool
	// Exact says Value is an integer below 2^53, written without a
	// fraction or exponent.
	Exact bool
}

// Pred holds for a JSON value that is proven valid. The zero Pred holds for
// any value. Each constraint applies only to values of its kind, as in JSON
// Schema: MinLength to strings, Required to objects, and so on.
type Pred struct {
	// Never holds for nothing (the false schema, or a part the compiler
	// could not prove).
	Never bool
	// Types the value may have; empty is any.
	Types []JSONType

	// Strings.
	Enum      []string // non-empty: one of these (a string enum)
	MinLength int      // in code points
	MaxLength int      // in code points; -1 is none
	// Pattern is an RE2 expression with ECMA-262's meaning already
	// translated; a dialect renders it only where its engine agrees with
	// RE2 on every input, and otherwise gives up.
	Pattern string

	// Numbers.
	Min, Max *Bound

	// Objects. Every object along a proven path must have unique keys:
	// engines read the first of two equal keys, the Go validator the last.
	Required   []string
	Properties map[string]*Pred
	// Closed: no key outside Properties (additionalProperties: false).
	Closed bool

	// Arrays.
	MinItems int
	MaxItems int // -1 is none
	// Items, when set, holds for every element.
	Items *Pred
}

// PushdownRule routes the messages of one call type, and of some event or
// page names, to one schema. Its Pred applies to Object of the message.
type PushdownRule struct {
	Type string // "track", "page", "screen", "identify" or "group"
	// NameField is the member holding the name the rule selects on:
	// "event" for track, "name" for page and screen, "" for none.
	NameField string
	// Names, when set, are the names the rule takes. Otherwise it takes
	// every name not in Except, a missing one included (a fallback).
	Names  []string
	Except []string
	// Object is the member validated ("properties" or "traits"), or "" for
	// the whole message. An absent or null object is validated as {}.
	Object   string
	SchemaID string
	// Pred is nil when the schema cannot be proven in SQL; Why says why.
	Pred *Pred
	Why  string
	// Unplanned: no schema matches the rule's messages (SchemaID is ""),
	// so its rows are counted as unplanned, and its Pred holds for any
	// object with no schema_id. A run that makes each unplanned message a
	// violation proves none.
	Unplanned bool
}

// PushdownPlan is every rule of a run. A row is proven valid when it is a
// JSON object with unique top-level keys, its type and name select a rule
// with a Pred, its object has no string schema_id (that routes by id), and
// the Pred holds for its object. Rules never overlap.
type PushdownPlan struct {
	Rules []PushdownRule
	// MaxPayloadBytes, when positive, is the Auditor's limit: a larger
	// payload is a violation, so it is never proven.
	MaxPayloadBytes int
}

// Provable reports whether any rule can prove a row valid.
func (p PushdownPlan) Provable() bool {
	return slices.ContainsFunc(p.Rules, func(r PushdownRule) bool { return r.Pred != nil })
}

// ForRun is the plan as a run proves rows with it: a payload over
// maxPayloadBytes is a violation, and so, when unplannedIsViolation, is
// each unplanned message, which Go must then write. Rendering the plan
// ForRun returns renders the statement the run sends.
func (p PushdownPlan) ForRun(maxPayloadBytes int, unplannedIsViolation bool) PushdownPlan {
	p.MaxPayloadBytes = maxPayloadBytes
	if unplannedIsViolation {
		p.Rules = slices.Clone(p.Rules)
		for i := range p.Rules {
			if p.Rules[i].Unplanned {
				p.Rules[i].Pred, p.Rules[i].Why = nil, "unplanned messages are violations in this run"
			}
		}
	}
	return p
}

// ProvenCount is how many rows of one event and schema a rule proved
// valid in the warehouse.
type ProvenCount struct {
	// Rule indexes the plan's Rules.
	Rule int
	// Name is the event or page name the rows carry, as Go reads it ("" when
	// it is missing or not a string); only a rule with no Names reports
	// it, since every other rule names exactly its rows' name.
	Name string
	Rows int64
}

// ProvingSource is a Source that can run a pushdown plan where its rows
// live. ScanUnproven yields only the rows of the window the plan does not
// prove valid and returns the counts of those it does, both read from one
// consistent state of the source, so that every row is either yielded or
// counted, once. An error means neither may be used.
type ProvingSource interface {
	Source
	ScanUnproven(ctx context.Context, w Window, plan PushdownPlan, yield func([]Row) error) ([]ProvenCount, error)
}

// name is the event name a rule's proven rows are counted under.
func (r PushdownRule) name(reported string) string {
	switch {
	case r.NameField == "":
		return ""
	case len(r.Names) == 1:
		return r.Names[0]
	}
	return reported
}

// PushdownSchema is a Schema that can say what SQL may prove about it.
type PushdownSchema interface {
	Schema
	// Pushdown returns the predicate of the schema's root, or nil and why
	// it cannot be proven in SQL.
	Pushdown() (*Pred, string)
}

// pushdownTypes are the call types a plan has rules for: the five a plan
// can route, and alias, which carries nothing a plan describes and is
// counted as unplanned. Every other type is fetched: Go counts it under a
// type that may not be storable as it is, or flags it.
var pushdownTypes = []string{"track", "page", "screen", "identify", "group", "alias"}

// PushdownPlan compiles the matching rules, over every name a schema or the
// events mapping knows, into rules that never overlap: one per track event
// and page or screen name that has a schema, one fallback for every other
// name of each, and one for identify and group. A rule whose messages no
// schema matches is an unplanned rule.
func (m *Matcher) PushdownPlan(names []string) PushdownPlan {
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for n := range m.EventSchemas {
		known[n] = true
	}
	all := make([]string, 0, len(known))
	for n := range known {
		if n != "" {
			all = append(all, n)
		}
	}
	slices.Sort(all)
	var plan PushdownPlan
	add := func(typ, field string, names, except []string, match Match) {
		if match.Problem != nil || (match.Schema == nil && !match.Unplanned) {
			return
		}
		r := PushdownRule{Type: typ, NameField: field, Names: names, Except: except,
			Object: strings.TrimPrefix(match.ObjectPath, "/"), SchemaID: match.SchemaID, Unplanned: match.Unplanned}
		ps, ok := match.Schema.(PushdownSchema)
		switch {
		case r.Unplanned && every(names, ProvenIdentity):
			r.Pred = &Pred{}
		case r.Unplanned:
			r.Why = "its name cannot be stored as it is"
		case !ok:
			r.Why = "the schema cannot describe itself to SQL"
		case !ProvenIdentity(r.SchemaID) || !every(names, ProvenIdentity):
			// Go would flag the stored identity (an encoding violation).
			r.Why = "its name or schema id cannot be stored as it is"
		default:
			r.Pred, r.Why = ps.Pushdown()
		}
		plan.Rules = append(plan.Rules, r)
	}
	for _, typ := range pushdownTypes {
		switch typ {
		case "track":
			for _, n := range all {
				add(typ, "event", []string{n}, nil, m.Resolve(typ, n, "", ""))
			}
			// Any other event name, resolved as one no schema or mapping
			// knows: unplanned.
			other := "\x00"
			for known[other] {
				other += "\x00"
			}
			add(typ, "event", nil, all, m.Resolve(typ, other, "", ""))
		case "page", "screen":
			for _, n := range all {
				add(typ, "name", []string{n}, nil, m.Resolve(typ, "", n, ""))
			}
			// Any other name, or none, falls back to Page or Screen.
			add(typ, "name", nil, all, m.Resolve(typ, "", "", ""))
		default:
			add(typ, "", nil, nil, m.Resolve(typ, "", "", ""))
		}
	}
	return plan
}

// ProvenIdentity reports whether s, as an event name or schema id, is
// stored as it is, so that a proven row needs no encoding violation. U+FFFD
// is refused too: engines differ in what they read a lone surrogate escape
// as.
func ProvenIdentity(s string) bool {
	return rawStorable(s, MaxNameBytes) && !strings.ContainsRune(s, utf8.RuneError)
}

func every[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

// Patterns are the instance paths (JSON pointers below the rule's object)
// where p holds a pattern, which a dialect may leave unrendered; a row
// whose value there is a string is then not proven.
func (p *Pred) Patterns() []string {
	var paths []string
	var walk func(p *Pred, path string, depth int)
	walk = func(p *Pred, path string, depth int) {
		if p == nil || p.Never || depth > 32 {
			return
		}
		if p.Pattern != "" {
			paths = append(paths, cmp.Or(path, "/"))
		}
		for _, name := range slices.Sorted(maps.Keys(p.Properties)) {
			walk(p.Properties[name], path+"/"+PointerToken(name), depth+1)
		}
		walk(p.Items, path+"/*", depth+1)
	}
	walk(p, "", 0)
	return paths
}
