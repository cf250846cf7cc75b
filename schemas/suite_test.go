package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The JSON-Schema-Test-Suite, every draft eventaudit reads, run through the
// library as eventaudit configures it (newCompiler, patterns in ECMA-262
// terms, instances decoded the way payloads are) and through the fast path,
// which may only ever say "valid" of an instance the suite calls valid.
//
// Skips are listed here, each with its reason; nothing else may fail, and a
// listed group that starts to pass fails the test, so the list stays true.
var suiteSkips = map[string]string{
	"draft7/optional/content.json / validation of string-encoded content based on media type":                                            contentAnnotation,
	"draft7/optional/content.json / validation of binary string-encoding":                                                                contentAnnotation,
	"draft7/optional/content.json / validation of binary-encoded media type documents":                                                   contentAnnotation,
	"draft2020-12/optional/format-assertion.json / schema that uses custom metaschema with format-assertion: false":                      optionalVocab,
	"draft2020-12/dynamicRef.json / $dynamicRef skips over intermediate resources - direct reference":                                    dynamicRefBug,
	"draft2020-12/optional/dynamicRef.json / $dynamicRef skips over intermediate resources - pointer reference across resource boundary": dynamicRefBug,
}

const (
	contentAnnotation = "contentEncoding and contentMediaType are annotations in eventaudit, as in Python's jsonschema and ajv (the suite's optional cases assert them)"
	optionalVocab     = "jsonschema/v5 ignores a vocabulary a meta-schema lists as optional (false), here format-assertion; listed as required (true), it asserts format, and that case passes"
	dynamicRefBug     = "jsonschema/v5 resolves this $dynamicRef through an intermediate resource's anchor (fixed in v6; see docs/internals.md)"
)

const suiteRemote = "http://localhost:1234/"

var suiteDrafts = []struct {
	dir   string
	draft *jsonschema.Draft
}{
	{"draft4", jsonschema.Draft4},
	{"draft6", jsonschema.Draft6},
	{"draft7", jsonschema.Draft7},
	{"draft2019-09", jsonschema.Draft2019},
	{"draft2020-12", jsonschema.Draft2020},
}

type suiteGroup struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Tests       []struct {
		Description string          `json:"description"`
		Data        json.RawMessage `json:"data"`
		Valid       bool            `json:"valid"`
	} `json:"tests"`
}

func TestJSONSchemaTestSuite(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpora", "json-schema-test-suite")
	if _, err := os.Stat(root); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must run with shared/ beside the repository", root)
		}
		t.Skipf("%s not found", root)
	}
	remotes := map[string][]byte{}
	err := filepath.WalkDir(filepath.Join(root, "remotes"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, "remotes"), p)
		raw, err := os.ReadFile(p)
		remotes[suiteRemote+filepath.ToSlash(rel)] = raw
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range suiteDrafts {
		t.Run(d.dir, func(t *testing.T) {
			var files []string
			for _, glob := range []string{"*.json", "optional/*.json", "optional/format/*.json"} {
				m, _ := filepath.Glob(filepath.Join(root, d.dir, glob))
				files = append(files, m...)
			}
			cases, proven := 0, 0
			for _, f := range files {
				rel, _ := filepath.Rel(filepath.Join(root, d.dir), f)
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var groups []suiteGroup
				if err := json.Unmarshal(raw, &groups); err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				// Formats are asserted only on request (--assert-format).
				assertFormat := strings.HasPrefix(rel, "optional/format/")
				if format := strings.TrimSuffix(filepath.Base(rel), ".json"); assertFormat &&
					slices.Contains(unassertedFormats, format) {
					// Listed as not asserted: then it must never be.
					t.Logf("%s: %q is not asserted (unassertedFormats)", rel, format)
					for i := range groups {
						for j := range groups[i].Tests {
							groups[i].Tests[j].Valid = true
						}
					}
				}
				for _, g := range groups {
					n, p := runSuiteGroup(t, d.dir+"/"+rel, g, d.draft, assertFormat, remotes)
					cases += n
					proven += p
				}
			}
			t.Logf("%s: %d cases, the fast path proved %d valid", d.dir, cases, proven)
		})
	}
}

