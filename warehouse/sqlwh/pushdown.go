package sqlwh

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eventaudit/eventaudit/audit"
)

// JSONProof is what a dialect renders a pushdown plan with, over one
// payload column. Each function returns an SQL expression; a dialect may
// give up anywhere by rendering false (a row not proven is only fetched).
type JSONProof struct {
	// Guard holds when doc is a JSON object that Go reads as the engine
	// does (Go refuses what the engine may accept; duplicate keys).
	Guard func(doc string) string
	// Member renders the text of the payload's top-level member key when
	// it is a JSON string, and NULL otherwise (a malformed payload
	// included: the scan computes it for every row).
	Member func(payload, key string) string
	// Storable holds when a text expression is stored as it is, at most
	// max bytes (audit.MaxIDBytes, audit.MaxNameBytes): the rows whose
	// identity Go would have to flag are never proven.
	Storable func(text string, max int) string
	// Size renders the length in bytes of payload, the text Go receives.
	Size func(payload string) string
	// Object renders the payload's top-level member key as the engine's
	// JSON, or NULL when it is absent. The scan computes it once per row
	// for every rule to read.
	Object func(payload, key string) string
	// Rule holds when obj, the rule's object (NULL, absent, is left to
	// Go), has no string schema_id and satisfies the rule's Pred.
	Rule func(r audit.PushdownRule, obj string) string
	// Literal quotes a string.
	Literal func(s string) string
	// Pays says whether proving rows costs less than fetching them, and
	// why: the engine holds the JSON parsed and runs on its own cores.
	Pays bool
	Why  string
	// Fence, when set, ends each layer of the proof's subqueries, so that
	// the engine computes each layer's columns once per row. Postgres
	// flattens subqueries: without OFFSET 0 it evaluates an object's
	// extraction, and the route, again at every reference (4x the time).
	Fence string
	// NoPatterns, when set, says why the dialect renders no pattern: a
	// string checked against one is left to Go.
	NoPatterns string
}

// ColumnProof is what a dialect renders a pushdown plan with over plain
// columns, as Segment's layout keeps properties: no JSON is parsed, so the
// checks are comparisons the engine runs at its scan's speed.
type ColumnProof struct {
	// Kinds names, by the catalog's lower-case name of a column type, the
	// types whose values Go reads as the engine compares them, and how.
	// A column of any other type is left to Go.
	Kinds map[string]ColumnKind
	// Storable holds when a text expression is stored as it is, at most
	// max bytes, as JSONProof's.
	Storable func(text string, max int) string
	// Literal quotes a string, as JSONProof's.
	Literal func(s string) string
	// Binary, when set, makes a text column compare byte for byte with a
	// literal whatever the column's collation: a case-insensitive one
	// would route "home" to the rule of "Home", which Go does not.
	Binary func(text string) string
	// Length renders a text's length in code points.
	Length func(text string) string
	// Finite holds when a double is neither NaN nor infinite.
	Finite func(double string) string
	// JSONText, when set, holds when a text column's value is JSON text
	// that Go parses, as rebuild does, to the same array the engine reads,
	// and that array satisfies p; nil leaves such columns to Go.
	JSONText func(text string, p *audit.Pred) string
	// Time holds when a timestamp is finite, so that Go reads it as a
	// time and writes it as an RFC 3339 string (a dialect may hold it for
	// less: a range of years).
	Time func(timestamp string) string
	// Pays and Why, as JSONProof's.
	Pays bool
	Why  string
}

// ColumnKind is how a column's values are carried into the message.
type ColumnKind int

const (
	// KindUnproven columns are left to Go.
	KindUnproven ColumnKind = iota
	KindText
	// KindInteger is a binary integer of at most 64 bits.
	KindInteger
	// KindDecimal is a fixed-point number, which a driver may hand Go as
	// an integer, a double or text: proven only where it is an integer
	// within ±(2^53-1), which all three carry as the same JSON number.
	KindDecimal
	// KindDouble is a 64-bit float.
	KindDouble
	KindBoolean
	KindTimestamp
)

