// Package schemas loads a Reflekt-style tracking plan — JSON Schemas whose $id
// is their path under the schemas root, versioned MAJOR-MINOR — compiles each
// once with jsonschema/v5, and resolves events to schemas for the auditor.
package schemas

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// baseURL roots every schema's URL. It is not a network location: the
// compiler's loader refuses anything not in the loaded set.
const baseURL = "eventaudit:///"

// Options scope and tune a load.
type Options struct {
	// Plan restricts name lookup to schemas whose $id is under this prefix,
	// e.g. "segment/shop". Lookup by explicit $id is never restricted.
	Plan string
	// AssertFormat makes "format" an assertion. Off by default, as in
	// Python's jsonschema, which the tracking plans were written against.
	AssertFormat bool
	// DisableFastPath leaves every verdict to the JSON Schema library.
	DisableFastPath bool
}

// Info describes one event schema file.
type Info struct {
	ID      string `json:"id"`
	Plan    string `json:"plan"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Major   int    `json:"-"`
	Minor   int    `json:"-"` // an Iglu SchemaVer's REVISION
	// Addition is an Iglu SchemaVer's ADDITION; 0 for Reflekt.
	Addition int    `json:"-"`
	File     string `json:"file"`
	// Vendor is self.vendor.
	Vendor string `json:"-"`
	// Err is why the schema does not compile, or nil.
	Err error `json:"-"`
}

// Schema is a compiled event schema; safe for concurrent use.
type Schema struct {
	info     Info
	compiled *jsonschema.Schema
	fast     *fastNode // nil: always the library
	// patterns maps a pattern's RE2 translation, quoted as in the library's
	// messages, to the pattern as the plan wrote it.
	patterns map[string]string
}

// ID is the schema's $id, its path under the schemas root.
func (s *Schema) ID() string { return s.info.ID }

// Info describes the schema's file.
func (s *Schema) Info() Info { return s.info }

// Registry is the loaded tracking plan. It is read-only after Load.
type Registry struct {
	docs map[string]map[string]any // every event schema file's JSON, by $id, for lint
	// raw holds every event schema file's bytes, by path, so that lint
	// findings carry a line and column.
	raw    map[string][]byte
	byID   map[string]*Schema
	byName map[string][]*Schema // in-plan schemas, highest version first
	// broken names the in-plan events with a schema file that does not
	// compile: they are unplanned even where an older version compiles,
	// since the plan's newest word on them cannot be read.
	broken map[string]bool
	// iglu maps iglu:VENDOR/NAME/jsonschema/M-R-A to the file's $id.
	iglu   map[string]string
	infos  []Info
	digest string
}

// FileError locates a problem in one schema file.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// LoadError lists every schema file that failed to parse or compile.
type LoadError struct{ Files []*FileError }

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d schema file(s) failed to compile:", len(e.Files))
	for _, f := range e.Files {
		b.WriteString("\n  " + f.Error())
	}
	return b.String()
}

// ErrUnknownPlan means the plan Load was asked for names no schema.
var ErrUnknownPlan = errors.New("matches no schema")

// Load reads every *.json under fsys. Files under a directory starting with
// "." (Reflekt's .reflekt/ meta-schemas) are available to $ref but are not
// event schemas. When some files fail, Load still returns the registry of
// the others together with a *LoadError naming each failed file.
func Load(ctx context.Context, fsys fs.FS, opts Options) (*Registry, error) {
	plan := strings.Trim(opts.Plan, "/")
	type file struct {
		path string
		doc  map[string]any
		raw  []byte
		meta bool
	}
	var files []file
	var failed []*FileError
	var unreadable []Info // event schema files that are not even JSON
	unreadableRaw := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || (!strings.HasSuffix(p, ".json") && igluKey(p) == "") {
			return nil
		}
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		doc, err := decodeSchema(raw)
		if err != nil {
			failed = append(failed, &FileError{File: p, Err: err})
			if !hiddenPath(p) {
				unreadable = append(unreadable, Info{ID: p, File: p, Name: path.Base(path.Dir(p)), Err: err})
				unreadableRaw[p] = raw
			}
			return nil
		}
		files = append(files, file{path: p, doc: doc, raw: raw, meta: hiddenPath(p)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schemas: %w", err)
	}

	c := newCompiler(opts)
	known := map[string]bool{}
	byURL := map[string]map[string]any{}
	for _, f := range files {
		known[fileURL(f.path)] = true
		byURL[fileURL(f.path)] = f.doc
	}
	// A file may carry an absolute $id of its own (urn:…, https://…) that
	// $refs use, its own included; such refs are pointed at the file. An
	// Iglu file goes by its iglucentral.com and iglu: names, and is read
	// as the draft 4 its meta-schema extends.
	ids := map[string]string{}
	for _, f := range files {
		if id := ownID(f.doc); id != "" {
			ids[id] = fileURL(f.path)
		}
		if key := igluKey(f.path); key != "" {
			igluDraft(f.doc)
			for _, id := range igluIDs(key) {
				ids[id] = fileURL(f.path)
			}
		}
	}
	// A meta-schema named by $schema may be one of the loaded files.
	meta := func(u string) (map[string]any, bool) {
		if file, ok := ids[u]; ok {
			u = file
		}
		doc, ok := byURL[u]
		return doc, ok
	}
	patterns := map[string]string{}
	unprepared := map[string]error{}
	for _, f := range files {
		draft := draftOf(f.doc, meta)
		prep := &preparation{patterns: patterns, draft4: draft == "draft-04",
			dropFormat: !opts.AssertFormat && beforeDraft2019(draft)}
		if err := prepareSchema(f.doc, prep); err != nil {
			unprepared[f.path] = err
			continue
		}
		// The file's path is its $id. Rewriting a relative $id to the
		// absolute URL keeps $refs relative to the file, as JSON Schema says.
		base := ownID(f.doc)
		f.doc["$id"] = fileURL(f.path)
		rewriteRootRefs(f.doc, f.path, known, ids, base)
		buf, _ := json.Marshal(f.doc)
		if err := c.AddResource(fileURL(f.path), bytes.NewReader(buf)); err != nil {
			failed = append(failed, &FileError{File: f.path, Err: err})
		}
	}

	r := &Registry{docs: map[string]map[string]any{}, raw: unreadableRaw, byID: map[string]*Schema{}, byName: map[string][]*Schema{},
		broken: map[string]bool{}, iglu: map[string]string{}}
	fc := &fastCompiler{docs: map[string]any{}, assertFormat: opts.AssertFormat, memo: map[string]*fastNode{}}
	for _, f := range files {
		fc.docs[f.path] = f.doc
	}
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.path, len(f.raw))
		h.Write(f.raw)
		if f.meta {
			continue
		}
		info := describe(f.path, f.doc)
		r.docs[info.ID] = f.doc
		r.raw[f.path] = f.raw
		var compiled *jsonschema.Schema
		err := unprepared[f.path] // never added to the compiler
		if err == nil {
			compiled, err = compile(c, fileURL(f.path))
		}
		if err != nil {
			info.Err = cleanCompileError(err)
			failed = append(failed, &FileError{File: f.path, Err: info.Err})
			r.infos = append(r.infos, info)
			if InPlan(info.ID, plan) {
				r.broken[info.Name] = true
			}
			continue
		}
		s := &Schema{info: info, compiled: compiled, patterns: patterns}
		if !opts.DisableFastPath {
			s.fast = fc.compile(f.path)
		}
		r.infos = append(r.infos, info)
		r.byID[info.ID] = s
		if key := igluKey(f.path); key != "" {
			r.iglu[igluScheme+key] = info.ID
		}
		if InPlan(info.ID, plan) {
			r.byName[info.Name] = append(r.byName[info.Name], s)
		}
	}
	r.infos = append(r.infos, unreadable...)
	for _, u := range unreadable {
		if InPlan(u.ID, plan) {
			r.broken[u.Name] = true
		}
	}
	r.digest = hex.EncodeToString(h.Sum(nil))[:16]
	for _, list := range r.byName {
		slices.SortFunc(list, func(a, b *Schema) int {
			return cmp.Or(cmp.Compare(b.info.Major, a.info.Major), cmp.Compare(b.info.Minor, a.info.Minor),
				cmp.Compare(b.info.Addition, a.info.Addition),
				cmp.Compare(a.info.ID, b.info.ID))
		})
	}
	if plan != "" && len(r.byName) == 0 && len(r.infos) > 0 {
		return r, audit.Configf(fmt.Errorf("plan %q %w (plans here: %s)", plan, ErrUnknownPlan, strings.Join(r.Plans(), ", ")))
	}
	if len(failed) > 0 {
		slices.SortFunc(failed, func(a, b *FileError) int { return cmp.Compare(a.File, b.File) })
		return r, &LoadError{Files: failed}
	}
	return r, nil
}

// newCompiler is the library as eventaudit configures it: draft 7 unless a
// schema says otherwise, "format", contentEncoding and contentMediaType as
// annotations unless asked, and no schema ever fetched from the network.
func newCompiler(opts Options) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = opts.AssertFormat
	// Whether "format" asserts is settled per file by prepareSchema (and by
	// a meta-schema's format-assertion vocabulary); these are the checks
	// where it does.
	for name, check := range formatCheckers {
		c.Formats[name] = check
	}
	for _, name := range unassertedFormats {
		c.Formats[name] = func(any) bool { return true }
	}
	// contentEncoding and contentMediaType are annotations, as in Python's
	// jsonschema and ajv, and as the fast path treats them: jsonschema/v5
	// asserts them under draft 7 with the decoders it knows, and a nil
	// decoder of the same name takes its place.
	for name := range jsonschema.Decoders {
		c.Decoders[name] = nil
	}
	for name := range jsonschema.MediaTypes {
		c.MediaTypes[name] = nil
	}
	c.RegisterExtension("draft4-integer", nil, draft4Integer{})
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("%s is not in the schemas directory: an unknown $schema draft or $ref target (eventaudit never fetches schemas over the network)", displayURL(u))
	}
	return c
}

// compile is Compile that turns a panic inside jsonschema/v5 (some nested
// $id and $ref combinations reach a nil map in its resolver) into this
// file's compile error, instead of ending the process.
func compile(c *jsonschema.Compiler, url string) (s *jsonschema.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("the JSON Schema library could not compile this schema (%v); simplify its $id and $ref structure", r)
		}
	}()
	return c.Compile(url)
}

func decodeSchema(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// The offset is just past the byte that broke the syntax.
			return nil, fmt.Errorf("invalid JSON at %s: %v", position(raw, se.Offset-1), err)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return nil, fmt.Errorf("invalid JSON at %s: the file ends inside a value (a missing } or ])", position(raw, int64(len(raw))))
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		// One schema per file: text after it would otherwise be ignored.
		return nil, fmt.Errorf("invalid JSON at %s: more after the schema's closing brace", position(raw, dec.InputOffset()))
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("a schema file must hold a JSON object")
	}
	return doc, nil
}

// position is "line L, column C" of a byte offset, both from 1; columns
// count characters, as editors do.
func position(raw []byte, offset int64) string {
	p := positionAt(raw, int(offset))
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// hiddenPath reports whether any directory of p starts with a dot.
func hiddenPath(p string) bool {
	for _, part := range strings.Split(path.Dir(p), "/") {
		if strings.HasPrefix(part, ".") && part != "." {
			return true
		}
	}
	return false
}

func fileURL(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return baseURL + strings.Join(parts, "/")
}

func displayURL(u string) string {
	if rest, ok := strings.CutPrefix(u, baseURL); ok {
		if p, err := url.PathUnescape(rest); err == nil {
			return strconv.Quote(p)
		}
	}
	return strconv.Quote(u)
}

// rewriteRootRefs lets a $ref name another schema by its $id from the root
// ("segment/common/1-0.json"), the way Reflekt projects write them: a ref
// that does not resolve relative to the file but does from the root is
// rewritten to the root form.
func rewriteRootRefs(v any, filePath string, known map[string]bool, ids map[string]string, base string) {
	switch n := v.(type) {
	case map[string]any:
		for k, child := range n {
			if ref, ok := child.(string); ok && k == "$ref" {
				n[k] = rootRef(ref, filePath, known, ids, base)
				continue
			}
			rewriteRootRefs(child, filePath, known, ids, base)
		}
	case []any:
		for _, child := range n {
			rewriteRootRefs(child, filePath, known, ids, base)
		}
	}
}

func rootRef(ref, filePath string, known map[string]bool, ids map[string]string, base string) string {
	target, frag, _ := strings.Cut(ref, "#")
	withFrag := func(u string) string {
		if frag != "" {
			return u + "#" + frag
		}
		return u
	}
	if target == "" {
		return ref
	}
	// By a file's own absolute $id, or relative to this file's.
	if u, ok := ids[resolveID(base, target)]; ok {
		return withFrag(u)
	}
	if strings.Contains(target, ":") {
		return ref
	}
	rel := path.Join(path.Dir(filePath), target)
	if known[fileURL(rel)] {
		return ref
	}
	if root := path.Clean(strings.TrimPrefix(target, "/")); known[fileURL(root)] {
		return withFrag(fileURL(root))
	}
	return ref
}

// ownID is a file's absolute root $id without its empty fragment, or "":
// Reflekt's relative $id (the file's path) names nothing new.
func ownID(doc map[string]any) string {
	id, _ := doc["$id"].(string)
	id = strings.TrimSuffix(id, "#")
	if !strings.Contains(id, ":") || strings.HasPrefix(id, baseURL) {
		return ""
	}
	return id
}

// resolveID is target made absolute against base, or target as written.
func resolveID(base, target string) string {
	if base == "" || strings.Contains(target, ":") {
		return target
	}
	b, err := url.Parse(base)
	if err != nil || b.Opaque != "" {
		return target // a urn: has no path to be relative to
	}
	t, err := url.Parse(target)
	if err != nil {
		return target
	}
	return b.ResolveReference(t).String()
}

// describe reads the Reflekt conventions off a schema: name from self.name
// (else the folder), version from self.version (else the file name).
func describe(p string, doc map[string]any) Info {
	info := Info{ID: p, File: p}
	dir := path.Dir(p)
	info.Name, info.Plan = path.Base(dir), path.Dir(dir)
	model, revision, addition, iglu := schemaVer(p)
	if iglu {
		// VENDOR/NAME/jsonschema/M-R-A: VENDOR is the plan, NAME the event.
		info.Name, info.Plan = path.Base(path.Dir(dir)), path.Dir(path.Dir(dir))
	}
	if info.Plan == "." {
		info.Plan = ""
	}
	info.Version = strings.TrimSuffix(path.Base(p), ".json")
	if self, ok := doc["self"].(map[string]any); ok {
		if n, ok := self["name"].(string); ok && n != "" {
			info.Name = n
		}
		if v, ok := self["version"].(string); ok && v != "" {
			info.Version = v
		}
		info.Vendor, _ = self["vendor"].(string)
	}
	if iglu {
		info.Major, info.Minor, info.Addition = model, revision, addition
		return info
	}
	info.Major, info.Minor, _ = ParseVersion(info.Version)
	return info
}

// ParseVersion parses a Reflekt MAJOR-MINOR version such as "1-12".
func ParseVersion(v string) (major, minor int, err error) {
	a, b, ok := strings.Cut(v, "-")
	if ok {
		major, err = strconv.Atoi(a)
		if err == nil {
			minor, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || major < 0 || minor < 0 {
		return 0, 0, fmt.Errorf("version %q is not MAJOR-MINOR", v)
	}
	return major, minor, nil
}

// cleanCompileError turns the library's URL-laden message into one that
// names files by their path.
func cleanCompileError(err error) error {
	msg := err.Error()
	for {
		i := strings.Index(msg, baseURL)
		if i < 0 {
			break
		}
		j := i + len(baseURL)
		for j < len(msg) && !strings.ContainsRune(" '\"#\n", rune(msg[j])) {
			j++
		}
		p, uerr := url.PathUnescape(msg[i+len(baseURL) : j])
		if uerr != nil {
			p = msg[i+len(baseURL) : j]
		}
		msg = msg[:i] + p + msg[j:]
	}
	msg = strings.TrimPrefix(msg, "jsonschema ")
	// The caller names the file; drop the library's "<file> compilation failed: ".
	if _, rest, ok := strings.Cut(msg, " compilation failed: "); ok {
		msg = rest
	}
	return errors.New(msg)
}

// InPlan reports whether the schema file id lies under plan ("" is every plan).
func InPlan(id, plan string) bool {
	plan = strings.Trim(plan, "/")
	return plan == "" || strings.HasPrefix(id, plan+"/")
}

// ByID implements audit.Catalog.
// A schema_id may also be an Iglu URI, iglu:VENDOR/NAME/jsonschema/M-R-A.
func (r *Registry) ByID(id string) (audit.Schema, bool) {
	if path, ok := r.iglu[id]; ok {
		id = path
	}
	s, ok := r.byID[id]
	if !ok {
		return nil, false
	}
	return s, true
}

// Empty is a registry with no schemas, against which every event is
// unplanned.
func Empty() *Registry { return &Registry{} }

// ByName implements audit.Catalog: the highest MAJOR, then MINOR, in plan.
func (r *Registry) ByName(name string) (audit.Schema, bool) {
	list := r.byName[name]
	if len(list) == 0 || r.broken[name] {
		return nil, false
	}
	return list[0], true
}

// Schemas lists every event schema file, compiled or not, by $id.
func (r *Registry) Schemas() []Info {
	out := slices.Clone(r.infos)
	slices.SortFunc(out, func(a, b Info) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Plans lists the distinct plans of the loaded schemas.
func (r *Registry) Plans() []string {
	var out []string
	for _, i := range r.infos {
		if !slices.Contains(out, i.Plan) {
			out = append(out, i.Plan)
		}
	}
	slices.Sort(out)
	return out
}

// Digest fingerprints the loaded files, so a run records which plan it used.
func (r *Registry) Digest() string { return r.digest }

// Len is the number of compiled event schemas.
func (r *Registry) Len() int { return len(r.byID) }

// Ambiguities lists event names that more than one plan in scope defines;
// name lookup cannot choose between them, so an audit must pass --plan.
func (r *Registry) Ambiguities() []string {
	var out []string
	for name, list := range r.byName {
		plans := map[string]bool{}
		for _, s := range list {
			plans[s.info.Plan] = true
		}
		if len(plans) > 1 {
			var ps []string
			for p := range plans {
				ps = append(ps, p)
			}
			slices.Sort(ps)
			out = append(out, fmt.Sprintf("%q is defined in plans %s", name, strings.Join(ps, " and ")))
		}
	}
	slices.Sort(out)
	return out
}
