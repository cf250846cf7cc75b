package schemas

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// Casing names a naming convention for events or properties.
type Casing string

// Casings a plan can require, as Reflekt names them.
const (
	CasingTitle Casing = "title" // Order Completed
	CasingSnake Casing = "snake" // order_id
	CasingCamel Casing = "camel" // orderId
	CasingAny   Casing = "any"
)

var casingRE = map[Casing]*regexp.Regexp{
	CasingTitle: regexp.MustCompile(`^[A-Z0-9][a-zA-Z0-9]*( [A-Z0-9][a-zA-Z0-9]*)*$`),
	CasingSnake: regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`),
	CasingCamel: regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`),
}

// NameRules constrain event or property names.
type NameRules struct {
	Casing   Casing   `yaml:"casing"`
	Numbers  bool     `yaml:"numbers"` // digits allowed
	Reserved []string `yaml:"reserved"`
}

// LintRules are Reflekt's conventions, each configurable in eventaudit.yml.
type LintRules struct {
	Events              NameRules `yaml:"events"`
	Properties          NameRules `yaml:"properties"`
	RequireDescriptions bool      `yaml:"require_descriptions"`
	DataTypes           []string  `yaml:"data_types"`
}

// DefaultLintRules are Reflekt's defaults: Title Case events, snake_case
// properties, no digits, descriptions everywhere, all JSON types.
func DefaultLintRules() LintRules {
	return LintRules{
		Events:              NameRules{Casing: CasingTitle},
		Properties:          NameRules{Casing: CasingSnake},
		RequireDescriptions: true,
		DataTypes:           []string{"string", "integer", "number", "boolean", "object", "array", "null"},
	}
}

// Validate rejects rules that name an unknown casing or type.
func (r LintRules) Validate() error {
	for _, c := range []Casing{r.Events.Casing, r.Properties.Casing} {
		if _, ok := casingRE[c]; !ok && c != CasingAny {
			return fmt.Errorf("lint casing %q: use title, snake, camel or any", c)
		}
	}
	for _, t := range r.DataTypes {
		if !slices.Contains(DefaultLintRules().DataTypes, t) {
			return fmt.Errorf("lint data_types: %q is not a JSON Schema type", t)
		}
	}
	return nil
}

// Finding is one lint result: a file, a JSON pointer inside it, a message.
type Finding struct {
	File    string `json:"file"`
	Pointer string `json:"pointer"`
	// At is where Pointer points in the file.
	At      Position `json:"at"`
	Rule    string   `json:"rule"`
	Message string   `json:"message"`
}

// Lint checks every event schema file against rules. Compile failures are
// findings too, so one command gates CI on both.
func (r *Registry) Lint(rules LintRules) []Finding {
	var out []Finding
	seen := map[string]string{} // plan|name|version → first file
	for _, info := range r.Schemas() {
		add := func(ptr, rule, format string, args ...any) {
			out = append(out, Finding{File: info.File, Pointer: ptr, At: Locate(r.raw[info.File], ptr), Rule: rule, Message: fmt.Sprintf(format, args...)})
		}
		if info.Err != nil {
			out = append(out, Finding{File: info.File, At: errorPosition(r.raw[info.File], info.Err), Rule: "compile", Message: info.Err.Error()})
		}
		doc, readable := r.docs[info.ID]
		if !readable {
			continue // not JSON: the compile finding says all there is
		}
		self, _ := doc["self"].(map[string]any)
		selfName, _ := self["name"].(string)
		selfVersion, _ := self["version"].(string)
		folder := path.Base(path.Dir(info.File))
		fileVersion := strings.TrimSuffix(path.Base(info.File), ".json")
		iglu := igluKey(info.File) != ""
		fileRules := rules
		switch {
		case self == nil:
			add("", "self", "no self block: add self.name and self.version")
		case iglu:
			// igluctl's rules: the self block is the path. Snowplow names
			// events in snake_case and properties in camelCase, with
			// digits, so Reflekt's naming rules do not apply.
			lintIgluSelf(info.File, self, add)
			fileRules.Events = NameRules{Casing: CasingAny, Numbers: true}
			fileRules.Properties = NameRules{Casing: CasingAny, Numbers: true}
		default:
			if selfName != folder {
				add("/self/name", "self-name", "self.name %q does not match its folder %q", selfName, folder)
			}
			if selfVersion != fileVersion {
				add("/self/version", "self-version", "self.version %q does not match the file name %q", selfVersion, fileVersion)
			}
		}
		if _, _, err := ParseVersion(fileVersion); err != nil && !iglu {
			add("", "version", "file name %q is not MAJOR-MINOR.json", path.Base(info.File))
		}
		key := info.Plan + "|" + info.Name + "|" + info.Version
		if first, dup := seen[key]; dup {
			add("/self", "duplicate", "%s %s is also defined by %s in plan %s", info.Name, info.Version, first, info.Plan)
		} else {
			seen[key] = info.File
		}
		for _, p := range checkName(info.Name, fileRules.Events) {
			add("/self/name", "event-name", "event name %q %s", info.Name, p)
		}
		if rules.RequireDescriptions && !hasDescription(doc) {
			add("/description", "description", "the event has no description")
		}
		lintSchema(doc, "", fileRules, add)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return cmp.Compare(a.File, b.File) })
	return out
}

