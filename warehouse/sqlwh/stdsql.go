package sqlwh

import (
	"context"
	"database/sql"
	"errors"
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
type BulkInserter func(ctx context.Context, tx *StdTx, table Ident, cols []string, rows [][]any) error

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
	//
	// The transaction runs on a connection of its own, so that a bulk
	// inserter can reach the driver's connection (DuckDB's Appender)
	// inside the transaction.
	conn, err := c.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &StdTx{conn: conn, tx: tx, dialect: c.Dialect, bulk: c.Bulk}, nil
}

func (c *StdConn) Close() error { return c.DB.Close() }

// StdTx is a database/sql transaction on a connection it holds until the
// transaction ends.
type StdTx struct {
	conn    *sql.Conn
	tx      *sql.Tx
	dialect *Dialect
	bulk    BulkInserter
	// BulkState is what the BulkInserter keeps for the transaction's life
	// (DuckDB: which tables take its Appender); nil until it sets it.
	BulkState any
}

func (t *StdTx) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, q, args...)
	return err
}

func (t *StdTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *StdTx) BulkInsert(ctx context.Context, table Ident, cols []string, rows [][]any) error {
	if t.bulk != nil {
		return t.bulk(ctx, t, table, cols, rows)
	}
	return t.dialect.InsertBatched(ctx, t, table, cols, rows)
}

// Raw runs f with the driver's connection, inside the transaction.
func (t *StdTx) Raw(f func(driverConn any) error) error { return t.conn.Raw(f) }

// Commit commits unless ctx has ended: database/sql's Commit takes no
// context, and a run cancelled after its last write must still write
// nothing. The transaction is then rolled back.
func (t *StdTx) Commit(ctx context.Context) error {
	defer t.conn.Close()
	if err := ctx.Err(); err != nil {
		_ = t.tx.Rollback()
		return err
	}
	return t.tx.Commit()
}

// Rollback after Commit is a no-op, as Tx requires.
func (t *StdTx) Rollback(context.Context) error {
	err := t.tx.Rollback()
	t.conn.Close()
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
