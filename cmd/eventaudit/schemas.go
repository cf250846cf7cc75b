package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/spf13/cobra"
)

type schemasOptions struct {
	Schemas string
	Plan    string
	Format  string
	Lint    schemas.LintRules
}

func newCmdSchemas(d *deps, root *rootOptions, runList, runCheck func(context.Context, *schemasOptions) error,
	runInfer func(context.Context, *inferOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "List, lint and infer the tracking plan's schemas",
	}
	cmd.AddCommand(
		newSchemasSub(d, root, "list", "List every event schema: id, plan, event, version, file, and whether it compiles",
			`  eventaudit schemas list --schemas ./schemas
  eventaudit schemas list --schemas s3://acme-tracking/reflekt/schemas --format json`, runList, runSchemasList),
		newSchemasSub(d, root, "check", `Compile every schema and lint it with Reflekt's conventions; exit 1 on any finding

Rules (configure them under lint: in eventaudit.yml):
  events / properties: casing (title, snake, camel, any), numbers (digits allowed), reserved names
  require_descriptions: every event and property has a description
  data_types: the JSON types a property may use
  self.name matches the folder, self.version the file's MAJOR-MINOR
  no two schemas with the same name and version in one plan`,
			`  eventaudit schemas check --schemas ./schemas     # in CI, before the nightly audit`, runCheck, runSchemasCheck),
		newCmdSchemasInfer(d, root, runInfer),
	)
	return cmd
}

func newSchemasSub(d *deps, root *rootOptions, use, help, example string, runF func(context.Context, *schemasOptions) error,
	run func(context.Context, *deps, *schemasOptions) error) *cobra.Command {
	o := &schemasOptions{}
	short, _, _ := strings.Cut(help, "\n")
	long := ""
	if short != help {
		long = help
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long, Example: example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Lint = root.cfg.Lint
			if err := o.Lint.Validate(); err != nil {
				return usageError{err}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return run(cmd.Context(), d, o)
		},
	}
	b := binder{path: "schemas " + use, flags: cmd.Flags()}
	b.str(&o.Schemas, "schemas")
	b.str(&o.Plan, "plan")
	b.str(&o.Format, "format")
	return cmd
}

// loadForListing loads every schema, keeping those that fail to compile:
// listing and linting them is the point.
func loadForListing(ctx context.Context, d *deps, o *schemasOptions) (*schemas.Registry, schemaSource, error) {
	source, err := openSchemas(ctx, d, o.Schemas)
	if err != nil {
		return nil, source, err
	}
	reg, err := schemas.Load(ctx, source.fsys, schemas.Options{})
	if reg == nil {
		return nil, source, fmt.Errorf("read schemas from %s: %w", o.Schemas, err)
	}
	return reg, source, nil
}

func runSchemasList(ctx context.Context, d *deps, o *schemasOptions) error {
	reg, source, err := loadForListing(ctx, d, o)
	if err != nil {
		return err
	}
	var entries []reports.SchemaEntry
	for _, info := range reg.Schemas() {
		if !schemas.InPlan(info.ID, o.Plan) {
			continue
		}
		e := reports.SchemaEntry{ID: info.ID, Plan: info.Plan, Name: info.Name, Version: info.Version, File: info.File,
			Location: source.location(info.File), Compiles: info.Err == nil}
		if info.Err != nil {
			e.Error = info.Err.Error()
		}
		entries = append(entries, e)
	}
	return reports.Schemas(d.stdout, o.Format, entries, o.Schemas)
}

func runSchemasCheck(ctx context.Context, d *deps, o *schemasOptions) error {
	reg, source, err := loadForListing(ctx, d, o)
	if err != nil {
		return err
	}
	checked := 0
	for _, info := range reg.Schemas() {
		if schemas.InPlan(info.ID, o.Plan) {
			checked++
		}
	}
	if checked == 0 {
		// A check of nothing must not pass in CI.
		where := "no schema file"
		if o.Plan != "" && len(reg.Schemas()) > 0 {
			where = fmt.Sprintf("no schema in plan %q (plans here: %s)", o.Plan, strings.Join(reg.Plans(), ", "))
		}
		return usageError{fmt.Errorf("%s found under %s: nothing was checked; point --schemas at a Reflekt project's "+
			"schemas/ folder or an Iglu repository", where, o.Schemas)}
	}
	var findings []reports.Finding
	for _, f := range reg.Lint(o.Lint) {
		if schemas.InPlan(f.File, o.Plan) {
			findings = append(findings, reports.Finding{File: source.location(f.File), Pointer: f.Pointer,
				Line: f.At.Line, Column: f.At.Column, Rule: f.Rule, Message: f.Message})
		}
	}
	if err := reports.Findings(d.stdout, o.Format, findings, checked, version); err != nil {
		return err
	}
	if len(findings) > 0 {
		return errThreshold
	}
	return nil
}
