package sqlwh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/eventaudit/eventaudit/audit"
)

// RawTable names a raw-layout table: one row per Segment message.
type RawTable struct {
	Table                          Ident
	MessageID, ReceivedAt, Payload string
}

// DefaultBatchSize rows per batch: large enough to amortise channel hand-offs,
// small enough that workers×batch stays a few MB.
const DefaultBatchSize = 1000

// Source scans a raw-layout table.
type Source struct {
	WH        *Warehouse
	Table     RawTable
	BatchSize int
	Shard     audit.Shard

	arenas *arenas // set by Scan

	// described is the table's description, read once per Source: a run
	// asks for it to plan pushdown, to measure vitals and to scan, and on a
	// remote catalog each is a round trip.
	describedMu sync.Mutex
	described   []Column
}

// arenas hands out the buffers a batch's payloads are copied into, and
// takes them back when the pipeline has judged the batch (Recycle): a
// million rows would otherwise allocate a gigabyte of buffers, and the
// collector run every few megabytes to reclaim them.
type arenas struct {
	size int
	mu   sync.Mutex
	free [][]byte
	// lent maps the first byte of each lent buffer to it; the first
	// payload of a batch starts there.
	lent map[*byte][]byte
}

// maxLent bounds the buffers awaiting their batch's Recycle. More are in
// flight only when a batch's buffer was never seen again (its first payload
// outgrew it); forgetting them all costs recycling, not correctness.
const maxLent = 128

func (a *arenas) get() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b []byte
	if n := len(a.free); n > 0 {
		b, a.free = a.free[n-1], a.free[:n-1]
	} else {
		b = make([]byte, 0, a.size)
	}
	if len(a.lent) >= maxLent {
		clear(a.lent)
	}
	a.lent[unsafe.SliceData(b[:1])] = b
	return b
}

// put takes back the buffer of a judged batch: the first payload copied
// into it starts at its first byte. Payloads read another way (a row Scan
// fell back to) match no buffer.
func (a *arenas) put(rows []audit.Row) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range rows {
		if r.Payload == nil {
			continue
		}
		first := unsafe.SliceData(r.Payload)
		if b, ok := a.lent[first]; ok {
			delete(a.lent, first)
			a.free = append(a.free, b[:0])
			return
		}
	}
}

// Recycle implements audit.RecyclingSource.
func (s *Source) Recycle(rows []audit.Row) {
	if s.arenas != nil {
		s.arenas.put(rows)
	}
}

