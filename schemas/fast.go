package schemas

import (
	"encoding/json"
	"math"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eventaudit/eventaudit/audit"
)

// The fast path: each schema is also compiled into a validator that works on
// the raw JSON bytes and decides only one thing, "valid". For the common
// keywords (type, required, properties, additionalProperties, enum and const
// of strings, minimum/maximum and their exclusive forms, minLength,
// maxLength, pattern, items, minItems, maxItems, $ref within the plan) it
// checks the bytes directly. On anything else — an unsupported keyword, a
// number tied with its bound, a string with escapes where its content
// matters, a failed check — it says "not proven", and jsonschema/v5 decides
// and describes. So the fast path may be slower to give up, never wrong.

const (
	tString = 1 << iota
	tNumber
	tInteger
	tBoolean
	tNull
	tObject
	tArray
)

var typeBits = map[string]uint8{"string": tString, "number": tNumber, "integer": tInteger, "boolean": tBoolean,
	"null": tNull, "object": tObject, "array": tArray}

type bound struct {
	set, exclusive bool
	f              float64
	exactInt       bool // f is an integer below 2^53, so ties can be settled exactly
}

type fastNode struct {
	unsupported bool
	never       bool // the false schema
	ref         *fastNode
	types       uint8 // 0: any
	enum        map[string]struct{}
	hasEnum     bool
	hasConst    bool
	constIsStr  bool
	constStr    string
	min, max    bound
	minLen      int
	maxLen      int // -1: none
	pattern     *regexp.Regexp
	required    []string
	props       map[string]*fastNode
	// members are the names of props and required together, each with its
	// node (nil when only required) and its required bits: one look-up per
	// member of an instance, searched in turn when few, else by index.
	members     []fastMember
	memberIndex map[string]*fastMember
	addlFalse   bool
	addl        *fastNode
	items       *fastNode
	minItems    int
	maxItems    int // -1: none
}

// Keywords that assert and that the fast path does not implement: a
// (sub)schema using one is decided by the library.
// regexProperties is jsonschema/v5's own extension (every property name
// must be a regexp).
var unsupportedKeywords = []string{"multipleOf", "additionalItems", "contains", "maxProperties", "minProperties",
	"patternProperties", "dependencies", "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf", "not",
	"regexProperties"}

type fastCompiler struct {
	docs         map[string]any // every loaded file's document, by path
	assertFormat bool
	memo         map[string]*fastNode
}

// compileFast builds the fast validator of file's root schema, or nil when
// the root itself cannot be compiled.
func (c *fastCompiler) compile(file string) *fastNode {
	doc, ok := c.docs[file]
	if !ok {
		return nil
	}
	if !draft7(doc) {
		return nil
	}
	return c.node(file, "", doc, true)
}

// draft7 reports whether a file is read under draft 7's rules, the only
// ones the fast path knows: it says so, or says nothing (the compiler's
// default). Other drafts differ in $ref siblings, exclusive bounds and
// keywords (prefixItems, dependentRequired, unevaluatedProperties).
func draft7(doc any) bool {
	m, ok := doc.(map[string]any)
	if !ok {
		return true
	}
	s, ok := m["$schema"]
	if !ok {
		return true
	}
	str, _ := s.(string)
	return strings.HasPrefix(strings.TrimSuffix(str, "#"), "http://json-schema.org/draft-07/schema")
}

// nestedID reports whether an object on the way from the file's root to ptr
// (the root excluded, ptr's own object included) has an $id: it changes the
// base that every $ref beneath it resolves against, which the fast path's
// file-relative resolution does not follow.
func nestedID(doc any, ptr string) bool {
	if ptr == "" {
		return false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		next, ok := audit.Lookup(cur, "/"+tok)
		if !ok {
			return false
		}
		if m, ok := next.(map[string]any); ok {
			if _, has := m["$id"]; has {
				return true
			}
		}
		cur = next
	}
	return false
}

