package schemas

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// An invalid object is mostly valid: one property is wrong and the rest
// holds. The fast path can prove the rest valid from the raw bytes, and
// the library then decodes and judges the failing members alone, each by
// its property's subschema, where it would otherwise decode and judge the
// whole object. The library still writes every message, at the location
// the whole object's judgement gives it.

// FailingMembers implements audit.MemberSchema. It proves the object at
// raw valid but for the members it returns and for its own failures, which
// own names: the object's type holds, every other member is valid, and
// each member returned is judged by its property's subschema alone (draft
// 7: no patternProperties, no dependencies; the fast path leaves a schema
// with either to the library). A failing key written twice, with escapes
// or in invalid UTF-8 leaves the object whole to the library, as does
// anything the fast path cannot prove.
//
// own is "" where the object's own keywords hold. Otherwise no member
// fails, and own names what fails of the object's own keywords: the
// required names missing and the keys that additionalProperties: false
// forbids. Those two are all the object's own keywords the fast path
// proves, and each depends on the object's keys alone, so the library's
// failures of two such objects are the same wherever own is. A member
// failing beside the object's own failures leaves it whole to the library.
func (s *Schema) FailingMembers(raw []byte) (members []audit.RawMember, own string, ok bool) {
	n := s.fast
	// A root $ref (draft 7 ignores its siblings) and an object-level
	// enum or const are left whole to the library.
	if n == nil || n.ref != nil || s.compiled.Ref != nil || n.unsupported || n.never || !n.provesObjects() {
		return nil, "", false
	}
	i := audit.SkipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, "", false
	}
	var nw narrowing
	end, ok := n.checkMembers(raw, i, 0, &nw, nil)
	if !ok || audit.SkipSpace(raw, end) != len(raw) {
		return nil, "", false
	}
	own = nw.own()
	switch {
	case len(nw.failing) == 0:
		return nil, own, own != ""
	case own != "":
		return nil, "", false // a member failing beside the object's own failures: whole
	}
	failing := nw.failing
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
		return nil, "", false
	}
	for _, f := range failing {
		if s.compiled.Properties[f.Key] == nil {
			return nil, "", false
		}
	}
	return failing, "", true
}

// narrowing is what checkMembers gathers of an object it goes on past
// failures in.
type narrowing struct {
	failing   []audit.RawMember // members that fail their property's subschema
	forbidden []string          // keys additionalProperties: false forbids
	missing   uint64            // required[k] missing, bit k
}

// own names the object's own failures: the required names missing, by
// their bits, and the forbidden keys, sorted and each once (the decoded
// object holds a key once). A raw key holds no control character, so the
// NUL between keys is no key's.
func (nw *narrowing) own() string {
	if nw.missing == 0 && len(nw.forbidden) == 0 {
		return ""
	}
	slices.Sort(nw.forbidden)
	keys := slices.Compact(nw.forbidden)
	return strconv.FormatUint(nw.missing, 16) + "\x00" + strings.Join(keys, "\x00")
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
