package segment

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Pushdown in Segment's layout. A planned track event's table holds its
// properties as columns, so proving a row valid parses no JSON: each check
// of the event's schema is a comparison on the column rebuild would carry
// into the message, and the statement returns only the rows not proven,
// with the count of the others. Where the proof cannot follow rebuild
// exactly it proves nothing and the row is fetched, as without pushdown:
//   - a column the schema does not name holding a value (rebuild keeps it
//     under its column name), a schema_id, an event_text naming another
//     event;
//   - a map property (its keys are columns no schema names) and a property
//     that rebuild converts (a number kept as text, an array kept as JSON
//     text, a boolean the schema wants as a string);
//   - a column type whose values Go may read otherwise than the engine
//     (NUMERIC, FLOAT4, unsigned or huge integers, JSON, CHAR(n));
//   - a pattern, as in the raw layout.
//
// The rows of tracks, events with no table of their own, carry no
// properties: the rule for any other event name proves them when it holds
// for an empty object, as it does when they are unplanned.

// proof is how one table of the layout is proven.
type proof struct {
	cond string // true when the row is proven valid; "" proves none
	rule int
}

// Proof renders the statements a pushdown run sends, one per table, or
// says why the layout proves nothing here.
func (s *Source) Proof(ctx context.Context, plan audit.PushdownPlan) (sqlwh.Proof, error) {
	cp := s.WH.Dialect.ProveColumns
	if cp == nil {
		return sqlwh.Proof{}, fmt.Errorf("%w: eventaudit has no pushdown for Segment's layout on %s yet", sqlwh.ErrNotProvable, s.WH.Dialect.Name)
	}
	tables, err := s.tables(ctx)
	if err != nil {
		return sqlwh.Proof{}, err
	}
	var stmts []string
	layout := s.plan(tables)
	if name, ok := tables[TracksTable]; ok {
		q, _ := s.tracksQuery(name, s.readFromTracks(layout), &plan)
		stmts = append(stmts, q+";")
	}
	for _, t := range layout {
		q, _, _, err := s.query(ctx, &t, &plan)
		if err != nil {
			return sqlwh.Proof{}, err
		}
		if q != "" {
			stmts = append(stmts, q+";")
		}
	}
	return sqlwh.Proof{SQL: strings.Join(stmts, "\n\n"), Pays: cp.Pays, Why: cp.Why}, nil
}

// ScanUnproven implements audit.ProvingSource: each table's rows not
// proven are yielded, and the others counted, by one statement per table
// (per slice, on DuckDB), so every row is either yielded or counted, once.
func (s *Source) ScanUnproven(ctx context.Context, w audit.Window, plan audit.PushdownPlan, yield func([]audit.Row) error) ([]audit.ProvenCount, error) {
	if s.WH.Dialect.ProveColumns == nil {
		return nil, s.Scan(ctx, w, yield)
	}
	return s.scan(ctx, w, &plan, yield)
}

// tableProof compiles the plan's rule for a planned event's table into a
// condition over its columns (cols, with idx its lower-case names), or ""
// when no row of it can be proven.
func (s *Source) tableProof(t *segmentTable, idx map[string]int, plan *audit.PushdownPlan) proof {
	none := proof{rule: -1}
	d, cp := s.WH.Dialect, s.WH.Dialect.ProveColumns
	if t.typ != "track" || t.unplanned || !provable(t.event) {
		return none
	}
	rule := slices.IndexFunc(plan.Rules, func(r audit.PushdownRule) bool {
		return r.Type == "track" && slices.Contains(r.Names, t.event)
	})
	if rule < 0 || plan.Rules[rule].Pred == nil || plan.Rules[rule].Object != t.member {
		return none
	}
	r := plan.Rules[rule]
	m := s.Matcher.Resolve(t.typ, t.event, "", "")
	shape, leaves := s.layout(m)
	if shape == nil || m.SchemaID != r.SchemaID || m.Unplanned || slices.ContainsFunc(leaves, segmentLeaf.isMap) {
		return none
	}
	col := func(low string) string { return d.QuoteName(t.cols[idx[low]].Name) }
	conds := []string{fmt.Sprintf("coalesce(%s, true)", cp.Storable(d.AsText(col("id")), audit.MaxIDBytes))}
	if i, ok := idx["event_text"]; ok {
		if kindOf(t.cols[i].Type) != kindText {
			return none
		}
		conds = append(conds, fmt.Sprintf("coalesce(%s, '') IN ('', %s)", col("event_text"), cp.Literal(t.event)))
	}
	if _, ok := idx["schema_id"]; ok {
		conds = append(conds, col("schema_id")+" IS NULL") // it routes by id
	}
	leafOf := map[string]bool{}
	for _, l := range leaves {
		leafOf[l.col] = true
	}
	for i, c := range t.cols {
		switch low := strings.ToLower(c.Name); {
		case low == "id" || low == "received_at" || low == "event_text" || low == "schema_id":
		case leafOf[low] && idx[low] == i:
		default:
			// A value here joins the message under its column name.
			conds = append(conds, d.QuoteName(c.Name)+" IS NULL")
		}
	}
	root := &objectNode{kids: map[string]*objectNode{}}
	for _, l := range leaves {
		n := root
		for _, p := range l.props {
			if n.kids[p] == nil {
				n.kids[p] = &objectNode{kids: map[string]*objectNode{}}
			}
			n = n.kids[p]
		}
		n.leaf = &l
		if i, ok := idx[l.col]; ok {
			n.col, n.typ = d.QuoteName(t.cols[i].Name), t.cols[i].Type
		}
	}
	c := columnCompiler{d: d, cp: cp}
	conds = append(conds, c.object(root, r.Pred, true))
	return proof{cond: strings.Join(conds, " AND "), rule: rule}
}

