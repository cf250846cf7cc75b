package sqlwh

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// Result table names, without their schema.
const (
	RunsTable       = "eventaudit_runs"
	ViolationsTable = "eventaudit_violations"
	StatsTable      = "eventaudit_event_stats"
	PropertiesTable = "eventaudit_property_stats"
	LocksTable      = "eventaudit_locks"
)

// Column lists of the result tables, in DDL order: the same on every
// warehouse (DESIGN.md §5).
var (
	RunsColumns = []string{"run_id", "source", "window_start", "window_end", "started_at", "finished_at",
		"status", "rows_scanned", "rows_invalid", "rows_unplanned", "violations", "schemas_digest", "version", "shard",
		"label", "latest_received_at", "duplicate_rows", "rows_proven", "rows_fetched", "bytes_fetched",
		"violations_suppressed"}
	// source, on violations and stats, is the run's source: a re-run
	// replaces what its source recorded in its window, even rows whose run
	// row is gone (orphans), without a join on eventaudit_runs.
	ViolationsColumns = []string{"run_id", "message_id", "received_at", "event_type", "event_name", "schema_id",
		"instance_path", "keyword", "message", "value", "source", "suppressed"}
	StatsColumns = []string{"run_id", "event_type", "event_name", "schema_id", "rows", "invalid_rows", "unplanned", "source"}
	// One row per path × JSON type of each event: rows counts the values
	// of that type (items, for a path under an array).
	PropertiesColumns = []string{"run_id", "event_type", "event_name", "schema_id", "path", "json_type", "rows", "in_plan",
		"example", "source"}
	// A lock records its holder's terms: when it expires unless renewed,
	// how often the holder renews it, and the warehouse session that holds
	// it, so that a later run can prove a holder gone.
	LocksColumns = []string{"source", "shard", "run_id", "acquired_at", "heartbeat_at", "expires_at", "heartbeat_seconds", "holder"}
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

	mu sync.Mutex
	// leases are the locks this Sink holds, by run id: a run that holds one
	// commits only while it still does.
	leases map[string]*Lease
}

// Table is the result table name in the sink's schema.
func (s *Sink) Table(name string) Ident { return s.table(name) }

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
		out = append(out, "CREATE SCHEMA IF NOT EXISTS "+d.QuoteName(s.Schema))
	}
	create := func(name string, cols []string, types ...string) string {
		defs := make([]string, len(cols))
		for i, c := range cols {
			defs[i] = "  " + d.QuoteName(c) + " " + types[i]
		}
		if name == LocksTable {
			// Enforced on DuckDB and Postgres; Redshift takes it as a hint and
			// relies on LOCK instead.
			defs = append(defs, d.SQL(`  PRIMARY KEY ({source}, {shard})`))
		}
		return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n%s\n)", d.Quote(s.table(name)), strings.Join(defs, ",\n"))
	}
	for _, tbl := range s.tables() {
		out = append(out, create(tbl.name, tbl.cols, tbl.types...))
	}
	return out
}

type resultTable struct {
	name  string
	cols  []string
	types []string
}

// tables lists the result tables with their column types, in DDL order.
func (s *Sink) tables() []resultTable {
	d := s.WH.Dialect
	t, st, ts, bi, b := d.Text, d.ShortText, d.Timestamp, d.Bigint, d.Bool
	value := t
	if d.Value != "" {
		value = d.Value
	}
	return []resultTable{
		{RunsTable, RunsColumns, []string{st, t, ts, ts, ts, ts, st, bi, bi, bi, bi, st, st, st, st, ts, bi, bi, bi, bi, bi}},
		{ViolationsTable, ViolationsColumns, []string{st, st, ts, st, t, t, t, st, t, value, t, b}},
		{StatsTable, StatsColumns, []string{st, st, t, t, bi, bi, b, t}},
		{PropertiesTable, PropertiesColumns, []string{st, st, t, t, t, st, bi, b, value, t}},
		{LocksTable, LocksColumns, []string{st, st, st, ts, ts, ts, bi, st}},
	}
}

// coveredRunsSQL lists the earlier runs of the source whose window lies
// wholly inside the new run's; which of them its shard covers is decided in
// Go (audit.Shard.Covers), since containment of K/N shards is arithmetic.
func (s *Sink) coveredRunsSQL(run audit.Run) (string, []any) {
	d := s.WH.Dialect
	p := d.Placeholder
	return d.SQL(`SELECT {run_id}, {shard} FROM %s WHERE {source} = %s AND {window_start} >= %s AND {window_end} <= %s`,
			d.Quote(s.table(RunsTable)), p(1), p(2), p(3)),
		[]any{run.Source, run.Window.Start.UTC(), run.Window.End.UTC()}
}

