package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// setting binds one option once: its flag, its config key, its default and
// its help. Its environment variable is derived from the flag
// (--max-payload-bytes is EVENTAUDIT_MAX_PAYLOAD_BYTES). A flag the user
// set wins, then the environment, then the config file, then the default;
// values from the environment and the file are parsed by the flag itself,
// so every layer accepts the same forms.
type setting struct {
	// cmd is the command path the setting belongs to ("audit",
	// "schemas list"); "" is every command with a flag of that name.
	cmd  string
	flag string
	// config is the key in eventaudit.yml, dotted for nested keys; "" is
	// none (a setting about one invocation, or a flag whose meaning
	// differs between commands).
	config string
	def    any // string, int, float64, bool, []string or time.Duration
	help   string
	// choices, when set, are the only values accepted.
	choices []string
}

// env is the setting's environment variable.
func (s setting) env() string {
	return "EVENTAUDIT_" + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_"))
}

// settingsTable is every setting of every command.
func settingsTable() []setting {
	return []setting{
		// Where the events are.
		{flag: "warehouse", config: "warehouse", def: "", help: "warehouse URL: duckdb://PATH, postgres://…, redshift://… or snowflake://USER@ACCOUNT/DB/SCHEMA?warehouse=WH (credentials from SNOWFLAKE_PRIVATE_KEY_FILE, SNOWFLAKE_PASSWORD or SNOWFLAKE_TOKEN)"},
		{cmd: "audit", flag: "layout", config: "layout", def: "raw", choices: []string{"raw", "segment"},
			help: "how the events are stored: raw (one JSON payload per row, --table) or segment (Segment's warehouse destination: tracks, pages, identifies, one table per event, --source)"},
		{cmd: "audit", flag: "table", config: "table.name", def: "", help: "raw events table, schema-qualified allowed"},
		{cmd: "load", flag: "table", config: "table.name", def: "", help: "table to create or append to"},
		{cmd: "audit", flag: "source", config: "source", def: "", help: "with --layout segment: the schema Segment loads the source into, e.g. web_prod"},
		{cmd: "audit", flag: "message-id-column", config: "table.message_id", def: "message_id", help: "column holding the message id"},
		{cmd: "audit", flag: "received-at-column", config: "table.received_at", def: "received_at", help: "column holding the receive time the window filters on"},
		{cmd: "audit", flag: "payload-column", config: "table.payload", def: "payload", help: "column holding the message JSON (JSON, JSONB, SUPER, VARIANT or text)"},
		{flag: "results-schema", config: "results_schema", def: "eventaudit", help: `schema holding the result tables, created if missing ("" is the connection's default schema)`},
		// What they must look like.
		{flag: "schemas", config: "schemas", def: "schemas", help: "schemas directory of a Reflekt-style project or Iglu repository, or s3://BUCKET/PREFIX"},
		{flag: "plan", config: "plan", def: "", help: "only schemas under this prefix, e.g. segment/shop"},
		{cmd: "audit", flag: "validate", config: "validate", def: "object", choices: []string{"object", "message"}, help: "what to validate: object (properties/traits) or message (the whole message)"},
		{cmd: "audit", flag: "unplanned", config: "unplanned", def: "allow", choices: []string{"allow", "fail"}, help: "unplanned events: allow (count and list them) or fail (each is a violation)"},
		{cmd: "audit", flag: "on-bad-schema", config: "on_bad_schema", def: "fail", choices: []string{"fail", "skip"},
			help: "a schema file that does not compile: fail (exit 2 before reading an event) or skip (audit the rest; the file is a finding of the run and its event's messages count as unplanned)"},
		{cmd: "audit", flag: "assert-format", config: "assert_format", def: false, help: `treat JSON Schema "format" as an assertion (off, as in Python's jsonschema)`},
		{cmd: "audit", flag: "max-payload-bytes", config: "max_payload_bytes", def: 1 << 20, help: "a payload larger than this is a violation and is not parsed, so one huge row cannot take the run's memory (Segment's own limit is 32 KB)"},
		// Which rows.
		{cmd: "audit", flag: "since", config: "since", def: "24h", help: "window start: RFC 3339, a date, or a duration back from now (24h, 7d)"},
		{cmd: "audit", flag: "until", config: "until", def: "now", help: "window end (exclusive), same forms as --since"},
		{cmd: "audit", flag: "incremental", config: "incremental", def: false, help: "start where the last completed run of this source (and shard and label) ended, minus --lookback; end at now minus --lag (--until is then a usage error: the run owns its window's end)"},
		{cmd: "audit", flag: "lookback", config: "lookback", def: 2 * time.Hour, help: "with --incremental: re-audit this much before the last run's end, for late-arriving events"},
		{cmd: "audit", flag: "lag", config: "lag", def: 5 * time.Minute, help: "with --incremental: stop this long before now, for events still loading"},
		{cmd: "audit", flag: "shard", def: "", help: "audit only the rows whose message_id hashes to shard K of N (K/N, 0 <= K < N)"},
		// How the run behaves.
		{cmd: "audit", flag: "pushdown", config: "pushdown", def: "auto", choices: []string{"auto", "on", "off"},
			help: "prove rows valid in the warehouse's SQL, so that only the rest leave it: auto (where measured to pay, in a run that keeps no --profile: today Segment's layout on Postgres and DuckDB), on (wherever eventaudit can: Segment's layout, Postgres jsonb, DuckDB; an error where it cannot) or off; results are the same either way"},
		{cmd: "audit", flag: "profile", config: "profile", def: true,
			help: "profile what each event carries (eventaudit_property_stats) and report drift from the plan: properties sent but not in it, plan properties never seen, mixed types; a run that proves rows with --pushdown keeps none"},
		{cmd: "audit", flag: "workers", config: "workers", def: 0, help: "validator goroutines (default: number of CPUs)"},
		{cmd: "audit", flag: "lock-timeout", config: "lock_timeout", def: 5 * time.Minute, help: "this run's lock on its source expires this long after its last heartbeat (renewed every tenth of it, at most every 30s), so a crashed run blocks the next for at most this long; a waiting run honours the holder's expiry, not its own"},
		{cmd: "audit", flag: "dry-run", def: false, help: "validate and report, write nothing"},
		{cmd: "audit", flag: "fail-on", config: "fail_on", def: []string(nil), help: "exit 1 when a metric exceeds a limit: invalid_rate=0.01, invalid_rows=N, violations=N, new_violations=N (failures no earlier run of the source had), unplanned=N, duplicate_rate=0.001, freshness=2h (the newest received_at is older); or when fewer rows than min_rows=N were scanned (default 1: an empty window fails; min_rows=0 allows it)"},
		{cmd: "audit", flag: "warn-on", config: "warn_on", def: []string(nil), help: "the same metrics as --fail-on, as warnings: shown, posted to Slack, status warned, exit 0"},
		{cmd: "audit", flag: "label", config: "label", def: "", help: "keep this run apart in the history, e.g. adhoc: its trend and --incremental watermark come only from runs of the same label (a nightly job leaves it empty)"},
		// What it reports.
		{cmd: "audit", flag: "format", config: "format", def: reports.FormatTable, choices: reports.FormatNames(), help: "report format: " + reports.FormatHelp()},
		{cmd: "runs", flag: "format", def: reports.FormatTable, choices: reports.ListFormats(), help: "output format"},
		{cmd: "schemas list", flag: "format", def: reports.FormatTable, choices: reports.ListFormats(), help: "output format"},
		{cmd: "schemas check", flag: "format", def: reports.FormatTable, choices: reports.FindingFormats(),
			help: "output format: table, json, sarif (for GitHub code scanning) or github (annotations in a workflow's log)"},
		{cmd: "audit", flag: "slack", config: "slack.mode", def: "failure", choices: []string{"always", "failure", "never"}, help: "post a Slack digest: always, failure (over --fail-on or --warn-on, or a runtime error) or never; needs SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN and --slack-channel"},
		{cmd: "audit", flag: "slack-channel", config: "slack.channel", def: "", help: "channel for the bot-token digest"},
		{cmd: "audit", flag: "slack-top", config: "slack.top", def: 10, help: "failing events listed in the digest"},
		{cmd: "audit", flag: "slack-link", config: "slack.link", def: "", help: "link in the digest's footer instead of SQL, {run_id} and {source} substituted, e.g. https://bi.example.com/audit?run={run_id}"},
		{cmd: "audit", flag: "html", config: "html.out", def: "",
			help: "also write the run as one self-contained HTML page, with its trend: a file, or s3://BUCKET/KEY; {run_id} and {source} are substituted (e.g. s3://bi-reports/eventaudit/{run_id}.html, then --slack-link to its URL)"},
		{cmd: "audit", flag: "html-runs", config: "html.runs", def: 30, help: "runs the HTML page's trend covers, this one included"},
		{cmd: "audit", flag: "values", config: "values.mode", def: string(audit.ValuesKeep), choices: audit.ValueModes(),
			help: "what violations keep of the offending value, in the violations table and every report: keep, redact (strings masked), hash (a keyed SHA-256 prefix; needs EVENTAUDIT_VALUES_KEY or values.key) or types (JSON type and length)"},
		{cmd: "audit", flag: "metrics-push", config: "metrics.push", def: "",
			help: "push the run's metrics to this Prometheus Pushgateway (job eventaudit, grouped by source, shard and label); an unreachable gateway only warns"},
		{cmd: "audit", flag: "metrics-file", config: "metrics.file", def: "",
			help: "write the run's metrics in the OpenMetrics text format to this file, for node_exporter's textfile collector (name it *.prom; {source} is substituted); a failed write only warns"},
		{cmd: "report", flag: "html", config: "html.out", def: "", help: "where to write the page (required): a file, or s3://BUCKET/KEY; {run_id} and {source} are substituted"},
		{cmd: "report", flag: "runs", config: "html.runs", def: 30, help: "runs the trend covers, the drawn one included"},
		{cmd: "report", flag: "run", def: "", help: "the run to draw (default: the newest, of --source when given); eventaudit runs lists them"},
		{cmd: "report", flag: "source", def: "", help: "with no --run: draw this source's newest run (a table, or segment:SCHEMA)"},
		{cmd: "dbt", flag: "project", def: ".", help: "the dbt project's folder (with dbt_project.yml); the file goes to models/NAME/_NAME__sources.yml"},
		{cmd: "dbt", flag: "out", def: "", help: "write the file here instead (- prints it)"},
		{cmd: "dbt", flag: "name", def: "eventaudit", help: "the dbt source name, as in source('eventaudit', …)"},
		{cmd: "dbt", flag: "database", config: "dbt.database", def: "", help: "the database (Snowflake) holding the results schema; empty uses dbt's target"},
		// The other commands' own.
		{cmd: "runs", flag: "source", def: "", help: "only runs of this source (a table, or segment:SCHEMA)"},
		{cmd: "runs", flag: "limit", def: 20, help: "how many runs"},
		{cmd: "query", flag: "limit", def: 1000, help: "print at most this many rows"},
		{cmd: "query", flag: "format", def: reports.FormatTable, choices: reports.ListFormats(), help: "output format"},
		{cmd: "load", flag: "payload-type", def: "", help: "SQL type of a new table's payload column (default: the warehouse's text type, which can also hold malformed rows)"},
		{cmd: "load", flag: "replace", def: false, help: "drop the table first"},
		{cmd: "schemas infer", flag: "out", def: "", help: "the schemas directory to write into (required); files go to OUT/PLAN/EVENT/1-0.json and are never overwritten"},
		{cmd: "schemas infer", flag: "events", def: []string(nil), help: "only these events (track names, or page, screen, identify, group)"},
		{cmd: "schemas infer", flag: "required-share", def: 1.0, help: "a property sent in at least this share of its objects is required (1: only those always sent)"},
		{cmd: "schemas infer", flag: "enum-max", def: 10, help: "a string property with at most this many distinct values, each seen at least 5 times, becomes an enum"},
		{cmd: "schemas infer", flag: "vendor", def: "", help: "self.vendor of the written schemas (default: the plan's, else com.example)"},
		{cmd: "init", flag: "table", def: "", help: "the raw events table the config audits"},
		{cmd: "init", flag: "out", def: "eventaudit.yml", help: "where to write the config"},
		{cmd: "init", flag: "force", def: false, help: "overwrite an existing config file"},
	}
}

