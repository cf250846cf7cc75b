package audit

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The property profile: what an event's validated object actually carries,
// collected in the audit's own pass. Each path is a JSON pointer into the
// whole message, like a violation's instance_path, with "*" standing for
// every item of an array ("/properties/products/*/sku").

// ProfileLimits bound a profile's memory, whatever the table holds: a
// source that sends a fresh key per message (an id used as a key) fills
// the caps and is reported as such, instead of taking the run's memory.
type ProfileLimits struct {
	// PathsPerEvent caps the paths profiled per event; later ones are
	// counted as dropped.
	PathsPerEvent int
	// Paths caps the paths profiled in the whole run.
	Paths int
	// Distinct is how many distinct strings a path keeps; past it, the
	// path is not low-cardinality and keeps none.
	Distinct int
	// DistinctBytes is the longest string kept as a distinct value; a
	// longer one ends the path's distinct set.
	DistinctBytes int
	// Depth is how deep under the validated object paths are profiled.
	Depth int
}

// DefaultProfileLimits keep a run's profile within about 40 MB: 20,000
// paths, each with at most 20 strings of at most 64 bytes and an example.
var DefaultProfileLimits = ProfileLimits{PathsPerEvent: 500, Paths: 20000, Distinct: 20, DistinctBytes: 64, Depth: 12}

// MaxProfilePathBytes drops paths longer than a person reads: a key that is
// really data.
const MaxProfilePathBytes = 256

// ProfileFormat is a string format the profile checks every value of a
// path against, so that inference may claim it only when all match. The
// checker must be the validator's own, or a stricter one.
type ProfileFormat struct {
	Name  string
	Check func(string) bool
}

// Profiling configures the property profile of a run.
type Profiling struct {
	Limits ProfileLimits
	// ValueStats keeps, beside each path's types, its values' statistics:
	// strings' lengths and distinct values, numbers' bounds, Formats.
	// Inference needs them; an audit's tables, drift and reports read only
	// the types, their counts and examples, and measuring every string
	// cost a 1M-row DuckDB audit a tenth of its profile's time.
	ValueStats bool
	// Formats are checked on every string, with ValueStats; empty checks
	// none (an audit needs none, only inference does).
	Formats []ProfileFormat
}

// JSON types as the profile names them; integer is a number with no
// fraction, as JSON Schema has it.
var jsonKinds = [...]string{"string", "integer", "number", "boolean", "array", "object", "null"}

const (
	kindString = iota
	kindInteger
	kindNumber
	kindBoolean
	kindArray
	kindObject
	kindNull
	kindCount
)

// pathStats is what one path has carried.
type pathStats struct {
	types          [kindCount]int64
	minLen, maxLen int
	min, max       float64
	distinct       []string
	lastDistinct   int // the index in distinct of the last string seen
	manyDistinct   bool
	// formats has bit i set while every string matched Formats[i].
	formats uint32
	// examples are the smallest raw scalar value of each kind, so that
	// the example does not depend on which worker saw what.
	examples [kindCount][]byte
}

func (p *pathStats) values() int64 {
	var n int64
	for _, c := range p.types {
		n += c
	}
	return n
}

type eventProfile struct {
	objectPath string
	rows       int64
	paths      map[string]*pathStats
	// dropped counts values at paths past the caps.
	dropped int64
	// root is the validated object's node in the raw walk.
	root *pathNode
}

// profile is a run's, or one batch's, property profile.
type profile struct {
	cfg    *Profiling
	events map[eventKey]*eventProfile
	paths  int
	// buf is the path being walked, reused across rows.
	buf []byte
}

func newProfile(cfg *Profiling) *profile {
	return &profile{cfg: cfg, events: map[eventKey]*eventProfile{}}
}

func (p *profile) event(k eventKey, objectPath string) *eventProfile {
	e := p.events[k]
	if e == nil {
		e = &eventProfile{objectPath: objectPath, paths: map[string]*pathStats{}}
		p.events[k] = e
	}
	return e
}

// stats returns the path's stats, or nil when a cap keeps it out.
func (p *profile) stats(e *eventProfile, path []byte) *pathStats {
	if s := e.paths[string(path)]; s != nil {
		return s
	}
	lim := p.cfg.Limits
	if len(path) > MaxProfilePathBytes || len(e.paths) >= lim.PathsPerEvent || p.paths >= lim.Paths {
		e.dropped++
		return nil
	}
	s := &pathStats{formats: 1<<len(p.cfg.Formats) - 1}
	e.paths[string(path)] = s
	p.paths++
	return s
}

