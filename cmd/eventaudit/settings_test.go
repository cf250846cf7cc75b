package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// settingsCLI is the CLI with every command's runF seam set, so that a
// test sees the options a command would run with, and nothing runs.
func settingsCLI(env map[string]string) (*cobra.Command, *bool) {
	ran := new(bool)
	d := &deps{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return env[k] },
		now: time.Now, isTTY: func(io.Writer) bool { return false }, newRunID: newRunID}
	root := newRoot(d, func(o *rootOptions) []*cobra.Command {
		return []*cobra.Command{
			newCmdAudit(d, o, func(context.Context, *auditOptions) error { *ran = true; return nil }),
			newCmdLoad(d, o, func(context.Context, *loadOptions) error { *ran = true; return nil }),
			newCmdSchemas(d, o, func(context.Context, *schemasOptions) error { *ran = true; return nil },
				func(context.Context, *schemasOptions) error { *ran = true; return nil },
				func(context.Context, *inferOptions) error { *ran = true; return nil }),
			newCmdRuns(d, o, func(context.Context, *runsOptions) error { *ran = true; return nil }),
			newCmdQuery(d, o, func(context.Context, *queryOptions) error { *ran = true; return nil }),
			newCmdReport(d, o, func(context.Context, *reportOptions) error { *ran = true; return nil }),
			newCmdDoctor(d, o, func(context.Context, *auditOptions) error { *ran = true; return nil }),
			newCmdExplain(d, o, func(context.Context, *auditOptions) error { *ran = true; return nil }),
			newCmdInit(d, o, func(context.Context, *initOptions) error { *ran = true; return nil }),
			newCmdDBT(d, o, func(context.Context, *dbtOptions) error { *ran = true; return nil }),
		}
	})
	return root, ran
}

// layerValues are three values a setting can take, one per layer, each
// different from the one it must override and from the default.
func layerValues(s setting) (yamlV, envV, flagV string) {
	if len(s.choices) > 0 {
		// Two choices suffice: each layer differs from the one below it.
		var other []string
		for _, c := range s.choices {
			if c != fmt.Sprint(s.def) {
				other = append(other, c)
			}
		}
		return other[0], fmt.Sprint(s.def), other[0]
	}
	switch s.def.(type) {
	case bool:
		return "true", "false", "true"
	case int:
		return "2001", "3002", "4003"
	case float64:
		return "0.25", "0.5", "0.75"
	case time.Duration:
		return "2h", "3h", "4h"
	case []string:
		return "invalid_rows=1", "violations=2", "unplanned=3"
	}
	return "from-yaml", "from-env", "from-flag"
}

type layers struct{ yaml, env, flag string }

type precedenceCase struct {
	name string
	set  layers
	want string
}

