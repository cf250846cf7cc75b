package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Schema is a compiled event schema. It must be safe for concurrent use.
type Schema interface {
	ID() string
	// Validate checks instance (decoded with json.Decoder.UseNumber) and
	// returns one Failure per failed leaf check; nil means valid.
	Validate(instance any) []Failure
}

// Failure is one failed check, located relative to the validated object.
type Failure struct {
	InstancePath string // JSON pointer relative to the validated object
	Keyword      string
	Message      string
}

// Catalog looks schemas up for the matcher. schemas.Registry implements it.
type Catalog interface {
	// ByID returns the schema whose $id is id.
	ByID(id string) (Schema, bool)
	// ByName returns the highest MAJOR-MINOR version of the schema whose
	// self.name is name, within the plan in scope.
	ByName(name string) (Schema, bool)
}

// ValidateTarget says which part of a message is checked against its schema.
type ValidateTarget string

const (
	// ValidateObject checks properties (track, page, screen) or traits
	// (identify, group): the part the tracking plan describes.
	ValidateObject ValidateTarget = "object"
	// ValidateMessage checks the whole Segment message.
	ValidateMessage ValidateTarget = "message"
)

// Matcher applies DESIGN.md §4: schema_id, explicit mapping, then the event's
// type and name.
type Matcher struct {
	Catalog Catalog
	// EventSchemas maps an event name to a schema $id, overriding name lookup.
	EventSchemas map[string]string
	Target       ValidateTarget
}

// Match is the verdict of matching one message.
type Match struct {
	Type string
	Name string
	// SchemaID is the matched schema's $id, or the unknown schema_id the
	// message asked for.
	SchemaID string
	Schema   Schema // nil when unplanned or when schema_id is unknown
	// Object is the decoded value to validate and ObjectPath its JSON
	// pointer inside the message.
	Object     any
	ObjectPath string
	Unplanned  bool
	// Problem is set when the message cannot be validated at all: a
	// payload or schema_id violation.
	Problem *Failure
}

