package sqlwh

import "testing"

// A literal printed for a person to paste reads back as the string it
// holds: quotes doubled, and backslashes doubled where they escape.
func TestLiteral(t *testing.T) {
	for _, tc := range []struct {
		backslash bool
		in, want  string
	}{
		{false, `Order's "Completed"`, `'Order''s "Completed"'`},
		{false, `a\b`, `'a\b'`},
		{true, `a\b`, `'a\\b'`},
		{true, `it's \'`, `'it''s \\'''`},
	} {
		d := &Dialect{BackslashEscapes: tc.backslash}
		if got := d.Literal(tc.in); got != tc.want {
			t.Errorf("Literal(%q), backslash escapes %v = %s, want %s", tc.in, tc.backslash, got, tc.want)
		}
	}
}
