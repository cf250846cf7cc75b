package segment

import (
	"strings"
	"unicode"
)

// Slug is Segment's warehouse name for an event or a property: snake_case,
// lower case, with a word boundary before each upper-case run that follows
// a lower-case letter or digit ("orderID" → "order_id", "APIKey" →
// "api_key"), and every run of other characters (spaces, dots, dashes)
// becoming one "_". A name starting with a digit gets a leading "_", as SQL
// identifiers may not start with one.
func Slug(name string) string {
	rs := []rune(name)
	var b strings.Builder
	pending := false // a separator is owed before the next letter or digit
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			pending = b.Len() > 0
			continue
		}
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
				pending = b.Len() > 0
			}
		}
		if pending {
			b.WriteByte('_')
			pending = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	s := b.String()
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}
