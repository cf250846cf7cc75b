package segment

import (
	"cmp"
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
	// expr renders the index of the rule that proves a row, or NULL; ""
	// proves none.
	expr string
	// proven are the rules expr may name, each with what it leaves to Go,
	// by property.
	proven map[int]map[string]string
	// unproven are the rules the table's rows may need that it proves
	// none of, and why.
	unproven map[int]string
	// dispatch renders, from the columns a statement groups its counts by
	// alone (a page's name), the rule expr names for a row of the group
	// when it names one, and -1 where it names none: the rule a group's
	// count is under (provenSQL).
	dispatch string
	// binds is how many times the table's statement takes the window's
	// two parameters: provenSQL's take them twice; 0, as 1, is once.
	binds int
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
	// Every rule is proven nowhere, but where a table proves it.
	rules := map[int]sqlwh.RuleProof{}
	for i, r := range plan.Rules {
		if r.Pred != nil {
			why := "no table of this layout holds its rows"
			if r.Type == "alias" {
				why = "Segment's layout keeps aliases apart, and an audit does not read them"
			}
			rules[i] = sqlwh.RuleProof{Proven: "none", Why: why}
		}
	}
	layout := s.plan(tables)
	if err := s.describe(ctx, layout); err != nil {
		return sqlwh.Proof{}, err
	}
	if name, ok := tables[TracksTable]; ok {
		q, pr := s.tracksQuery(name, s.readFromTracks(layout), &plan)
		stmts = append(stmts, q+";")
		for i := range pr.proven {
			delete(rules, i)
		}
	}
	for _, t := range layout {
		q, _, pr, err := s.query(ctx, &t, &plan)
		if err != nil {
			return sqlwh.Proof{}, err
		}
		if q != "" {
			stmts = append(stmts, q+";")
		}
		for i, why := range pr.unproven {
			rules[i] = sqlwh.RuleProof{Proven: "none", Why: why}
		}
		for i, left := range pr.proven {
			if len(left) == 0 {
				delete(rules, i)
				continue
			}
			var at []string
			for _, path := range slices.Sorted(maps.Keys(left)) {
				at = append(at, path+": "+left[path])
			}
			rules[i] = sqlwh.RuleProof{Proven: "part", Why: "a value left to Go at " + strings.Join(at, "; ")}
		}
	}
	return sqlwh.Proof{SQL: strings.Join(stmts, "\n\n"), Pays: cp.Pays, Why: cp.Why, Rules: rules,
		PerTable: true, Statements: s.WH.Dialect.ProofStatements}, nil
}

// ScanUnproven implements audit.ProvingSource: each table's rows not
// proven are yielded, and the others counted (the window's rows less
// those), by one statement per table (per slice, on DuckDB), from one
// snapshot, so every row is either yielded or counted, once.
func (s *Source) ScanUnproven(ctx context.Context, w audit.Window, plan audit.PushdownPlan, yield func([]audit.Row) error) ([]audit.ProvenCount, error) {
	if s.WH.Dialect.ProveColumns == nil {
		return nil, s.Scan(ctx, w, yield)
	}
	return s.scan(ctx, w, &plan, yield)
}