// FiniteBetween renders ColumnProof.Finite as a range, for an engine with
// no isfinite: the infinities lie outside it, and NaN compares above every
// double (Postgres, Redshift, Snowflake, DuckDB) or unordered (IEEE), so
// outside too.
func FiniteBetween(floatType string) func(double string) string {
	return func(x string) string {
		return fmt.Sprintf("%[1]s BETWEEN CAST('-1.7976931348623157e308' AS %[2]s) AND CAST('1.7976931348623157e308' AS %[2]s)", x, floatType)
	}
}

// CommonEra renders ColumnProof.Time as years 1 to 9999, for an engine
// with no isfinite; a literal compares as the column's own type.
func CommonEra(x string) string {
	return x + " BETWEEN '0001-01-01' AND '9999-12-31'"
}

// ErrNotProvable wraps why a source cannot prove rows in SQL: its dialect
// has no pushdown, or its payload column's type does not pay or is read
// unlike Go. The run then fetches every row, as without pushdown.
var ErrNotProvable = errors.New("not provable in SQL")

// RouteSQL renders the matching rules of a plan as an expression over a
// row of the pushdown scan (its columns id, doc and the objects): the index
// of the rule whose schema the row must satisfy to be proven valid, or
// NULL when no rule can prove it. The rules never overlap, so it
// dispatches on type and name instead of trying each rule in turn.
func RouteSQL(d *Dialect, p JSONProof, plan audit.PushdownPlan) string {
	raw, id := d.QuoteName("raw"), d.QuoteName("id")
	member := func(k string) string { return d.QuoteName(memberColumn(k)) }
	var byType, types []string
	for _, r := range plan.Rules {
		if !slices.Contains(types, r.Type) {
			types = append(types, r.Type)
		}
	}
	for _, typ := range types {
		named := map[string]string{}
		var except []string
		fallback, plain := "", ""
		for i, r := range plan.Rules {
			if r.Type != typ {
				continue
			}
			route := "NULL"
			if r.Pred != nil {
				route = strconv.Itoa(i)
			}
			switch {
			case r.NameField == "":
				plain = route
			case len(r.Names) > 0:
				for _, n := range r.Names {
					named[n] = route
				}
			default:
				except = r.Except
				if r.Pred != nil {
					// Go counts the rows under the name they carry, which
					// must be storable. A page's may be missing; a track
					// event's may not (Go flags it).
					name := fmt.Sprintf("coalesce(%s, true)", p.Storable(member(r.NameField), audit.MaxNameBytes))
					if typ == "track" {
						name = fmt.Sprintf("%s <> '' AND %s", member(r.NameField), p.Storable(member(r.NameField), audit.MaxNameBytes))
					}
					fallback = fmt.Sprintf("CASE WHEN %s THEN %d END", name, i)
				}
			}
		}
		var branch string
		switch {
		case plain != "":
			branch = plain
		case len(named) > 0 || fallback != "":
			for _, n := range except {
				if _, ok := named[n]; !ok {
					named[n] = "NULL" // a name with no rule of its own is not the fallback's
				}
			}
			field := "event"
			if typ != "track" {
				field = "name"
			}
			var whens []string
			for _, n := range slices.Sorted(maps.Keys(named)) {
				whens = append(whens, fmt.Sprintf("WHEN %s THEN %s", p.Literal(n), named[n]))
			}
			if fallback != "" {
				whens = append(whens, "ELSE "+fallback)
			}
			branch = fmt.Sprintf("CASE %s %s END", member(field), strings.Join(whens, " "))
		default:
			continue
		}
		byType = append(byType, fmt.Sprintf("WHEN %s THEN %s", p.Literal(typ), branch))
	}
	if len(byType) == 0 {
		return "CAST(NULL AS " + d.Bigint + ")"
	}
	row := []string{fmt.Sprintf("coalesce(%s, true)", p.Storable(id, audit.MaxIDBytes)), p.Guard(raw)}
	return fmt.Sprintf("CASE WHEN %s THEN CAST(CASE %s %s END AS %s) END",
		strings.Join(row, " AND "), member("type"), strings.Join(byType, " "), d.Bigint)
}

