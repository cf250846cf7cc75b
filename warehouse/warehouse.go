package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/segment"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Warehouse is an open warehouse and everything eventaudit does with it:
// the sources it reads (a raw table, Segment's layout), the store its
// results go to, and the loader of the demo and tests. Callers never see
// SQL: that is the backend's dialect's.
type Warehouse struct {
	wh *sqlwh.Warehouse
}

// Close closes the connection.
func (w *Warehouse) Close() error { return w.wh.Close() }

// RawTable names a raw-layout table, one message per row, and its columns.
type RawTable struct {
	// Table is schema.table (or database.schema.table) as a user types it;
	// double quotes keep case and spaces.
	Table                          string
	MessageID, ReceivedAt, Payload string
}

func (t RawTable) sql() (sqlwh.RawTable, error) {
	id, err := sqlwh.ParseIdent(t.Table)
	if err != nil {
		return sqlwh.RawTable{}, err
	}
	return sqlwh.RawTable{Table: id, MessageID: t.MessageID, ReceivedAt: t.ReceivedAt, Payload: t.Payload}, nil
}

// Source is a source of one audit, as the catalog names it.
type Source struct {
	audit.Source
	// Name is the source's identity in the result tables: the catalog's
	// schema.table of a raw table whatever its spelling, or segment:SCHEMA.
	Name string
	// Count, when not nil, counts the window's rows, for a progress ETA.
	Count func(context.Context, audit.Window) (int64, error)
	// Proof, when not nil, renders a pushdown plan for the source.
	Proof func(context.Context, audit.PushdownPlan) (Proof, error)
}

// ReadSliced reads the window as eventaudit read DuckDB before its
// streamed scan, and returns the rows read: the read limit benchmarks
// measure the DuckDB targets against (sqlwh.Source.ReadSliced).
func (s *Source) ReadSliced(ctx context.Context, w audit.Window) (int, error) {
	src, ok := s.Source.(*sqlwh.Source)
	if !ok {
		return 0, fmt.Errorf("a sliced read needs a raw table of a SQL warehouse, not %T", s.Source)
	}
	return src.ReadSliced(ctx, w, sqlwh.BaselineSliceRows)
}

// Proof is a pushdown plan rendered for a source: the statement it sends,
// and whether proving rows where they live costs less than fetching them.
type Proof = sqlwh.Proof

// ErrNotProvable wraps why a source cannot prove rows in the warehouse.
var ErrNotProvable = sqlwh.ErrNotProvable

// RawSource opens a raw-layout table for scanning. Any spelling of the
// table resolves, through the catalog, to one Name.
func (w *Warehouse) RawSource(ctx context.Context, t RawTable, shard audit.Shard) (*Source, error) {
	rt, err := t.sql()
	if err != nil {
		return nil, err
	}
	src := &sqlwh.Source{WH: w.wh, Table: rt, Shard: shard}
	canonical, err := src.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	return &Source{Source: src, Name: canonical.String(), Count: src.Count, Proof: src.Proof}, nil
}

// SegmentSource opens Segment's layout in one schema. events are the
// planned track events (each has its own table); matcher finds a row's
// schema, whose shape says which columns rebuild it.
func (w *Warehouse) SegmentSource(ctx context.Context, schema string, events []string, matcher *audit.Matcher, shard audit.Shard) (*Source, error) {
	return w.segmentSource(ctx, &segment.Source{Schema: schema, Events: events, Matcher: matcher, Shard: shard})
}

// SegmentSourceEveryTable is SegmentSource reading the event tables of
// unplanned events too, their columns as properties: what inferring a
// plan from Segment's layout reads.
func (w *Warehouse) SegmentSourceEveryTable(ctx context.Context, schema string, matcher *audit.Matcher) (*Source, error) {
	return w.segmentSource(ctx, &segment.Source{Schema: schema, Matcher: matcher, EveryTable: true})
}

func (w *Warehouse) segmentSource(ctx context.Context, src *segment.Source) (*Source, error) {
	resolved, err := sqlwh.ResolveSchema(ctx, w.wh, src.Schema)
	if err != nil {
		return nil, err
	}
	src.WH, src.Schema = w.wh, resolved
	return &Source{
		Source: src,
		Name:   SegmentSourceName(resolved),
		Proof:  src.Proof,
	}, nil
}

// Results are the result tables in one schema ("" is the connection's
// current schema): the audit.Store a run writes to, and the history
// `eventaudit runs` reads.
type Results struct {
	sqlwh.Store
}

// Results opens the result tables in schema; nothing is created until a
// run commits.
func (w *Warehouse) Results(schema string, now func() time.Time) *Results {
	return &Results{Store: sqlwh.Store{Sink: &sqlwh.Sink{WH: w.wh, Schema: schema}, Now: now}}
}

// ErrNoResults means no audit has written result tables in the schema.
var ErrNoResults = errors.New("no " + sqlwh.RunsTable + " table")

// RecentRuns lists the newest completed runs, newest first; source "" is
// every source, and any spelling of a raw table finds the runs recorded
// under its catalog name.
func (r *Results) RecentRuns(ctx context.Context, source string, limit int) ([]audit.Run, error) {
	if err := r.exist(ctx); err != nil {
		return nil, err
	}
	if id, err := sqlwh.ParseIdent(source); err == nil && source != "" && !strings.HasPrefix(source, segmentPrefix) {
		if canonical, err := sqlwh.ResolveTable(ctx, r.Sink.WH, id); err == nil {
			source = canonical.String()
		}
	}
	return r.Sink.Runs(ctx, source, limit)
}

