package audit

import (
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
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
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
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
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
