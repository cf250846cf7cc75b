package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/spf13/cobra"
)

type runsOptions struct {
	Warehouse     string
	ResultsSchema string
	Source        string
	Limit         int
	Format        string
}

func newCmdRuns(d *deps, root *rootOptions, runF func(context.Context, *runsOptions) error) *cobra.Command {
	o := &runsOptions{}
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List recent audit runs from eventaudit_runs, newest first",
		Long: `List recent completed runs. A run that failed or was interrupted wrote nothing, so it
does not appear: after a failed night, re-run the same window (or let the next
--incremental run cover it) and it will.`,
		Example: `  eventaudit runs --warehouse duckdb://demo.duckdb
  eventaudit runs --config eventaudit.yml --source raw.segment_events --limit 5 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkReadOptions(o.Warehouse, o.Limit); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRuns(cmd.Context(), d, o)
		},
	}
	b := binder{path: "runs", flags: cmd.Flags()}
	b.str(&o.Warehouse, "warehouse")
	b.str(&o.ResultsSchema, "results-schema")
	b.str(&o.Source, "source")
	b.integer(&o.Limit, "limit")
	b.str(&o.Format, "format")
	return cmd
}

func runRuns(ctx context.Context, d *deps, o *runsOptions) error {
	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if err != nil {
		return err
	}
	defer wh.Close()
	runs, err := wh.Results(o.ResultsSchema, d.now).RecentRuns(ctx, o.Source, o.Limit)
	if err != nil {
		return noResults(err)
	}
	return reports.Runs(d.stdout, o.Format, runs)
}

// noResults says what to do when the result tables are not where the
// command looked: a configuration error (exit 2), not a runtime one.
func noResults(err error) error {
	if errors.Is(err, warehouse.ErrNoResults) {
		return audit.Configf(fmt.Errorf("%w: no audit has written there; pass the --results-schema your audits use (results_schema in eventaudit.yml)", err))
	}
	return err
}
