package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/template"

	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

type initOptions struct {
	Warehouse string
	Table     string
	Schemas   string
	Plan      string
	Out       string
	Force     bool
}

func newCmdInit(d *deps, root *rootOptions, runF func(context.Context, *initOptions) error) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented eventaudit.yml with safe thresholds, then check it as doctor does",
		Long: `Write a commented eventaudit.yml for a nightly audit: the warehouse, table and schemas
you pass, and thresholds that never report green by mistake (an empty window fails,
the newest event must be under 6 hours old, more than 5% invalid fails, 1% warns).

A password in --warehouse is not written: the file says which environment variable
to set instead. With a warehouse and a table, init then runs doctor's checks on the
new file. It never overwrites a file unless --force is given.`,
		Example: `  eventaudit init --warehouse duckdb://events.duckdb --table segment_events --schemas ./schemas --plan segment/shop
  eventaudit init --warehouse postgres://auditor@warehouse:5432/analytics --table segment.raw_events --out jobs/eventaudit.yml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runInit(cmd.Context(), d, o)
		},
	}
	b := binder{path: "init", flags: cmd.Flags()}
	b.str(&o.Warehouse, "warehouse")
	b.str(&o.Table, "table")
	b.str(&o.Schemas, "schemas")
	b.str(&o.Plan, "plan")
	b.str(&o.Out, "out")
	b.boolean(&o.Force, "force")
	return cmd
}

// threshold is one line of init's fail_on or warn_on, with why it is there.
type threshold struct{ Spec, Why string }

// The thresholds init writes, and then checks the new file against.
var (
	initFailOn = []threshold{
		{"min_rows=1", "an empty window fails: a stalled loader, the wrong table, a timezone slip"},
		{"freshness=6h", "the newest event must be at most 6 hours old when the run starts"},
		{"invalid_rate=0.05", "more than 5% of events invalid"},
	}
	initWarnOn = []threshold{
		{"invalid_rate=0.01", "more than 1% invalid: worth a look"},
		{"duplicate_rate=0.001", "repeated message_ids: a loader that appends twice"},
	}
)

func specs(ts []threshold) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Spec)
	}
	return out
}

func runInit(ctx context.Context, d *deps, o *initOptions) error {
	warehouseURL, passwordEnv := withoutPassword(o.Warehouse)
	d.secrets.Add(warehouse.Secrets(o.Warehouse)...)
	text, err := initConfig(warehouseURL, passwordEnv, o)
	if err != nil {
		return err
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.Force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(o.Out, flag, 0o644)
	if errors.Is(err, os.ErrExist) {
		return usageError{fmt.Errorf("%s exists; pass --force to overwrite it, or --out to write elsewhere", o.Out)}
	}
	if err != nil {
		return usageError{fmt.Errorf("write the config: %w", err)}
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", o.Out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", o.Out, err)
	}
	fmt.Fprintf(d.stdout, "wrote %s\n", o.Out)
	if passwordEnv != "" {
		fmt.Fprintf(d.stdout, "the password is not in it: export %s before running eventaudit\n", passwordEnv)
	}
	if o.Warehouse == "" || o.Table == "" {
		fmt.Fprintf(d.stdout, "next: set warehouse and table in %s, then run: eventaudit doctor --config %s\n", o.Out, o.Out)
		return nil
	}
	fmt.Fprintf(d.stdout, "checking it, as eventaudit doctor --config %s does:\n", o.Out)
	a := defaultAuditOptions()
	a.Warehouse, a.Table, a.Schemas, a.Plan = o.Warehouse, o.Table, o.Schemas, o.Plan
	a.FailOn, a.WarnOn = specs(initFailOn), specs(initWarnOn)
	if err := a.resolve(resolved{}, &fileConfig{}, d.getenv); err != nil {
		return err
	}
	return runDoctor(ctx, d, a)
}

// defaultAuditOptions are audit's settings at their defaults.
func defaultAuditOptions() *auditOptions {
	o := &auditOptions{}
	bindAuditFlags(binder{path: "audit", flags: pflag.NewFlagSet("audit", pflag.ContinueOnError)}, o)
	return o
}

// withoutPassword removes a password from a warehouse URL, and names the
// variable the driver reads it from instead.
func withoutPassword(raw string) (string, string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, ""
	}
	if _, has := u.User.Password(); !has {
		return raw, ""
	}
	u.User = url.User(u.User.Username())
	env := "PGPASSWORD"
	if u.Scheme == "snowflake" {
		env = "SNOWFLAKE_PASSWORD"
	}
	return u.String(), env
}

var initTemplate = template.Must(template.New("eventaudit.yml").Parse(`# eventaudit.yml, written by eventaudit init. Every key is optional: a flag, or its
# EVENTAUDIT_* variable, overrides it (eventaudit audit --help lists them). Secrets
# never go here as values: write ${VAR} and set VAR in the job's environment.

{{if .Warehouse}}warehouse: {{.Warehouse}}{{else}}warehouse: duckdb://events.duckdb   # or postgres://USER@HOST:5432/DB, redshift://…, snowflake://USER@ACCOUNT/DB/SCHEMA?warehouse=WH{{end}}
{{- if .PasswordEnv}}   # the password comes from {{.PasswordEnv}}{{end}}
table:
  name: {{if .Table}}{{.Table}}{{else}}segment.raw_events   # the raw events: one JSON payload per row{{end}}
  message_id: message_id
  received_at: received_at
  payload: payload
results_schema: eventaudit    # the schema of the result tables, created by the first audit

schemas: {{.Schemas}}
{{if .Plan}}plan: {{.Plan}}{{else}}# plan: segment/shop          # audit against one plan only{{end}}

# A nightly window; for hourly runs, use incremental: true and drop since.
since: 24h

# Thresholds that never report green by mistake. A metric over a fail_on limit
# exits 1 and posts to Slack; one over a warn_on limit posts and exits 0.
fail_on:
{{- range .FailOn}}
  - {{printf "%-20s" .Spec}}  # {{.Why}}
{{- end}}
warn_on:
{{- range .WarnOn}}
  - {{printf "%-20s" .Spec}}  # {{.Why}}
{{- end}}

# A Slack digest when a threshold is crossed: uncomment one target.
# slack:
#   mode: failure       # always | failure (the default) | never
#   webhook_url: ${SLACK_WEBHOOK_URL}
#   # or a bot token and a channel:
#   # bot_token: ${SLACK_BOT_TOKEN}
#   # channel: "#data-quality"
`))

// initConfig renders the config, quoting each value as YAML needs.
func initConfig(warehouseURL, passwordEnv string, o *initOptions) (string, error) {
	q := func(s string) string {
		if s == "" {
			return ""
		}
		b, _ := yaml.Marshal(s)
		return strings.TrimSuffix(string(b), "\n")
	}
	var buf bytes.Buffer
	err := initTemplate.Execute(&buf, map[string]any{"Warehouse": q(warehouseURL), "PasswordEnv": passwordEnv,
		"Table": q(o.Table), "Schemas": q(o.Schemas), "Plan": q(o.Plan), "FailOn": initFailOn, "WarnOn": initWarnOn})
	return buf.String(), err
}
