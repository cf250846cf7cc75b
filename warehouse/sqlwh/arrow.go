package sqlwh

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/eventaudit/eventaudit/audit"
)

// ArrowRows reads a query's Arrow record batches as Rows, for drivers that
// hand a bulk read out in Arrow (DuckDB, Snowflake). The window scan takes
// ScanRow, which copies each payload from Arrow's string buffer straight
// into the batch's arena: no driver.Value, no string per cell.
type ArrowRows struct {
	ctx     context.Context
	columns []string
	next    func() (arrow.RecordBatch, error)
	close   func() error

	rec arrow.RecordBatch
	row int
	err error
	// The raw scan's three columns, typed once per record.
	id, payload textColumn
	at          *array.Timestamp
	atUnit      arrow.TimeUnit
	raw         bool
}

// textColumn is a string or binary Arrow array of any offset width.
type textColumn interface {
	IsValid(i int) bool
	Value(i int) string
}

type binaryColumn struct{ *array.Binary }

func (b binaryColumn) Value(i int) string { return string(b.Binary.Value(i)) }

// NewArrowRows reads the records next returns, one after another, until it
// returns nil. ArrowRows releases each record when done with it; close
// ends the query.
func NewArrowRows(ctx context.Context, columns []string, next func() (arrow.RecordBatch, error), close func() error) *ArrowRows {
	return &ArrowRows{ctx: ctx, columns: columns, next: next, close: close, row: -1}
}

func (r *ArrowRows) Columns() ([]string, error) { return r.columns, nil }
func (r *ArrowRows) Err() error                 { return r.err }

func (r *ArrowRows) release() {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
}

func (r *ArrowRows) Next() bool {
	if r.err != nil {
		return false
	}
	r.row++
	for r.rec == nil || int64(r.row) >= r.rec.NumRows() {
		r.release()
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
		rec, err := r.next()
		if err != nil {
			r.err = err
			return false
		}
		if rec == nil {
			return false
		}
		r.rec, r.row = rec, 0
		r.typeRaw()
	}
	return true
}

// typeRaw recognises the raw scan's columns: text, timestamp, text.
func (r *ArrowRows) typeRaw() {
	r.raw = false
	if r.rec.NumCols() != 3 {
		return
	}
	var ok bool
	if r.at, ok = r.rec.Column(1).(*array.Timestamp); !ok {
		return
	}
	r.atUnit = r.at.DataType().(*arrow.TimestampType).Unit
	r.id, r.payload = asText(r.rec.Column(0)), asText(r.rec.Column(2))
	r.raw = r.id != nil && r.payload != nil
}

func asText(a arrow.Array) textColumn {
	switch c := a.(type) {
	case *array.String:
		return c
	case *array.LargeString:
		return c
	case *array.StringView:
		return c
	case *array.Binary:
		return binaryColumn{c}
	}
	return nil
}

func (r *ArrowRows) Close() error {
	r.release()
	return r.close()
}

// ScanRow implements RowScanner for the raw layout's scan: message id,
// received_at, payload.
func (r *ArrowRows) ScanRow(row *audit.Row, arena []byte) ([]byte, bool, error) {
	if !r.raw {
		return arena, false, nil
	}
	if r.id.IsValid(r.row) {
		row.MessageID = strings.Clone(r.id.Value(r.row))
	}
	if !r.at.IsValid(r.row) {
		return arena, false, errors.New("received_at is NULL")
	}
	row.ReceivedAt = r.at.Value(r.row).ToTime(r.atUnit)
	if r.payload.IsValid(r.row) {
		arena, row.Payload = AppendPayload(arena, r.payload.Value(r.row))
	}
	return arena, true, nil
}

// value is the cell at column i of the current row, as string, int64,
// float64, bool, time.Time or nil; strings are copies, as Arrow's buffer
// goes with the record, made before they are boxed, which would otherwise
// cost a second allocation a string. Types with no Go counterpart here
// (decimals, dates) come as Arrow's text of the value, which the caller
// parses by the column's SQL type.
func (r *ArrowRows) value(i int) any {
	col := r.rec.Column(i)
	if col.IsNull(r.row) {
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		return strings.Clone(a.Value(r.row))
	case *array.LargeString:
		return strings.Clone(a.Value(r.row))
	case *array.StringView:
		return strings.Clone(a.Value(r.row))
	case *array.Int64:
		return a.Value(r.row)
	case *array.Int32:
		return int64(a.Value(r.row))
	case *array.Int16:
		return int64(a.Value(r.row))
	case *array.Int8:
		return int64(a.Value(r.row))
	case *array.Uint32:
		return int64(a.Value(r.row))
	case *array.Uint16:
		return int64(a.Value(r.row))
	case *array.Uint8:
		return int64(a.Value(r.row))
	case *array.Float64:
		return a.Value(r.row)
	case *array.Float32:
		return float64(a.Value(r.row))
	case *array.Boolean:
		return a.Value(r.row)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(r.row).ToTime(unit)
	case *array.Date32:
		return a.Value(r.row).ToTime()
	}
	return col.ValueStr(r.row)
}

// Scan implements Rows for *any, *string, **string, *[]byte, *time.Time
// and *int64 destinations.
func (r *ArrowRows) Scan(dest ...any) error {
	for i, d := range dest {
		if err := assign(d, r.value(i)); err != nil {
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
	case **time.Time:
		if v == nil {
			*d = nil
			return nil
		}
		var t time.Time
		if err := assign(&t, v); err != nil {
			return err
		}
		*d = &t
		return nil
	case **int64:
		if v == nil {
			*d = nil
			return nil
		}
		var n int64
		if err := assign(&n, v); err != nil {
			return err
		}
		*d = &n
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

var (
	_ Rows       = (*ArrowRows)(nil)
	_ RowScanner = (*ArrowRows)(nil)
)
