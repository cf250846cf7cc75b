package sqlwh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// readingStatements are the statements ReadQuery runs: each only reads.
var readingStatements = []string{"select", "with", "values", "table", "from", "show", "describe", "desc", "explain", "summarize"}

// ErrNotARead refuses a statement that may write.
var ErrNotARead = errors.New("only one statement that reads (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN)")

// ReadQuery runs one statement a person typed, to read the results, and
// returns at most limit rows as text (NULL as nil), and whether it cut
// there. It refuses anything but one reading statement, and runs it in a
// transaction it always rolls back, read-only where the dialect says how:
// a query tool must not become a way to change the results.
func ReadQuery(ctx context.Context, wh *Warehouse, q string, limit int) (cols []string, rows [][]*string, more bool, err error) {
	q = strings.TrimRightFunc(strings.TrimSpace(q), func(r rune) bool { return r == ';' || unicode.IsSpace(r) })
	first := strings.ToLower(strings.FieldsFunc(q+" ", func(r rune) bool { return unicode.IsSpace(r) || r == '(' })[0])
	if q == "" || strings.Contains(q, ";") || !slices.Contains(readingStatements, first) {
		return nil, nil, false, ErrNotARead
	}
	tx, err := wh.Conn.Begin(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if wh.Dialect.ReadOnly != "" {
		if err := tx.Exec(ctx, wh.Dialect.ReadOnly); err != nil {
			return nil, nil, false, err
		}
	}
	rs, err := tx.Query(ctx, q)
	if err != nil {
		return nil, nil, false, err
	}
	defer rs.Close()
	if cols, err = rs.Columns(); err != nil {
		return nil, nil, false, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if len(rows) == limit {
			more = true
			break
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, nil, false, err
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			row[i] = cellText(v)
		}
		rows = append(rows, row)
	}
	return cols, rows, more, rs.Err()
}

// cellText renders a scanned value as a person reads it; nil is NULL.
func cellText(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		s = string(x)
	case string:
		s = x
	case time.Time:
		s = x.UTC().Format(time.RFC3339Nano)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		s = strconv.FormatFloat(float64(x), 'g', -1, 32)
	default:
		s = fmt.Sprint(x)
	}
	return &s
}
