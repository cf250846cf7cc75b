package audit

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// checkJSONText holds AppendJSONText to AppendJSON(DecodeJSON(text)): where
// it writes, it writes exactly that, for an array or object; where it
// declines, it leaves dst as it was. It reports whether it wrote.
func checkJSONText(t *testing.T, text []byte) bool {
	t.Helper()
	got, ok := AppendJSONText([]byte("dst:"), text)
	if !ok {
		if string(got) != "dst:" {
			t.Fatalf("%q: declined, but dst became %q", text, got)
		}
		return false
	}
	v, err := DecodeJSON(text)
	if err != nil {
		t.Fatalf("%q: wrote %s for text DecodeJSON refuses: %v", text, got, err)
	}
	switch v.(type) {
	case []any, map[string]any:
	default:
		t.Fatalf("%q: wrote %s for a %T", text, got, v)
	}
	want, ok := AppendJSON([]byte("dst:"), v)
	if !ok || string(got) != string(want) {
		t.Fatalf("%q: wrote %s, AppendJSON of the decoded value %s (ok %v)", text, got, want, ok)
	}
	return true
}

func TestAppendJSONTextWritesTheDecodedValue(t *testing.T) {
	for _, tt := range []struct {
		text  string
		wrote bool
	}{
		{`[{"price":1.50,"sku":"S-1"},{"sku":"S-2","price":2}]`, true},
		{` { "b" : [ 1 , 2 ] ,"a":{"d":null,"c":true} } `, true}, // white space, keys sorted at each level
		{`{"a":1,"b":2,"a":3}`, true},                            // the last of two equal keys
		{`[1e2,-0,0.10,-1.5E-3]`, true},                          // numbers as written
		{`{"é":"ü","😀":"x"}`, true},
		{`[]`, true}, {`{}`, true},
		{`"text"`, false}, {`12`, false}, {`null`, false}, // not an array or object
		{`[1] x`, false}, {`[1]]`, false}, {`{"a":1,}`, false}, {`[01]`, false}, {`[tru]`, false}, {``, false},
		{`["a\"b"]`, false}, {`{"k\u0065y":1}`, false}, // escapes are decoded first
		{`["<b>"]`, false}, {`["a&b"]`, false}, {"[\"\u2028\"]", false}, {"[\"\xff\"]", false}, // AppendJSON escapes or replaces them
		{strings.Repeat("[", 70) + strings.Repeat("]", 70), false}, // deeper than it writes
	} {
		if got := checkJSONText(t, []byte(tt.text)); got != tt.wrote {
			t.Errorf("%q: wrote %v, want %v", tt.text, got, tt.wrote)
		}
	}
}

// Random documents, with white space, repeated keys and characters that
// need escaping, and the same documents with one byte changed.
func TestAppendJSONTextOnRandomText(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	keys := []string{"a", "b", "ab", "B", "é", "price", "sku", "<", "k\\u0061"}
	strs := []string{"", "x", "red", "é😀", "a<b", "\\n", "\\\"", "\u2028", "\xff", "S-1 & co"}
	nums := []string{"0", "-0", "1", "1.50", "-2.5e3", "1E+2", "123456789012345678901234567890"}
	ws := []string{"", "", "", " ", "\n\t", "\r "}
	var value func(b *strings.Builder, depth int)
	value = func(b *strings.Builder, depth int) {
		b.WriteString(ws[rng.IntN(len(ws))])
		switch n := rng.IntN(8); {
		case n < 2 && depth < 4:
			b.WriteByte('{')
			for i := range rng.IntN(4) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`"` + keys[rng.IntN(len(keys))] + `":`)
				value(b, depth+1)
			}
			b.WriteByte('}')
		case n < 4 && depth < 4:
			b.WriteByte('[')
			for i := range rng.IntN(4) {
				if i > 0 {
					b.WriteByte(',')
				}
				value(b, depth+1)
			}
			b.WriteByte(']')
		case n < 6:
			b.WriteString(`"` + strs[rng.IntN(len(strs))] + `"`)
		case n < 7:
			b.WriteString(nums[rng.IntN(len(nums))])
		default:
			b.WriteString([]string{"true", "false", "null"}[rng.IntN(3)])
		}
		b.WriteString(ws[rng.IntN(len(ws))])
	}
	wrote, declined := 0, 0
	for range 30000 {
		var b strings.Builder
		b.WriteByte("[{"[rng.IntN(2)])
		if b.String() == "[" {
			value(&b, 1)
			b.WriteByte(']')
		} else {
			b.WriteString(`"k":`)
			value(&b, 1)
			b.WriteByte('}')
		}
		text := []byte(b.String())
		if rng.IntN(3) == 0 { // one byte changed, removed or doubled
			i := rng.IntN(len(text))
			switch rng.IntN(3) {
			case 0:
				text[i] = "{}[],:\" 1ax\\"[rng.IntN(12)]
			case 1:
				text = append(text[:i], text[i+1:]...)
			default:
				text = append(text[:i+1], text[i:]...)
			}
		}
		if checkJSONText(t, text) {
			wrote++
		} else {
			declined++
		}
	}
	if wrote < 5000 || declined < 5000 {
		t.Errorf("the cases did not exercise both sides: %d written, %d declined", wrote, declined)
	}
}

func FuzzAppendJSONText(f *testing.F) {
	for _, s := range []string{`[{"price":1.50,"sku":"S-1"}]`, `{"a":1,"a":2}`, ` {"b":[],"a":{}} `, `["<"]`, `[1] x`, `{"\u0061":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) { checkJSONText(t, text) })
}