// observeRaw profiles one row's validated object from its raw bytes, which
// the caller has proven one well-formed JSON value.
func (p *profile) observeRaw(k eventKey, objectPath string, object []byte) {
	p.observeRawTo(p.event(k, objectPath), object)
}

// observeRawTo profiles one row's object into e, one of p's events.
func (p *profile) observeRawTo(e *eventProfile, object []byte) {
	e.rows++
	i := SkipSpace(object, 0)
	if i < len(object) && object[i] == '{' {
		if e.root == nil {
			e.root = &pathNode{path: e.objectPath}
		}
		p.walkMembers(e, e.root, object, i, 0)
	}
}

// pathNode is a path of one event as the raw walk meets it, with the
// paths under it by key token: a row whose keys the event has had before
// is profiled without building or hashing a path. Only paths within the
// caps are kept, so the nodes are no more than the paths.
type pathNode struct {
	path  string
	stats *pathStats
	kids  []pathKid
	// next is the kid after the one last found: rows of one event mostly
	// write their keys in one order.
	next int
	// index finds a kid by token once there are too many to search.
	index map[string]*pathNode
	items *pathNode // the path's array items ("/*")
}

// kidsSearched is how many kids a node searches in turn before it keeps
// an index.
const kidsSearched = 16

type pathKid struct {
	token string // the key as written, quotes included
	node  *pathNode
}

// kid is the node under n of a key token, or nil.
func (n *pathNode) kid(token []byte) *pathNode {
	if n.next < len(n.kids) && n.kids[n.next].token == string(token) {
		n.next++
		return n.kids[n.next-1].node
	}
	if n.index != nil {
		return n.index[string(token)]
	}
	for i := range n.kids {
		if n.kids[i].token == string(token) {
			n.next = i + 1
			return n.kids[i].node
		}
	}
	return nil
}

// add makes k the kid of a key token under n.
func (n *pathNode) add(token []byte, k *pathNode) {
	n.kids = append(n.kids, pathKid{token: string(token), node: k})
	if n.index == nil && len(n.kids) > kidsSearched {
		n.index = make(map[string]*pathNode, len(n.kids))
		for _, kid := range n.kids {
			n.index[kid.token] = kid.node
		}
	} else if n.index != nil {
		n.index[string(token)] = k
	}
}

// walkMembers profiles the members of the object at b[i] == '{', at n's
// path, and returns its end. It walks the members itself, as skipObject
// does, rather than through EachMember's callback: an object has a few
// members, and the profile meets every one of every row.
func (p *profile) walkMembers(e *eventProfile, n *pathNode, b []byte, i, depth int) (int, bool) {
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		ks := i
		ke, kEsc, vs, ok := scanMemberKey(b, i)
		if !ok {
			return 0, false
		}
		k := n.kid(b[ks:ke])
		if k == nil {
			p.buf = appendToken(append(p.buf[:0], n.path...), b[ks:ke], kEsc)
			if s := p.stats(e, p.buf); s != nil {
				k = &pathNode{path: string(p.buf), stats: s}
				n.add(b[ks:ke], k)
			}
		}
		if k != nil {
			i, ok = p.walkRaw(e, k, b, vs, depth+1)
		} else {
			i, ok = SkipValue(b, vs) // dropped, and counted so by stats
		}
		if !ok {
			return 0, false
		}
		var done bool
		if i, done, ok = afterValue(b, i, '}'); !ok || done {
			return i, ok
		}
	}
}

