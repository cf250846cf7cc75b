package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/spf13/cobra"
)

func newCmdExplain(d *deps, root *rootOptions, runF func(context.Context, *auditOptions) error) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Show what an audit with these settings would prove valid in the warehouse's SQL, and the SQL",
		Long: `Show how an audit with the same settings would use pushdown: whether it proves rows
valid in the warehouse's SQL (so that they never leave it) and why, what each matching
rule can prove and why not, and the statement each scan slice would send.

explain reads the warehouse's catalog, never the events, and writes nothing. It takes
every setting audit takes, from the same flags, environment and eventaudit.yml, so
putting "explain" in place of "audit" explains a job's command line. --format json
prints the same for a program; any other format prints text.`,
		Example: `  eventaudit explain --config eventaudit.yml
  eventaudit explain --config eventaudit.yml --pushdown on --format json | jq -r .sql`,
		Args: cobra.NoArgs,
		RunE: withAuditOptions(d, root, o, runF, runExplain),
	}
	bindAuditFlags(binder{path: "explain", flags: cmd.Flags()}, o)
	return cmd
}

func runExplain(ctx context.Context, d *deps, o *auditOptions) error {
	shard, err := audit.ParseShard(o.Shard)
	if err != nil {
		return usageError{fmt.Errorf("--shard: %w", err)}
	}
	reg, _, err := loadRegistry(ctx, d, o.Schemas, o.Plan, o.AssertFormat, o.OnBadSchema == "skip")
	if err != nil {
		return err
	}
	if problems := o.planProblems(reg); len(problems) > 0 {
		return audit.Configf(problems[0])
	}
	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if err != nil {
		return err
	}
	defer wh.Close()
	matcher := o.matcher(reg)
	src, err := o.openSource(ctx, wh, reg, matcher, shard)
	if err != nil {
		return err
	}
	c, err := o.choosePushdown(ctx, src, matcher, reg)
	if err != nil {
		return err
	}
	e := reports.Explanation{Source: src.Name, Pushdown: o.Pushdown, Used: c.use, Reason: c.reason, SQL: c.proof.SQL, Statements: c.proof.Statements,
		PerTable: c.proof.PerTable}
	for i, r := range c.plan.Rules {
		er := reports.ExplainedRule{Type: r.Type, Names: r.Names, Others: r.NameField != "" && len(r.Names) == 0,
			SchemaID: r.SchemaID, Unplanned: r.Unplanned, Proven: "none", Why: r.Why}
		if r.Pred != nil {
			er.Proven, er.Why = "all", ""
			if paths := r.Pred.Patterns(); len(paths) > 0 && c.proof.NoPatterns != "" {
				er.Proven = "part"
				er.Why = fmt.Sprintf("a string checked against a pattern (%s) is left to Go: %s", strings.Join(paths, ", "), c.proof.NoPatterns)
			}
		}
		if rp, ok := c.proof.Rules[i]; ok {
			er.Proven, er.Why = rp.Proven, rp.Why
		}
		e.Rules = append(e.Rules, er)
	}
	return reports.Explain(d.stdout, o.Format, e)
}
