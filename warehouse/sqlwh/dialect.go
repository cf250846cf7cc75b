package sqlwh

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dialect is what differs between warehouses. It is a plain value, so a new
// backend is a new value, not a new type hierarchy.
type Dialect struct {
	Name string
	// QuoteIdent quotes one identifier part; nil is the SQL standard's
	// double quotes, which every warehouse here accepts. A backend that
	// quotes otherwise (BigQuery's backticks) sets it, and every statement
	// eventaudit writes follows, since all of them are rendered by SQL.
	QuoteIdent func(part string) string
	// BackslashEscapes says a string literal's backslashes are escapes
	// (Snowflake), so Literal doubles them.
	BackslashEscapes bool
	// TextType is the type CAST(… AS …) turns a message id into text with;
	// "" is VARCHAR.
	TextType string
	// Placeholder renders the n-th (1-based) bind parameter.
	Placeholder func(n int) string
	// Types of the result tables' columns.
	Text, ShortText, Timestamp, Bigint, Bool string
	// Float is the double-precision type; "" is DOUBLE PRECISION.
	Float string
	// BulkWrite is how result rows are written: the driver's native bulk
	// path (COPY, array binding) or multi-row INSERTs.
	BulkWrite BulkWrite
	// MaxTextBytes, when set, is the longest string a text column takes:
	// longer values are cut on a rune boundary by FitText rather than
	// failing the run (Redshift rejects, where others truncate or widen).
	MaxTextBytes int
	// JSON is the native type for a JSON payload column (JSON, JSONB, SUPER,
	// VARIANT); tests and the load command create tables with it.
	JSON string
	// Value, when set, is the type of the violations' offending value, for
	// warehouses whose JSON type takes any JSON text (Snowflake's VARIANT);
	// otherwise it is Text, since a truncated value is not valid JSON.
	Value string
	// PayloadExpr renders the SELECT expression that reads a payload column
	// of the given (lower-case) type as JSON text; ok=false means the type
	// cannot hold a Segment message.
	PayloadExpr func(quotedCol, colType string) (expr string, ok bool)
	// ShardExpr renders a non-negative integer hash bucket in [0, n) of a
	// text expression; a NULL message id must land in some bucket.
	ShardExpr func(textExpr string, n int) string
	// ReadOnly, when set, makes the current transaction read-only, for the
	// statements a person types (eventaudit query).
	ReadOnly string
	// LockTable, when set, is the statement that serialises lock-taking
	// (%s is the locks table); without it a primary key does the job.
	LockTable string
	// Columns renders the catalog query listing (column_name, data_type) of
	// a table; schema "" means the connection's current schema.
	Columns func(schema, table string) (query string, args []any)
	// TableColumns, when set, renders the catalog query listing
	// (table_name, column_name, data_type) of the named tables of a schema
	// ("" is the current one), ordered by table and position: one query
	// where Columns would take one per table.
	TableColumns func(schema string, tables []string) (query string, args []any)
	// ResolveTable renders the catalog query finding a table (or view) by
	// name, case-insensitively: one row (catalog, schema, table,
	// current database) per candidate. Its parameters are the schema ("" is
	// the current one), the table and the catalog ("" is the current one).
	ResolveTable string
	// ResolveSchema renders the catalog query finding a schema by name,
	// case-insensitively: one row (catalog, schema, current database) per
	// candidate. Its parameters are the schema and the catalog ("" is the
	// current one).
	ResolveSchema string
	// CaseInsensitive says every identifier, quoted or not, names the same
	// object whatever its case (Snowflake with
	// QUOTED_IDENTIFIERS_IGNORE_CASE): a resolved name is then lower-cased,
	// the way users type it.
	CaseInsensitive bool
	// SessionAlive, when set, is a query with one parameter, a session id
	// (Postgres: a backend pid as text), returning how many live sessions
	// have it; a lock whose holder's session has ended is stale at once.
	SessionAlive string
	// Tables renders the catalog query listing the table names of a schema
	// ("" is the connection's current schema), for Segment's layout.
	Tables func(schema string) (query string, args []any)
	// SliceRows, when set, bounds how many rows one scan query may return:
	// for drivers that materialise a whole result before yielding its first
	// row (duckdb-go), the window is cut at quantiles of received_at into
	// slices of about this many rows.
	SliceRows int
	// ProofSliceRows, when set, takes SliceRows' place for the pushdown
	// scan, whose slices return only the rows not proven: larger slices
	// hold no more in memory, and each saves the engine planning the long
	// statement again (DuckDB: a third of its proof's time at 5,000 rows).
	ProofSliceRows int
	// Quantiles renders a query returning, one per row, the received_at
	// values that cut the window into k slices of equal row counts; its
	// parameters are the window's start and end.
	Quantiles func(receivedAt, from, where string, k int) string
	// Prove, when set, returns how the dialect renders a pushdown plan over
	// a payload column of the given (lower-case) type, or an error wrapping
	// ErrNotProvable saying why it does not for that type.
	Prove func(quotedCol, colType string) (JSONProof, error)
	// Columns, when set, is how the dialect renders a pushdown plan over
	// plain columns (Segment's layout), where no JSON is parsed.
	ProveColumns *ColumnProof
	// MaxParams and MaxStatementBytes cap one multi-row INSERT.
	MaxParams         int
	MaxStatementBytes int
	// GroupingRoom, when set, are the statements run before and after a
	// grouping over every message id of a window (the duplicates count):
	// an engine that bounds its memory tightly for the scan (DuckDB) needs
	// more for a hash table of millions of ids, even spilling.
	GroupingRoom *[2]string
	// HashText, when set, renders a 64-bit hash of a text. The duplicates
	// count then groups the hashes first and the ids only where a hash
	// repeats: exact still, as equal ids have equal hashes, and a column
	// store reads the ids twice to group 8-byte keys instead of strings
	// (DuckDB: 10M ids in 0.94 s against 1.88 s, and within 64 MB, where
	// grouping the ids needs 96). A row store, which reads whole rows
	// twice, leaves it unset.
	HashText func(text string) string
	// DistinctCount, when set, counts the duplicates as the window's
	// non-NULL ids less their distinct values, an aggregate Postgres sorts,
	// instead of grouping the ids, which Postgres hashes and, past its
	// default 4 MB work_mem, spills: 1M ids in 0.69 s against 1.0 s of the
	// server's CPU, which the scan beside it shares.
	DistinctCount bool
	// NewestByIndex, when set with DistinctCount, renders a catalog query
	// counting the indexes that answer MAX of a table's column without
	// reading the table (its parameters are the table's quoted name and
	// the column's). Where there is none, the newest row reads every row
	// anyway, and the duplicates are counted in that same scan
	// (OneScanVitalsSQL) instead of a second one over the window.
	NewestByIndex func(quotedTable, column string) (string, []any)
	// ProofRoom, likewise, surrounds the pushdown scan: DuckDB's json_
	// functions and lambdas hold buffers per vector and call that a
	// tight limit cannot hold.
	ProofRoom *[2]string
	// ProofStatements, when above 1, is how many statements the pushdown
	// scan of an unsliced window runs at once, each over an equal part of
	// it (in Segment's layout, each over a table) on a connection of its
	// own: an engine that runs a statement on one core (Postgres) then
	// proves rows on as many. Each part is one statement, so every row is
	// still either fetched or counted, once.
	ProofStatements int
}

