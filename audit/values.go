package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValueMode says what a violation keeps of the offending value, in
// eventaudit_violations.value and in every report. Identify and group
// traits carry emails and names: a team that must not copy personal data
// into a second table picks redact, hash or types.
type ValueMode string

// Value modes.
const (
	ValuesKeep   ValueMode = "keep"   // the value as JSON (the default)
	ValuesRedact ValueMode = "redact" // its structure, every string masked
	ValuesHash   ValueMode = "hash"   // a keyed SHA-256 prefix: equal values group, nothing is readable
	ValuesTypes  ValueMode = "types"  // its JSON type and length only
)

// ValueModes lists the modes, for a flag's choices.
func ValueModes() []string {
	return []string{string(ValuesKeep), string(ValuesRedact), string(ValuesHash), string(ValuesTypes)}
}

// maskedString replaces every string under ValuesRedact.
const maskedString = "***"

// ValuePolicy is a ValueMode with, for ValuesHash, its key. The key keeps
// the hash from being reversed by hashing guesses (every email of a
// customer list), which a bare SHA-256 of a short value would allow.
type ValuePolicy struct {
	Mode ValueMode
	Key  []byte
}

// Check refuses an unknown mode, and hash without a key.
func (p ValuePolicy) Check() error {
	switch p.Mode {
	case "", ValuesKeep, ValuesRedact, ValuesTypes:
		return nil
	case ValuesHash:
		if len(p.Key) < 16 {
			return fmt.Errorf("values hash needs a key of at least 16 bytes, so that hashes cannot be reversed by hashing guesses")
		}
		return nil
	}
	return fmt.Errorf("values %q: use %s", p.Mode, strings.Join(ValueModes(), ", "))
}

func (p ValuePolicy) keeps() bool { return p.Mode == "" || p.Mode == ValuesKeep }

// text returns what at returns of the whole decoded value of text, a JSON
// object or array, without decoding it, where the policy keeps values
// and AppendJSONText writes the text; ok=false: decode it and ask at.
func (p ValuePolicy) text(text []byte) (string, bool) {
	if !p.keeps() {
		return "", false
	}
	b, ok := AppendJSONText(nil, text)
	if !ok {
		return "", false
	}
	return truncate(string(b)), true
}

// at returns what a violation stores of the value at pointer ptr inside
// v; "" when the pointer does not resolve (a missing required property).
func (p ValuePolicy) at(v any, ptr string) string {
	v, ok := Lookup(v, ptr)
	if !ok {
		return ""
	}
	switch p.Mode {
	case ValuesRedact:
		v = masked(v)
	case ValuesHash:
		b, err := json.Marshal(v) // whole and canonical (sorted keys): equal values hash alike
		if err != nil {
			return ""
		}
		return p.hash(b)
	case ValuesTypes:
		return typeOf(v)
	}
	b, ok := appendValue(nil, v, MaxValueBytes)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return ""
		}
	}
	return truncate(string(b))
}

// raw returns what a violation stores of a payload that is not a JSON
// object: it may not parse at all.
func (p ValuePolicy) raw(payload []byte) string {
	if payload == nil {
		return ""
	}
	switch p.Mode {
	case ValuesRedact:
		return truncate(maskStrings(payload[:min(len(payload), 4*MaxValueBytes)]))
	case ValuesHash:
		return p.hash(payload)
	case ValuesTypes:
		if v, more, err := decodeJSON(payload); err == nil && !more {
			return typeOf(v)
		}
		return fmt.Sprintf("text(%d bytes)", len(payload))
	}
	return truncate(string(payload[:min(len(payload), MaxValueBytes+1)]))
}

func (p ValuePolicy) hash(b []byte) string {
	m := hmac.New(sha256.New, p.Key)
	m.Write(b)
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))[:16]
}

// message removes the offending value from a check's message where the
// JSON Schema library quotes it: format quotes the string, and the
// numeric keywords the number (kept by redact, which masks only strings).
func (p ValuePolicy) message(keyword, msg string) string {
	if p.keeps() {
		return msg
	}
	switch keyword {
	case "format":
		if i := strings.LastIndex(msg, " is not valid "); i >= 0 {
			return "the value" + msg[i:]
		}
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		if p.Mode != ValuesRedact {
			if i := strings.Index(msg, " but found "); i >= 0 {
				return msg[:i]
			}
		}
	case "multipleOf":
		if p.Mode != ValuesRedact {
			if i := strings.Index(msg, " not multipleOf "); i >= 0 {
				return "the value" + msg[i:]
			}
		}
	}
	return msg
}

// masked is v with every string, at any depth, replaced; keys, numbers,
// booleans and nulls stay.
func masked(v any) any {
	switch x := v.(type) {
	case string:
		return maskedString
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = masked(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = masked(e)
		}
		return out
	}
	return v
}

// maskStrings masks the content of every string in text that may not be
// JSON: a string left open at the end is masked to the end.
func maskStrings(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			out.WriteByte(b[i])
			continue
		}
		out.WriteString(`"` + maskedString)
		for i++; i < len(b) && b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++
			}
		}
		if i < len(b) {
			out.WriteByte('"')
		}
	}
	return out.String()
}

// typeOf is a value's JSON type, with a string's length in characters and
// a container's in members: string(12), array(3), object(4).
func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return fmt.Sprintf("string(%d)", utf8.RuneCountInString(x))
	case []any:
		return fmt.Sprintf("array(%d)", len(x))
	case map[string]any:
		return fmt.Sprintf("object(%d)", len(x))
	}
	return "unknown"
}