// ResolveTable finds id in the warehouse's catalog and returns it as the
// catalog names it: schema.table when it lives in the connection's
// database, which also holds the result tables, and database.schema.table
// otherwise. Every spelling of one table (events, public.events,
// wh.public.events, EVENTS) resolves to one name, which is the source's
// identity in the result tables and its locks. Case matters only where two
// tables differ by case alone.
func ResolveTable(ctx context.Context, wh *Warehouse, id Ident) (Ident, error) {
	var schema, catalog string
	switch len(id) {
	case 1:
	case 2:
		schema = id[0]
	case 3:
		catalog, schema = id[0], id[1]
	default:
		return nil, fmt.Errorf("table %s has %d parts: name it as table, schema.table or database.schema.table", id, len(id))
	}
	rows, err := wh.Conn.Query(ctx, wh.Dialect.ResolveTable, schema, id.Table(), catalog)
	if err != nil {
		return nil, fmt.Errorf("look up table %s in the catalog: %w", id, err)
	}
	defer rows.Close()
	var found []Ident
	var current string
	for rows.Next() {
		var c, s, t, cur string
		if err := rows.Scan(&c, &s, &t, &cur); err != nil {
			return nil, fmt.Errorf("look up table %s in the catalog: %w", id, err)
		}
		found, current = append(found, Ident{c, s, t}), cur
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up table %s in the catalog: %w", id, err)
	}
	pick := -1
	for i, f := range found {
		if f.Table() == id.Table() && (schema == "" || f[1] == schema) && (catalog == "" || f[0] == catalog) {
			pick = i
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("table %s not found: check its name and schema, and that the user may read it", id)
	case pick < 0 && len(found) > 1:
		return nil, fmt.Errorf("table %s matches %d tables that differ only by case: quote the name exactly, e.g. %s", id, len(found), found[0])
	case pick < 0:
		pick = 0
	}
	f := found[pick]
	if wh.Dialect.CaseInsensitive {
		for i := range f {
			f[i] = strings.ToLower(f[i])
		}
	}
	if strings.EqualFold(f[0], current) {
		return f[1:], nil
	}
	return f, nil
}

// ResolveSchema finds a schema in the warehouse's catalog and returns its
// name as the catalog spells it: the identity of a Segment-layout source.
func ResolveSchema(ctx context.Context, wh *Warehouse, name string) (string, error) {
	rows, err := wh.Conn.Query(ctx, wh.Dialect.ResolveSchema, name, "")
	if err != nil {
		return "", fmt.Errorf("look up schema %s in the catalog: %w", name, err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var c, s, cur string
		if err := rows.Scan(&c, &s, &cur); err != nil {
			return "", fmt.Errorf("look up schema %s in the catalog: %w", name, err)
		}
		found = append(found, s)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("look up schema %s in the catalog: %w", name, err)
	}
	switch {
	case len(found) == 0:
		return "", fmt.Errorf("schema %s not found: check its name, and that the user may use it", Ident{name})
	case slices.Contains(found, name):
		return name, nil
	case len(found) > 1:
		return "", fmt.Errorf("schema %s matches %d schemas that differ only by case: quote the name exactly", Ident{name}, len(found))
	}
	if wh.Dialect.CaseInsensitive {
		return strings.ToLower(found[0]), nil
	}
	return found[0], nil
}

// Resolve replaces the source's table name with the catalog's (see
// ResolveTable) and returns it.
func (s *Source) Resolve(ctx context.Context) (Ident, error) {
	id, err := ResolveTable(ctx, s.WH, s.Table.Table)
	if err != nil {
		return nil, err
	}
	s.Table.Table = id
	return id, nil
}

// Column is one column as the warehouse's catalog describes it; Type is
// lower case.
type Column struct{ Name, Type string }

// Describe lists the table's columns in order.
func (s *Source) Describe(ctx context.Context) ([]Column, error) {
	q, args := s.WH.Dialect.Columns(s.Table.Table.Schema(), s.Table.Table.Table())
	rows, err := s.WH.Conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", s.Table.Table, err)
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, fmt.Errorf("describe table %s: %w", s.Table.Table, err)
		}
		c.Type = strings.ToLower(c.Type)
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe table %s: %w", s.Table.Table, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s not found: check its name and that the user may read it", s.Table.Table)
	}
	return cols, nil
}

// DescribeTables lists the columns of the named tables of a schema in
// one catalog query (Dialect.TableColumns, which must be set), by table
// name as the catalog spells it; a table it does not list is absent.
func (w *Warehouse) DescribeTables(ctx context.Context, schema string, tables []string) (map[string][]Column, error) {
	q, args := w.Dialect.TableColumns(schema, tables)
	rows, err := w.Conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("describe the tables of schema %s: %w", schema, err)
	}
	defer rows.Close()
	out := map[string][]Column{}
	for rows.Next() {
		var table string
		var c Column
		if err := rows.Scan(&table, &c.Name, &c.Type); err != nil {
			return nil, fmt.Errorf("describe the tables of schema %s: %w", schema, err)
		}
		c.Type = strings.ToLower(c.Type)
		out[table] = append(out[table], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe the tables of schema %s: %w", schema, err)
	}
	return out, nil
}

