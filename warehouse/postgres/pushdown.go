package postgres

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// Prove renders pushdown plans over a jsonb payload column
// (sqlwh.Dialect.Prove). jsonb is read as Go reads it: Postgres keeps the
// last of two equal keys, refuses NaN, trailing commas, \u0000 and lone
// surrogates, and eventaudit fetches the column as jsonb's own text, so Go
// judges the very document the SQL checked. Numbers are numeric, compared
// exactly. Patterns are not rendered: Postgres's regular expressions are
// not ECMA-262's.
//
// A json or text column is not proven: Postgres would parse it again for
// every check, which costs more than fetching it (docs/internals.md).
func Prove(col, typ string) (sqlwh.JSONProof, error) {
	if typ != "jsonb" {
		return sqlwh.JSONProof{}, fmt.Errorf("%w: Postgres parses a %s payload again for every check, which costs more than fetching it; store it as jsonb",
			sqlwh.ErrNotProvable, typ)
	}
	return sqlwh.JSONProof{
		Guard: func(doc string) string { return fmt.Sprintf("jsonb_typeof(%s) = 'object'", doc) },
		Member: func(doc, key string) string {
			return fmt.Sprintf("CASE WHEN jsonb_typeof(%[1]s -> %[2]s) = 'string' THEN %[1]s ->> %[2]s END", doc, literal(key))
		},
		// Postgres text holds no NUL, and no invalid UTF-8 in a UTF8
		// database.
		Storable: func(x string, max int) string { return fmt.Sprintf("octet_length(%s) <= %d", x, max) },
		Size:     func(payload string) string { return "octet_length(" + payload + ")" },
		Object:   func(doc, key string) string { return fmt.Sprintf("(%s -> %s)", doc, literal(key)) },
		Rule:     renderRule,
		Literal:  literal,
		// Measured (docs/internals.md): 1M rows on a local server sharing
		// the client's 2 cores, the proof fetched 26x fewer bytes and cut
		// the client's CPU to 30%, but took 1.07x the wall time (2026-12-06).
		Pays:       false,
		Why:        "the server spends longer proving rows than sending them, a third of it serialising each proven document to check its size (measured on jsonb beside the client, 2026-12-06: 1.07x the wall time, for 26x fewer bytes)",
		Fence:      " OFFSET 0",
		NoPatterns: "Postgres's regular expressions are not ECMA-262's",
	}, nil
}

// jsonTextMax bounds the JSON text a Segment column's proof parses, so
// that no number in it (no exponent: flatJSONArray) overflows numeric's
// 131,072 digits before the point or 16,383 after.
const jsonTextMax = 8192

// flatJSONArray matches the JSON text that jsonb parses, without failing
// the statement, to the very array Go's decoder reads: an array of
// scalars and of objects of scalars (no deeper), in JSON's own
// whitespace, with no \u escape (\u0000 and lone surrogates fail jsonb),
// and numbers without an exponent or a negative zero, which jsonb prints
// as written (1e2 would print as 100).
func flatJSONArray() string {
	return jsonArrayPattern(`[ \t\n\r]*`, `"([^"\\\x01-\x1f]|\\["\\/bfnrt])*"`, `|true|false|null`, true)
}

// plainJSONArray matches a part of flatJSONArray's text: a non-empty array
// of non-empty objects whose values are strings and numbers, with no
// whitespace and no escape. Built by jsonArrayPattern from parts that each
// match less than flatJSONArray's, it matches nothing flatJSONArray does
// not, and Postgres's engine tests it in about half the time (Order
// Completed's products, 96,832 rows: 306 ms against 605): the proof tries
// it first.
func plainJSONArray() string {
	return jsonArrayPattern(``, `"[^"\\\x01-\x1f]*"`, ``, false)
}

