package postgres

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The proof tries plainJSONArray before flatJSONArray, so it may prove
// text only where the flat grammar alone would: whatever the plain pattern
// matches, the flat one must. It matches Segment's products as a loader
// writes them, or the shortcut would buy nothing.
func TestPlainJSONArrayMatchesOnlyFlatText(t *testing.T) {
	plain := regexp.MustCompile(plainJSONArray())
	flat := regexp.MustCompile(flatJSONArray())
	for _, s := range []string{
		`[{"price":79.08,"product_id":"p-4948","quantity":1},{"price":5.63,"product_id":"p-1058","quantity":2}]`,
		`[{"sku":"a"}]`,
		`[{"n":0,"m":-12.5,"s":"Café ☕"}]`,
	} {
		if !plain.MatchString(s) || !flat.MatchString(s) {
			t.Errorf("%s: plain %v, flat %v; want both", s, plain.MatchString(s), flat.MatchString(s))
		}
	}
	for _, s := range []string{
		`[]`, `[{}]`, `[1]`, `[ {"a":1} ]`, `[{"a":true}]`, `[{"a":null}]`, `[{"a":"\n"}]`,
		`[{"a":"\u0041"}]`, `[{"a":1e2}]`, `[{"a":-0}]`, `[{"a":01}]`, `[{"a":{"b":1}}]`, `[{"a":[1]}]`,
		`[{"a":1},]`, `[{"a":1}`, `{"a":1}`, "[{\"a\":\"\x01\"}]",
	} {
		if plain.MatchString(s) {
			t.Errorf("%s: the plain pattern matches it, want the flat grammar alone to decide", s)
		}
	}
	// Text near the plain grammar, mutated at random: never plain and not
	// flat.
	alphabet := []string{`[`, `]`, `{`, `}`, `"`, `:`, `,`, ` `, `\`, `n`, `u`, `a`, `0`, `1`, `-`, `.`, `e`, "\x01", `true`, `null`, `é`}
	r := rand.New(rand.NewPCG(1, 2))
	seed := `[{"price":79.08,"product_id":"p-4948","quantity":1},{"price":0,"sku":"x"}]`
	matched := 0
	for range 200_000 {
		s := seed
		for range 1 + r.IntN(3) {
			i := r.IntN(len(s) + 1)
			switch r.IntN(3) {
			case 0: // insert
				s = s[:i] + alphabet[r.IntN(len(alphabet))] + s[i:]
			case 1: // delete
				if i < len(s) {
					s = s[:i] + s[i+1:]
				}
			default: // replace
				if i < len(s) {
					s = s[:i] + alphabet[r.IntN(len(alphabet))] + s[i+1:]
				}
			}
		}
		if plain.MatchString(s) {
			matched++
			if !flat.MatchString(s) {
				t.Fatalf("%q: the plain pattern matches text the flat grammar refuses", s)
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d mutated texts matched the plain pattern: the check saw too few", matched)
	}
}
