package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/spf13/cobra"
)

type dbtOptions struct {
	Project       string
	Out           string
	Name          string
	ResultsSchema string
	Database      string
}

func newCmdDBT(d *deps, root *rootOptions, runF func(context.Context, *dbtOptions) error) *cobra.Command {
	o := &dbtOptions{}
	cmd := &cobra.Command{
		Use:   "dbt",
		Short: "Write a dbt sources file for the result tables into a dbt project",
		Long: `Write a dbt sources file (schema version 2) describing eventaudit's result tables:
every table and column with a description, not_null and unique tests on the
keys, accepted_values on the run status, relationships from violations and
stats to their run, and a freshness check on eventaudit_runs that warns when no
audit has finished in 36 hours.

Models then read the results as {{ source('eventaudit', 'eventaudit_violations') }}.
Run it again after upgrading eventaudit: the file is generated, not edited.`,
		Example: `  eventaudit dbt --project ~/analytics            # writes models/eventaudit/_eventaudit__sources.yml
  eventaudit dbt --out - --results-schema audit      # print it`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runDBT(cmd.Context(), d, o)
		},
	}
	b := binder{path: "dbt", flags: cmd.Flags()}
	b.str(&o.Project, "project")
	b.str(&o.Out, "out")
	b.str(&o.Name, "name")
	b.str(&o.ResultsSchema, "results-schema")
	b.str(&o.Database, "database")
	return cmd
}

func runDBT(_ context.Context, d *deps, o *dbtOptions) error {
	if o.ResultsSchema == "" {
		return usageError{errors.New("--results-schema is empty: dbt needs the schema that holds the result tables (eventaudit by default)")}
	}
	var b bytes.Buffer
	if err := (warehouse.DBTSources{Name: o.Name, Schema: o.ResultsSchema, Database: o.Database}).Write(&b); err != nil {
		return err
	}
	if o.Out == "-" {
		_, err := d.stdout.Write(b.Bytes())
		return err
	}
	dest := o.Out
	if dest == "" {
		if _, err := os.Stat(filepath.Join(o.Project, "dbt_project.yml")); err != nil {
			return usageError{fmt.Errorf("%s holds no dbt_project.yml: pass --project with your dbt project's folder, or --out FILE (--out - prints it)", o.Project)}
		}
		dest = filepath.Join(o.Project, "models", o.Name, "_"+o.Name+"__sources.yml")
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(dest, b.Bytes()); err != nil {
		return err
	}
	_, err := fmt.Fprintf(d.stdout, "wrote %s: source %q, schema %s, 3 tables\n", dest, o.Name, o.ResultsSchema)
	return err
}
