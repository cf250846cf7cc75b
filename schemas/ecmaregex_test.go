package schemas

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
)

func TestECMAPatternsMeanWhatECMAScriptSays(t *testing.T) {
	for _, c := range []struct {
		pattern  string
		matches  []string
		misses   []string
		wantsErr error
	}{
		{pattern: `^\S+$`, matches: []string{"ab", "a\u2013b"}, misses: []string{"a\u00a0b", "a\ufeffb", "a\u2003b", "a b"}},
		{pattern: `^\s$`, matches: []string{" ", "\t", "\u000b", "\u00a0", "\u2029", "\u3000"}, misses: []string{"\u0001", "a"}},
		{pattern: `^[\S]+$`, matches: []string{"ab", "é"}, misses: []string{"a\u00a0b"}},
		{pattern: `^[^\s]+$`, matches: []string{"ab"}, misses: []string{"a\u2028b"}},
		{pattern: `^[a\s]+$`, matches: []string{"a a\u00a0"}, misses: []string{"ab"}},
		{pattern: `^.$`, matches: []string{"a", "é", "\t"}, misses: []string{"\n", "\r", "\u2028", "\u2029"}},
		{pattern: `^\cC$`, matches: []string{"\u0003"}, misses: []string{"cC"}},
		{pattern: `^\cc$`, matches: []string{"\u0003"}},
		{pattern: `^\u00e9\u{1F600}\x41$`, matches: []string{"é😀A"}},
		{pattern: `^\ud83d\ude00$`, matches: []string{"😀"}},
		{pattern: `^[^]$`, matches: []string{"\n", "x"}},
		{pattern: `^[]$`, misses: []string{"", "x"}},
		{pattern: `^\p{Letter}+\p{digit}$`, matches: []string{"école\u09ea"}, misses: []string{"e1x"}},
		{pattern: `^\p{Script=Greek}$`, matches: []string{"α"}, misses: []string{"a"}},
		{pattern: `^\d\w\b`, matches: []string{"1a"}, misses: []string{"\u09ea\u00e9"}},
		{pattern: `^(?<year>\d{4})-[\b]$`, matches: []string{"2024-\b"}},
		{pattern: `^a\/b[:]$`, matches: []string{"a/b:"}},
		{pattern: `abc$`, matches: []string{"xabc"}, misses: []string{"abc\n"}},
		{pattern: `^(?=a)a`, wantsErr: errNotRegular},
		{pattern: `(?<!a)b`, wantsErr: errNotRegular},
		{pattern: `(a)\1`, wantsErr: errNotRegular},
		{pattern: `(?<n>a)\k<n>`, wantsErr: errNotRegular},
		{pattern: `a{1001}`, wantsErr: errNotRegular},
		{pattern: `\Aabc\z`, wantsErr: errSyntax},
		{pattern: `\Z`, wantsErr: errSyntax},
		{pattern: `(?i)abc`, wantsErr: errSyntax},
		{pattern: `\a`, wantsErr: errSyntax},
		{pattern: `(?P<n>a)`, wantsErr: errSyntax},
		{pattern: `^a]}$`, matches: []string{"a]}"}, misses: []string{"a"}}, // Annex B's literals
		{pattern: `^[a-z]{2}]?$`, matches: []string{"en", "en]"}, misses: []string{"en-"}},
		{pattern: `(a`, wantsErr: errSyntax},
		{pattern: `\p{NotAThing}`, wantsErr: errSyntax},
	} {
		re2, err := ecmaToRE2(c.pattern)
		if c.wantsErr != nil {
			if !errors.Is(err, c.wantsErr) {
				t.Errorf("%q: error %v, want %v", c.pattern, err, c.wantsErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		re := regexp.MustCompile(re2)
		for _, s := range c.matches {
			if !re.MatchString(s) {
				t.Errorf("%q (as %q) does not match %q", c.pattern, re2, s)
			}
		}
		for _, s := range c.misses {
			if re.MatchString(s) {
				t.Errorf("%q (as %q) matches %q", c.pattern, re2, s)
			}
		}
	}
}

// \S inside a class is spelled out as ranges; they must be exactly the
// complement of \s, rune by rune.
func TestECMANotSpaceIsTheComplementOfSpace(t *testing.T) {
	space := regexp.MustCompile(`^[` + ecmaSpace + `]$`)
	notSpace := regexp.MustCompile(`^[` + ecmaNotSpace + `]$`)
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue // not representable in a Go string
		}
		s := string(r)
		if space.MatchString(s) == notSpace.MatchString(s) {
			t.Fatalf("U+%04X: \\s %v, \\S %v", r, space.MatchString(s), notSpace.MatchString(s))
		}
	}
}

// A violation quotes the pattern as the plan wrote it, and a pattern RE2
// cannot run makes its file fail to load with a message that says so.
func TestPatternsInViolationsAndErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"p/Signed Up/1-0.json": {Data: []byte(`{"properties":{"code":{"type":"string","pattern":"^\\S+$"}}}`)},
		"p/Looked/1-0.json":    {Data: []byte(`{"properties":{"q":{"type":"string","pattern":"^(?!admin)"}}}`)},
	}
	reg, err := Load(context.Background(), fsys, Options{})
	var le *LoadError
	if !errors.As(err, &le) || len(le.Files) != 1 || le.Files[0].File != "p/Looked/1-0.json" ||
		!strings.Contains(le.Files[0].Error(), `pattern '^(?!admin)' cannot run in linear time`) ||
		!strings.Contains(le.Files[0].Error(), "(lookaround at offset 1)") {
		t.Fatalf("load error %v, want one naming p/Looked/1-0.json's lookaround", err)
	}
	s, ok := reg.ByName("Signed Up")
	if !ok {
		t.Fatal("Signed Up not loaded")
	}
	fails := s.Validate(map[string]any{"code": "a\u00a0b"})
	if len(fails) != 1 || fails[0].Message != `does not match pattern '^\\S+$'` {
		t.Errorf("failures %v, want one quoting the pattern as written", fails)
	}
}
