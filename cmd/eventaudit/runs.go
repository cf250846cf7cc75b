package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/reports"
	"github.com/eventaudit/eventaudit/warehouse"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
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
			case o.Format != "table" && o.Format != "json":
				return usageError{fmt.Errorf("--format %q: use table or json", o.Format)}
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
	f.StringVar(&o.Format, "format", "table", "table or json")
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
	if o.Format == "json" {
		type jsonRun struct {
			RunID         string    `json:"run_id"`
			Source        string    `json:"source"`
			Shard         string    `json:"shard"`
			WindowStart   time.Time `json:"window_start"`
			WindowEnd     time.Time `json:"window_end"`
			FinishedAt    time.Time `json:"finished_at"`
			Status        string    `json:"status"`
			RowsScanned   int64     `json:"rows_scanned"`
			RowsInvalid   int64     `json:"rows_invalid"`
			RowsUnplanned int64     `json:"rows_unplanned"`
			Violations    int64     `json:"violations"`
		}
		out := []jsonRun{}
		for _, r := range runs {
			out = append(out, jsonRun{r.RunID, r.Source, r.Shard.String(), r.Window.Start, r.Window.End, r.FinishedAt, r.Status,
				r.RowsScanned, r.RowsInvalid, r.RowsUnplanned, r.Violations})
		}
		enc := json.NewEncoder(d.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	t := tablewriter.NewTable(d.stdout, tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
			tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}}))
	t.Header("Run", "Source", "Shard", "Window", "Status", "Rows", "Invalid", "Unplanned", "Violations")
	for _, r := range runs {
		if err := t.Append(r.RunID, r.Source, r.Shard.String(), reports.Window(r.Window), r.Status, reports.Count(r.RowsScanned),
			reports.Count(r.RowsInvalid), reports.Count(r.RowsUnplanned), reports.Count(r.Violations)); err != nil {
			return err
		}
	}
	return t.Render()
}