func (c *fastCompiler) node(file, ptr string, v any, root bool) *fastNode {
	key := file + "#" + ptr
	if n, ok := c.memo[key]; ok {
		return n
	}
	n := &fastNode{maxLen: -1, maxItems: -1}
	c.memo[key] = n // before the children: $ref cycles end here
	switch s := v.(type) {
	case bool:
		n.never = !s
		return n
	case map[string]any:
		c.fill(n, file, ptr, s, root)
	default:
		n.unsupported = true
	}
	return n
}

func (c *fastCompiler) fill(n *fastNode, file, ptr string, s map[string]any, root bool) {
	if ref, ok := s["$ref"].(string); ok {
		// Draft 7 ignores every keyword beside $ref.
		tf, tp, ok := c.resolve(file, ref)
		if !ok {
			n.unsupported = true
			return
		}
		target, ok := audit.Lookup(c.docs[tf], tp)
		if !ok || nestedID(c.docs[tf], tp) {
			n.unsupported = true
			return
		}
		n.ref = c.node(tf, tp, target, false)
		return
	}
	if _, ok := s["$id"]; ok && !root {
		n.unsupported = true // a nested base URI changes how refs resolve
		return
	}
	for _, k := range unsupportedKeywords {
		if _, ok := s[k]; ok {
			n.unsupported = true
			return
		}
	}
	if _, ok := s["format"]; ok && c.assertFormat {
		n.unsupported = true
		return
	}
	if u, ok := s["uniqueItems"].(bool); ok && u {
		n.unsupported = true
		return
	}
	switch t := s["type"].(type) {
	case nil:
	case string:
		n.types = typeBits[t]
	case []any:
		for _, x := range t {
			name, _ := x.(string)
			n.types |= typeBits[name]
		}
	}
	if t, ok := s["type"]; ok && t != nil && n.types == 0 {
		n.unsupported = true
		return
	}
	if e, ok := s["enum"].([]any); ok {
		n.hasEnum, n.enum = true, map[string]struct{}{}
		for _, x := range e {
			if str, ok := x.(string); ok {
				n.enum[str] = struct{}{}
			}
		}
	}
	if cv, ok := s["const"]; ok {
		// Kept apart from enum: a value must satisfy both.
		n.hasConst = true
		n.constStr, n.constIsStr = cv.(string)
	}
	var badMin, badMax bool
	n.min, badMin = numBound(s, "minimum", "exclusiveMinimum")
	n.max, badMax = numBound(s, "maximum", "exclusiveMaximum")
	if badMin || badMax {
		n.unsupported = true
		return
	}
	for _, k := range []struct {
		name string
		dst  *int
		def  int
	}{{"minLength", &n.minLen, 0}, {"maxLength", &n.maxLen, -1}, {"minItems", &n.minItems, 0}, {"maxItems", &n.maxItems, -1}} {
		v, ok := intKeyword(s, k.name, k.def)
		if !ok {
			n.unsupported = true // e.g. 2.0: present, so never to be ignored
			return
		}
		*k.dst = v
	}
	if p, ok := s["pattern"].(string); ok {
		re, err := regexp.Compile(p) // the library uses Go's regexp too
		if err != nil {
			n.unsupported = true
			return
		}
		n.pattern = re
	}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				n.required = append(n.required, name)
			}
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		n.props = map[string]*fastNode{}
		for name, sub := range props {
			n.props[name] = c.node(file, ptr+"/properties/"+audit.PointerToken(name), sub, false)
		}
	}
	n.indexMembers()
	switch a := s["additionalProperties"].(type) {
	case nil:
	case bool:
		n.addlFalse = !a
	default:
		n.addl = c.node(file, ptr+"/additionalProperties", a, false)
	}
	switch it := s["items"].(type) {
	case nil:
	case []any:
		n.unsupported = true // tuple validation
	default:
		n.items = c.node(file, ptr+"/items", it, false)
	}
}