// ReplaceSQL deletes what earlier runs of the same source recorded for the
// new run's window and shard:
//   - every violation of the source whose received_at falls in the window
//     (and, for a shard, whose message_id hashes to it), whether or not its
//     run row still exists;
//   - the stats, property stats and run rows of covered, the earlier runs
//     lying wholly inside the window and the shard;
//   - stats and property stats rows of the source whose run row is gone.
//
// Each statement's parameters are returned beside it.
func (s *Sink) ReplaceSQL(run audit.Run, covered []string) (stmts []string, args [][]any) {
	d := s.WH.Dialect
	runs, viol := d.Quote(s.table(RunsTable)), d.Quote(s.table(ViolationsTable))
	perRun := []string{d.Quote(s.table(StatsTable)), d.Quote(s.table(PropertiesTable))}
	p := d.Placeholder
	violations := d.SQL(`DELETE FROM %s WHERE {source} = %s AND {received_at} >= %s AND {received_at} < %s`,
		viol, p(1), p(2), p(3))
	if run.Shard.Sharded() {
		violations += fmt.Sprintf(` AND %s = %d`, d.ShardExpr(d.QuoteName("message_id"), run.Shard.Count), run.Shard.Index)
	}
	stmts = append(stmts, violations)
	args = append(args, []any{run.Source, run.Window.Start.UTC(), run.Window.End.UTC()})
	// IN lists stay far below every dialect's parameter cap.
	for chunk := range slices.Chunk(covered, 500) {
		marks := make([]string, len(chunk))
		ids := make([]any, len(chunk))
		for i, id := range chunk {
			marks[i], ids[i] = p(i+1), id
		}
		in := strings.Join(marks, ", ")
		for _, tbl := range append(perRun, runs) {
			stmts = append(stmts, d.SQL(`DELETE FROM %s WHERE {run_id} IN (%s)`, tbl, in))
			args = append(args, ids)
		}
	}
	for _, tbl := range perRun {
		stmts = append(stmts, d.SQL(`DELETE FROM %s WHERE {source} = %s AND {run_id} NOT IN (SELECT {run_id} FROM %s WHERE {source} = %s)`,
			tbl, p(1), runs, p(2)))
		args = append(args, []any{run.Source, run.Source})
	}
	return stmts, args
}

// EnsureTables creates the result schema and tables if they are missing,
// and adds the columns a newer eventaudit writes to tables an older one
// created. It runs outside any transaction: some warehouses (Snowflake)
// commit DDL implicitly, and creating empty tables is harmless either way.
// Tables that are already whole, as on every run after the first, cost
// one catalog query, not a statement per table and a description of each:
// on a remote warehouse each is a round trip, and a catalog query there
// can take a second.
func (s *Sink) EnsureTables(ctx context.Context) error {
	if s.ensured.Load() {
		return nil
	}
	if s.tablesWhole(ctx) {
		s.ensured.Store(true)
		return nil
	}
	for _, q := range s.DDL() {
		if err := s.WH.Conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create result tables in schema %q: %w", s.Schema, err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("upgrade the result tables in schema %q: %w", s.Schema, err)
	}
	s.ensured.Store(true)
	return nil
}

// tablesWhole reports whether every result table exists with every
// column this eventaudit writes, from one catalog query. Any doubt (no
// such query, an error) says no, and EnsureTables creates and upgrades
// as it would on a first run.
func (s *Sink) tablesWhole(ctx context.Context) bool {
	if s.WH.Dialect.TableColumns == nil {
		return false
	}
	tables := s.tables()
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.name
	}
	described, err := s.WH.DescribeTables(ctx, s.Schema, names)
	if err != nil {
		return false
	}
	have := map[string]bool{}
	for table, cols := range described {
		for _, c := range cols {
			have[strings.ToLower(table)+"."+strings.ToLower(c.Name)] = true
		}
	}
	for _, t := range tables {
		for _, c := range t.cols {
			if !have[strings.ToLower(t.name)+"."+strings.ToLower(c)] {
				return false
			}
		}
	}
	return true
}

// migrate adds missing columns. Violations and stats written before they
// had a source take it from their run; those whose run is gone are orphans
// that no replacement could reach before, and are deleted.
func (s *Sink) migrate(ctx context.Context) error {
	d := s.WH.Dialect
	for _, tbl := range s.tables() {
		have, err := s.columns(ctx, tbl.name)
		if err != nil {
			return err
		}
		added := false
		for i, c := range tbl.cols {
			if have[strings.ToLower(c)] {
				continue
			}
			q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", d.Quote(s.table(tbl.name)), d.QuoteName(c), tbl.types[i])
			if err := s.WH.Conn.Exec(ctx, q); err != nil {
				// Another run may have added it at the same moment.
				if again, err2 := s.columns(ctx, tbl.name); err2 != nil || !again[strings.ToLower(c)] {
					return fmt.Errorf("add column %s to %s: %w", c, tbl.name, err)
				}
			}
			added = added || c == "source"
		}
		if !added {
			continue
		}
		target, runs := d.Quote(s.table(tbl.name)), d.Quote(s.table(RunsTable))
		for _, q := range []string{
			d.SQL(`UPDATE %s AS t SET {source} = r.{source} FROM %s AS r WHERE t.{run_id} = r.{run_id} AND t.{source} IS NULL`, target, runs),
			d.SQL(`DELETE FROM %s WHERE {source} IS NULL`, target),
		} {
			if err := s.WH.Conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("give the rows of %s their source: %w", tbl.name, err)
			}
		}
	}
	return nil
}

