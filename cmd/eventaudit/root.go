package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/redact"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// version is set by the Makefile with -ldflags.
var version = "dev"

// deps is everything a command touches outside itself, injected so that
// tests run the CLI in-process.
type deps struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// isTTY reports whether w is an interactive terminal; progress goes
	// to stderr only then.
	isTTY    func(w io.Writer) bool
	newRunID func(now time.Time) string
	// sleep waits between Slack delivery attempts; nil is a real wait.
	sleep func(ctx context.Context, d time.Duration) error
	// logger is built from the root flags once they are parsed; jsonLogs
	// says it writes JSON, and the final error must too.
	logger   *slog.Logger
	jsonLogs bool
	// secrets masks every secret the command learns, in each printed form,
	// and anything shaped like a Slack webhook or token, in every log line,
	// error and result row.
	secrets *redact.Redactor
}

type rootOptions struct {
	ConfigPath string
	LogFormat  string
	LogLevel   string
	// cfg is the config file, and set where each setting's value came
	// from, both resolved once before any command runs.
	cfg *fileConfig
	set resolved
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return execute(ctx, &deps{stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now, isTTY: isTerminal,
		newRunID: newRunID}, args)
}

// execute runs the CLI with d; tests inject a clock and run ids through it.
func execute(ctx context.Context, d *deps, args []string) int {
	if d.secrets == nil {
		d.secrets = &redact.Redactor{}
	}
	root := newRootCmd(d)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		if d.logger == nil && wantsJSONLogs(args) {
			// The flags did not parse, so no logger was built; the error
			// is still one JSON line.
			d.logger = newLogger(d, "json", slog.LevelInfo)
		}
		reportError(d.stderr, d.logger, d.jsonLogs, err, d.redact)
	}
	return exitCode(err)
}

// wantsJSONLogs finds --log-format json in arguments that did not parse.
func wantsJSONLogs(args []string) bool {
	for i, a := range args {
		if a == "--log-format=json" || (a == "--log-format" && i+1 < len(args) && args[i+1] == "json") {
			return true
		}
	}
	return false
}

// newLogger writes format ("text" or "json") to stderr, through the
// redactor.
func newLogger(d *deps, format string, level slog.Level) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(d.stderr, hopts)
	if format == "json" {
		h = slog.NewJSONHandler(d.stderr, hopts)
		d.jsonLogs = true
	}
	return slog.New(redact.NewHandler(h, d.secrets))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newRootCmd(d *deps) *cobra.Command {
	return newRoot(d, func(o *rootOptions) []*cobra.Command {
		return []*cobra.Command{
			newCmdAudit(d, o, nil),
			newCmdLoad(d, o, nil),
			newCmdSchemas(d, o, nil, nil, nil),
			newCmdRuns(d, o, nil),
			newCmdQuery(d, o, nil),
			newCmdReport(d, o, nil),
			newCmdDoctor(d, o, nil),
			newCmdExplain(d, o, nil),
			newCmdInit(d, o, nil),
			newCmdDBT(d, o, nil),
			newCmdVersion(d),
		}
	})
}

// newRoot is the root command with the subcommands commands makes; tests
// make them with their runF seams.
func newRoot(d *deps, commands func(*rootOptions) []*cobra.Command) *cobra.Command {
	o := &rootOptions{}
	root := &cobra.Command{
		Use:   "eventaudit",
		Short: "Audit Segment events in your warehouse against your tracking plan's JSON Schemas",
		Long: `eventaudit reads raw Segment messages (track, page, screen, identify, group) for a
time window from DuckDB, Postgres, Redshift or Snowflake, validates each against the
Reflekt-style JSON Schema of its event, writes the violations back to the warehouse
and prints a report.

Start with:  eventaudit audit --help`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", o.LogLevel)}
			}
			if o.LogFormat != "text" && o.LogFormat != "json" {
				return usageError{fmt.Errorf("--log-format %q: use text or json", o.LogFormat)}
			}
			d.logger = newLogger(d, o.LogFormat, level)
			cfg, err := loadConfig(o.ConfigPath, d.getenv)
			if err != nil {
				return err
			}
			o.cfg = cfg
			o.set, err = resolveSettings(cmd, cfg, d.getenv)
			return err
		},
	}
	root.SetOut(d.stdout)
	root.SetErr(d.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&o.ConfigPath, "config", "", "config file (default ./eventaudit.yml when present)")
	pf.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	pf.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(commands(o)...)
	usageArgs(root)
	return root
}

// usageArgs makes cobra's argument errors usage errors (exit 2, never the
// "retry" of exit 3), and makes a command group refuse a subcommand it does
// not have, which cobra would answer with its help and exit 0.
func usageArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		usageArgs(c)
	}
	if cmd.HasSubCommands() && cmd.RunE == nil && cmd.Run == nil {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default, which SuggestionsFor does not apply
		cmd.Args = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usageError{fmt.Errorf("%s (see %s --help)", msg, c.CommandPath())}
		}
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		return
	}
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
			}
			return nil
		}
	}
}

// redact removes every known secret, and anything shaped like one, from s.
func (d *deps) redact(s string) string { return d.secrets.String(s) }