// numBound reads an inclusive or exclusive bound; bad is set when a bound is
// present in a form the fast path does not settle (both at once, draft 4's
// boolean exclusiveMinimum, not a number).
func numBound(s map[string]any, incl, excl string) (b bound, bad bool) {
	rawIncl, hasIncl := s[incl]
	rawExcl, hasExcl := s[excl]
	var v any
	switch {
	case hasIncl && hasExcl:
		return b, true
	case hasExcl:
		b.exclusive, v = true, rawExcl
	case hasIncl:
		v = rawIncl
	default:
		return b, false
	}
	raw, ok := v.(json.Number)
	if !ok {
		return b, true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) {
		return b, true
	}
	b.set, b.f = true, f
	b.exactInt = isExactInt(string(raw), f)
	return b, false
}

func isExactInt(lit string, f float64) bool {
	return !strings.ContainsAny(lit, ".eE") && math.Abs(f) < 1<<53
}

// intKeyword reads a count keyword; ok is false when it is present but not
// a plain non-negative integer.
func intKeyword(s map[string]any, k string, def int) (int, bool) {
	raw, present := s[k]
	if !present {
		return def, true
	}
	v, ok := raw.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := v.Int64()
	if err != nil || n < 0 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// resolve maps a $ref to the file and JSON pointer it names.
func (c *fastCompiler) resolve(file, ref string) (string, string, bool) {
	target, frag, _ := strings.Cut(ref, "#")
	switch {
	case target == "":
		target = file
	case strings.HasPrefix(target, baseURL):
		p, err := url.PathUnescape(strings.TrimPrefix(target, baseURL))
		if err != nil {
			return "", "", false
		}
		target = p
	case strings.Contains(target, ":"):
		return "", "", false // the draft meta-schema or anything remote
	default:
		p, err := url.PathUnescape(target)
		if err != nil {
			p = target
		}
		target = path.Join(path.Dir(file), p)
	}
	if doc, ok := c.docs[target]; !ok || !draft7(doc) {
		return "", "", false
	}
	// A percent-escape in the pointer (%2F, %25) is left to the library:
	// whether it is decoded before or after the pointer is split decides
	// which member it names.
	if strings.Contains(frag, "%") || (frag != "" && !strings.HasPrefix(frag, "/")) {
		return "", "", false // or an anchor name
	}
	return target, frag, true
}

// ValidJSON implements audit.FastSchema.
func (s *Schema) ValidJSON(raw []byte) bool {
	if s.fast == nil {
		return false
	}
	i := audit.SkipSpace(raw, 0)
	end, ok := s.fast.valid(raw, i, 0)
	return ok && audit.SkipSpace(raw, end) == len(raw)
}

// ValidAt implements audit.ObjectProver: valid's walk of an object, which
// also notes where schema_id's value starts.
func (s *Schema) ValidAt(b []byte, i int) (end, schemaIDAt int, ok bool) {
	if s.fast == nil {
		return 0, -1, false
	}
	n, depth, ok := s.fast.deref(0)
	if !ok || i >= len(b) || b[i] != '{' || !n.provesObjects() {
		return 0, -1, false
	}
	schemaIDAt = -1
	if end, ok = n.checkMembers(b, i, depth, nil, &schemaIDAt); !ok {
		return 0, -1, false
	}
	return end, schemaIDAt, true
}

const fastMaxDepth = 100

// deref follows n's $refs from depth, and says whether the node they end
// at, at the depth it returns, can prove anything.
func (n *fastNode) deref(depth int) (*fastNode, int, bool) {
	for n.ref != nil {
		n = n.ref
		if depth++; depth > fastMaxDepth {
			return nil, 0, false
		}
	}
	return n, depth, !n.unsupported && !n.never && depth <= fastMaxDepth
}

// provesObjects says whether n's own keywords let it prove an object from
// its members: an object-level enum or const it leaves to the library.
func (n *fastNode) provesObjects() bool { return n.allows(tObject) && !n.hasEnum && !n.hasConst }

// valid checks the value at b[i] and returns its end; ok=false is "not
// proven valid".
func (n *fastNode) valid(b []byte, i, depth int) (int, bool) {
	n, depth, ok := n.deref(depth)
	if !ok || i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return n.validString(b, i)
	case c == '{':
		return n.validObject(b, i, depth)
	case c == '[':
		return n.validArray(b, i, depth)
	case c == 't' || c == 'f':
		if n.hasEnum || n.hasConst || !n.allows(tBoolean) {
			return 0, false
		}
		return audit.SkipValue(b, i)
	case c == 'n':
		if n.hasEnum || n.hasConst || !n.allows(tNull) {
			return 0, false
		}
		return audit.SkipValue(b, i)
	default:
		return n.validNumber(b, i)
	}
}

