package audittest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/eventaudit/eventaudit/audit"
)

// Schema is an audit.Schema with hand-written rules, for tests that must not
// depend on the JSON Schema library.
type Schema struct {
	SchemaID string
	// Required names properties that must be present; Types maps a property
	// to "string", "number" or "integer".
	Required []string
	Types    map[string]string
}

// ID implements audit.Schema.
func (s *Schema) ID() string { return s.SchemaID }

// Validate implements audit.Schema.
func (s *Schema) Validate(instance any) []audit.Failure {
	obj, ok := instance.(map[string]any)
	if !ok {
		return []audit.Failure{{Keyword: "type", Message: "expected object"}}
	}
	var out []audit.Failure
	for _, r := range s.Required {
		if _, ok := obj[r]; !ok {
			out = append(out, audit.Failure{Keyword: "required", Message: fmt.Sprintf("missing properties: %q", r)})
		}
	}
	keys := make([]string, 0, len(s.Types))
	for k := range s.Types {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if !hasType(v, s.Types[k]) {
			out = append(out, audit.Failure{InstancePath: "/" + k, Keyword: "type",
				Message: fmt.Sprintf("expected %s", s.Types[k])})
		}
	}
	return out
}

// Shape implements audit.Shaper: the typed and required properties are
// the declared ones.
func (s *Schema) Shape() *audit.Shape {
	out := &audit.Shape{MaxLength: -1, Types: []string{"object"}, Properties: map[string]*audit.Shape{}}
	for _, r := range s.Required {
		out.Properties[r] = &audit.Shape{MaxLength: -1}
	}
	for k, t := range s.Types {
		out.Properties[k] = &audit.Shape{MaxLength: -1, Types: []string{t}}
	}
	return out
}

func hasType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return true
}

// Catalog is an audit.Catalog over a fixed list; ByName takes the first
// schema registered under a name.
type Catalog struct {
	IDs   map[string]audit.Schema
	Names map[string]audit.Schema
}

// NewCatalog registers each schema under its id and the given names.
func NewCatalog() *Catalog {
	return &Catalog{IDs: map[string]audit.Schema{}, Names: map[string]audit.Schema{}}
}

// Add registers s under its id and name.
func (c *Catalog) Add(name string, s audit.Schema) *Catalog {
	c.IDs[s.ID()] = s
	c.Names[name] = s
	return c
}

func (c *Catalog) ByID(id string) (audit.Schema, bool) { s, ok := c.IDs[id]; return s, ok }
func (c *Catalog) ByName(n string) (audit.Schema, bool) {
	s, ok := c.Names[n]
	return s, ok
}

// Source yields fixed rows in batches of BatchSize; it filters on the window
// like a warehouse would. FailAfter > 0 makes it fail after that many batches.
type Source struct {
	Rows      []audit.Row
	BatchSize int
	FailAfter int
}

// ErrInjected is what fault-injecting doubles return.
var ErrInjected = fmt.Errorf("injected failure")

// Scan implements audit.Source.
func (s *Source) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	size := max(s.BatchSize, 1)
	var batch []audit.Row
	sent := 0
	flush := func() error {
		if s.FailAfter > 0 && sent == s.FailAfter {
			return ErrInjected
		}
		sent++
		err := yield(batch)
		batch = batch[:0]
		return err
	}
	for _, r := range s.Rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !w.Contains(r.ReceivedAt) {
			continue
		}
		batch = append(batch, r)
		if len(batch) == size {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}

// HookSink wraps a Sink and calls AfterWrite after the n-th (1-based)
// WriteViolations has reached the transaction, and BeforeCommit before the
// commit; a hook's error fails that call. Tests use it to fail or cancel a
// run at a chosen point, when only a rollback can undo what was written.
type HookSink struct {
	audit.Sink
	AfterWrite   func(n int) error
	BeforeCommit func() error
}

func (h *HookSink) Begin(ctx context.Context, run audit.Run) (audit.SinkTx, error) {
	tx, err := h.Sink.Begin(ctx, run)
	if err != nil {
		return nil, err
	}
	return &hookTx{SinkTx: tx, sink: h}, nil
}

type hookTx struct {
	audit.SinkTx
	sink   *HookSink
	writes int
}

func (t *hookTx) WriteViolations(ctx context.Context, vs []audit.Violation) error {
	if err := t.SinkTx.WriteViolations(ctx, vs); err != nil {
		return err
	}
	t.writes++
	if t.sink.AfterWrite != nil {
		return t.sink.AfterWrite(t.writes)
	}
	return nil
}

func (t *hookTx) Commit(ctx context.Context, run audit.Run, stats []audit.EventStats) error {
	if t.sink.BeforeCommit != nil {
		if err := t.sink.BeforeCommit(); err != nil {
			return err
		}
	}
	return t.SinkTx.Commit(ctx, run, stats)
}

// FailingSink fails the n-th write, or the commit.
func FailingSink(inner audit.Sink, failWrite int, failCommit bool) *HookSink {
	h := &HookSink{Sink: inner, AfterWrite: func(n int) error {
		if n == failWrite {
			return ErrInjected
		}
		return nil
	}}
	if failCommit {
		h.BeforeCommit = func() error { return ErrInjected }
	}
	return h
}

// CollectSink keeps what a run writes, for tests that compare runs: every
// violation, and the statistics of the last commit. It is not safe for
// concurrent runs.
type CollectSink struct {
	Violations []audit.Violation
	Stats      []audit.EventStats
	Properties []audit.PropertyStats
}

func (c *CollectSink) Begin(context.Context, audit.Run) (audit.SinkTx, error) {
	return collectTx{c}, nil
}

type collectTx struct{ s *CollectSink }

func (t collectTx) WriteViolations(_ context.Context, vs []audit.Violation) error {
	t.s.Violations = append(t.s.Violations, vs...)
	return nil
}

func (t collectTx) Commit(_ context.Context, _ audit.Run, stats []audit.EventStats) error {
	t.s.Stats = stats
	return nil
}

func (t collectTx) WriteProperties(_ context.Context, ps []audit.PropertyStats) error {
	t.s.Properties = ps
	return nil
}

func (t collectTx) Rollback(context.Context) error { return nil }
