package schemas

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// JSON Schema's "pattern" and "patternProperties" are ECMA-262 regular
// expressions, read with the u flag. Go's regexp (RE2) differs from them in
// a few places that matter to real plans: \s and \S are ASCII-only, "."
// matches \r and U+2028, \cX and \u{…} do not exist, and \A, \z, \Z, \a
// or (?i) mean something where ECMA-262 rejects them. ecmaToRE2 rewrites a
// pattern into RE2 syntax with the ECMA-262 meaning, so both the library and
// the fast path run it in RE2's linear time.
//
// Lookaround and backreferences have no RE2 form. Such a pattern is valid
// ECMA-262 but is refused with errNotRegular: running it would need a
// backtracking engine, whose time on a hostile payload is unbounded and
// whose verdict under a timeout would depend on the machine's load.

var (
	errNotRegular = errors.New("cannot run in linear time, as eventaudit runs every pattern (with RE2); rewrite it without lookaround, backreferences or repeat counts over 1000")
	errSyntax     = errors.New("is not an ECMA-262 regular expression")
)

// ecmaSpace is ECMA-262's WhiteSpace and LineTerminator, the meaning of \s,
// as the body of an RE2 character class.
const ecmaSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// ecmaNotSpace is the complement of ecmaSpace, for \S inside a class, where
// RE2 cannot negate a part of the class.
const ecmaNotSpace = `\x{0}-\x{8}\x{e}-\x{1f}!-\x{9f}\x{a1}-\x{167f}\x{1681}-\x{1fff}\x{200b}-\x{2027}` +
	`\x{202a}-\x{202e}\x{2030}-\x{205e}\x{2060}-\x{2fff}\x{3001}-\x{fefe}\x{ff00}-\x{10ffff}`

// ecmaDot is "." without the s flag: anything but a line terminator.
const ecmaDot = `[^\n\r\x{2028}\x{2029}]`

// ecmaToRE2 translates an ECMA-262 pattern into RE2 syntax. Its errors wrap
// errSyntax (not ECMA-262 at all) or errNotRegular (ECMA-262 that RE2
// cannot run).
func ecmaToRE2(p string) (string, error) {
	t := &ecmaTranslator{src: p}
	if err := t.run(); err != nil {
		return "", err
	}
	if _, err := regexp.Compile(t.out.String()); err != nil {
		// What RE2 alone refuses, such as a repeat count above 1000.
		return "", fmt.Errorf("%w (RE2: %v)", errNotRegular, err)
	}
	return t.out.String(), nil
}

type ecmaTranslator struct {
	src string
	i   int
	out strings.Builder
}

func (t *ecmaTranslator) syntax(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, fmt.Sprintf(format, args...), t.i)
}

func (t *ecmaTranslator) peek(s string) bool { return strings.HasPrefix(t.src[t.i:], s) }

