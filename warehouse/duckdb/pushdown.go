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
// Each json_ call parses its argument again; frames (below) call each
// function once per value, yet the proof still costs DuckDB 8 times what
// fetching the rows does (docs/internals.md).
func Prove(col, typ string) (sqlwh.JSONProof, error) {
	switch typ {
	case "json", "varchar", "text", "string":
	default:
		return sqlwh.JSONProof{}, fmt.Errorf("%w: a %s payload column", sqlwh.ErrNotProvable, typ)
	}
	return sqlwh.JSONProof{
		Guard: func(doc string) string {
			f := &frame{name: "g"}
			object := fmt.Sprintf("%s = 'OBJECT' AND %s", f.at(fType, ""), uniqueKeys(f.at(fKeys, "")))
			return fmt.Sprintf("json_valid(%[1]s) AND NOT regexp_matches(CAST(%[1]s AS VARCHAR), %[2]s) AND %[3]s",
				doc, quote(lenientJSON), f.over(doc, object))
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
		Fence:      " OFFSET 0",
		Pays:       false,
		NoPatterns: "DuckDB's RE2 and Go's regexp differ in Unicode tables and syntax corners",
		Why:        "DuckDB is embedded: it proves rows on eventaudit's own cores and memory, and its json_ functions cost it 15x the time and 3x the memory of fetching the rows (1M rows, 2026-12-07: 19.5 s and 590 MB against 1.26 s and 190 MB)",
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
	f := &frame{name: "f0"}
	root := f.at(fType, "")
	conds := []string{
		// An absent or null object is validated as {} by Go: left to Go.
		fmt.Sprintf("coalesce(%s <> 'NULL', false)", root),
		// DuckDB reads the first of two equal keys and Go the last, so the
		// object must have unique keys even where its schema says nothing
		// of them.
		fmt.Sprintf("(%s <> 'OBJECT' OR %s)", root, uniqueKeys(f.at(fKeys, ""))),
		// A string schema_id routes by id: left to Go.
		fmt.Sprintf("NOT coalesce(%s = 'VARCHAR', false)", f.at(fType, "/schema_id")),
		renderPred(r.Pred, f, "", 0),
	}
	return "coalesce(" + f.over(obj, strings.Join(conds, " AND ")) + ", false)"
}

// A frame is one JSON value as the checks below it read it. Each of
// DuckDB's json_ functions parses its argument on every call, and a check
// per call parsed a message's properties some thirty times. Each also
// takes a list of paths and parses the value once for all of them: a
// frame gathers the paths its checks read, per function, and computes each
// list once per row, bound to a lambda parameter. Checks read the lists by
// index. An array's elements are frames of their own.
type frame struct {
	name  string // the lambda parameter that holds the lists
	paths [len(frameFuncs)][]string
}

// The functions a frame calls, and the struct field each list is bound to.
var frameFuncs = [...]struct{ field, fn string }{
	fType:   {"t", "json_type"},
	fString: {"s", "json_extract_string"},
	fKeys:   {"k", "json_keys"},
	fLength: {"l", "json_array_length"},
	fValue:  {"v", "json_extract"},
}

const (
	fType = iota
	fString
	fKeys
	fLength
	fValue
)

// at renders what function fn returns for the value at path, a JSON
// pointer below the frame's value ("" is the value itself); NULL where the
// value has no such path.
func (f *frame) at(fn int, path string) string {
	if path == "" {
		path = "$"
	}
	i := slices.Index(f.paths[fn], path)
	if i < 0 {
		f.paths[fn] = append(f.paths[fn], path)
		i = len(f.paths[fn]) - 1
	}
	return fmt.Sprintf("%s.%s[%d]", f.name, frameFuncs[fn].field, i+1)
}

// over renders cond, which reads f's lists, over the JSON value v: the
// lists are computed once, as the one element of a list that a lambda
// maps to cond (DuckDB has no LET).
func (f *frame) over(v, cond string) string {
	var fields []string
	for fn, paths := range f.paths {
		if len(paths) > 0 {
			fields = append(fields, fmt.Sprintf("%s := %s(%s, [%s])", frameFuncs[fn].field, frameFuncs[fn].fn, v, quoteList(paths)))
		}
	}
	if len(fields) == 0 {
		return cond
	}
	return fmt.Sprintf("(list_transform([struct_pack(%s)], %s -> %s))[1]", strings.Join(fields, ", "), f.name, cond)
}

// renderPred is true when the value at path in f satisfies p; it is never
// NULL. Each kind's checks sit in a CASE on the value's type, which DuckDB
// evaluates lazily, so a cast meant for a number never meets a string.
func renderPred(p *audit.Pred, f *frame, path string, depth int) string {
	if p.Never || depth > 32 {
		return "false"
	}
	var conds []string
	jt := f.at(fType, path)
	if len(p.Types) > 0 {
		var names []string
		for _, t := range p.Types {
			names = append(names, duckTypes[t]...)
		}
		slices.Sort(names)
		conds = append(conds, fmt.Sprintf("%s IN (%s)", jt, quoteList(slices.Compact(names))))
	}
	if s := stringConds(p, f, path); s != "" {
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s = 'VARCHAR' THEN (%s) ELSE true END)", jt, s))
	}
	if s := numberConds(p, f, path); s != "" {
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN (%s) ELSE true END)", jt, s))
	}
	if s := objectConds(p, f, path, depth); s != "" {
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s = 'OBJECT' THEN (%s) ELSE true END)", jt, s))
	}
	if s := arrayConds(p, f, path, depth); s != "" {
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

func stringConds(p *audit.Pred, f *frame, path string) string {
	if p.Pattern != "" || sqlwh.HasNUL(p.Enum) {
		return "false"
	}
	if len(p.Enum) == 0 && p.MinLength <= 0 && p.MaxLength < 0 {
		return ""
	}
	str := f.at(fString, path)
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

// numberConds compares the number's text, as json_extract_string writes
// it: a cast of it is the cast of the JSON value.
func numberConds(p *audit.Pred, f *frame, path string) string {
	if p.Min == nil && p.Max == nil {
		return ""
	}
	v := f.at(fString, path)
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
		conds = append(conds, fmt.Sprintf("(CASE WHEN %s IN ('BIGINT', 'UBIGINT') THEN CAST(%s AS HUGEINT) %s %s ELSE %s END)",
			f.at(fType, path), v, op, strconv.FormatFloat(b.b.Value, 'f', -1, 64), strict))
	}
	return strings.Join(conds, " AND ")
}

func objectConds(p *audit.Pred, f *frame, path string, depth int) string {
	if len(p.Required) == 0 && len(p.Properties) == 0 && !p.Closed {
		return ""
	}
	if sqlwh.HasNUL(p.Required) || sqlwh.HasNUL(slices.Collect(maps.Keys(p.Properties))) {
		return "false" // a DuckDB literal cannot hold NUL
	}
	keys := f.at(fKeys, path)
	conds := []string{uniqueKeys(keys)}
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
		child := path + "/" + audit.PointerToken(name)
		conds = append(conds, fmt.Sprintf("(NOT list_contains(%s, %s) OR %s)", keys, quote(name), renderPred(p.Properties[name], f, child, depth+1)))
	}
	return strings.Join(conds, " AND ")
}

