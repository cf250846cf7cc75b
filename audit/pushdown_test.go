package audit_test

import (
	"fmt"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
)

// provable is a schema that describes itself to SQL as an object.
type provable struct{ *audittest.Schema }

func (provable) Pushdown() (*audit.Pred, string) {
	return &audit.Pred{Types: []audit.JSONType{audit.JSONObject}}, ""
}

// The plan routes as the matcher does, rule by rule: each planned name
// once, the events mapping over the name, page and screen names without a
// schema to their fallback, identify and group to theirs, and a schema that
// cannot describe itself with its reason. What matches no schema (any
// other track event, a screen with no Screen schema, group) is counted as
// unplanned, with its name.
func TestPushdownPlanRoutesAsTheMatcher(t *testing.T) {
	sch := func(id string) provable { return provable{&audittest.Schema{SchemaID: id}} }
	c := audittest.NewCatalog().
		Add("Order Completed", sch("shop/Order Completed/1-0.json")).
		Add("Legacy", sch("shop/Legacy/1-0.json")).
		Add("Page", sch("shop/Page/1-0.json")).
		Add("Home", sch("shop/Home/1-0.json")).
		Add("Identify", &audittest.Schema{SchemaID: "shop/Identify/1-0.json"})
	m := &audit.Matcher{Catalog: c, EventSchemas: map[string]string{"Old Name": "shop/Legacy/1-0.json"}, Target: audit.ValidateObject}
	plan := m.PushdownPlan([]string{"Order Completed", "Legacy", "Page", "Home", "Identify"})
	got := map[string]string{}
	for _, r := range plan.Rules {
		key := fmt.Sprintf("%s %v except %v", r.Type, r.Names, r.Except)
		got[key] = r.SchemaID + " " + r.Object
		if r.Unplanned {
			got[key] = "unplanned " + r.Object
		}
		if r.Pred == nil {
			got[key] += " not provable: " + r.Why
		}
	}
	names := "[Home Identify Legacy Old Name Order Completed Page]"
	for key, want := range map[string]string{
		"track [Order Completed] except []": "shop/Order Completed/1-0.json properties",
		"track [Old Name] except []":        "shop/Legacy/1-0.json properties",
		"page [Home] except []":             "shop/Home/1-0.json properties",
		"page [] except " + names:           "shop/Page/1-0.json properties",
		"screen [Home] except []":           "shop/Home/1-0.json properties",
		"identify [] except []":             "shop/Identify/1-0.json traits not provable: the schema cannot describe itself to SQL",
		"track [] except " + names:          "unplanned properties",
		"screen [] except " + names:         "unplanned properties",
		"group [] except []":                "unplanned traits",
		"alias [] except []":                "unplanned ", // no object: alias carries none
	} {
		if got[key] != want {
			t.Errorf("%s: got %q, want %q", key, got[key], want)
		}
	}
	if len(got) != 24 {
		t.Errorf("%d rules, want 24 (6 names as track, page and screen events, 3 fallbacks, identify, group and alias): %v", len(got), got)
	}
}
