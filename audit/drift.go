package audit

import (
	"cmp"
	"slices"
	"strings"
)

// Drift is where the data and the plan part ways, read from the property
// profile: what the apps send that the plan does not name, what the plan
// names that never arrived, and paths whose values change type.
type Drift struct {
	// Undeclared are paths of planned events that their schema does not
	// name; only the first undeclared level of a path is listed.
	Undeclared []PropertyDrift
	// Unseen are properties a schema names that no message of its event
	// carried in the window, under a parent that did arrive.
	Unseen []PropertyDrift
	// Mixed are paths whose values had more than one JSON type, null
	// aside (integer and number are one).
	Mixed []PropertyDrift
	// Truncated are the events whose profile hit a cap, so that a list
	// above may be incomplete (Path empty, Values the values dropped).
	Truncated []PropertyDrift
	// Limits are the caps the profile was kept under.
	Limits ProfileLimits
	// FromTables says the drift was read back from the result tables,
	// without the plan: Unseen and Truncated are not known.
	FromTables bool
}

// PropertyDrift is one path of one event.
type PropertyDrift struct {
	Type, Name, SchemaID string
	Path                 string
	// Values is how many values the path carried; EventRows how many
	// messages the event had.
	Values    int64
	EventRows int64
	// Types are the path's non-null types with their counts (Mixed only),
	// commonest first.
	Types []TypeCount
}

// Share is the minority type's share of a mixed path's values, or the
// path's values per message of its event otherwise.
func (d PropertyDrift) Share() float64 {
	if len(d.Types) > 1 {
		var n int64
		for _, t := range d.Types {
			n += t.Count
		}
		return rate(n-d.Types[0].Count, n)
	}
	return rate(d.Values, d.EventRows)
}

// Empty says there is no drift to report.
func (d *Drift) Empty() bool {
	return d == nil || len(d.Undeclared)+len(d.Unseen)+len(d.Mixed) == 0
}

// maxUnseenPerEvent bounds the unseen list of a schema with hundreds of
// optional properties.
const maxUnseenPerEvent = 50

// driftOf reads the drift from a run's profiles, kept under lim. shapes
// gives each planned event's schema shape (nil for an event: no drift is
// claimed for it). Without shapes, for a run rebuilt from its tables,
// undeclared paths come from PropertyProfile.InPlan alone and unseen ones
// are not known.
func driftOf(profiles []EventProfile, shapes func(string) *Shape, lim ProfileLimits) *Drift {
	d := &Drift{Limits: lim}
	for _, e := range profiles {
		if e.Dropped > 0 {
			d.Truncated = append(d.Truncated, PropertyDrift{Type: e.Type, Name: e.Name, SchemaID: e.SchemaID, Values: e.Dropped, EventRows: e.Rows})
		}
		seen := make(map[string]*PropertyProfile, len(e.Properties))
		for i := range e.Properties {
			seen[e.Properties[i].Path] = &e.Properties[i]
		}
		base := PropertyDrift{Type: e.Type, Name: e.Name, SchemaID: e.SchemaID, EventRows: e.Rows}
		for _, p := range e.Properties {
			if t := nonNullTypes(p); len(t) > 1 {
				m := base
				m.Path, m.Values, m.Types = p.Path, p.Count(), t
				d.Mixed = append(d.Mixed, m)
			}
		}
		if e.Unplanned {
			continue
		}
		var shape *Shape
		if shapes != nil {
			if shape = shapes(e.SchemaID); shape == nil {
				continue
			}
		}
		routing := e.ObjectPath + "/schema_id" // which schema, not what happened
		for _, p := range e.Properties {
			if p.InPlan || p.Path == routing {
				continue
			}
			parent := p.Path[:strings.LastIndexByte(p.Path, '/')]
			if pp := seen[parent]; parent != e.ObjectPath && (pp == nil || !pp.InPlan) {
				continue // listed at its first undeclared level
			}
			u := base
			u.Path, u.Values = p.Path, p.Count()
			d.Undeclared = append(d.Undeclared, u)
		}
		if shape == nil {
			continue
		}
		var unseen []PropertyDrift
		walkShape(shape, e.ObjectPath, lim.Depth, func(path, parent, kind string) {
			if seen[path] != nil || path == routing {
				return
			}
			if parent != e.ObjectPath {
				pp := seen[parent]
				if pp == nil || pp.CountOf(kind) == 0 {
					return // its parent never arrived as an object (or array)
				}
			}
			u := base
			u.Path = path
			unseen = append(unseen, u)
		})
		slices.SortFunc(unseen, func(a, b PropertyDrift) int { return strings.Compare(a.Path, b.Path) })
		d.Unseen = append(d.Unseen, unseen[:min(len(unseen), maxUnseenPerEvent)]...)
	}
	byValues := func(a, b PropertyDrift) int {
		return cmp.Or(cmp.Compare(b.Values, a.Values), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Path, b.Path))
	}
	slices.SortFunc(d.Undeclared, byValues)
	slices.SortFunc(d.Mixed, func(a, b PropertyDrift) int {
		return cmp.Or(cmp.Compare(b.Share(), a.Share()), byValues(a, b))
	})
	slices.SortFunc(d.Unseen, func(a, b PropertyDrift) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Path, b.Path))
	})
	return d
}