// Run reads one completed run by id; nil when the result tables hold no
// such run.
func (r *Results) Run(ctx context.Context, runID string) (*audit.Run, error) {
	if err := r.exist(ctx); err != nil {
		return nil, err
	}
	return r.Sink.Run(ctx, runID)
}

// exist fails with ErrNoResults when no audit has written the result
// tables.
func (r *Results) exist(ctx context.Context) error {
	ok, err := r.Sink.HasResults(ctx)
	if err != nil || ok {
		return err
	}
	where := fmt.Sprintf("schema %q", r.Sink.Schema)
	if r.Sink.Schema == "" {
		where = "the connection's default schema"
	}
	return fmt.Errorf("%w in %s", ErrNoResults, where)
}

// CheckQuery is the statement that fetches every violation of one check of
// a run, for a person to paste into the warehouse's console.
func (r *Results) CheckQuery(runID string, c audit.CheckSummary) string {
	d := r.Sink.WH.Dialect
	var conds []string
	for _, f := range []struct{ col, val string }{{"run_id", runID}, {"event_type", c.Type}, {"event_name", c.Name},
		{"schema_id", c.SchemaID}, {"keyword", c.Keyword}, {"instance_path", c.Path}} {
		conds = append(conds, d.QuoteName(f.col)+" = "+d.Literal(f.val))
	}
	return d.SQL("SELECT * FROM %s\nWHERE %s\nORDER BY {message_id}", d.Quote(r.Sink.Table(sqlwh.ViolationsTable)),
		strings.Join(conds, "\n  AND "))
}

// Loader appends messages to a raw-layout table (message_id, received_at,
// payload), for the demo, benchmarks and tests.
type Loader struct {
	wh          *sqlwh.Warehouse
	table       sqlwh.RawTable
	payloadType string
}

// Loader prepares to load table, dropping it first when replace is set.
// payloadType is the SQL type of a new table's payload column; "" is the
// warehouse's text type, which also holds malformed rows.
func (w *Warehouse) Loader(ctx context.Context, table, payloadType string, replace bool) (*Loader, error) {
	rt, err := RawTable{Table: table, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}.sql()
	if err != nil {
		return nil, err
	}
	if replace {
		if err := w.wh.Conn.Exec(ctx, "DROP TABLE IF EXISTS "+w.wh.Dialect.Quote(rt.Table)); err != nil {
			return nil, fmt.Errorf("drop %s: %w", rt.Table, err)
		}
	}
	if payloadType == "" {
		payloadType = w.wh.Dialect.Text
	}
	return &Loader{wh: w.wh, table: rt, payloadType: payloadType}, nil
}

// Load creates the table if it is missing and appends rows in one
// transaction.
func (l *Loader) Load(ctx context.Context, rows []audit.Row) error {
	return l.wh.LoadRaw(ctx, l.table, l.payloadType, rows)
}

// Table is the loaded table's name.
func (l *Loader) Table() string { return l.table.Table.String() }

// Exec runs a statement its caller wrote: benchmarks' setup, never an
// audit's.
func (w *Warehouse) Exec(ctx context.Context, statement string) error {
	return w.wh.Conn.Exec(ctx, statement)
}

const segmentPrefix = "segment:"

// SegmentSourceName is the source name of Segment's layout in a schema.
func SegmentSourceName(schema string) string { return segmentPrefix + schema }

// TableName is a table's name as a user types it, normalised: parts
// unquoted where they may be, so that spellings compare equal.
func TableName(s string) (string, error) {
	id, err := sqlwh.ParseIdent(s)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// SchemaName is the one schema s names, unquoted.
func SchemaName(s string) (string, error) {
	id, err := sqlwh.ParseIdent(s)
	if err != nil {
		return "", err
	}
	if len(id) != 1 {
		return "", fmt.Errorf("%q names %d parts; name one schema, e.g. web_prod", s, len(id))
	}
	return id[0], nil
}

// ViolationsTable is the name of the violations table, for the query a
// report tells a person to run.
const ViolationsTable = sqlwh.ViolationsTable

// RunsTable is the name of the runs table, for a person to query.
const RunsTable = sqlwh.RunsTable

// ResultsTable is schema.table for a person to query ("" is the
// connection's current schema).
func ResultsTable(schema, table string) string {
	if schema == "" {
		return sqlwh.Ident{table}.String()
	}
	return sqlwh.Ident{schema, table}.String()
}

// SegmentNotCheckable lists the rules of a schema that Segment's layout
// cannot honour (lengths it cuts, null it cannot tell from absent).
func SegmentNotCheckable(schemaID string, shape *audit.Shape) []string {
	return segment.NotCheckable(schemaID, shape)
}

// Query runs one reading statement a person typed (eventaudit query): at
// most limit rows, as text with nil for NULL, and whether there were more.
// Anything but one SELECT-like statement is refused, and it runs in a
// transaction that is rolled back, read-only where the warehouse has that.
func (w *Warehouse) Query(ctx context.Context, sql string, limit int) (cols []string, rows [][]*string, more bool, err error) {
	cols, rows, more, err = sqlwh.ReadQuery(ctx, w.wh, sql, limit)
	if errors.Is(err, sqlwh.ErrNotARead) {
		err = audit.Configf(fmt.Errorf("eventaudit query runs %w; use the warehouse's own client to change anything", err))
	}
	return cols, rows, more, err
}
