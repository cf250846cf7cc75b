package sqlwh

import (
	"context"
	"fmt"

	"github.com/eventaudit/eventaudit/audit"
)

// RawDDL creates a raw-layout table whose payload column has payloadType.
func (w *Warehouse) RawDDL(t RawTable, payloadType string) []string {
	d := w.Dialect
	var out []string
	if s := t.Table.Schema(); s != "" {
		out = append(out, "CREATE SCHEMA IF NOT EXISTS "+d.QuoteName(s))
	}
	return append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s %s, %s %s, %s %s)", d.Quote(t.Table),
		d.QuoteName(t.MessageID), d.ShortText, d.QuoteName(t.ReceivedAt), d.Timestamp, d.QuoteName(t.Payload), payloadType))
}

// LoadRaw creates the table if needed and appends rows to it in one
// transaction. It serves the demo, the tests and the benchmarks.
func (w *Warehouse) LoadRaw(ctx context.Context, t RawTable, payloadType string, rows []audit.Row) error {
	for _, q := range w.RawDDL(t, payloadType) {
		if err := w.Conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create %s: %w", t.Table, err)
		}
	}
	tx, err := w.Conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	vals := make([][]any, len(rows))
	for i, r := range rows {
		var payload any
		if r.Payload != nil {
			payload = string(r.Payload)
		}
		vals[i] = []any{r.MessageID, r.ReceivedAt.UTC(), payload}
	}
	if err := tx.BulkInsert(ctx, t.Table, []string{t.MessageID, t.ReceivedAt, t.Payload}, vals); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