func (n *fastNode) allows(t uint8) bool { return n.types == 0 || n.types&t != 0 }

func (n *fastNode) validString(b []byte, i int) (int, bool) {
	end, esc, ok := audit.ScanString(b, i)
	if !ok || !n.allows(tString) {
		return 0, false
	}
	if !n.hasEnum && !n.hasConst && n.pattern == nil && n.minLen == 0 && n.maxLen < 0 {
		return end, true
	}
	v, ok := audit.StringValue(b, i, end, esc)
	if !ok {
		return 0, false // escapes: the library decodes them
	}
	if n.hasEnum {
		if _, ok := n.enum[string(v)]; !ok {
			return 0, false
		}
	}
	if n.hasConst && (!n.constIsStr || n.constStr != string(v)) {
		return 0, false
	}
	if n.minLen > 0 || n.maxLen >= 0 {
		runes := utf8.RuneCount(v)
		if runes < n.minLen || (n.maxLen >= 0 && runes > n.maxLen) {
			return 0, false
		}
	}
	if n.pattern != nil && !n.pattern.Match(v) {
		return 0, false
	}
	return end, true
}

func (n *fastNode) validNumber(b []byte, i int) (int, bool) {
	end, fractional, ok := audit.ScanNumber(b, i)
	if !ok || n.hasEnum || n.hasConst {
		return 0, false
	}
	// 1.0 is an integer to the library; only plain digits are settled here.
	if !(n.allows(tNumber) || (n.types&tInteger != 0 && !fractional)) {
		return 0, false
	}
	if !n.min.set && !n.max.set {
		return end, true
	}
	f, ok := audit.ParseNumber(b[i:end])
	if !ok || math.IsInf(f, 0) {
		return 0, false
	}
	exact := !fractional && math.Abs(f) < 1<<53
	if !checkBound(f, exact, n.min, 1) || !checkBound(f, exact, n.max, -1) {
		return 0, false
	}
	return end, true
}

// checkBound: sign 1 for a lower bound, -1 for an upper one. Rounding to
// float64 is monotonic, so a strict inequality between rounded values holds
// exactly; a tie is settled only when both sides are exact integers.
func checkBound(v float64, exact bool, b bound, sign float64) bool {
	if !b.set {
		return true
	}
	d := (v - b.f) * sign
	switch {
	case d > 0:
		return true
	case d == 0 && exact && b.exactInt:
		return !b.exclusive
	}
	return false
}

// fastMember is a name an object's schema names, in properties or in
// required.
type fastMember struct {
	name     string
	node     *fastNode // nil when the name is only required
	required uint64    // bit k set where required[k] is the name
}

// membersSearched is how many members a node searches in turn before it
// looks them up by name.
const membersSearched = 8