// jsonArrayPattern renders the grammar of a flat JSON array: ws between
// tokens, str a string, literals more scalars after strings and numbers
// ("|true|…"); whole allows empty arrays and objects and scalars as items.
func jsonArrayPattern(ws, str, literals string, whole bool) string {
	number := `(0|-?[1-9][0-9]*)(\.[0-9]+)?`
	scalar := `(` + str + `|` + number + literals + `)`
	member := str + ws + `:` + ws + scalar
	members := member + `(` + ws + `,` + ws + member + `)*`
	elem := `\{` + ws + members + ws + `\}`
	if whole {
		elem = `(\{` + ws + `(` + members + `)?` + ws + `\}|` + scalar + `)`
	}
	elems := elem + `(` + ws + `,` + ws + elem + `)*`
	if whole {
		elems = `(` + elems + `)?`
	}
	return `^` + ws + `\[` + ws + elems + ws + `\]` + ws + `$`
}

// jsonText renders ColumnProof.JSONText: text that flatJSONArray matches is
// parsed once, in a subquery Postgres does not flatten, and checked as the
// raw layout checks jsonb; any other text proves nothing, and is never
// parsed.
func jsonText(x string, p *audit.Pred) string {
	return fmt.Sprintf(`CASE WHEN octet_length(%[1]s) <= %[2]d AND (%[1]s ~ %[3]s OR %[1]s ~ %[4]s) THEN (SELECT %[5]s FROM (SELECT CAST(%[1]s AS jsonb) AS "j" OFFSET 0) AS "parsed") ELSE false END`,
		x, jsonTextMax, literal(plainJSONArray()), literal(flatJSONArray()), renderPred(p, `"j"`, 0))
}

