package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
			cfg, err := loadConfig(root.ConfigPath, d.getenv)
			if err != nil {
				return err
			}
			l := &layer{flags: cmd.Flags(), getenv: d.getenv}
			l.str(&o.Warehouse, "warehouse", "EVENTAUDIT_WAREHOUSE", cfg.Warehouse)
			l.str(&o.ResultsSchema, "results-schema", "EVENTAUDIT_RESULTS_SCHEMA", deref(cfg.ResultsSchema))
			if cfg.ResultsSchema != nil && *cfg.ResultsSchema == "" && !cmd.Flags().Changed("results-schema") && d.getenv("EVENTAUDIT_RESULTS_SCHEMA") == "" {
				o.ResultsSchema = "" // as audit reads it: the connection's default schema
			}
			switch {
			case o.Warehouse == "":
				return usageError{errors.New("no warehouse: pass --warehouse or set it in eventaudit.yml")}
			case reports.CheckListFormat(o.Format) != nil:
				return usageError{fmt.Errorf("--format: %w", reports.CheckListFormat(o.Format))}
			case o.Limit < 1:
				return usageError{fmt.Errorf("--limit %d: must be at least 1", o.Limit)}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRuns(cmd.Context(), d, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Warehouse, "warehouse", "", "warehouse URL [EVENTAUDIT_WAREHOUSE]")
	f.StringVar(&o.ResultsSchema, "results-schema", "eventaudit", "schema holding the result tables")
	f.StringVar(&o.Source, "source", "", "only runs of this source table")
	f.IntVar(&o.Limit, "limit", 20, "how many runs")
	f.StringVar(&o.Format, "format", reports.FormatTable, strings.Join(reports.ListFormats(), " or "))
	return cmd
}

func runRuns(ctx context.Context, d *deps, o *runsOptions) error {
	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if err != nil {
		return err
	}
	defer wh.Close()
	runs, err := wh.Results(o.ResultsSchema, d.now).RecentRuns(ctx, o.Source, o.Limit)
	if errors.Is(err, warehouse.ErrNoResults) {
		return audit.Configf(fmt.Errorf("%w: no audit has written there; pass the --results-schema your audits use (results_schema in eventaudit.yml)", err))
	}
	if err != nil {
		return err
	}
	return reports.Runs(d.stdout, o.Format, runs)
}
