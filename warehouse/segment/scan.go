package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Scan implements audit.Source: the event tables of planned track events,
// then tracks for every other track event, then pages, screens, identifies
// and groups.
func (s *Source) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	_, err := s.scan(ctx, w, nil, yield)
	return err
}

// scan reads the layout; with a plan, only the rows it does not prove, and
// it returns the counts of the others.
func (s *Source) scan(ctx context.Context, w audit.Window, plan *audit.PushdownPlan, yield func([]audit.Row) error) ([]audit.ProvenCount, error) {
	// Findings are per run.
	s.mu.Lock()
	s.findings, s.reported = nil, nil
	s.mu.Unlock()
	tables, err := s.tables(ctx)
	if err != nil {
		return nil, err
	}
	size := s.BatchSize
	if size <= 0 {
		size = sqlwh.DefaultBatchSize
	}
	b := &batcher{size: size, yield: yield}
	layout := s.plan(tables)
	if err := s.describe(ctx, layout); err != nil {
		return nil, err
	}
	scans := make([]func(context.Context) ([]audit.ProvenCount, error), 0, len(layout)+1)
	if name, ok := tables[TracksTable]; ok {
		fromTracks := s.readFromTracks(layout) // before the tables' scans fill in their columns
		scans = append(scans, func(ctx context.Context) ([]audit.ProvenCount, error) {
			return s.scanTracks(ctx, w, name, tables, fromTracks, plan, b)
		})
	}
	for i := range layout {
		scans = append(scans, func(ctx context.Context) ([]audit.ProvenCount, error) {
			return s.scanTable(ctx, w, &layout[i], plan, b)
		})
	}
	// An engine that runs each statement on one core (Postgres) proves
	// ProofStatements tables at once, each by its own statement on its own
	// connection; each table is still one statement, so one snapshot.
	at := 1
	if plan != nil {
		at = max(at, s.WH.Dialect.ProofStatements)
	}
	counts := make([][]audit.ProvenCount, len(scans))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(at)
	for i, scan := range scans {
		g.Go(func() (err error) {
			counts[i], err = scan(gctx)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(counts...), b.flush()
}

// planned are the slugs of the planned track events.
func (s *Source) planned() map[string]bool {
	planned := map[string]bool{}
	for _, ev := range s.Events {
		planned[Slug(ev)] = true
	}
	return planned
}

// readFromTracks are the slugs of the events whose rows tracks repeats
// and the scan reads from their own tables instead.
func (s *Source) readFromTracks(layout []segmentTable) map[string]bool {
	planned := s.planned()
	for _, t := range layout {
		if t.unplanned {
			planned[strings.ToLower(t.name)] = true
		}
	}
	return planned
}

// plan lists the tables the scan reads after tracks, in order.
func (s *Source) plan(tables map[string]string) []segmentTable {
	var plan []segmentTable
	planned := s.planned()
	for _, ev := range s.Events {
		slug := Slug(ev)
		if name, ok := tables[slug]; ok && !segmentReserved[slug] {
			plan = append(plan, segmentTable{name: name, typ: "track", member: "properties", event: ev})
		}
	}
	if s.EveryTable {
		for _, slug := range slices.Sorted(maps.Keys(tables)) {
			if planned[slug] || segmentReserved[slug] {
				continue
			}
			plan = append(plan, segmentTable{name: tables[slug], typ: "track", member: "properties", unplanned: true})
		}
	}
	for _, ct := range segmentCallTables {
		if name, ok := tables[ct.table]; ok {
			plan = append(plan, segmentTable{name: name, typ: ct.typ, member: ct.member})
		}
	}
	return plan
}

// batcher gathers rebuilt rows into batches; the rebuilders share it.
type batcher struct {
	mu    sync.Mutex
	size  int
	rows  []audit.Row
	yield func([]audit.Row) error
}

func (b *batcher) add(rows ...audit.Row) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range rows {
		b.rows = append(b.rows, r)
		if len(b.rows) < b.size {
			continue
		}
		if err := b.flushLocked(); err != nil {
			return err
		}
	}
	return nil
}

func (b *batcher) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *batcher) flushLocked() error {
	if len(b.rows) == 0 {
		return nil
	}
	err := b.yield(b.rows)
	b.rows = make([]audit.Row, 0, b.size)
	return err
}

// rawTable is a layout table as the raw-layout reader sees it: its
// id and received_at, for the window, the shard and DuckDB's slicing.
func (s *Source) rawTable(name string) sqlwh.RawTable {
	return sqlwh.RawTable{Table: s.table(name), MessageID: "id", ReceivedAt: "received_at"}
}

// each runs q, whose WHERE clause starts with windowWhere, over the window
// — in slices where the dialect needs them, as for the raw layout — and
// calls scan on each row.
func (s *Source) each(ctx context.Context, w audit.Window, rt sqlwh.RawTable, q string, binds int, scan func(sqlwh.Rows) error) error {
	parts, err := (&sqlwh.Source{WH: s.WH, Table: rt, Shard: s.Shard}).Slices(ctx, w)
	if err != nil {
		return err
	}
	for _, part := range parts {
		var args []any
		for range max(binds, 1) {
			args = append(args, part.Start.UTC(), part.End.UTC())
		}
		rows, err := s.WH.Conn.Query(sqlwh.WithBulkRead(ctx), q, args...)
		if err != nil {
			return fmt.Errorf("query %s: %w", rt.Table, err)
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read %s: %w", rt.Table, err)
		}
	}
	return nil
}

// tracksQuery renders the scan of tracks: the track calls of events with
// no table read; with a plan, the pushdown statement over them.
func (s *Source) tracksQuery(table string, planned map[string]bool, plan *audit.PushdownPlan) (string, proof) {
	d := s.WH.Dialect
	rt := s.rawTable(table)
	exprs := []string{d.AsText(d.QuoteName("id")), d.QuoteName("received_at"), d.QuoteName("event"), d.QuoteName("event_text")}
	whereAt := func(first int) string {
		where := sqlwh.WindowWhereAt(d, rt, s.Shard, first)
		if len(planned) > 0 {
			slugs := make([]string, 0, len(planned))
			for slug := range planned {
				slugs = append(slugs, "'"+strings.ReplaceAll(slug, "'", "''")+"'")
			}
			slices.Sort(slugs)
			where += d.SQL(` AND ({event} IS NULL OR LOWER({event}) NOT IN (%s))`, strings.Join(slugs, ", "))
		}
		return where
	}
	var pr proof
	if plan != nil {
		pr = s.tracksProof(plan)
	}
	if pr.expr == "" {
		return fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(exprs, ", "), d.Quote(rt.Table), whereAt(1)), pr
	}
	var q string
	q, pr.binds = provenSQL(d, exprs, []int{2, 3}, pr, d.Quote(rt.Table), whereAt)
	return q, pr
}

