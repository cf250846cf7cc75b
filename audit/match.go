package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("payload is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("payload has trailing data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("payload is %s, not a JSON object", jsonKind(v))
	}
	return m, nil
}

// Match finds the schema for a decoded message and the object to validate.
func (m *Matcher) Match(msg map[string]any) Match {
	typ, _ := msg["type"].(string)
	var res Match
	res.Type = typ
	var objKey, fallback string
	switch typ {
	case "track":
		res.Name, _ = msg["event"].(string)
		objKey = "properties"
	case "page", "screen":
		res.Name, _ = msg["name"].(string)
		objKey = "properties"
		fallback = map[string]string{"page": "Page", "screen": "Screen"}[typ]
	case "identify":
		objKey, fallback = "traits", "Identify"
	case "group":
		objKey, fallback = "traits", "Group"
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

	if m.Target == ValidateMessage {
		res.Object, res.ObjectPath = msg, ""
	} else {
		obj, ok := msg[objKey]
		if !ok || obj == nil {
			// SDKs omit an empty properties/traits object; validate it as {}.
			obj = map[string]any{}
		}
		res.Object, res.ObjectPath = obj, "/"+objKey
	}

	// Rule 1: an explicit schema_id wins, and must exist.
	if obj, ok := res.Object.(map[string]any); ok {
		if id, ok := obj["schema_id"].(string); ok && id != "" {
			res.SchemaID = id
			if s, ok := m.Catalog.ByID(id); ok {
				res.Schema = s
				return res
			}
			res.Problem = &Failure{
				Keyword:      KeywordSchemaID,
				InstancePath: res.ObjectPath + "/schema_id",
				Message:      fmt.Sprintf("schema_id %q names no loaded schema", id),
			}
			return res
		}
	}
	// The config may pin an event name to a schema id.
	if id, ok := m.EventSchemas[res.Name]; ok && res.Name != "" {
		if s, ok := m.Catalog.ByID(id); ok {
			res.Schema, res.SchemaID = s, id
			return res
		}
	}
	// Rules 2–4: by name, then the call type's fallback.
	for _, name := range []string{res.Name, fallback} {
		if name == "" {
			continue
		}
		if s, ok := m.Catalog.ByName(name); ok {
			res.Schema, res.SchemaID = s, s.ID()
			return res
		}
	}
	res.Unplanned = true
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
