package schemas_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/eventaudit/eventaudit/schemas"
)

func findingKeys(fs []schemas.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.File + ":" + f.Pointer + " " + f.Rule
	}
	slices.Sort(out)
	return out
}

// The expected findings were worked out by reading the files: every event
// and property has a description, names are Title Case / snake_case without
// digits, and self matches folder and file. Four properties allow null
// (shipping_method and box_size, in both plans); Product Added has a "name"
// property and Page Viewed a "title" one, in both plans.
func TestLintReflektExample(t *testing.T) {
	dir := sharedDir(t, "corpora/reflekt-example/schemas")
	reg, err := schemas.Load(context.Background(), os.DirFS(dir), schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Lint(schemas.DefaultLintRules()); len(got) != 0 {
		t.Errorf("default rules: want no findings, got:\n%v", got)
	}
	strict := schemas.DefaultLintRules()
	strict.DataTypes = []string{"string", "integer", "number", "boolean", "object", "array"}
	strict.Properties.Reserved = []string{"name", "title"}
	want := []string{
		"avo/main/Checkout Step Viewed/1-0.json:/properties/shipping_method/type data-type",
		"avo/main/Page Viewed/1-0.json:/properties/title property-name",
		"avo/main/Product Added/1-0.json:/properties/box_size/type data-type",
		"avo/main/Product Added/1-0.json:/properties/name property-name",
		"segment/ecommerce/Checkout Step Viewed/1-0.json:/properties/shipping_method/type data-type",
		"segment/ecommerce/Page Viewed/1-0.json:/properties/title property-name",
		"segment/ecommerce/Product Added/1-0.json:/properties/box_size/type data-type",
		"segment/ecommerce/Product Added/1-0.json:/properties/name property-name",
	}
	if got := findingKeys(reg.Lint(strict)); !slices.Equal(got, want) {
		t.Errorf("strict rules:\n got %q\nwant %q", got, want)
	}
}

func TestLintRules(t *testing.T) {
	fsys := mapFS(map[string]string{
		// Clean.
		"p/Order Completed/1-0.json": `{"description":"d","self":{"name":"Order Completed","version":"1-0"},
			"properties":{"order_id":{"description":"d","type":"string"},"items":{"description":"d","type":"array",
			"items":{"type":"object","properties":{"sku":{"description":"d","type":"string"}}}}}}`,
		// self.version disagrees with the file, a camelCase property, a
		// nested property without a description, a digit in a name.
		"p/Signed Up/1-1.json": `{"description":"d","self":{"name":"Signed Up","version":"1-0"},
			"properties":{"signupMethod":{"description":"d","type":"string"},
			"address":{"description":"d","type":"object","properties":{"zip_code_5":{"type":"string"}}}}}`,
		// Folder name disagrees with self.name; no event description;
		// same name and version as Order Completed above.
		"p/Order Done/1-0.json": `{"self":{"name":"Order Completed","version":"1-0"},"properties":{}}`,
		// snake_case event, not Title Case.
		"p/cart_viewed/1-0.json": `{"description":"d","self":{"name":"cart_viewed","version":"1-0"}}`,
		// Not JSON at all.
		"p/Broken/1-0.json": `{"self":`,
	})
	reg, _ := schemas.Load(context.Background(), fsys, schemas.Options{})
	got := findingKeys(reg.Lint(schemas.DefaultLintRules()))
	want := []string{
		"p/Broken/1-0.json: compile",
		"p/Order Done/1-0.json:/description description",
		"p/Order Done/1-0.json:/self duplicate",
		"p/Order Done/1-0.json:/self/name self-name",
		"p/Signed Up/1-1.json:/properties/address/properties/zip_code_5 description",
		"p/Signed Up/1-1.json:/properties/address/properties/zip_code_5 property-name",
		"p/Signed Up/1-1.json:/properties/signupMethod property-name",
		"p/Signed Up/1-1.json:/self/version self-version",
		"p/cart_viewed/1-0.json:/self/name event-name",
	}
	if !slices.Equal(got, want) {
		t.Errorf("\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	camel := schemas.DefaultLintRules()
	camel.Properties.Casing = schemas.CasingCamel
	camel.Properties.Numbers = true
	for _, f := range reg.Lint(camel) {
		if f.Rule == "property-name" && strings.Contains(f.Message, "signupMethod") {
			t.Errorf("camel casing flagged signupMethod: %v", f)
		}
	}
	if err := (schemas.LintRules{Events: schemas.NameRules{Casing: "kebab"}}).Validate(); err == nil {
		t.Error("unknown casing accepted")
	}
}

// Findings come out in one order on every run: a definitions map used to
// be walked in Go's random map order.
func TestLintOrderIsStable(t *testing.T) {
	defs := ""
	for _, n := range []string{"Zeta", "alpha", "Mid", "beta", "Omega", "gamma", "Delta", "eps"} {
		defs += `,"` + n + `":{"type":"object","properties":{"BadName` + n + `":{"type":"string"}}}`
	}
	doc := `{"$schema":"http://json-schema.org/draft-07/schema#","$id":"shop/Order Completed/1-0.json",
"self":{"name":"Order Completed","version":"1-0"},"description":"d","type":"object",
"definitions":{` + defs[1:] + `}}`
	fsys := fstest.MapFS{"shop/Order Completed/1-0.json": {Data: []byte(doc)}}
	var first []string
	for i := range 20 {
		reg, err := schemas.Load(context.Background(), fsys, schemas.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range reg.Lint(schemas.DefaultLintRules()) {
			got = append(got, f.Pointer+" "+f.Rule)
		}
		if len(got) < 8 {
			t.Fatalf("want a finding per definition, got %v", got)
		}
		if i == 0 {
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("run %d printed another order:\n%v\nthen\n%v", i, first, got)
		}
	}
}