// scanTracks reads, from tracks, the track calls of events with no schema:
// they are unplanned, and an event table of theirs is reported once.
func (s *Source) scanTracks(ctx context.Context, w audit.Window, table string, tables map[string]string, planned map[string]bool,
	plan *audit.PushdownPlan, b *batcher) ([]audit.ProvenCount, error) {
	q, pr := s.tracksQuery(table, planned, plan)
	var counts windowCounts
	unplannedTable := func(slug, text *string) {
		if slug != nil {
			if name, ok := tables[strings.ToLower(*slug)]; ok && !segmentReserved[strings.ToLower(*slug)] {
				s.find("table/"+name, audit.Violation{EventType: "track", EventName: deref(text),
					Keyword: audit.KeywordUnplannedTable, Value: jsonString(name),
					Message: fmt.Sprintf("table %s holds event %q, which no schema in the plan describes", name, deref(text))})
			}
		}
	}
	err := s.each(ctx, w, s.rawTable(table), q, pr.binds, func(rows sqlwh.Rows) error {
		var id, slug, text *string
		var at *time.Time
		var rule, n *int64
		dest := []any{&id, &at, &slug, &text}
		if pr.expr != "" {
			dest = append(dest, &rule, &n)
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		unplannedTable(slug, text)
		if rule != nil && n != nil {
			counts.count(groupKey(slug, text), audit.ProvenCount{Rule: int(*rule), Name: deref(text), Rows: *n})
			return nil
		}
		if pr.expr != "" {
			counts.fetch(groupKey(slug, text))
		}
		if at == nil {
			return fmt.Errorf("read %s: row %q has no received_at", table, deref(id))
		}
		event := deref(text)
		return b.add(message{typ: "track", event: &event, id: id}.row(*at))
	})
	if err != nil {
		return nil, err
	}
	proven, _, err := counts.proven()
	return proven, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// message is a rebuilt Segment message's members. row writes them as
// json.Marshal writes the map of them, keys in order, without building the
// map: on 1M messages the map and its marshal were a third of rebuilding.
type message struct {
	typ         string
	event, name *string // nil: absent
	id          *string // nil: absent, as is the row's message id
	member      string  // "properties" or "traits"; "": none
	object      map[string]any
}

// The keys in json.Marshal's order: member is properties or traits, which
// sort between name and type. A row is its head, the member's object and
// its tail, so that an object writer (objectWriter) can write the object
// in place.

// appendHead appends '{' and the members before the object, up to the
// member's key and colon.
func (m message) appendHead(b []byte) []byte {
	b = append(b, '{')
	text := func(k string, v *string) {
		if v != nil {
			b = audit.AppendJSONString(member(b, k), *v)
		}
	}
	text("event", m.event)
	text("messageId", m.id)
	text("name", m.name)
	if m.member != "" {
		b = member(b, m.member)
	}
	return b
}

// appendTail appends the members after the object, and '}'.
func (m message) appendTail(b []byte) []byte {
	b = audit.AppendJSONString(member(b, "type"), m.typ)
	return append(b, '}')
}

func (m message) row(at time.Time) audit.Row {
	r := audit.Row{MessageID: deref(m.id), ReceivedAt: at.UTC()}
	b := m.appendHead(make([]byte, 0, 512))
	if m.member != "" {
		var ok bool
		if b, ok = audit.AppendJSON(b, m.object); !ok {
			r.Payload, _ = json.Marshal(m.asMap())
			return r
		}
	}
	r.Payload = m.appendTail(b)
	return r
}

// asMap is the message as a map, as encoding/json writes it.
func (m message) asMap() map[string]any {
	msg := map[string]any{"type": m.typ}
	for k, v := range map[string]*string{"event": m.event, "messageId": m.id, "name": m.name} {
		if v != nil {
			msg[k] = *v
		}
	}
	if m.member != "" {
		msg[m.member] = m.object
	}
	return msg
}

// query renders the scan of one table of the layout, and with a plan the
// pushdown statement over it (pr.cond is then set); idx maps each column's
// lower-case name to its place in t.cols. q is "" for a table to skip.
func (s *Source) query(ctx context.Context, t *segmentTable, plan *audit.PushdownPlan) (q string, idx map[string]int, pr proof, err error) {
	rt := s.rawTable(t.name)
	src := &sqlwh.Source{WH: s.WH, Table: rt}
	cols := t.described
	if cols == nil {
		if cols, err = src.Describe(ctx); err != nil {
			return "", nil, pr, err
		}
	}
	// The envelope first, then every column that may hold a property.
	var sel []sqlwh.Column
	idx = map[string]int{} // lower-case column name → position in sel
	pick := func(name string) {
		if c, err := sqlwh.FindColumn(src.Table.Table, cols, name); err == nil {
			idx[name] = len(sel)
			sel = append(sel, c)
		}
	}
	for _, name := range []string{"id", "received_at", "event_text", "name"} {
		pick(name)
	}
	if _, ok := idx["event_text"]; t.unplanned && !ok {
		return "", nil, pr, nil // not an event table
	}
	if _, ok := idx["received_at"]; !ok {
		return "", nil, pr, fmt.Errorf("table %s has no received_at column; is it a Segment table?", src.Table.Table)
	}
	for _, c := range cols {
		low := strings.ToLower(c.Name)
		if _, done := idx[low]; done || segmentCommon[low] || strings.HasPrefix(low, "context_") {
			continue
		}
		idx[low] = len(sel)
		sel = append(sel, c)
	}
	t.cols = sel
	t.kinds = make([]int, len(sel))
	for i, c := range sel {
		t.kinds[i] = kindOf(c.Type)
	}
	d := s.WH.Dialect
	exprs := make([]string, len(sel))
	for i, c := range sel {
		exprs[i] = d.QuoteName(c.Name)
		if strings.ToLower(c.Name) == "id" {
			exprs[i] = d.AsText(d.QuoteName("id"))
		}
	}
	whereAt := func(first int) string { return sqlwh.WindowWhereAt(d, rt, s.Shard, first) }
	if plan != nil {
		pr = s.tableProof(t, idx, plan)
	}
	if pr.expr == "" {
		return fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(exprs, ", "), d.Quote(rt.Table), whereAt(1)), idx, pr, nil
	}
	// Pages and screens are counted under their names.
	var group []int
	if i, ok := idx["name"]; ok && (t.typ == "page" || t.typ == "screen") {
		group = []int{i}
	}
	q, pr.binds = provenSQL(d, exprs, group, pr, d.Quote(rt.Table), whereAt)
	return q, idx, pr, nil
}

// scanTable reads one table of the layout and rebuilds each row; with a
// plan, only the rows it does not prove, counting the others. Rebuilding a
// row costs several times reading it, so rebuilders rebuild chunks of rows
// while this goroutine reads on.
func (s *Source) scanTable(ctx context.Context, w audit.Window, t *segmentTable, plan *audit.PushdownPlan, b *batcher) ([]audit.ProvenCount, error) {
	q, idx, pr, err := s.query(ctx, t, plan)
	if err != nil || q == "" {
		return nil, err
	}
	rt := s.rawTable(t.name)
	g, gctx := errgroup.WithContext(ctx)
	rebuilders := runtime.GOMAXPROCS(0)
	chunks := make(chan [][]any, rebuilders)
	for range rebuilders {
		g.Go(func() error {
			for chunk := range chunks {
				rows := make([]audit.Row, len(chunk))
				for i, vals := range chunk {
					r, err := s.rebuild(t, idx, vals)
					if err != nil {
						return fmt.Errorf("read %s: %w", rt.Table, err)
					}
					rows[i] = r
				}
				if err := b.add(rows...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	chunk := make([][]any, 0, rebuildChunk)
	send := func() error {
		select {
		case chunks <- chunk:
			chunk = make([][]any, 0, rebuildChunk)
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	var rule, n *int64
	var counts windowCounts
	// key is a row's group, as the statement counts it: pages and screens
	// by name.
	key := func(vals []any) string { return "" }
	if i, ok := idx["name"]; ok && (t.typ == "page" || t.typ == "screen") {
		key = func(vals []any) string { return groupKey(vals[i]) }
	}
	matches := map[string]audit.Match{}
	readErr := s.each(gctx, w, rt, q, pr.binds, func(rows sqlwh.Rows) error {
		// Each row's values are its own: a rebuilder holds them.
		vals := make([]any, len(t.cols))
		ptrs := make([]any, len(t.cols), len(t.cols)+2)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		rule, n = nil, nil
		if pr.expr != "" {
			ptrs = append(ptrs, &rule, &n)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", rt.Table, err)
		}
		if rule == nil || n == nil {
			if pr.expr != "" {
				counts.fetch(key(vals))
			}
			if chunk = append(chunk, vals); len(chunk) == rebuildChunk {
				return send()
			}
			return nil
		}
		c := audit.ProvenCount{Rule: int(*rule), Rows: *n}
		var m audit.Match
		switch t.typ {
		case "track":
			c.Name = t.event
			m = s.Matcher.Resolve(t.typ, t.event, "", "")
		case "page", "screen":
			if i, ok := idx["name"]; ok && vals[i] != nil {
				c.Name = fmt.Sprint(normalise(vals[i]))
			}
			m = s.Matcher.Resolve(t.typ, "", c.Name, "")
		default:
			m = s.Matcher.Resolve(t.typ, "", "", "")
		}
		k := key(vals)
		counts.count(k, c)
		matches[k] = m // checked below, once the group is known to hold rows proven
		return nil
	})
	if readErr == nil && len(chunk) > 0 {
		readErr = send()
	}
	close(chunks)
	if err := g.Wait(); err != nil {
		return nil, err // a rebuilder's error caused any the reader saw
	}
	if readErr != nil {
		return nil, readErr
	}
	proven, keys, err := counts.proven()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rt.Table, err)
	}
	for _, k := range keys {
		s.checkedLayout(t, matches[k]) // the columns are checked as for a row rebuilt
	}
	return proven, nil
}

// rebuildChunk is how many rows a rebuilder takes at a time. There is one
// rebuilder per CPU: with the validators, two kept 2 cores busy where one
// goroutine rebuilding as it read kept one.
const rebuildChunk = 256

// VitalsBesideScan implements audit.VitalSource, as sqlwh.Source does.
func (s *Source) VitalsBesideScan() bool { return s.WH.Dialect.GroupingRoom == nil }

// Vitals implements audit.VitalSource over the call tables (tracks, pages,
// screens, identifies, groups), which hold every message once: an event
// table repeats its tracks rows.
func (s *Source) Vitals(ctx context.Context, w audit.Window) (audit.Vitals, error) {
	tables, err := s.tables(ctx)
	if err != nil {
		return audit.Vitals{}, err
	}
	names := []string{TracksTable}
	for _, ct := range segmentCallTables {
		names = append(names, ct.table)
	}
	var out audit.Vitals
	for _, n := range names {
		name, ok := tables[n]
		if !ok {
			continue
		}
		v, err := sqlwh.TableVitals(ctx, s.WH, s.rawTable(name), s.Shard, w)
		if err != nil {
			return out, err
		}
		if v.Latest.After(out.Latest) {
			out.Latest = v.Latest
		}
		out.Duplicates += v.Duplicates
	}
	return out, nil
}