// lookupSetting finds the setting of a flag of the command at path.
func lookupSetting(path, flag string) (setting, bool) {
	switch path {
	case "doctor", "explain":
		// doctor checks what an audit with the same settings would meet,
		// and explain what it would prove in SQL, so both take audit's,
		// from the same flags, variables and keys.
		path = "audit"
	case "schemas infer":
		// infer reads the events an audit reads, with audit's settings,
		// beside its own.
		for _, s := range settingsTable() {
			if s.cmd == path && s.flag == flag {
				return s, true
			}
		}
		path = "audit"
	}
	var general *setting
	for _, s := range settingsTable() {
		if s.flag != flag {
			continue
		}
		if s.cmd == path {
			return s, true
		}
		if s.cmd == "" {
			general = &s
		}
	}
	if general != nil {
		return *general, true
	}
	return setting{}, false
}

// binder declares a command's flags from the settings table.
type binder struct {
	path  string // the command path without the root: "audit", "schemas list"
	flags *pflag.FlagSet
}

func (b binder) setting(flag string) setting {
	s, ok := lookupSetting(b.path, flag)
	if !ok {
		panic(fmt.Sprintf("settings: %s --%s is not in settingsTable", b.path, flag))
	}
	return s
}

func (b binder) help(s setting) string {
	h := s.help
	if len(s.choices) > 0 && !strings.Contains(h, s.choices[0]) {
		h += ": " + reports.OrList(s.choices)
	}
	return h + " [" + s.env() + "]"
}

