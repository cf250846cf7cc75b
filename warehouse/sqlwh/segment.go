package sqlwh

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// Segment's warehouse layout (its Snowflake, Redshift and Postgres
// destinations): per source schema, one table per call type, one per track
// event named by its Slug, properties and traits flattened into snake_case
// columns, arrays as JSON text, a column's type inferred from its first
// value, strings cut at 512 characters.
const (
	SegmentTracks     = "tracks"
	SegmentMaxVarchar = 512
)

// segmentCallTables are the call types whose rows all live in one table,
// with the member Segment flattened into it.
var segmentCallTables = []struct{ typ, table, member string }{
	{"page", "pages", "properties"},
	{"screen", "screens", "properties"},
	{"identify", "identifies", "traits"},
	{"group", "groups", "traits"},
}

// segmentReserved are tables of the layout that are not event tables.
var segmentReserved = map[string]bool{"tracks": true, "pages": true, "screens": true, "identifies": true,
	"groups": true, "users": true, "accounts": true, "aliases": true}

// segmentCommon are columns Segment fills from the message's envelope, not
// from its properties or traits; context_* columns too.
var segmentCommon = map[string]bool{"id": true, "anonymous_id": true, "user_id": true, "received_at": true,
	"sent_at": true, "timestamp": true, "original_timestamp": true, "uuid_ts": true, "loaded_at": true,
	"event": true, "event_text": true, "group_id": true, "channel": true, "version": true}

// SegmentSource scans Segment's layout in one schema and rebuilds each row
// into a Segment message, so that matching and validation run as for the
// raw layout. It reads each table once per window, filtered on received_at.
type SegmentSource struct {
	WH *Warehouse
	// Schema holds the layout, e.g. web_prod ("" is the connection's).
	Schema string
	// Events are the planned track events; each has its own table.
	Events []string
	// Matcher finds the schema of each row before it is rebuilt; the
	// schema's Shape says which columns make up the object.
	Matcher   *audit.Matcher
	BatchSize int
	Shard     audit.Shard

	mu       sync.Mutex
	findings []audit.Violation
	reported map[string]bool
	// By schema id; used by the scanning goroutine only.
	shapes  map[string]*audit.Shape
	layouts map[string][]segmentLeaf
}

// SegmentTable is what an audit reads from one table of the layout.
type segmentTable struct {
	name   string // as the catalog spells it
	typ    string // call type
	member string // "properties" or "traits"
	event  string // the planned track event, for an event table
	cols   []column
	kinds  []int // kindOf each column
	// checked records the schemas whose columns were checked.
	checked map[string]bool
}

func (s *SegmentSource) table(name string) Ident {
	if s.Schema == "" {
		return Ident{name}
	}
	return Ident{s.Schema, name}
}

// Findings implements audit.FindingSource.
func (s *SegmentSource) Findings() []audit.Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.findings)
	slices.SortFunc(out, func(a, b audit.Violation) int {
		return strings.Compare(a.Keyword+a.EventName+a.InstancePath, b.Keyword+b.EventName+b.InstancePath)
	})
	return out
}

// find records a finding once per run. A sharded run records none: every
// shard would find the same column, and a finding has no message id to
// hash to one shard, so a shard's re-run could not replace its own.
func (s *SegmentSource) find(key string, v audit.Violation) {
	if s.Shard.Sharded() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reported == nil {
		s.reported = map[string]bool{}
	}
	if s.reported[key] {
		return
	}
	s.reported[key] = true
	s.findings = append(s.findings, v)
}

// tables lists the layout's tables, lower-cased name → catalog name.
func (s *SegmentSource) tables(ctx context.Context) (map[string]string, error) {
	q, args := s.WH.Dialect.Tables(s.Schema)
	rows, err := s.WH.Conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list the tables of schema %s: %w", s.Schema, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[strings.ToLower(name)] = name
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("schema %s has no tables: check --source and that the user may read it", s.Schema)
	}
	return out, nil
}

