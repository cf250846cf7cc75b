package snowflake

import (
	"context"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/snowflake/sftest"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// A window scan takes the Arrow batch path when the server answers in
// Arrow, and falls back to rows when it answers in JSON; other queries
// always take rows.
func TestScanPath(t *testing.T) {
	for _, tt := range []struct {
		format    string
		bulk      bool
		wantArrow bool
	}{
		{"arrow", true, true},
		{"arrow", false, false},
		{"json", true, false},
	} {
		srv := sftest.Start(t)
		srv.ResultFormat = tt.format
		wh, err := Open(context.Background(), srv.URL("tester", "ANALYTICS", "PUBLIC", ""), Credentials{Password: "tester-password"})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		raw := sqlwh.RawTable{Table: sqlwh.Ident{"raw", "events"}, MessageID: "message_id", ReceivedAt: "received_at", Payload: "payload"}
		if err := wh.LoadRaw(context.Background(), raw, "VARCHAR", []audit.Row{{MessageID: "a", ReceivedAt: at, Payload: []byte(`{"x":1}`)}}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if tt.bulk {
			ctx = sqlwh.WithBulkRead(ctx)
		}
		rows, err := wh.Conn.Query(ctx, `SELECT "message_id", "received_at", "payload" FROM "raw"."events"`)
		if err != nil {
			t.Fatal(err)
		}
		_, isArrow := rows.(*sqlwh.ArrowRows)
		if isArrow != tt.wantArrow {
			t.Errorf("%s results, bulk read %v: Arrow batches %v, want %v", tt.format, tt.bulk, isArrow, tt.wantArrow)
		}
		n := 0
		for rows.Next() {
			var r audit.Row
			if err := rows.Scan(&r.MessageID, &r.ReceivedAt, &r.Payload); err != nil {
				t.Fatal(err)
			}
			if r.MessageID != "a" || !r.ReceivedAt.Equal(at) || string(r.Payload) != `{"x":1}` {
				t.Errorf("%s: read %+v", tt.format, r)
			}
			n++
		}
		if err := rows.Err(); err != nil || n != 1 {
			t.Errorf("%s: %d rows, err %v", tt.format, n, err)
		}
		rows.Close()
		wh.Close()
	}
}
