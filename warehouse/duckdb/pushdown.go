package duckdb

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Prove renders pushdown plans over a payload column (sqlwh.Dialect.Prove).
// It gives up (false) on anything DuckDB reads differently from Go's
// encoding/json:
//   - DuckDB's JSON reader accepts NaN, Infinity and trailing commas, which
//     Go refuses: a payload where one may appear is never proven;
//   - of two equal keys DuckDB reads the first and Go the last: every object
//     a rule looks into must have unique keys;
//   - a number is an integer only as a BIGINT or UBIGINT, that is, written
//     without a fraction or exponent;
//   - patterns are not rendered: DuckDB's RE2 and Go's regexp differ in
//     Unicode tables and syntax corners.
//
// Each json_ function parses the payload again: the proof costs DuckDB
// more per row than eventaudit's own scan (docs/internals.md).
func Prove(col, typ string) (sqlwh.JSONProof, error) {
	switch typ {
	case "json", "varchar", "text", "string":
	default:
		return sqlwh.JSONProof{}, fmt.Errorf("%w: a %s payload column", sqlwh.ErrNotProvable, typ)
	}
	return sqlwh.JSONProof{
		Guard: func(doc string) string {
			return fmt.Sprintf("json_valid(%[1]s) AND json_type(%[1]s) = 'OBJECT' AND NOT regexp_matches(CAST(%[1]s AS VARCHAR), %[2]s) AND %[3]s",
				doc, quote(lenientJSON), uniqueKeys(doc))
		},
		Member: func(payload, key string) string {
			ptr := quote("/" + audit.PointerToken(key))
			return fmt.Sprintf("CASE WHEN json_valid(%[1]s) AND json_type(%[1]s, %[2]s) = 'VARCHAR' THEN json_extract_string(%[1]s, %[2]s) END", payload, ptr)
		},
		Storable: func(x string, max int) string {
			return fmt.Sprintf("(strlen(%[1]s) <= %[2]d AND NOT contains(%[1]s, chr(0)) AND NOT contains(%[1]s, chr(65533)))", x, max)
		},
		Size: func(payload string) string { return "strlen(" + payload + ")" },
		Object: func(payload, key string) string {
			// Computed for every row: unguarded, a malformed one would fail
			// the statement. (A guard around the column itself, instead,
			// makes DuckDB's json_extract hold memory for every row read.)
			return fmt.Sprintf("CASE WHEN json_valid(%[1]s) THEN json_extract(%[1]s, %[2]s) END", payload, quote("/"+audit.PointerToken(key)))
		},
		Rule:       renderRule,
		Literal:    quote,
		Pays:       false,
		NoPatterns: "DuckDB's RE2 and Go's regexp differ in Unicode tables and syntax corners",
		Why:        "DuckDB is embedded: it proves rows on eventaudit's own cores, and its json_ functions parse a payload once per check, which costs more than eventaudit's scan",
	}, nil
}

// lenientJSON finds where DuckDB may have read a token Go refuses: a
// trailing comma, or NaN or Infinity in a value's place. Inside a string it
// finds nothing harmful, only costs that row its proof.
const lenientJSON = `,\s*[\]}]|[:\[,]\s*[-+]?(?i:nan|inf)`

// renderRule checks a rule's object; the type and name were dispatched on.
func renderRule(r audit.PushdownRule, obj string) string {
	if sqlwh.HasNUL(r.Names) || sqlwh.HasNUL(r.Except) {
		return "false"
	}
	// An absent or null object is validated as {} by Go: left to Go.
	conds := []string{fmt.Sprintf("coalesce(json_type(%s) <> 'NULL', false)", obj)}
	// A string schema_id routes by id: left to Go. DuckDB reads the first
	// of two equal keys and Go the last, so the object must have unique
	// keys even where its schema says nothing of them.
	conds = append(conds, fmt.Sprintf("(json_type(%[1]s) <> 'OBJECT' OR %[2]s)", obj, uniqueKeys(obj)),
		fmt.Sprintf("NOT coalesce(json_type(%s, '/schema_id') = 'VARCHAR', false)", obj))
	conds = append(conds, renderPred(r.Pred, obj, 0))
	return "(" + strings.Join(conds, " AND ") + ")"
}

// renderPred is true when v, an expression of JSON type, satisfies p; it
// is never NULL. Each kind's checks sit in a CASE on the value's type,
// which DuckDB evaluates lazily, so a cast meant for a number never meets
// a string.
func renderPred(p *audit.Pred, v string, depth int) string {
	if p.Never || depth > 32 {
		return "false"
	}
	var conds []string
	jt := fmt.Sprintf("json_type(%s)", v)
	if len(p.Types) > 0 {
		var names []string
		for _, t := range p.Types {
			names = append(names, duckTypes[t]...)
		}
		slices.Sort(names)
		conds = append(conds, fmt.Sprintf("%s IN (%s)", jt, quoteList(slices.Compact(names))))
	}
	if s := stringConds(p, v); s != "" {
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s = 'VARCHAR' THEN (%s) ELSE true END)", jt, s))
	}
	if s := numberConds(p, v); s != "" {
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN (%s) ELSE true END)", jt, s))
	}
	if s := objectConds(p, v, depth); s != "" {
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s = 'OBJECT' THEN (%s) ELSE true END)", jt, s))
	}
	if s := arrayConds(p, v, depth); s != "" {
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s = 'ARRAY' THEN (%s) ELSE true END)", jt, s))
	}
	if len(conds) == 0 {
		return "true"
	}
	return "coalesce(" + strings.Join(conds, " AND ") + ", false)"
}