// columns returns the lower-cased column names of a result table. Once
// EnsureTables has made the tables whole, they are this eventaudit's, and
// the catalog is not asked again.
func (s *Sink) columns(ctx context.Context, table string) (map[string]bool, error) {
	if s.ensured.Load() {
		for _, t := range s.tables() {
			if t.name == table {
				out := make(map[string]bool, len(t.cols))
				for _, c := range t.cols {
					out[strings.ToLower(c)] = true
				}
				return out, nil
			}
		}
	}
	q, args := s.WH.Dialect.Columns(s.Schema, table)
	rows, err := s.WH.Conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out[strings.ToLower(name)] = true
	}
	return out, rows.Err()
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
	if err := s.replace(ctx, tx, run); err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("replace earlier results of the window: %w", err)
	}
	return &sinkTx{sink: s, tx: tx, run: run}, nil
}

func (s *Sink) replace(ctx context.Context, tx Tx, run audit.Run) error {
	q, args := s.coveredRunsSQL(run)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	var covered []string
	for rows.Next() {
		var id, shard string
		if err := rows.Scan(&id, &shard); err != nil {
			rows.Close()
			return err
		}
		if sh, err := audit.ParseShard(shard); err == nil && run.Shard.Covers(sh) {
			covered = append(covered, id)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	stmts, stmtArgs := s.ReplaceSQL(run, covered)
	for i, q := range stmts {
		if err := tx.Exec(ctx, q, stmtArgs[i]...); err != nil {
			return err
		}
	}
	return nil
}

// violationWrite is how many violation rows a run gathers before it
// writes them: a batch of 1,000 messages at a 5% invalid rate yields about
// 50, and each write has a fixed cost (a COPY, an Appender, a round trip)
// that 50 rows do not amortise. A few MB at most.
const violationWrite = 8192

type sinkTx struct {
	sink    *Sink
	tx      Tx
	run     audit.Run
	done    bool
	pending [][]any
}

func (t *sinkTx) WriteViolations(ctx context.Context, vs []audit.Violation) error {
	for _, v := range vs {
		t.pending = append(t.pending, []any{v.RunID, v.MessageID, v.ReceivedAt.UTC(), v.EventType, v.EventName,
			v.SchemaID, v.InstancePath, v.Keyword, v.Message, v.Value, t.run.Source, v.Suppressed})
	}
	if len(t.pending) < violationWrite {
		return nil
	}
	return t.flush(ctx)
}

// WriteProperties writes the run's property profile, in the run's
// transaction.
func (t *sinkTx) WriteProperties(ctx context.Context, ps []audit.PropertyStats) error {
	rows := make([][]any, len(ps))
	for i, p := range ps {
		rows[i] = []any{p.RunID, p.EventType, p.EventName, p.SchemaID, p.Path, p.JSONType, p.Rows, p.InPlan, p.Example, t.run.Source}
	}
	for chunk := range slices.Chunk(rows, violationWrite) {
		if err := t.tx.BulkInsert(ctx, t.sink.table(PropertiesTable), PropertiesColumns, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (t *sinkTx) flush(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	err := t.tx.BulkInsert(ctx, t.sink.table(ViolationsTable), ViolationsColumns, t.pending)
	t.pending = t.pending[:0]
	return err
}

func (t *sinkTx) Commit(ctx context.Context, run audit.Run, stats []audit.EventStats) error {
	rows := make([][]any, len(stats))
	for i, s := range stats {
		rows[i] = []any{s.RunID, s.EventType, s.EventName, s.SchemaID, s.Rows, s.InvalidRows, s.Unplanned, run.Source}
	}
	// A run that held a lock commits only while it still holds it: if it
	// was taken over (its heartbeats failed for longer than its expiry),
	// another run may be writing the same window.
	if err := t.flush(ctx); err != nil {
		return err
	}
	if l := t.sink.lease(run.RunID); l != nil {
		if err := l.verify(ctx, t.tx); err != nil {
			return err
		}
	}
	if err := t.tx.BulkInsert(ctx, t.sink.table(StatsTable), StatsColumns, rows); err != nil {
		return err
	}
	runRow := [][]any{{run.RunID, run.Source, run.Window.Start.UTC(), run.Window.End.UTC(), run.StartedAt.UTC(),
		run.FinishedAt.UTC(), run.Status, run.RowsScanned, run.RowsInvalid, run.RowsUnplanned, run.Violations,
		run.SchemasDigest, run.Version, run.Shard.String(), run.Label, nullTime(run.LatestReceivedAt), run.DuplicateRows,
		run.RowsProven, run.RowsFetched, run.BytesFetched, run.ViolationsSuppressed}}
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

// nullTime is NULL for the zero time: "no rows at all" is not 0001-01-01.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
