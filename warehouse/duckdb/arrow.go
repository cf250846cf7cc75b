//go:build duckdb_arrow

package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// ArrowReads reports whether this build reads bulk reads other than the
// raw layout's window scan (Segment's layout, the pushdown scan) through
// DuckDB's Arrow interface (build tag duckdb_arrow, which make sets).
const ArrowReads = true

// queryArrow runs a bulk read on a connection of its own and reads it as
// Arrow record batches, one DuckDB data chunk (2,048 rows) at a time.
func queryArrow(ctx context.Context, db *sql.DB, q string, args []any) (sqlwh.Rows, error) {
	sc, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var reader array.RecordReader
	// The reader goes on using the driver connection after Raw returns; sc
	// stays checked out of the pool until the rows are closed, so nothing
	// else uses it meanwhile.
	err = sc.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a DuckDB driver connection: %T", dc)
		}
		a, err := duckdb.NewArrowFromConn(dconn)
		if err != nil {
			return err
		}
		reader, err = a.QueryContext(ctx, q, args...)
		return err
	})
	if err != nil {
		sc.Close()
		return nil, err
	}
	fields := reader.Schema().Fields()
	columns := make([]string, len(fields))
	for i, f := range fields {
		columns[i] = f.Name
	}
	next := func() (arrow.RecordBatch, error) {
		if !reader.Next() {
			return nil, reader.Err()
		}
		rec := reader.RecordBatch()
		rec.Retain() // the reader releases it on its next Next
		return rec, nil
	}
	end := func() error {
		reader.Release()
		err := reader.Err()
		if cerr := sc.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return sqlwh.NewArrowRows(ctx, columns, next, end), nil
}
