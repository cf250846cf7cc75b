package audit

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// ScanString reads 16 bytes at a time where it can, then eight; a stop byte
// (quote, backslash, control character) in any lane of either, after any
// prefix, must end the run exactly where a byte-by-byte scan ends it. The
// fillers are content next to each stop byte's value (space, '!', '#', '[',
// ']') and at and above 0x7f, which the vector scan compares unsigned.
func TestScanStringEveryLane(t *testing.T) {
	eachStringScan(t, func(t *testing.T) {
		for _, stop := range []string{`"`, `\"`, `\\`, `\u00e9`, "\x00", "\x1f", "\n"} {
			for pre := 0; pre <= 40; pre++ {
				for _, fill := range []string{"a", "é", " ", "!", "#", "[", "]", "\x7f", "\x80", "\xff"} {
					s := `"` + strings.Repeat(fill, pre) + stop + `tail"` + ` , "next"`
					end, esc, ok := ScanString([]byte(s), 0)
					wantEnd, wantEsc, wantOK := scanStringByByte([]byte(s), 0)
					if end != wantEnd || esc != wantEsc || ok != wantOK {
						t.Errorf("%q: got (%d, %v, %v), want (%d, %v, %v)", s, end, esc, ok, wantEnd, wantEsc, wantOK)
					}
					if ok && !json.Valid([]byte(s[:end])) {
						t.Errorf("%q: accepted %q, which is not a JSON string", s, s[:end])
					}
				}
			}
		}
	})
}

// eachStringScan runs test with the 16-byte scan, where the build and the
// CPU have it, and without it.
func eachStringScan(t *testing.T, test func(t *testing.T)) {
	was := setVectors(true)
	defer setVectors(was)
	for _, vectors := range []bool{true, false} {
		if setVectors(vectors); vectors && !haveVectors {
			continue
		}
		t.Run(map[bool]string{true: "16 bytes", false: "8 bytes"}[vectors], test)
	}
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"é\u00e9"`, "\"a\x01\"", `"unterminated`, `"12345678\"9"`,
		`"0123456789abcdef0123456789\u00e9x"`, "\"0123456789abcdef\xff\x1f\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		eachStringScan(t, func(t *testing.T) {
			end, esc, ok := ScanString(b, 0)
			wantEnd, wantEsc, wantOK := scanStringByByte(b, 0)
			if end != wantEnd || esc != wantEsc || ok != wantOK {
				t.Fatalf("%q: got (%d, %v, %v), want (%d, %v, %v)", b, end, esc, ok, wantEnd, wantEsc, wantOK)
			}
			if ok && !json.Valid(b[:end]) {
				t.Fatalf("%q: accepted %q, which is not a JSON string", b, b[:end])
			}
		})
	})
}

// scanStringByByte is ScanString without the 16- and eight-byte runs: the
// reference the fast scan must agree with. Escapes are checked alike
// (escapeEnd); the runs are what differs.
func scanStringByByte(b []byte, i int) (end int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			var ok bool
			if i, ok = escapeEnd(b, i); !ok {
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		}
	}
	return 0, false, false
}

// ParseNumber's own reading of short tokens must be strconv's, bit for
// bit: at each edge of the fast reading (15 digits, a 22-digit fraction,
// 2^53) and past it, where strconv reads.
func TestParseNumberIsStrconvs(t *testing.T) {
	tokens := []string{"0", "-0", "-0.0", "0.5", "1", "-7", "55.2", "0.1", "0.3", "9.95", "123456789012345",
		"999999999999999", "9999999999999999", "9007199254740993", "1234567890.12345", "0.0000000000000000000001",
		"0.00000000000000000000001", "1.0000000000000000000001", "4.35", "1e2", "1E-7", "-2.5e+3", "100.000",
		"0.30000000000000004", "100000.00010101001", "17976931348623157", "3.14159265358979", "0.000001", "-999999999.999999"}
	for _, tok := range tokens {
		checkParseNumber(t, tok)
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "123456789012345", "0.0000000000000000000001", "1e5"} {
		f.Add(s)
	}
	f.Fuzz(checkParseNumber)
}

func checkParseNumber(t *testing.T, tok string) {
	if end, _, ok := ScanNumber([]byte(tok), 0); !ok || end != len(tok) {
		return // not one JSON number: ParseNumber never sees it
	}
	got, ok := ParseNumber([]byte(tok))
	want, err := strconv.ParseFloat(tok, 64)
	if ok != (err == nil) || math.Float64bits(got) != math.Float64bits(want) {
		t.Errorf("ParseNumber(%q) = %v (%016x), %v; strconv reads %v (%016x), %v", tok, got, math.Float64bits(got), ok, want, math.Float64bits(want), err)
	}
}

// skipValueCases are values the skip must take whole, and texts it must
// refuse, around each turn of its loop.
var skipValueCases = []string{
	`{}`, `[]`, `{ }`, `[ ]`, `""`, `0`, `-0.5e+3`, `true`, `false`, `null`,
	`{"a":1}`, `{"a" : [1, {"b": [] , "c":{}}], "d" :"e"}`, `[[],[[]],{},[{}]]`,
	`[1,]`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{1:2}`, `[}`, `{]`, `[1 2]`, `{"a":1 "b":2}`,
	`01`, `tru`, `nulll`, `"\u00e9"`, `"\x"`, `[1]]`, `{"a":{"b":1}}}`, `[1}`, `{"a":1]`, `[{"a":[1}]`, `[`, `{"a":`, `{"a"`,
	strings.Repeat("[", maxDepth) + "1" + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + "1" + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`{"a":`, maxDepth) + "[]" + strings.Repeat("}", maxDepth),
	strings.Repeat(`{"a":`, maxDepth+1) + "[]" + strings.Repeat("}", maxDepth+1),
	strings.Repeat(`{"a":`, maxDepth+1) + "[1]" + strings.Repeat("}", maxDepth+1),
}

// SkipValue takes exactly one JSON value: what it takes is valid JSON,
// and a valid text within its depth it takes whole.
func TestSkipValueTakesOneJSONValue(t *testing.T) {
	for _, s := range skipValueCases {
		checkSkipValue(t, []byte(s))
	}
	for _, s := range []string{
		strings.Repeat("[", maxDepth+1) + "1" + strings.Repeat("]", maxDepth+1),
		strings.Repeat(`{"a":`, maxDepth+1) + "[1]" + strings.Repeat("}", maxDepth+1),
	} {
		if _, ok := SkipValue([]byte(s), 0); ok {
			t.Errorf("took a value nested past %d levels", maxDepth)
		}
	}
}

func FuzzSkipValue(f *testing.F) {
	for _, s := range skipValueCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkSkipValue(t, b) })
}

func checkSkipValue(t *testing.T, b []byte) {
	t.Helper()
	end, ok := SkipValue(b, 0)
	if ok && !json.Valid(b[:end]) {
		t.Fatalf("%q: took %q, which is not JSON", b, b[:end])
	}
	if ok && SkipSpace(b, end) < len(b) && json.Valid(b) {
		t.Fatalf("%q: took %q, part of one value", b, b[:end])
	}
	// Within the depth, bounded by the brackets' count, a valid text
	// with no space before it is taken.
	opens := 0
	for _, c := range b {
		if c == '[' || c == '{' {
			opens++
		}
	}
	if !ok && json.Valid(b) && SkipSpace(b, 0) == 0 && opens <= maxDepth {
		t.Fatalf("%q: refused a JSON value", b)
	}
}