// lintSchema walks the subschemas that describe properties.
func lintSchema(node map[string]any, ptr string, rules LintRules, add func(ptr, rule, format string, args ...any)) {
	if node == nil {
		return
	}
	checkTypes(node, ptr, rules, add)
	if props, ok := node["properties"].(map[string]any); ok {
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, name := range names {
			pptr := ptr + "/properties/" + audit.PointerToken(name)
			for _, p := range checkName(name, rules.Properties) {
				add(pptr, "property-name", "property %q %s", name, p)
			}
			sub, _ := props[name].(map[string]any)
			if _, isRef := sub["$ref"]; rules.RequireDescriptions && sub != nil && !isRef && !hasDescription(sub) {
				add(pptr, "description", "property %q has no description", name)
			}
			lintSchema(sub, pptr, rules, add)
		}
	}
	switch items := node["items"].(type) {
	case map[string]any:
		lintSchema(items, ptr+"/items", rules, add)
	case []any:
		for i, it := range items {
			sub, _ := it.(map[string]any)
			lintSchema(sub, fmt.Sprintf("%s/items/%d", ptr, i), rules, add)
		}
	}
	for _, key := range []string{"definitions", "$defs"} {
		if defs, ok := node[key].(map[string]any); ok {
			// Sorted: findings print in the same order on every run.
			for _, name := range slices.Sorted(maps.Keys(defs)) {
				sub, _ := defs[name].(map[string]any)
				lintSchema(sub, ptr+"/"+key+"/"+audit.PointerToken(name), rules, add)
			}
		}
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := node[key].([]any); ok {
			for i, it := range list {
				sub, _ := it.(map[string]any)
				lintSchema(sub, fmt.Sprintf("%s/%s/%d", ptr, key, i), rules, add)
			}
		}
	}
}

func checkTypes(node map[string]any, ptr string, rules LintRules, add func(ptr, rule, format string, args ...any)) {
	var types []string
	switch t := node["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				types = append(types, s)
			}
		}
	}
	for _, t := range types {
		if !slices.Contains(rules.DataTypes, t) {
			add(ptr+"/type", "data-type", "type %q is not allowed (allowed: %s)", t, strings.Join(rules.DataTypes, ", "))
		}
	}
}

func checkName(name string, r NameRules) []string {
	var out []string
	if re, ok := casingRE[r.Casing]; ok && !re.MatchString(name) {
		out = append(out, fmt.Sprintf("is not %s case", r.Casing))
	}
	if !r.Numbers && strings.ContainsAny(name, "0123456789") {
		out = append(out, "contains a digit")
	}
	for _, res := range r.Reserved {
		if strings.EqualFold(name, res) {
			out = append(out, "is reserved")
		}
	}
	return out
}

// hasDescription: a description that is still schemas infer's TODO is
// none.
func hasDescription(node map[string]any) bool {
	d, _ := node["description"].(string)
	d = strings.TrimSpace(d)
	return d != "" && !strings.HasPrefix(d, TODO)
}

// errorPosition is where a schema file's compile error points: the
// library names the failing part as a leading '/pointer', and a syntax
// error names its line and column.
func errorPosition(raw []byte, err error) Position {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "'/"); ok {
		if ptr, _, ok := strings.Cut(rest, "'"); ok {
			return Locate(raw, "/"+ptr)
		}
	}
	var p Position
	if _, after, ok := strings.Cut(msg, "invalid JSON at "); ok {
		if n, _ := fmt.Sscanf(after, "line %d, column %d", &p.Line, &p.Column); n == 2 {
			return p
		}
	}
	return Locate(raw, "")
}