func arrayConds(p *audit.Pred, f *frame, path string, depth int) string {
	if p.MinItems <= 0 && p.MaxItems < 0 && p.Items == nil {
		return ""
	}
	var conds []string
	if p.MinItems > 0 {
		conds = append(conds, fmt.Sprintf("%s >= %d", f.at(fLength, path), p.MinItems))
	}
	if p.MaxItems >= 0 {
		conds = append(conds, fmt.Sprintf("%s <= %d", f.at(fLength, path), p.MaxItems))
	}
	if p.Items != nil {
		// Each element is a frame of its own, parsed once per function.
		x, elem := fmt.Sprintf("x%d", depth), &frame{name: fmt.Sprintf("f%d", depth+1)}
		check := elem.over(x, renderPred(p.Items, elem, "", depth+1))
		conds = append(conds, fmt.Sprintf("coalesce(list_bool_and(list_transform(json_extract(%s, '$[*]'), %s -> %s)), true)",
			f.at(fValue, path), x, check))
	}
	return strings.Join(conds, " AND ")
}

// uniqueKeys holds when an object's keys, a list, hold no key twice: no
// two neighbours are equal once sorted. (list_distinct over json_keys
// asks for 8 MB a vector, past DuckDB's 32 MB limit.)
func uniqueKeys(keys string) string {
	return fmt.Sprintf("coalesce((list_transform([list_sort(%s)], ks -> list_bool_and(list_transform(range(1, len(ks)), i -> ks[i] <> ks[i + 1]))))[1], true)", keys)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}
