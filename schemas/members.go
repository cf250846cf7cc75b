package schemas

import (
	"net/url"
	"slices"

	"github.com/eventaudit/eventaudit/audit"
)

// An invalid object is mostly valid: one property is wrong and the rest
// holds. The fast path can prove the rest valid from the raw bytes, and
// the library then decodes and judges the failing members alone, each by
// its property's subschema, where it would otherwise decode and judge the
// whole object. The library still writes every message, at the location
// the whole object's judgement gives it.

// FailingMembers implements audit.MemberSchema. It proves the object at
// raw valid but for the members it returns: the object's own keywords
// hold (its type, required, additionalProperties), every other member is
// valid, and each member returned is judged by its property's subschema
// alone (draft 7: no patternProperties, no dependencies; the fast path
// leaves a schema with either to the library). A failing key written
// twice, with escapes or in invalid UTF-8 leaves the object whole to the
// library, as does anything the fast path cannot prove.
func (s *Schema) FailingMembers(raw []byte) ([]audit.RawMember, bool) {
	n := s.fast
	// A root $ref (draft 7 ignores its siblings) and an object-level
	// enum or const are left whole to the library.
	if n == nil || n.ref != nil || s.compiled.Ref != nil || n.unsupported || n.never || !n.provesObjects() {
		return nil, false
	}
	i := audit.SkipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	var failing []audit.RawMember
	end, ok := n.checkMembers(raw, i, 0, func(m *fastMember, vs, end int) {
		failing = append(failing, audit.RawMember{Key: m.name, Value: raw[vs:end]})
	}, nil)
	if !ok || audit.SkipSpace(raw, end) != len(raw) || len(failing) == 0 {
		return nil, false
	}
	// The library reads the last of two equal keys, which need not be the
	// one that failed: a failing key the object repeats leaves it whole.
	counts := make([]int, len(failing))
	audit.EachMember(raw, i, func(ks, ke int, _ bool, vs int) (int, bool) {
		for k, f := range failing {
			if f.Key == string(raw[ks+1:ke-1]) {
				counts[k]++
			}
		}
		return audit.SkipValue(raw, vs)
	})
	if slices.ContainsFunc(counts, func(c int) bool { return c != 1 }) {
		return nil, false
	}
	for _, f := range failing {
		if s.compiled.Properties[f.Key] == nil {
			return nil, false
		}
	}
	return failing, true
}

// ValidateMembers implements audit.MemberSchema: the failures of the
// object's members, each judged by its property's subschema, located and
// ordered as Validate gives them for the whole object. ok is false where
// the library did not finish (an infinite $ref loop).
func (s *Schema) ValidateMembers(members map[string]any) ([]audit.Failure, bool) {
	var out []audit.Failure
	for key, v := range members {
		// jsonschema/v5 locates a property's failures under
		// "properties/<token>" in the schema and "/<token>" in the
		// instance.
		tok := libraryToken(key)
		fs, ok := s.failures(s.compiled.Properties[key].Validate(v), "/properties/"+tok, "/"+tok)
		if !ok {
			return nil, false
		}
		out = append(out, fs...)
	}
	sortFailures(out)
	return out, true
}

// libraryToken is a key as jsonschema/v5 writes it into a location: a
// JSON Pointer token, then URL path escaping.
func libraryToken(key string) string { return url.PathEscape(audit.PointerToken(key)) }
