package schemas

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// With --assert-format, a format is asserted only where eventaudit's check
// agrees with every case of the JSON-Schema-Test-Suite. The formats below
// it cannot check that well (internationalised names need IDNA2008's
// contextual rules; the library's URI template and IRI checks are loose),
// so they stay annotations, as they are without --assert-format: a format
// that is asserted wrongly would report good events as bad.
var unassertedFormats = []string{"hostname", "idn-hostname", "idn-email", "iri", "uri-template"}

// formatCheckers replace the library's checks where they accept what the
// standard forbids.
var formatCheckers = map[string]func(any) bool{
	"ipv4":          isIPv4,
	"uri":           func(v any) bool { return isRFC3986(v, true) },
	"uri-reference": func(v any) bool { return isRFC3986(v, false) },
	"regex":         isECMARegex,
}

// isIPv4 is RFC 2673's dotted-quad: four decimal octets, no sign and no
// leading zero.
func isIPv4(v any) bool {
	s, ok := v.(string)
	if !ok {
		return true
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
			n = n*10 + int(p[i]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return true
}

// isRFC3986 checks a URI (absolute) or URI reference by RFC 3986's
// characters: the library's check, plus no character outside the RFC's
// set, brackets only around an IP literal host, and one "@" at most.
func isRFC3986(v any, absolute bool) bool {
	s, ok := v.(string)
	if !ok {
		return true
	}
	check := jsonschema.Formats["uri-reference"]
	if absolute {
		check = jsonschema.Formats["uri"]
	}
	if !check(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		default:
			return false
		}
	}
	// The authority is what follows "//" up to the path, query or fragment.
	rest := s
	if i := strings.IndexAny(rest, "/?#"); i >= 0 && rest[i] == '/' && strings.HasPrefix(rest[i:], "//") &&
		!strings.ContainsAny(rest[:i], "?#") {
		authority := rest[i+2:]
		if j := strings.IndexAny(authority, "/?#"); j >= 0 {
			rest, authority = authority[j:], authority[:j]
		} else {
			rest = ""
		}
		if strings.Count(authority, "@") > 1 {
			return false
		}
		host := authority[strings.LastIndexByte(authority, '@')+1:]
		if strings.ContainsAny(host, "[]") && !(strings.HasPrefix(host, "[") && strings.Contains(host, "]")) {
			return false
		}
		if open := strings.IndexByte(authority, '['); open >= 0 && open < strings.LastIndexByte(authority, '@') {
			return false
		}
	}
	return !strings.ContainsAny(rest, "[]")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
