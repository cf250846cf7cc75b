package duckdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// The raw layout's window scan streams out of DuckDB through a scalar
// function of eventaudit's own, which DuckDB calls on each vector of the
// window's rows, on its own threads, as it scans them:
//
//	SELECT count(*), count(f(m, r, p)) FROM (window query) AS s(m, r, p)
//
// The function copies each vector's strings into a buffer of eventaudit's
// and hands it to the reader. Read the usual way, duckdb-go has DuckDB
// materialise the whole result, then converts it to Arrow (or to driver
// values), which is why the window used to be read in slices of 5,000
// rows; each slice costs a planned statement and another pass over the
// payload column's segments. Streamed, memory holds a few vectors whatever
// the window's size, there are no slices, and the read is 2.3 times as
// fast (BenchmarkWindowScan; docs/performance.md).
//
// The rows come in the order DuckDB's threads scan them, not the table's.
// f leaves its result unset: counting it only makes DuckDB call f on every
// row. The count(*) of the same statement is the check that every row of
// the window reached eventaudit once: a run whose reader saw another
// number fails.

// streamKey carries the scan's rawStream in the context of its statement,
// which duckdb-go hands to the scalar function.
type streamKey struct{}

// errStopped ends the statement of a scan its reader closed early.
var errStopped = errors.New("the reader stopped")

// rawVector is one vector's rows, copied out of DuckDB.
type rawVector struct {
	buf   []byte // the payloads, back to back
	ids   []string
	idOK  []bool
	at    []time.Time
	spans [][2]int // each payload's [start, end) in buf; start < 0 for NULL
}

func (v *rawVector) reset() {
	v.buf, v.ids, v.idOK, v.at, v.spans = v.buf[:0], v.ids[:0], v.idOK[:0], v.at[:0], v.spans[:0]
}

// rawStream is one window scan in flight: DuckDB's threads send vectors,
// the reader receives them.
type rawStream struct {
	ctx     context.Context // the reader's; the function stops when it ends
	vectors chan *rawVector
	stop    chan struct{} // closed when the reader closes
	// free holds vectors the reader is done with, for DuckDB's threads to
	// fill again. Not a sync.Pool: a collection empties that, and each
	// vector's buffer (about 1.5 MB) was then allocated and zeroed again.
	// The vectors in flight are the channel's, one a DuckDB thread and the
	// reader's, so a few more than that are enough.
	free chan *rawVector
}

// freeVectors bounds rawStream.free; a vector returned past it is left
// to the collector.
const freeVectors = 8

// vector returns a free vector, or a new one.
func (s *rawStream) vector() *rawVector {
	select {
	case v := <-s.free:
		return v
	default:
		return &rawVector{}
	}
}

// recycle returns a vector the reader is done with.
func (s *rawStream) recycle(v *rawVector) {
	select {
	case s.free <- v:
	default:
	}
}

// scanFunction is the scalar function's half in DuckDB: it runs on
// DuckDB's threads, one call per vector.
type scanFunction struct{}

func (scanFunction) Config() duckdb.ScalarFuncConfig {
	text, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	flag, _ := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	return duckdb.ScalarFuncConfig{
		InputTypeInfos: []duckdb.TypeInfo{text, text, text},
		ResultTypeInfo: flag,
		// Volatile: DuckDB must call it on every row, never fold or drop it.
		// Special NULL handling: a NULL message id or payload is a row too.
		Volatile:            true,
		SpecialNullHandling: true,
	}
}

func (scanFunction) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{
		ChunkContextExecutor: copyVector,
		// A binder has duckdb-go take the statement's context once, when
		// DuckDB binds the call; without one it takes it on the first call
		// of each thread, and DuckDB's threads race to write it (the race
		// detector finds it).
		ScalarBinder: func(ctx context.Context, _ []duckdb.ScalarUDFArg) (context.Context, error) { return ctx, nil },
	}
}

