package postgres

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// A pushdown proof (sqlwh.IsProofRead) runs for seconds on the server and
// sends the rows it could not prove as it meets them: a few KB at a time,
// each of which woke eventaudit's reader, its goroutines and the runtime
// (7,700 reads, futex calls and poll waits each, per 1M-row window). While
// a proof reads from a connection, its socket lets the rows gather: a read
// that follows a short one (the reader had caught up with the server)
// first waits gatherPause. A read that fills pgx's buffer means rows are
// waiting, and the next read does not wait; so a connection that delivers
// fast (a window of mostly invalid rows) waits on nothing, and no other
// statement ever does.
//
// gatherPause is short enough that the server's socket buffer holds what
// it sends meanwhile: 5 ms at the 51 MB/s past which reads fill the buffer
// is 256 KB.
const gatherPause = 5 * time.Millisecond

// gatherConn is a connection's socket, under pgx's buffer (which reads up
// to 256 KB at once, Open). pgx reads a connection from one goroutine at a
// time, so only gathering is shared.
type gatherConn struct {
	net.Conn
	gathering atomic.Bool

	caughtUp bool                // the last read returned under half it asked for
	sleep    func(time.Duration) // time.Sleep; tests count the pauses
}

func (c *gatherConn) Read(p []byte) (int, error) {
	if c.caughtUp && c.gathering.Load() {
		c.sleep(gatherPause)
	}
	n, err := c.Conn.Read(p)
	c.caughtUp = n < len(p)/2
	return n, err
}

// gatherDial wraps each connection dial makes in a gatherConn.
func gatherDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &gatherConn{Conn: conn, sleep: time.Sleep}, nil
	}
}

// gatherSocket finds the gatherConn under a connection, TLS included.
func gatherSocket(c net.Conn) *gatherConn {
	for {
		switch x := c.(type) {
		case *gatherConn:
			return x
		case interface{ NetConn() net.Conn }: // *tls.Conn
			c = x.NetConn()
		default:
			return nil
		}
	}
}

// queryProof runs a pushdown proof on a connection of its own, gathering
// its rows until they are closed.
func (c *Conn) queryProof(ctx context.Context, q string, args ...any) (sqlwh.Rows, error) {
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	socket := gatherSocket(pc.Conn().PgConn().Conn())
	if socket != nil {
		socket.gathering.Store(true)
	}
	release := func() {
		if socket != nil {
			socket.gathering.Store(false)
		}
		pc.Release()
	}
	rows, err := pc.Query(ctx, q, args...)
	if err != nil {
		release()
		return nil, err
	}
	return &proofRows{pgRows: pgRows{rows}, release: release}, nil
}

// proofRows are a proof's rows, which hand their connection back, no
// longer gathering, when closed.
type proofRows struct {
	pgRows
	release func()
	closed  bool
}

func (r *proofRows) Close() error {
	err := r.pgRows.Close()
	if !r.closed {
		r.closed = true
		r.release()
	}
	return err
}