var duckTypes = map[audit.JSONType][]string{
	audit.JSONString:  {"VARCHAR"},
	audit.JSONInteger: {"BIGINT", "UBIGINT"},
	audit.JSONNumber:  {"BIGINT", "UBIGINT", "DOUBLE"},
	audit.JSONBoolean: {"BOOLEAN"},
	audit.JSONNull:    {"NULL"},
	audit.JSONObject:  {"OBJECT"},
	audit.JSONArray:   {"ARRAY"},
}

func stringConds(p *audit.Pred, v string) string {
	if p.Pattern != "" || sqlwh.HasNUL(p.Enum) {
		return "false"
	}
	str := fmt.Sprintf("json_extract_string(%s, '$')", v)
	var conds []string
	if len(p.Enum) > 0 {
		conds = append(conds, fmt.Sprintf("%s IN (%s)", str, quoteList(p.Enum)))
	}
	if p.MinLength > 0 {
		conds = append(conds, fmt.Sprintf("length(%s) >= %d", str, p.MinLength))
	}
	if p.MaxLength >= 0 {
		conds = append(conds, fmt.Sprintf("length(%s) <= %d", str, p.MaxLength))
	}
	return strings.Join(conds, " AND ")
}

func numberConds(p *audit.Pred, v string) string {
	var conds []string
	for _, b := range []struct {
		b  *audit.Bound
		op string
	}{{p.Min, ">"}, {p.Max, "<"}} {
		if b.b == nil {
			continue
		}
		if math.IsInf(b.b.Value, 0) || math.IsNaN(b.b.Value) {
			return "false"
		}
		strict := fmt.Sprintf("CAST(%s AS DOUBLE) %s CAST(%s AS DOUBLE)", v, b.op, quote(strconv.FormatFloat(b.b.Value, 'g', -1, 64)))
		if !b.b.Exact {
			conds = append(conds, strict)
			continue
		}
		// An integer against an integer bound compares exactly.
		op := b.op
		if !b.b.Exclusive {
			op += "="
		}
		conds = append(conds, fmt.Sprintf("(CASE WHEN json_type(%[1]s) IN ('BIGINT', 'UBIGINT') THEN CAST(%[1]s AS HUGEINT) %[2]s %[3]s ELSE %[4]s END)",
			v, op, strconv.FormatFloat(b.b.Value, 'f', -1, 64), strict))
	}
	return strings.Join(conds, " AND ")
}

func objectConds(p *audit.Pred, v string, depth int) string {
	if len(p.Required) == 0 && len(p.Properties) == 0 && !p.Closed {
		return ""
	}
	if sqlwh.HasNUL(p.Required) || sqlwh.HasNUL(slices.Collect(maps.Keys(p.Properties))) {
		return "false" // a DuckDB literal cannot hold NUL
	}
	keys := fmt.Sprintf("json_keys(%s)", v)
	conds := []string{uniqueKeys(v)}
	if len(p.Required) > 0 {
		conds = append(conds, fmt.Sprintf("list_has_all(%s, [%s])", keys, quoteList(p.Required)))
	}
	names := make([]string, 0, len(p.Properties))
	for name := range p.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	if p.Closed {
		if len(names) == 0 {
			conds = append(conds, fmt.Sprintf("len(%s) = 0", keys))
		} else {
			conds = append(conds, fmt.Sprintf("list_has_all([%s], %s)", quoteList(names), keys))
		}
	}
	for _, name := range names {
		if name == "" {
			return "false" // the pointer "/" is read differently by engines
		}
		child := fmt.Sprintf("json_extract(%s, %s)", v, quote("/"+audit.PointerToken(name)))
		conds = append(conds, fmt.Sprintf("(NOT list_contains(%s, %s) OR %s)", keys, quote(name), renderPred(p.Properties[name], child, depth+1)))
	}
	return strings.Join(conds, " AND ")
}

func arrayConds(p *audit.Pred, v string, depth int) string {
	var conds []string
	n := fmt.Sprintf("json_array_length(%s)", v)
	if p.MinItems > 0 {
		conds = append(conds, fmt.Sprintf("%s >= %d", n, p.MinItems))
	}
	if p.MaxItems >= 0 {
		conds = append(conds, fmt.Sprintf("%s <= %d", n, p.MaxItems))
	}
	if p.Items != nil {
		x := fmt.Sprintf("x%d", depth)
		conds = append(conds, fmt.Sprintf("coalesce(list_bool_and(list_transform(json_extract(%s, '$[*]'), %s -> %s)), true)",
			v, x, renderPred(p.Items, x, depth+1)))
	}
	return strings.Join(conds, " AND ")
}

// uniqueKeys holds when the object v has no key twice.
func uniqueKeys(v string) string {
	return fmt.Sprintf("len(json_keys(%[1]s)) = len(list_distinct(json_keys(%[1]s)))", v)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}
