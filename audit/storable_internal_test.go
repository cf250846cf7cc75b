package audit

import (
	"strings"
	"testing"
)

func TestStorable(t *testing.T) {
	for _, c := range []struct {
		name, in, want, problem string
		max                     int
	}{
		{"plain", "Order Completed", "Order Completed", "", 64},
		{"NUL, which Postgres text refuses", "Order\x00Completed", "Order\uFFFDCompleted", "a NUL character", 64},
		{"invalid UTF-8", "Caf\xe9", "Caf\uFFFD", "invalid UTF-8", 64},
		{"both", "\x00\xff", "\uFFFD\uFFFD", "a NUL character and invalid UTF-8", 64},
		{"too long, cut on a rune boundary", strings.Repeat("é", 10), strings.Repeat("é", 3) + "…", "20 bytes, over the 9 stored", 9},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, problem := storable(c.in, c.max)
			if got != c.want || problem != c.problem {
				t.Errorf("storable(%q) = %q, %q; want %q, %q", c.in, got, problem, c.want, c.problem)
			}
			if len(got) > c.max && c.problem != "" && strings.Contains(c.problem, "over") {
				t.Errorf("%q is longer than %d bytes", got, c.max)
			}
		})
	}
}

// The fast path never accepts a row whose identity the slow path would
// flag: it hands those rows over.
func TestRawStorable(t *testing.T) {
	for in, want := range map[string]bool{
		"Order Completed":        true,
		"Caf\xe9":                false,
		"a\x00b":                 false,
		strings.Repeat("x", 300): false,
	} {
		if got := rawStorable(in, MaxIDBytes); got != want {
			t.Errorf("rawStorable(%q) = %v, want %v", in, got, want)
		}
	}
}
