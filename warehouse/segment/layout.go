// Package segment reads Segment's warehouse layout — one table per call type
// and per track event, properties flattened into columns — and rebuilds each
// row into the message Segment received, so that matching and validation run
// as for the raw layout. It also reports what the layout cannot hold.
package segment

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Segment's warehouse layout (its Snowflake, Redshift and Postgres
// destinations): per source schema, one table per call type, one per track
// event named by its Slug, properties and traits flattened into snake_case
// columns, arrays as JSON text, a column's type inferred from its first
// value, strings cut at 512 characters.
const (
	TracksTable = "tracks"
	MaxVarchar  = 512
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

// Source scans Segment's layout in one schema and rebuilds each row
// into a Segment message, so that matching and validation run as for the
// raw layout. It reads each table once per window, filtered on received_at.
type Source struct {
	WH *sqlwh.Warehouse
	// Schema holds the layout, e.g. web_prod ("" is the connection's).
	Schema string
	// Events are the planned track events; each has its own table.
	Events []string
	// Matcher finds the schema of each row before it is rebuilt; the
	// schema's Shape says which columns make up the object.
	Matcher   *audit.Matcher
	BatchSize int
	Shard     audit.Shard
	// EveryTable reads the event tables of unplanned events too, their
	// columns as properties, instead of only their tracks rows: for
	// inferring a plan, where no event is planned yet.
	EveryTable bool

	mu       sync.Mutex
	findings []audit.Violation
	reported map[string]bool
	// cache guards, by schema id, the shapes and layouts the rebuilding
	// goroutines share, and each table's checked.
	cache   sync.Mutex
	shapes  map[string]*audit.Shape
	layouts map[string][]segmentLeaf
	writers map[string]*objectWriter
}

// SegmentTable is what an audit reads from one table of the layout.
type segmentTable struct {
	name   string // as the catalog spells it
	typ    string // call type
	member string // "properties" or "traits"
	event  string // the planned track event, for an event table
	// unplanned marks an event table read only for EveryTable; a table
	// without Segment's columns is then skipped, not an error.
	unplanned bool
	// described are the table's columns as the catalog lists them, when
	// one query described every table (describe); else query asks.
	described []sqlwh.Column
	cols      []sqlwh.Column
	kinds     []int // kindOf each column
	// checked records the schemas whose columns were checked.
	checked map[string]bool
}

func (s *Source) table(name string) sqlwh.Ident {
	if s.Schema == "" {
		return sqlwh.Ident{name}
	}
	return sqlwh.Ident{s.Schema, name}
}

// tables lists the layout's tables, lower-cased name → catalog name.
func (s *Source) tables(ctx context.Context) (map[string]string, error) {
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
		return nil, fmt.Errorf("schema %s has no tables: check its name and that the user may read it", s.Schema)
	}
	return out, nil
}

// describe lists the columns of every table of layout in one catalog
// query, where the dialect has one: on Snowflake each INFORMATION_SCHEMA
// query is a round trip of its own, and a layout has a table per event.
// A table the catalog does not list is left for query to describe, and to
// report.
func (s *Source) describe(ctx context.Context, layout []segmentTable) error {
	if s.WH.Dialect.TableColumns == nil || len(layout) == 0 {
		return nil
	}
	names := make([]string, len(layout))
	for i, t := range layout {
		names[i] = t.name
	}
	cols, err := s.WH.DescribeTables(ctx, s.Schema, names)
	if err != nil {
		return err
	}
	for i := range layout {
		layout[i].described = cols[layout[i].name]
	}
	return nil
}