// Literal renders s as a string literal, for statements printed for a
// person to run (eventaudit never sends user data any other way than as
// bind parameters).
func (d *Dialect) Literal(s string) string {
	if d.BackslashEscapes {
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// IsConflict reports whether err is a write that lost to a concurrent
// transaction and may simply be retried: DuckDB's optimistic concurrency
// ("Conflict on tuple …"), a duplicate key from a racing insert, or a
// serialization failure (Postgres 40001, Redshift 1023).
func (d *Dialect) IsConflict(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"conflict", "duplicate key", "unique constraint", "serializ", "40001", "deadlock"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// BulkWrite names a way of writing many rows.
type BulkWrite int

const (
	// BulkNative is the backend's own bulk path.
	BulkNative BulkWrite = iota
	// BulkValues is multi-row INSERT … VALUES under MaxParams and
	// MaxStatementBytes, for warehouses with no streaming load from a
	// client (Redshift has no COPY FROM STDIN).
	BulkValues
)

// FloatType is the dialect's double-precision type.
func (d *Dialect) FloatType() string {
	if d.Float == "" {
		return "DOUBLE PRECISION"
	}
	return d.Float
}

// FitText cuts, in place, every string longer than MaxTextBytes on a rune
// boundary.
func (d *Dialect) FitText(rows [][]any) [][]any {
	if d.MaxTextBytes <= 0 {
		return rows
	}
	for _, r := range rows {
		for i, v := range r {
			if s, ok := v.(string); ok && len(s) > d.MaxTextBytes {
				cut := d.MaxTextBytes
				for cut > 0 && !utf8.RuneStart(s[cut]) {
					cut--
				}
				r[i] = s[:cut]
			}
		}
	}
	return rows
}

// Dollar renders $1, $2, … (Postgres, Redshift).
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// Question renders ? for every parameter (DuckDB, Snowflake).
func Question(int) string { return "?" }

// Quote quotes an identifier with all its parts.
func (d *Dialect) Quote(id Ident) string {
	parts := make([]string, len(id))
	for i, p := range id {
		parts[i] = d.QuoteName(p)
	}
	return strings.Join(parts, ".")
}

// QuoteName quotes one identifier part: a column, a schema.
func (d *Dialect) QuoteName(part string) string {
	if d.QuoteIdent != nil {
		return d.QuoteIdent(part)
	}
	return quoteDouble(part)
}

// AsText renders a cast of an expression to text.
func (d *Dialect) AsText(expr string) string {
	typ := d.TextType
	if typ == "" {
		typ = "VARCHAR"
	}
	return "CAST(" + expr + " AS " + typ + ")"
}

// SQL renders a statement written with {name} for each identifier: every
// {name} becomes the dialect's quoting of name, then the arguments are
// formatted in as by fmt.Sprintf. Shared SQL is written this way so that no
// statement quotes an identifier by hand. Only {lower_case_words} are
// names; the substitution happens before the arguments go in, so their
// text (quoted tables, literals) is never rewritten.
func (d *Dialect) SQL(format string, args ...any) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(format, '{')
		if open < 0 {
			b.WriteString(format)
			break
		}
		end := strings.IndexByte(format[open:], '}')
		if end < 0 || !isPlain(format[open+1:open+end]) {
			b.WriteString(format[:open+1])
			format = format[open+1:]
			continue
		}
		b.WriteString(format[:open])
		b.WriteString(strings.ReplaceAll(d.QuoteName(format[open+1:open+end]), "%", "%%"))
		format = format[open+end+1:]
	}
	if len(args) == 0 {
		return strings.ReplaceAll(b.String(), "%%", "%")
	}
	return fmt.Sprintf(b.String(), args...)
}

// InsertSQL renders a multi-row INSERT of rows×len(cols) parameters.
func (d *Dialect) InsertSQL(table Ident, cols []string, rows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (", d.Quote(table))
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.QuoteName(c))
	}
	b.WriteString(") VALUES ")
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.Placeholder(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Execer runs a statement; a pgx.Tx, *sql.Tx or *sql.Conn adapter.
type Execer interface {
	Exec(ctx context.Context, query string, args ...any) error
}

// InsertBatched inserts rows with as few multi-row INSERTs as the dialect's
// parameter and statement-size caps allow.
func (d *Dialect) InsertBatched(ctx context.Context, ex Execer, table Ident, cols []string, rows [][]any) error {
	maxRows := d.MaxParams / len(cols)
	for start := 0; start < len(rows); {
		end, size := start, 0
		for end < len(rows) && end-start < maxRows {
			rs := rowSize(rows[end])
			if end > start && size+rs > d.MaxStatementBytes/2 {
				break // half the cap leaves room for the SQL text itself
			}
			size += rs
			end++
		}
		args := make([]any, 0, (end-start)*len(cols))
		for _, r := range rows[start:end] {
			args = append(args, r...)
		}
		if err := ex.Exec(ctx, d.InsertSQL(table, cols, end-start), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		start = end
	}
	return nil
}

func rowSize(r []any) int {
	n := 0
	for _, v := range r {
		if s, ok := v.(string); ok {
			n += len(s) + 4
		} else {
			n += 16
		}
	}
	return n
}

// Placeholders renders n bind parameters in a placeholder style (Dollar,
// Question), numbered from first, separated by commas: an IN list.
func Placeholders(placeholder func(int) string, first, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = placeholder(first + i)
	}
	return strings.Join(ps, ", ")
}

// StringArgs is ss as bind arguments.
func StringArgs(ss []string) []any {
	args := make([]any, len(ss))
	for i, s := range ss {
		args[i] = s
	}
	return args
}
