package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
	"github.com/google/go-cmp/cmp"
)

func profileRun(t *testing.T, a *audit.Auditor, payloads ...string) *audit.Summary {
	t.Helper()
	at := audittest.CorpusStart.Add(time.Minute)
	var rows []audit.Row
	for i, p := range payloads {
		rows = append(rows, audit.Row{MessageID: fmt.Sprintf("m%04d", i), ReceivedAt: at, Payload: []byte(p)})
	}
	a.Source = &audittest.Source{Rows: rows, BatchSize: 3}
	if a.Matcher == nil {
		a.Matcher = &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject}
	}
	if a.Profile == nil {
		a.Profile = &audit.Profiling{Limits: audit.DefaultProfileLimits, ValueStats: true}
	}
	a.Now = func() time.Time { return audittest.CorpusStart }
	s, err := a.Run(context.Background(), audit.Run{RunID: "r", Source: "t", Window: window})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func property(t *testing.T, s *audit.Summary, event, path string) audit.PropertyProfile {
	t.Helper()
	for _, e := range s.Profiles {
		if e.Name != event {
			continue
		}
		for _, p := range e.Properties {
			if p.Path == path {
				return p
			}
		}
	}
	t.Fatalf("no profile of %s %s in %+v", event, path, s.Profiles)
	return audit.PropertyProfile{}
}

var profileCorpus = []string{
	`{"type":"track","event":"Product Viewed","properties":{"price":9.5,"sku":"a-1","tags":["x","y"],"item":{"size":"M","qty":2}}}`,
	`{"type":"track","event":"Product Viewed","properties":{"price":"10","sku":"b-22","tags":[],"item":{"size":"L","qty":1.0}}}`,
	`{"type":"track","event":"Product Viewed","properties":{"price":3,"sku":null,"item":null,"k\u00e9y":true,"a/b~c":1e2}}`,
	`{"type":"track","event":"Product Viewed","properties":{"price":4,"sku":"c","products":[{"id":1},{"id":2,"x":false}]}}`,
	`{"type":"track","event":"Mystery","properties":{"color":"red"}}`,
	`{"type":"track","event":"Mystery","properties":{"color":"blue","n":-7}}`,
	`{"type":"identify","traits":{"email":"a@b.co"}}`,
	`{"type":"alias","previousId":"x"}`,
}

// reorderedCorpus follows profileCorpus with the same keys in other
// orders and spellings, and arrays of objects of changing keys: the raw
// walk remembers each event's keys as written.
var reorderedCorpus = []string{
	`{"type":"track","event":"Product Viewed","properties":{"sku":"d","item":{"qty":3,"size":"S"},"price":5}}`,
	`{"type":"track","event":"Product Viewed","properties":{"\u0073ku":"e","tags":["z",{"w":1}],"pr\u0069ce":6}}`,
	`{"type":"track","event":"Product Viewed","properties":{"products":[{"x":true,"id":3},{"id":4},{"y":null,"x":1}],"sku":"f"}}`,
	`{"type":"track","event":"Mystery","properties":{"n":8,"color":"green","tags":[[1,2],[]]}}`,
	wideObject(false), wideObject(true),
	// Strings as written, not escaped: UTF-8 of 2, 3 and 4 bytes a code
	// point, whose lengths are in code points, and a value met again
	// after another.
	`{"type":"track","event":"Mystery","properties":{"color":"grün","n":9}}`,
	`{"type":"track","event":"Mystery","properties":{"color":"緑","label":"🟢 go"}}`,
	`{"type":"track","event":"Mystery","properties":{"color":"red","label":"ok"}}`,
	`{"type":"track","event":"Mystery","properties":{"color":"grün"}}`,
	// Every kind of value at the top of an object.
	`{"type":"track","event":"Product Viewed","properties":{"price":7.25,"gift":true,"wrap":false,"note":null,"sku":"g","item":{"qty":4},"tags":["t"]}}`,
}

// wideObject is a Mystery with more keys than a node searches in turn,
// written forwards or backwards.
func wideObject(backwards bool) string {
	var members []string
	for i := range 20 {
		members = append(members, fmt.Sprintf(`"k%02d":%d`, i, i*i))
	}
	if backwards {
		slices.Reverse(members)
	}
	return `{"type":"track","event":"Mystery","properties":{` + strings.Join(members, ",") + `}}`
}

