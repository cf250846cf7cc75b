package audit

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// A strict, allocation-free JSON scanner for the fast path. Every function
// returns ok=false on anything it does not fully understand, and the caller
// then takes the slow path (encoding/json and the JSON Schema library), which
// stays the judge. It never needs to be right about invalid input, only to
// never call it valid.

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i // compact JSON, the common case
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// stringStop marks the bytes that end a run of plain string content: the
// quote, the backslash, and control characters, which JSON forbids raw.
var stringStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// stopBytes flags, in the high bit of each byte, the stringStop bytes of
// eight little-endian bytes. Only the lowest flag is exact (a borrow may
// flag bytes above a true one), and that is the one the caller uses.
func stopBytes(x uint64) uint64 {
	q := x ^ ('"' * ones)
	bs := x ^ ('\\' * ones)
	return ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x) & highs
}

// ScanString scans the JSON string starting at b[i] == '"'. It returns the
// index after the closing quote and whether the string holds escapes.
func ScanString(b []byte, i int) (end int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, false
	}
	for i++; ; i++ {
		// Plain content 16 bytes at a time where the CPU has vectors
		// (jsonscan_vector.go), then eight at a time: the lowest flagged byte
		// is exactly the first stop byte, so a hit goes straight to it, and
		// only the last few bytes are read one at a time. Most strings of a
		// Segment message (83% of the benchmark corpus's) are under 16 bytes:
		// one turn of the vector scan.
		if haveVectors {
			for ; i+16 <= len(b); i += 16 {
				if m := stopMask16((*[16]byte)(b[i:])); m != 0 {
					i += bits.TrailingZeros16(m)
					goto stop
				}
			}
		}
		for i+8 <= len(b) {
			if m := stopBytes(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
			i += 8
		}
		for i < len(b) && !stringStop[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, false, false
		}
	stop:
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i, ok = escapeEnd(b, i); !ok {
				return 0, false, false
			}
		default: // a control character, which JSON forbids raw
			return 0, false, false
		}
	}
}

// escapeEnd checks the escape at b[i] == '\\' and returns the index of its
// last byte.
func escapeEnd(b []byte, i int) (int, bool) {
	i++
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i, true
	case 'u':
		if i+4 >= len(b) {
			return 0, false
		}
		for _, h := range b[i+1 : i+5] {
			if !isHex(h) {
				return 0, false
			}
		}
		return i + 4, true
	}
	return 0, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// StringValue returns the content of an escape-free string token b[start:end]
// (quotes included); ok is false when it has escapes or invalid UTF-8, since
// encoding/json would rewrite those.
func StringValue(b []byte, start, end int, escaped bool) ([]byte, bool) {
	s := b[start+1 : end-1]
	if escaped || !utf8.Valid(s) {
		return nil, false
	}
	return s, true
}

// ScanNumber scans a JSON number at b[i] and reports whether it has a
// fraction or exponent.
func ScanNumber(b []byte, i int) (end int, fractional, ok bool) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false, false
	}
	if i < len(b) && b[i] == '.' {
		fractional = true
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		fractional = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false, false
		}
	}
	return i, fractional, i > start
}

