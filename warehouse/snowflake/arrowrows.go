package snowflake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	sf "github.com/snowflakedb/gosnowflake"
)

// conn reads a window's data scan (sqlwh.IsBulkRead) through gosnowflake's
// Arrow batch API, as sqlwh.ArrowRows. Every other query takes
// database/sql's row path.
type conn struct {
	*sqlwh.StdConn
	arrowBatches bool
}

func (c *conn) Query(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	if !c.arrowBatches || !sqlwh.IsBulkRead(ctx) {
		return c.queryRows(ctx, q, args)
	}
	rows, err := queryArrow(ctx, c.DB, q, args)
	var se *sf.SnowflakeError
	if errors.As(err, &se) && se.Number == sf.ErrNonArrowResponseInArrowBatches {
		// Snowflake answers some statements in JSON; read those by rows.
		return c.queryRows(ctx, q, args)
	}
	return rows, err
}

// queryRows runs q on database/sql's row path under a context that follows
// ctx only until the query has run. gosnowflake's chunk downloader, on
// finding its context cancelled after a chunk arrived, sends on a channel
// that the last Next has closed: a scan's context is cancelled as soon as
// its rows are spent, and the send crashed the process. While the rows are
// read, ctx is checked here instead, and a cancelled read ends with its
// error; the downloads in flight finish under the driver's own timeout.
func (c *conn) queryRows(ctx context.Context, q string, args []any) (sqlwh.Rows, error) {
	query, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	rows, err := c.StdConn.Query(query, q, args...)
	if !stop() {
		// ctx ended while the query ran: the driver has seen it.
		if err == nil {
			rows.Close()
			err = ctx.Err()
		}
		return nil, err
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return &detachedRows{Rows: rows, ctx: ctx}, nil
}

// detachedRows ends a read when ctx does, which the driver no longer sees.
type detachedRows struct {
	sqlwh.Rows
	ctx context.Context
	err error
}

func (r *detachedRows) Next() bool {
	if r.err == nil {
		r.err = r.ctx.Err()
	}
	return r.err == nil && r.Rows.Next()
}

func (r *detachedRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.Rows.Err()
}

func queryArrow(ctx context.Context, db *sql.DB, q string, args []any) (sqlwh.Rows, error) {
	sc, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	var rows driver.Rows
	err = sc.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the Snowflake driver cannot run queries on a raw connection")
		}
		var err error
		rows, err = qc.QueryContext(sf.WithArrowBatches(ctx), q, named)
		return err
	})
	if err != nil {
		sc.Close()
		return nil, err
	}
	batches, err := rows.(sf.SnowflakeRows).GetArrowBatches()
	if err != nil {
		rows.Close()
		sc.Close()
		return nil, err
	}
	// Each batch is fetched when the one before it is spent.
	var queue []arrow.RecordBatch
	next := func() (arrow.RecordBatch, error) {
		for len(queue) == 0 {
			if len(batches) == 0 {
				return nil, nil
			}
			recs, err := batches[0].WithContext(ctx).Fetch()
			batches = batches[1:]
			if err != nil {
				return nil, err
			}
			queue = *recs
		}
		rec := queue[0]
		queue = queue[1:]
		return rec, nil
	}
	end := func() error {
		for _, rec := range queue {
			rec.Release()
		}
		err := rows.Close()
		if cerr := sc.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return sqlwh.NewArrowRows(ctx, rows.Columns(), next, end), nil
}