// The fast path walks raw bytes and the slow path decoded values: both
// must profile a message alike.
func TestProfileRawAndDecodedAgree(t *testing.T) {
	corpus := append(slices.Clone(profileCorpus), reorderedCorpus...)
	for _, stats := range []bool{true, false} {
		profiling := func() *audit.Profiling {
			return &audit.Profiling{Limits: audit.DefaultProfileLimits, ValueStats: stats}
		}
		fast := profileRun(t, &audit.Auditor{Profile: profiling()}, corpus...)
		slow := profileRun(t, &audit.Auditor{Profile: profiling(), DisableFastPath: true}, corpus...)
		if len(fast.Profiles) == 0 {
			t.Fatal("no profile")
		}
		if diff := cmp.Diff(slow.Profiles, fast.Profiles); diff != "" {
			t.Errorf("value stats %v: the raw walk and the decoded walk disagree (-decoded +raw):\n%s", stats, diff)
		}
	}
}

// An audit keeps no value statistics (Profiling.ValueStats), only what
// its tables, drift and reports read: each path's types, counts and
// examples, which must be those of a profile that keeps them, on either
// walk, with every value policy.
func TestProfileWithoutValueStatsKeepsWhatAnAuditReads(t *testing.T) {
	corpus := append(slices.Clone(profileCorpus), reorderedCorpus...)
	for _, r := range audittest.Generate(audittest.Options{N: 2000, BadRate: 0.1, Seed: 5}).Rows {
		corpus = append(corpus, string(r.Payload))
	}
	for _, mode := range []audit.ValueMode{audit.ValuesKeep, audit.ValuesRedact, audit.ValuesTypes} {
		for _, disable := range []bool{false, true} {
			run := func(stats bool) *audit.Summary {
				return profileRun(t, &audit.Auditor{DisableFastPath: disable, Values: audit.ValuePolicy{Mode: mode},
					Profile: &audit.Profiling{Limits: audit.DefaultProfileLimits, ValueStats: stats}}, corpus...)
			}
			full, light := run(true), run(false)
			if diff := cmp.Diff(full.PropertyStats(), light.PropertyStats()); diff != "" {
				t.Errorf("values %v, fast path %v: the property stats differ without value stats (-with +without):\n%s", mode, !disable, diff)
			}
			if diff := cmp.Diff(full.Drift, light.Drift); diff != "" {
				t.Errorf("values %v, fast path %v: the drift differs without value stats (-with +without):\n%s", mode, !disable, diff)
			}
			nStrings, nNumbers := 0, 0
			for i, e := range full.Profiles {
				for j, p := range e.Properties {
					nStrings += int(p.CountOf("string"))
					nNumbers += int(p.CountOf("integer") + p.CountOf("number"))
					p.MinLength, p.MaxLength, p.Minimum, p.Maximum, p.Values, p.Formats = 0, 0, 0, 0, nil, nil
					if diff := cmp.Diff(p, light.Profiles[i].Properties[j]); diff != "" {
						t.Errorf("values %v, fast path %v: %s %s differs past its value stats (-with +without):\n%s", mode, !disable, e.Name, p.Path, diff)
					}
				}
			}
			if nStrings == 0 || nNumbers == 0 {
				t.Fatalf("the corpus profiled %d strings and %d numbers", nStrings, nNumbers)
			}
		}
	}
}

// Past the cap on paths, a path is kept whole or not at all, and every
// value of a path left out is counted as dropped, on either walk. (Which
// paths fit depends on the order a walk meets them in, and the decoded
// walk's is a map's.)
func TestProfileCapKeepsPathsWholeAndCountsTheRest(t *testing.T) {
	corpus := append(slices.Clone(profileCorpus), reorderedCorpus...)
	capped := audit.DefaultProfileLimits
	// At 3, Product Viewed's first row fills the cap before its tags'
	// items; at 5, before its item's members.
	for i := range 4 {
		disable := i%2 == 1
		capped.PathsPerEvent = []int{3, 5}[i/2]
		all := profileRun(t, &audit.Auditor{DisableFastPath: disable, Workers: 1}, corpus...)
		cut := profileRun(t, &audit.Auditor{DisableFastPath: disable, Workers: 1, Profile: &audit.Profiling{Limits: capped, ValueStats: true}}, corpus...)
		for _, e := range all.Profiles {
			var kept *audit.EventProfile
			for i := range cut.Profiles {
				if cut.Profiles[i].Name == e.Name && cut.Profiles[i].Type == e.Type {
					kept = &cut.Profiles[i]
				}
			}
			if kept == nil {
				t.Fatalf("fast path %v: %s %q has no profile under the cap", !disable, e.Type, e.Name)
			}
			whole := map[string]audit.PropertyProfile{}
			for _, p := range e.Properties {
				whole[p.Path] = p
			}
			in := map[string]bool{e.ObjectPath: true}
			for _, p := range kept.Properties {
				if diff := cmp.Diff(whole[p.Path], p); diff != "" {
					t.Errorf("fast path %v: %s under the cap is not the path whole (-whole +capped):\n%s", !disable, p.Path, diff)
				}
				in[p.Path] = true
			}
			// A path left out drops its own values; what lies under it is
			// not walked.
			var dropped int64
			for _, p := range e.Properties {
				if !in[p.Path] && in[p.Path[:strings.LastIndexByte(p.Path, '/')]] {
					dropped += p.Count()
				}
			}
			if len(kept.Properties) > capped.PathsPerEvent || kept.Dropped != dropped || dropped == 0 && e.Name == "Product Viewed" {
				t.Errorf("fast path %v: %q kept %d paths and dropped %d values; want at most %d paths and %d dropped",
					!disable, e.Name, len(kept.Properties), kept.Dropped, capped.PathsPerEvent, dropped)
			}
		}
	}
}

