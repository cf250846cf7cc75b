package sqlwh

import (
	"context"

	"github.com/eventaudit/eventaudit/audit"
)

// Conn is the little a backend's connection must do for the shared SQL.
type Conn interface {
	Execer
	// Query streams a result: rows are fetched as they are consumed, so a
	// large window never sits in memory.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	Begin(ctx context.Context) (Tx, error)
	Close() error
}

// Rows is a streaming result set.
type Rows interface {
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// RowScanner is implemented by rows that can fill an audit.Row without a
// separate allocation per payload: they append it to arena, one buffer per
// batch, and return the grown buffer. ok=false means "use Scan for this
// row".
type RowScanner interface {
	ScanRow(r *audit.Row, arena []byte) (grown []byte, ok bool, err error)
}

// AppendPayload copies p to the end of arena and returns the grown arena
// and the copy, capped at its own length so that the batch's later appends
// never write into it.
func AppendPayload[T string | []byte](arena []byte, p T) (grown, payload []byte) {
	start := len(arena)
	arena = append(arena, p...)
	return arena, arena[start:len(arena):len(arena)]
}

// Tx is one transaction on one connection.
type Tx interface {
	Execer
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// BulkInsert loads rows into table: COPY where the warehouse has it,
	// multi-row INSERTs under the dialect's caps where it does not.
	BulkInsert(ctx context.Context, table Ident, cols []string, rows [][]any) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Warehouse is an open backend: its dialect and its connection.
type Warehouse struct {
	Dialect *Dialect
	Conn    Conn
}

// Close releases the connection.
func (w *Warehouse) Close() error { return w.Conn.Close() }

type bulkReadKey struct{}

// WithBulkRead marks a query as a window's data scan: a large result read
// once, front to back. A backend may read it its faster way (Snowflake's
// Arrow batches); other queries are small and use the ordinary path.
func WithBulkRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, bulkReadKey{}, true)
}

// IsBulkRead reports whether ctx marks a window's data scan.
func IsBulkRead(ctx context.Context) bool { return ctx.Value(bulkReadKey{}) != nil }

type proofReadKey struct{}

// WithProofRead marks a query as a pushdown proof (ScanUnproven): a bulk
// read whose rows, the ones SQL did not prove, come few at a time while
// the server works through the window. A backend may let them gather
// before it reads them.
func WithProofRead(ctx context.Context) context.Context {
	return context.WithValue(WithBulkRead(ctx), proofReadKey{}, true)
}

// IsProofRead reports whether ctx marks a pushdown proof.
func IsProofRead(ctx context.Context) bool { return ctx.Value(proofReadKey{}) != nil }

type rawReadKey struct{}

// WithRawRead marks a query as the raw layout's window scan, a bulk read
// whose columns are the message id as text, received_at and the payload
// as text.
func WithRawRead(ctx context.Context) context.Context {
	return context.WithValue(WithBulkRead(ctx), rawReadKey{}, true)
}

// IsRawRead reports whether ctx marks the raw layout's window scan.
func IsRawRead(ctx context.Context) bool { return ctx.Value(rawReadKey{}) != nil }

// RawStreamer is a Conn that streams the raw layout's window scan
// (IsRawRead) in bounded memory however many rows the window holds, so
// that Source reads it in one query, never in Dialect.SliceRows slices.
type RawStreamer interface {
	StreamsRawReads() bool
}
