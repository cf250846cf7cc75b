package warehousetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/segment"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// SegmentLayout is what Segment's warehouse destination would have loaded
// from a set of raw messages, built the way its documentation describes:
// one table per call type and per track event, properties and traits
// flattened into snake_case columns, arrays as JSON text, each column typed
// by the first non-null value it receives, later values cast to that type,
// strings cut at 512 characters.
//
// The flattening, naming and typing are written here independently of
// eventaudit's reader (segment.Source), so that a test comparing the
// two layouts checks the reader against a second reading of the docs.
type SegmentLayout struct {
	Tables map[string]*SegmentTable
	// Lossy says, per message id, how loading changed or dropped it:
	// the cases a Segment-layout audit cannot see as the raw audit does.
	Lossy map[string][]string
}

// SegmentTable is one table: columns in order of first appearance.
type SegmentTable struct {
	Columns []string
	Types   map[string]string // column → bigint, double, boolean, timestamp or varchar
	Rows    []map[string]any
}

var (
	lowerUpper    = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	acronymWord   = regexp.MustCompile(`([A-Z]+)([A-Z][a-z])`)
	nonAlphanumRe = regexp.MustCompile(`[^\p{L}\p{N}]+`)
)

// segmentName is the helper's own reading of Segment's naming: split
// camelCase, then lower-case, with every run of non-alphanumerics as "_".
func segmentName(s string) string {
	s = lowerUpper.ReplaceAllString(s, "${1}_${2}")
	s = acronymWord.ReplaceAllString(s, "${1}_${2}")
	s = strings.ToLower(s)
	s = strings.Trim(nonAlphanumRe.ReplaceAllString(s, "_"), "_")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// BuildSegmentLayout loads rows as Segment would.
func BuildSegmentLayout(rows []audit.Row) *SegmentLayout {
	l := &SegmentLayout{Tables: map[string]*SegmentTable{}, Lossy: map[string][]string{}}
	for _, r := range rows {
		l.add(r)
	}
	return l
}

func (l *SegmentLayout) lossy(id, why string) { l.Lossy[id] = append(l.Lossy[id], why) }

func (l *SegmentLayout) add(r audit.Row) {
	dec := json.NewDecoder(bytes.NewReader(r.Payload))
	dec.UseNumber()
	var msg map[string]any
	if r.Payload == nil || dec.Decode(&msg) != nil || msg == nil {
		l.lossy(r.MessageID, "not loaded: the payload is not a JSON object")
		return
	}
	typ, _ := msg["type"].(string)
	event, _ := msg["event"].(string)
	if typ == "" || typ == "track" && segmentName(event) == "" {
		l.lossy(r.MessageID, "not loaded: no type, or a track without an event name to name its table")
		return
	}
	common := map[string]any{"id": r.MessageID, "received_at": r.ReceivedAt.UTC()}
	for k, col := range map[string]string{"anonymousId": "anonymous_id", "userId": "user_id", "sentAt": "sent_at",
		"timestamp": "timestamp", "originalTimestamp": "original_timestamp"} {
		if v, ok := msg[k]; ok && v != nil {
			common[col] = v
		}
	}
	if ctx, ok := msg["context"].(map[string]any); ok {
		flatten(common, "context_", ctx)
	}
	row := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range common {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	switch typ {
	case "track":
		slug := segmentName(event)
		ev := map[string]any{"event": slug, "event_text": event}
		l.insert(r.MessageID, "tracks", row(ev))
		props := row(ev)
		l.flattenMember(r.MessageID, props, msg["properties"])
		l.insert(r.MessageID, slug, props)
	case "page", "screen":
		props := row(nil)
		if name, ok := msg["name"]; ok {
			props["name"] = name
		}
		l.flattenMember(r.MessageID, props, msg["properties"])
		l.insert(r.MessageID, typ+"s", props)
	case "identify", "group":
		traits := row(nil)
		if g, ok := msg["groupId"]; ok && typ == "group" {
			traits["group_id"] = g
		}
		l.flattenMember(r.MessageID, traits, msg["traits"])
		table := "identifies"
		if typ == "group" {
			table = "groups"
		}
		l.insert(r.MessageID, table, traits)
	default:
		l.lossy(r.MessageID, "not loaded: call type "+typ)
	}
}

// flattenMember adds an event's properties or traits, noting explicit
// nulls: a NULL column cannot say whether the value was null or absent.
func (l *SegmentLayout) flattenMember(id string, into map[string]any, member any) {
	obj, ok := member.(map[string]any)
	if !ok {
		if member != nil {
			l.lossy(id, "properties or traits are not an object")
		}
		return
	}
	var nulls func(prefix string, o map[string]any)
	nulls = func(prefix string, o map[string]any) {
		for k, v := range o {
			if segmentName(k) == "" {
				l.lossy(id, "no column can be named after the key at "+prefix+k)
				continue
			}
			switch x := v.(type) {
			case nil:
				l.lossy(id, "explicit null at "+prefix+k)
			case map[string]any:
				nulls(prefix+k+".", x)
			}
		}
	}
	nulls("", obj)
	flatten(into, "", obj)
}

// flatten drops a key with no letter or digit ("["), which names no
// column.
func flatten(into map[string]any, prefix string, obj map[string]any) {
	for k, v := range obj {
		name := segmentName(k)
		if name == "" {
			continue
		}
		col := prefix + name
		switch x := v.(type) {
		case map[string]any:
			flatten(into, col+"_", x)
		case []any:
			b, _ := json.Marshal(x)
			into[col] = string(b)
		case nil:
		default:
			into[col] = x
		}
	}
}

// typeOf infers a column type from a value, as Segment does.
func typeOf(v any) string {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "bigint"
		}
		return "double"
	case bool:
		return "boolean"
	case time.Time:
		return "timestamp"
	case string:
		if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return "timestamp"
		}
	}
	return "varchar"
}