// tableProof compiles the plan's rules for a table of the layout into an
// expression over its columns (t.cols, with idx their lower-case names):
// the rule that proves a row. A track event's table has one rule; pages
// and screens one per name and a fallback, dispatched on the name column;
// identifies and groups one.
func (s *Source) tableProof(t *segmentTable, idx map[string]int, plan *audit.PushdownPlan) proof {
	d, cp := s.WH.Dialect, s.WH.Dialect.ProveColumns
	pr := proof{proven: map[int]map[string]string{}, unproven: map[int]string{}}
	// cond is the rule's condition for a row matched by name ("" for none).
	cond := func(i int, name string) string {
		r := plan.Rules[i]
		if r.Pred == nil {
			return ""
		}
		c, why, left := s.ruleCond(t, idx, r, name)
		if why != "" {
			pr.unproven[i] = why
			return ""
		}
		pr.proven[i] = left
		return fmt.Sprintf("CASE WHEN %s THEN %d END", c, i)
	}
	col := func(low string) string { return d.QuoteName(t.cols[idx[low]].Name) }
	switch t.typ {
	case "track":
		if t.unplanned {
			return proof{} // read only to infer a plan
		}
		i := slices.IndexFunc(plan.Rules, func(r audit.PushdownRule) bool { return r.Type == "track" && slices.Contains(r.Names, t.event) })
		if i < 0 {
			return proof{}
		}
		if e := cond(i, t.event); e != "" {
			pr.expr, pr.dispatch = e, strconv.Itoa(i)
			if j, ok := idx["event_text"]; ok {
				if kindOf(t.cols[j].Type) != kindText {
					return proof{unproven: map[int]string{i: "its table's event_text column is not text"}}
				}
				// An event_text other than the table's names another event.
				pr.expr = fmt.Sprintf("CASE WHEN coalesce(%s, '') IN ('', %s) THEN %s END", binary(cp, col("event_text")), cp.Literal(t.event), e)
			}
		}
	case "page", "screen":
		j, hasName := idx["name"]
		if hasName && kindOf(t.cols[j].Type) != kindText {
			return proof{} // Go reads the name as the column prints
		}
		// named holds each name's condition and rule ("NULL" and -1 where
		// none proves it); the dispatch is built from the same names.
		type namedRule struct {
			cond string
			rule int
		}
		named := map[string]namedRule{}
		fallback, fallbackRule := "", -1
		for i, r := range plan.Rules {
			switch {
			case r.Type != t.typ:
			case len(r.Names) > 0 && !hasName: // no row is named
			case len(r.Names) > 0:
				for _, n := range r.Names {
					named[n] = namedRule{"NULL", -1}
					if n != "" && audit.ProvenIdentity(n) {
						if c := cond(i, n); c != "" {
							named[n] = namedRule{c, i}
						}
					}
				}
			default:
				for _, n := range r.Except {
					if _, ok := named[n]; !ok {
						named[n] = namedRule{"NULL", -1} // a name with no rule of its own is not the fallback's
					}
				}
				if fallback = cond(i, ""); fallback != "" {
					fallbackRule = i
				}
			}
		}
		switch {
		case !hasName:
			pr.expr, pr.dispatch = fallback, strconv.Itoa(fallbackRule) // every row falls back
		default:
			var whens, dispatch []string
			for _, n := range slices.Sorted(maps.Keys(named)) {
				whens = append(whens, fmt.Sprintf("WHEN %s THEN %s", cp.Literal(n), named[n].cond))
				dispatch = append(dispatch, fmt.Sprintf("WHEN %s THEN %d", cp.Literal(n), named[n].rule))
			}
			if fallback != "" {
				// Go counts the rows under the name they carry, which must
				// be storable; NULL is none.
				storable := fmt.Sprintf("coalesce(%s, true)", cp.Storable(col("name"), audit.MaxNameBytes))
				whens = append(whens, fmt.Sprintf("ELSE CASE WHEN %s THEN %s END", storable, fallback))
				dispatch = append(dispatch, fmt.Sprintf("ELSE CASE WHEN %s THEN %d ELSE -1 END", storable, fallbackRule))
			} else {
				dispatch = append(dispatch, "ELSE -1")
			}
			if len(pr.proven) > 0 {
				pr.expr = fmt.Sprintf("CASE %s %s END", binary(cp, col("name")), strings.Join(whens, " "))
				pr.dispatch = fmt.Sprintf("CASE %s %s END", binary(cp, col("name")), strings.Join(dispatch, " "))
			}
		}
	case "identify", "group":
		if i := slices.IndexFunc(plan.Rules, func(r audit.PushdownRule) bool { return r.Type == t.typ }); i >= 0 {
			if pr.expr = cond(i, ""); pr.expr != "" {
				pr.dispatch = strconv.Itoa(i)
			}
		}
	}
	if pr.expr == "" {
		pr.proven, pr.dispatch = nil, ""
	}
	return pr
}