// DecodePayload parses a raw message. The error says, for a person, why the
// payload cannot be audited.
func DecodePayload(payload []byte) (map[string]any, error) {
	if payload == nil {
		return nil, fmt.Errorf("payload is NULL")
	}
	v, more, err := decodeJSON(payload)
	if err != nil {
		return nil, fmt.Errorf("payload is not valid JSON: %v", err)
	}
	if more {
		return nil, fmt.Errorf("payload has trailing data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("payload is %s, not a JSON object", jsonKind(v))
	}
	return m, nil
}

// decodeJSON decodes one JSON value, numbers as json.Number, and reports
// whether anything follows it.
func decodeJSON(raw []byte) (v any, more bool, err error) {
	if v, more, ok := decodeScanned(raw); ok {
		return v, more, nil
	}
	// What the scanner refuses, encoding/json refuses too, and its error is
	// the one a violation quotes.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	err = dec.Decode(&v)
	return v, err == nil && dec.More(), err
}

// DecodeJSON decodes raw as exactly one JSON value, numbers as
// json.Number, as encoding/json's Decoder with UseNumber reads it; unlike
// that Decoder, anything but white space after the value is an error.
func DecodeJSON(raw []byte) (any, error) {
	if v, end, ok := decodeValue(raw, SkipSpace(raw, 0), 0); ok {
		if SkipSpace(raw, end) != len(raw) {
			return nil, errors.New("trailing data after the JSON value")
		}
		return v, nil
	}
	// What the scanner refuses, malformed or nested past its depth,
	// encoding/json judges, and its error says why.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if SkipSpace(raw, int(dec.InputOffset())) != len(raw) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// FastSchema is a Schema that can also prove an object valid from its raw
// JSON, without decoding it. ValidJSON returning false proves nothing: the
// caller then decodes and asks Validate, which stays the judge.
type FastSchema interface {
	Schema
	ValidJSON(raw []byte) bool
}

// ObjectProver is a FastSchema that proves an object where it lies in a
// message, so that the envelope's one walk over the object is also its
// proof, where it would otherwise skip the object and the proof walk it
// again. ValidAt checks the object at b[i] == '{' as ValidJSON checks
// b[i:end], and returns end and where its member schema_id's value starts
// (-1: none). ok=false proves nothing; it is also the answer for a
// schema_id written twice or a key with escapes, which the envelope leaves
// to the slow path.
type ObjectProver interface {
	FastSchema
	ValidAt(b []byte, i int) (end, schemaIDAt int, ok bool)
}

// MemberSchema is a FastSchema that can also narrow an invalid object to
// the members that fail, so that the library decodes and judges those
// alone. FailingMembers returns them where it proves the rest of the
// object valid (ok=false proves nothing), and ValidateMembers, given just
// those members decoded, by key, reports what Validate reports of the
// whole object (ok=false: ask Validate). Or, with no member failing, own
// names the object's own failures (a required member missing, say): the
// library's failures of two objects whose members are all valid are the
// same where their own is. An implementation is comparable (a pointer):
// the verdicts on its objects are kept by schema.
type MemberSchema interface {
	FastSchema
	FailingMembers(raw []byte) (members []RawMember, own string, ok bool)
	ValidateMembers(members map[string]any) (failures []Failure, ok bool)
}

// RawMember is a member of a raw JSON object: its key, and its value's
// bytes.
type RawMember struct {
	Key   string
	Value []byte
}

// objectKey is the member validated for a call type, and the fallback
// schema name.
func objectKey(typ string) (key, fallback string) {
	switch typ {
	case "track":
		return "properties", ""
	case "page":
		return "properties", "Page"
	case "screen":
		return "properties", "Screen"
	case "identify":
		return "traits", "Identify"
	case "group":
		return "traits", "Group"
	}
	return "", ""
}

// Resolve matches a message known only by its envelope: its type, its track
// event or page/screen name, and the schema_id of its object. A layout that
// must know an event's schema before it can rebuild the message uses it.
func (m *Matcher) Resolve(typ, event, name, schemaID string) Match {
	return m.route(typ, event, name, schemaID)
}

// route applies DESIGN.md §4 to a message's envelope: its type, its track
// event or page/screen name, and the schema_id of its validated object.
// Both the decoded path and the raw-bytes fast path go through it, so they
// cannot disagree on matching.
func (m *Matcher) route(typ, event, name, schemaID string) Match {
	res := Match{Type: typ}
	key, fallback := objectKey(typ)
	switch typ {
	case "track":
		res.Name = event
	case "page", "screen":
		res.Name = name
	case "identify", "group":
	case "":
		res.Problem = &Failure{Keyword: KeywordPayload, InstancePath: "/type", Message: "message has no type"}
		return res
	default:
		// alias and other calls carry nothing a tracking plan describes.
		res.Unplanned = true
		return res
	}
	if typ == "track" && res.Name == "" {
		res.Problem = &Failure{Keyword: KeywordPayload, InstancePath: "/event", Message: "track message has no event name"}
		return res
	}
	// Constants, not "/" + key: route runs for every message.
	switch {
	case m.Target == ValidateMessage:
		res.ObjectPath = ""
	case key == "traits":
		res.ObjectPath = "/traits"
	default:
		res.ObjectPath = "/properties"
	}
	// Rule 1: an explicit schema_id wins, and must exist.
	if schemaID != "" {
		res.SchemaID = schemaID
		if s, ok := m.Catalog.ByID(schemaID); ok {
			// The schema's own id: an Iglu URI names the same file as
			// its path, and both must count as one schema.
			res.Schema, res.SchemaID = s, s.ID()
			return res
		}
		res.Problem = &Failure{
			Keyword:      KeywordSchemaID,
			InstancePath: res.ObjectPath + "/schema_id",
			Message:      fmt.Sprintf("schema_id %q names no loaded schema", schemaID),
		}
		return res
	}
	// The config may pin an event name to a schema id.
	if id, ok := m.EventSchemas[res.Name]; ok && res.Name != "" {
		if s, ok := m.Catalog.ByID(id); ok {
			res.Schema, res.SchemaID = s, id
			return res
		}
	}
	// Rules 2–4: by name, then the call type's fallback.
	for _, n := range []string{res.Name, fallback} {
		if n == "" {
			continue
		}
		if s, ok := m.Catalog.ByName(n); ok {
			res.Schema, res.SchemaID = s, s.ID()
			return res
		}
	}
	res.Unplanned = true
	return res
}

// SelfDescribingType is the event type of a Snowplow self-describing event,
// as Snowplow's own atomic.events names it.
const SelfDescribingType = "unstruct"

// selfDescribing reads a Snowplow self-describing JSON, {"schema":
// "iglu:VENDOR/NAME/jsonschema/M-R-A", "data": …}. A wrapper such as
// unstruct_event, whose data is itself self-describing, is looked through:
// the event is the innermost one. path is the data's JSON pointer.
func selfDescribing(msg map[string]any) (uri string, data any, path string, ok bool) {
	for {
		u, isStr := msg["schema"].(string)
		d, hasData := msg["data"]
		if !isStr || !strings.HasPrefix(u, "iglu:") || !hasData {
			return uri, data, path, ok
		}
		uri, data, path, ok = u, d, path+"/data", true
		inner, isObj := d.(map[string]any)
		if !isObj {
			return uri, data, path, ok
		}
		msg = inner
	}
}

// routeSelfDescribing matches a self-describing event by its Iglu URI.
func (m *Matcher) routeSelfDescribing(uri string, data any, path string) Match {
	res := Match{Type: SelfDescribingType, SchemaID: uri, ObjectPath: path}
	// iglu:VENDOR/NAME/jsonschema/M-R-A: the event is NAME.
	if parts := strings.Split(strings.TrimPrefix(uri, "iglu:"), "/"); len(parts) == 4 {
		res.Name = parts[1]
	}
	if s, ok := m.Catalog.ByID(uri); ok {
		res.Schema, res.SchemaID, res.Object = s, s.ID(), data
		return res
	}
	res.Problem = &Failure{Keyword: KeywordSchemaID, InstancePath: strings.TrimSuffix(path, "/data") + "/schema",
		Message: fmt.Sprintf("schema %q names no loaded schema", uri)}
	return res
}

// Match finds the schema for a decoded message and the object to validate.
// A message with no type that is a Snowplow self-describing JSON is matched
// by its Iglu URI.
func (m *Matcher) Match(msg map[string]any) Match {
	typ, _ := msg["type"].(string)
	if _, hasType := msg["type"]; !hasType {
		if uri, data, path, ok := selfDescribing(msg); ok {
			return m.routeSelfDescribing(uri, data, path)
		}
	}
	event, _ := msg["event"].(string)
	name, _ := msg["name"].(string)
	var obj any = msg
	if m.Target != ValidateMessage {
		key, _ := objectKey(typ)
		if obj = msg[key]; obj == nil {
			// SDKs omit an empty properties/traits object; validate it as {}.
			obj = map[string]any{}
		}
	}
	schemaID := ""
	if o, ok := obj.(map[string]any); ok {
		schemaID, _ = o["schema_id"].(string)
	}
	res := m.route(typ, event, name, schemaID)
	if res.Problem == nil && !res.Unplanned {
		res.Object = obj
	}
	return res
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
