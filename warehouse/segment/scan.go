package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Scan implements audit.Source: the event tables of planned track events,
// then tracks for every other track event, then pages, screens, identifies
// and groups.
func (s *Source) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
	// Findings are per run.
	s.mu.Lock()
	s.findings, s.reported = nil, nil
	s.mu.Unlock()
	tables, err := s.tables(ctx)
	if err != nil {
		return err
	}
	var plan []segmentTable
	planned := map[string]bool{}
	for _, ev := range s.Events {
		slug := Slug(ev)
		planned[slug] = true
		if name, ok := tables[slug]; ok && !segmentReserved[slug] {
			plan = append(plan, segmentTable{name: name, typ: "track", member: "properties", event: ev})
		}
	}
	if s.EveryTable {
		for _, slug := range slices.Sorted(maps.Keys(tables)) {
			if planned[slug] || segmentReserved[slug] {
				continue
			}
			// Read from its own table, so not from tracks as well.
			planned[slug] = true
			plan = append(plan, segmentTable{name: tables[slug], typ: "track", member: "properties", unplanned: true})
		}
	}
	for _, ct := range segmentCallTables {
		if name, ok := tables[ct.table]; ok {
			plan = append(plan, segmentTable{name: name, typ: ct.typ, member: ct.member})
		}
	}
	size := s.BatchSize
	if size <= 0 {
		size = sqlwh.DefaultBatchSize
	}
	b := &batcher{size: size, yield: yield}
	if name, ok := tables[TracksTable]; ok {
		if err := s.scanTracks(ctx, w, name, tables, planned, b); err != nil {
			return err
		}
	}
	for i := range plan {
		if err := s.scanTable(ctx, w, &plan[i], b); err != nil {
			return err
		}
	}
	return b.flush()
}

type batcher struct {
	size  int
	rows  []audit.Row
	yield func([]audit.Row) error
}

func (b *batcher) add(r audit.Row) error {
	b.rows = append(b.rows, r)
	if len(b.rows) < b.size {
		return nil
	}
	return b.flush()
}

func (b *batcher) flush() error {
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
func (s *Source) each(ctx context.Context, w audit.Window, rt sqlwh.RawTable, q string, scan func(sqlwh.Rows) error) error {
	parts, err := (&sqlwh.Source{WH: s.WH, Table: rt, Shard: s.Shard}).Slices(ctx, w)
	if err != nil {
		return err
	}
	for _, part := range parts {
		rows, err := s.WH.Conn.Query(sqlwh.WithBulkRead(ctx), q, part.Start.UTC(), part.End.UTC())
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

// scanTracks reads, from tracks, the track calls of events with no schema:
// they are unplanned, and an event table of theirs is reported once.
func (s *Source) scanTracks(ctx context.Context, w audit.Window, table string, tables map[string]string, planned map[string]bool, b *batcher) error {
	d := s.WH.Dialect
	rt := s.rawTable(table)
	q := d.SQL(`SELECT %s, {received_at}, {event}, {event_text} FROM %s WHERE %s`, d.AsText(d.QuoteName("id")),
		d.Quote(rt.Table), sqlwh.WindowWhere(d, rt, s.Shard))
	if len(planned) > 0 {
		slugs := make([]string, 0, len(planned))
		for slug := range planned {
			slugs = append(slugs, "'"+strings.ReplaceAll(slug, "'", "''")+"'")
		}
		slices.Sort(slugs)
		q += d.SQL(` AND ({event} IS NULL OR LOWER({event}) NOT IN (%s))`, strings.Join(slugs, ", "))
	}
	return s.each(ctx, w, rt, q, func(rows sqlwh.Rows) error {
		var id, slug, text *string
		var at time.Time
		if err := rows.Scan(&id, &at, &slug, &text); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		msg := map[string]any{"type": "track", "event": deref(text)}
		if slug != nil {
			if name, ok := tables[strings.ToLower(*slug)]; ok && !segmentReserved[strings.ToLower(*slug)] {
				s.find("table/"+name, audit.Violation{EventType: "track", EventName: deref(text),
					Keyword: audit.KeywordUnplannedTable, Value: jsonString(name),
					Message: fmt.Sprintf("table %s holds event %q, which no schema in the plan describes", name, deref(text))})
			}
		}
		return b.add(rowOf(id, at, msg))
	})
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

func rowOf(id *string, at time.Time, msg map[string]any) audit.Row {
	r := audit.Row{MessageID: deref(id), ReceivedAt: at.UTC()}
	if id != nil {
		msg["messageId"] = *id
	}
	r.Payload, _ = json.Marshal(msg)
	return r
}

// scanTable reads one table of the layout and rebuilds each row.
func (s *Source) scanTable(ctx context.Context, w audit.Window, t *segmentTable, b *batcher) error {
	rt := s.rawTable(t.name)
	src := &sqlwh.Source{WH: s.WH, Table: rt}
	cols, err := src.Describe(ctx)
	if err != nil {
		return err
	}
	// The envelope first, then every column that may hold a property.
	var sel []sqlwh.Column
	idx := map[string]int{} // lower-case column name → position in sel
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
		return nil // not an event table
	}
	if _, ok := idx["received_at"]; !ok {
		return fmt.Errorf("table %s has no received_at column; is it a Segment table?", src.Table.Table)
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
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(exprs, ", "), d.Quote(rt.Table), sqlwh.WindowWhere(d, rt, s.Shard))
	vals := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return s.each(ctx, w, rt, q, func(rows sqlwh.Rows) error {
		clear(vals)
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", rt.Table, err)
		}
		r, err := s.rebuild(t, idx, vals)
		if err != nil {
			return fmt.Errorf("read %s: %w", rt.Table, err)
		}
		return b.add(r)
	})
}

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
