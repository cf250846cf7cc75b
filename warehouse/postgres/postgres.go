// Package postgres is the pgx backend for PostgreSQL and Amazon Redshift.
// They share the wire protocol and most SQL; what Redshift does not accept
// lives in its own dialect (redshift.go), the way pressly/goose keeps
// redshift beside postgres.
package postgres

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresKinds are the column types Postgres and Redshift both hand Go
// as the server compares them. REAL is 32 bits, read by Go as another
// double; NUMERIC reaches Go as pgx's own type; CHAR(n) pads.
func postgresKinds() map[string]sqlwh.ColumnKind {
	return map[string]sqlwh.ColumnKind{
		"text": sqlwh.KindText, "character varying": sqlwh.KindText,
		"smallint": sqlwh.KindInteger, "integer": sqlwh.KindInteger, "bigint": sqlwh.KindInteger,
		"double precision": sqlwh.KindDouble, "boolean": sqlwh.KindBoolean,
		"timestamp with time zone": sqlwh.KindTimestamp, "timestamp without time zone": sqlwh.KindTimestamp,
	}
}

// PostgresDialect is PostgreSQL's SQL.
func PostgresDialect() *sqlwh.Dialect {
	return &sqlwh.Dialect{
		Name:        "postgres",
		Placeholder: sqlwh.Dollar,
		Text:        "TEXT", ShortText: "TEXT", Timestamp: "TIMESTAMPTZ", Bigint: "BIGINT", Bool: "BOOLEAN", JSON: "JSONB",
		PayloadExpr: func(col, typ string) (string, bool) {
			switch typ {
			case "json", "jsonb":
				return col + "::text", true
			case "text", "character varying", "character":
				return col, true
			}
			return "", false
		},
		ShardExpr: func(x string, n int) string {
			return fmt.Sprintf("MOD(ABS(hashtext(COALESCE(%s, ''))::BIGINT), %d)", x, n)
		},
		DistinctCount: true,
		// A b-tree whose first column is received_at, on every row (no
		// predicate), gives MAX without a scan; so does one on a
		// partitioned table, over its partitions'. A BRIN index does not.
		NewestByIndex: func(quotedTable, column string) (string, []any) {
			return `SELECT COUNT(*) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = to_regclass($1) AND a.attname = $2 AND am.amname = 'btree' AND i.indpred IS NULL`, []any{quotedTable, column}
		},
		LockTable: "LOCK TABLE %s IN EXCLUSIVE MODE",
		ReadOnly:  "SET TRANSACTION READ ONLY",
		Prove:     Prove,
		ProveColumns: &sqlwh.ColumnProof{
			Kinds: postgresKinds(),
			// Postgres text holds no NUL, and no invalid UTF-8 in a UTF8
			// database.
			Storable: func(x string, max int) string { return fmt.Sprintf("octet_length(%s) <= %d", x, max) },
			Literal:  literal,
			// A nondeterministic collation (Postgres 12+) equates strings
			// whose bytes differ.
			Binary: func(x string) string { return "(" + x + ` COLLATE "C")` },
			Length: func(x string) string { return "char_length(" + x + ")" },
			Time:   func(x string) string { return "isfinite(" + x + ")" },
			// An array kept as JSON text (Segment's products).
			JSONText: jsonText,
			// NaN compares above every double, Infinity included.
			Finite: func(x string) string {
				return fmt.Sprintf("(%[1]s > CAST('-Infinity' AS DOUBLE PRECISION) AND %[1]s < CAST('Infinity' AS DOUBLE PRECISION))", x)
			},
			// Measured (docs/internals.md), 1M messages on a server
			// sharing the client's 2 cores.
			Pays: true,
			Why:  "Segment's layout keeps properties as columns, which the server compares as it scans: only the invalid rows leave it, and eventaudit neither fetches nor rebuilds the rest (1M messages with the server on eventaudit's own 2 cores, 2026-12-06: 2.85 s against 2.89 s, for 18% of eventaudit's CPU)",
		},
		// A Postgres statement runs on one core (the proof cannot be a
		// parallel query: its array checks are correlated subplans). Two
		// leave the pool's other two connections to the run's lock and
		// its write transaction.
		ProofStatements: 2,
		Columns:         infoSchemaColumns,
		TableColumns: func(schema string, tables []string) (string, []any) {
			return tableColumns("information_schema.columns", schema, tables)
		},
		ResolveSchema: `SELECT catalog_name::text, schema_name::text, current_database()::text
FROM information_schema.schemata
WHERE LOWER(schema_name) = LOWER($1) AND LOWER(catalog_name) = LOWER(COALESCE(NULLIF($2, ''), current_database()))`,
		ResolveTable: `SELECT table_catalog::text, table_schema::text, table_name::text, current_database()::text
FROM information_schema.tables
WHERE LOWER(table_schema) = LOWER(COALESCE(NULLIF($1, ''), current_schema())) AND LOWER(table_name) = LOWER($2)
  AND LOWER(table_catalog) = LOWER(COALESCE(NULLIF($3, ''), current_database()))`,
		// Any user sees every backend's pid in pg_stat_activity.
		SessionAlive: `SELECT COUNT(*) FROM pg_stat_activity WHERE pid::text = $1`,
		Tables: func(schema string) (string, []any) {
			return `SELECT table_name::text FROM information_schema.tables
WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) ORDER BY table_name`, []any{schema}
		},
		MaxParams:         65535,
		MaxStatementBytes: 256 << 20,
	}
}

