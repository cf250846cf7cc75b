package audit

// Shape is what a schema says about the JSON an event's object must have,
// reduced to what rebuilding it from flattened warehouse columns needs:
// allowed JSON types, an object's named properties, whether other
// properties are allowed, and maxLength. It knows nothing of SQL, so a
// warehouse layout can use it without knowing JSON Schema.
type Shape struct {
	// Types are the JSON types allowed ("string", "integer", "number",
	// "boolean", "array", "object", "null"); empty allows any.
	Types []string
	// Properties are an object's declared properties.
	Properties map[string]*Shape
	// Items is what every item of an array must be; nil when the schema
	// says nothing of items (or says it per position).
	Items *Shape
	// Closed is additionalProperties: false.
	Closed bool
	// MaxLength is a string's maxLength, or -1.
	MaxLength int
}

// Allows reports whether the JSON type t is allowed; "number" allows
// "integer" values too.
func (s *Shape) Allows(t string) bool {
	if len(s.Types) == 0 {
		return true
	}
	for _, x := range s.Types {
		if x == t || x == "number" && t == "integer" {
			return true
		}
	}
	return false
}

// Shaper is a Schema that can describe its object's Shape.
type Shaper interface {
	Shape() *Shape
}

// FindingSource is a Source that finds problems of the data's container
// itself while scanning — a column typed wrong, a table no schema
// describes — which belong to no single message. The Auditor asks for
// them once the scan has finished and writes them with the run's
// violations; their MessageID is empty.
type FindingSource interface {
	Source
	Findings() []Violation
}

// Keywords of findings about a table rather than a message.
const (
	// KeywordColumnType: a column's SQL type cannot hold its property's
	// JSON type, usually because a loader typed it from the first value.
	KeywordColumnType = "column_type"
	// KeywordUnknownColumn: a column holds values for a property that a
	// closed schema (additionalProperties: false) does not declare.
	KeywordUnknownColumn = "unknown_column"
	// KeywordUnplannedTable: an event table that no schema describes.
	KeywordUnplannedTable = "unplanned_table"
)