func runSuiteGroup(t *testing.T, file string, g suiteGroup, draft *jsonschema.Draft, assertFormat bool,
	remotes map[string][]byte) (cases, proven int) {
	t.Helper()
	name := file + " / " + g.Description
	disagreements, cases, proven := judgeSuiteGroup(t, g, draft, assertFormat, remotes)
	why, listed := suiteSkips[name]
	switch {
	case listed && len(disagreements) == 0:
		t.Errorf("%s is in suiteSkips but now agrees with the suite: take it off the list", name)
	case listed:
		t.Logf("skipped %s: %s", name, why)
	default:
		for _, d := range disagreements {
			t.Errorf("%s / %s", name, d)
		}
	}
	return cases, proven
}

// judgeSuiteGroup lists where eventaudit disagrees with one group's cases.
func judgeSuiteGroup(t *testing.T, g suiteGroup, draft *jsonschema.Draft, assertFormat bool,
	remotes map[string][]byte) (disagreements []string, cases, proven int) {
	c := newCompiler(Options{AssertFormat: assertFormat})
	c.Draft = draft
	for u, raw := range remotes {
		if err := c.AddResource(u, bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
	}
	const url = baseURL + "suite/Case/1-0.json"
	doc, err := decodeSchemaValue(g.Schema)
	if err != nil {
		return []string{err.Error()}, 0, 0
	}
	patterns := map[string]string{}
	// The draft is the folder's, unless the schema names one.
	docDraft := map[*jsonschema.Draft]string{jsonschema.Draft4: "draft-04", jsonschema.Draft6: "draft-06",
		jsonschema.Draft7: "draft-07", jsonschema.Draft2019: "2019-09", jsonschema.Draft2020: "2020-12"}[draft]
	if m, ok := doc.(map[string]any); ok && m["$schema"] != nil {
		docDraft = draftOf(m, func(u string) (map[string]any, bool) {
			raw, ok := remotes[u]
			if !ok {
				return nil, false
			}
			v, err := decodeSchemaValue(raw)
			m, isObj := v.(map[string]any)
			return m, err == nil && isObj
		})
	}
	prep := &preparation{patterns: patterns, draft4: docDraft == "draft-04",
		dropFormat: !assertFormat && beforeDraft2019(docDraft)}
	if err := prepareSchema(doc, prep); err != nil {
		return []string{err.Error()}, 0, 0
	}
	buf, _ := json.Marshal(doc)
	if err := c.AddResource(url, bytes.NewReader(buf)); err != nil {
		return []string{"add: " + err.Error()}, 0, 0
	}
	compiled, err := compile(c, url)
	if err != nil {
		return []string{"does not compile: " + err.Error()}, 0, 0
	}
	s := &Schema{compiled: compiled, patterns: patterns}
	if m, ok := doc.(map[string]any); ok && draft == jsonschema.Draft7 {
		fc := &fastCompiler{docs: map[string]any{"suite/Case/1-0.json": m}, assertFormat: assertFormat,
			memo: map[string]*fastNode{}}
		s.fast = fc.compile("suite/Case/1-0.json")
	}
	owns := ownVerdicts{}
	for _, tc := range g.Tests {
		cases++
		m, err := audit.DecodePayload([]byte(`{"v":` + string(tc.Data) + `}`))
		if err != nil {
			disagreements = append(disagreements, fmt.Sprintf("%s: decode: %v", tc.Description, err))
			continue
		}
		fails := s.Validate(m["v"])
		if got := len(fails) == 0; got != tc.Valid {
			disagreements = append(disagreements,
				fmt.Sprintf("%s: valid=%v, the suite says %v (%v)", tc.Description, got, tc.Valid, fails))
		}
		if d := narrowedDisagrees(s, tc.Data, fails, owns); d != "" {
			disagreements = append(disagreements, tc.Description+": "+d)
		}
		if d := provedInPlaceDisagrees(s, tc.Data); d != "" {
			disagreements = append(disagreements, tc.Description+": "+d)
		}
		if s.ValidJSON(tc.Data) {
			proven++
			if !tc.Valid {
				disagreements = append(disagreements, tc.Description+": the fast path proved an invalid instance valid")
			}
		}
	}
	return disagreements, cases, proven
}

// provedInPlaceDisagrees says how ValidAt, proving data where it lies in
// a message, differs from ValidJSON over data alone, or "": it may prove
// only what ValidJSON proves, must end where data does, and must find the
// member schema_id where data holds it.
func provedInPlaceDisagrees(s *Schema, data []byte) string {
	data = bytes.TrimSpace(data)
	before := `{"type":"track","properties":`
	msg := append(append([]byte(before), data...), `,"event":"x"}`...)
	end, idAt, ok := s.ValidAt(msg, len(before))
	if !ok {
		return ""
	}
	if !s.ValidJSON(data) {
		return "ValidAt proved in place what ValidJSON does not prove"
	}
	if end != len(before)+len(data) {
		return fmt.Sprintf("ValidAt ends %d bytes into the object, which has %d", end-len(before), len(data))
	}
	want := -1
	audit.EachMember(data, 0, func(ks, ke int, _ bool, vs int) (int, bool) {
		if string(data[ks+1:ke-1]) == "schema_id" {
			want = len(before) + vs
		}
		return audit.SkipValue(data, vs)
	})
	if idAt != want {
		return fmt.Sprintf("ValidAt finds schema_id's value at %d, the object holds it at %d", idAt, want)
	}
	return ""
}

// narrowedDisagrees says how the library, judging only the members
// FailingMembers returns of data, reports other than it does of the whole
// (whole), or "". Each failure must also find the same value in those
// members as in the whole object. Where FailingMembers names the object's
// own failures instead, every failure of the whole must be the object's
// own, at the object, and the same as the library's of each object before
// it (in owns) whose own was the same: the audit judges one of them and
// keeps its verdict for the rest.
func narrowedDisagrees(s *Schema, data []byte, whole []audit.Failure, owns ownVerdicts) string {
	raw, own, ok := s.FailingMembers(data)
	if !ok {
		return ""
	}
	if own != "" {
		if len(raw) > 0 {
			return fmt.Sprintf("own failures %q and %d members failing: the object is whole to the library", own, len(raw))
		}
		if len(whole) == 0 {
			return fmt.Sprintf("own failures %q, but the library finds none", own)
		}
		for _, f := range whole {
			if f.InstancePath != "" {
				return fmt.Sprintf("own failures %q, but the library fails %s at %q", own, f.Keyword, f.InstancePath)
			}
		}
		k := ownVerdictKey{s, own}
		if before, ok := owns[k]; ok && before != fmt.Sprint(whole) {
			return fmt.Sprintf("own failures %q: the library's are %v here, %s before", own, whole, before)
		}
		owns[k] = fmt.Sprint(whole)
		return ""
	}
	members := map[string]any{}
	for _, m := range raw {
		v, err := audit.DecodePayload([]byte(`{"v":` + string(m.Value) + `}`))
		if err != nil {
			return fmt.Sprintf("member %q does not decode: %v", m.Key, err)
		}
		members[m.Key] = v["v"]
	}
	got, ok := s.ValidateMembers(members)
	if !ok {
		return ""
	}
	if fmt.Sprint(got) != fmt.Sprint(whole) {
		return fmt.Sprintf("judged by %d members %v, whole %v", len(raw), got, whole)
	}
	obj, err := audit.DecodePayload([]byte(`{"v":` + string(data) + `}`))
	if err != nil {
		return err.Error()
	}
	for _, f := range got {
		a, aok := audit.Lookup(members, f.InstancePath)
		b, bok := audit.Lookup(obj["v"], f.InstancePath)
		if aok != bok || fmt.Sprint(a) != fmt.Sprint(b) {
			return fmt.Sprintf("at %q the members hold %v (%v), the object %v (%v)", f.InstancePath, a, aok, b, bok)
		}
	}
	return ""
}

// ownVerdicts are the library's failures of the objects whose own
// failures FailingMembers named, by schema and own.
type ownVerdicts map[ownVerdictKey]string

type ownVerdictKey struct {
	s   *Schema
	own string
}

// decodeSchemaValue decodes a suite schema, which may be a boolean.
func decodeSchemaValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return v, nil
}
