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

// FailingSink wraps a Sink so that the n-th WriteViolations (1-based), or
// the Commit when FailCommit is set, fails after its work reached the
// transaction: the write is real, so only a rollback can undo it.
type FailingSink struct {
	audit.Sink
	FailWrite  int
	FailCommit bool
}

func (f *FailingSink) Begin(ctx context.Context, run audit.Run) (audit.SinkTx, error) {
	tx, err := f.Sink.Begin(ctx, run)
	if err != nil {
		return nil, err
	}
	return &failingTx{SinkTx: tx, sink: f}, nil
}

type failingTx struct {
	audit.SinkTx
	sink   *FailingSink
	writes int
}

func (t *failingTx) WriteViolations(ctx context.Context, vs []audit.Violation) error {
	if err := t.SinkTx.WriteViolations(ctx, vs); err != nil {
		return err
	}
	t.writes++
	if t.writes == t.sink.FailWrite {
		return ErrInjected
	}
	return nil
}

func (t *failingTx) Commit(ctx context.Context, run audit.Run, stats []audit.EventStats) error {
	if t.sink.FailCommit {
		return ErrInjected
	}
	return t.SinkTx.Commit(ctx, run, stats)
}
