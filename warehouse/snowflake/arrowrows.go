package snowflake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	sf "github.com/snowflakedb/gosnowflake"
)

// conn reads a window's data scan (sqlwh.IsBulkRead) through gosnowflake's
// Arrow batch API: payloads go from Arrow's string buffers straight into
// the batch's arena, with no driver.Value per cell. Every other query takes
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

func queryArrow(ctx context.Context, db *sql.DB, q string, args []any) (*arrowRows, error) {
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
	return &arrowRows{ctx: ctx, conn: sc, rows: rows, batches: batches, row: -1}, nil
}

// arrowRows walks the batches' records row by row.
type arrowRows struct {
	ctx     context.Context
	conn    *sql.Conn
	rows    driver.Rows
	batches []*sf.ArrowBatch
	next    int // next batch to fetch
	recs    []arrow.Record
	rec     int // current record in recs
	row     int // current row in recs[rec]
	err     error
}

func (r *arrowRows) Columns() ([]string, error) { return r.rows.Columns(), nil }
func (r *arrowRows) Err() error                 { return r.err }

func (r *arrowRows) release() {
	for _, rec := range r.recs {
		rec.Release()
	}
	r.recs, r.rec, r.row = nil, 0, -1
}

func (r *arrowRows) Next() bool {
	if r.err != nil {
		return false
	}
	r.row++
	for r.rec >= len(r.recs) || int64(r.row) >= r.recs[r.rec].NumRows() {
		if r.rec < len(r.recs) {
			r.rec, r.row = r.rec+1, 0
			continue
		}
		if r.next >= len(r.batches) {
			return false
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
		r.release()
		recs, err := r.batches[r.next].WithContext(r.ctx).Fetch()
		r.next++
		if err != nil {
			r.err = err
			return false
		}
		r.recs, r.row = *recs, 0
	}
	return true
}

func (r *arrowRows) Close() error {
	r.release()
	err := r.rows.Close()
	if cerr := r.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// value is the cell at column i of the current row, as string, int64,
// float64, bool, time.Time or nil; strings alias Arrow's buffer.
func (r *arrowRows) value(i int) (any, error) {
	col := r.recs[r.rec].Column(i)
	if col.IsNull(r.row) {
		return nil, nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(r.row), nil
	case *array.Int64:
		return a.Value(r.row), nil
	case *array.Int32:
		return int64(a.Value(r.row)), nil
	case *array.Int16:
		return int64(a.Value(r.row)), nil
	case *array.Int8:
		return int64(a.Value(r.row)), nil
	case *array.Float64:
		return a.Value(r.row), nil
	case *array.Boolean:
		return a.Value(r.row), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(r.row).ToTime(unit).UTC(), nil
	}
	return nil, fmt.Errorf("column %d: Arrow type %s is not read by eventaudit", i, col.DataType())
}

func (r *arrowRows) Scan(dest ...any) error {
	for i, d := range dest {
		v, err := r.value(i)
		if err != nil {
			return err
		}
		if s, ok := v.(string); ok {
			v = strings.Clone(s) // the buffer goes with the record
		}
		if err := assign(d, v); err != nil {
			return fmt.Errorf("column %d: %w", i, err)
		}
	}
	return nil
}

func assign(dest, v any) error {
	switch d := dest.(type) {
	case *any:
		*d = v
		return nil
	case **string:
		if v == nil {
			*d = nil
			return nil
		}
		s := fmt.Sprint(v)
		*d = &s
		return nil
	case *string:
		if v == nil {
			return errors.New("NULL into a string")
		}
		*d = fmt.Sprint(v)
		return nil
	case *[]byte:
		if v == nil {
			*d = nil
			return nil
		}
		*d = []byte(fmt.Sprint(v))
		return nil
	case *time.Time:
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("%T into a time", v)
		}
		*d = t
		return nil
	case *int64:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("%T into an int64", v)
		}
		*d = n
		return nil
	}
	return fmt.Errorf("cannot scan into %T", dest)
}

// ScanRow implements sqlwh.RowScanner for the raw layout's scan: message
// id, received_at, payload.
func (r *arrowRows) ScanRow(row *audit.Row, arena []byte) ([]byte, bool, error) {
	rec := r.recs[r.rec]
	if rec.NumCols() != 3 {
		return arena, false, nil
	}
	if id, ok := rec.Column(0).(*array.String); ok && id.IsValid(r.row) {
		row.MessageID = strings.Clone(id.Value(r.row))
	}
	at, err := r.value(1)
	if err != nil {
		return arena, false, err
	}
	t, ok := at.(time.Time)
	if !ok {
		return arena, false, fmt.Errorf("received_at is %T, not a timestamp", at)
	}
	row.ReceivedAt = t
	payload, ok := rec.Column(2).(*array.String)
	if !ok {
		return arena, false, nil
	}
	if payload.IsValid(r.row) {
		start := len(arena)
		arena = append(arena, payload.Value(r.row)...)
		row.Payload = arena[start:len(arena):len(arena)]
	}
	return arena, true, nil
}

var (
	_ sqlwh.Rows       = (*arrowRows)(nil)
	_ sqlwh.RowScanner = (*arrowRows)(nil)
)