// FindColumn matches exactly first, then case-insensitively, since
// unquoted names fold to lower case in Postgres and upper in Snowflake.
func FindColumn(table Ident, cols []Column, name string) (Column, error) {
	if i := slices.IndexFunc(cols, func(c Column) bool { return c.Name == name }); i >= 0 {
		return cols[i], nil
	}
	if i := slices.IndexFunc(cols, func(c Column) bool { return strings.EqualFold(c.Name, name) }); i >= 0 {
		return cols[i], nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return Column{}, fmt.Errorf("table %s has no column %q (it has: %s); set the column names in the config's table section",
		table, name, strings.Join(names, ", "))
}

// ScanSQL describes the table, checks its columns, and returns the window
// query; its parameters are the window's start and end.
func (s *Source) ScanSQL(ctx context.Context) (string, error) {
	t, payloadType, err := s.columns(ctx)
	if err != nil {
		return "", err
	}
	return WindowQuery(s.WH.Dialect, t, payloadType, s.Shard)
}

// columns finds the table's three columns as the catalog names them, and
// the payload column's type.
func (s *Source) columns(ctx context.Context) (RawTable, string, error) {
	cols, err := s.description(ctx)
	if err != nil {
		return RawTable{}, "", err
	}
	var found [3]Column
	for i, name := range []string{s.Table.MessageID, s.Table.ReceivedAt, s.Table.Payload} {
		if found[i], err = FindColumn(s.Table.Table, cols, name); err != nil {
			return RawTable{}, "", err
		}
	}
	t := s.Table
	t.MessageID, t.ReceivedAt, t.Payload = found[0].Name, found[1].Name, found[2].Name
	return t, found[2].Type, nil
}

// description is Describe, read once per Source; a failure is not kept.
func (s *Source) description(ctx context.Context) ([]Column, error) {
	s.describedMu.Lock()
	defer s.describedMu.Unlock()
	if s.described == nil {
		cols, err := s.Describe(ctx)
		if err != nil {
			return nil, err
		}
		s.described = cols
	}
	return s.described, nil
}

// WindowQuery renders the scan of a raw table whose payload column has the
// given type. The received_at filter and the shard run in SQL.
func WindowQuery(d *Dialect, t RawTable, payloadType string, shard audit.Shard) (string, error) {
	payload, ok := d.PayloadExpr(d.QuoteName(t.Payload), strings.ToLower(payloadType))
	if !ok {
		return "", fmt.Errorf("column %s.%s has type %s, which cannot hold a Segment message: use a JSON or text type",
			t.Table, t.Payload, payloadType)
	}
	return fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE %s", messageIDText(d, t), d.QuoteName(t.ReceivedAt), payload,
		d.Quote(t.Table), WindowWhere(d, t, shard)), nil
}

func messageIDText(d *Dialect, t RawTable) string { return d.AsText(d.QuoteName(t.MessageID)) }

// WindowWhere filters the window (parameters 1 and 2) and the shard.
func WindowWhere(d *Dialect, t RawTable, shard audit.Shard) string {
	return WindowWhereAt(d, t, shard, 1)
}

// WindowWhereAt is WindowWhere with the window's parameters numbered from
// first, for a statement that filters the window more than once.
func WindowWhereAt(d *Dialect, t RawTable, shard audit.Shard, first int) string {
	at := d.QuoteName(t.ReceivedAt)
	w := fmt.Sprintf("%s >= %s AND %s < %s", at, d.Placeholder(first), at, d.Placeholder(first+1))
	if shard.Sharded() {
		w += fmt.Sprintf(" AND %s = %d", d.ShardExpr(messageIDText(d, t), shard.Count), shard.Index)
	}
	return w
}

// Count is the number of rows in the window, for a progress ETA.
func (s *Source) Count(ctx context.Context, w audit.Window) (int64, error) {
	var n int64
	err := queryOne(ctx, s.WH, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s", s.WH.Dialect.Quote(s.Table.Table),
		WindowWhere(s.WH.Dialect, s.Table, s.Shard)), []any{w.Start.UTC(), w.End.UTC()}, &n)
	return n, err
}

