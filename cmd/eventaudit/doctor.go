package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/spf13/cobra"
)

func newCmdDoctor(d *deps, root *rootOptions, runF func(context.Context, *auditOptions) error) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what an audit with these settings would meet: schemas, warehouse, table, window, results, Slack",
		Long: `Check, without writing anything or posting a digest, everything the same audit would
need: that the schemas load and compile, that the warehouse answers, that the table
(or Segment schema) exists, that the window holds rows and the newest is fresh enough
for --fail-on, where the results go, and that Slack accepts the webhook or token.

doctor takes every setting audit takes, from the same flags, environment and
eventaudit.yml, so putting "doctor" in place of "audit" checks a job's command line.
Each check prints one line; exit 0 when all pass, 1 when any fails.`,
		Example: `  eventaudit doctor --config eventaudit.yml
  eventaudit doctor --warehouse duckdb://events.duckdb --table segment_events --schemas ./schemas --since 24h`,
		Args: cobra.NoArgs,
		RunE: withAuditOptions(d, root, o, runF, runDoctor),
	}
	bindAuditFlags(binder{path: "doctor", flags: cmd.Flags()}, o)
	return cmd
}

// runDoctor prints one line per check and returns errThreshold when any
// failed, as schemas check does for its findings.
func runDoctor(ctx context.Context, d *deps, o *auditOptions) error {
	checks := diagnose(ctx, d, o)
	if err := reports.Checks(d.stdout, o.Format, checks); err != nil {
		return err
	}
	failed := 0
	for _, c := range checks {
		if c.Status == "fail" {
			failed++
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed > 0 {
		d.logger.Error(fmt.Sprintf("%d of %d checks failed", failed, len(checks)))
		return errThreshold
	}
	return nil
}

// checklist collects doctor's findings; an error's text is redacted.
type checklist struct {
	redact func(string) string
	checks []reports.Check
}

// add records a check, failed when err is set, and says whether it passed.
func (l *checklist) add(name, detail string, err error) bool {
	c := reports.Check{Name: name, Status: "ok", Detail: detail}
	if err != nil {
		c.Status, c.Detail = "fail", l.redact(err.Error())
	}
	l.checks = append(l.checks, c)
	return err == nil
}

// skip records checks that could not run, and on what they depend.
func (l *checklist) skip(why string, names ...string) {
	for _, name := range names {
		l.checks = append(l.checks, reports.Check{Name: name, Status: "skip", Detail: why})
	}
}

// diagnose runs every check it can: a check that depends on one that
// failed is skipped, and says on which.
func diagnose(ctx context.Context, d *deps, o *auditOptions) []reports.Check {
	d.secrets.Add(o.slackWebhook, o.slackToken)
	l := &checklist{redact: d.redact}

	reg, detail, err := checkSchemas(ctx, d, o)
	schemasOK := l.add("schemas", detail, err)

	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if !l.add("warehouse", "connected to "+d.redact(o.Warehouse), err) {
		l.skip("needs the warehouse", "source", "freshness", "window", "results")
	} else {
		defer wh.Close()
		checkSource(ctx, d, o, wh, reg, schemasOK, l)
	}

	target := reports.SlackTarget{WebhookURL: o.slackWebhook, BotToken: o.slackToken, Channel: o.SlackChannel,
		APIURL: d.getenv("EVENTAUDIT_SLACK_API_URL")}
	switch {
	case o.Slack == "never":
		l.add("slack", "off (--slack never)", nil)
	case !target.Configured():
		l.add("slack", "no webhook or token: no digest is posted (set SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN and --slack-channel)", nil)
	default:
		detail, err := target.Check(ctx)
		l.add("slack", detail+" (--slack "+o.Slack+")", err)
	}
	return l.checks
}

// checkSchemas loads and compiles the plan as audit would, and also fails
// on what --on-bad-schema skip would let through.
func checkSchemas(ctx context.Context, d *deps, o *auditOptions) (*schemas.Registry, string, error) {
	reg, broken, err := loadRegistry(ctx, d, o.Schemas, o.Plan, o.AssertFormat, true)
	if err != nil {
		return nil, "", err
	}
	var problems []string
	for _, b := range broken {
		problems = append(problems, fmt.Sprintf("%s does not compile: %v", b.File, b.Err))
	}
	for _, p := range o.planProblems(reg) {
		problems = append(problems, p.Error())
	}
	if len(problems) > 0 {
		return reg, "", errors.New(strings.Join(problems, "\n      "))
	}
	n := 0
	for _, info := range reg.Schemas() {
		if schemas.InPlan(info.ID, o.Plan) {
			n++
		}
	}
	plan := "every plan"
	if o.Plan != "" {
		plan = "plan " + o.Plan
	}
	return reg, fmt.Sprintf("%d schemas in %s compile, from %s", n, plan, o.Schemas), nil
}

// checkSource finds the table or Segment schema, counts the window's rows
// and reads the newest received_at, and finds the result tables.
func checkSource(ctx context.Context, d *deps, o *auditOptions, wh *warehouse.Warehouse, reg *schemas.Registry, schemasOK bool, l *checklist) {
	afterSource := []string{"freshness", "window", "results"}
	shard, err := audit.ParseShard(o.Shard)
	if err != nil {
		l.add("source", "", usageError{fmt.Errorf("--shard: %w", err)})
		l.skip("needs the source", afterSource...)
		return
	}
	if o.Layout == "segment" && !schemasOK {
		l.skip("Segment's layout is read through the schemas, which failed", "source")
		l.skip("needs the source", afterSource...)
		return
	}
	var matcher *audit.Matcher
	if reg != nil {
		matcher = o.matcher(reg)
	}
	src, err := o.openSource(ctx, wh, reg, matcher, shard)
	var name string
	if src != nil {
		name = src.Name
	}
	if !l.add("source", name, err) {
		l.skip("needs the source", afterSource...)
		return
	}
	checkWindow(ctx, d, o, src, l)
	runs, err := wh.Results(o.ResultsSchema, d.now).RecentRuns(ctx, src.Name, 1)
	where := warehouse.ResultsTable(o.ResultsSchema, warehouse.RunsTable)
	switch {
	case errors.Is(err, warehouse.ErrNoResults):
		l.add("results", fmt.Sprintf("%s does not exist yet; the first audit creates it (it needs CREATE on the database, or on schema %q)", where, o.ResultsSchema), nil)
	case err != nil:
		l.add("results", "", err)
	case len(runs) == 0:
		l.add("results", fmt.Sprintf("%s holds no run of %s yet", where, src.Name), nil)
	default:
		r := runs[0]
		l.add("results", fmt.Sprintf("last run of %s: %s, %s, window %s", src.Name, r.RunID, r.Status, reports.Window(r.Window)), nil)
	}
}

// checkWindow checks the source's freshness and the window's volume where
// the audit's --fail-on would: freshness, and min_rows (default 1).
func checkWindow(ctx context.Context, d *deps, o *auditOptions, src *warehouse.Source, l *checklist) {
	thresholds, err := o.failThresholds()
	if err != nil {
		l.add("freshness", "", err)
		return
	}
	now := d.now()
	plan, err := o.windowPlan(now)
	if err != nil {
		l.add("freshness", "", err)
		return
	}
	var latest time.Time
	if vs, ok := src.Source.(audit.VitalSource); ok {
		v, err := vs.Vitals(ctx, plan.Fixed)
		if err != nil {
			l.add("freshness", "", err)
			return
		}
		latest = v.Latest
	}
	newest := "the source holds no rows"
	if !latest.IsZero() {
		newest = fmt.Sprintf("newest received_at %s (%s ago)", latest.UTC().Format(time.RFC3339), audit.FormatAge(now.Sub(latest)))
	}
	if limit, ok := thresholds[audit.MetricFreshness]; ok && (latest.IsZero() || now.Sub(latest).Seconds() > limit) {
		l.add("freshness", "", fmt.Errorf("%s: older than freshness=%s in --fail-on, so the audit would fail; check the loader",
			newest, audit.FormatAge(time.Duration(limit*float64(time.Second)))))
	} else {
		l.add("freshness", newest, nil)
	}

	if plan.Incremental || src.Count == nil {
		l.add("window", "planned when the run starts (--incremental)", nil)
		return
	}
	n, err := src.Count(ctx, plan.Fixed)
	if err != nil {
		l.add("window", "", err)
		return
	}
	minRows := thresholds[audit.MetricMinRows]
	desc := fmt.Sprintf("%s rows in %s", reports.Count(n), reports.Window(plan.Fixed))
	if float64(n) < minRows {
		l.add("window", "", fmt.Errorf("%s: fewer than min_rows=%v, so the audit would fail; widen --since, or check --table and the loader", desc, minRows))
		return
	}
	l.add("window", desc, nil)
}
