package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
)

// inferOptions are schemas infer's own settings beside the audit settings
// it reads the events with (warehouse, layout, table, window, schemas).
type inferOptions struct {
	Audit         auditOptions
	Out           string
	Events        []string
	RequiredShare float64
	EnumMax       int
	Vendor        string
	// schemasSet says --schemas (or schemas: in the config) was given: the
	// plan there is in scope even if the folder does not exist yet.
	schemasSet bool
}

func newCmdSchemasInfer(d *deps, root *rootOptions, runF func(context.Context, *inferOptions) error) *cobra.Command {
	o := &inferOptions{}
	cmd := &cobra.Command{
		Use:   "infer",
		Short: "Write a Reflekt schema per event from what a window of events carried",
		Long: `Profile a window of events, as an audit does, and write one Reflekt schema
(draft 7, version 1-0) per event into --out: Track events by name, every page
into Page, screens into Screen, Identify and Group.

Each schema takes from the data:
  types (integer when every number was whole; null beside when nulls were sent)
  required: the properties sent in at least --required-share of their objects
  enum: strings with at most --enum-max distinct values, each seen several times
  format (date-time, date, uuid, email, uri): only when every value matched
  additionalProperties: false, since every property sent is declared
Descriptions are left as TODOs, which schemas check reports until they are written.

Auditing the same window against the written schemas finds nothing: they are a
starting point that describes today's data, mistakes included. Review them.

With a plan in scope (--schemas, or schemas: in the config, narrowed by --plan)
only the events it does not match are written. Files go to OUT/PLAN/EVENT/1-0.json,
$id PLAN/EVENT/1-0.json; existing files are never overwritten.`,
		Example: `  # A first plan from last week's events, as plan segment/shop
  eventaudit schemas infer --warehouse duckdb://events.duckdb --table segment_events \
    --since 7d --plan segment/shop --out ./schemas

  # Only the events the plan in ./schemas lacks
  eventaudit schemas infer --config eventaudit.yml --schemas ./schemas --plan segment/shop --since 24h --out ./schemas

  # From Segment's warehouse layout
  eventaudit schemas infer --config eventaudit.yml --layout segment --source web_prod --since 7d --out ./schemas`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Audit.Events = root.cfg.Events
			if err := o.Audit.checkEvents(root.set); err != nil {
				return err
			}
			o.schemasSet = root.set.changed("schemas")
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSchemasInfer(cmd.Context(), d, o)
		},
	}
	b := binder{path: "schemas infer", flags: cmd.Flags()}
	a := &o.Audit
	for _, f := range []struct {
		dst  *string
		flag string
	}{
		{&a.Warehouse, "warehouse"}, {&a.Layout, "layout"}, {&a.Table, "table"}, {&a.Source, "source"},
		{&a.MessageIDCol, "message-id-column"}, {&a.ReceivedAtCol, "received-at-column"}, {&a.PayloadCol, "payload-column"},
		{&a.Schemas, "schemas"}, {&a.Plan, "plan"}, {&a.Since, "since"}, {&a.Until, "until"}, {&a.Validate, "validate"},
		{&o.Out, "out"}, {&o.Vendor, "vendor"},
	} {
		b.str(f.dst, f.flag)
	}
	b.integer(&a.Workers, "workers")
	b.integer(&a.MaxPayload, "max-payload-bytes")
	b.list(&o.Events, "events")
	b.float(&o.RequiredShare, "required-share")
	b.integer(&o.EnumMax, "enum-max")
	return cmd
}