func TestProfileCountsTypesAndBounds(t *testing.T) {
	s := profileRun(t, &audit.Auditor{Workers: 3}, profileCorpus...)

	price := property(t, s, "Product Viewed", "/properties/price")
	want := []audit.TypeCount{{Type: "string", Count: 1, Example: `"10"`}, {Type: "integer", Count: 2, Example: "3"},
		{Type: "number", Count: 1, Example: "9.5"}}
	if diff := cmp.Diff(want, price.Types); diff != "" {
		t.Errorf("price types (-want +got):\n%s", diff)
	}
	if !price.InPlan || price.Minimum != 3 || price.Maximum != 9.5 {
		t.Errorf("price: in plan %v, bounds [%v, %v]; want true, [3, 9.5]", price.InPlan, price.Minimum, price.Maximum)
	}
	sku := property(t, s, "Product Viewed", "/properties/sku")
	if sku.CountOf("null") != 1 || sku.MinLength != 1 || sku.MaxLength != 4 || !cmp.Equal(sku.Values, []string{"a-1", "b-22", "c"}) {
		t.Errorf("sku: %+v", sku)
	}
	if sku.InPlan {
		t.Error("sku is not in the plan of Product Viewed")
	}
	// 1.0 is an integer, as JSON Schema has it; nested and array paths.
	if qty := property(t, s, "Product Viewed", "/properties/item/qty"); qty.CountOf("integer") != 2 {
		t.Errorf("item/qty: %+v", qty.Types)
	}
	if id := property(t, s, "Product Viewed", "/properties/products/*/id"); id.CountOf("integer") != 2 {
		t.Errorf("products/*/id: %+v", id.Types)
	}
	if tags := property(t, s, "Product Viewed", "/properties/tags/*"); tags.CountOf("string") != 2 {
		t.Errorf("tags/*: %+v", tags.Types)
	}
	// Keys are JSON-pointer tokens, unescaped from JSON first.
	property(t, s, "Product Viewed", "/properties/a~1b~0c")
	property(t, s, "Product Viewed", "/properties/kéy")
	if email := property(t, s, "", "/traits/email"); email.Count() != 1 {
		t.Errorf("identify traits: %+v", email)
	}
	for _, e := range s.Profiles {
		if e.Type == "alias" {
			t.Errorf("alias carries nothing a plan describes, yet was profiled: %+v", e)
		}
	}
}

func TestProfileExampleFollowsValues(t *testing.T) {
	s := profileRun(t, &audit.Auditor{Values: audit.ValuePolicy{Mode: audit.ValuesRedact}}, profileCorpus...)
	sku := property(t, s, "Product Viewed", "/properties/sku")
	if ex := sku.Types[0].Example; ex != `"***"` {
		t.Errorf("redacted example %q, want the masked string", ex)
	}
	for _, r := range s.PropertyStats() {
		if strings.Contains(r.Example, "a-1") || strings.Contains(r.Example, "a@b.co") {
			t.Errorf("a redacted run stored %q", r.Example)
		}
	}
}

func TestProfileCapsPathsAndSaysSo(t *testing.T) {
	var payloads []string
	for i := range 50 {
		payloads = append(payloads, fmt.Sprintf(`{"type":"track","event":"Mystery","properties":{"id_%d":%d,"fixed":"v%d"}}`, i, i, i))
	}
	lim := audit.DefaultProfileLimits
	lim.PathsPerEvent, lim.Distinct = 10, 5
	s := profileRun(t, &audit.Auditor{Profile: &audit.Profiling{Limits: lim, ValueStats: true}, Workers: 4}, payloads...)
	e := s.Profiles[0]
	if len(e.Properties) > 10 || e.Dropped == 0 {
		t.Errorf("%d paths profiled and %d values dropped; want at most 10 paths and the rest dropped", len(e.Properties), e.Dropped)
	}
	// Reports name the cut event and the caps the run kept, not the
	// defaults.
	if c := s.Drift.Truncated; len(c) != 1 || c[0].Name != "Mystery" || c[0].Values != e.Dropped {
		t.Errorf("the drift does not say the profile of Mystery was cut, dropping %d values: %+v", e.Dropped, c)
	}
	if s.Drift.Limits != lim {
		t.Errorf("drift limits %+v, want the run's %+v", s.Drift.Limits, lim)
	}
	fixed := property(t, s, "Mystery", "/properties/fixed")
	if fixed.Count() != 50 || fixed.Values != nil {
		t.Errorf("fixed: %d values, distinct %v; want 50 and no distinct set past 5", fixed.Count(), fixed.Values)
	}
}

