package sqlwh

import (
	"context"
	"fmt"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
)

// Result table names, without their schema.
const (
	RunsTable       = "eventaudit_runs"
	ViolationsTable = "eventaudit_violations"
	StatsTable      = "eventaudit_event_stats"
)

// Column lists of the result tables, in DDL order: the same on every
// warehouse (DESIGN.md §5).
var (
	RunsColumns = []string{"run_id", "source", "window_start", "window_end", "started_at", "finished_at",
		"status", "rows_scanned", "rows_invalid", "rows_unplanned", "violations", "schemas_digest", "version"}
	ViolationsColumns = []string{"run_id", "message_id", "received_at", "event_type", "event_name", "schema_id",
		"instance_path", "keyword", "message", "value"}
	StatsColumns = []string{"run_id", "event_type", "event_name", "schema_id", "rows", "invalid_rows", "unplanned"}
)

// Sink writes runs to the result tables in Schema.
type Sink struct {
	WH *Warehouse
	// Schema holds the result tables; "" means the connection's default.
	Schema string
}

func (s *Sink) table(name string) Ident {
	if s.Schema == "" {
		return Ident{name}
	}
	return Ident{s.Schema, name}
}

// DDL creates the result schema and tables if they are missing.
func (s *Sink) DDL() []string {
	d := s.WH.Dialect
	var out []string
	if s.Schema != "" {
		out = append(out, "CREATE SCHEMA IF NOT EXISTS "+QuoteDouble(s.Schema))
	}
	t, st, ts, bi, b := d.Text, d.ShortText, d.Timestamp, d.Bigint, d.Bool
	create := func(name string, cols []string, types ...string) string {
		defs := make([]string, len(cols))
		for i, c := range cols {
			defs[i] = "  " + QuoteDouble(c) + " " + types[i]
		}
		return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n%s\n)", d.Quote(s.table(name)), strings.Join(defs, ",\n"))
	}
	out = append(out,
		create(RunsTable, RunsColumns, st, t, ts, ts, ts, ts, st, bi, bi, bi, bi, st, st),
		create(ViolationsTable, ViolationsColumns, st, st, ts, st, t, t, t, st, t, t),
		create(StatsTable, StatsColumns, st, st, t, t, bi, bi, b),
	)
	return out
}

// ReplaceSQL deletes what an earlier run of the same source recorded for the
// new window: every violation whose received_at falls inside it, and the run
// and stats rows of runs lying wholly inside it. Its parameters are the
// source, the window start and the window end.
func (s *Sink) ReplaceSQL() []string {
	d := s.WH.Dialect
	runs, viol, stats := d.Quote(s.table(RunsTable)), d.Quote(s.table(ViolationsTable)), d.Quote(s.table(StatsTable))
	p1, p2, p3 := d.Placeholder(1), d.Placeholder(2), d.Placeholder(3)
	return []string{
		fmt.Sprintf(`DELETE FROM %s WHERE "run_id" IN (SELECT "run_id" FROM %s WHERE "source" = %s) AND "received_at" >= %s AND "received_at" < %s`,
			viol, runs, p1, p2, p3),
		fmt.Sprintf(`DELETE FROM %s WHERE "run_id" IN (SELECT "run_id" FROM %s WHERE "source" = %s AND "window_start" >= %s AND "window_end" <= %s)`,
			stats, runs, p1, p2, p3),
		fmt.Sprintf(`DELETE FROM %s WHERE "source" = %s AND "window_start" >= %s AND "window_end" <= %s`,
			runs, p1, p2, p3),
	}
}

// Begin implements audit.Sink.
func (s *Sink) Begin(ctx context.Context, run audit.Run) (audit.SinkTx, error) {
	// DDL runs before the transaction: some warehouses (Snowflake) commit
	// DDL implicitly, and creating empty tables is harmless either way.
	for _, q := range s.DDL() {
		if err := s.WH.Conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("create result tables in schema %q: %w", s.Schema, err)
		}
	}
	tx, err := s.WH.Conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range s.ReplaceSQL() {
		if err := tx.Exec(ctx, q, run.Source, run.Window.Start.UTC(), run.Window.End.UTC()); err != nil {
			_ = tx.Rollback(ctx)
			return nil, fmt.Errorf("replace earlier results of the window: %w", err)
		}
	}
	return &sinkTx{sink: s, tx: tx}, nil
}

type sinkTx struct {
	sink *Sink
	tx   Tx
	done bool
}

func (t *sinkTx) WriteViolations(ctx context.Context, vs []audit.Violation) error {
	rows := make([][]any, len(vs))
	for i, v := range vs {
		rows[i] = []any{v.RunID, v.MessageID, v.ReceivedAt.UTC(), v.EventType, v.EventName, v.SchemaID,
			v.InstancePath, v.Keyword, v.Message, v.Value}
	}
	return t.tx.BulkInsert(ctx, t.sink.table(ViolationsTable), ViolationsColumns, rows)
}

func (t *sinkTx) Commit(ctx context.Context, run audit.Run, stats []audit.EventStats) error {
	rows := make([][]any, len(stats))
	for i, s := range stats {
		rows[i] = []any{s.RunID, s.EventType, s.EventName, s.SchemaID, s.Rows, s.InvalidRows, s.Unplanned}
	}
	if err := t.tx.BulkInsert(ctx, t.sink.table(StatsTable), StatsColumns, rows); err != nil {
		return err
	}
	runRow := [][]any{{run.RunID, run.Source, run.Window.Start.UTC(), run.Window.End.UTC(), run.StartedAt.UTC(),
		run.FinishedAt.UTC(), run.Status, run.RowsScanned, run.RowsInvalid, run.RowsUnplanned, run.Violations,
		run.SchemasDigest, run.Version}}
	if err := t.tx.BulkInsert(ctx, t.sink.table(RunsTable), RunsColumns, runRow); err != nil {
		return err
	}
	if err := t.tx.Commit(ctx); err != nil {
		return err
	}
	t.done = true
	return nil
}

func (t *sinkTx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	return t.tx.Rollback(ctx)
}
