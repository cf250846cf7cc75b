package sqlwh

import (
	"context"
	"database/sql"
)

// StdConn adapts a database/sql pool to Conn, for drivers without a native
// API we need (DuckDB, Snowflake).
type StdConn struct {
	DB      *sql.DB
	Dialect *Dialect
	// Bulk, when set, replaces the dialect's multi-row INSERTs in
	// Tx.BulkInsert (Snowflake binds arrays instead).
	Bulk BulkInserter
}

// BulkInserter loads rows into table inside tx.
type BulkInserter func(ctx context.Context, tx Tx, table Ident, cols []string, rows [][]any) error

func (c *StdConn) Exec(ctx context.Context, q string, args ...any) error {
	_, err := c.DB.ExecContext(ctx, q, args...)
	return err
}

func (c *StdConn) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	return c.DB.QueryContext(ctx, q, args...)
}

func (c *StdConn) Begin(ctx context.Context) (Tx, error) {
	// database/sql rolls a transaction back by itself, in the background,
	// when BeginTx's context is cancelled: a cancelled run would return
	// before the rollback ended, and the next run's writes would conflict
	// with it. The transaction's life is ours; each statement still takes
	// the run's context.
	tx, err := c.DB.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, err
	}
	return &stdTx{tx: tx, dialect: c.Dialect, bulk: c.Bulk}, nil
}

func (c *StdConn) Close() error { return c.DB.Close() }

type stdTx struct {
	tx      *sql.Tx
	dialect *Dialect
	bulk    BulkInserter
}

func (t *stdTx) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, q, args...)
	return err
}

func (t *stdTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *stdTx) BulkInsert(ctx context.Context, table Ident, cols []string, rows [][]any) error {
	if t.bulk != nil {
		return t.bulk(ctx, t, table, cols, rows)
	}
	return t.dialect.InsertBatched(ctx, t, table, cols, rows)
}

func (t *stdTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t *stdTx) Rollback(context.Context) error { return t.tx.Rollback() }
