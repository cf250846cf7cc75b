package schemas_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
)

// Snowplow's own Iglu Central repository loads and compiles unchanged:
// extension-less VENDOR/NAME/jsonschema/M-R-A files, Iglu's meta-schema as
// $schema, and $refs to iglucentral.com URLs served from the repository.
func TestIgluCentralLoads(t *testing.T) {
	dir := sharedDir(t, "corpora/iglu-central")
	reg, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, info := range reg.Schemas() {
		if !strings.Contains(info.ID, "/jsonschema/") {
			t.Errorf("%s is not an Iglu jsonschema file", info.ID)
		}
		n++
	}
	if n < 290 {
		t.Errorf("%d schemas loaded, want every jsonschema file of the corpus (298)", n)
	}
	link, ok := reg.ByID("iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0")
	if !ok {
		t.Fatal("an iglu: URI does not find its schema")
	}
	if got := link.ID(); got != "schemas/com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0" {
		t.Errorf("iglu: URI matched %s", got)
	}
	for _, c := range []struct {
		event string
		want  []string
	}{
		{`{"sku":"s-1","quantity":2,"unitPrice":9.5,"currency":"EUR"}`, nil},
		{`{"sku":"s-1","quantity":"2"}`, []string{"/quantity type"}},
		{`{"quantity":2}`, []string{" required"}},
	} {
		if got := checks(t, link, c.event); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %v, want %v", c.event, got, c.want)
		}
	}
	// Matched by name, the highest SchemaVer wins: MODEL, then REVISION, then ADDITION.
	byName, ok := reg.ByName("campaign_attribution")
	if !ok || !strings.HasSuffix(byName.ID(), "/jsonschema/1-0-1") {
		t.Errorf("campaign_attribution matched %v, want 1-0-1", byName)
	}
	// Snowplow's own files pass igluctl's rules; only missing descriptions,
	// which eventaudit asks for by default, remain.
	for _, f := range reg.Lint(schemas.DefaultLintRules()) {
		if f.Rule != "description" {
			t.Errorf("%s%s: %s (%s)", f.File, f.Pointer, f.Message, f.Rule)
		}
	}
	var _ audit.Catalog = reg
}

// Iglu files are linted by igluctl's rules: the self block must name the
// file's path, and Reflekt's naming conventions do not apply.
func TestIgluLint(t *testing.T) {
	fsys := mapFS(map[string]string{
		"com.acme/checkout_started/jsonschema/1-0-2": `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
			"description":"d","self":{"vendor":"com.acme","name":"checkout_started","format":"jsonschema","version":"1-0-2"},
			"type":"object","properties":{"cartValue2":{"type":"number","description":"d"}}}`,
		"com.acme/refund/jsonschema/1-0-0": `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
			"description":"d","self":{"vendor":"com.other","name":"refund","format":"jsonschema","version":"1-1-0"},"type":"object"}`,
	})
	reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range reg.Lint(schemas.DefaultLintRules()) {
		got = append(got, f.File+" "+f.Rule)
	}
	want := []string{"com.acme/refund/jsonschema/1-0-0 self-vendor", "com.acme/refund/jsonschema/1-0-0 self-version"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Snowplow self-describing events, bare or wrapped in unstruct_event, find
// their Iglu Central schema by URI and are judged by it.
func TestSelfDescribingEventsAgainstIgluCentral(t *testing.T) {
	dir := sharedDir(t, "corpora/iglu-central")
	reg, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	const unstruct = `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":%s}`
	for _, c := range []struct {
		event, schema string
		want          []string
	}{
		{event: `{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
			"data":{"targetUrl":"https://example.com/a","elementClasses":["nav"]}}`,
			schema: "schemas/com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"},
		{event: fmt.Sprintf(unstruct, `{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
			"data":{"elementId":"x"}}`),
			schema: "schemas/com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", want: []string{" required"}},
		{event: fmt.Sprintf(unstruct, `{"schema":"iglu:com.snowplowanalytics.snowplow/application_background/jsonschema/1-0-0",
			"data":{"backgroundIndex":1.0}}`),
			// SchemaVer schemas are draft 4, where 1.0 is not an integer.
			schema: "schemas/com.snowplowanalytics.snowplow/application_background/jsonschema/1-0-0", want: []string{"/backgroundIndex type"}},
		{event: `{"schema":"iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0","data":{"sku":"s-1","quantity":2}}`,
			schema: "schemas/com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0"},
	} {
		msg, err := audit.DecodePayload([]byte(c.event))
		if err != nil {
			t.Fatal(err)
		}
		match := m.Match(msg)
		if match.Problem != nil || match.SchemaID != c.schema || match.Type != audit.SelfDescribingType {
			t.Errorf("%s: matched %s %q (%v), want %s", c.event, match.Type, match.SchemaID, match.Problem, c.schema)
			continue
		}
		var got []string
		for _, f := range match.Schema.Validate(match.Object) {
			got = append(got, f.InstancePath+" "+f.Keyword)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %v, want %v", c.event, got, c.want)
		}
	}
}
