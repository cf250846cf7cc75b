package postgres

import (
	"context"
	"testing"

	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
	"github.com/jackc/pgx/v5"
)

// Gathering says whether the socket rows are read from lets a trickle
// gather (gatherConn).
func Gathering(t *testing.T, rows sqlwh.Rows) bool {
	t.Helper()
	var pr pgx.Rows
	switch r := rows.(type) {
	case *proofRows:
		pr = r.Rows
	case pgRows:
		pr = r.Rows
	default:
		t.Fatalf("%T are not a Postgres connection's rows", rows)
	}
	socket := gatherSocket(pr.Conn().PgConn().Conn())
	if socket == nil {
		t.Fatal("the connection's socket is not eventaudit's")
	}
	return socket.gathering.Load()
}

// IdleGathering counts the pool's idle connections whose socket would
// let a trickle gather.
func IdleGathering(t *testing.T, wh *sqlwh.Warehouse) int {
	t.Helper()
	conns := wh.Conn.(*Conn).pool.AcquireAllIdle(context.Background())
	n := 0
	for _, c := range conns {
		if s := gatherSocket(c.Conn().PgConn().Conn()); s == nil || s.gathering.Load() {
			n++
		}
		c.Release()
	}
	if len(conns) == 0 {
		t.Fatal("no idle connection to look at")
	}
	return n
}