// cast stores v in a column of type t; lossless is false when the value
// changed type or content on the way.
func cast(v any, t string) (stored any, lossless bool) {
	vt := typeOf(v)
	switch t {
	case "varchar":
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		if r := []rune(s); len(r) > segment.MaxVarchar {
			return string(r[:segment.MaxVarchar]), false
		}
		return s, vt == "varchar" || vt == "timestamp"
	case "timestamp":
		switch x := v.(type) {
		case time.Time:
			return x, true
		case string:
			if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
				// The text's own form (zone, precision) is gone.
				return ts.UTC(), x == ts.UTC().Format(time.RFC3339Nano)
			}
		}
		return nil, false
	case "bigint":
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i, true
			}
		}
		return nil, false
	case "double":
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			return f, err == nil
		case string:
			var f float64
			if _, err := fmt.Sscan(x, &f); err == nil {
				return f, false
			}
		}
		return nil, false
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, false
		}
		return b, true
	}
	return nil, false
}

func (l *SegmentLayout) insert(id, table string, row map[string]any) {
	t := l.Tables[table]
	if t == nil {
		t = &SegmentTable{Types: map[string]string{}}
		l.Tables[table] = t
	}
	stored := map[string]any{}
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, col := range keys {
		v := row[col]
		typ, ok := t.Types[col]
		if !ok {
			// A column appears with its first non-null value, typed by it.
			typ = typeOf(v)
			t.Types[col] = typ
			t.Columns = append(t.Columns, col)
		}
		s, lossless := cast(v, typ)
		if !lossless && col != "received_at" && !strings.HasPrefix(col, "context_") {
			l.lossy(id, fmt.Sprintf("%s.%s: %v stored in a %s column as %v", table, col, v, typ, s))
		}
		stored[col] = s
	}
	t.Rows = append(t.Rows, stored)
}

// Load creates the layout's tables in schema and fills them.
func (l *SegmentLayout) Load(ctx context.Context, wh *sqlwh.Warehouse, schema string) error {
	d := wh.Dialect
	if err := wh.Conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+d.QuoteName(schema)); err != nil {
		return err
	}
	sqlType := map[string]string{"varchar": d.Text, "bigint": d.Bigint, "boolean": d.Bool, "timestamp": d.Timestamp,
		"double": d.FloatType()}
	names := make([]string, 0, len(l.Tables))
	for n := range l.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t := l.Tables[name]
		id := sqlwh.Ident{schema, name}
		defs := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			defs[i] = d.QuoteName(c) + " " + sqlType[t.Types[c]]
		}
		if err := wh.Conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", d.Quote(id), strings.Join(defs, ", "))); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		rows := make([][]any, len(t.Rows))
		for i, r := range t.Rows {
			rows[i] = make([]any, len(t.Columns))
			for j, c := range t.Columns {
				rows[i][j] = r[c]
			}
		}
		tx, err := wh.Conn.Begin(ctx)
		if err != nil {
			return err
		}
		if err := tx.BulkInsert(ctx, id, t.Columns, rows); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("fill %s: %w", name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	return nil
}