// ruleCond renders the condition under which rule r, matched by name,
// proves a row of t: as rebuild would make its message, r's schema holds.
// why says why it proves none; left, what it leaves to Go.
func (s *Source) ruleCond(t *segmentTable, idx map[string]int, r audit.PushdownRule, name string) (cond, why string, left map[string]string) {
	d, cp := s.WH.Dialect, s.WH.Dialect.ProveColumns
	if r.Object != t.member {
		return "", "its rule validates another member", nil
	}
	if t.typ == "track" && (name == "" || !audit.ProvenIdentity(name)) {
		return "", "its name cannot be stored as it is", nil
	}
	var m audit.Match
	switch t.typ {
	case "track":
		m = s.Matcher.Resolve(t.typ, name, "", "")
	default:
		m = s.Matcher.Resolve(t.typ, "", name, "")
	}
	shape, leaves, _ := s.layout(m)
	switch {
	case shape == nil || m.SchemaID != r.SchemaID || m.Unplanned || m.Problem != nil:
		return "", "its schema does not describe its columns", nil
	case slices.ContainsFunc(leaves, segmentLeaf.isMap):
		return "", "a map property, whose keys are columns no schema names", nil
	}
	conds := []string{fmt.Sprintf("coalesce(%s, true)", cp.Storable(d.AsText(d.QuoteName(t.cols[idx["id"]].Name)), audit.MaxIDBytes))}
	leafOf := map[string]bool{}
	for _, l := range leaves {
		leafOf[l.col] = true
	}
	for i, c := range t.cols {
		switch low := strings.ToLower(c.Name); {
		case low == "schema_id":
			conds = append(conds, d.QuoteName(c.Name)+" IS NULL") // it routes by id
		case low == "id" || low == "received_at" || low == "event_text" || low == "name" && (t.typ == "page" || t.typ == "screen"):
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
	c := columnCompiler{d: d, cp: cp, left: map[string]string{}}
	conds = append(conds, c.object(root, r.Pred, true))
	return strings.Join(conds, " AND "), "", c.left
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
	// left says, per property, why a value there is left to Go though it
	// may be valid.
	left map[string]string
}

// leave proves no value of n's column, for why.
func (c columnCompiler) leave(n *objectNode, why string) string {
	c.note(n, why)
	return "false"
}

// note records why some values of n's column are left to Go.
func (c columnCompiler) note(n *objectNode, why string) {
	c.left["/"+strings.Join(n.leaf.props, "/")] = why
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
	var some []string
	for _, k := range slices.Sorted(maps.Keys(n.kids)) {
		switch p := c.present(n.kids[k]); p {
		case "true":
			return "true"
		case "false":
		default:
			some = append(some, p)
		}
	}
	if len(some) == 0 {
		return "false"
	}
	return "(" + strings.Join(some, " OR ") + ")"
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
	switch kind := c.cp.Kinds[strings.ToLower(strings.TrimSpace(n.typ))]; kind {
	case sqlwh.KindText:
		// convert parses text for an array, object, number or boolean the
		// schema wants instead of a string.
		switch {
		case (ps.Allows("array") || ps.Allows("object")) && c.cp.JSONText != nil:
			// Proven where the engine reads the text as Go does; other
			// text is left.
			c.note(n, "JSON text that the engine cannot read as Go does")
			return c.cp.JSONText(col, p)
		case ps.Allows("array") || ps.Allows("object"):
			return c.leave(n, "an array or object kept as JSON text")
		case (ps.Allows("number") || ps.Allows("integer") || ps.Allows("boolean")) && !ps.Allows("string"):
			return c.leave(n, "a number or boolean kept as text")
		case !allows(p, audit.JSONString):
			return "false"
		case p.Pattern != "":
			return c.leave(n, "a pattern, which neither engine's regular expressions read as ECMA-262 does")
		}
		var conds []string
		if len(p.Enum) > 0 {
			lits := make([]string, len(p.Enum))
			for i, e := range p.Enum {
				lits[i] = c.cp.Literal(e)
			}
			conds = append(conds, fmt.Sprintf("%s IN (%s)", binary(c.cp, col), strings.Join(lits, ", ")))
		}
		if p.MinLength > 0 {
			conds = append(conds, fmt.Sprintf("%s >= %d", c.cp.Length(col), p.MinLength))
		}
		if p.MaxLength >= 0 {
			conds = append(conds, fmt.Sprintf("%s <= %d", c.cp.Length(col), p.MaxLength))
		}
		return and(conds)
	case sqlwh.KindTimestamp:
		// An RFC 3339 string: proven only where nothing about the string
		// is checked.
		if !allows(p, audit.JSONString) {
			return "false"
		}
		if len(p.Enum) > 0 || p.MinLength > 0 || p.MaxLength >= 0 || p.Pattern != "" ||
			ps.Allows("array") || ps.Allows("object") || ps.Allows("number") && !ps.Allows("string") {
			return c.leave(n, "a timestamp column, whose text the schema checks")
		}
		return c.cp.Time(col)
	case sqlwh.KindBoolean:
		if ps.Allows("string") && !ps.Allows("boolean") {
			return c.leave(n, "a boolean the schema wants as a string")
		}
		if !allows(p, audit.JSONBoolean) || len(p.Enum) > 0 {
			return "false"
		}
		return "true"
	case sqlwh.KindInteger, sqlwh.KindDecimal:
		if ps.Allows("string") && !ps.Allows("number") {
			return c.leave(n, "a number the schema wants as a string")
		}
		if !allows(p, audit.JSONInteger) || len(p.Enum) > 0 {
			return "false"
		}
		conds := []string{c.bound(col, p.Min, 1, true), c.bound(col, p.Max, -1, true)}
		if kind == sqlwh.KindDecimal {
			conds = append(conds, fmt.Sprintf("%s = trunc(%s)", col, col), fmt.Sprintf("%s BETWEEN -%d AND %d", col, maxSafeInteger, maxSafeInteger))
		}
		return and(conds)
	case sqlwh.KindDouble:
		if ps.Allows("string") && !ps.Allows("number") {
			return c.leave(n, "a number the schema wants as a string")
		}
		if len(p.Enum) > 0 {
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
	return c.leave(n, "a "+strings.ToLower(n.typ)+" column, whose values Go may read otherwise than the engine")
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
	return "CAST(" + x + " AS " + c.d.FloatType() + ")"
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

// maxSafeInteger is 2^53-1: a decimal column's integers up to it read the
// same as an int64, a double or text.
const maxSafeInteger = 1<<53 - 1

// binary renders a text column to compare with a literal byte for byte.
func binary(cp *sqlwh.ColumnProof, col string) string {
	if cp.Binary == nil {
		return col
	}
	return cp.Binary(col)
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
		return proof{}
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
	return proof{expr: fmt.Sprintf("CASE WHEN %s THEN %d END", strings.Join(conds, " AND "), rule), proven: map[int]map[string]string{rule: nil},
		dispatch: strconv.Itoa(rule)}
}

// holdsForEmptyObject evaluates a rule's predicate for {}, the object of a
// message that has none.
func holdsForEmptyObject(p *audit.Pred) bool {
	return p != nil && !p.Never && allows(p, audit.JSONObject) && len(p.Required) == 0
}

// provenSQL wraps a table's scan (the select list exprs, over from, filtered
// by whereAt, the window's parameters numbered from its argument) into the
// pushdown statement: one statement, so one snapshot, whose rows are a
// row not proven (the scan's columns, then rule and n NULL) or, per group
// (the group columns' values, byte for byte; a page's name), the count n
// of every row of the window, under the rule pr.dispatch names for the
// group. It takes the window's two parameters twice.
//
// The rows not proven are fetched by a filter, and the count reads the
// window again without evaluating the proof: the reader subtracts the rows
// it fetched from their group's count (windowCounts). Postgres
// materialised the proof that the statement before this one read twice (a
// WITH of the proof and its rule, then its rows not proven and its counts
// per rule); this takes about half the time (product_viewed, 241,869 rows:
// 195 ms against 359; docs/performance.md).
func provenSQL(d *sqlwh.Dialect, exprs []string, group []int, pr proof, from string, whereAt func(first int) string) (q string, binds int) {
	sel := make([]string, len(exprs))
	counted := make([]string, len(exprs))
	var grouped []string
	for i, e := range exprs {
		sel[i], counted[i] = e+" AS "+d.QuoteName("c"+strconv.Itoa(i)), "NULL"
		if slices.Contains(group, i) {
			// Grouped byte for byte, as the reader keys the rows it fetched:
			// under a case-insensitive collation "Home" and "HOME" would be
			// one group, counted under one of the two. The column itself
			// too, which the dispatch reads.
			counted[i] = binary(d.ProveColumns, e)
			grouped = append(grouped, counted[i])
			if counted[i] != e {
				grouped = append(grouped, e)
			}
		}
	}
	groupBy := ""
	if len(grouped) > 0 {
		groupBy = " GROUP BY " + strings.Join(grouped, ", ")
	}
	dispatch := cmp.Or(pr.dispatch, "-1") // none: rows counted and not fetched fail the run
	return d.SQL(`SELECT %s, CAST(NULL AS %s) AS {rule}, CAST(NULL AS %s) AS {n} FROM %s WHERE %s AND (%s) IS NULL
UNION ALL
SELECT %s, %s, COUNT(*) FROM %s WHERE %s%s`,
		strings.Join(sel, ", "), d.Bigint, d.Bigint, from, whereAt(1), pr.expr,
		strings.Join(counted, ", "), dispatch, from, whereAt(3), groupBy), 2
}

// windowCounts makes a statement's counts of the window's rows per group
// (provenSQL) the counts of the rows proven: each group's count less the
// rows fetched in it. A group left with none is dropped, as a run without
// pushdown reports no such event. Counts that cannot be fail the run:
// fewer rows counted than fetched, rows fetched in a group not counted, or
// rows left proven in a group no rule proves.
type windowCounts struct {
	fetched map[string]int64
	counts  map[string]audit.ProvenCount
	order   []string
}

// fetch notes a row not proven, of group key.
func (w *windowCounts) fetch(key string) {
	if w.fetched == nil {
		w.fetched = map[string]int64{}
	}
	w.fetched[key]++
}

// count notes the statement's count c of group key; the counts of one
// group in several slices add up.
func (w *windowCounts) count(key string, c audit.ProvenCount) {
	if w.counts == nil {
		w.counts = map[string]audit.ProvenCount{}
	}
	if old, ok := w.counts[key]; ok {
		c.Rows += old.Rows
	} else {
		w.order = append(w.order, key)
	}
	w.counts[key] = c
}

// proven returns the counts of the rows proven, and each one's group key.
func (w *windowCounts) proven() ([]audit.ProvenCount, []string, error) {
	var out []audit.ProvenCount
	var keys []string
	for _, key := range w.order {
		c := w.counts[key]
		c.Rows -= w.fetched[key]
		delete(w.fetched, key)
		switch {
		case c.Rows < 0:
			return nil, nil, fmt.Errorf("the warehouse counted fewer rows in the window than it returned unproven (%d)", c.Rows)
		case c.Rows > 0 && c.Rule < 0:
			return nil, nil, fmt.Errorf("the warehouse counted %d rows more than it returned unproven in a group no rule proves", c.Rows)
		case c.Rows > 0:
			out, keys = append(out, c), append(keys, key)
		}
	}
	for _, n := range w.fetched {
		if n > 0 {
			return nil, nil, fmt.Errorf("the warehouse returned %d rows unproven in a group it did not count", n)
		}
	}
	return out, keys, nil
}

// groupKey keys a row's grouped values, NULL apart from every value.
func groupKey(vals ...any) string {
	var b strings.Builder
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			b.WriteString("\x00")
		case *string:
			if v == nil {
				b.WriteString("\x00")
			} else {
				b.WriteString("\x01" + *v)
			}
		default:
			fmt.Fprintf(&b, "\x01%T:%v", v, v)
		}
		b.WriteString("\x02")
	}
	return b.String()
}