// The precedence of every setting of every command: a flag beats the
// environment, which beats the config file, which beats the default.
func TestSettingsPrecedence(t *testing.T) {
	// What each command needs to get as far as its runF, set in the file
	// (the lowest layer) so that any setting under test overrides it.
	base := map[string]string{"warehouse": "duckdb://base.duckdb", "table.name": "base_table", "source": "base_schema", "html.out": "base.html"}
	args := map[string][]string{"audit": {"audit"}, "load": {"load", "events.ndjson"}, "runs": {"runs"}, "query": {"query", "SELECT 1"},
		"doctor": {"doctor"}, "explain": {"explain"}, "init": {"init"}, "report": {"report"}, "dbt": {"dbt"},
		"schemas list": {"schemas", "list"}, "schemas check": {"schemas", "check"}, "schemas infer": {"schemas", "infer"}}
	root, _ := settingsCLI(nil)
	covered := map[string]bool{}
	for _, path := range slices.Sorted(maps.Keys(args)) {
		cmd, _, err := root.Find(args[path])
		if err != nil {
			t.Fatal(err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			s, ok := lookupSetting(path, f.Name)
			if !ok {
				return
			}
			covered[s.cmd+" "+s.flag] = true
			yamlV, envV, flagV := layerValues(s)
			cases := []precedenceCase{
				{"environment", layers{env: envV}, envV},
				{"flag over environment", layers{env: envV, flag: flagV}, flagV},
			}
			if s.config != "" {
				cases = append(cases,
					precedenceCase{"config file", layers{yaml: yamlV}, yamlV},
					precedenceCase{"environment over config file", layers{yaml: yamlV, env: envV}, envV},
					precedenceCase{"flag over both", layers{yaml: yamlV, env: envV, flag: flagV}, flagV})
			}
			if _, inBase := base[s.config]; !inBase {
				cases = append(cases, precedenceCase{"default", layers{}, ""})
			}
			for _, tc := range cases {
				t.Run(path+"/"+f.Name+"/"+tc.name, func(t *testing.T) {
					file := map[string]string{}
					for k, v := range base {
						file[k] = v
					}
					if tc.set.yaml != "" {
						file[s.config] = tc.set.yaml
					}
					env := map[string]string{}
					if f.Name == "slack" {
						// --slack named with nowhere to post is a usage error.
						env["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T0/B0/x"
					}
					if tc.set.env != "" {
						env[s.env()] = tc.set.env
					}
					argv := append([]string{"--config", writeConfig(t, file)}, args[path]...)
					if tc.set.flag != "" {
						argv = append(argv, "--"+f.Name+"="+tc.set.flag)
					}
					root, ran := settingsCLI(env)
					root.SetArgs(argv)
					var stderr bytes.Buffer
					root.SetErr(&stderr)
					if err := root.Execute(); err != nil {
						t.Fatalf("%v: %v", argv, err)
					}
					if !*ran {
						t.Fatal("the command's runF was not reached")
					}
					cmd, _, _ := root.Find(args[path])
					got := cmd.Flags().Lookup(f.Name).Value.String()
					want := f.DefValue
					if tc.name != "default" {
						want = parsedAs(t, cmd.Flags().Lookup(f.Name), tc.want)
					}
					if got != want {
						t.Errorf("value %s, want %s", got, want)
					}
				})
			}
		})
	}
	for _, s := range settingsTable() {
		if !covered[s.cmd+" "+s.flag] && s.cmd != "" {
			t.Errorf("setting %s --%s is declared but no command has the flag", s.cmd, s.flag)
		}
	}
}

// parsedAs is how flag f shows value v once parsed (a duration's 2h is
// 2h0m0s, a list's a=1 is [a=1]).
func parsedAs(t *testing.T, f *pflag.Flag, v string) string {
	fs := pflag.NewFlagSet("scratch", pflag.ContinueOnError)
	switch f.Value.Type() {
	case "duration":
		fs.Duration("x", 0, "")
	case "int":
		fs.Int("x", 0, "")
	case "bool":
		fs.Bool("x", false, "")
	case "float64":
		fs.Float64("x", 0, "")
	case "stringSlice":
		fs.StringSlice("x", nil, "")
	default:
		fs.String("x", "", "")
	}
	if err := fs.Set("x", v); err != nil {
		t.Fatal(err)
	}
	return fs.Lookup("x").Value.String()
}

// writeConfig writes dotted keys as a nested YAML file.
func writeConfig(t *testing.T, values map[string]string) string {
	doc := map[string]any{}
	for k, v := range values {
		m := doc
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			if _, ok := m[p]; !ok {
				m[p] = map[string]any{}
			}
			m = m[p].(map[string]any)
		}
		m[parts[len(parts)-1]] = v
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "eventaudit.yml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The file refuses what it does not know, and an empty value is a value:
// results_schema: "" is the connection's default schema, for audit and
// runs alike.
func TestConfigFile(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		wantErr    string
	}{
		{"misspelt key", "warehous: duckdb://x\n", `line 1: unknown key "warehous"`},
		{"misspelt nested key", "warehouse: duckdb://x\ntable:\n  nmae: t\n", `line 3: unknown key "table.nmae"`},
		{"misspelt lint rule", "warehouse: duckdb://x\nlint:\n  no_such_rule: true\n", "no_such_rule"},
		{"bad value", "warehouse: duckdb://x\nworkers: many\n", `workers in the config file: "many"`},
		{"bad choice", "warehouse: duckdb://x\nlayout: flat\n", `layout in the config file "flat": use raw or segment`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "eventaudit.yml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			root, ran := settingsCLI(nil)
			root.SetArgs([]string{"--config", path, "audit", "--table", "t"})
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || *ran {
				t.Errorf("error %v, want one containing %q before anything runs", err, tc.wantErr)
			}
		})
	}
	for _, path := range [][]string{{"audit", "--table", "t"}, {"runs"}} {
		root, _ := settingsCLI(nil)
		root.SetArgs(append([]string{"--config", writeConfig(t, map[string]string{"warehouse": "duckdb://x", "results_schema": ""})}, path...))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		cmd, _, _ := root.Find(path)
		if got := cmd.Flags().Lookup("results-schema").Value.String(); got != "" {
			t.Errorf("%s: results_schema \"\" in the file gave %q, want the connection's default schema", path[0], got)
		}
	}
}