// CheckSQL renders the schemas of a plan as a condition over a routed row
// (RouteSQL's index in the column route): true when the row satisfies its
// rule's schema. Rules that share a schema and object (a name as a track
// event and as a page) share one rendering, so each schema appears once:
// engines that hold state per expression node (DuckDB) stay small.
func CheckSQL(d *Dialect, p JSONProof, plan audit.PushdownPlan) string {
	type check struct{ schema, object string }
	var order []check
	routes := map[check][]string{}
	first := map[check]audit.PushdownRule{}
	for i, r := range plan.Rules {
		if r.Pred == nil {
			continue
		}
		k := check{r.SchemaID, r.Object}
		if _, ok := first[k]; !ok {
			order, first[k] = append(order, k), r
		}
		routes[k] = append(routes[k], strconv.Itoa(i))
	}
	if len(order) == 0 {
		return "false"
	}
	var whens []string
	for _, k := range order {
		obj := d.QuoteName("raw")
		if k.object != "" {
			obj = d.QuoteName(objectColumn(k.object))
		}
		whens = append(whens, fmt.Sprintf("WHEN %s IN (%s) THEN %s", d.QuoteName("route"), strings.Join(routes[k], ", "), p.Rule(first[k], obj)))
	}
	return fmt.Sprintf("coalesce(CASE %s END, false)", strings.Join(whens, " "))
}

// ProvenQuery renders the pushdown scan of a raw table: one statement, so
// one snapshot, whose rows are either a row not proven valid (id,
// received_at, payload) or the count of proven rows of one rule and name
// (rule, name, count). Its parameters are the window's start and end.
func ProvenQuery(d *Dialect, t RawTable, payloadType string, shard audit.Shard, p JSONProof, plan audit.PushdownPlan) (string, error) {
	// The raw column, rendered as the text Go receives.
	payload, ok := d.PayloadExpr(d.QuoteName("raw"), strings.ToLower(payloadType))
	if !ok {
		return "", fmt.Errorf("column %s.%s has type %s, which cannot hold a Segment message: use a JSON or text type",
			t.Table, t.Payload, payloadType)
	}
	// A fallback's rows are counted under the name they carry.
	fallbacks := map[string][]string{}
	for i, r := range plan.Rules {
		if r.Pred != nil && r.NameField != "" && len(r.Names) == 0 {
			fallbacks[r.NameField] = append(fallbacks[r.NameField], strconv.Itoa(i))
		}
	}
	name := "''"
	if len(fallbacks) > 0 {
		var whens []string
		for _, field := range slices.Sorted(maps.Keys(fallbacks)) {
			whens = append(whens, fmt.Sprintf("WHEN %s IN (%s) THEN coalesce(%s, '')",
				d.QuoteName("rule"), strings.Join(fallbacks[field], ", "), d.QuoteName(memberColumn(field))))
		}
		name = fmt.Sprintf("CASE %s ELSE '' END", strings.Join(whens, " "))
	}
	// Each object a rule reads is extracted once per row, in the innermost
	// scan: engines that keep JSON as text would otherwise parse the
	// payload again for every check.
	col := d.QuoteName(t.Payload)
	objects := []string{d.SQL("%s AS {id}, %s AS {at}, %s AS {raw}", messageIDText(d, t), d.QuoteName(t.ReceivedAt), col)}
	for _, k := range routingMembers {
		objects = append(objects, p.Member(col, k)+" AS "+d.QuoteName(memberColumn(k)))
	}
	seen := map[string]bool{}
	for _, r := range plan.Rules {
		if r.Object != "" && r.Pred != nil && !seen[r.Object] {
			seen[r.Object] = true
			objects = append(objects, p.Object(col, r.Object)+" AS "+d.QuoteName(objectColumn(r.Object)))
		}
	}
	inner := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(objects, ", "), d.Quote(t.Table), WindowWhere(d, t, shard))
	// The payload is rendered as text only for the rows fetched, and its
	// size measured only for rows otherwise proven: both may cost the
	// engine a serialisation (jsonb).
	check := CheckSQL(d, p, plan)
	if plan.MaxPayloadBytes > 0 {
		check = fmt.Sprintf("%s AND %s <= %d", check, p.Size(payload), plan.MaxPayloadBytes)
	}
	// The proof keeps a row's id, time and payload only when it is
	// fetched: an engine that materialises it (Postgres, which reads it
	// twice) then writes little more than the counts.
	return d.SQL(`WITH {proof} AS (
  SELECT CASE WHEN {rule} IS NULL THEN {id} END AS {id}, CASE WHEN {rule} IS NULL THEN {at} END AS {at},
    CASE WHEN {rule} IS NULL THEN {raw} END AS {raw}, {rule}, %s AS {name}
  FROM (SELECT {id}, {at}, {raw}, {member_event}, {member_name}, CASE WHEN %s THEN {route} END AS {rule}
    FROM (SELECT *, %s AS {route} FROM (%s%s) AS {scan}%s) AS {routed}%s) AS {proved}
)
SELECT {id}, {at}, %s AS {payload}, CAST(NULL AS %s) AS {rule}, CAST(NULL AS %s) AS {name}, CAST(NULL AS %s) AS {n} FROM {proof} WHERE {rule} IS NULL
UNION ALL
SELECT NULL, NULL, NULL, {rule}, {name}, CAST(COUNT(*) AS %s) FROM {proof} WHERE {rule} IS NOT NULL GROUP BY {rule}, {name}`,
		name, check, RouteSQL(d, p, plan), inner, p.Fence, p.Fence, p.Fence, payload, d.Bigint, d.Text, d.Bigint, d.Bigint), nil
}

