package audit

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// What a results table stores per string, in bytes. Every warehouse holds
// these: Redshift's short columns are VARCHAR(512).
const (
	MaxIDBytes      = 256  // message_id, event_type, keyword
	MaxNameBytes    = 1024 // event_name, schema_id, instance_path
	MaxMessageBytes = 1024 // a violation's message
)

// KeywordEncoding flags a message whose routing strings (type, event or
// page name, schema_id, message id) a results table cannot store as they
// are: a NUL character, which Postgres text refuses, invalid UTF-8, or a
// length past the column's bound. The row is stored with the string made
// storable and this violation saying so.
const KeywordEncoding = "encoding"

// storable returns s as every results table can hold it: NUL and invalid
// UTF-8 replaced by U+FFFD, and at most max bytes, cut on a rune boundary
// and marked with "…". problem says what was changed, "" when nothing was.
func storable(s string, max int) (out, problem string) {
	out = s
	var why []string
	if strings.IndexByte(out, 0) >= 0 {
		out = strings.ReplaceAll(out, "\x00", "\uFFFD")
		why = append(why, "a NUL character")
	}
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
		why = append(why, "invalid UTF-8")
	}
	if len(out) > max {
		n := len(out)
		out = cut(out, max)
		why = append(why, fmt.Sprintf("%d bytes, over the %d stored", n, max))
	}
	return out, strings.Join(why, " and ")
}

// clean makes s storable without flagging it: for text eventaudit writes
// about a message (a library's message quoting a property name), not for
// the message's own identity.
func clean(s string, max int) string {
	out, _ := storable(s, max)
	return out
}

// cut shortens s to at most max bytes on a rune boundary, marking the cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// rawStorable reports whether a string read straight from the payload's
// bytes can be stored as it is; the fast path hands any other row to the
// slow path, which cleans and flags it.
func rawStorable(s string, max int) bool {
	return len(s) <= max && strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// cleanIdentity makes a row's identity storable and returns a violation
// for each field that had to change.
func cleanIdentity(base *Violation) []Violation {
	var out []Violation
	for _, f := range []struct {
		field, path string
		s           *string
		max         int
	}{
		{"message id", "", &base.MessageID, MaxIDBytes},
		{"type", "/type", &base.EventType, MaxIDBytes},
		{"event name", "", &base.EventName, MaxNameBytes},
		{"schema_id", "", &base.SchemaID, MaxNameBytes},
	} {
		fixed, problem := storable(*f.s, f.max)
		if problem == "" {
			continue
		}
		*f.s = fixed
		out = append(out, Violation{Keyword: KeywordEncoding, InstancePath: f.path,
			Message: fmt.Sprintf("the %s holds %s, which a results table cannot store; it is stored as %q", f.field, problem, cut(fixed, 80))})
	}
	for i := range out {
		id := out[i]
		out[i] = *base
		out[i].Keyword, out[i].InstancePath, out[i].Message = id.Keyword, id.InstancePath, id.Message
	}
	return out
}

// invalidUTF8 flags a row whose identity strings encoding/json read with
// U+FFFD in place of invalid UTF-8 bytes; the fast path hands such rows
// here (rawStorable), so both paths agree.
func invalidUTF8(base Violation, payload []byte) (Violation, bool) {
	if !strings.ContainsRune(base.EventType+base.EventName+base.SchemaID, utf8.RuneError) || utf8.Valid(payload) {
		return Violation{}, false
	}
	v := base
	v.Keyword = KeywordEncoding
	v.Message = "the type, event name or schema_id holds invalid UTF-8; it is stored with U+FFFD in its place"
	return v, true
}

// cleanViolation bounds and cleans every string of v, and takes the
// offending value out of its message where the policy keeps none.
func cleanViolation(v *Violation, redact func(string) string, values ValuePolicy) {
	v.Message = values.message(v.Keyword, v.Message)
	if redact != nil {
		v.Message, v.Value = redact(v.Message), redact(v.Value)
	}
	v.MessageID = clean(v.MessageID, MaxIDBytes)
	v.EventType = clean(v.EventType, MaxIDBytes)
	v.EventName = clean(v.EventName, MaxNameBytes)
	v.SchemaID = clean(v.SchemaID, MaxNameBytes)
	v.InstancePath = clean(v.InstancePath, MaxNameBytes)
	v.Keyword = clean(v.Keyword, MaxIDBytes)
	v.Message = clean(v.Message, MaxMessageBytes)
	v.Value = clean(v.Value, MaxValueBytes)
}
