package sqlwh

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/eventaudit/eventaudit/audit"
)

// Result table names, without their schema.
const (
	RunsTable       = "eventaudit_runs"
	ViolationsTable = "eventaudit_violations"
	StatsTable      = "eventaudit_event_stats"
	LocksTable      = "eventaudit_locks"
)

// Column lists of the result tables, in DDL order: the same on every
// warehouse (DESIGN.md §5).
var (
	RunsColumns = []string{"run_id", "source", "window_start", "window_end", "started_at", "finished_at",
		"status", "rows_scanned", "rows_invalid", "rows_unplanned", "violations", "schemas_digest", "version", "shard"}
	ViolationsColumns = []string{"run_id", "message_id", "received_at", "event_type", "event_name", "schema_id",
		"instance_path", "keyword", "message", "value"}
	StatsColumns = []string{"run_id", "event_type", "event_name", "schema_id", "rows", "invalid_rows", "unplanned"}
	LocksColumns = []string{"source", "shard", "run_id", "acquired_at", "heartbeat_at"}
)

// Sink writes runs to the result tables in Schema.
type Sink struct {
	WH *Warehouse
	// Schema holds the result tables; "" means the connection's default.
	Schema string
	// ensured records that the DDL ran: a run takes its lock and opens its
	// transaction through the same Sink, and on a remote warehouse each
	// statement is a round trip.
	ensured atomic.Bool
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
	value := t
	if d.Value != "" {
		value = d.Value
	}
	create := func(name string, cols []string, types ...string) string {
		defs := make([]string, len(cols))
		for i, c := range cols {
			defs[i] = "  " + QuoteDouble(c) + " " + types[i]
		}
		if name == LocksTable {
			// Enforced on DuckDB and Postgres; Redshift takes it as a hint and
			// relies on LOCK instead.
			defs = append(defs, `  PRIMARY KEY ("source", "shard")`)
		}
		return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n%s\n)", d.Quote(s.table(name)), strings.Join(defs, ",\n"))
	}
	out = append(out,
		create(RunsTable, RunsColumns, st, t, ts, ts, ts, ts, st, bi, bi, bi, bi, st, st, st),
		create(ViolationsTable, ViolationsColumns, st, st, ts, st, t, t, t, st, t, value),
		create(StatsTable, StatsColumns, st, st, t, t, bi, bi, b),
		create(LocksTable, LocksColumns, st, st, st, ts, ts),
	)
	return out
}

// ReplaceSQL deletes what earlier runs of the same source recorded for the
// new run's window and shard: every violation whose received_at falls in the
// window (and, for a shard, whose message_id hashes to it), and the run and
// stats rows of earlier runs lying wholly inside the window (for a shard,
// only runs of that same shard). Each statement's parameters are returned
// beside it.
func (s *Sink) ReplaceSQL(run audit.Run) (stmts []string, args [][]any) {
	d := s.WH.Dialect
	runs, viol, stats := d.Quote(s.table(RunsTable)), d.Quote(s.table(ViolationsTable)), d.Quote(s.table(StatsTable))
	p := d.Placeholder
	base := []any{run.Source, run.Window.Start.UTC(), run.Window.End.UTC()}
	violations := fmt.Sprintf(`DELETE FROM %s WHERE "run_id" IN (SELECT "run_id" FROM %s WHERE "source" = %s) AND "received_at" >= %s AND "received_at" < %s`,
		viol, runs, p(1), p(2), p(3))
	inside := fmt.Sprintf(`"source" = %s AND "window_start" >= %s AND "window_end" <= %s`, p(1), p(2), p(3))
	runArgs := base
	if run.Shard.Sharded() {
		violations += fmt.Sprintf(` AND %s = %d`, d.ShardExpr(`"message_id"`, run.Shard.Count), run.Shard.Index)
		inside += fmt.Sprintf(` AND "shard" = %s`, p(4))
		runArgs = append(append([]any{}, base...), run.Shard.String())
	}
	return []string{
		violations,
		fmt.Sprintf(`DELETE FROM %s WHERE "run_id" IN (SELECT "run_id" FROM %s WHERE %s)`, stats, runs, inside),
		fmt.Sprintf(`DELETE FROM %s WHERE %s`, runs, inside),
	}, [][]any{base, runArgs, runArgs}
}

// EnsureTables creates the result schema and tables if they are missing.
// It runs outside any transaction: some warehouses (Snowflake) commit DDL
// implicitly, and creating empty tables is harmless either way.
func (s *Sink) EnsureTables(ctx context.Context) error {
	if s.ensured.Load() {
		return nil
	}
	for _, q := range s.DDL() {
		if err := s.WH.Conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create result tables in schema %q: %w", s.Schema, err)
		}
	}
	s.ensured.Store(true)
	return nil
}

// Begin implements audit.Sink.
func (s *Sink) Begin(ctx context.Context, run audit.Run) (audit.SinkTx, error) {
	if err := s.EnsureTables(ctx); err != nil {
		return nil, err
	}
	tx, err := s.WH.Conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	stmts, args := s.ReplaceSQL(run)
	for i, q := range stmts {
		if err := tx.Exec(ctx, q, args[i]...); err != nil {
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
		run.SchemasDigest, run.Version, run.Shard.String()}}
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
