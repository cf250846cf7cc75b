// Package snowflake is the Snowflake backend, through the gosnowflake
// driver. The shared SQL lives in sqlwh; what is Snowflake's own is here:
// its types (VARIANT, TIMESTAMP_TZ), its catalog, and bulk writes by array
// binding instead of multi-row INSERTs.
package snowflake

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	sf "github.com/snowflakedb/gosnowflake"
)

// StageBindThreshold is the default of Snowflake's session parameter
// CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: from that many bound values in one
// statement, gosnowflake moves the binds through a temporary stage. The
// stage is created with CREATE TEMPORARY STAGE, a DDL statement, and in
// Snowflake DDL commits the open transaction: the run's delete-and-insert
// would stop being atomic. Bulk inserts therefore stay below it.
const StageBindThreshold = 65280

// NewDialect returns Snowflake's SQL.
func NewDialect() *sqlwh.Dialect {
	d := &sqlwh.Dialect{
		Name:        "snowflake",
		Placeholder: sqlwh.Question,
		Text:        "VARCHAR", ShortText: "VARCHAR", Timestamp: "TIMESTAMP_TZ", Bigint: "BIGINT", Bool: "BOOLEAN", Float: "FLOAT",
		JSON: "VARIANT", Value: "VARIANT",
		BackslashEscapes: true,
		PayloadExpr: func(col, typ string) (string, bool) {
			switch typ {
			case "variant", "object":
				// A VARIANT reads back pretty-printed; TO_JSON is compact.
				return "TO_JSON(" + col + ")", true
			case "text", "varchar", "string":
				return col, true
			}
			return "", false
		},
		ShardExpr: func(x string, n int) string {
			return fmt.Sprintf("ABS(HASH(COALESCE(%s, ''))) %% %d", x, n)
		},
		// No LOCK TABLE in Snowflake. Lock-taking starts with a DELETE on
		// the locks table, and a DELETE holds the table's lock until the
		// transaction ends, so concurrent lock-takers queue there and each
		// then reads the rows the one before it committed.
		LockTable: "",
		// The session resolves quoted identifiers case-insensitively (see
		// sessionParams), so names are stored upper-case.
		Columns: func(schema, table string) (string, []any) {
			return `SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF(UPPER(?), ''), UPPER(CURRENT_SCHEMA())) AND table_name = UPPER(?)
ORDER BY ordinal_position`, []any{schema, table}
		},
		// One query for a layout's tables: each INFORMATION_SCHEMA query is
		// a round trip, and an unfiltered one over a large schema is
		// refused ("returned too much data"). Names are upper-cased as in
		// Columns: every name folds so here.
		TableColumns: func(schema string, tables []string) (string, []any) {
			marks := make([]string, len(tables))
			for i := range marks {
				marks[i] = "UPPER(?)"
			}
			return fmt.Sprintf(`SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = COALESCE(NULLIF(UPPER(?), ''), UPPER(CURRENT_SCHEMA())) AND table_name IN (%s)
ORDER BY table_name, ordinal_position`, strings.Join(marks, ", ")), append([]any{schema}, sqlwh.StringArgs(tables)...)
		},
		CaseInsensitive: true,
		ResolveSchema: `SELECT catalog_name, schema_name, CURRENT_DATABASE()
FROM information_schema.schemata
WHERE UPPER(schema_name) = UPPER(?) AND UPPER(catalog_name) = UPPER(COALESCE(NULLIF(?, ''), CURRENT_DATABASE()))`,
		ResolveTable: `SELECT table_catalog, table_schema, table_name, CURRENT_DATABASE()
FROM information_schema.tables
WHERE UPPER(table_schema) = UPPER(COALESCE(NULLIF(?, ''), CURRENT_SCHEMA())) AND UPPER(table_name) = UPPER(?)
  AND UPPER(table_catalog) = UPPER(COALESCE(NULLIF(?, ''), CURRENT_DATABASE()))`,
		Tables: func(schema string) (string, []any) {
			return `SELECT table_name FROM information_schema.tables
WHERE table_schema = COALESCE(NULLIF(UPPER(?), ''), UPPER(CURRENT_SCHEMA())) ORDER BY table_name`, []any{schema}
		},
		MaxParams:         StageBindThreshold - 1,
		MaxStatementBytes: 1 << 20,
	}
	d.ProveColumns = &sqlwh.ColumnProof{
		// NUMBER may be fixed-point, which gosnowflake hands over as an
		// integer or as text; FLOAT is always 64 bits.
		Kinds: map[string]sqlwh.ColumnKind{
			"text": sqlwh.KindText, "number": sqlwh.KindDecimal, "float": sqlwh.KindDouble, "boolean": sqlwh.KindBoolean,
			"timestamp_tz": sqlwh.KindTimestamp, "timestamp_ntz": sqlwh.KindTimestamp, "timestamp_ltz": sqlwh.KindTimestamp,
		},
		// Snowflake's text is valid UTF-8, but may hold NUL.
		Storable: func(x string, max int) string {
			return fmt.Sprintf("(OCTET_LENGTH(%[1]s) <= %[2]d AND NOT CONTAINS(%[1]s, CHR(0)))", x, max)
		},
		Literal: func(s string) string {
			if strings.ContainsRune(s, 0) {
				return "NULL" // equal to nothing: the row is not proven
			}
			return d.Literal(s)
		},
		// A column, schema or account may have a default collation
		// ('en-ci' equates "Home" and "home"); 'utf8' compares bytes.
		Binary: func(x string) string { return "COLLATE(" + x + ", 'utf8')" },
		Length: func(x string) string { return "LENGTH(" + x + ")" },
		Finite: sqlwh.FiniteBetween("FLOAT"),
		Time:   sqlwh.CommonEra,
		// Not measured on an account here: the comparisons run on the
		// warehouse's compute, in the scan it makes anyway.
		Pays: true,
		Why:  "Segment's layout keeps properties as columns, which the warehouse compares as it scans, on its own compute; the rows it proves never leave it or are rebuilt by eventaudit (measured on Postgres, which shares eventaudit's 2 cores here: the same wall time for 18% of eventaudit's CPU, 2026-12-06)",
	}
	return d
}

