package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/spf13/cobra"
)

type auditOptions struct {
	Warehouse     string
	Layout        string
	Table         string
	Source        string
	MessageIDCol  string
	ReceivedAtCol string
	PayloadCol    string
	ResultsSchema string
	Schemas       string
	Plan          string
	Since, Until  string
	Workers       int
	FailOn        []string
	WarnOn        []string
	Label         string
	Format        string
	DryRun        bool
	Validate      string
	Unplanned     string
	AssertFormat  bool
	OnBadSchema   string
	Events        map[string]string
	Incremental   bool
	Lookback      time.Duration
	Lag           time.Duration
	Shard         string
	LockTimeout   time.Duration
	MaxPayload    int
	Pushdown      string
	Profile       bool
	Slack         string
	SlackChannel  string
	SlackTop      int
	SlackLink     string
	HTML          string
	HTMLRuns      int
	MetricsPush   string
	MetricsFile   string
	Values        string
	valuesKey     string // secret: env or config only, never a flag
	// suppressions are the config's ignore: entries, expired ones too.
	suppressions []audit.Suppression
	slackWebhook string // secret: env or config only, never a flag
	slackToken   string // secret: env or config only, never a flag
	// sinceSet records whether --since came from the user rather than its
	// default: the first --incremental run must be told where to start.
	sinceSet bool
}

const auditExample = `  # Audit the last 24 hours of a DuckDB table against a schemas directory
  eventaudit audit --warehouse duckdb://events.duckdb --table segment_events \
    --schemas ./schemas --plan segment/shop --since 24h

  # A nightly job: fail (exit 1) when more than 1% of events are invalid
  eventaudit audit --config eventaudit.yml --since 2026-11-20 --until 2026-11-21 \
    --fail-on invalid_rate=0.01

  # Hourly from cron or Airflow: continue where the last run stopped, re-auditing
  # the last 2h for late events (the first run needs --since)
  eventaudit audit --config eventaudit.yml --incremental --since 2026-11-01

  # Fan one big window out over 4 tasks
  eventaudit audit --config eventaudit.yml --since 2026-11-20 --until 2026-11-21 --shard 2/4

  # Audit Segment's own warehouse layout (tracks, pages, identifies and one
  # table per event) in the schema its destination writes to
  eventaudit audit --config eventaudit.yml --layout segment --source web_prod --since 24h

  # Look without writing anything
  eventaudit audit --config eventaudit.yml --since 6h --dry-run --format markdown`

func newCmdAudit(d *deps, root *rootOptions, runF func(context.Context, *auditOptions) error) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Validate a window of Segment events and write the violations to the warehouse",
		Long: `Validate every Segment message received in a window against its event's JSON Schema.

Matching (first that applies): the validated object's schema_id; the config's events
mapping; the event name (track), page/screen name, then Page/Screen, Identify, Group.
The highest MAJOR-MINOR version wins. Messages with no schema are "unplanned".

Results go to <results-schema>.eventaudit_runs, eventaudit_violations,
eventaudit_event_stats and eventaudit_property_stats (what each event's properties
carried; drift from the plan is in every report) in one transaction; re-auditing a
window replaces its results.

Exit status: 0 within thresholds, 1 over a --fail-on threshold, 2 usage or
configuration error, 3 runtime error (warehouse, S3, write, source locked by another
run, Slack digest not delivered), 130 interrupted (nothing written).`,
		Example: auditExample,
		Args:    cobra.NoArgs,
		RunE:    withAuditOptions(d, root, o, runF, runAudit),
	}
	bindAuditFlags(binder{path: "audit", flags: cmd.Flags()}, o)
	return cmd
}

// withAuditOptions is the RunE of each command that takes audit's settings
// (audit, doctor, explain): it resolves them, then runs the command, or
// runF, the tests' seam, instead.
func withAuditOptions(d *deps, root *rootOptions, o *auditOptions, runF func(context.Context, *auditOptions) error,
	run func(context.Context, *deps, *auditOptions) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := o.resolve(root.set, root.cfg, d.getenv); err != nil {
			return err
		}
		if runF != nil {
			return runF(cmd.Context(), o)
		}
		return run(cmd.Context(), d, o)
	}
}