// infoSchemaColumns is the catalog query both Postgres and, for plain
// tables, Redshift accept.
func infoSchemaColumns(schema, table string) (string, []any) {
	return `SELECT column_name::text, data_type::text FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) AND table_name = $2
ORDER BY ordinal_position`, []any{schema, table}
}

// tableColumns renders Dialect.TableColumns over a catalog view with the
// standard columns (information_schema.columns, Redshift's svv_columns).
func tableColumns(view, schema string, tables []string) (string, []any) {
	return fmt.Sprintf(`SELECT table_name::text, column_name::text, data_type::text FROM %s
WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) AND table_name IN (%s)
ORDER BY table_name, ordinal_position`, view, sqlwh.Placeholders(sqlwh.Dollar, 2, len(tables))),
		append([]any{schema}, sqlwh.StringArgs(tables)...)
}

// Open connects to postgres://… or redshift://… (pgx connection-string
// parameters apply; default_query_exec_mode=simple_protocol suits poolers).
func Open(ctx context.Context, rawURL string) (*sqlwh.Warehouse, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	redshift := scheme == "redshift"
	cfg, err := pgxpool.ParseConfig("postgres://" + rest)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, audit.Configf(fmt.Errorf("warehouse URL %s://…: %s", scheme, describeParseError(err)))
	}
	if redshift && !hasPort(rest) {
		cfg.ConnConfig.Port = 5439
	}
	// Timestamps without a zone are read and compared as UTC.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "eventaudit"
	cfg.MaxConns = 4
	// pgx reads the socket 8 KB at a time; a window scan streams hundreds
	// of MB, so a larger buffer saves most of the read syscalls.
	cfg.ConnConfig.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return pgproto3.NewFrontend(bufio.NewReaderSize(r, 256<<10), w)
	}
	cfg.ConnConfig.DialFunc = gatherDial(cfg.ConnConfig.DialFunc)
	if !redshift {
		cfg.AfterConnect = noJIT
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", scheme, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s at %s:%d as %s: %w", scheme, cfg.ConnConfig.Host, cfg.ConnConfig.Port,
			cfg.ConnConfig.User, connectHint(err))
	}
	d := PostgresDialect()
	if redshift {
		d = RedshiftDialect()
	}
	return &sqlwh.Warehouse{Dialect: d, Conn: NewConn(pool, d)}, nil
}

// noJIT turns off Postgres's JIT compilation for the session. The
// pushdown proof's estimated cost is far above jit_above_cost, and LLVM
// then spends longer compiling its expressions than the server spends
// running them: 8 of 13 s over 200k rows (docs/internals.md). eventaudit's
// other statements are scans and writes, which JIT does not speed up.
// A server before Postgres 11 has no JIT and no such setting.
func noJIT(ctx context.Context, c *pgx.Conn) error {
	_, err := c.Exec(ctx, "SET jit = off")
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42704" {
		return nil
	}
	return err
}

// hasPort reports whether the host part of USER:PASS@HOST:PORT/DB names a port.
// The password may hold '/' or ':', so the host starts after the last '@'.
func hasPort(rest string) bool {
	rest, _, _ = strings.Cut(rest, "?")
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	host, _, _ := strings.Cut(rest, "/")
	return strings.Contains(host, ":")
}

func describeParseError(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		return pe.Unwrap().Error()
	}
	return "cannot parse it: check its form, postgres://USER:PASSWORD@HOST:PORT/DATABASE"
}

// connectHint keeps the driver's reason and adds what to check.
func connectHint(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "password authentication failed"), strings.Contains(msg, "SQLSTATE 28"):
		return fmt.Errorf("%w (check the user and password)", err)
	case strings.Contains(msg, "connect: connection refused"), strings.Contains(msg, "no such host"), strings.Contains(msg, "i/o timeout"):
		return fmt.Errorf("%w (check the host, port and network access)", err)
	}
	return err
}

// Conn adapts a pgx pool to sqlwh.Conn. Exported so tests can pair a pool
// with another dialect.
type Conn struct {
	pool    *pgxpool.Pool
	dialect *sqlwh.Dialect
}

