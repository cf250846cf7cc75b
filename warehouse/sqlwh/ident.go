// Package sqlwh is the SQL shared by every warehouse backend: the raw-layout
// scan, the result tables and the run's transaction. Backends supply a
// Dialect (plain values: quoting, types, bulk insert) and a connection.
package sqlwh

import (
	"fmt"
	"strings"
)

// Ident is a possibly schema-qualified SQL identifier, one part per element.
type Ident []string

// ParseIdent splits `schema.table`, honouring double quotes so that
// `analytics."Segment Events"` keeps its space and case.
func ParseIdent(s string) (Ident, error) {
	var parts Ident
	var cur strings.Builder
	inQuote, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '"' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			inQuote = !inQuote
			quoted = true
		case c == '.' && !inQuote:
			if cur.Len() == 0 && !quoted {
				return nil, fmt.Errorf("identifier %q has an empty part", s)
			}
			parts = append(parts, cur.String())
			cur.Reset()
			quoted = false
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("identifier %q has an unclosed quote", s)
	}
	if cur.Len() == 0 && !quoted {
		return nil, fmt.Errorf("identifier %q has an empty part", s)
	}
	return append(parts, cur.String()), nil
}

// String is the identifier as a user would type it, quoting where needed.
func (id Ident) String() string {
	parts := make([]string, len(id))
	for i, p := range id {
		if isPlain(p) {
			parts[i] = p
		} else {
			parts[i] = quoteDouble(p)
		}
	}
	return strings.Join(parts, ".")
}

// Table is the last part, Schema the one before it ("" when unqualified).
func (id Ident) Table() string { return id[len(id)-1] }
func (id Ident) Schema() string {
	if len(id) < 2 {
		return ""
	}
	return id[len(id)-2]
}

func isPlain(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// quoteDouble quotes an identifier the SQL standard's way: the default of
// Dialect.QuoteName, and how String shows a name to a person.
func quoteDouble(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