// routingMembers are the members the matching rules read: each is read
// once per row, in the scan.
var routingMembers = []string{"type", "event", "name"}

func memberColumn(key string) string { return "member_" + key }

// objectColumn names the scan's column holding a message's member key.
func objectColumn(key string) string { return "object_" + key }

// Proof is a plan rendered for one source: the pushdown scan, and whether
// it pays.
type Proof struct {
	SQL  string
	Pays bool
	Why  string
	// NoPatterns is JSONProof's: why patterns are left to Go, if they are.
	NoPatterns string
	// Statements is Dialect.ProofStatements: how many equal parts of an
	// unsliced window the statement runs over at once (0 or 1: one), or,
	// PerTable, how many tables are proven at once.
	Statements int
	// PerTable says SQL holds one statement per table (Segment's layout).
	PerTable bool
	// Rules says, by rule index, where this source proves less of a rule
	// than its Pred allows: a layout keeping some values in a form SQL does
	// not check.
	Rules map[int]RuleProof
}

// RuleProof is how much of one rule a source proves: "part" or "none",
// and why.
type RuleProof struct{ Proven, Why string }

// Proof renders the plan over the source's payload column; an error
// wrapping ErrNotProvable says why there is none.
func (s *Source) Proof(ctx context.Context, plan audit.PushdownPlan) (Proof, error) {
	d := s.WH.Dialect
	if d.Prove == nil {
		return Proof{}, fmt.Errorf("%w: eventaudit has no pushdown for %s yet", ErrNotProvable, d.Name)
	}
	t, typ, err := s.columns(ctx)
	if err != nil {
		return Proof{}, err
	}
	p, err := d.Prove(d.QuoteName(t.Payload), strings.ToLower(typ))
	if err != nil {
		return Proof{}, err
	}
	q, err := ProvenQuery(d, t, typ, s.Shard, p, plan)
	return Proof{SQL: q, Pays: p.Pays, Why: p.Why, NoPatterns: p.NoPatterns, Statements: d.ProofStatements}, err
}