// Scan implements audit.Source: the event tables of planned track events,
// then tracks for every other track event, then pages, screens, identifies
// and groups.
func (s *SegmentSource) Scan(ctx context.Context, w audit.Window, yield func([]audit.Row) error) error {
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
	for _, ct := range segmentCallTables {
		if name, ok := tables[ct.table]; ok {
			plan = append(plan, segmentTable{name: name, typ: ct.typ, member: ct.member})
		}
	}
	size := s.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	b := &batcher{size: size, yield: yield}
	if name, ok := tables[SegmentTracks]; ok {
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
func (s *SegmentSource) rawTable(name string) RawTable {
	return RawTable{Table: s.table(name), MessageID: "id", ReceivedAt: "received_at"}
}

// each runs q, whose WHERE clause starts with windowWhere, over the window
// — in slices where the dialect needs them, as for the raw layout — and
// calls scan on each row.
func (s *SegmentSource) each(ctx context.Context, w audit.Window, rt RawTable, q string, scan func(Rows) error) error {
	parts, err := (&Source{WH: s.WH, Table: rt, Shard: s.Shard}).slices(ctx, w)
	if err != nil {
		return err
	}
	for _, part := range parts {
		rows, err := s.WH.Conn.Query(WithBulkRead(ctx), q, part.Start.UTC(), part.End.UTC())
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
func (s *SegmentSource) scanTracks(ctx context.Context, w audit.Window, table string, tables map[string]string, planned map[string]bool, b *batcher) error {
	d := s.WH.Dialect
	rt := s.rawTable(table)
	q := d.SQL(`SELECT %s, {received_at}, {event}, {event_text} FROM %s WHERE %s`, d.AsText(d.QuoteName("id")),
		d.Quote(rt.Table), windowWhere(d, rt, s.Shard))
	if len(planned) > 0 {
		slugs := make([]string, 0, len(planned))
		for slug := range planned {
			slugs = append(slugs, "'"+strings.ReplaceAll(slug, "'", "''")+"'")
		}
		slices.Sort(slugs)
		q += d.SQL(` AND ({event} IS NULL OR LOWER({event}) NOT IN (%s))`, strings.Join(slugs, ", "))
	}
	return s.each(ctx, w, rt, q, func(rows Rows) error {
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
func (s *SegmentSource) scanTable(ctx context.Context, w audit.Window, t *segmentTable, b *batcher) error {
	rt := s.rawTable(t.name)
	src := &Source{WH: s.WH, Table: rt}
	cols, err := src.describe(ctx)
	if err != nil {
		return err
	}
	// The envelope first, then every column that may hold a property.
	var sel []column
	idx := map[string]int{} // lower-case column name → position in sel
	pick := func(name string) {
		if c, err := findColumn(src.Table.Table, cols, name); err == nil {
			idx[name] = len(sel)
			sel = append(sel, c)
		}
	}
	for _, name := range []string{"id", "received_at", "event_text", "name"} {
		pick(name)
	}
	if _, ok := idx["received_at"]; !ok {
		return fmt.Errorf("table %s has no received_at column; is it a Segment table?", src.Table.Table)
	}
	for _, c := range cols {
		low := strings.ToLower(c.name)
		if _, done := idx[low]; done || segmentCommon[low] || strings.HasPrefix(low, "context_") {
			continue
		}
		idx[low] = len(sel)
		sel = append(sel, c)
	}
	t.cols = sel
	t.kinds = make([]int, len(sel))
	for i, c := range sel {
		t.kinds[i] = kindOf(c.typ)
	}
	d := s.WH.Dialect
	exprs := make([]string, len(sel))
	for i, c := range sel {
		exprs[i] = d.QuoteName(c.name)
		if strings.ToLower(c.name) == "id" {
			exprs[i] = d.AsText(d.QuoteName("id"))
		}
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(exprs, ", "), d.Quote(rt.Table), windowWhere(d, rt, s.Shard))
	vals := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return s.each(ctx, w, rt, q, func(rows Rows) error {
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

// rebuild turns one row into a Segment message.
func (s *SegmentSource) rebuild(t *segmentTable, idx map[string]int, vals []any) (audit.Row, error) {
	text := func(name string) string {
		if i, ok := idx[name]; ok && vals[i] != nil {
			return fmt.Sprint(normalise(vals[i]))
		}
		return ""
	}
	id := text("id")
	var at time.Time
	switch v := vals[idx["received_at"]].(type) {
	case time.Time:
		at = v
	case nil:
		return audit.Row{}, fmt.Errorf("row %q has no received_at", id)
	default:
		return audit.Row{}, fmt.Errorf("received_at of row %q is %T, not a timestamp", id, v)
	}
	msg := map[string]any{"type": t.typ}
	event, name := t.event, ""
	switch t.typ {
	case "track":
		if e := text("event_text"); e != "" {
			event = e
		}
		msg["event"] = event
	case "page", "screen":
		name = text("name")
		if name != "" {
			msg["name"] = name
		}
	}
	m := s.Matcher.Resolve(t.typ, event, name, text("schema_id"))
	shape, leaves := s.layout(m)
	if shape != nil && !t.checked[m.SchemaID] {
		if t.checked == nil {
			t.checked = map[string]bool{}
		}
		t.checked[m.SchemaID] = true
		s.checkColumns(t, m, leaves)
	}
	used := map[string]bool{"id": true, "received_at": true, "event_text": true, "name": t.typ == "page" || t.typ == "screen"}
	obj := object(leaves, idx, vals, t.kinds, used)
	// Columns the shape does not know keep their values under their column
	// name, so a closed schema reports them per message, as in the raw
	// layout; the column itself is reported once.
	for low, i := range idx {
		if used[low] || vals[i] == nil {
			continue
		}
		obj[low] = natural(vals[i], t.kinds[i])
		if shape != nil && shape.Closed && low != "schema_id" {
			s.find("unknown/"+t.name+"/"+low+"/"+m.SchemaID, audit.Violation{EventType: m.Type, EventName: m.Name,
				SchemaID: m.SchemaID, InstancePath: "/" + t.member, Keyword: audit.KeywordUnknownColumn, Value: jsonString(low),
				Message: fmt.Sprintf("column %s.%s holds values, but the schema does not declare property %q and allows no others",
					t.name, t.cols[i].name, low)})
		}
	}
	msg[t.member] = obj
	return rowOf(&id, at, msg), nil
}

// segmentLeaf is one column a schema's object is flattened into: the
// property path to it (nested objects joined with "_" in the column name)
// and the shape of its value.
type segmentLeaf struct {
	col   string
	props []string
	shape *audit.Shape
}

// segmentLeaves flattens shape as Segment flattens objects: a nested object
// with declared properties becomes its leaves' columns; anything else,
// arrays included, is one column.
func segmentLeaves(shape *audit.Shape) []segmentLeaf {
	var out []segmentLeaf
	var walk func(sh *audit.Shape, prefix string, path []string)
	walk = func(sh *audit.Shape, prefix string, path []string) {
		for prop, ps := range sh.Properties {
			col, p := prefix+Slug(prop), append(slices.Clone(path), prop)
			if len(ps.Properties) > 0 && !ps.Allows("array") {
				walk(ps, col+"_", p)
				continue
			}
			out = append(out, segmentLeaf{col: col, props: p, shape: ps})
		}
	}
	if shape != nil {
		walk(shape, "", nil)
	}
	slices.SortFunc(out, func(a, b segmentLeaf) int { return strings.Compare(a.col, b.col) })
	return out
}

// layout is the matched schema's Shape and its columns, computed once per
// schema; nil when nothing describes the event.
func (s *SegmentSource) layout(m audit.Match) (*audit.Shape, []segmentLeaf) {
	sh, ok := m.Schema.(audit.Shaper)
	if !ok || m.Schema == nil {
		return nil, nil
	}
	if s.layouts == nil {
		s.layouts = map[string][]segmentLeaf{}
		s.shapes = map[string]*audit.Shape{}
	}
	if leaves, ok := s.layouts[m.SchemaID]; ok {
		return s.shapes[m.SchemaID], leaves
	}
	shape := sh.Shape()
	s.shapes[m.SchemaID], s.layouts[m.SchemaID] = shape, segmentLeaves(shape)
	return shape, s.layouts[m.SchemaID]
}

// object rebuilds an object from its flattened columns, marking the columns
// it used; with no leaves it is empty, and the caller adds the unused
// columns as they are.
func object(leaves []segmentLeaf, idx map[string]int, vals []any, kinds []int, used map[string]bool) map[string]any {
	obj := map[string]any{}
	for _, l := range leaves {
		i, ok := idx[l.col]
		if ok {
			used[l.col] = true
		}
		switch {
		case ok && vals[i] != nil:
			setPath(obj, l.props, convert(vals[i], kinds[i], l.shape))
		case l.shape.Allows("null"):
			// No column yet (Segment adds one with its first non-null
			// value) or NULL: absent, or null where the schema allows
			// null; the layout cannot tell the two apart.
			setPath(obj, l.props, nil)
		}
	}
	return obj
}

// setPath sets obj[p0][p1]…= v, creating the objects on the way.
func setPath(obj map[string]any, props []string, v any) {
	for _, p := range props[:len(props)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	obj[props[len(props)-1]] = v
}

// Column kinds, from the catalog's type name.
const (
	kindText = iota
	kindInteger
	kindFloat
	kindBool
	kindTimestamp
	kindJSON
)

func kindOf(sqlType string) int {
	t := strings.ToLower(sqlType)
	switch {
	case strings.Contains(t, "char"), strings.Contains(t, "text"), strings.Contains(t, "string"):
		return kindText
	case strings.Contains(t, "timestamp"), t == "date":
		return kindTimestamp
	case strings.Contains(t, "bool"):
		return kindBool
	case strings.Contains(t, "int"):
		return kindInteger
	case strings.Contains(t, "double"), strings.Contains(t, "float"), strings.Contains(t, "real"),
		strings.Contains(t, "numeric"), strings.Contains(t, "decimal"), strings.Contains(t, "number"):
		return kindFloat
	case t == "json", t == "jsonb", t == "variant", t == "super":
		return kindJSON
	}
	return kindText
}

// holds reports whether a column of kind k can hold a value of JSON type t.
func holds(k int, t string) bool {
	switch t {
	case "string":
		return k == kindText || k == kindTimestamp || k == kindJSON
	case "integer", "number":
		return k == kindInteger || k == kindFloat || k == kindJSON
	case "boolean":
		return k == kindBool || k == kindJSON
	case "array", "object":
		return k == kindText || k == kindJSON
	case "null":
		return true
	}
	return true
}

// checkColumns reports, once per run, each column whose type cannot hold
// its property: the "typed from the first value" trap.
func (s *SegmentSource) checkColumns(t *segmentTable, m audit.Match, leaves []segmentLeaf) {
	byName := map[string]int{}
	for i, c := range t.cols {
		byName[strings.ToLower(c.name)] = i
	}
	for _, l := range leaves {
		i, ok := byName[l.col]
		if !ok || len(l.shape.Types) == 0 {
			continue
		}
		fits := false
		for _, typ := range l.shape.Types {
			fits = fits || typ != "null" && holds(t.kinds[i], typ)
		}
		if fits {
			continue
		}
		c := t.cols[i]
		s.find("type/"+t.name+"/"+l.col+"/"+m.SchemaID, audit.Violation{EventType: m.Type, EventName: m.Name,
			SchemaID: m.SchemaID, InstancePath: "/" + t.member + "/" + strings.Join(l.props, "/"), Keyword: audit.KeywordColumnType,
			Value: jsonString(c.typ),
			Message: fmt.Sprintf("column %s.%s is %s, which cannot hold %s: Segment types a column from the first value it loads; "+
				"fix the column's type, or the event that sent that value", t.name, c.name, c.typ, strings.Join(l.shape.Types, " or "))})
	}
}

// normalise turns a driver's value into string, int64, float64, bool or
// time.Time.
func normalise(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint64:
		return float64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case fmt.Stringer:
		if _, isTime := v.(time.Time); !isTime {
			return x.String()
		}
	}
	return v
}

// natural is a column's value as JSON would carry it, by the column's kind.
func natural(v any, k int) any {
	v = normalise(v)
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case float64:
		return floatNumber(x)
	case bool:
		return x
	case string:
		switch k {
		case kindInteger, kindFloat:
			if _, err := strconv.ParseFloat(x, 64); err == nil {
				return json.Number(x)
			}
		case kindBool:
			if b, err := strconv.ParseBool(x); err == nil {
				return b
			}
		case kindJSON:
			var j any
			if decodeNumber(x, &j) == nil {
				return j
			}
		}
		return x
	case map[string]any, []any:
		return x
	}
	return fmt.Sprint(v)
}

func floatNumber(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
}

func decodeNumber(s string, v *any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return dec.Decode(v)
}

// convert carries a column's value to the JSON type its property wants,
// where that loses nothing: an integral float to an integer, a number held
// as text back to a number, an array held as JSON text back to an array.
// Anything else keeps its natural form, for validation to judge.
func convert(v any, k int, ps *audit.Shape) any {
	n := natural(v, k)
	switch x := n.(type) {
	case json.Number:
		if ps.Allows("string") && !ps.Allows("number") {
			return x.String()
		}
		if f, err := x.Float64(); err == nil && ps.Allows("integer") && !ps.Allows("number") && f == math.Trunc(f) &&
			math.Abs(f) < 1<<53 && strings.ContainsAny(x.String(), ".eE") {
			return json.Number(strconv.FormatInt(int64(f), 10))
		}
		return x
	case bool:
		if ps.Allows("string") && !ps.Allows("boolean") {
			return strconv.FormatBool(x)
		}
		return x
	case string:
		if ps.Allows("array") || ps.Allows("object") {
			var j any
			if decodeNumber(x, &j) == nil {
				switch j.(type) {
				case []any, map[string]any:
					return j
				}
			}
		}
		if (ps.Allows("number") || ps.Allows("integer")) && !ps.Allows("string") {
			if _, err := strconv.ParseFloat(x, 64); err == nil && json.Valid([]byte(x)) {
				return json.Number(x)
			}
		}
		if ps.Allows("boolean") && !ps.Allows("string") {
			if b, err := strconv.ParseBool(x); err == nil {
				return b
			}
		}
		return x
	}
	return n
}

// SegmentNotCheckable lists the rules of a schema that Segment's layout
// cannot honour, so a run can say so instead of reporting false
// violations: a maxLength above the 512 characters Segment keeps, and a
// property that allows null, whose null the layout cannot tell from absent.
func SegmentNotCheckable(schemaID string, shape *audit.Shape) []string {
	var out []string
	var walk func(sh *audit.Shape, path string)
	walk = func(sh *audit.Shape, path string) {
		names := make([]string, 0, len(sh.Properties))
		for n := range sh.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			ps, p := sh.Properties[n], path+"/"+n
			if ps.MaxLength > SegmentMaxVarchar {
				out = append(out, fmt.Sprintf("%s %s: maxLength %d (Segment keeps %d characters)", schemaID, p, ps.MaxLength, SegmentMaxVarchar))
			}
			if len(ps.Types) > 0 && ps.Allows("null") {
				out = append(out, fmt.Sprintf("%s %s: null and absent look the same (a NULL column)", schemaID, p))
			}
			if len(ps.Properties) > 0 {
				walk(ps, p)
			}
		}
	}
	walk(shape, "")
	return out
}