// Vitals implements audit.VitalSource: the newest received_at of the
// table, and the window's (and shard's) rows that repeat a message_id.
// The columns are found first, as the scan finds them, so that a missing
// table or column is reported as such, whichever runs first.
func (s *Source) Vitals(ctx context.Context, w audit.Window) (audit.Vitals, error) {
	t, _, err := s.columns(ctx)
	if err != nil {
		return audit.Vitals{}, err
	}
	return TableVitals(ctx, s.WH, t, s.Shard, w)
}

// VitalsBesideScan implements audit.VitalSource: an engine that needs
// room of its own to group every message id (DuckDB, in this process)
// counts before the scan; a server counts beside it.
func (s *Source) VitalsBesideScan() bool { return s.WH.Dialect.GroupingRoom == nil }

// TableVitals measures one raw table in two aggregates: MAX over the whole
// table, which engines answer from their min/max metadata or an index on
// received_at, and the rows beyond the first of each message id over the
// window (and shard) only; a NULL id repeats no id. The newest row is the
// table's even for a shard: finding a shard's own would hash every message
// id the table has ever held. Where the dialect can tell that no index
// gives the newest row (Dialect.NewestByIndex), MAX reads every row anyway,
// and the duplicates are counted in that same scan.
func TableVitals(ctx context.Context, wh *Warehouse, t RawTable, shard audit.Shard, w audit.Window) (v audit.Vitals, err error) {
	var at *time.Time
	oneScan, err := newestReadsTable(ctx, wh, t)
	switch {
	case err != nil:
		return v, err
	case oneScan:
		q, args := OneScanVitalsSQL(wh.Dialect, t, shard, w)
		if err := queryOne(ctx, wh, q, args, &at, &v.Duplicates); err != nil {
			return v, fmt.Errorf("newest received_at and duplicate message ids of %s: %w", t.Table, err)
		}
	default:
		latest := fmt.Sprintf("SELECT MAX(%s) FROM %s", wh.Dialect.QuoteName(t.ReceivedAt), wh.Dialect.Quote(t.Table))
		if err := queryOne(ctx, wh, latest, nil, &at); err != nil {
			return v, fmt.Errorf("newest received_at of %s: %w", t.Table, err)
		}
		if v.Duplicates, err = countDuplicates(ctx, wh, t, shard, w); err != nil {
			return v, err
		}
	}
	if at != nil {
		v.Latest = at.UTC()
	}
	return v, nil
}

// newestReadsTable says whether the dialect knows that no index gives the
// newest received_at, which MAX then finds by reading every row.
func newestReadsTable(ctx context.Context, wh *Warehouse, t RawTable) (bool, error) {
	d := wh.Dialect
	if d.NewestByIndex == nil || !d.DistinctCount {
		return false, nil
	}
	q, args := d.NewestByIndex(d.Quote(t.Table), t.ReceivedAt)
	var indexes int64
	if err := queryOne(ctx, wh, q, args, &indexes); err != nil {
		return false, fmt.Errorf("indexes on %s.%s: %w", t.Table, t.ReceivedAt, err)
	}
	return indexes == 0, nil
}

// countDuplicates runs DuplicatesSQL, in the dialect's room for it.
func countDuplicates(ctx context.Context, wh *Warehouse, t RawTable, shard audit.Shard, w audit.Window) (n int64, err error) {
	dups, args := DuplicatesSQL(wh.Dialect, t, shard, w)
	leave, err := enterRoom(ctx, wh, wh.Dialect.GroupingRoom, "counting duplicate message ids",
		"a window of this many rows needs more memory to count them: add ?memory_limit=1GB to the warehouse URL, or audit it in --shard parts")
	if err != nil {
		return 0, err
	}
	defer leave(&err)
	if err := queryOne(ctx, wh, dups, args, &n); err != nil {
		return 0, fmt.Errorf("duplicate message ids in %s: %w", t.Table, err)
	}
	return n, nil
}

