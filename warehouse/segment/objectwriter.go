package segment

import (
	"math"
	"slices"
	"strconv"

	"github.com/eventaudit/eventaudit/audit"
)

// objectWriter writes a rebuilt object's JSON straight from its columns,
// as audit.AppendJSON writes the map object builds from them, without the
// map: its leaves are sorted by property path, which is the order of
// JSON's sorted keys at every level, and the common values (text for a
// string, numbers, booleans) are written without boxing them, into the
// message's own buffer. With it BenchmarkLayouts/layout=segment went from
// 198k to 225k events/s, and to 251k with JSON text written undecoded and
// the object written in place (docs/performance.md).
//
// It declines, and the caller builds the map, where the map's rules are
// more than writing leaves in order: a map property whose keys are
// columns of their own (isMap, folded by foldMap), a column that no leaf
// reads (kept under its own name, maybe over a leaf's key), and a value
// AppendJSON refuses. TestObjectWriterWritesWhatObjectBuilds holds the two
// to the same bytes.
type objectWriter struct {
	leaves []segmentLeaf // by property path
	folds  bool          // a leaf is a map
}

// noLeaves is the writer of an event no schema describes: its object is
// empty but for the columns no leaf reads, so it writes only "{}".
var noLeaves = newObjectWriter(nil)

func newObjectWriter(leaves []segmentLeaf) *objectWriter {
	w := &objectWriter{leaves: slices.Clone(leaves)}
	slices.SortFunc(w.leaves, func(a, b segmentLeaf) int { return slices.Compare(a.props, b.props) })
	for _, l := range leaves {
		w.folds = w.folds || l.isMap()
	}
	return w
}

// append appends the object to b and marks the columns it read in used,
// as object does; ok=false means "build the map", with b as it was.
func (w *objectWriter) append(b []byte, idx map[string]int, vals []any, kinds []int, used []bool) (_ []byte, ok bool) {
	if w.folds {
		return b, false
	}
	start := len(b)
	b = append(b, '{')
	// open holds the property path of the objects open below the root.
	var stack [8]string
	open := stack[:0]
	for _, l := range w.leaves {
		i, has := idx[l.col]
		if has {
			used[i] = true
		}
		present := has && vals[i] != nil
		if !present && !l.shape.Allows("null") {
			continue // no column, or NULL: absent unless null is allowed (object)
		}
		parents := l.props[:len(l.props)-1]
		shared := 0
		for shared < len(open) && shared < len(parents) && open[shared] == parents[shared] {
			shared++
		}
		for len(open) > shared {
			b, open = append(b, '}'), open[:len(open)-1]
		}
		for _, p := range parents[shared:] {
			b = member(b, p)
			b, open = append(b, '{'), append(open, p)
		}
		b = member(b, l.props[len(l.props)-1])
		switch {
		case !present:
			b = append(b, "null"...)
		default:
			var plain bool
			if b, plain = appendPlain(b, vals[i], kinds[i], l.shape); plain {
				break
			}
			if b, ok = audit.AppendJSON(b, convert(vals[i], kinds[i], l.shape)); !ok {
				return b[:start], false
			}
		}
	}
	for range open {
		b = append(b, '}')
	}
	b = append(b, '}')
	for i, v := range vals {
		if v != nil && !used[i] {
			return b[:start], false
		}
	}
	return b, true
}

// appendPlain appends, for the values most columns hold, what
// AppendJSON(convert(v, k, ps)) appends, without boxing the converted value;
// ok=false leaves v to convert.
func appendPlain(b []byte, v any, k int, ps *audit.Shape) (_ []byte, ok bool) {
	// convert writes a number or a boolean as text where the property is
	// a string and not also a number (a boolean).
	switch x := v.(type) {
	case string:
		// Text for a property that can only be a string: no kind or
		// type reads anything else into it.
		if k == kindText && len(ps.Types) == 1 && ps.Types[0] == "string" {
			return audit.AppendJSONString(b, x), true
		}
		// JSON held as text (Segment's products): an array or object is
		// written as decoded, in a JSON column whatever the property,
		// in a text column where the property may be one.
		if k == kindJSON || k == kindText && (ps.Allows("array") || ps.Allows("object")) {
			return audit.AppendJSONText(b, []byte(x))
		}
	case int64:
		if !ps.Allows("string") || ps.Allows("number") {
			return strconv.AppendInt(b, x, 10), true
		}
	case float64:
		// An integral float is written without a point ('f', -1), so
		// convert's integer rewrite never applies to it.
		if !math.IsNaN(x) && !math.IsInf(x, 0) && (!ps.Allows("string") || ps.Allows("number")) {
			return strconv.AppendFloat(b, x, 'f', -1, 64), true
		}
	case bool:
		if !ps.Allows("string") || ps.Allows("boolean") {
			return strconv.AppendBool(b, x), true
		}
	}
	return b, false
}

// member appends a member's key and colon, after a comma where one is due.
func member(b []byte, key string) []byte {
	return append(audit.AppendJSONString(comma(b), key), ':')
}

// comma is b with a comma where a member came before, in the object or
// message being written: only an object's '{' has none before it.
func comma(b []byte) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	return b
}