func (n *fastNode) indexMembers() {
	at := map[string]int{}
	add := func(name string) *fastMember {
		if i, ok := at[name]; ok {
			return &n.members[i]
		}
		at[name] = len(n.members)
		n.members = append(n.members, fastMember{name: name})
		return &n.members[len(n.members)-1]
	}
	for name, child := range n.props {
		add(name).node = child
	}
	for k, name := range n.required {
		if k < 64 {
			add(name).required |= 1 << k
		}
	}
	if len(n.members) > membersSearched {
		n.memberIndex = make(map[string]*fastMember, len(n.members))
		for i := range n.members {
			n.memberIndex[n.members[i].name] = &n.members[i]
		}
	}
}

// member is the schema's entry for a plain key, or nil.
func (n *fastNode) member(key []byte) *fastMember {
	if n.memberIndex != nil {
		return n.memberIndex[string(key)]
	}
	for i := range n.members {
		if n.members[i].name == string(key) {
			return &n.members[i]
		}
	}
	return nil
}

func (n *fastNode) validObject(b []byte, i, depth int) (int, bool) {
	if !n.provesObjects() {
		return 0, false
	}
	return n.checkMembers(b, i, depth, nil, nil)
}

// checkMembers checks the members of the object at b[i] against n's
// properties, additionalProperties and required, and returns its end. A
// member that fails its property's node, a key additionalProperties: false
// forbids, or a required name missing ends the walk unprovable, unless nw
// is set: then nw gathers them, and the walk goes on past them (a member
// that fails additionalProperties' schema still ends it). A key with
// escapes or in invalid UTF-8 is not proven: the decoder rewrites it, and
// the library judges the rewritten key (a raw "\x80" is "\uFFFD" to it,
// which a property may name). When idAt is set, it gets where the member
// schema_id's value starts, and a second schema_id ends the walk
// unprovable.
func (n *fastNode) checkMembers(b []byte, i, depth int, nw *narrowing, idAt *int) (int, bool) {
	var seen uint64 // required[k] present, for the first 64 required names
	if len(n.required) > 64 {
		return 0, false
	}
	end, ok := audit.EachMember(b, i, func(ks, ke int, kEsc bool, vs int) (int, bool) {
		key := b[ks+1 : ke-1]
		if kEsc || !validKey(key) {
			return 0, false
		}
		if idAt != nil && string(key) == "schema_id" {
			if *idAt >= 0 {
				return 0, false // the decoder keeps the last of the two
			}
			*idAt = vs
		}
		if m := n.member(key); m != nil {
			seen |= m.required
			if m.node != nil {
				end, ok := m.node.valid(b, vs, depth+1)
				if ok || nw == nil {
					return end, ok
				}
				if end, ok = audit.SkipValue(b, vs); ok {
					nw.failing = append(nw.failing, audit.RawMember{Key: m.name, Value: b[vs:end]})
				}
				return end, ok
			}
		}
		switch {
		case n.addlFalse:
			if nw == nil {
				return 0, false
			}
			nw.forbidden = append(nw.forbidden, string(key))
			return audit.SkipValue(b, vs)
		case n.addl != nil:
			return n.addl.valid(b, vs, depth+1)
		}
		return audit.SkipValue(b, vs)
	})
	if !ok {
		return 0, false
	}
	if all := uint64(1)<<len(n.required) - 1; seen != all {
		if nw == nil {
			return 0, false
		}
		nw.missing = all &^ seen
	}
	return end, true
}

// validKey is utf8.Valid for a key, without its call where the key is
// ASCII, as keys nearly always are.
func validKey(key []byte) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return utf8.Valid(key)
		}
	}
	return true
}

func (n *fastNode) validArray(b []byte, i, depth int) (int, bool) {
	if !n.allows(tArray) || n.hasEnum || n.hasConst {
		return 0, false
	}
	count := 0
	end, ok := audit.EachElement(b, i, func(_, vs int) (int, bool) {
		count++
		if n.items != nil {
			return n.items.valid(b, vs, depth+1)
		}
		return audit.SkipValue(b, vs)
	})
	if !ok || count < n.minItems || (n.maxItems >= 0 && count > n.maxItems) {
		return 0, false
	}
	return end, true
}