// OneScanVitalsSQL measures both vitals in one scan of the table, for a
// dialect with DistinctCount: the newest received_at of every row, and the
// duplicates among the window's (and shard's) rows, as DuplicatesSQL
// counts them.
func OneScanVitalsSQL(d *Dialect, t RawTable, shard audit.Shard, w audit.Window) (string, []any) {
	mid := binaryMessageID(d, t)
	counted := fmt.Sprintf("%s AND %s IS NOT NULL", WindowWhere(d, t, shard), mid)
	return fmt.Sprintf("SELECT MAX(%s), CAST(COUNT(*) FILTER (WHERE %s) - COUNT(DISTINCT %s) FILTER (WHERE %s) AS BIGINT) FROM %s",
		d.QuoteName(t.ReceivedAt), counted, mid, counted, d.Quote(t.Table)), []any{w.Start.UTC(), w.End.UTC()}
}

// binaryMessageID is the message id as text that compares equal only to
// the same bytes, as Go compares ids: under a case-insensitive collation
// "A" and "a" would be one id.
func binaryMessageID(d *Dialect, t RawTable) string {
	if d.ProveColumns != nil && d.ProveColumns.Binary != nil {
		return d.ProveColumns.Binary(messageIDText(d, t))
	}
	return messageIDText(d, t)
}

// DuplicatesSQL counts the window's rows whose message id an earlier row
// of the window has, ids compared byte for byte. Grouping, not COUNT(*) -
// COUNT(DISTINCT id), unless the dialect says otherwise (DistinctCount):
// DuckDB spills a grouping to disk under its memory limit, but not a
// DISTINCT aggregate, which ran out of memory at 10M rows.
func DuplicatesSQL(d *Dialect, t RawTable, shard audit.Shard, w audit.Window) (string, []any) {
	mid := binaryMessageID(d, t)
	from, where, args := d.Quote(t.Table), WindowWhere(d, t, shard), []any{w.Start.UTC(), w.End.UTC()}
	if d.DistinctCount {
		return fmt.Sprintf("SELECT CAST(COUNT(*) - COUNT(DISTINCT %s) AS BIGINT) FROM %s WHERE %s AND %s IS NOT NULL",
			mid, from, where, mid), args
	}
	if d.HashText != nil {
		// Ids whose hash repeats, then those ids themselves. The window
		// is filtered twice, so its parameters come twice.
		h, inner := d.HashText(mid), WindowWhereAt(d, t, shard, 3)
		where = fmt.Sprintf("%s AND %s IS NOT NULL AND %s IN (SELECT %s FROM %s WHERE %s AND %s IS NOT NULL GROUP BY 1 HAVING COUNT(*) > 1)",
			where, mid, h, h, from, inner, mid)
		args = append(args, args...)
	}
	return fmt.Sprintf("SELECT CAST(COALESCE(SUM(g.n - 1), 0) AS BIGINT) "+
		"FROM (SELECT %s AS mid, COUNT(*) AS n FROM %s WHERE %s GROUP BY 1 HAVING COUNT(*) > 1) AS g WHERE g.mid IS NOT NULL",
		mid, from, where), args
}

// enterRoom runs room's first statement, if there is a room, and returns
// what runs its second once the work is done: an error of either is the
// work's, unless the work failed first. Work that runs out of memory, in
// its room or under the limit the URL set, says what to do next (hint).
func enterRoom(ctx context.Context, wh *Warehouse, room *[2]string, work, hint string) (leave func(err *error), _ error) {
	explain := func(err *error) {
		if OutOfMemory(*err) {
			*err = fmt.Errorf("%w (%s)", *err, hint)
		}
	}
	if room == nil {
		return explain, nil
	}
	if err := wh.Conn.Exec(ctx, room[0]); err != nil {
		return nil, fmt.Errorf("make room for %s: %w", work, err)
	}
	return func(err *error) {
		explain(err)
		if rerr := wh.Conn.Exec(context.WithoutCancel(ctx), room[1]); rerr != nil && *err == nil {
			*err = fmt.Errorf("restore the memory limit after %s: %w", work, rerr)
		}
	}, nil
}