// provable says whether a name is stored as it is, so that a row counted
// under it needs no encoding violation.
func provable(name string) bool {
	return name != "" && len(name) <= audit.MaxNameBytes && !strings.ContainsAny(name, "\x00\uFFFD") && strings.ToValidUTF8(name, "") == name
}

// objectNode is one property of the rebuilt object: a leaf column (col is
// "" when the table has none yet), or an object made of its kids.
type objectNode struct {
	leaf     *segmentLeaf
	col, typ string
	kids     map[string]*objectNode
}

type columnCompiler struct {
	d  *sqlwh.Dialect
	cp *sqlwh.ColumnProof
}

// present renders whether rebuild sets the property.
func (c columnCompiler) present(n *objectNode) string {
	if n.leaf != nil {
		switch {
		case n.leaf.shape.Allows("null"):
			return "true" // NULL, or no column, is null
		case n.col == "":
			return "false"
		}
		return n.col + " IS NOT NULL"
	}
	var any []string
	for _, k := range slices.Sorted(maps.Keys(n.kids)) {
		switch p := c.present(n.kids[k]); p {
		case "true":
			return "true"
		case "false":
		default:
			any = append(any, p)
		}
	}
	if len(any) == 0 {
		return "false"
	}
	return "(" + strings.Join(any, " OR ") + ")"
}

// object renders that the object n, when rebuild sets it (always, for the
// root), satisfies p.
func (c columnCompiler) object(n *objectNode, p *audit.Pred, root bool) string {
	ok := !p.Never && allows(p, audit.JSONObject)
	var conds []string
	for _, k := range p.Required {
		kid := n.kids[k]
		if kid == nil {
			ok = false
			break
		}
		conds = append(conds, c.present(kid))
	}
	for _, k := range slices.Sorted(maps.Keys(n.kids)) {
		kp := p.Properties[k]
		if kp == nil {
			if p.Closed {
				ok = false // rebuild sets only the schema's properties, but this one is not p's
				break
			}
			kp = &audit.Pred{MaxLength: -1, MaxItems: -1} // not constrained
		}
		kid := n.kids[k]
		if kid.leaf != nil {
			conds = append(conds, c.leaf(kid, kp))
		} else {
			conds = append(conds, c.object(kid, kp, false))
		}
	}
	if !ok {
		if root {
			return "false"
		}
		return "NOT " + c.present(n)
	}
	body := "true"
	if len(conds) > 0 {
		body = "(" + strings.Join(conds, " AND ") + ")"
	}
	if root {
		return body
	}
	return fmt.Sprintf("(NOT %s OR %s)", c.present(n), body)
}

// leaf renders that the property a leaf column rebuilds, if set, satisfies p.
func (c columnCompiler) leaf(n *objectNode, p *audit.Pred) string {
	null := "true" // NULL is absent: the parent's required says whether that is allowed
	if n.leaf.shape.Allows("null") && !acceptsNull(p) {
		null = "false"
	}
	if n.col == "" {
		return null
	}
	value := c.value(n, p)
	return fmt.Sprintf("(CASE WHEN %s IS NULL THEN %s ELSE %s END)", n.col, null, value)
}