func runSchemasInfer(ctx context.Context, d *deps, o *inferOptions) error {
	a := &o.Audit
	switch {
	case o.Out == "":
		return usageError{errors.New("--out is required: the schemas directory to write into (e.g. ./schemas)")}
	case o.RequiredShare <= 0 || o.RequiredShare > 1:
		return usageError{fmt.Errorf("--required-share %v: use a share in (0, 1]; 1 requires only the properties every message sent", o.RequiredShare)}
	case a.Validate != string(audit.ValidateObject):
		return usageError{errors.New("--validate message: infer describes properties and traits, the part a plan describes; use --validate object")}
	}
	sourceName, err := a.sourceName()
	if err != nil {
		return err
	}
	w, err := parseWindow(a.Since, a.Until, d.now())
	if err != nil {
		return err
	}
	reg := schemas.Empty()
	inScope := o.schemasSet || dirExists(a.Schemas)
	if inScope {
		// A plan folder with no schema yet is an empty plan: every event is written.
		switch loaded, _, err := loadRegistry(ctx, d, a.Schemas, a.Plan, false, true); {
		case errors.Is(err, errNoSchemas):
		case err != nil:
			return err
		default:
			reg = loaded
		}
	}
	wh, err := openWarehouse(ctx, d, a.Warehouse)
	if err != nil {
		return err
	}
	defer wh.Close()
	matcher := a.matcher(reg)
	var src *warehouse.Source
	if a.Layout == "segment" {
		src, err = wh.SegmentSourceEveryTable(ctx, a.Source, matcher)
	} else {
		src, err = a.openSource(ctx, wh, reg, matcher, audit.Shard{})
	}
	if err != nil {
		return err
	}
	limits := audit.DefaultProfileLimits
	auditor := &audit.Auditor{Source: src.Source, Matcher: matcher, Workers: a.Workers, MaxPayloadBytes: a.MaxPayload,
		Now:     d.now, // no logger: its "audit finished" line would read as an audit's
		Profile: &audit.Profiling{Limits: limits, ValueStats: true, Formats: schemas.FormatChecks()}}
	if d.isTTY(d.stderr) {
		p := newProgress(d.stderr, d.now)
		auditor.Progress = p.update
		p.keepDrawing(redrawEvery)
		defer p.done(nil)
	}
	summary, err := auditor.Run(ctx, audit.Run{RunID: d.newRunID(d.now()), Source: sourceName, Window: w})
	if err != nil {
		return err
	}
	var profiles []audit.EventProfile
	for _, e := range summary.Profiles {
		if e.Unplanned && (len(o.Events) == 0 || slices.Contains(o.Events, e.Name) || slices.Contains(o.Events, e.Type)) {
			profiles = append(profiles, e)
		}
	}
	vendor := o.Vendor
	if vendor == "" {
		vendor = planVendor(reg)
	}
	inferred := schemas.Infer(profiles, schemas.InferOptions{Plan: a.Plan, Vendor: vendor, RequiredShare: o.RequiredShare, EnumMax: o.EnumMax, Depth: limits.Depth})
	if len(inferred) == 0 {
		what := "no events"
		if inScope {
			what = "no events the plan lacks"
		}
		fmt.Fprintf(d.stdout, "%s in %s, window %s: nothing to write.\n", strings.ToUpper(what[:1])+what[1:], sourceName, reports.Window(w))
		return nil
	}
	// All or nothing: refuse before writing any file.
	var exist []string
	for _, s := range inferred {
		if _, err := os.Stat(o.dest(s)); err == nil {
			exist = append(exist, o.dest(s))
		}
	}
	if len(exist) > 0 {
		return usageError{fmt.Errorf("%d of the schemas to write already exist, and infer never overwrites a schema: %s\n"+
			"(write into an empty --out, or pass --plan to write only the events the plan lacks)", len(exist), strings.Join(exist, ", "))}
	}
	for _, s := range inferred {
		dest := o.dest(s)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", dest, err)
		}
		if err := writeFileAtomic(dest, s.JSON); err != nil {
			return fmt.Errorf("write %s: %w", dest, err)
		}
	}
	return printInferred(d, o, inferred, summary, sourceName, w)
}

func printInferred(d *deps, o *inferOptions, inferred []schemas.Inferred, s *audit.Summary, source string, w audit.Window) error {
	fmt.Fprintf(d.stdout, "Inferred %d schemas from %s rows of %s, window %s:\n\n", len(inferred), reports.Count(s.Run.RowsScanned), source, reports.Window(w))
	t := tablewriter.NewTable(d.stdout, tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignLeft}}))
	t.Header("Schema", "Messages", "File")
	for _, x := range inferred {
		if err := t.Append(x.Name, reports.Count(x.Rows), o.dest(x)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if cut := reports.DriftCut(s.Drift); cut != "" {
		fmt.Fprintf(d.stdout, "\n%s Their schemas stay open (no additionalProperties: false).\n", cut)
	}
	_, err := fmt.Fprintf(d.stdout, "\nNext: replace the TODO descriptions, review types, required and enums, then\n"+
		"  eventaudit schemas check --schemas %s\n", o.Out)
	return err
}

// dest is where a schema is written: its $id under --out.
func (o *inferOptions) dest(s schemas.Inferred) string {
	return filepath.Join(o.Out, filepath.FromSlash(s.ID))
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// planVendor is the self.vendor the plan's schemas use, so that inferred
// schemas join it; a placeholder when there is no plan.
func planVendor(reg *schemas.Registry) string {
	for _, info := range reg.Schemas() {
		if info.Vendor != "" {
			return info.Vendor
		}
	}
	return "com.example"
}
