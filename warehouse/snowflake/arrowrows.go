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
		return c.StdConn.Query(ctx, q, args...)
	}
	rows, err := queryArrow(ctx, c.DB, q, args)
	var se *sf.SnowflakeError
	if errors.As(err, &se) && se.Number == sf.ErrNonArrowResponseInArrowBatches {
		// Snowflake answers some statements in JSON; read those by rows.
		return c.StdConn.Query(ctx, q, args...)
	}
	return rows, err
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