func acceptsNull(p *audit.Pred) bool {
	return !p.Never && allows(p, audit.JSONNull) && len(p.Enum) == 0
}

// allows says whether p's types take a value of type t (an integer is a
// number).
func allows(p *audit.Pred, t audit.JSONType) bool {
	return len(p.Types) == 0 || slices.Contains(p.Types, t) || t == audit.JSONInteger && slices.Contains(p.Types, audit.JSONNumber)
}

// value renders that the non-NULL column of n, carried into the message as
// convert carries it, satisfies p. Only kinds that convert leaves as the
// engine holds them are proven.
func (c columnCompiler) value(n *objectNode, p *audit.Pred) string {
	if p.Never {
		return "false"
	}
	ps, col := n.leaf.shape, n.col
	switch columnType(n.typ) {
	case exactText:
		// convert parses text for an array, object, number or boolean the
		// schema wants instead of a string.
		if ps.Allows("array") || ps.Allows("object") ||
			(ps.Allows("number") || ps.Allows("boolean")) && !ps.Allows("string") || !allows(p, audit.JSONString) || p.Pattern != "" {
			return "false"
		}
		var conds []string
		if len(p.Enum) > 0 {
			lits := make([]string, len(p.Enum))
			for i, e := range p.Enum {
				lits[i] = c.cp.Literal(e)
			}
			conds = append(conds, fmt.Sprintf("%s IN (%s)", col, strings.Join(lits, ", ")))
		}
		if p.MinLength > 0 {
			conds = append(conds, fmt.Sprintf("%s >= %d", c.cp.Length(col), p.MinLength))
		}
		if p.MaxLength >= 0 {
			conds = append(conds, fmt.Sprintf("%s <= %d", c.cp.Length(col), p.MaxLength))
		}
		return and(conds)
	case exactTimestamp:
		// An RFC 3339 string: proven only where nothing about the string
		// is checked.
		if !allows(p, audit.JSONString) || len(p.Enum) > 0 || p.MinLength > 0 || p.MaxLength >= 0 || p.Pattern != "" ||
			ps.Allows("array") || ps.Allows("object") || ps.Allows("number") && !ps.Allows("string") {
			return "false"
		}
		return "isfinite(" + col + ")"
	case exactBool:
		if ps.Allows("string") && !ps.Allows("boolean") || !allows(p, audit.JSONBoolean) || len(p.Enum) > 0 {
			return "false"
		}
		return "true"
	case exactInteger:
		if ps.Allows("string") && !ps.Allows("number") || !allows(p, audit.JSONInteger) || len(p.Enum) > 0 {
			return "false"
		}
		return and([]string{c.bound(col, p.Min, 1, true), c.bound(col, p.Max, -1, true)})
	case exactDouble:
		if ps.Allows("string") && !ps.Allows("number") || len(p.Enum) > 0 {
			return "false"
		}
		conds := []string{c.cp.Finite(col)}
		switch {
		case allows(p, audit.JSONNumber):
		case allows(p, audit.JSONInteger):
			// Go reads the value as written without a fraction: an
			// integer exactly when it is integral.
			conds = append(conds, fmt.Sprintf("%s = trunc(%s)", col, col))
		default:
			return "false"
		}
		conds = append(conds, c.bound(col, p.Min, 1, false), c.bound(col, p.Max, -1, false))
		return and(conds)
	}
	return "false"
}

// bound renders a numeric bound on col (sign 1 a minimum, -1 a maximum).
// An integer column meets an exact bound exactly. Otherwise only a strict
// inequality in doubles proves it, since rounding is monotonic; a double
// column ties with an exact bound only at that very integer.
func (c columnCompiler) bound(col string, b *audit.Bound, sign int, integer bool) string {
	if b == nil {
		return "true"
	}
	op := ">"
	if sign < 0 {
		op = "<"
	}
	if b.Exact {
		if !b.Exclusive {
			op += "="
		}
		lit := strconv.FormatInt(int64(b.Value), 10)
		if integer {
			return fmt.Sprintf("%s %s %s", col, op, lit)
		}
		return fmt.Sprintf("%s %s %s", col, op, c.double("'"+lit+"'"))
	}
	if math.IsInf(b.Value, 0) || math.IsNaN(b.Value) {
		return "false"
	}
	if integer {
		col = c.double(col)
	}
	return fmt.Sprintf("%s %s %s", col, op, c.double("'"+strconv.FormatFloat(b.Value, 'g', -1, 64)+"'"))
}