func (b binder) str(dst *string, flag string) {
	s := b.setting(flag)
	b.flags.StringVar(dst, flag, s.def.(string), b.help(s))
}

func (b binder) integer(dst *int, flag string) {
	s := b.setting(flag)
	b.flags.IntVar(dst, flag, s.def.(int), b.help(s))
}

func (b binder) boolean(dst *bool, flag string) {
	s := b.setting(flag)
	b.flags.BoolVar(dst, flag, s.def.(bool), b.help(s))
}

func (b binder) float(dst *float64, flag string) {
	s := b.setting(flag)
	b.flags.Float64Var(dst, flag, s.def.(float64), b.help(s))
}

func (b binder) list(dst *[]string, flag string) {
	s := b.setting(flag)
	b.flags.StringSliceVar(dst, flag, s.def.([]string), b.help(s))
}

func (b binder) duration(dst *time.Duration, flag string) {
	s := b.setting(flag)
	b.flags.DurationVar(dst, flag, s.def.(time.Duration), b.help(s))
}

// origin is where a setting's value came from, for error messages.
type origin string

const (
	fromDefault origin = "default"
	fromFlag    origin = "flag"
	fromEnv     origin = "environment"
	fromConfig  origin = "config"
)

// valueSource is where one setting's value came from.
type valueSource struct {
	origin origin
	// name is the flag, variable or key, as an error message names it.
	name string
}

