package schemas

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eventaudit/eventaudit/audit"
)

// Position is a place in a file: 1-based line and column, the column in
// characters (Unicode code points), as SARIF's unicodeCodePoints counts.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Locate finds where the JSON pointer ptr points in the JSON document doc:
// at an object member's key, so that an editor lands on the property's
// name, or at an array element's first byte. A pointer that does not
// resolve (a missing "description") lands on the deepest part of it that
// does; a document that is not JSON lands on line 1, column 1.
func Locate(doc []byte, ptr string) Position {
	i := audit.SkipSpace(doc, 0)
	at := i
	if ptr != "" {
		for _, tok := range strings.Split(ptr[1:], "/") {
			tok = audit.UnescapeToken(tok)
			key, value, ok := child(doc, i, tok)
			if !ok {
				break
			}
			at, i = key, value
		}
	}
	return positionAt(doc, at)
}

// child finds the member tok of the object, or the element tok of the
// array, at doc[i]; it returns where its key (or element) starts and where
// its value starts.
func child(doc []byte, i int, tok string) (key, value int, ok bool) {
	if i >= len(doc) {
		return 0, 0, false
	}
	found := false
	stop := func(next int) (int, bool) {
		if found {
			return 0, false // ends the walk early; found says why
		}
		return audit.SkipValue(doc, next)
	}
	switch doc[i] {
	case '{':
		audit.EachMember(doc, i, func(ks, ke int, escaped bool, vs int) (int, bool) {
			name := doc[ks+1 : ke-1]
			if escaped {
				var s string
				if json.Unmarshal(doc[ks:ke], &s) != nil {
					return 0, false
				}
				name = []byte(s)
			}
			if string(name) == tok {
				found, key, value = true, ks, vs
			}
			return stop(vs)
		})
	case '[':
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		audit.EachElement(doc, i, func(index, vs int) (int, bool) {
			if index == n {
				found, key, value = true, vs, vs
			}
			return stop(vs)
		})
	}
	return key, value, found
}

func positionAt(doc []byte, offset int) Position {
	offset = max(0, min(offset, len(doc)))
	before := doc[:offset]
	return Position{
		Line:   bytes.Count(before, []byte("\n")) + 1,
		Column: utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1,
	}
}
