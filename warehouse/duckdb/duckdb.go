// Package duckdb is the embedded default warehouse: a DuckDB file holding
// the raw events and, beside them, the result tables.
package duckdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// NewDialect returns DuckDB's SQL.
func NewDialect() *sqlwh.Dialect {
	return &sqlwh.Dialect{
		Name:        "duckdb",
		Placeholder: sqlwh.Question,
		Text:        "VARCHAR", ShortText: "VARCHAR", Timestamp: "TIMESTAMPTZ", Bigint: "BIGINT", Bool: "BOOLEAN", JSON: "JSON",
		PayloadExpr: func(col, typ string) (string, bool) {
			switch typ {
			case "json":
				// Scanning JSON into []byte is unsupported by the driver.
				return "CAST(" + col + " AS VARCHAR)", true
			case "varchar", "text", "string":
				return col, true
			}
			return "", false
		},
		HashText: func(x string) string { return "hash(" + x + ")" },
		ShardExpr: func(x string, n int) string {
			return fmt.Sprintf("CAST(hash(COALESCE(%s, '')) %% %d AS INTEGER)", x, n)
		},
		Prove: Prove,
		ProveColumns: &sqlwh.ColumnProof{
			// FLOAT is 32 bits, read by Go as another double; unsigned and
			// huge integers may not fit an int64.
			Kinds: map[string]sqlwh.ColumnKind{
				"varchar": sqlwh.KindText, "tinyint": sqlwh.KindInteger, "smallint": sqlwh.KindInteger,
				"integer": sqlwh.KindInteger, "bigint": sqlwh.KindInteger, "double": sqlwh.KindDouble,
				"boolean": sqlwh.KindBoolean, "timestamp": sqlwh.KindTimestamp, "timestamp with time zone": sqlwh.KindTimestamp,
			},
			Storable: func(x string, max int) string {
				return fmt.Sprintf("(strlen(%[1]s) <= %[2]d AND NOT contains(%[1]s, chr(0)) AND NOT contains(%[1]s, chr(65533)))", x, max)
			},
			Literal: quote,
			Length:  func(x string) string { return "length(" + x + ")" },
			Time:    func(x string) string { return "isfinite(" + x + ")" },
			// NaN compares above every double, +Infinity included.
			Finite: func(x string) string {
				return fmt.Sprintf("(%[1]s > CAST('-Infinity' AS DOUBLE) AND %[1]s < CAST('Infinity' AS DOUBLE))", x)
			},
			// Measured (docs/internals.md), 1M messages: a comparison per
			// column costs DuckDB less than rebuilding a message in Go.
			Pays: true,
			Why:  "Segment's layout keeps properties as columns, which DuckDB compares for less than rebuilding each message costs (1M messages, 2026-12-06: 2.41 s against 2.85 s)",
		},
		Columns: func(schema, table string) (string, []any) {
			if schema == "" {
				return `SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, []any{table}
			}
			return `SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`, []any{schema, table}
		},
		TableColumns: func(schema string, tables []string) (string, []any) {
			where, args := "table_schema = current_schema()", []any{}
			if schema != "" {
				where, args = "table_schema = ?", []any{schema}
			}
			return fmt.Sprintf(`SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE %s AND table_name IN (%s) ORDER BY table_name, ordinal_position`, where, sqlwh.Placeholders(sqlwh.Question, 1, len(tables))),
				append(args, sqlwh.StringArgs(tables)...)
		},
		ResolveSchema: `SELECT catalog_name, schema_name, current_database()
FROM information_schema.schemata
WHERE LOWER(schema_name) = LOWER(?) AND LOWER(catalog_name) = LOWER(COALESCE(NULLIF(?, ''), current_database()))`,
		ResolveTable: `SELECT table_catalog, table_schema, table_name, current_database()
FROM information_schema.tables
WHERE LOWER(table_schema) = LOWER(COALESCE(NULLIF(?, ''), current_schema())) AND LOWER(table_name) = LOWER(?)
  AND LOWER(table_catalog) = LOWER(COALESCE(NULLIF(?, ''), current_database()))`,
		Tables: func(schema string) (string, []any) {
			return `SELECT table_name FROM information_schema.tables
WHERE table_schema = COALESCE(NULLIF(?, ''), current_schema()) ORDER BY table_name`, []any{schema}
		},
		// duckdb-go runs queries with duckdb_pending_prepared, which
		// materialises the whole result: a 10M-row window would sit in memory.
		// The raw layout's window scan streams instead (stream.go) and takes
		// no slices; these bound Segment's layout and the pushdown scan.
		// Two slices are materialised at a time (one read, the next run
		// ahead), outside the buffer pool's limit: at 10,000 rows a 10M-row
		// run peaked at 252-264 MB, at 5,000 at 228-246 MB, with no time
		// lost at 3M rows; 2,500 saved another 10 MB for 5-8% of the time.
		// Cuts come from approx_quantile (a t-digest): exact quantiles would
		// sort every timestamp, and any cut partitions the window correctly.
		SliceRows: 5000,
		// The pushdown scan returns 5% of its slice's rows, the invalid
		// ones: at 1M rows, slices of 50,000 took it from 32 s to 22 s
		// (each slice plans the long statement again) and its peak RSS
		// from 652 to 594 MB; 200,000 saved no more.
		ProofSliceRows: 50000,
		Quantiles: func(at, from, where string, k int) string {
			qs := make([]string, k-1)
			for i := range qs {
				qs[i] = strconv.FormatFloat(float64(i+1)/float64(k), 'f', -1, 64)
			}
			return fmt.Sprintf("SELECT DISTINCT UNNEST(approx_quantile(%s, [%s])) AS q FROM %s WHERE %s ORDER BY q",
				at, strings.Join(qs, ", "), from, where)
		},
		MaxParams:         30000,
		MaxStatementBytes: 64 << 20,
	}
}

// DefaultMemoryLimit bounds DuckDB's buffer pool unless the URL sets one.
// An audit reads each block once; 32 MB keeps a run's peak RSS, which
// also counts the 70 MB binary, under 256 MB. 16 MB saves 14 MB at 10M
// rows but fails reading the runs' history.
const DefaultMemoryLimit = "32MB"

// GroupingMemoryLimit is DuckDB's limit while it counts duplicate message
// ids (sqlwh.Dialect.GroupingRoom), before the scan. Grouping the ids
// themselves, 10M fitted in 96 MB (64 MB ran out of memory); grouping
// their hashes first (HashText), in 64 MB, which leaves room for about
// half as many again. A larger window says to raise memory_limit.
const GroupingMemoryLimit = "96MB"

// ProofMemoryLimit is DuckDB's limit while it proves rows in SQL
// (sqlwh.Dialect.ProofRoom). The demo's 3,000 rows need 128 MB; a 1M-row
// window needed 192 MB in 5,000-row slices, and runs within this in the
// proof's 50,000-row ones.
const ProofMemoryLimit = "256MB"

// CheckpointThreshold is the write-ahead log's size past which a commit
// checkpoints (DuckDB's default is 16 MB). A run's results commit in one
// transaction of a few MB: under the default they went to the log, and
// closing the file checkpointed them again, 105 ms of a 1.7 s run of 1M
// rows. Past this threshold the commit writes them to the file itself,
// and the run is about 70 ms shorter. The small commits of locks and
// heartbeats stay in the log. DuckDB weighs a commit by its rows and
// their column types (a string counts 16 bytes), so a run checkpoints at
// commit from about 6,000 violations. ?checkpoint_threshold= (or its other
// name, wal_autocheckpoint) overrides it.
const CheckpointThreshold = "1MB"

// setsAny says whether a URL's query string sets a DuckDB setting by any
// of its names: DuckDB takes memory_limit as max_memory too, and
// checkpoint_threshold as wal_autocheckpoint.
func setsAny(options string, names ...string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return strings.Contains(options, n) })
}

func setMemoryLimit(limit string) string { return "SET GLOBAL memory_limit = '" + limit + "'" }

// openError explains DuckDB's lock error: one process at a time may open
// a file for writing, so `eventaudit runs` fails while an audit runs.
func openError(path string, err error) error {
	if !strings.Contains(err.Error(), "Could not set lock on file") {
		return fmt.Errorf("open duckdb %q: %w", path, err)
	}
	holder := "another process"
	if m := lockHolder.FindStringSubmatch(err.Error()); m != nil {
		holder += " (PID " + m[1] + ")"
	}
	return fmt.Errorf("the DuckDB file %s is in use by %s, probably an audit or a load still running, or a DuckDB client: "+
		"DuckDB lets one process at a time open a file; wait for it to finish and run this again, or query a copy of the file (%w)", path, holder, err)
}

var lockHolder = regexp.MustCompile(`\(PID (\d+)\)`)

// Open opens duckdb://PATH (PATH may be relative; duckdb:// alone or
// duckdb://:memory: is an in-memory database).
func Open(ctx context.Context, rawURL string) (*sqlwh.Warehouse, error) {
	rest, ok := strings.CutPrefix(rawURL, "duckdb://")
	if !ok {
		return nil, fmt.Errorf("not a duckdb URL: %q", rawURL)
	}
	// DuckDB settings ride in the query string: duckdb://f.duckdb?threads=4.
	path, options, _ := strings.Cut(rest, "?")
	if path == ":memory:" {
		path = ""
	}
	// duckdb-go parses the DSN as a URL but opens the raw string as the file,
	// so neither escaping nor these characters can work.
	if strings.ContainsAny(path, "%?") {
		return nil, audit.Configf(fmt.Errorf("duckdb path %q contains %% or ?, which the DuckDB driver cannot open: rename the file or its folder", path))
	}
	dsn := path
	if options != "" {
		dsn += "?" + options
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, openError(path, err)
	}
	// Timestamps are compared and returned in UTC whatever the host's zone;
	// GLOBAL so that every pooled connection sees it.
	if _, err := db.ExecContext(ctx, "SET GLOBAL TimeZone = 'UTC'"); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	// DuckDB's buffer pool defaults to 80% of RAM; the audit reads each
	// block once, so caching buys nothing and memory would grow with the
	// table. Spills go to DuckDB's temp directory. ?memory_limit= (or its other
	// name, max_memory) overrides.
	d := NewDialect()
	if !setsAny(options, "memory_limit", "max_memory") {
		if _, err := db.ExecContext(ctx, setMemoryLimit(DefaultMemoryLimit)); err != nil {
			db.Close()
			return nil, openError(path, err)
		}
		// Counting duplicates groups every message id of the window: at
		// 10M ids DuckDB runs out of 32 MB even spilling, and 96 MB is
		// enough.
		d.GroupingRoom = &[2]string{setMemoryLimit(GroupingMemoryLimit), setMemoryLimit(DefaultMemoryLimit)}
		d.ProofRoom = &[2]string{setMemoryLimit(ProofMemoryLimit), setMemoryLimit(DefaultMemoryLimit)}
	}
	if !setsAny(options, "checkpoint_threshold", "wal_autocheckpoint") {
		if _, err := db.ExecContext(ctx, "SET GLOBAL checkpoint_threshold = '"+CheckpointThreshold+"'"); err != nil {
			db.Close()
			return nil, openError(path, err)
		}
	}
	bulk := func(ctx context.Context, tx *sqlwh.StdTx, table sqlwh.Ident, cols []string, rows [][]any) error {
		return appendRows(ctx, tx, d, table, cols, rows)
	}
	return &sqlwh.Warehouse{Dialect: d, Conn: &conn{StdConn: &sqlwh.StdConn{DB: db, Dialect: d, Bulk: bulk}, scans: &scanRegistry{}}}, nil
}

// conn streams the raw layout's window scans, reads other bulk reads
// through Arrow, and knows which locks are held by a live process. DuckDB
// lets one process at a time open a file for writing, so a process that
// writes a lock row can be sure that a lock held by any other process is
// left over from one that has ended.
type conn struct {
	*sqlwh.StdConn
	scans *scanRegistry
}

// Query streams the raw layout's window scan (sqlwh.IsRawRead, stream.go),
// reads another data scan (sqlwh.IsBulkRead) through DuckDB's Arrow
// interface where the build has it, and every other query through
// database/sql's row path.
func (c *conn) Query(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	switch {
	case sqlwh.IsRawRead(ctx):
		return c.streamRaw(ctx, q, args)
	case sqlwh.IsBulkRead(ctx):
		return queryArrow(ctx, c.DB, q, args)
	}
	return c.StdConn.Query(ctx, q, args...)
}

// StreamsRawReads implements sqlwh.RawStreamer.
func (c *conn) StreamsRawReads() bool { return true }

// process names this process: its pid alone could be a dead process's
// again (every container's first process is pid 1), hence the nonce.
var process = func() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	host, _ := os.Hostname()
	return fmt.Sprintf("duckdb:%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}()

// Hold implements sqlwh.Sessions; the session is the process.
func (c *conn) Hold(context.Context) (sqlwh.Session, error) { return processSession{c.StdConn}, nil }

type processSession struct{ *sqlwh.StdConn }

// Gone implements sqlwh.Session.
func (processSession) Gone(_ context.Context, id string) (bool, error) {
	return strings.HasPrefix(id, "duckdb:") && id != process, nil
}

func (processSession) ID() string   { return process }
func (processSession) Close() error { return nil }