// nonNullTypes are a path's types other than null, integer counted as
// number, commonest first.
func nonNullTypes(p PropertyProfile) []TypeCount {
	var out []TypeCount
	var numbers int64
	for _, t := range p.Types {
		switch t.Type {
		case "null":
		case "integer", "number":
			numbers += t.Count
		default:
			out = append(out, TypeCount{Type: t.Type, Count: t.Count})
		}
	}
	if numbers > 0 {
		out = append(out, TypeCount{Type: "number", Count: numbers})
	}
	slices.SortStableFunc(out, func(a, b TypeCount) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// walkShape calls fn for every path a shape names down to maxDepth, as
// deep as the profile looked, with its parent's path and the JSON type the
// parent must have for the path to exist.
func walkShape(s *Shape, path string, maxDepth int, fn func(path, parent, kind string)) {
	var walk func(s *Shape, path string, depth int)
	walk = func(s *Shape, path string, depth int) {
		if s == nil || depth > maxDepth {
			return
		}
		for name, p := range s.Properties {
			child := path + "/" + PointerToken(name)
			fn(child, path, "object")
			walk(p, child, depth+1)
		}
		if s.Items != nil {
			walk(s.Items, path+"/*", depth+1)
		}
	}
	walk(s, path, 0)
}

// DriftFromTables reads the drift of a run rebuilt from its result tables
// (ProfilesOf): what was sent but not planned, and mixed types. Unseen
// properties need the plan, which the tables do not hold, and which caps
// the profile hit is not recorded.
func DriftFromTables(profiles []EventProfile) *Drift {
	d := driftOf(profiles, nil, ProfileLimits{})
	d.FromTables = true
	return d
}

// ProfilesOf rebuilds a run's event profiles from its rows of
// eventaudit_property_stats and its event statistics, as far as the table
// keeps them: each path's types with counts and examples, and whether the
// plan names it; not lengths, bounds, distinct values or the caps hit.
func ProfilesOf(props []PropertyStats, stats []EventStats) []EventProfile {
	byKey := map[eventKey]*EventProfile{}
	unplanned := map[[3]string]bool{}
	rows := map[[3]string]int64{}
	for _, st := range stats {
		k := [3]string{st.EventType, st.EventName, st.SchemaID}
		unplanned[k], rows[k] = st.Unplanned, st.Rows
	}
	var keys []eventKey
	for _, p := range props {
		k3 := [3]string{p.EventType, p.EventName, p.SchemaID}
		k := eventKey{p.EventType, p.EventName, p.SchemaID, unplanned[k3]}
		e := byKey[k]
		if e == nil {
			e = &EventProfile{Type: k.Type, Name: k.Name, SchemaID: k.SchemaID, Unplanned: k.Unplanned, Rows: rows[k3]}
			byKey[k] = e
			keys = append(keys, k)
		}
		e.Properties = append(e.Properties, PropertyProfile{Path: p.Path, InPlan: p.InPlan,
			Types: []TypeCount{{Type: p.JSONType, Count: p.Rows, Example: p.Example}}})
	}
	out := make([]EventProfile, 0, len(keys))
	for _, k := range keys {
		e := byKey[k]
		slices.SortStableFunc(e.Properties, func(a, b PropertyProfile) int { return strings.Compare(a.Path, b.Path) })
		merged := e.Properties[:0]
		for _, p := range e.Properties {
			if n := len(merged); n > 0 && merged[n-1].Path == p.Path {
				merged[n-1].Types = append(merged[n-1].Types, p.Types...)
				continue
			}
			merged = append(merged, p)
		}
		for i := range merged {
			slices.SortFunc(merged[i].Types, func(a, b TypeCount) int {
				return cmp.Compare(slices.Index(jsonKinds[:], a.Type), slices.Index(jsonKinds[:], b.Type))
			})
		}
		e.Properties = merged
		e.ObjectPath = objectPathOf(e.Properties)
		out = append(out, *e)
	}
	return out
}

// objectPathOf is the validated object under which every path lies
// ("/properties", "/traits"), or the message itself.
func objectPathOf(ps []PropertyProfile) string {
	var top string
	for i, p := range ps {
		first, _, _ := strings.Cut(strings.TrimPrefix(p.Path, "/"), "/")
		if i > 0 && first != top {
			return ""
		}
		top = first
	}
	if top != "properties" && top != "traits" {
		return ""
	}
	return "/" + top
}