// walkRaw profiles the value at b[i] into n's stats and returns its end.
func (p *profile) walkRaw(e *eventProfile, n *pathNode, b []byte, i, depth int) (int, bool) {
	s := n.stats
	var end int
	var ok bool
	switch c := b[i]; {
	case c == '"':
		var esc bool
		if end, esc, ok = ScanString(b, i); ok {
			if !p.cfg.ValueStats {
				s.types[kindString]++
				s.example(kindString, b[i:end])
				break
			}
			v := b[i+1 : end-1]
			runes := asciiLen(v)
			if runes < 0 && !esc && utf8.Valid(v) {
				runes = utf8.RuneCount(v)
			}
			if esc || runes < 0 {
				var str string
				if json.Unmarshal(b[i:end], &str) != nil {
					return end, ok
				}
				v, runes = []byte(str), utf8.RuneCountInString(str)
			}
			s.string(p.cfg, v, runes)
			s.example(kindString, b[i:end])
		}
	case c == '{':
		s.types[kindObject]++
		if depth >= p.cfg.Limits.Depth {
			return SkipValue(b, i)
		}
		end, ok = p.walkMembers(e, n, b, i, depth)
	case c == '[':
		s.types[kindArray]++
		if depth >= p.cfg.Limits.Depth {
			return SkipValue(b, i)
		}
		end, ok = EachElement(b, i, func(_, vs int) (int, bool) {
			if n.items == nil {
				p.buf = append(append(p.buf[:0], n.path...), "/*"...)
				is := p.stats(e, p.buf)
				if is == nil {
					return SkipValue(b, vs) // dropped, and counted so by stats
				}
				n.items = &pathNode{path: string(p.buf), stats: is}
			}
			return p.walkRaw(e, n.items, b, vs, depth+1)
		})
	case c == 't' || c == 'f':
		if end, ok = SkipValue(b, i); ok {
			s.types[kindBoolean]++
			s.example(kindBoolean, b[i:end])
		}
	case c == 'n':
		if end, ok = SkipValue(b, i); ok {
			s.types[kindNull]++
		}
	default:
		var frac bool
		if end, frac, ok = ScanNumber(b, i); ok {
			var f float64
			if frac || p.cfg.ValueStats {
				f, _ = ParseNumber(b[i:end])
			}
			s.number(p.cfg, f, !frac || f == math.Trunc(f), b[i:end])
		}
	}
	return end, ok
}

// observeValue profiles a row's validated object already decoded (with
// UseNumber), when the raw walk could not be used.
func (p *profile) observeValue(k eventKey, objectPath string, object any) {
	e := p.event(k, objectPath)
	e.rows++
	p.buf = append(p.buf[:0], objectPath...)
	if m, ok := object.(map[string]any); ok {
		p.walkMap(e, m, 0)
	}
}

func (p *profile) walkMap(e *eventProfile, m map[string]any, depth int) {
	base := len(p.buf)
	for k, v := range m {
		p.buf = append(append(p.buf[:base], '/'), PointerToken(k)...)
		p.walkValue(e, v, depth+1)
	}
	p.buf = p.buf[:base]
}

func (p *profile) walkValue(e *eventProfile, v any, depth int) {
	s := p.stats(e, p.buf)
	if s == nil {
		return
	}
	switch v := v.(type) {
	case string:
		if p.cfg.ValueStats {
			s.string(p.cfg, []byte(v), utf8.RuneCountInString(v))
		} else {
			s.types[kindString]++
		}
		b, _ := appendValue(nil, v, MaxValueBytes)
		s.example(kindString, b)
	case json.Number:
		f, _ := strconv.ParseFloat(v.String(), 64)
		s.number(p.cfg, f, !strings.ContainsAny(v.String(), ".eE") || f == math.Trunc(f), []byte(v.String()))
	case bool:
		s.types[kindBoolean]++
		s.example(kindBoolean, []byte(strconv.FormatBool(v)))
	case nil:
		s.types[kindNull]++
	case map[string]any:
		s.types[kindObject]++
		if depth < p.cfg.Limits.Depth {
			p.walkMap(e, v, depth)
		}
	case []any:
		s.types[kindArray]++
		if depth < p.cfg.Limits.Depth {
			base := len(p.buf)
			p.buf = append(p.buf, "/*"...)
			for _, item := range v {
				p.walkValue(e, item, depth+1)
			}
			p.buf = p.buf[:base]
		}
	}
}