func (c columnCompiler) double(x string) string {
	return "CAST(" + x + " AS " + cmpOr(c.d.Float, "DOUBLE PRECISION") + ")"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func and(conds []string) string {
	var out []string
	for _, c := range conds {
		switch c {
		case "true":
		case "false":
			return "false"
		default:
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "true"
	}
	return "(" + strings.Join(out, " AND ") + ")"
}

// Column types whose values rebuild carries into the message exactly as
// the engine compares them.
const (
	exactNone = iota
	exactText
	exactInteger
	exactDouble
	exactBool
	exactTimestamp
)

func columnType(sqlType string) int {
	switch t := strings.ToLower(strings.TrimSpace(sqlType)); t {
	case "text", "varchar", "character varying":
		return exactText
	case "tinyint", "smallint", "integer", "bigint":
		return exactInteger
	case "double", "double precision", "float8":
		return exactDouble
	case "boolean", "bool":
		return exactBool
	case "timestamp", "timestamp with time zone", "timestamp without time zone", "timestamptz":
		return exactTimestamp
	}
	return exactNone
}

// tracksProof proves the rows of tracks, which carry no properties: their
// event name (event_text) must be one the plan's fallback takes, and the
// fallback's rule must hold for an empty object.
func (s *Source) tracksProof(plan *audit.PushdownPlan) proof {
	cp := s.WH.Dialect.ProveColumns
	rule := slices.IndexFunc(plan.Rules, func(r audit.PushdownRule) bool {
		return r.Type == "track" && len(r.Names) == 0 && r.NameField == "event"
	})
	if rule < 0 || !holdsForEmptyObject(plan.Rules[rule].Pred) {
		return proof{rule: -1}
	}
	d := s.WH.Dialect
	text := d.QuoteName("event_text")
	conds := []string{fmt.Sprintf("coalesce(%s, true)", cp.Storable(d.AsText(d.QuoteName("id")), audit.MaxIDBytes)),
		fmt.Sprintf("%s <> ''", text), cp.Storable(text, audit.MaxNameBytes)}
	if except := plan.Rules[rule].Except; len(except) > 0 {
		lits := make([]string, len(except))
		for i, e := range except {
			lits[i] = cp.Literal(e)
		}
		conds = append(conds, fmt.Sprintf("%s NOT IN (%s)", text, strings.Join(lits, ", ")))
	}
	return proof{cond: strings.Join(conds, " AND "), rule: rule}
}

// holdsForEmptyObject evaluates a rule's predicate for {}, the object of a
// message that has none.
func holdsForEmptyObject(p *audit.Pred) bool {
	return p != nil && !p.Never && allows(p, audit.JSONObject) && len(p.Required) == 0
}

// provenSQL wraps a table's scan (the select list exprs, over from, filtered
// by where) into the pushdown statement: one statement, so one snapshot,
// whose rows are a row not proven (the scan's columns, n NULL) or a count
// of proven rows (n) with the values of the grouped columns.
func provenSQL(d *sqlwh.Dialect, exprs []string, group []int, cond, from, where string) string {
	sel := make([]string, len(exprs))
	cols := make([]string, len(exprs))
	counted := make([]string, len(exprs))
	var groupBy []string
	for i, e := range exprs {
		c := d.QuoteName("c" + strconv.Itoa(i))
		sel[i], cols[i], counted[i] = e+" AS "+c, c, "NULL"
		if slices.Contains(group, i) {
			counted[i] = c
			groupBy = append(groupBy, c)
		}
	}
	tail := "HAVING COUNT(*) > 0"
	if len(groupBy) > 0 {
		tail = "GROUP BY " + strings.Join(groupBy, ", ")
	}
	return d.SQL(`WITH {proof} AS (
  SELECT %s, CASE WHEN %s THEN 1 ELSE 0 END AS {proven} FROM %s WHERE %s
)
SELECT %s, CAST(NULL AS %s) AS {n} FROM {proof} WHERE {proven} = 0
UNION ALL
SELECT %s, COUNT(*) FROM {proof} WHERE {proven} = 1 %s`,
		strings.Join(sel, ", "), cond, from, where, strings.Join(cols, ", "), d.Bigint, strings.Join(counted, ", "), tail)
}
