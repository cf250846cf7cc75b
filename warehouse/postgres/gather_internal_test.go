package postgres

import (
	"net"
	"testing"
	"time"
)

// chunkConn delivers each read the next of its chunk sizes, as a socket
// delivers what the server has sent so far.
type chunkConn struct {
	net.Conn
	chunks []int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	n := min(c.chunks[0], len(p))
	c.chunks = c.chunks[1:]
	return n, nil
}

// A proof's socket waits before a read only where the read before it
// came back short (the reader had caught up with a trickle); a read that
// filled the buffer says rows are waiting; and a socket no proof reads
// from never waits.
func TestGatherConnPausesAfterAShortRead(t *testing.T) {
	const buf = 256 << 10
	for _, c := range []struct {
		name      string
		gathering bool
		chunks    []int
		pauses    int
	}{
		{"trickle", true, []int{4800, 5000, 900, 70000}, 3},
		{"stream", true, []int{buf, buf, buf, buf}, 0},
		{"stream that runs dry", true, []int{buf, buf, 1000, buf, buf}, 1},
		{"half a buffer is not short", true, []int{buf / 2, buf / 2, buf / 2}, 0},
		{"not a proof", false, []int{4800, 5000, 900, 70000}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			pauses := 0
			g := &gatherConn{Conn: &chunkConn{chunks: c.chunks}, sleep: func(d time.Duration) {
				if d != gatherPause {
					t.Errorf("paused %v, want %v", d, gatherPause)
				}
				pauses++
			}}
			g.gathering.Store(c.gathering)
			p := make([]byte, buf)
			for range c.chunks {
				if _, err := g.Read(p); err != nil {
					t.Fatal(err)
				}
			}
			if pauses != c.pauses {
				t.Errorf("%d pauses over %d reads, want %d", pauses, len(c.chunks), c.pauses)
			}
		})
	}
}
