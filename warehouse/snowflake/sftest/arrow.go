package sftest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
)

// arrowRowset encodes rows as Snowflake's Arrow result: an IPC stream, in
// base64, with each column in the physical form the driver decodes for its
// logical type — TEXT and VARIANT as strings, FIXED as int64 (unscaled),
// REAL as float64, TIMESTAMP_TZ (scale 9) as a struct of nanoseconds and
// offset+1440 minutes, TIMESTAMP_NTZ (scale 9) as nanoseconds.
func arrowRowset(cols []column, rows [][]any) (string, error) {
	tzType := arrow.StructOf(arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32})
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		var t arrow.DataType
		switch c.Type {
		case "fixed":
			t = arrow.PrimitiveTypes.Int64
		case "real":
			t = arrow.PrimitiveTypes.Float64
		case "boolean":
			t = arrow.FixedWidthTypes.Boolean
		case "timestamp_tz":
			t = tzType
		case "timestamp_ntz":
			t = arrow.PrimitiveTypes.Int64
		default:
			t = arrow.BinaryTypes.String
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch cols[i].Type {
			case "fixed":
				n, err := toInt64(v)
				if err != nil {
					return "", err
				}
				fb.(*array.Int64Builder).Append(n)
			case "real":
				switch f := v.(type) {
				case float64:
					fb.(*array.Float64Builder).Append(f)
				case float32:
					fb.(*array.Float64Builder).Append(float64(f))
				default:
					return "", fmt.Errorf("sftest: %T in a REAL column", v)
				}
			case "boolean":
				fb.(*array.BooleanBuilder).Append(v.(bool))
			case "timestamp_tz":
				t := v.(time.Time)
				_, off := t.Zone()
				sb := fb.(*array.StructBuilder)
				sb.Append(true)
				sb.FieldBuilder(0).(*array.Int64Builder).Append(t.UnixNano())
				sb.FieldBuilder(1).(*array.Int32Builder).Append(int32(off/60 + 1440))
			case "timestamp_ntz":
				fb.(*array.Int64Builder).Append(v.(time.Time).UnixNano())
			default:
				fb.(*array.StringBuilder).Append(*wireValue(cols[i].Type, v))
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case json.Number:
		return x.Int64()
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
	case duckdb.Decimal: // NUMBER(p,s) travels unscaled
		if x.Value.IsInt64() {
			return x.Value.Int64(), nil
		}
	}
	return 0, fmt.Errorf("sftest: %T in a FIXED column", v)
}