// bindAuditFlags declares audit's settings on b: audit's own flags, and
// doctor's, which checks what the same audit would meet.
func bindAuditFlags(b binder, o *auditOptions) {
	b.str(&o.Warehouse, "warehouse")
	b.str(&o.Layout, "layout")
	b.str(&o.Table, "table")
	b.str(&o.Source, "source")
	b.str(&o.MessageIDCol, "message-id-column")
	b.str(&o.ReceivedAtCol, "received-at-column")
	b.str(&o.PayloadCol, "payload-column")
	b.str(&o.ResultsSchema, "results-schema")
	b.str(&o.Schemas, "schemas")
	b.str(&o.Plan, "plan")
	b.str(&o.Since, "since")
	b.str(&o.Until, "until")
	b.integer(&o.Workers, "workers")
	b.list(&o.FailOn, "fail-on")
	b.list(&o.WarnOn, "warn-on")
	b.str(&o.Label, "label")
	b.str(&o.Format, "format")
	b.boolean(&o.DryRun, "dry-run")
	b.str(&o.Validate, "validate")
	b.str(&o.Unplanned, "unplanned")
	b.boolean(&o.AssertFormat, "assert-format")
	b.str(&o.OnBadSchema, "on-bad-schema")
	b.boolean(&o.Incremental, "incremental")
	b.duration(&o.Lookback, "lookback")
	b.duration(&o.Lag, "lag")
	b.str(&o.Shard, "shard")
	b.duration(&o.LockTimeout, "lock-timeout")
	b.integer(&o.MaxPayload, "max-payload-bytes")
	b.str(&o.Pushdown, "pushdown")
	b.boolean(&o.Profile, "profile")
	b.str(&o.Slack, "slack")
	b.str(&o.SlackChannel, "slack-channel")
	b.integer(&o.SlackTop, "slack-top")
	b.str(&o.SlackLink, "slack-link")
	b.str(&o.HTML, "html")
	b.integer(&o.HTMLRuns, "html-runs")
	b.str(&o.Values, "values")
	b.str(&o.MetricsPush, "metrics-push")
	b.str(&o.MetricsFile, "metrics-file")
}

// resolve takes, from the config file and the environment, what is not a
// setting (the events mapping, Slack's secrets), then checks the options
// together. The settings themselves were resolved before the command ran.
func (o *auditOptions) resolve(set resolved, cfg *fileConfig, getenv func(string) string) error {
	o.sinceSet = set.changed("since")
	o.slackWebhook = firstNonEmpty(getenv("SLACK_WEBHOOK_URL"), cfg.Slack.WebhookURL)
	o.slackToken = strings.TrimSpace(firstNonEmpty(getenv("SLACK_BOT_TOKEN"), cfg.Slack.BotToken))
	o.Events = cfg.Events
	o.valuesKey = firstNonEmpty(getenv("EVENTAUDIT_VALUES_KEY"), cfg.Values.Key)
	var err error
	if o.suppressions, err = cfg.suppressions(); err != nil {
		return usageError{err}
	}
	if o.slackWebhook != "" {
		hook, err := normalizeWebhook(o.slackWebhook)
		if err != nil {
			return usageError{err}
		}
		o.slackWebhook = hook
	}
	if err := o.checkEvents(set); err != nil {
		return err
	}
	switch {
	case o.Slack != "never" && set.changed("slack") && o.slackToken == "" && o.slackWebhook == "":
		// Asked for by name, a digest that cannot go anywhere must not
		// fail silently every night.
		return usageError{fmt.Errorf("--slack %s (from %s) but no Slack target: set SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN "+
			"and --slack-channel (or slack.webhook_url / slack.bot_token in the config), or use --slack never", o.Slack, set.from("slack"))}
	case o.Slack != "never" && o.slackToken != "" && o.slackWebhook == "" && o.SlackChannel == "":
		return usageError{errors.New("SLACK_BOT_TOKEN is set but no channel: pass --slack-channel (or set slack.channel)")}
	case o.Incremental && set.changed("until"):
		// Three runs in a row would audit the same window, each reporting
		// green, and the watermark would never move.
		return usageError{fmt.Errorf("--incremental ends each window at now minus --lag, but --until is set (from %s): remove until, or drop --incremental to audit a fixed window", set.from("until"))}
	case !validLabel(o.Label):
		return usageError{fmt.Errorf("--label %q: use up to 64 letters, digits, '.', '_' or '-', e.g. adhoc", o.Label)}
	case o.LockTimeout < time.Second:
		return usageError{fmt.Errorf("--lock-timeout %s: must be at least 1s", o.LockTimeout)}
	case o.values().Check() != nil:
		return usageError{fmt.Errorf("--values %s: %w: set EVENTAUDIT_VALUES_KEY (or values.key in the config, from ${A_SECRET}) to a random secret kept "+
			"the same across runs, e.g. openssl rand -hex 32", o.Values, o.values().Check())}
	case o.HTMLRuns < 1:
		return usageError{fmt.Errorf("--html-runs %d: must be at least 1 (the run itself)", o.HTMLRuns)}
	}
	return nil
}