// ScanUnproven implements audit.ProvingSource. A source whose dialect or
// column cannot prove rows scans every row and proves none.
func (s *Source) ScanUnproven(ctx context.Context, w audit.Window, plan audit.PushdownPlan, yield func([]audit.Row) error) (_ []audit.ProvenCount, err error) {
	proof, err := s.Proof(ctx, plan)
	if errors.Is(err, ErrNotProvable) {
		return nil, s.Scan(ctx, w, yield)
	}
	if err != nil {
		return nil, err
	}
	query := proof.SQL
	leave, err := enterRoom(ctx, s.WH, s.WH.Dialect.ProofRoom, "proving rows in SQL",
		"proving rows in SQL needs more memory than eventaudit gives it: add ?memory_limit=1GB to the warehouse URL, or turn pushdown off, which costs less here")
	if err != nil {
		return nil, err
	}
	defer leave(&err)
	parts, err := s.slices(ctx, w, cmp.Or(s.WH.Dialect.ProofSliceRows, s.WH.Dialect.SliceRows))
	if err != nil {
		return nil, err
	}
	size := s.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	if n := s.WH.Dialect.ProofStatements; n > 1 && len(parts) == 1 {
		return s.proveParts(ctx, query, splitWindow(w, n), size, yield)
	}
	batch := make([]audit.Row, 0, size)
	var counts []audit.ProvenCount
	for rows, err := range s.open(WithProofRead(ctx), query, parts) {
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", s.Table.Table, lostConnection(err))
		}
		c, err := s.readProof(ctx, rows, func(r audit.Row) error {
			if batch = append(batch, r); len(batch) < size {
				return nil
			}
			err := yield(batch)
			batch = batch[:0] // the pipeline keeps a copy
			return err
		})
		if err != nil {
			return nil, err
		}
		counts = append(counts, c...)
	}
	if len(batch) > 0 {
		if err := yield(batch); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// proveParts runs the proof over each part of the window at once, one
// statement per part, each on its own connection. yield is called from
// this goroutine only.
func (s *Source) proveParts(ctx context.Context, query string, parts []audit.Window, size int, yield func([]audit.Row) error) ([]audit.ProvenCount, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []audit.Row, len(parts))
	counts := make([][]audit.ProvenCount, len(parts))
	for i, part := range parts {
		g.Go(func() error {
			rows, err := s.WH.Conn.Query(WithProofRead(gctx), query, part.Start.UTC(), part.End.UTC())
			if err != nil {
				return fmt.Errorf("query %s: %w", s.Table.Table, lostConnection(err))
			}
			batch := make([]audit.Row, 0, size)
			send := func() error {
				select {
				case batches <- batch:
					batch = make([]audit.Row, 0, size)
					return nil
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			counts[i], err = s.readProof(gctx, rows, func(r audit.Row) error {
				if batch = append(batch, r); len(batch) < size {
					return nil
				}
				return send()
			})
			if err == nil && len(batch) > 0 {
				err = send()
			}
			return err
		})
	}
	scanned := make(chan error, 1)
	go func() {
		scanned <- g.Wait()
		close(batches)
	}()
	var yieldErr error
	for b := range batches {
		if yieldErr == nil {
			if yieldErr = yield(b); yieldErr != nil {
				cancel()
			}
		}
	}
	if err := <-scanned; yieldErr == nil && err != nil {
		return nil, err
	}
	if yieldErr != nil {
		return nil, yieldErr
	}
	return slices.Concat(counts...), nil
}

// readProof reads one statement of the pushdown scan, and closes it: it
// passes each row not proven to emit and returns the counts of the rest.
func (s *Source) readProof(ctx context.Context, rows Rows, emit func(audit.Row) error) ([]audit.ProvenCount, error) {
	defer rows.Close()
	var counts []audit.ProvenCount
	for rows.Next() {
		var id, name *string
		var r audit.Row
		var received *time.Time
		var rule, n *int64
		if err := rows.Scan(&id, &received, &r.Payload, &rule, &name, &n); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.Table.Table, err)
		}
		if rule != nil {
			c := audit.ProvenCount{Rule: int(*rule)}
			if name != nil {
				c.Name = *name
			}
			if n != nil {
				c.Rows = *n
			}
			counts = append(counts, c)
			continue
		}
		if id != nil {
			r.MessageID = *id
		}
		if received != nil {
			r.ReceivedAt = received.UTC()
		}
		if err := emit(r); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("read %s: %w", s.Table.Table, lostConnection(err))
	}
	return counts, nil
}

// splitWindow cuts w into n parts of equal length, at whole microseconds
// (the finest time Postgres keeps), fewer when w is too short. The parts
// are half-open, as the window is, and cover it once.
func splitWindow(w audit.Window, n int) []audit.Window {
	step := (w.End.Sub(w.Start) / time.Duration(n)).Truncate(time.Microsecond)
	if step <= 0 {
		return []audit.Window{w}
	}
	parts := make([]audit.Window, n)
	for i := range parts {
		parts[i] = audit.Window{Start: w.Start.Add(time.Duration(i) * step), End: w.Start.Add(time.Duration(i+1) * step)}
	}
	parts[n-1].End = w.End
	return parts
}

// HasNUL reports whether a string holds NUL, which a dialect's literal
// may not hold (Postgres text) or may read otherwise.
func HasNUL(ss []string) bool {
	return slices.ContainsFunc(ss, func(s string) bool { return strings.ContainsRune(s, 0) })
}