func copyVector(ctx context.Context, state *duckdb.ChunkIteratorState) error {
	s, ok := ctx.Value(streamKey{}).(*rawStream)
	if !ok {
		return errors.New("this function is eventaudit's reader of a window scan, not for queries of your own")
	}
	in := state.GetInputChunk()
	n := in.GetSize()
	var cols [3]duckdb.VectorView[string]
	for i := range cols {
		vec, err := in.GetVector(i)
		if err != nil {
			return err
		}
		if cols[i], err = duckdb.GetVectorView[string](vec); err != nil {
			return err
		}
	}
	ids, times, payloads := cols[0], cols[1], cols[2]
	v := s.vector()
	v.reset()
	size := 0
	for r := range n {
		p, _, err := payloads.GetValueBorrowed(r)
		if err != nil {
			return err
		}
		size += len(p)
	}
	if cap(v.buf) < size {
		// A quarter more than this vector needs: vectors' sizes vary, and a
		// buffer cut to each new largest one was reallocated about once in
		// twelve vectors, 58 MB of a 1M-row run's 296 MB of allocations.
		v.buf = make([]byte, 0, size+size/4)
	}
	for r := range n {
		id, idOK, err := ids.GetValueBorrowed(r)
		if err != nil {
			return err
		}
		at, atOK, err := times.GetValueBorrowed(r)
		if err != nil {
			return err
		}
		us, err := strconv.ParseInt(at, 10, 64)
		if !atOK || err != nil {
			return fmt.Errorf("received_at %q (NULL %v) is not a time in microseconds", at, !atOK)
		}
		p, pOK, err := payloads.GetValueBorrowed(r)
		if err != nil {
			return err
		}
		span := [2]int{-1, -1}
		if pOK {
			span = [2]int{len(v.buf), len(v.buf) + len(p)}
			v.buf = append(v.buf, p...)
		}
		v.ids = append(v.ids, strings.Clone(id))
		v.idOK = append(v.idOK, idOK)
		v.at = append(v.at, time.UnixMicro(us).UTC())
		v.spans = append(v.spans, span)
	}
	select {
	case s.vectors <- v:
		return nil
	case <-s.stop:
		return errStopped
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// scanRegistry registers the scalar function once per Warehouse. Its name
// is the Warehouse's own: two Warehouses on one file share DuckDB's
// catalog, and neither may replace the other's function under it.
type scanRegistry struct {
	mu   sync.Mutex
	name string // set once registered
}

func (g *scanRegistry) function(ctx context.Context, db *sql.DB) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.name != "" {
		return g.name, nil
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "eventaudit_scan_" + hex.EncodeToString(b[:])
	c, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := duckdb.RegisterScalarUDF(c, name, scanFunction{}); err != nil {
		return "", fmt.Errorf("register eventaudit's reader function in DuckDB: %w", err)
	}
	g.name = name
	return name, nil
}

// streamRaw runs the raw layout's window query q through the scan
// function and returns its rows as they come.
func (c *conn) streamRaw(ctx context.Context, q string, args []any) (sqlwh.Rows, error) {
	name, err := c.scans.function(ctx, c.DB)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &rawStream{ctx: ctx, vectors: make(chan *rawVector, 2), stop: make(chan struct{}), free: make(chan *rawVector, freeVectors)}
	r := &streamRows{s: s, cancel: cancel, done: make(chan struct{}), row: -1}
	// received_at crosses as its microseconds since the epoch, in text:
	// vector views read only text, and DuckDB's threads print it faster
	// than duckdb-go reads a TIMESTAMP value, one boxed time.Time a row.
	wrapped := "SELECT count(*), count(" + name + "(m, CAST(epoch_us(r) AS VARCHAR), p)) FROM (" + q + ") AS s(m, r, p)"
	// s.vectors is never closed: a statement that fails may return while
	// DuckDB's threads are still inside the function, which must never
	// send on a closed channel. The reader watches done instead.
	scanProcs.raise()
	go func() {
		defer close(r.done)
		defer scanProcs.lower()
		var called int64
		r.queryErr = c.DB.QueryRowContext(context.WithValue(ctx, streamKey{}, s), wrapped, args...).Scan(&r.total, &called)
	}()
	return r, nil
}

// streamRows reads a rawStream as sqlwh.Rows.
type streamRows struct {
	s      *rawStream
	cancel context.CancelFunc
	done   chan struct{} // closed when the statement has ended

	// Set by the statement's goroutine before done closes.
	total    int64
	queryErr error

	cur      *rawVector
	row      int
	received int64
	err      error
	closed   bool
}

func (r *streamRows) Columns() ([]string, error) {
	return []string{"message_id", "received_at", "payload"}, nil
}

func (r *streamRows) Next() bool {
	if r.err != nil || r.closed {
		return false
	}
	r.row++
	for r.cur == nil || r.row >= len(r.cur.at) {
		if r.cur != nil {
			r.s.recycle(r.cur)
			r.cur = nil
		}
		v, ok := r.receive()
		if !ok {
			r.err = r.end()
			return false
		}
		r.cur, r.row = v, 0
		r.received += int64(len(v.at))
	}
	return true
}

// receive returns the next vector, or ok=false once the statement has
// ended and every vector it sent is read. A statement that succeeded
// called the function on every row before it counted them, so no vector
// comes after it ends; after one that failed, none is wanted.
func (r *streamRows) receive() (*rawVector, bool) {
	select {
	case v := <-r.s.vectors:
		return v, true
	case <-r.done:
		select {
		case v := <-r.s.vectors:
			return v, true
		default:
			return nil, false
		}
	}
}

// end reports how the statement ended, once every vector is read.
func (r *streamRows) end() error {
	if r.queryErr != nil {
		if err := r.s.ctx.Err(); err != nil {
			return err
		}
		return r.queryErr
	}
	if r.received != r.total {
		return fmt.Errorf("DuckDB counted %d rows in the window but passed %d to eventaudit: nothing was written; "+
			"re-run the window, and report it if it happens again", r.total, r.received)
	}
	return nil
}

// ScanRow implements sqlwh.RowScanner.
func (r *streamRows) ScanRow(row *audit.Row, arena []byte) ([]byte, bool, error) {
	v, i := r.cur, r.row
	if v.idOK[i] {
		row.MessageID = v.ids[i]
	}
	row.ReceivedAt = v.at[i]
	if sp := v.spans[i]; sp[0] >= 0 {
		arena, row.Payload = sqlwh.AppendPayload(arena, v.buf[sp[0]:sp[1]])
	}
	return arena, true, nil
}

// Scan implements sqlwh.Rows, as Source reads a window scan: into
// **string, *time.Time and *[]byte.
func (r *streamRows) Scan(dest ...any) error {
	id, at, payload, ok := scanDest(dest)
	if !ok {
		return fmt.Errorf("a window scan reads into (**string, *time.Time, *[]byte), not %T", dest)
	}
	var row audit.Row
	if _, _, err := r.ScanRow(&row, nil); err != nil {
		return err
	}
	*id = nil
	if r.cur.idOK[r.row] {
		*id = &row.MessageID
	}
	*at, *payload = row.ReceivedAt, row.Payload
	return nil
}

func scanDest(dest []any) (id **string, at *time.Time, payload *[]byte, ok bool) {
	if len(dest) != 3 {
		return nil, nil, nil, false
	}
	id, ok1 := dest[0].(**string)
	at, ok2 := dest[1].(*time.Time)
	payload, ok3 := dest[2].(*[]byte)
	return id, at, payload, ok1 && ok2 && ok3
}

func (r *streamRows) Err() error { return r.err }

// Close stops the statement if it is still running and waits for it to
// end, so that no call of the function outlives the rows.
func (r *streamRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	close(r.s.stop)
	r.cancel()
	<-r.done
	return nil
}