// checkEvents checks the settings that say where the events are, which
// every command reading them shares.
func (o *auditOptions) checkEvents(set resolved) error {
	switch {
	case o.Warehouse == "":
		return usageError{errors.New("no warehouse: pass --warehouse duckdb://PATH (or postgres://…), set EVENTAUDIT_WAREHOUSE, or put warehouse: in eventaudit.yml")}
	case o.Layout == "raw" && o.Table == "":
		return usageError{errors.New("no table: pass --table with the raw Segment events table, or set table.name in eventaudit.yml (for Segment's own layout, pass --layout segment --source SCHEMA)")}
	case o.Layout == "segment" && o.Source == "":
		return usageError{errors.New("--layout segment needs --source: the schema Segment's warehouse destination writes the source to, e.g. web_prod")}
	case o.Layout == "segment" && o.Validate == string(audit.ValidateMessage):
		return usageError{errors.New("--validate message needs --layout raw: Segment's layout keeps the envelope flattened (context_* columns), and eventaudit rebuilds only properties and traits")}
	case o.Layout == "segment" && o.Table != "" && set.from("table") == fromFlag:
		return usageError{errors.New("--table is for --layout raw; with --layout segment, name the schema with --source")}
	case o.Workers < 0:
		return usageError{fmt.Errorf("--workers %d: must be 0 (all CPUs) or more", o.Workers)}
	case o.MaxPayload < 1024:
		return usageError{fmt.Errorf("--max-payload-bytes %d: must be at least 1024", o.MaxPayload)}
	}
	return nil
}

// activeSuppressions are the ignore: entries in force at now; each
// expired one warns, since its violations count again.
func (o *auditOptions) activeSuppressions(d *deps, now time.Time) []audit.Suppression {
	var active []audit.Suppression
	for _, s := range o.suppressions {
		if s.Expired(now) {
			d.logger.Warn("an ignore entry has expired; its violations count again: fix the problem, or extend until",
				"entry", s.Entry, "until", s.Until.AddDate(0, 0, -1).Format(time.DateOnly), "reason", s.Reason)
			continue
		}
		active = append(active, s)
	}
	return active
}

// values is what violations keep of offending values.
func (o *auditOptions) values() audit.ValuePolicy {
	return audit.ValuePolicy{Mode: audit.ValueMode(o.Values), Key: []byte(o.valuesKey)}
}

func validLabel(l string) bool {
	return len(l) <= 64 && !strings.ContainsFunc(l, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-'))
	})
}

// normalizeWebhook trims the webhook (a secret read from a file ends in a
// newline), lower-cases its scheme, and refuses one that cannot be a URL.
// Its errors never quote the URL: url.Parse's would.
func normalizeWebhook(raw string) (string, error) {
	hook := strings.TrimSpace(raw)
	if strings.ContainsFunc(hook, unicode.IsControl) || strings.ContainsFunc(hook, unicode.IsSpace) {
		return "", errors.New("the Slack webhook URL (SLACK_WEBHOOK_URL or slack.webhook_url) contains control characters or spaces; fix the secret (its value is not printed)")
	}
	u, err := url.Parse(hook)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && !strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) || u.Host == "" {
		return "", errors.New("the Slack webhook URL (SLACK_WEBHOOK_URL or slack.webhook_url) is not an http(s) URL; copy it again from Slack's app settings (its value is not printed)")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u.String(), nil
}

