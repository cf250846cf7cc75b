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

type reportOptions struct {
	Warehouse     string
	ResultsSchema string
	Source        string
	Run           string
	Runs          int
	HTML          string
}

func newCmdReport(d *deps, root *rootOptions, runF func(context.Context, *reportOptions) error) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Draw a completed run and its trend as one self-contained HTML page",
		Long: `Draw a run from the result tables as one HTML page: its totals, each event with a
sparkline of its invalid rate, the top failing checks with an example and the SQL that
fetches all their rows, the unplanned events, and a chart of the invalid rate over the
source's last --runs runs (those with the same shard, label and window length).

The page has its CSS and charts inline, runs no script and loads nothing from any
network, so it reads the same attached to a ticket, opened offline or served from a
bucket. audit --html draws the same page at the end of a run.`,
		Example: `  eventaudit report --warehouse duckdb://demo.duckdb --html audit.html
  eventaudit report --config eventaudit.yml --source raw.segment_events --runs 60 --html s3://bi-reports/eventaudit/{run_id}.html
  eventaudit report --config eventaudit.yml --run 20261121T020000Z-1a2b3c4d --html run.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runReport(cmd.Context(), d, o)
		},
	}
	b := binder{path: "report", flags: cmd.Flags()}
	b.str(&o.Warehouse, "warehouse")
	b.str(&o.ResultsSchema, "results-schema")
	b.str(&o.Source, "source")
	b.str(&o.Run, "run")
	b.integer(&o.Runs, "runs")
	b.str(&o.HTML, "html")
	return cmd
}

func (o *reportOptions) check() error {
	switch {
	case o.HTML == "":
		return usageError{errors.New("no --html: say where the page goes, e.g. --html audit.html or --html s3://BUCKET/eventaudit/{run_id}.html (html.out in eventaudit.yml)")}
	case o.Runs < 1:
		return usageError{fmt.Errorf("--runs %d: must be at least 1 (the run itself)", o.Runs)}
	}
	return checkReadOptions(o.Warehouse, 1)
}

func runReport(ctx context.Context, d *deps, o *reportOptions) error {
	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if err != nil {
		return err
	}
	defer wh.Close()
	results := wh.Results(o.ResultsSchema, d.now)
	run, err := o.pick(ctx, results)
	if err != nil {
		return err
	}
	summary, err := results.Summary(ctx, *run)
	if err != nil {
		return err
	}
	history, err := results.History(ctx, *run, o.Runs-1)
	if err != nil {
		return err
	}
	if len(history) > 0 {
		summary.WithPrevious(&history[0])
	}
	to, err := writePage(ctx, d, o.HTML, reports.HTMLPage{Summary: summary, History: history,
		CheckQuery: checkQuery(results, run.RunID), FromTables: true, Version: version})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "Wrote %s: run %s of %s, %s, trend over %d runs.\n", to, run.RunID, run.Source, run.Status, len(history)+1)
	return err
}

// pick finds the run to draw: --run, or the newest (of --source).
func (o *reportOptions) pick(ctx context.Context, results *warehouse.Results) (*audit.Run, error) {
	if o.Run == "" {
		runs, err := results.RecentRuns(ctx, o.Source, 1)
		if err != nil {
			return nil, noResults(err)
		}
		if len(runs) == 0 {
			return nil, audit.Configf(fmt.Errorf("no completed run of %s yet: run eventaudit audit first", firstNonEmpty(o.Source, "any source")))
		}
		return &runs[0], nil
	}
	run, err := results.Run(ctx, o.Run)
	if err != nil {
		return nil, noResults(err)
	}
	if run != nil {
		return run, nil
	}
	recent, err := results.RecentRuns(ctx, o.Source, 5)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range recent {
		ids = append(ids, r.RunID+" ("+r.Source+")")
	}
	if len(ids) == 0 {
		return nil, audit.Configf(fmt.Errorf("no run %q: the result tables hold no completed run yet", o.Run))
	}
	return nil, audit.Configf(fmt.Errorf("no run %q; the newest are:\n  %s\n(eventaudit runs lists more)", o.Run, strings.Join(ids, "\n  ")))
}