// OutOfMemory says whether err is DuckDB refusing memory past its limit:
// a statement's "Out of Memory Error", or an append's block it could not
// allocate or pin.
func OutOfMemory(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "Out of Memory") || strings.Contains(msg, "could not allocate block") ||
		strings.Contains(msg, "failed to pin block")
}

// queryOne scans the one row of an aggregate.
func queryOne(ctx context.Context, wh *Warehouse, q string, args []any, dest ...any) error {
	rows, err := wh.Conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("no row from %q", q)
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Err()
}

// Scan implements audit.Source.
func (s *Source) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	query, err := s.ScanSQL(ctx)
	if err != nil {
		return err
	}
	parts := []audit.Window{w}
	if rs, ok := s.WH.Conn.(RawStreamer); !ok || !rs.StreamsRawReads() {
		if parts, err = s.Slices(ctx, w); err != nil {
			return err
		}
	}
	size := s.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	batch := make([]audit.Row, 0, size)
	s.arenas = &arenas{size: size * 1024, lent: map[*byte][]byte{}}
	// The payloads of a batch share one buffer, where the rows can fill it,
	// across slices; a new one starts with each batch, since the pipeline
	// holds rows after yield returns, and goes back to s.arenas when it is
	// done.
	var arena []byte
	for rows, err := range s.open(WithRawRead(ctx), query, parts) {
		if err != nil {
			return fmt.Errorf("query %s: %w", s.Table.Table, lostConnection(err))
		}
		err = s.read(ctx, rows, size, &batch, &arena, yield)
		rows.Close()
		if err != nil {
			return err
		}
	}
	if len(batch) > 0 {
		return yield(batch)
	}
	return nil
}