func TestProfileFormatsHoldOnlyWhenEveryValueMatches(t *testing.T) {
	hasAt := audit.ProfileFormat{Name: "email", Check: func(s string) bool { return strings.Contains(s, "@") }}
	s := profileRun(t, &audit.Auditor{Profile: &audit.Profiling{Limits: audit.DefaultProfileLimits, ValueStats: true, Formats: []audit.ProfileFormat{hasAt}}},
		`{"type":"track","event":"Mystery","properties":{"a":"x@y","b":"x@y"}}`,
		`{"type":"track","event":"Mystery","properties":{"a":"z@w","b":"nope"}}`)
	if f := property(t, s, "Mystery", "/properties/a").Formats; !cmp.Equal(f, []string{"email"}) {
		t.Errorf("a: formats %v, want [email]", f)
	}
	if f := property(t, s, "Mystery", "/properties/b").Formats; f != nil {
		t.Errorf("b: formats %v, want none: one value is not an email", f)
	}
}

func TestDriftFromThePlan(t *testing.T) {
	s := profileRun(t, &audit.Auditor{}, profileCorpus...)
	d := s.Drift
	var undeclared, mixed []string
	for _, u := range d.Undeclared {
		undeclared = append(undeclared, fmt.Sprintf("%s %s %d/%d", u.Name, u.Path, u.Values, u.EventRows))
	}
	for _, m := range d.Mixed {
		mixed = append(mixed, fmt.Sprintf("%s %s %.2f", m.Name, m.Path, m.Share()))
	}
	// item/size is under item, which is itself undeclared: listed once.
	wantUndeclared := []string{"Product Viewed /properties/sku 4/4", "Product Viewed /properties/item 3/4",
		"Product Viewed /properties/tags 2/4", "Product Viewed /properties/a~1b~0c 1/4",
		"Product Viewed /properties/kéy 1/4", "Product Viewed /properties/products 1/4"}
	if diff := cmp.Diff(wantUndeclared, undeclared); diff != "" {
		t.Errorf("undeclared (-want +got):\n%s", diff)
	}
	// price is a string once in four; unplanned events are profiled too.
	if diff := cmp.Diff([]string{"Product Viewed /properties/price 0.25"}, mixed); diff != "" {
		t.Errorf("mixed (-want +got):\n%s", diff)
	}
	if len(d.Unseen) != 0 {
		t.Errorf("unseen: %+v; price, the one planned property, arrived", d.Unseen)
	}

	s = profileRun(t, &audit.Auditor{}, `{"type":"track","event":"Product Added","properties":{"qty":1}}`)
	if len(s.Drift.Unseen) != 1 || s.Drift.Unseen[0].Path != "/properties/quantity" {
		t.Errorf("unseen: %+v, want Product Added's quantity", s.Drift.Unseen)
	}
}

func TestProfileSameWhateverTheWorkers(t *testing.T) {
	rows := audittest.Generate(audittest.Options{N: 3000, BadRate: 0.1, Seed: 11}).Rows
	run := func(workers int) *audit.Summary {
		a := &audit.Auditor{Source: &audittest.Source{Rows: rows, BatchSize: 37}, Workers: workers,
			Matcher: &audit.Matcher{Catalog: demoCatalog(), Target: audit.ValidateObject},
			Profile: &audit.Profiling{Limits: audit.DefaultProfileLimits, ValueStats: true},
			Now:     func() time.Time { return audittest.CorpusStart }}
		s, err := a.Run(context.Background(), audit.Run{RunID: "r", Source: "t", Window: window})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one := run(1)
	if len(one.PropertyStats()) < 5 {
		t.Fatalf("the corpus profiled only %d rows of stats", len(one.PropertyStats()))
	}
	if diff := cmp.Diff(one.Profiles, run(8).Profiles); diff != "" {
		t.Errorf("8 workers profile differently (-1 +8):\n%s", diff)
	}
}