// appendToken appends "/" and a key token (quotes included) as a JSON
// pointer token.
func appendToken(buf, tok []byte, escaped bool) []byte {
	buf = append(buf, '/')
	key := tok[1 : len(tok)-1]
	if escaped || !utf8.Valid(key) {
		var k string
		if json.Unmarshal(tok, &k) != nil {
			return append(buf, '?')
		}
		return append(buf, PointerToken(k)...)
	}
	for _, c := range key {
		switch c {
		case '~':
			buf = append(buf, '~', '0')
		case '/':
			buf = append(buf, '~', '1')
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// asciiLen is the length of v when every byte of it is ASCII, and -1
// otherwise: most values are, and their length is their count of code
// points, with no UTF-8 to check.
func asciiLen(v []byte) int {
	var high uint64
	i := 0
	for ; i+8 <= len(v); i += 8 {
		high |= binary.LittleEndian.Uint64(v[i:])
	}
	for ; i < len(v); i++ {
		high |= uint64(v[i])
	}
	if high&highs != 0 {
		return -1
	}
	return len(v)
}

// string counts a string value of n code points.
func (s *pathStats) string(cfg *Profiling, v []byte, n int) {
	if s.types[kindString] == 0 || n < s.minLen {
		s.minLen = n
	}
	if s.types[kindString] == 0 || n > s.maxLen {
		s.maxLen = n
	}
	s.types[kindString]++
	if !s.manyDistinct {
		if len(v) > cfg.Limits.DistinctBytes {
			s.manyDistinct, s.distinct = true, nil
		} else if s.lastDistinct >= len(s.distinct) || s.distinct[s.lastDistinct] != string(v) {
			// Rows of an event mostly repeat a value, so the last one
			// found is tried first.
			if d := slices.Index(s.distinct, string(v)); d >= 0 {
				s.lastDistinct = d
			} else if len(s.distinct) >= cfg.Limits.Distinct {
				s.manyDistinct, s.distinct = true, nil
			} else {
				s.lastDistinct, s.distinct = len(s.distinct), append(s.distinct, string(v))
			}
		}
	}
	for i, f := range cfg.Formats {
		if s.formats&(1<<i) != 0 && !f.Check(string(v)) {
			s.formats &^= 1 << i
		}
	}
}

// number counts a number of value f (read only with ValueStats or a
// fraction, which integral needs).
func (s *pathStats) number(cfg *Profiling, f float64, integral bool, tok []byte) {
	if cfg.ValueStats {
		if s.types[kindInteger]+s.types[kindNumber] == 0 || f < s.min {
			s.min = f
		}
		if s.types[kindInteger]+s.types[kindNumber] == 0 || f > s.max {
			s.max = f
		}
	}
	k := kindNumber
	if integral {
		k = kindInteger
	}
	s.types[k]++
	s.example(k, tok)
}

// example keeps the smallest raw value of a kind, cut to MaxValueBytes.
func (s *pathStats) example(k int, raw []byte) {
	raw = raw[:min(len(raw), MaxValueBytes)]
	if s.examples[k] == nil || string(raw) < string(s.examples[k]) {
		s.examples[k] = append(s.examples[k][:0], raw...)
	}
}

// merge adds b into p, within p's caps.
func (p *profile) merge(b *profile) {
	for k, be := range b.events {
		e := p.event(k, be.objectPath)
		e.rows += be.rows
		e.dropped += be.dropped
		for path, bs := range be.paths {
			s := e.paths[path]
			if s == nil {
				if len(e.paths) >= p.cfg.Limits.PathsPerEvent || p.paths >= p.cfg.Limits.Paths {
					e.dropped += bs.values()
					continue
				}
				e.paths[path] = bs
				p.paths++
				continue
			}
			s.merge(p.cfg, bs)
		}
	}
}

func (s *pathStats) merge(cfg *Profiling, o *pathStats) {
	if o.types[kindString] > 0 {
		if s.types[kindString] == 0 || o.minLen < s.minLen {
			s.minLen = o.minLen
		}
		if s.types[kindString] == 0 || o.maxLen > s.maxLen {
			s.maxLen = o.maxLen
		}
	}
	if on := o.types[kindInteger] + o.types[kindNumber]; on > 0 {
		sn := s.types[kindInteger] + s.types[kindNumber]
		if sn == 0 || o.min < s.min {
			s.min = o.min
		}
		if sn == 0 || o.max > s.max {
			s.max = o.max
		}
	}
	if o.manyDistinct {
		s.manyDistinct, s.distinct = true, nil
	}
	for _, d := range o.distinct {
		if s.manyDistinct {
			break
		}
		if !slices.Contains(s.distinct, d) {
			if len(s.distinct) >= cfg.Limits.Distinct {
				s.manyDistinct, s.distinct = true, nil
				break
			}
			s.distinct = append(s.distinct, d)
		}
	}
	s.formats &= o.formats
	for k := range s.types {
		s.types[k] += o.types[k]
		if o.examples[k] != nil && (s.examples[k] == nil || string(o.examples[k]) < string(s.examples[k])) {
			s.examples[k] = o.examples[k]
		}
	}
}

// EventProfile is what one event × schema carried in a run.
type EventProfile struct {
	Type, Name, SchemaID string
	Unplanned            bool
	// ObjectPath is the validated object's JSON pointer ("/properties").
	ObjectPath string
	// Rows is how many messages were profiled.
	Rows int64
	// Properties are sorted by path.
	Properties []PropertyProfile
	// Dropped counts values at paths past the caps (ProfileLimits): when
	// it is not zero, the profile is not the event's whole shape.
	Dropped int64
}

// PropertyProfile is what one path carried.
type PropertyProfile struct {
	Path string
	// Types counts the values of each JSON type, in jsonKinds' order.
	Types []TypeCount
	// InPlan says the event's schema declares the path by name, every
	// level of it.
	InPlan bool
	// The rest is kept with Profiling.ValueStats, and zero without.
	// MinLength and MaxLength bound the strings, in code points.
	MinLength, MaxLength int
	// Minimum and Maximum bound the numbers.
	Minimum, Maximum float64
	// Values are the distinct strings, sorted, when there were at most
	// ProfileLimits.Distinct short ones; nil otherwise.
	Values []string
	// Formats are the ProfileFormats every string matched.
	Formats []string
}

// TypeCount is how many values of one JSON type a path carried, with the
// smallest as an example (already passed through the run's ValuePolicy).
type TypeCount struct {
	Type    string
	Count   int64
	Example string
}

// Count is how many values a path carried, of any type.
func (p PropertyProfile) Count() int64 {
	var n int64
	for _, t := range p.Types {
		n += t.Count
	}
	return n
}

// CountOf is how many values of type t the path carried.
func (p PropertyProfile) CountOf(t string) int64 {
	for _, x := range p.Types {
		if x.Type == t {
			return x.Count
		}
	}
	return 0
}

// profiles renders the profile, sorted by event then path; values pass
// through policy, and InPlan is read from each schema's Shape.
func (p *profile) profiles(policy ValuePolicy, shapes func(schemaID string) *Shape) []EventProfile {
	out := make([]EventProfile, 0, len(p.events))
	for k, e := range p.events {
		ep := EventProfile{Type: k.Type, Name: k.Name, SchemaID: k.SchemaID, Unplanned: k.Unplanned,
			ObjectPath: e.objectPath, Rows: e.rows, Dropped: e.dropped}
		var shape *Shape
		if !k.Unplanned && shapes != nil {
			shape = shapes(k.SchemaID)
		}
		for path, s := range e.paths {
			// A key may hold a NUL or invalid UTF-8, which no results table stores.
			pp := PropertyProfile{Path: clean(path, MaxNameBytes)}
			if p.cfg.ValueStats {
				pp.MinLength, pp.MaxLength, pp.Minimum, pp.Maximum = s.minLen, s.maxLen, s.min, s.max
			}
			if shape != nil {
				pp.InPlan = shapeAt(shape, strings.TrimPrefix(path, e.objectPath)) != nil
			}
			for kind, n := range s.types {
				if n == 0 {
					continue
				}
				tc := TypeCount{Type: jsonKinds[kind], Count: n}
				if s.examples[kind] != nil {
					tc.Example = clean(policy.raw(s.examples[kind]), 2*MaxValueBytes)
				}
				pp.Types = append(pp.Types, tc)
			}
			if s.types[kindString] > 0 && p.cfg.ValueStats {
				if !s.manyDistinct {
					pp.Values = slices.Sorted(slices.Values(s.distinct))
				}
				for i := range p.cfg.Formats {
					if s.formats&(1<<i) != 0 {
						pp.Formats = append(pp.Formats, p.cfg.Formats[i].Name)
					}
				}
			}
			ep.Properties = append(ep.Properties, pp)
		}
		slices.SortFunc(ep.Properties, func(a, b PropertyProfile) int { return strings.Compare(a.Path, b.Path) })
		out = append(out, ep)
	}
	slices.SortFunc(out, func(a, b EventProfile) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.SchemaID, b.SchemaID))
	})
	return out
}