// ParseNumber is the float64 of a number token scanned by ScanNumber.
func ParseNumber(tok []byte) (float64, bool) {
	if f, ok := exactNumber(tok); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	return f, err == nil
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactNumber reads the tokens most messages hold, digits with at most a
// short fraction, without strconv's general path: when the digits, point
// removed, are an integer a float64 holds exactly and the fraction is
// at most 22 digits, one IEEE division of two exact values is the
// correctly rounded result, as strconv's own fast path has it. ok is
// false for any other token (an exponent, more digits).
func exactNumber(tok []byte) (float64, bool) {
	i, neg := 0, false
	if len(tok) > 0 && tok[0] == '-' {
		i, neg = 1, true
	}
	var m uint64
	digits, frac, point := 0, 0, false
	for ; i < len(tok); i++ {
		switch c := tok[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits > 15 {
				return 0, false
			}
			m = m*10 + uint64(c-'0')
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return 0, false
		}
	}
	if digits == 0 || frac >= len(exactPow10) {
		return 0, false
	}
	f := float64(m) / exactPow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// maxDepth bounds nesting, as encoding/json does (10,000) but tighter: the
// fast path gives up rather than recursing deep.
const maxDepth = 200

// SkipValue returns the index after the JSON value at b[i] (no leading space).
func SkipValue(b []byte, i int) (int, bool) { return skipValue(b, i, 0) }

// skipValue walks containers in one loop, with the containers open in a
// bit stack, rather than a call a value: skipping the envelope's context
// is most of the fast path, and most of its values are a few bytes.
func skipValue(b []byte, i, depth int) (int, bool) {
	// Bit k of objects is set when the k-th container open is an object.
	var objects [(maxDepth + 64) / 64]uint64
	open := 0
	for {
		// A value starts at b[i], inside open containers.
		if i >= len(b) || depth+open > maxDepth {
			return 0, false
		}
		var ok bool
		switch c := b[i]; {
		case c == '"':
			i, _, ok = ScanString(b, i)
		case c == '{' || c == '[':
			i = SkipSpace(b, i+1)
			if i < len(b) && b[i] == c+2 { // '}' and ']' follow their openers by two
				i, ok = i+1, true
				break
			}
			if open >= len(objects)*64 {
				return 0, false
			}
			if c == '{' {
				objects[open>>6] |= 1 << (open & 63)
				if _, _, i, ok = scanMemberKey(b, i); !ok {
					return 0, false
				}
			} else {
				objects[open>>6] &^= 1 << (open & 63)
			}
			open++
			continue
		case c == 't':
			i, ok = literal(b, i, "true")
		case c == 'f':
			i, ok = literal(b, i, "false")
		case c == 'n':
			i, ok = literal(b, i, "null")
		case c == '-' || c >= '0' && c <= '9':
			i, _, ok = ScanNumber(b, i)
		}
		if !ok {
			return 0, false
		}
		// After a value: close what it ends, then find the next one.
		for {
			if open == 0 {
				return i, true
			}
			if i = SkipSpace(b, i); i >= len(b) {
				return 0, false
			}
			object := objects[(open-1)>>6]&(1<<((open-1)&63)) != 0
			c := b[i]
			if c == ',' {
				i = SkipSpace(b, i+1)
				if object {
					if _, _, i, ok = scanMemberKey(b, i); !ok {
						return 0, false
					}
				}
				break
			}
			if object && c == '}' || !object && c == ']' {
				open--
				i++
				continue
			}
			return 0, false
		}
	}
}

// scanMemberKey reads a member's key at b[i] and the colon after it: the key
// token ends at ke (quotes included, escaped says it has escapes), and the
// member's value starts at vs. Every walk over an object's members reads
// its keys through it.
func scanMemberKey(b []byte, i int) (ke int, escaped bool, vs int, ok bool) {
	if ke, escaped, ok = ScanString(b, i); !ok {
		return 0, false, 0, false
	}
	if i = SkipSpace(b, ke); i >= len(b) || b[i] != ':' {
		return 0, false, 0, false
	}
	return ke, escaped, SkipSpace(b, i+1), true
}

// skipFinding skips the value at b[i] as SkipValue does and, when it is
// an object, finds its member named key: at is where that member's value
// starts, or -1. plain is false when the answer is in doubt: a key with
// escapes (which could spell key) or key twice (encoding/json keeps the
// last).
func skipFinding(b []byte, i int, key string) (end, at int, plain, ok bool) {
	if i >= len(b) || b[i] != '{' {
		end, ok = SkipValue(b, i)
		return end, -1, true, ok
	}
	return skipObject(b, i, 0, key)
}

// skipObject skips the object at b[i] == '{', at depth, and finds its
// member named key, unless key is "" (skipFinding's results).
func skipObject(b []byte, i, depth int, key string) (end, at int, plain, ok bool) {
	at, plain = -1, true
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, -1, true, true
	}
	for {
		ks := i
		ke, esc, vs, ok := scanMemberKey(b, i)
		if !ok {
			return 0, -1, false, false
		}
		named := key != "" && !esc && ke-ks-2 == len(key) && string(b[ks+1:ke-1]) == key
		plain = plain && !esc && !(named && at >= 0)
		if named {
			at = vs
		}
		if i, ok = skipValue(b, vs, depth+1); !ok {
			return 0, -1, false, false
		}
		var done bool
		if i, done, ok = afterValue(b, i, '}'); !ok {
			return 0, -1, false, false
		} else if done {
			return i, at, plain, true
		}
	}
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// EachMember walks the object at b[i] == '{'. For each member it calls fn
// with the key token's bounds (quotes included), whether the key has
// escapes, and the value's start; fn scans the value and returns its end.
func EachMember(b []byte, i int, fn func(ks, ke int, kEscaped bool, vs int) (int, bool)) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		ks := i
		ke, esc, vs, ok := scanMemberKey(b, i)
		if !ok {
			return 0, false
		}
		ve, ok := fn(ks, ke, esc, vs)
		if !ok {
			return 0, false
		}
		var done bool
		if i, done, ok = afterValue(b, ve, '}'); !ok || done {
			return i, ok
		}
	}
}

// EachElement walks the array at b[i] == '['; fn scans each element from
// its start and returns its end.
func EachElement(b []byte, i int, fn func(index, vs int) (int, bool)) (int, bool) {
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for n := 0; ; n++ {
		ve, ok := fn(n, i)
		if !ok {
			return 0, false
		}
		var done bool
		if i, done, ok = afterValue(b, ve, ']'); !ok || done {
			return i, ok
		}
	}
}

// afterValue reads what follows a member or element ending at ve: a comma
// (next is where the following one starts) or the closing bracket (done,
// next is past it).
func afterValue(b []byte, ve int, closing byte) (next int, done, ok bool) {
	i := SkipSpace(b, ve)
	switch {
	case i >= len(b):
		return 0, false, false
	case b[i] == ',':
		return SkipSpace(b, i+1), false, true
	case b[i] == closing:
		return i + 1, true, true
	}
	return 0, false, false
}