// NewConn wraps pool for dialect d.
func NewConn(pool *pgxpool.Pool, d *sqlwh.Dialect) *Conn { return &Conn{pool: pool, dialect: d} }

func (c *Conn) Exec(ctx context.Context, q string, args ...any) error {
	_, err := c.pool.Exec(ctx, q, args...)
	return err
}

// Query streams: pgx reads rows off the socket as they are consumed, and the
// server waits on TCP back-pressure, so a large window never sits in
// client memory.
func (c *Conn) Query(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	if sqlwh.IsProofRead(ctx) {
		return c.queryProof(ctx, q, args...)
	}
	rows, err := c.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

func (c *Conn) Begin(ctx context.Context) (sqlwh.Tx, error) {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &pgTx{tx: tx, dialect: c.dialect}, nil
}

func (c *Conn) Close() error { c.pool.Close(); return nil }

// Hold implements sqlwh.Sessions: one pooled connection, pinned for the
// lock's life, named by its backend pid.
func (c *Conn) Hold(ctx context.Context) (sqlwh.Session, error) {
	if c.dialect.SessionAlive == "" {
		return nil, nil
	}
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	var pid string
	if err := pc.QueryRow(ctx, "SELECT pg_backend_pid()::text").Scan(&pid); err != nil {
		pc.Release()
		return nil, err
	}
	return &session{conn: pc, id: pid, dialect: c.dialect}, nil
}

type session struct {
	conn    *pgxpool.Conn
	id      string
	dialect *sqlwh.Dialect
}

// Gone implements sqlwh.Session. A pid the server reused for another
// session looks alive, which only delays the lock's clearing to its expiry.
func (s *session) Gone(ctx context.Context, id string) (bool, error) {
	var n int64
	if err := s.conn.QueryRow(ctx, s.dialect.SessionAlive, id).Scan(&n); err != nil {
		return false, err
	}
	return n == 0, nil
}

func (s *session) Begin(ctx context.Context) (sqlwh.Tx, error) {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &pgTx{tx: tx, dialect: s.dialect}, nil
}

func (s *session) ID() string { return s.id }

func (s *session) Exec(ctx context.Context, q string, args ...any) error {
	_, err := s.conn.Exec(ctx, q, args...)
	return err
}

func (s *session) Close() error { s.conn.Release(); return nil }

type pgRows struct{ pgx.Rows }

func (r pgRows) Columns() ([]string, error) {
	fds := r.FieldDescriptions()
	out := make([]string, len(fds))
	for i, fd := range fds {
		out[i] = fd.Name
	}
	return out, nil
}

func (r pgRows) Close() error { r.Rows.Close(); return r.Rows.Err() }

// pgEpoch is where PostgreSQL's binary timestamps count from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ScanRow implements sqlwh.RowScanner for the window scan's three columns
// (text id, timestamptz, text payload), reading pgx's raw values: the
// payload is copied once into the batch's arena instead of into a slice of
// its own. Any other shape falls back to Scan.
func (r pgRows) ScanRow(row *audit.Row, arena []byte) ([]byte, bool, error) {
	fds := r.FieldDescriptions()
	vals := r.RawValues()
	if len(fds) != 3 || len(vals) != 3 || fds[1].Format != pgx.BinaryFormatCode ||
		(fds[1].DataTypeOID != pgtype.TimestamptzOID && fds[1].DataTypeOID != pgtype.TimestampOID) || len(vals[1]) != 8 {
		return arena, false, nil
	}
	micros := int64(binary.BigEndian.Uint64(vals[1]))
	if micros == math.MaxInt64 || micros == math.MinInt64 {
		return arena, false, nil // ±infinity: let Scan say what it makes of it
	}
	row.ReceivedAt = pgEpoch.Add(time.Duration(micros) * time.Microsecond)
	if vals[0] != nil {
		row.MessageID = string(vals[0])
	}
	if p := vals[2]; p != nil {
		arena, row.Payload = sqlwh.AppendPayload(arena, p)
	}
	return arena, true, nil
}

type pgTx struct {
	tx      pgx.Tx
	dialect *sqlwh.Dialect
}

func (t *pgTx) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.Exec(ctx, q, args...)
	return err
}

func (t *pgTx) Query(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

// BulkInsert uses COPY on Postgres. Redshift has no COPY FROM STDIN, so its
// dialect inserts multi-row VALUES under its statement caps instead.
func (t *pgTx) BulkInsert(ctx context.Context, table sqlwh.Ident, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if t.dialect.BulkWrite == sqlwh.BulkValues {
		return t.dialect.InsertBatched(ctx, t, table, cols, t.dialect.FitText(rows))
	}
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier(table), cols, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

func (t *pgTx) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t *pgTx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }
