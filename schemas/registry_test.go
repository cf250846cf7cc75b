package schemas_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
)

// sharedDir finds ../shared beside the repository; with CI set its absence
// fails the test instead of skipping it.
func sharedDir(t *testing.T, rel string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", rel)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must run with shared/ beside the repository", dir)
		}
		t.Skipf("%s not found", dir)
	}
	return dir
}

func TestLoadReflektExample(t *testing.T) {
	dir := sharedDir(t, "corpora/reflekt-example/schemas")
	reg, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 7 files under avo/main and 9 under segment/ecommerce; the 4 files in
	// .reflekt/ are meta-schemas, not events.
	if reg.Len() != 16 {
		t.Errorf("%d event schemas, want 16", reg.Len())
	}
	for _, info := range reg.Schemas() {
		if strings.HasPrefix(info.ID, ".reflekt") {
			t.Errorf("meta-schema %s loaded as an event schema", info.ID)
		}
	}
	if got := reg.Plans(); !slices.Equal(got, []string{"avo/main", "segment/ecommerce"}) {
		t.Errorf("plans %v", got)
	}
	// Seven event names exist in both plans, so unscoped name lookup is ambiguous.
	if amb := reg.Ambiguities(); len(amb) != 7 || !strings.Contains(strings.Join(amb, "\n"), `"Order Completed" is defined in plans avo/main and segment/ecommerce`) {
		t.Errorf("ambiguities:\n%s", strings.Join(amb, "\n"))
	}

	scoped, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{Plan: "segment/ecommerce"})
	if err != nil {
		t.Fatal(err)
	}
	if amb := scoped.Ambiguities(); len(amb) != 0 {
		t.Errorf("--plan segment/ecommerce still ambiguous: %v", amb)
	}
	oc, ok := scoped.ByName("Order Completed")
	if !ok || oc.ID() != "segment/ecommerce/Order Completed/1-0.json" {
		t.Fatalf("Order Completed resolved to %v", oc)
	}
	if _, ok := scoped.ByName("Identify"); !ok {
		t.Error("Identify missing in segment/ecommerce")
	}
	// Lookup by id is never scoped.
	if _, ok := scoped.ByID("avo/main/Order Completed/1-0.json"); !ok {
		t.Error("ByID must find schemas outside the plan")
	}
	// The schema validates: currency is an enum of USD, extra keys are banned.
	fails := oc.Validate(map[string]any{"checkout_id": "c", "currency": "usd", "order_id": "o", "products": []any{},
		"revenue": 1, "shipping": 0, "tax": 0, "coupon": "X"})
	var got []string
	for _, f := range fails {
		got = append(got, f.Keyword+" "+f.InstancePath)
	}
	slices.Sort(got)
	if want := []string{"additionalProperties ", "enum /currency"}; !slices.Equal(got, want) {
		t.Errorf("failures %q, want %q", got, want)
	}
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for p, s := range files {
		m[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return m
}

func event(name, version string) string {
	return `{"$schema":"http://json-schema.org/draft-07/schema#","self":{"name":"` + name + `","version":"` + version + `"},"type":"object"}`
}

func TestVersionOrdering(t *testing.T) {
	tests := []struct {
		versions []string
		want     string
	}{
		{[]string{"1-0", "1-2", "1-10"}, "1-10"}, // numeric, not lexical
		{[]string{"1-10", "2-0", "1-9"}, "2-0"},  // MAJOR first
		{[]string{"10-0", "9-99"}, "10-0"},
	}
	for _, tt := range tests {
		files := map[string]string{}
		for _, v := range tt.versions {
			files["p/Signed Up/"+v+".json"] = event("Signed Up", v)
		}
		reg, err := schemas.Load(context.Background(), mapFS(files), schemas.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := reg.ByName("Signed Up")
		if want := "p/Signed Up/" + tt.want + ".json"; s == nil || s.ID() != want {
			t.Errorf("versions %v: got %v, want %s", tt.versions, s, want)
		}
	}
}

func TestPlanScoping(t *testing.T) {
	fsys := mapFS(map[string]string{
		"web/shop/Order Completed/1-0.json": event("Order Completed", "1-0"),
		"app/shop/Order Completed/3-0.json": event("Order Completed", "3-0"),
	})
	reg, err := schemas.Load(context.Background(), fsys, schemas.Options{Plan: "web/shop"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := reg.ByName("Order Completed"); s == nil || s.ID() != "web/shop/Order Completed/1-0.json" {
		t.Errorf("got %v: a higher version in another plan must not win", s)
	}
	_, err = schemas.Load(context.Background(), fsys, schemas.Options{Plan: "web/sho"})
	if !audit.IsConfig(err) || !strings.Contains(err.Error(), "matches no schema") {
		t.Errorf("a prefix that is not a whole path segment must not match; got %v", err)
	}
}

func TestRefs(t *testing.T) {
	common := `{"definitions":{"money":{"type":"number","minimum":0}}}`
	fsys := mapFS(map[string]string{
		"shop/common/Money/1-0.json": common,
		"shop/Order Completed/1-0.json": `{"self":{"name":"Order Completed","version":"1-0"},"type":"object","properties":{
			"relative":{"$ref":"../common/Money/1-0.json#/definitions/money"},
			"rooted":{"$ref":"shop/common/Money/1-0.json#/definitions/money"}}}`,
	})
	reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.ByName("Order Completed")
	fails := s.Validate(map[string]any{"relative": -1, "rooted": "x"})
	var got []string
	for _, f := range fails {
		got = append(got, f.InstancePath+" "+f.Keyword)
	}
	slices.Sort(got)
	if want := []string{"/relative minimum", "/rooted type"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// A schema keeps its own absolute $id for $refs, its own and other files',
// while eventaudit still addresses it by its path; both the library and the
// fast path follow them.
func TestRefsByOwnID(t *testing.T) {
	fsys := mapFS(map[string]string{
		"shop/common/Money/1-0.json": `{"$id":"https://schemas.acme.com/common/money.json",
			"definitions":{"money":{"type":"number","minimum":0}}}`,
		"shop/Checkout/1-0.json": `{"$id":"urn:acme:checkout","self":{"name":"Checkout","version":"1-0"},"type":"object",
			"properties":{
				"self_ref":{"$ref":"urn:acme:checkout#/definitions/code"},
				"absolute":{"$ref":"https://schemas.acme.com/common/money.json#/definitions/money"}},
			"definitions":{"code":{"type":"string","maxLength":3}}}`,
		"shop/Refund/1-0.json": `{"$id":"https://schemas.acme.com/refund.json","self":{"name":"Refund","version":"1-0"},
			"type":"object","properties":{"amount":{"$ref":"common/money.json#/definitions/money"}}}`,
	})
	for _, fast := range []bool{true, false} {
		reg, err := schemas.Load(context.Background(), fsys, schemas.Options{DisableFastPath: !fast})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			event, instance string
			want            []string
		}{
			{"Checkout", `{"self_ref":"ABCD","absolute":-1}`, []string{"/absolute minimum", "/self_ref maxLength"}},
			{"Checkout", `{"self_ref":"ABC","absolute":1}`, nil},
			{"Refund", `{"amount":"x"}`, []string{"/amount type"}},
			{"Refund", `{"amount":2}`, nil},
		} {
			s, ok := reg.ByName(c.event)
			if !ok {
				t.Fatalf("%s not loaded", c.event)
			}
			got := checks(t, s, c.instance)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s %s: got %v, want %v", c.event, c.instance, got, c.want)
			}
			if fs := s.(audit.FastSchema); fs.ValidJSON([]byte(c.instance)) && len(got) > 0 {
				t.Errorf("%s %s: the fast path proved valid what the library rejects", c.event, c.instance)
			}
		}
	}
}

// checks validates the JSON instance with the library and returns each
// failure as "path keyword", sorted.
func checks(t *testing.T, s audit.Schema, instance string) []string {
	t.Helper()
	v, err := decode(instance)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range s.Validate(v) {
		got = append(got, f.InstancePath+" "+f.Keyword)
	}
	slices.Sort(got)
	return got
}

func TestBadSchemasNameTheFile(t *testing.T) {
	tests := []struct {
		name, file, body, want string
	}{
		{"truncated JSON", "p/A/1-0.json", "{\n  \"type\":", "invalid JSON at line 2, column 10: the file ends inside a value"},
		{"a missing comma", "p/A/1-0.json", "{\n  \"type\": \"object\"\n  \"required\": []\n}", "invalid JSON at line 3, column 3: invalid character '\"' after object key:value pair"},
		{"a column counts characters", "p/A/1-0.json", `{"description": "café", x}`, "invalid JSON at line 1, column 25"},
		{"text after the schema", "p/A/1-0.json", "{\"type\": \"object\"}\n}", "invalid JSON at line 2, column 1: more after"},
		{"not an object", "p/A/1-0.json", `[1]`, "must hold a JSON object"},
		{"bad keyword value", "p/A/1-0.json", `{"type": 12}`, "type"},
		{"missing $ref target", "p/A/1-0.json", `{"properties":{"x":{"$ref":"../Nope/1-0.json"}}}`, `"p/Nope/1-0.json" is not in the schemas directory`},
		{"remote $ref", "p/A/1-0.json", `{"properties":{"x":{"$ref":"https://example.com/s.json"}}}`, "never fetches"},
		{"unknown draft", "p/A/1-0.json", `{"$schema":"https://example.com/draft/42"}`, "unknown $schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := mapFS(map[string]string{tt.file: tt.body, "p/Fine/1-0.json": event("Fine", "1-0")})
			reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
			var le *schemas.LoadError
			if !errors.As(err, &le) || len(le.Files) != 1 || le.Files[0].File != tt.file {
				t.Fatalf("want a LoadError naming %s, got %v", tt.file, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if _, ok := reg.ByName("Fine"); !ok {
				t.Error("the good schema must still load")
			}
		})
	}
}

// jsonschema/v5 panics compiling A, which refers to B, whose $ref names a
// member of definitions that are a sibling of $ref (and so, in draft 7, not
// a schema location): a nil map in its resolver. The loader reports A as a
// file that does not compile, and the other files still load.
func TestLibraryPanicIsACompileError(t *testing.T) {
	fsys := mapFS(map[string]string{
		// As FuzzFastPathStructured found them.
		"suite/Case/1-0.json": `{"type":"array","items":{"additionalProperties":{"type":["string","null"],"minimum":3,` +
			`"maxLength":2.0,"required":[]},"$ref":"../Other/1-0.json"},"maximum":0.1,"uniqueItems":false}`,
		"suite/Other/1-0.json": `{"type":["integer","string"],"required":["a","a"],"not":{"type":["string","null"],` +
			`"additionalProperties":false,"minItems":2.0,"$ref":"#/definitions/a~1b","definitions":{"a/b":true,` +
			`"a%b":{"type":"integer"},"a~b":false,"a":{"b":{}}}},"pattern":"."}`,
		"suite/Fine/1-0.json": event("Fine", "1-0"),
	})
	reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
	var le *schemas.LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "suite/Case/1-0.json") || !strings.Contains(err.Error(), "could not compile this schema") {
		t.Fatalf("want a LoadError saying suite/Case/1-0.json could not compile, got %v", err)
	}
	if _, ok := reg.ByName("Fine"); !ok {
		t.Error("the good schema must still load")
	}
}

func TestRefCycleDoesNotHang(t *testing.T) {
	fsys := mapFS(map[string]string{
		"p/A/1-0.json": `{"self":{"name":"A","version":"1-0"},"$ref":"../B/1-0.json"}`,
		"p/B/1-0.json": `{"self":{"name":"B","version":"1-0"},"$ref":"../A/1-0.json"}`,
	})
	done := make(chan error, 1)
	go func() {
		reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
		if err == nil {
			s, _ := reg.ByName("A")
			if len(s.Validate(map[string]any{})) == 0 {
				err = errors.New("a $ref cycle validated as valid")
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		// Either a compile error naming the cycle or a failed validation is
		// fine; hanging or calling the event valid is not.
		t.Logf("cycle: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("a $ref cycle hung the loader")
	}
}

func TestDigestFollowsContent(t *testing.T) {
	load := func(body string) string {
		reg, err := schemas.Load(context.Background(), mapFS(map[string]string{"p/A/1-0.json": body}), schemas.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return reg.Digest()
	}
	a, a2, b := load(event("A", "1-0")), load(event("A", "1-0")), load(event("A", "1-1"))
	if a != a2 || a == b {
		t.Errorf("digests %s %s %s: want equal for equal content, different otherwise", a, a2, b)
	}
}

func decode(s string) (any, error) {
	m, err := audit.DecodePayload([]byte(`{"v":` + s + `}`))
	if err != nil {
		return nil, err
	}
	return m["v"], nil
}

// format is an annotation unless AssertFormat is set, as in Python's
// jsonschema (jsonschema/v5 alone would assert it under draft 7).
func TestFormatIsNotAssertedByDefault(t *testing.T) {
	fsys := mapFS(map[string]string{"p/Signed Up/1-0.json": `{"$schema":"http://json-schema.org/draft-07/schema#",
		"properties":{"email":{"type":"string","format":"email"},"at":{"type":"string","format":"date-time"}}}`})
	instance := map[string]any{"email": "not an email", "at": "yesterday"}
	for _, tc := range []struct {
		assert bool
		want   int
	}{{false, 0}, {true, 2}} {
		reg, err := schemas.Load(context.Background(), fsys, schemas.Options{AssertFormat: tc.assert})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := reg.ByName("Signed Up")
		if got := s.Validate(instance); len(got) != tc.want {
			t.Errorf("AssertFormat=%v: %d failures %v, want %d", tc.assert, len(got), got, tc.want)
		}
	}
}

func TestAdditionalPropertiesMessageIsStable(t *testing.T) {
	reg, err := schemas.Load(context.Background(), mapFS(map[string]string{"p/A/1-0.json": `{"additionalProperties":false}`}), schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.ByName("A")
	inst := map[string]any{"zeta": 1, "alpha": 2, "mid": 3, "": 4}
	for range 50 {
		if got := s.Validate(inst)[0].Message; got != "additionalProperties '', 'alpha', 'mid', 'zeta' not allowed" {
			t.Fatalf("message %q", got)
		}
	}
}

func TestFailuresComeInAStableOrder(t *testing.T) {
	reg, err := schemas.Load(context.Background(), mapFS(map[string]string{"p/A/1-0.json": `{"properties":{
		"a":{"type":"string"},"b":{"type":"string"},"c":{"type":"string"},"d":{"type":"string"}},"required":["z"]}`}), schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.ByName("A")
	want := ""
	for range 50 {
		var got []string
		for _, f := range s.Validate(map[string]any{"d": 1, "c": 1, "b": 1, "a": 1}) {
			got = append(got, f.InstancePath+" "+f.Keyword)
		}
		if want == "" {
			want = strings.Join(got, ",")
		}
		if strings.Join(got, ",") != want || want != " required,/a type,/b type,/c type,/d type" {
			t.Fatalf("order %v, want %s", got, want)
		}
	}
}

// An event whose newest schema file does not compile, or cannot be read, is
// unplanned: an older version is not its plan any more.
func TestBrokenNewestVersionIsUnplanned(t *testing.T) {
	fsys := mapFS(map[string]string{
		"shop/Order/1-0.json":  event("Order", "1-0"),
		"shop/Order/1-1.json":  `{"self":{"name":"Order","version":"1-1"},"type":12}`,
		"shop/Refund/1-0.json": event("Refund", "1-0"),
		"shop/Refund/2-0.json": `{"self":`,
		"shop/Fine/1-0.json":   event("Fine", "1-0"),
	})
	reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
	var le *schemas.LoadError
	if !errors.As(err, &le) || len(le.Files) != 2 {
		t.Fatalf("want a LoadError naming the two broken files, got %v", err)
	}
	for _, name := range []string{"Order", "Refund"} {
		if s, ok := reg.ByName(name); ok {
			t.Errorf("%s matched %s, want unplanned", name, s.ID())
		}
	}
	if _, ok := reg.ByName("Fine"); !ok {
		t.Error("Fine must still match")
	}
}