// shapeAt is the shape that declares the path (relative to the validated
// object), or nil when some level of it is not declared by name.
func shapeAt(s *Shape, rel string) *Shape {
	if rel == "" {
		return s
	}
	for _, tok := range strings.Split(rel[1:], "/") {
		if s == nil {
			return nil
		}
		if tok == "*" {
			s = s.Items
			continue
		}
		s = s.Properties[UnescapeToken(tok)]
	}
	return s
}

// PropertyStats is one row of eventaudit_property_stats: one path × JSON
// type of one event in a run.
type PropertyStats struct {
	RunID                string
	EventType, EventName string
	SchemaID             string
	Path, JSONType       string
	Rows                 int64
	InPlan               bool
	Example              string
}

// PropertyStats are the rows of eventaudit_property_stats for the run.
func (s *Summary) PropertyStats() []PropertyStats {
	var out []PropertyStats
	for _, e := range s.Profiles {
		for _, p := range e.Properties {
			for _, t := range p.Types {
				out = append(out, PropertyStats{RunID: s.Run.RunID, EventType: e.Type, EventName: e.Name, SchemaID: e.SchemaID,
					Path: p.Path, JSONType: t.Type, Rows: t.Count, InPlan: p.InPlan, Example: t.Example})
			}
		}
	}
	return out
}