// open runs the query of each slice one slice ahead of the caller: DuckDB
// computes a slice's whole result inside Query, which would otherwise
// leave the reader idle while it does. At most two slices are open. ctx
// carries the kind of read (WithRawRead, WithBulkRead, WithProofRead).
func (s *Source) open(ctx context.Context, query string, parts []audit.Window) iter.Seq2[Rows, error] {
	return func(yield func(Rows, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		type opened struct {
			rows Rows
			err  error
		}
		ahead := make(chan opened)
		go func() {
			defer close(ahead)
			for _, part := range parts {
				rows, err := s.WH.Conn.Query(ctx, query, part.Start.UTC(), part.End.UTC())
				select {
				case ahead <- opened{rows, err}:
				case <-ctx.Done():
					if err == nil {
						rows.Close()
					}
					return
				}
				if err != nil {
					return
				}
			}
		}()
		defer func() {
			cancel()
			for o := range ahead {
				if o.err == nil {
					o.rows.Close()
				}
			}
		}()
		for o := range ahead {
			if !yield(o.rows, o.err) {
				return
			}
		}
	}
}

// Slices cuts the window for dialects with SliceRows; the cuts are
// received_at quantiles, and the half-open slices cover every row once.
func (s *Source) Slices(ctx context.Context, w audit.Window) ([]audit.Window, error) {
	return s.slices(ctx, w, s.WH.Dialect.SliceRows)
}

// BaselineSliceRows is the slice ReadSliced is measured with: the 10,000
// rows the DuckDB targets were set with, though the reader later cut
// 5,000 (Dialect.SliceRows). Larger slices read faster, so it is the
// stricter baseline.
const BaselineSliceRows = 10000

// ReadSliced reads the window as eventaudit read DuckDB before its
// streamed scan: cut into slices of about rowsPer rows, each one query
// whose whole result the driver materialises and hands over through
// Arrow, each row decoded and dropped. It returns the rows read. It is
// the read limit the DuckDB targets were set against (docs/performance.md),
// kept so that benchmarks measure against it in the same run; an audit
// never reads this way.
func (s *Source) ReadSliced(ctx context.Context, w audit.Window, rowsPer int) (int, error) {
	query, err := s.ScanSQL(ctx)
	if err != nil {
		return 0, err
	}
	parts, err := s.slices(ctx, w, rowsPer)
	if err != nil {
		return 0, err
	}
	n := 0
	var arena []byte
	for _, p := range parts {
		rows, err := s.WH.Conn.Query(WithBulkRead(ctx), query, p.Start.UTC(), p.End.UTC())
		if err != nil {
			return n, err
		}
		raw, ok := rows.(RowScanner)
		if !ok {
			rows.Close()
			return n, fmt.Errorf("%T reads no rows in place", rows)
		}
		for rows.Next() {
			var r audit.Row
			if arena, _, err = raw.ScanRow(&r, arena[:0]); err != nil {
				rows.Close()
				return n, err
			}
			n++
		}
		// A read that ended early is an error, not a short count: the
		// benchmark would print it as a rate.
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// slices cuts the window into slices of about rowsPer rows (0: one).
func (s *Source) slices(ctx context.Context, w audit.Window, rowsPer int) ([]audit.Window, error) {
	d := s.WH.Dialect
	if rowsPer <= 0 {
		return []audit.Window{w}, nil
	}
	n, err := s.Count(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", s.Table.Table, err)
	}
	k := int((n + int64(rowsPer) - 1) / int64(rowsPer))
	if k <= 1 {
		return []audit.Window{w}, nil
	}
	rows, err := s.WH.Conn.Query(ctx, d.Quantiles(d.QuoteName(s.Table.ReceivedAt), d.Quote(s.Table.Table),
		WindowWhere(d, s.Table, s.Shard), k), w.Start.UTC(), w.End.UTC())
	if err != nil {
		return nil, fmt.Errorf("slice the window of %s: %w", s.Table.Table, err)
	}
	defer rows.Close()
	out, start := []audit.Window{}, w.Start
	for rows.Next() {
		var cut time.Time
		if err := rows.Scan(&cut); err != nil {
			return nil, err
		}
		if cut.After(start) && cut.Before(w.End) {
			out = append(out, audit.Window{Start: start, End: cut})
			start = cut
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return append(out, audit.Window{Start: start, End: w.End}), nil
}

// read appends the rows to batch, yielding each full batch.
func (s *Source) read(ctx context.Context, rows Rows, size int, batch *[]audit.Row, arena *[]byte, yield func([]audit.Row) error) error {
	raw, _ := rows.(RowScanner)
	for rows.Next() {
		// The row is read in place: a local passed to the RowScanner
		// interface would escape, one allocation a row.
		*batch = append(*batch, audit.Row{})
		r := &(*batch)[len(*batch)-1]
		scanned := false
		if raw != nil {
			if *arena == nil {
				*arena = s.arenas.get()
			}
			var err error
			if *arena, scanned, err = raw.ScanRow(r, *arena); err != nil {
				return fmt.Errorf("read %s: %w", s.Table.Table, err)
			}
		}
		if !scanned {
			var id *string
			if err := rows.Scan(&id, &r.ReceivedAt, &r.Payload); err != nil {
				return fmt.Errorf("read %s: %w", s.Table.Table, err)
			}
			if id != nil {
				r.MessageID = *id
			}
		}
		r.ReceivedAt = r.ReceivedAt.UTC()
		if len(*batch) == size {
			if err := yield(*batch); err != nil {
				return err
			}
			*batch = (*batch)[:0]
			*arena = nil
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read %s: %w", s.Table.Table, lostConnection(err))
	}
	return nil
}

// lostConnection says what a bare driver error like "unexpected EOF" means
// when the server goes away mid-scan, and what to do.
func lostConnection(err error) error {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"unexpected eof", "conn closed", "connection reset", "broken pipe", "terminating connection", "server closed the connection"} {
		if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, s) {
			return fmt.Errorf("the connection to the warehouse was lost mid-scan (%w): the server restarted or ended the session; nothing was written, so re-run the window", err)
		}
	}
	return err
}
