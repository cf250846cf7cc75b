package schemas

import (
	"regexp"
	"strconv"
	"strings"
)

// Iglu, Snowplow's schema registry layout: VENDOR/NAME/jsonschema/M-R-A,
// files without an extension, each a self-describing JSON Schema whose
// $schema is Iglu's meta-schema (draft 4 with a "self" block) and whose
// version is a SchemaVer, MODEL-REVISION-ADDITION.

// igluPath matches a schema file of an Iglu repository and captures its
// key, VENDOR/NAME/jsonschema/M-R-A.
var igluPath = regexp.MustCompile(`(?:^|/)([^/]+/[^/]+/jsonschema/(\d+)-(\d+)-(\d+))$`)

// igluCentral is where Iglu schemas name each other, and iglu: how events
// and other schemas name them.
const (
	igluCentral = "http://iglucentral.com/schemas/"
	igluScheme  = "iglu:"
	// igluMeta is Iglu's self-describing meta-schema; the library reads
	// such files as the draft 4 it extends.
	igluMeta = igluCentral + "com.snowplowanalytics.self-desc/schema/jsonschema/1-"
	draft4   = "http://json-schema.org/draft-04/schema#"
)

// igluKey is the file's Iglu key, VENDOR/NAME/jsonschema/M-R-A, or "".
func igluKey(p string) string {
	if m := igluPath.FindStringSubmatch(p); m != nil {
		return m[1]
	}
	return ""
}

// schemaVer parses the MODEL-REVISION-ADDITION of an Iglu path.
func schemaVer(p string) (model, revision, addition int, ok bool) {
	m := igluPath.FindStringSubmatch(p)
	if m == nil {
		return 0, 0, 0, false
	}
	model, _ = strconv.Atoi(m[2])
	revision, _ = strconv.Atoi(m[3])
	addition, _ = strconv.Atoi(m[4])
	return model, revision, addition, true
}

// igluDraft points a file written against Iglu's meta-schema at draft 4,
// which the library knows.
func igluDraft(doc map[string]any) {
	if s, _ := doc["$schema"].(string); strings.HasPrefix(s, igluMeta) {
		doc["$schema"] = draft4
	}
}

// igluIDs are the names an Iglu file goes by in $refs and schema_ids.
func igluIDs(key string) []string {
	return []string{igluCentral + key + "#", igluCentral + key, igluScheme + key}
}

// lintIgluSelf checks, as igluctl does, that a file's self block names the
// file: VENDOR/NAME/jsonschema/M-R-A.
func lintIgluSelf(file string, self map[string]any, add func(ptr, rule, format string, args ...any)) {
	parts := strings.Split(igluKey(file), "/")
	for _, f := range []struct{ field, want string }{
		{"vendor", parts[0]}, {"name", parts[1]}, {"format", parts[2]}, {"version", parts[3]},
	} {
		if got, _ := self[f.field].(string); got != f.want {
			add("/self/"+f.field, "self-"+f.field, "self.%s %q does not match %q in the path VENDOR/NAME/jsonschema/M-R-A",
				f.field, got, f.want)
		}
	}
}
