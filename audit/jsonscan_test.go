package audit

import (
	"encoding/json"
	"strings"
	"testing"
)

// ScanString reads eight bytes at a time; a stop byte (quote, backslash,
// control character) in any lane, after any prefix, must end the run
// exactly where a byte-by-byte scan ends it.
func TestScanStringEveryLane(t *testing.T) {
	for _, stop := range []string{`"`, `\"`, `\\`, `\u00e9`, "\x00", "\x1f", "\n"} {
		for pre := 0; pre <= 17; pre++ {
			for _, fill := range []string{"a", "é", "\x7f", " "} {
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
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"é\u00e9"`, "\"a\x01\"", `"unterminated`, `"12345678\"9"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		end, esc, ok := ScanString(b, 0)
		wantEnd, wantEsc, wantOK := scanStringByByte(b, 0)
		if end != wantEnd || esc != wantEsc || ok != wantOK {
			t.Fatalf("%q: got (%d, %v, %v), want (%d, %v, %v)", b, end, esc, ok, wantEnd, wantEsc, wantOK)
		}
		if ok && !json.Valid(b[:end]) {
			t.Fatalf("%q: accepted %q, which is not a JSON string", b, b[:end])
		}
	})
}

// scanStringByByte is ScanString without the eight-byte runs: the
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