func (t *ecmaTranslator) run() error {
	depth := 0
	for t.i < len(t.src) {
		r, n := utf8.DecodeRuneInString(t.src[t.i:])
		switch r {
		case '\\':
			if err := t.escape(false); err != nil {
				return err
			}
			continue
		case '[':
			if err := t.class(); err != nil {
				return err
			}
			continue
		case '.':
			t.out.WriteString(ecmaDot)
		case '(':
			switch {
			case t.peek("(?:"):
				t.out.WriteString("(?:")
				t.i += 3
				depth++
				continue
			case t.peek("(?="), t.peek("(?!"), t.peek("(?<="), t.peek("(?<!"):
				return fmt.Errorf("%w (lookaround at offset %d)", errNotRegular, t.i)
			case t.peek("(?<"):
				end := strings.IndexByte(t.src[t.i:], '>')
				name := ""
				if end > 3 {
					name = t.src[t.i+3 : t.i+end]
				}
				if !validGroupName(name) {
					return t.syntax("bad group name")
				}
				t.out.WriteString("(?P<" + name + ">")
				t.i += end + 1
				depth++
				continue
			case t.peek("(?"):
				return t.syntax("(? must start (?:, (?=, (?!, (?<=, (?<! or (?<name>")
			}
			depth++
			t.out.WriteByte('(')
		case ')':
			if depth == 0 {
				return t.syntax("unmatched )")
			}
			depth--
			t.out.WriteByte(')')
		case ']', '}':
			// Lone ] and } are syntax errors with the u flag, but literals
			// in every other reading (ECMA-262 Annex B, Python, RE2), and
			// published schemas use them: SARIF 2.1.0's own pattern for a
			// language tag ends "[a-zA-Z]{2}]?$". Unlike \a, they cannot
			// mean anything else, so they are read as literals.
			t.out.WriteString(`\` + string(r))
		case '{':
			q, ok := quantifier(t.src[t.i:])
			if !ok {
				return t.syntax("lone {")
			}
			t.out.WriteString(q)
			t.i += len(q)
			continue
		default:
			if r == utf8.RuneError && n == 1 {
				return t.syntax("invalid UTF-8")
			}
			t.out.WriteString(t.src[t.i : t.i+n])
		}
		t.i += n
	}
	if depth != 0 {
		return t.syntax("missing )")
	}
	return nil
}

// quantifier is the {n}, {n,} or {n,m} at the start of s.
func quantifier(s string) (string, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", false
	}
	body := s[1:end]
	lo, hi, comma := strings.Cut(body, ",")
	isNum := func(x string) bool {
		_, err := strconv.ParseUint(x, 10, 32)
		return err == nil
	}
	if !isNum(lo) || (comma && hi != "" && !isNum(hi)) {
		return "", false
	}
	return s[:end+1], true
}

func validGroupName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r == '$' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// class translates a character class starting at '['.
func (t *ecmaTranslator) class() error {
	t.i++ // [
	negated := false
	if t.peek("^") {
		negated = true
		t.i++
	}
	if t.peek("]") {
		t.i++
		// [] matches nothing and [^] anything: RE2 has neither form.
		if negated {
			t.out.WriteString(`[\x{0}-\x{10ffff}]`)
		} else {
			t.out.WriteString(`[^\x{0}-\x{10ffff}]`)
		}
		return nil
	}
	t.out.WriteByte('[')
	if negated {
		t.out.WriteByte('^')
	}
	for t.i < len(t.src) {
		r, n := utf8.DecodeRuneInString(t.src[t.i:])
		switch r {
		case ']':
			t.out.WriteByte(']')
			t.i++
			return nil
		case '\\':
			if err := t.escape(true); err != nil {
				return err
			}
			continue
		case '[', '^', ':':
			// Literal in ECMA-262; RE2 would read [: as a POSIX class.
			t.out.WriteString(`\` + string(r))
		default:
			if r == utf8.RuneError && n == 1 {
				return t.syntax("invalid UTF-8")
			}
			t.out.WriteString(t.src[t.i : t.i+n])
		}
		t.i += n
	}
	return t.syntax("missing ]")
}

// escape translates the escape at src[i] == '\\', inside a class or not.
func (t *ecmaTranslator) escape(inClass bool) error {
	if t.i+1 >= len(t.src) {
		return t.syntax(`trailing \`)
	}
	t.i++
	c := t.src[t.i]
	t.i++
	switch c {
	case 'd', 'D', 'w', 'W', 't', 'n', 'r', 'f', 'v':
		// ASCII in both, or the same control character.
		t.out.WriteString(`\` + string(c))
	case 'b', 'B':
		if inClass {
			if c == 'B' {
				return t.syntax(`\B in a class`)
			}
			t.out.WriteString(`\x{8}`) // backspace
		} else {
			t.out.WriteString(`\` + string(c))
		}
	case 's':
		if inClass {
			t.out.WriteString(ecmaSpace)
		} else {
			t.out.WriteString("[" + ecmaSpace + "]")
		}
	case 'S':
		if inClass {
			t.out.WriteString(ecmaNotSpace)
		} else {
			t.out.WriteString("[^" + ecmaSpace + "]")
		}
	case '0':
		if t.i < len(t.src) && t.src[t.i] >= '0' && t.src[t.i] <= '9' {
			return t.syntax(`octal escape`)
		}
		t.out.WriteString(`\x{0}`)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if inClass {
			return t.syntax(`\%c in a class`, c)
		}
		return fmt.Errorf("%w (backreference at offset %d)", errNotRegular, t.i-2)
	case 'k':
		if inClass {
			return t.syntax(`\k in a class`)
		}
		return fmt.Errorf("%w (backreference at offset %d)", errNotRegular, t.i-2)
	case 'c':
		if t.i < len(t.src) {
			if l := t.src[t.i]; (l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z') {
				t.i++
				t.writeRune(rune(l % 32))
				return nil
			}
		}
		return t.syntax(`\c must be followed by a letter`)
	case 'x':
		if t.i+2 <= len(t.src) {
			if v, err := strconv.ParseUint(t.src[t.i:t.i+2], 16, 8); err == nil {
				t.i += 2
				t.writeRune(rune(v))
				return nil
			}
		}
		return t.syntax(`\x needs two hex digits`)
	case 'u':
		r, err := t.unicodeEscape()
		if err != nil {
			return err
		}
		t.writeRune(r)
	case 'p', 'P':
		end := strings.IndexByte(t.src[t.i:], '}')
		if !t.peek("{") || end < 0 {
			return t.syntax(`\%c needs {property}`, c)
		}
		name, err := unicodeProperty(t.src[t.i+1 : t.i+end])
		if err != nil {
			return t.syntax("%v", err)
		}
		t.i += end + 1
		t.out.WriteString(`\` + string(c) + "{" + name + "}")
	case '-':
		if !inClass {
			return t.syntax(`\- outside a class`)
		}
		t.out.WriteString(`\-`)
	case '^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/':
		t.out.WriteString(`\` + string(c))
	default:
		// With the u flag, every other escape (\a, \e, \z, \Z, \A, \é…)
		// is an error; RE2 would give some of them another meaning.
		t.i--
		r, _ := utf8.DecodeRuneInString(t.src[t.i:])
		return t.syntax(`\%c is not an escape`, r)
	}
	return nil
}

// unicodeEscape reads what follows \u: XXXX, a surrogate pair \uXXXX\uXXXX,
// or {X…}.
func (t *ecmaTranslator) unicodeEscape() (rune, error) {
	if t.peek("{") {
		end := strings.IndexByte(t.src[t.i:], '}')
		if end < 2 {
			return 0, t.syntax(`bad \u{…}`)
		}
		v, err := strconv.ParseUint(t.src[t.i+1:t.i+end], 16, 32)
		if err != nil || v > unicode.MaxRune {
			return 0, t.syntax(`bad \u{…}`)
		}
		t.i += end + 1
		return rune(v), nil
	}
	hex4 := func(at int) (rune, bool) {
		if at+4 > len(t.src) {
			return 0, false
		}
		v, err := strconv.ParseUint(t.src[at:at+4], 16, 16)
		return rune(v), err == nil
	}
	r, ok := hex4(t.i)
	if !ok {
		return 0, t.syntax(`\u needs four hex digits`)
	}
	t.i += 4
	if r >= 0xd800 && r < 0xdc00 && strings.HasPrefix(t.src[t.i:], `\u`) {
		if lo, ok := hex4(t.i + 2); ok && lo >= 0xdc00 && lo < 0xe000 {
			t.i += 6
			return (r-0xd800)<<10 + (lo - 0xdc00) + 0x10000, nil
		}
	}
	return r, nil
}

func (t *ecmaTranslator) writeRune(r rune) {
	fmt.Fprintf(&t.out, `\x{%x}`, r)
}

// unicodeProperty maps an ECMA-262 property (General_Category or Script, by
// any of Unicode's names for it) to the name RE2 knows it by.
func unicodeProperty(p string) (string, error) {
	key, value, hasKey := strings.Cut(p, "=")
	if !hasKey {
		value = p
	}
	switch {
	case !hasKey || key == "General_Category" || key == "gc":
		if c, ok := generalCategories[value]; ok {
			return c, nil
		}
		if !hasKey {
			if value == "Any" {
				return "Any", nil
			}
			if _, ok := unicode.Scripts[value]; ok {
				return "", fmt.Errorf("\\p{%s}: a script needs Script=%s", p, value)
			}
		}
	case key == "Script" || key == "sc":
		if _, ok := unicode.Scripts[value]; ok {
			return value, nil
		}
	}
	return "", fmt.Errorf("\\p{%s} is not a Unicode property eventaudit knows", p)
}

// generalCategories holds every alias of each General_Category value
// (Unicode's PropertyValueAliases.txt), by the short name RE2 uses.
var generalCategories = func() map[string]string {
	m := map[string]string{}
	for _, aliases := range [][]string{
		{"C", "Other"}, {"Cc", "Control", "cntrl"}, {"Cf", "Format"}, {"Co", "Private_Use"},
		{"Cs", "Surrogate"}, {"L", "Letter"}, {"Ll", "Lowercase_Letter"}, {"Lm", "Modifier_Letter"},
		{"Lo", "Other_Letter"}, {"Lt", "Titlecase_Letter"}, {"Lu", "Uppercase_Letter"},
		{"M", "Mark", "Combining_Mark"}, {"Mc", "Spacing_Mark"}, {"Me", "Enclosing_Mark"},
		{"Mn", "Nonspacing_Mark"}, {"N", "Number"}, {"Nd", "Decimal_Number", "digit"},
		{"Nl", "Letter_Number"}, {"No", "Other_Number"}, {"P", "Punctuation", "punct"},
		{"Pc", "Connector_Punctuation"}, {"Pd", "Dash_Punctuation"}, {"Pe", "Close_Punctuation"},
		{"Pf", "Final_Punctuation"}, {"Pi", "Initial_Punctuation"}, {"Po", "Other_Punctuation"},
		{"Ps", "Open_Punctuation"}, {"S", "Symbol"}, {"Sc", "Currency_Symbol"}, {"Sk", "Modifier_Symbol"},
		{"Sm", "Math_Symbol"}, {"So", "Other_Symbol"}, {"Z", "Separator"}, {"Zl", "Line_Separator"},
		{"Zp", "Paragraph_Separator"}, {"Zs", "Space_Separator"},
	} {
		for _, a := range aliases {
			m[a] = aliases[0]
		}
	}
	return m
}()

// isECMARegex is the "regex" format: an ECMA-262 pattern, whether or not
// RE2 can run it.
func isECMARegex(v any) bool {
	s, ok := v.(string)
	if !ok {
		return true
	}
	_, err := ecmaToRE2(s)
	return err == nil || errors.Is(err, errNotRegular)
}
