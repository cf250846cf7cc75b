package main

import (
	"context"

	"github.com/eventaudit/eventaudit/reports"
	"github.com/spf13/cobra"
)

type queryOptions struct {
	Warehouse string
	Limit     int
	Format    string
	SQL       string
}

func newCmdQuery(d *deps, root *rootOptions, runF func(context.Context, *queryOptions) error) *cobra.Command {
	o := &queryOptions{}
	cmd := &cobra.Command{
		Use:   "query SQL",
		Short: "Run one read-only SQL statement against the warehouse, e.g. on the result tables",
		Long: `Run one statement that reads (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN) against
the warehouse and print its rows, so the result tables can be queried without another
client. Anything else is refused, and the statement runs in a transaction that is
rolled back (read-only on Postgres and Redshift).`,
		Example: `  eventaudit query --warehouse duckdb://demo.duckdb \
    "SELECT event_name, keyword, instance_path, count(*) AS n FROM eventaudit.eventaudit_violations GROUP BY ALL ORDER BY n DESC LIMIT 10"
  eventaudit query --config eventaudit.yml --format json "SELECT * FROM eventaudit.eventaudit_runs ORDER BY finished_at DESC LIMIT 5"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.SQL = args[0]
			if err := checkReadOptions(o.Warehouse, o.Limit); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runQuery(cmd.Context(), d, o)
		},
	}
	b := binder{path: "query", flags: cmd.Flags()}
	b.str(&o.Warehouse, "warehouse")
	b.integer(&o.Limit, "limit")
	b.str(&o.Format, "format")
	return cmd
}

func runQuery(ctx context.Context, d *deps, o *queryOptions) error {
	wh, err := openWarehouse(ctx, d, o.Warehouse)
	if err != nil {
		return err
	}
	defer wh.Close()
	cols, rows, more, err := wh.Query(ctx, o.SQL, o.Limit)
	if err != nil {
		return err
	}
	return reports.QueryRows(d.stdout, o.Format, cols, rows, more)
}
