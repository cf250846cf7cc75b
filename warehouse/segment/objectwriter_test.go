package segment

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// The object writer against the map it replaces, on random schemas and
// rows: wherever it writes, its bytes are AppendJSON's (json.Marshal's) of
// the map object builds, and it marks the same columns read; it declines
// only where a leaf is a map or a column is left over.
func TestObjectWriterWritesWhatObjectBuilds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	// Names that sort and slug awkwardly: a prefix of another, camelCase
	// and snake_case that share a column (aB, a_b), escapes, non-ASCII.
	names := []string{"a", "aB", "a_b", "ab", "A", "b", "é", "z\u2028", "<k>", "x&y", "_", "a0"}
	types := [][]string{{"string"}, {"integer"}, {"number"}, {"boolean"}, {"array"}, {"string", "null"},
		{"integer", "null"}, {"null"}, {}, {"object"}, {"object", "null"}}
	var shape func(depth int) *audit.Shape
	shape = func(depth int) *audit.Shape {
		sh := &audit.Shape{MaxLength: -1}
		if depth < 3 && rng.IntN(4) == 0 {
			sh.Types = []string{"object"}
			sh.Properties = map[string]*audit.Shape{}
			for range 1 + rng.IntN(4) {
				sh.Properties[names[rng.IntN(len(names))]] = shape(depth + 1)
			}
			return sh
		}
		sh.Types = types[rng.IntN(len(types))]
		return sh
	}
	values := []any{nil, "red", "<b>&amp;</b>", "é\u2028\x01", "12.50", "7", "true", "[1, 2.50]", `{"k":"v"}`, "[1] x", "",
		int64(-3), int64(1) << 60, 2.0, 2.5, float32(1.25), true, false, []byte("bytes"),
		time.Date(2026, 11, 20, 1, 2, 3, 400000000, time.UTC)}
	sqlTypes := []string{"varchar", "bigint", "double precision", "boolean", "json", "timestamp with time zone", "NUMBER"}
	wrote, declined := 0, 0
	for n := range 20000 {
		root := shape(0)
		if root.Properties == nil {
			root = &audit.Shape{Types: []string{"object"}, Properties: map[string]*audit.Shape{"a": root}, MaxLength: -1}
		}
		leaves := segmentLeaves(root)
		// Columns: most leaves' own, sometimes a leaf's sub-column (a
		// map's key) or a column of no leaf.
		idx := map[string]int{}
		var vals []any
		var kinds []int
		add := func(col string) {
			if _, dup := idx[col]; dup {
				return
			}
			idx[col] = len(vals)
			vals = append(vals, values[rng.IntN(len(values))])
			kinds = append(kinds, kindOf(sqlTypes[rng.IntN(len(sqlTypes))]))
		}
		for _, l := range leaves {
			switch rng.IntN(10) {
			case 0: // no column yet
			case 1:
				add(l.col + "_k")
			default:
				add(l.col)
			}
		}
		if rng.IntN(8) == 0 {
			add(names[rng.IntN(len(names))])
		}
		usedMap, usedWriter := make([]bool, len(vals)), make([]bool, len(vals))
		obj := object(leaves, idx, vals, kinds, usedMap)
		leftover := false
		for i, v := range vals {
			leftover = leftover || v != nil && !usedMap[i]
		}
		w := newObjectWriter(leaves)
		got, ok := w.append(nil, idx, vals, kinds, usedWriter)
		if !ok {
			declined++
			if !w.folds && !leftover {
				t.Fatalf("case %d: the writer declined an object it can write: %v %v", n, leaves, vals)
			}
			continue
		}
		wrote++
		want, ok := audit.AppendJSON(nil, obj)
		if !ok {
			t.Fatalf("case %d: the writer wrote %s where AppendJSON declines the map %v", n, got, obj)
		}
		if string(got) != string(want) {
			t.Fatalf("case %d: the writer wrote %s\nthe map is %s\nleaves %v, columns %v, values %v", n, got, want, leaves, idx, vals)
		}
		if !slices.Equal(usedMap, usedWriter) {
			t.Fatalf("case %d: the writer read columns %v, the map %v", n, usedWriter, usedMap)
		}
	}
	if wrote < 5000 || declined < 1000 {
		t.Errorf("the cases did not exercise both sides: %d written, %d declined", wrote, declined)
	}
	t.Logf("%d objects written, %d declined", wrote, declined)
}
