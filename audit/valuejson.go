package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// appendValue appends the JSON of a decoded value (maps, slices, strings,
// json.Number, float64, bools, nil) byte for byte as json.Marshal writes
// it: keys sorted, HTML characters, U+2028 and U+2029 escaped, invalid
// UTF-8 as U+FFFD. It stops once dst holds more than limit bytes, since a
// violation keeps only the start of its value: json.Marshal would write a
// whole properties object, through reflection, to keep 256 bytes of it.
// ok=false means a type it does not know; the caller then marshals.
func appendValue(dst []byte, v any, limit int) (_ []byte, ok bool) {
	if len(dst) > limit {
		return dst, true
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		if x {
			return append(dst, "true"...), true
		}
		return append(dst, "false"...), true
	case json.Number:
		// A plain number token needs no general JSON check.
		if end, _, ok := ScanNumber([]byte(x), 0); !ok || end != len(x) {
			if x == "" || !json.Valid([]byte(x)) {
				return dst, false
			}
		}
		return append(dst, x...), true
	case string:
		return appendString(dst, x), true
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, ok = appendValue(dst, e, limit); !ok {
				return dst, false
			}
			if len(dst) > limit {
				return dst, true
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		var small [16]string // most objects' keys, without an allocation
		keys := small[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			if dst, ok = appendValue(dst, x[k], limit); !ok {
				return dst, false
			}
			if len(dst) > limit {
				return dst, true
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}

// AppendJSON appends v's JSON byte for byte as json.Marshal writes it, for
// the values a decoder makes (maps, slices, strings, json.Number, bools,
// nil), with no reflection; ok=false means a value it does not know (or an
// invalid json.Number), which the caller marshals.
func AppendJSON(dst []byte, v any) (_ []byte, ok bool) { return appendValue(dst, v, math.MaxInt) }

// AppendJSONString appends s as AppendJSON(dst, s) does, without boxing s
// into an interface: for writers that know they hold a string.
func AppendJSONString(dst []byte, s string) []byte { return appendString(dst, s) }

const hexDigits = "0123456789abcdef"

// appendString is encoding/json's string encoder with HTML escaping on.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if plainASCII(b) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case plainRune(c, size):
			i += size
			continue
		case c == utf8.RuneError:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		default: // U+2028 or U+2029
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// PointerToken escapes a key as one JSON-pointer token (RFC 6901), for
// the instance paths of violations and pushdown and the pointers of
// schemas.
func PointerToken(key string) string {
	// Most keys need no escape; a Replacer is built on its first use, so
	// one made per call would be built per call.
	if !strings.ContainsAny(key, "~/") {
		return key
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}

// UnescapeToken decodes one JSON-pointer token (RFC 6901), undoing
// PointerToken.
func UnescapeToken(tok string) string {
	if !strings.Contains(tok, "~") {
		return tok
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
}

// AppendJSONText appends what AppendJSON appends for DecodeJSON(text),
// for text that is one JSON array or object, without decoding it: white
// space dropped, each object's keys sorted and a repeated key's last value
// kept, numbers as written. It takes only text whose strings and keys
// AppendJSON would write as they are (no escapes, valid UTF-8, none of the
// characters it escapes); ok=false, with dst as it was, means anything
// else, which the caller decodes. Decoding such text into maps to write
// it again cost Segment's rebuild about 7% of its CPU on the demo's events.
func AppendJSONText(dst, text []byte) (_ []byte, ok bool) {
	i := SkipSpace(text, 0)
	if i >= len(text) || text[i] != '[' && text[i] != '{' {
		return dst, false
	}
	start := len(dst)
	dst, end, ok := appendText(dst, text, i, 0)
	if !ok || SkipSpace(text, end) != len(text) {
		return dst[:start], false
	}
	return dst, true
}

// textDepth is the nesting AppendJSONText writes; deeper text is decoded.
const textDepth = 64

// textMember is one member of an object being written: its key's content
// and where its value starts.
type textMember struct {
	key []byte
	vs  int
}

// appendText writes the value at b[i] and returns where it ends.
func appendText(dst, b []byte, i, depth int) (_ []byte, end int, ok bool) {
	if depth > textDepth || i >= len(b) {
		return dst, 0, false
	}
	switch c := b[i]; {
	case c == '{':
		var small [16]textMember
		members := small[:0]
		if end, ok = EachMember(b, i, func(ks, ke int, kEsc bool, vs int) (int, bool) {
			key := b[ks+1 : ke-1]
			if kEsc || !plainText(key) {
				return 0, false
			}
			members = append(members, textMember{key, vs})
			return SkipValue(b, vs)
		}); !ok {
			return dst, 0, false
		}
		// A map keeps the last of equal keys; a stable sort keeps them in
		// the order written, so the last of each run is the one to write.
		slices.SortStableFunc(members, func(x, y textMember) int { return bytes.Compare(x.key, y.key) })
		dst = append(dst, '{')
		written := 0
		for j, m := range members {
			if j+1 < len(members) && bytes.Equal(members[j+1].key, m.key) {
				continue
			}
			if written > 0 {
				dst = append(dst, ',')
			}
			written++
			dst = append(append(append(dst, '"'), m.key...), '"', ':')
			if dst, _, ok = appendText(dst, b, m.vs, depth+1); !ok {
				return dst, 0, false
			}
		}
		return append(dst, '}'), end, true
	case c == '[':
		dst = append(dst, '[')
		if end, ok = EachElement(b, i, func(n, vs int) (int, bool) {
			if n > 0 {
				dst = append(dst, ',')
			}
			var e int
			var ok bool
			dst, e, ok = appendText(dst, b, vs, depth+1)
			return e, ok
		}); !ok {
			return dst, 0, false
		}
		return append(dst, ']'), end, true
	case c == '"':
		end, esc, ok := ScanString(b, i)
		if !ok || esc || !plainText(b[i+1:end-1]) {
			return dst, 0, false
		}
		return append(dst, b[i:end]...), end, true
	case c == 't' || c == 'f' || c == 'n':
		if end, ok = SkipValue(b, i); !ok {
			return dst, 0, false
		}
		return append(dst, b[i:end]...), end, true
	}
	if end, _, ok = ScanNumber(b, i); !ok {
		return dst, 0, false
	}
	return append(dst, b[i:end]...), end, true
}

// plainText reports whether appendString writes s as it is, between
// quotes: valid UTF-8 with none of the characters it escapes (s holds no
// quote, backslash or control character, being an unescaped token's).
func plainText(s []byte) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if !plainASCII(c) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if !plainRune(r, size) {
			return false
		}
		i += size
	}
	return true
}

// plainASCII reports whether appendString writes the ASCII byte c as it
// is: not a control character, a quote, a backslash, or an HTML character.
func plainASCII(c byte) bool {
	return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// plainRune reports whether appendString writes a decoded multi-byte rune
// as it is: not invalid UTF-8 (written as U+FFFD), U+2028 or U+2029.
func plainRune(r rune, size int) bool {
	return !(r == utf8.RuneError && size == 1) && r != '\u2028' && r != '\u2029'
}