func (o *auditOptions) slackOptions() reports.SlackOptions {
	return reports.SlackOptions{TopN: o.SlackTop, LinkTemplate: o.SlackLink,
		ViolationsTable: warehouse.ResultsTable(o.ResultsSchema, warehouse.ViolationsTable)}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// runAudit audits, reports, writes the HTML page, then posts the Slack
// digest. A page or digest that cannot be delivered turns the exit status
// into 3, after the results are committed, so an orchestrator's retry
// re-audits (idempotently) and delivers them.
func runAudit(ctx context.Context, d *deps, o *auditOptions) error {
	d.secrets.Add(o.slackWebhook, o.slackToken, o.valuesKey)
	done, err := executeAudit(ctx, d, o)
	var summary *audit.Summary
	var pageErr error
	if err == nil {
		summary = done.summary
		err = reports.Render(d.stdout, o.Format, summary, reports.Options{
			ViolationsTable: warehouse.ResultsTable(o.ResultsSchema, warehouse.ViolationsTable),
			DryRun:          o.DryRun,
			Slack:           o.slackOptions(),
		})
		if err == nil && o.HTML != "" {
			pageErr = o.writeHTML(ctx, d, done)
		}
		o.deliverMetrics(ctx, d, summary)
	}
	err = notifySlack(ctx, d, o, summary, err)
	if pageErr != nil && (err == nil || errors.Is(err, errThreshold)) {
		return pageErr
	}
	return err
}

// audited is a finished audit and what its HTML page needs besides.
type audited struct {
	summary *audit.Summary
	results *warehouse.Results
	// history holds the runs the page's trend compares with, read while
	// the warehouse was open, when --html is set.
	history    []audit.RunStats
	historyErr error
}

func executeAudit(ctx context.Context, d *deps, o *auditOptions) (*audited, error) {
	thresholds, err := o.failThresholds()
	if err != nil {
		return nil, err
	}
	warnings, err := audit.ParseThresholds(o.WarnOn)
	if err != nil {
		return nil, usageError{fmt.Errorf("--warn-on: %w", err)}
	}
	now := d.now()
	shard, err := audit.ParseShard(o.Shard)
	if err != nil {
		return nil, usageError{fmt.Errorf("--shard: %w", err)}
	}
	// Checks the source's name (and settles --source) before connecting;
	// the run is recorded under the name the warehouse resolves it to.
	if _, err := o.sourceName(); err != nil {
		return nil, err
	}
	// Fail on a bad window before loading schemas or connecting.
	plan, err := o.windowPlan(now)
	if err != nil {
		return nil, err
	}
	reg, broken, err := loadRegistry(ctx, d, o.Schemas, o.Plan, o.AssertFormat, o.OnBadSchema == "skip")
	if err != nil {
		return nil, err
	}
	for _, b := range broken {
		d.logger.Warn("schema file does not compile; skipped (--on-bad-schema skip)", "file", b.File, "err", b.Err)
	}
	if problems := o.planProblems(reg); len(problems) > 0 {
		return nil, audit.Configf(problems[0])
	}

	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if err != nil {
		return nil, err
	}
	defer wh.Close()

	matcher := o.matcher(reg)
	// Any spelling of the table is one source: its locks, its history and
	// the results a re-run replaces are the catalog's name's.
	src, err := o.openSource(ctx, wh, reg, matcher, shard)
	if err != nil {
		return nil, err
	}
	pushdown, err := o.pushdownPlan(ctx, src, matcher, reg)
	if err != nil {
		return nil, err
	}
	var notCheckable []string
	if o.Layout == "segment" {
		notCheckable = segmentNotCheckable(reg)
	}
	sourceName := src.Name
	runID := d.newRunID(now)
	logger := d.logger.With("run_id", runID)
	// Every later line carries the run id, the final error's too.
	d.logger = logger
	results := wh.Results(o.ResultsSchema, d.now)
	job := &audit.Job{
		Auditor: &audit.Auditor{
			Source:               src.Source,
			Matcher:              matcher,
			Workers:              o.Workers,
			UnplannedIsViolation: o.Unplanned == "fail",
			Thresholds:           thresholds,
			Warnings:             warnings,
			Logger:               logger,
			Now:                  d.now,
			MaxPayloadBytes:      o.MaxPayload,
			Redact:               d.redact,
			Values:               o.values(),
			Findings:             brokenSchemaFindings(broken),
			Pushdown:             pushdown,
			Profile:              o.profiling(logger, pushdown),
			Suppressions:         o.activeSuppressions(d, now),
			NewViolationsFrom:    results,
		},
		Store:     results,
		Plan:      plan,
		DryRun:    o.DryRun,
		LockTTL:   o.LockTimeout,
		Spellings: legacySpellings(o, sourceName),
		Logger:    logger,
	}
	var finished *audit.Run
	if d.isTTY(d.stderr) {
		p := newProgress(d.stderr, d.now)
		p.proving = pushdown != nil
		job.Auditor.Progress = p.update
		p.keepDrawing(redrawEvery)
		defer func() { p.done(finished) }()
		// The total, for an ETA, costs one COUNT(*): worth it for a person
		// watching, not for a scheduled job, which has no TTY.
		if src.Count != nil {
			job.Planned = func(ctx context.Context, w audit.Window) {
				go func() {
					if n, err := src.Count(ctx, w); err == nil {
						p.setTotal(n)
					}
				}()
			}
		}
	}
	summary, err := job.Run(ctx, audit.Run{RunID: runID, Source: sourceName, Shard: shard,
		SchemasDigest: reg.Digest(), Version: version, Label: o.Label})
	if errors.Is(err, audit.ErrNoWatermark) {
		return nil, usageError{fmt.Errorf("the first --incremental run of %s needs --since: there is no earlier run to continue from", sourceName)}
	}
	if err != nil {
		return nil, err
	}
	finished = &summary.Run
	summary.NotCheckable = notCheckable
	done := &audited{summary: summary, results: results}
	if o.HTML != "" {
		done.history, done.historyErr = done.results.History(ctx, summary.Run, o.HTMLRuns-1)
	}
	return done, nil
}

// profiling is the run's property profile, or nil: rows a pushdown
// proves valid never leave the warehouse, so they cannot be profiled.
func (o *auditOptions) profiling(logger *slog.Logger, pushdown *audit.PushdownPlan) *audit.Profiling {
	if !o.Profile {
		return nil
	}
	if pushdown != nil && pushdown.Provable() {
		logger.Info("no property profile this run: the rows the warehouse proves valid never leave it (--pushdown on)")
		return nil
	}
	return &audit.Profiling{Limits: audit.DefaultProfileLimits}
}

// failThresholds are --fail-on's limits, with min_rows=1 unless it is set:
// an empty window fails unless the user says it may be empty.
func (o *auditOptions) failThresholds() (audit.Thresholds, error) {
	thresholds, err := audit.ParseThresholds(o.FailOn)
	if err != nil {
		return nil, usageError{fmt.Errorf("--fail-on: %w", err)}
	}
	if _, set := thresholds[audit.MetricMinRows]; !set {
		thresholds[audit.MetricMinRows] = 1
	}
	return thresholds, nil
}

// planProblems are what makes a loaded plan unusable for this audit: event
// names that several plans define, and an events mapping to a schema that
// is not loaded.
func (o *auditOptions) planProblems(reg *schemas.Registry) []error {
	var problems []error
	if amb := reg.Ambiguities(); len(amb) > 0 {
		problems = append(problems, fmt.Errorf("event names are ambiguous across plans; pass --plan (one of: %s):\n  %s",
			strings.Join(reg.Plans(), ", "), strings.Join(amb, "\n  ")))
	}
	for _, name := range slices.Sorted(maps.Keys(o.Events)) {
		if id := o.Events[name]; !hasSchema(reg, id) {
			problems = append(problems, fmt.Errorf("config events: %q maps to schema %q, which is not in %s", name, id, o.Schemas))
		}
	}
	return problems
}

func hasSchema(reg *schemas.Registry, id string) bool {
	_, ok := reg.ByID(id)
	return ok
}

func (o *auditOptions) matcher(reg *schemas.Registry) *audit.Matcher {
	return &audit.Matcher{Catalog: reg, EventSchemas: o.Events, Target: audit.ValidateTarget(o.Validate)}
}

// openSource opens the raw table, or Segment's layout in --source, which
// the matcher reads through the plan.
func (o *auditOptions) openSource(ctx context.Context, wh *warehouse.Warehouse, reg *schemas.Registry, matcher *audit.Matcher, shard audit.Shard) (*warehouse.Source, error) {
	if o.Layout == "segment" {
		return wh.SegmentSource(ctx, o.Source, reg.EventNames(), matcher, shard)
	}
	return wh.RawSource(ctx, warehouse.RawTable{Table: o.Table, MessageID: o.MessageIDCol,
		ReceivedAt: o.ReceivedAtCol, Payload: o.PayloadCol}, shard)
}

// pushdownChoice is what a --pushdown setting makes of a source: the plan,
// its rendering, and whether the run proves rows with it, and why.
type pushdownChoice struct {
	plan   audit.PushdownPlan
	proof  warehouse.Proof // zero where the source cannot prove rows
	use    bool
	reason string
}

// choosePushdown decides whether the run proves rows in the warehouse.
// With --pushdown on, a source that cannot is a usage error saying why.
func (o *auditOptions) choosePushdown(ctx context.Context, src *warehouse.Source, matcher *audit.Matcher, reg *schemas.Registry) (pushdownChoice, error) {
	// The plan as the run will send it, so that explain shows that statement.
	c := pushdownChoice{plan: matcher.PushdownPlan(reg.EventNames()).ForRun(o.MaxPayload, o.Unplanned == "fail")}
	var err error
	if src.Proof == nil {
		err = fmt.Errorf("%w: the %s layout cannot prove rows in the warehouse yet", warehouse.ErrNotProvable, o.Layout)
	} else {
		c.proof, err = src.Proof(ctx, c.plan)
	}
	switch {
	case errors.Is(err, warehouse.ErrNotProvable) && o.Pushdown == "on":
		return c, usageError{fmt.Errorf("--pushdown on: %w; use --pushdown auto or off", err)}
	case errors.Is(err, warehouse.ErrNotProvable):
		c.reason = err.Error()
	case err != nil:
		return c, err
	case o.Pushdown == "off":
		c.reason = "--pushdown off"
	case !c.plan.Provable():
		c.reason = "no schema of the plan can be proven in SQL"
	case o.Pushdown == "auto" && !c.proof.Pays:
		c.reason = "--pushdown auto uses it only where it pays, and here " + c.proof.Why
	case o.Pushdown == "auto" && o.Profile:
		// Never drop the drift report by default: proven rows are not seen.
		c.reason = "--pushdown auto leaves every row to Go while the run keeps a property profile, which needs them all; " +
			"with --profile=false it would prove rows here: " + c.proof.Why
	case o.Pushdown == "auto":
		c.use, c.reason = true, c.proof.Why
	default:
		c.use, c.reason = true, "--pushdown on"
	}
	return c, nil
}

// pushdownPlan is the plan the run proves rows with in the warehouse, or
// nil.
func (o *auditOptions) pushdownPlan(ctx context.Context, src *warehouse.Source, matcher *audit.Matcher, reg *schemas.Registry) (*audit.PushdownPlan, error) {
	if o.Pushdown == "off" {
		// No catalog query for a run that will not use it.
		return nil, nil
	}
	c, err := o.choosePushdown(ctx, src, matcher, reg)
	if err != nil || !c.use {
		return nil, err
	}
	return &c.plan, nil
}

// legacySpellings are the names this run's source may have been recorded
// under before sources were resolved through the catalog: what the user
// typed.
func legacySpellings(o *auditOptions, canonical string) []string {
	typed := warehouse.SegmentSourceName(o.Source)
	if o.Layout != "segment" {
		var err error
		if typed, err = warehouse.TableName(o.Table); err != nil {
			return nil
		}
	}
	if typed == canonical {
		return nil
	}
	return []string{typed}
}

// sourceLabel names the source as the user gave it, for a digest about a
// run that may have failed before the catalog was read.
func (o *auditOptions) sourceLabel() string {
	if o.Layout == "segment" {
		return warehouse.SegmentSourceName(o.Source)
	}
	return o.Table
}

// sourceName names what the run audits, in eventaudit_runs.source: the raw
// table, or "segment:SCHEMA" for Segment's layout.
func (o *auditOptions) sourceName() (string, error) {
	if o.Layout == "segment" {
		schema, err := warehouse.SchemaName(o.Source)
		if err != nil {
			return "", usageError{fmt.Errorf("--source %q: name one schema, e.g. web_prod", o.Source)}
		}
		o.Source = schema
		return warehouse.SegmentSourceName(schema), nil
	}
	table, err := warehouse.TableName(o.Table)
	if err != nil {
		return "", usageError{fmt.Errorf("--table: %w", err)}
	}
	return table, nil
}

// windowPlan is [--since, --until), or with --incremental [last end -
// lookback, now - lag), where "last end" is the watermark the job reads
// once it holds the lock; --since starts the first incremental run.
func (o *auditOptions) windowPlan(now time.Time) (audit.WindowPlan, error) {
	if !o.Incremental {
		w, err := parseWindow(o.Since, o.Until, now)
		return audit.WindowPlan{Fixed: w}, err
	}
	p := audit.WindowPlan{Incremental: true, Lookback: o.Lookback, End: now.Add(-o.Lag).UTC()}
	if o.Until != "now" && o.Until != "" {
		end, err := parseTime(o.Until, now)
		if err != nil {
			return p, usageError{fmt.Errorf("--until %w", err)}
		}
		p.End = end
	}
	if o.sinceSet {
		first, err := parseTime(o.Since, now)
		if err != nil {
			return p, usageError{fmt.Errorf("--since %w", err)}
		}
		p.First = first
	}
	return p, nil
}

// newRunID is sortable by start time and unique across concurrent runs.
func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