// literal quotes s; a string holding NUL, which no Postgres text can hold,
// is NULL, which equals nothing.
func literal(s string) string {
	if strings.ContainsRune(s, 0) {
		return "NULL"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func literals(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = literal(s)
	}
	return strings.Join(q, ", ")
}

// renderRule checks a rule's object; the type and name were dispatched on.
func renderRule(r audit.PushdownRule, obj string) string {
	return fmt.Sprintf("(jsonb_typeof(%[1]s) <> 'null' AND NOT coalesce(jsonb_typeof(%[1]s -> 'schema_id') = 'string', false) AND %[2]s)",
		obj, renderPred(r.Pred, obj, 0))
}

// renderPred is true when v, a jsonb expression, satisfies p; never NULL.
// Each kind's checks sit in a CASE on the value's type, which Postgres
// evaluates lazily, so a cast meant for a number never meets a string.
func renderPred(p *audit.Pred, v string, depth int) string {
	if p.Never || depth > 32 {
		return "false"
	}
	jt := fmt.Sprintf("jsonb_typeof(%s)", v)
	var conds []string
	if len(p.Types) > 0 {
		var kinds []string
		for _, t := range p.Types {
			switch t {
			case audit.JSONInteger:
				// jsonb prints a number as it was written, less its exponent
				// (1e2 is 100, 1.0 stays 1.0): only digits are an integer.
				kinds = append(kinds, fmt.Sprintf("(%s = 'number' AND %s::text ~ '^-?[0-9]{1,18}$')", jt, v))
			default:
				kinds = append(kinds, fmt.Sprintf("%s = %s", jt, literal(string(t))))
			}
		}
		slices.Sort(kinds)
		conds = append(conds, "("+strings.Join(slices.Compact(kinds), " OR ")+")")
	}
	// A value whose types allow one kind only is known to be of it: its
	// checks need no CASE, which would read its type again.
	only := onlyKind(p.Types)
	for _, k := range []struct {
		kind  string
		conds string
	}{{"string", stringConds(p, v)}, {"number", numberConds(p, v)}, {"object", objectConds(p, v, depth)}, {"array", arrayConds(p, v, depth)}} {
		switch {
		case k.conds == "":
		case k.kind == only:
			conds = append(conds, "("+k.conds+")")
		default:
			conds = append(conds, fmt.Sprintf("(CASE WHEN %s = '%s' THEN (%s) ELSE true END)", jt, k.kind, k.conds))
		}
	}
	if len(conds) == 0 {
		return "true"
	}
	return "coalesce(" + strings.Join(conds, " AND ") + ", false)"
}

// onlyKind is jsonb_typeof's name for the one kind of value types allow,
// or "" when they allow several, or any.
func onlyKind(types []audit.JSONType) string {
	kind := ""
	for _, t := range types {
		k := string(t)
		if t == audit.JSONInteger {
			k = "number"
		}
		if kind != "" && k != kind {
			return ""
		}
		kind = k
	}
	return kind
}

func stringConds(p *audit.Pred, v string) string {
	if p.Pattern != "" || sqlwh.HasNUL(p.Enum) {
		return "false"
	}
	str := fmt.Sprintf("(%s #>> '{}')", v)
	var conds []string
	if len(p.Enum) > 0 {
		conds = append(conds, fmt.Sprintf("%s IN (%s)", str, literals(p.Enum)))
	}
	// char_length counts code points, as JSON Schema does.
	if p.MinLength > 0 {
		conds = append(conds, fmt.Sprintf("char_length(%s) >= %d", str, p.MinLength))
	}
	if p.MaxLength >= 0 {
		conds = append(conds, fmt.Sprintf("char_length(%s) <= %d", str, p.MaxLength))
	}
	return strings.Join(conds, " AND ")
}

// numberConds compares in numeric, exactly. A bound the schema wrote
// inexactly (0.1) is only known as its nearest double, so the value must
// clear the next double beyond it, which lies past the written bound.
func numberConds(p *audit.Pred, v string) string {
	num := fmt.Sprintf("(%s)::numeric", v)
	var conds []string
	for _, b := range []struct {
		b   *audit.Bound
		op  string
		dir float64
	}{{p.Min, ">", math.Inf(1)}, {p.Max, "<", math.Inf(-1)}} {
		if b.b == nil {
			continue
		}
		if math.IsInf(b.b.Value, 0) || math.IsNaN(b.b.Value) {
			return "false"
		}
		if b.b.Exact {
			op := b.op
			if !b.b.Exclusive {
				op += "="
			}
			conds = append(conds, fmt.Sprintf("%s %s %s", num, op, strconv.FormatFloat(b.b.Value, 'f', -1, 64)))
			continue
		}
		conds = append(conds, fmt.Sprintf("%s %s %s", num, b.op, exactDecimal(math.Nextafter(b.b.Value, b.dir))))
	}
	return strings.Join(conds, " AND ")
}

// exactDecimal writes a double's exact value in decimal.
func exactDecimal(f float64) string {
	s := new(big.Rat).SetFloat64(f).FloatString(1100)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func objectConds(p *audit.Pred, v string, depth int) string {
	if len(p.Required) == 0 && len(p.Properties) == 0 && !p.Closed {
		return ""
	}
	names := slices.Sorted(maps.Keys(p.Properties))
	if sqlwh.HasNUL(p.Required) || sqlwh.HasNUL(names) {
		return "false"
	}
	var conds []string
	if len(p.Required) > 0 {
		conds = append(conds, fmt.Sprintf("%s ?& ARRAY[%s]::text[]", v, literals(p.Required)))
	}
	if p.Closed {
		if len(names) == 0 {
			conds = append(conds, fmt.Sprintf("%s = '{}'::jsonb", v))
		} else {
			conds = append(conds, fmt.Sprintf("(%s - ARRAY[%s]::text[]) = '{}'::jsonb", v, literals(names)))
		}
	}
	for _, name := range names {
		child := fmt.Sprintf("(%s -> %s)", v, literal(name))
		check := renderPred(p.Properties[name], child, depth+1)
		if check == "true" {
			continue
		}
		if !slices.Contains(p.Required, name) {
			// A required key is known to be there.
			check = fmt.Sprintf("(NOT (%s ? %s) OR %s)", v, literal(name), check)
		}
		conds = append(conds, check)
	}
	return strings.Join(conds, " AND ")
}

func arrayConds(p *audit.Pred, v string, depth int) string {
	var conds []string
	n := fmt.Sprintf("jsonb_array_length(%s)", v)
	if p.MinItems > 0 {
		conds = append(conds, fmt.Sprintf("%s >= %d", n, p.MinItems))
	}
	if p.MaxItems >= 0 {
		conds = append(conds, fmt.Sprintf("%s <= %d", n, p.MaxItems))
	}
	if p.Items != nil {
		x := fmt.Sprintf("e%d.x", depth)
		conds = append(conds, fmt.Sprintf("NOT EXISTS (SELECT 1 FROM jsonb_array_elements(%s) AS e%d(x) WHERE NOT %s)",
			v, depth, renderPred(p.Items, x, depth+1)))
	}
	return strings.Join(conds, " AND ")
}