// resolved records, for one command, where each setting's value came from.
type resolved map[string]valueSource

func (r resolved) from(flag string) origin { return r[flag].origin }

// changed says the user gave the setting a value, in any layer.
func (r resolved) changed(flag string) bool {
	o := r.from(flag)
	return o != "" && o != fromDefault
}

// resolveSettings applies, under the flags the user set, the environment
// and the config file to every setting of cmd, and checks choices. It runs
// once, before any command.
func resolveSettings(cmd *cobra.Command, cfg *fileConfig, getenv func(string) string) (resolved, error) {
	path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	r := resolved{}
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		s, ok := lookupSetting(path, f.Name)
		if !ok || err != nil {
			return
		}
		from := valueSource{fromDefault, "--" + f.Name}
		switch v, inFile := cfg.values[s.config]; {
		case f.Changed:
			from = valueSource{fromFlag, "--" + f.Name}
		case getenv(s.env()) != "":
			from = valueSource{fromEnv, s.env()}
			if e := f.Value.Set(getenv(s.env())); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %v", s.env(), getenv(s.env()), e)}
				return
			}
		case s.config != "" && inFile:
			from = valueSource{fromConfig, s.config + " in the config file"}
			var e error
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				e = sv.Replace(v)
			} else {
				e = f.Value.Set(strings.Join(v, ","))
			}
			if e != nil {
				err = usageError{fmt.Errorf("%s: %q: %v", from.name, strings.Join(v, ","), e)}
				return
			}
		}
		r[f.Name] = from
		if len(s.choices) > 0 && !slices.Contains(s.choices, f.Value.String()) {
			err = usageError{fmt.Errorf("%s %q: use %s", from.name, f.Value.String(), reports.OrList(s.choices))}
		}
	})
	return r, err
}