// sessionParams are set at login.
var sessionParams = map[string]string{
	// Timestamps bound from Go carry no zone marker and arrive as
	// TIMESTAMP_NTZ; in UTC they compare correctly with TIMESTAMP_TZ columns.
	"TIMEZONE": "UTC",
	// eventaudit quotes every identifier, as on the other warehouses; with
	// this, "eventaudit_runs" is the EVENTAUDIT_RUNS an analyst queries
	// unquoted, and a --table typed in lower case finds the upper-case table
	// Segment's loader created.
	"QUOTED_IDENTIFIERS_IGNORE_CASE": "TRUE",
	// Lets an admin find eventaudit's queries in QUERY_HISTORY.
	"QUERY_TAG": "eventaudit",
}

// Open connects to snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE
// with the credentials the URL or creds name, and logs in once so that a
// wrong account or credential fails here, readably.
func Open(ctx context.Context, rawURL string, creds Credentials) (*sqlwh.Warehouse, error) {
	cfg, opts, err := parseURL(rawURL, creds)
	if err != nil {
		return nil, err
	}
	quietDriver()
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	// Each connection is a Snowflake session; the audit needs one to scan,
	// one to write and one for the lock's heartbeat.
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, connectError(cfg, err)
	}
	// Snowflake accepts a login naming a warehouse that does not exist or
	// that the role may not use; the first query would then fail with
	// "No active warehouse selected". Say so now, with the fix.
	var current sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT CURRENT_WAREHOUSE()").Scan(&current); err != nil {
		db.Close()
		return nil, connectError(cfg, err)
	}
	if !current.Valid || current.String == "" {
		db.Close()
		role := cfg.Role
		if role == "" {
			role = "<the user's default role>"
		}
		return nil, fmt.Errorf("connect to Snowflake account %s as %s: warehouse %s does not exist or role %s may not use it; "+
			"check ?warehouse= or run: GRANT USAGE ON WAREHOUSE %s TO ROLE %s", cfg.Account, cfg.User, cfg.Warehouse, role, cfg.Warehouse, role)
	}
	d := NewDialect()
	b := &bulk{dialect: d, variants: map[string][]string{}}
	return &sqlwh.Warehouse{Dialect: d, Conn: &conn{StdConn: &sqlwh.StdConn{DB: db, Dialect: d, Bulk: b.insert},
		arrowBatches: opts.arrowBatches}}, nil
}

// quietDriver turns off gosnowflake's own logging, a setting of the driver
// as a whole: at its default level it writes each failure to stderr in its
// own format ("level=error msg=\"Authentication FAILED\""), beside
// eventaudit's report of the same error and whatever --log-format says.
func quietDriver() { _ = sf.GetLogger().SetLogLevel("fatal") }

// bulk inserts by array binding: one statement per chunk, each column bound
// as one array. VARIANT columns are filled through PARSE_JSON, which
// Snowflake accepts in a SELECT but not in a VALUES clause.
type bulk struct {
	dialect  *sqlwh.Dialect
	mu       sync.Mutex
	variants map[string][]string // table → its VARIANT columns, upper-case
}

func (b *bulk) insert(ctx context.Context, tx *sqlwh.StdTx, table sqlwh.Ident, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	variant, err := b.variantColumns(ctx, tx, table)
	if err != nil {
		return err
	}
	q := InsertSQL(b.dialect, table, cols, variant)
	per := max(1, (StageBindThreshold-1)/len(cols))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, len(cols))
		for c := range cols {
			col := make([]any, len(chunk))
			for r, row := range chunk {
				col[r] = row[c]
			}
			// The type marker only applies to time.Time values.
			args[c] = sf.Array(&col, sf.TimestampTZType)
		}
		if err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// InsertSQL is the statement one array-bound chunk runs.
func InsertSQL(d *sqlwh.Dialect, table sqlwh.Ident, cols []string, variant []string) string {
	names := make([]string, len(cols))
	exprs := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i] = d.QuoteName(c)
		marks[i] = "?"
		e := fmt.Sprintf("column%d", i+1)
		if containsFold(variant, c) {
			// A truncated value is not valid JSON; it is kept as a string.
			// No value ("") is NULL.
			e = fmt.Sprintf("COALESCE(TRY_PARSE_JSON(NULLIF(%s, '')), TO_VARIANT(NULLIF(%s, '')))", e, e)
		}
		exprs[i] = e
	}
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM VALUES (%s)", d.Quote(table),
		strings.Join(names, ", "), strings.Join(exprs, ", "), strings.Join(marks, ", "))
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// variantColumns reads, once per table, which columns hold VARIANTs.
func (b *bulk) variantColumns(ctx context.Context, tx sqlwh.Tx, table sqlwh.Ident) ([]string, error) {
	key := table.String()
	b.mu.Lock()
	v, ok := b.variants[key]
	b.mu.Unlock()
	if ok {
		return v, nil
	}
	q, args := b.dialect.Columns(table.Schema(), table.Table())
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	defer rows.Close()
	v = []string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		switch strings.ToUpper(typ) {
		case "VARIANT", "OBJECT", "ARRAY":
			v = append(v, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.variants[key] = v
	b.mu.Unlock()
	return v, nil
}
