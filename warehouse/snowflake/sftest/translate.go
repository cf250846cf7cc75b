package sftest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The translation from Snowflake SQL to DuckDB, all of it:
//
//   - types: TIMESTAMP_TZ → TIMESTAMPTZ, TIMESTAMP_NTZ → TIMESTAMP,
//     VARIANT → JSON, FLOAT → DOUBLE;
//   - functions missing from DuckDB are macros (setupSQL): PARSE_JSON,
//     TRY_PARSE_JSON, TO_VARIANT, and TO_JSON, which returns VARCHAR in
//     Snowflake and JSON in DuckDB; HASH and CURRENT_SCHEMA exist;
//   - CURRENT_WAREHOUSE() → the session's warehouse when the account has
//     it, else NULL;
//   - information_schema.columns and .tables → views that report names upper-case
//     and types by their Snowflake names, as a session with
//     QUOTED_IDENTIFIERS_IGNORE_CASE sees them (a column's name in ASCII
//     upper case only: DuckDB matches the case of no other letter);
//   - string literals: Snowflake's backslash escapes (\\, \n, \x41,
//     \u00e9, …) are decoded, and the string quoted again for DuckDB,
//     where a backslash is itself;
//   - OCTET_LENGTH → strlen; COLLATE(x, spec) → x (DuckDB has one
//     collation here, bytewise);
//   - array binds: the single VALUES tuple is repeated once per array row,
//     and Snowflake's `FROM VALUES (…)`, whose columns are column1…columnN,
//     becomes `FROM (VALUES …) AS v(column1, …)`.
//
// Rewrites apply outside quoted identifiers and string literals only.
var setupSQL = []string{
	`CREATE MACRO parse_json(x) AS json(x)`,
	`CREATE MACRO try_parse_json(x) AS CASE WHEN json_valid(x) THEN json(x) END`,
	`CREATE MACRO to_variant(x) AS to_json(x)`,
	`CREATE MACRO sf_to_json(x) AS CAST(to_json(x) AS VARCHAR)`,
	`CREATE MACRO sf_collate(x, spec) AS x`,
	`CREATE SCHEMA sf_catalog`,
	`CREATE VIEW sf_catalog.columns AS SELECT
  UPPER(table_catalog) AS table_catalog, UPPER(table_schema) AS table_schema, UPPER(table_name) AS table_name,
  translate(column_name, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') AS column_name, ordinal_position,
  CASE
    WHEN data_type = 'JSON' THEN 'VARIANT'
    WHEN data_type = 'VARCHAR' THEN 'TEXT'
    WHEN data_type = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_TZ'
    WHEN data_type = 'TIMESTAMP' THEN 'TIMESTAMP_NTZ'
    WHEN data_type IN ('BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'HUGEINT') OR data_type LIKE 'DECIMAL%' THEN 'NUMBER'
    WHEN data_type IN ('DOUBLE', 'FLOAT') THEN 'FLOAT'
    ELSE data_type
  END AS data_type
FROM information_schema.columns`,
	`CREATE VIEW sf_catalog.tables AS SELECT
  UPPER(table_catalog) AS table_catalog, UPPER(table_schema) AS table_schema, UPPER(table_name) AS table_name, table_type
FROM information_schema.tables`,
}

var rewrites = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)\bTIMESTAMP_TZ\b`), "TIMESTAMPTZ"},
	{regexp.MustCompile(`(?i)\bTIMESTAMP_NTZ\b`), "TIMESTAMP"},
	{regexp.MustCompile(`(?i)\bVARIANT\b`), "JSON"},
	{regexp.MustCompile(`(?i)\b(FLOAT|FLOAT8|DOUBLE PRECISION)\b`), "DOUBLE"}, // 64-bit in Snowflake, 32 in DuckDB
	{regexp.MustCompile(`(?i)\bTO_JSON\s*\(`), "sf_to_json("},
	{regexp.MustCompile(`(?i)\bOCTET_LENGTH\s*\(`), "strlen("},
	{regexp.MustCompile(`(?i)\bCOLLATE\s*\(`), "sf_collate("},
	{regexp.MustCompile(`(?i)\binformation_schema\.columns\b`), "sf_catalog.columns"},
	{regexp.MustCompile(`(?i)\binformation_schema\.tables\b`), "sf_catalog.tables"},
}

// Translate rewrites one Snowflake statement for DuckDB; arrayRows > 0
// means args are array binds of that length, given column by column.
func Translate(q string, args []any, arrayRows int) (string, []any, error) {
	var b strings.Builder
	segments := splitQuoted(q)
	for _, seg := range segments {
		if seg.quoted {
			if strings.HasPrefix(seg.text, "'") {
				b.WriteString(duckLiteral(seg.text))
			} else {
				b.WriteString(seg.text)
			}
			continue
		}
		t := seg.text
		for _, r := range rewrites {
			t = r.re.ReplaceAllString(t, r.with)
		}
		b.WriteString(t)
	}
	out := b.String()
	if !valuesRE.MatchString(out) {
		if arrayRows > 0 {
			return "", nil, errors.New("array binds outside an INSERT … VALUES")
		}
		return out, args, nil
	}
	return expandValues(out, args, arrayRows)
}

var valuesRE = regexp.MustCompile(`(?i)(\bFROM\s+)?\bVALUES\s*\(`)

// expandValues repeats the VALUES tuple once per array row.
func expandValues(q string, args []any, arrayRows int) (string, []any, error) {
	loc := valuesRE.FindStringSubmatchIndex(q)
	open := loc[1] - 1
	depth, end := 0, -1
	for i := open; i < len(q) && end < 0; i++ {
		switch q[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				end = i
			}
		}
	}
	if end < 0 {
		return "", nil, errors.New("unbalanced VALUES tuple")
	}
	tuple := q[open : end+1]
	width := strings.Count(tuple, "?")
	rows := max(arrayRows, 1)
	flat := args
	if arrayRows > 0 {
		if len(args) != width {
			return "", nil, fmt.Errorf("%d array binds for a tuple of %d", len(args), width)
		}
		flat = make([]any, 0, rows*width)
		for r := range rows {
			for c := range width {
				flat = append(flat, args[c].([]any)[r])
			}
		}
	}
	tuples := strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
	var values string
	if loc[2] >= 0 { // FROM VALUES
		cols := make([]string, width)
		for i := range cols {
			cols[i] = fmt.Sprintf("column%d", i+1)
		}
		values = fmt.Sprintf("%s(VALUES %s) AS v(%s)", q[loc[2]:loc[3]], tuples, strings.Join(cols, ", "))
	} else {
		values = "VALUES " + tuples
	}
	return q[:loc[0]] + values + q[end+1:], flat, nil
}

type segment struct {
	text   string
	quoted bool
}

// splitQuoted cuts q into runs outside and inside '…' and "…" (doubled
// quotes escape, and in '…' a backslash escapes what follows).
func splitQuoted(q string) []segment {
	var out []segment
	start := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c != '\'' && c != '"' {
			continue
		}
		out = append(out, segment{text: q[start:i]})
		j := i + 1
		for j < len(q) {
			if c == '\'' && q[j] == '\\' {
				j += 2 // Snowflake's escape: \' is a quote inside the string
				continue
			}
			if q[j] == c {
				if j+1 < len(q) && q[j+1] == c {
					j += 2
					continue
				}
				break
			}
			j++
		}
		end := min(j+1, len(q))
		out = append(out, segment{text: q[i:end], quoted: true})
		i, start = end-1, end
	}
	return append(out, segment{text: q[start:]})
}

// decodeBindings turns the request's bindings ("1", "2", …) into
// arguments; array binds come back as one []any per column.
func decodeBindings(b map[string]bindingJSON) ([]any, int, error) {
	names := make([]string, 0, len(b))
	for k := range b {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, _ := strconv.Atoi(names[i])
		c, _ := strconv.Atoi(names[j])
		return a < c
	})
	args := make([]any, len(names))
	rows := 0
	for i, name := range names {
		bind := b[name]
		var arr []*string
		if len(bind.Value) > 0 && bind.Value[0] == '[' && json.Unmarshal(bind.Value, &arr) == nil {
			col := make([]any, len(arr))
			for r, v := range arr {
				x, err := bindValue(bind.Type, v)
				if err != nil {
					return nil, 0, fmt.Errorf("bind %s row %d: %w", name, r, err)
				}
				col[r] = x
			}
			args[i], rows = col, len(arr)
			continue
		}
		var v *string
		if err := json.Unmarshal(bind.Value, &v); err != nil {
			return nil, 0, fmt.Errorf("bind %s: %w", name, err)
		}
		x, err := bindValue(bind.Type, v)
		if err != nil {
			return nil, 0, fmt.Errorf("bind %s: %w", name, err)
		}
		args[i] = x
	}
	return args, rows, nil
}

// bindValue decodes one value in the driver's wire form for its type.
func bindValue(typ string, v *string) (any, error) {
	if v == nil {
		return nil, nil
	}
	s := *v
	switch strings.ToUpper(typ) {
	case "TEXT":
		return s, nil
	case "FIXED":
		return strconv.ParseInt(s, 10, 64)
	case "REAL":
		return strconv.ParseFloat(s, 64)
	case "BOOLEAN":
		return strconv.ParseBool(s)
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ":
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, fmt.Errorf("timestamp %q", s)
		}
		return time.Unix(0, n.Int64()).UTC(), nil
	case "TIMESTAMP_TZ":
		nanos, offset, ok := strings.Cut(s, " ")
		n, ok2 := new(big.Int).SetString(nanos, 10)
		off, err := strconv.Atoi(offset)
		if !ok || !ok2 || err != nil {
			return nil, fmt.Errorf("timestamp_tz %q", s)
		}
		return time.Unix(0, n.Int64()).In(time.FixedZone("", (off-1440)*60)), nil
	}
	return nil, fmt.Errorf("bind type %s is not served", typ)
}

type column struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Nullable  bool   `json:"nullable"`
	Scale     int    `json:"scale"`
	Precision int    `json:"precision"`
	Length    int    `json:"length"`
}

// snowflakeType names a DuckDB result column's type as Snowflake would.
func snowflakeType(duck string) column {
	switch {
	case duck == "JSON":
		return column{Type: "variant"}
	case duck == "BOOLEAN":
		return column{Type: "boolean"}
	case duck == "DOUBLE" || duck == "FLOAT":
		return column{Type: "real"}
	case strings.Contains(duck, "INT"):
		return column{Type: "fixed", Precision: 38}
	case strings.HasPrefix(duck, "DECIMAL"):
		// NUMBER(p,s): Snowflake sends the unscaled integer and the scale.
		var p, sc int
		fmt.Sscanf(duck, "DECIMAL(%d,%d)", &p, &sc)
		return column{Type: "fixed", Precision: p, Scale: sc}
	case duck == "TIMESTAMPTZ" || duck == "TIMESTAMP WITH TIME ZONE":
		return column{Type: "timestamp_tz", Scale: 9}
	case strings.HasPrefix(duck, "TIMESTAMP"):
		return column{Type: "timestamp_ntz", Scale: 9}
	}
	return column{Type: "text", Length: 16777216}
}

// wireValue renders one value in Snowflake's JSON result form.
func wireValue(typ string, v any) *string {
	if v == nil {
		return nil
	}
	if typ == "variant" {
		// duckdb-go hands JSON over decoded. Snowflake prints a VARIANT
		// indented, with an object's keys sorted, as MarshalIndent does.
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			b = []byte(fmt.Sprint(v))
		}
		s := string(b)
		return &s
	}
	var s string
	switch x := v.(type) {
	case time.Time:
		_, off := x.Zone()
		if typ == "timestamp_ntz" {
			off = 0
		}
		s = fmt.Sprintf("%d.%09d", x.Unix(), x.Nanosecond())
		if typ == "timestamp_tz" {
			s += " " + strconv.Itoa(off/60+1440)
		}
	case bool:
		s = "0"
		if x {
			s = "1"
		}
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		s = string(x)
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

func (s *Server) answerRows(ctx context.Context, w http.ResponseWriter, ss *session, q string, args []any) {
	rows, err := ss.conn.QueryContext(ctx, q, args...)
	if err != nil {
		duckFailure(w, err)
		return
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		duckFailure(w, err)
		return
	}
	cols := make([]column, len(types))
	for i, t := range types {
		cols[i] = snowflakeType(t.DatabaseTypeName())
		cols[i].Name = t.Name()
		cols[i].Nullable = true
	}
	var raw [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			duckFailure(w, err)
			return
		}
		raw = append(raw, vals)
	}
	if err := rows.Err(); err != nil {
		duckFailure(w, err)
		return
	}
	first, rest := raw, [][][]any(nil)
	if s.ChunkRows > 0 && len(raw) > s.ChunkRows {
		first = raw[:s.ChunkRows]
		for i := s.ChunkRows; i < len(raw); i += s.ChunkRows {
			rest = append(rest, raw[i:min(i+s.ChunkRows, len(raw))])
		}
	}
	data := map[string]any{"rowtype": cols, "total": len(raw), "returned": len(raw), "queryId": newID(),
		"statementTypeId": typeSelect, "parameters": []map[string]any{}}
	var chunks []map[string]any
	if s.ResultFormat == "json" || len(raw) == 0 {
		data["queryResultFormat"] = "json"
		data["rowset"] = jsonRowset(cols, first)
		for _, c := range rest {
			// A JSON chunk is its rows without the enclosing brackets.
			b, _ := json.Marshal(jsonRowset(cols, c))
			chunks = append(chunks, s.storeChunk(b[1:len(b)-1], len(c)))
		}
	} else {
		b64, err := arrowRowset(cols, first)
		if err != nil {
			failure(w, "100000", "22000", err.Error())
			return
		}
		data["queryResultFormat"], data["rowsetBase64"] = "arrow", b64
		for _, c := range rest {
			b64, err := arrowRowset(cols, c)
			if err != nil {
				failure(w, "100000", "22000", err.Error())
				return
			}
			// An Arrow chunk is the IPC stream itself.
			b, _ := base64.StdEncoding.DecodeString(b64)
			chunks = append(chunks, s.storeChunk(b, len(c)))
		}
	}
	if chunks != nil {
		data["chunks"] = chunks
	}
	writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": data})
}

func jsonRowset(cols []column, rows [][]any) [][]*string {
	set := make([][]*string, len(rows))
	for r, vals := range rows {
		set[r] = make([]*string, len(cols))
		for i, v := range vals {
			set[r][i] = wireValue(cols[i].Type, v)
		}
	}
	return set
}

// storeChunk keeps a result chunk for the driver to download, as it would
// from cloud storage.
func (s *Server) storeChunk(body []byte, rows int) map[string]any {
	id := newID()
	s.mu.Lock()
	s.chunks[id] = body
	s.mu.Unlock()
	return map[string]any{"url": fmt.Sprintf("http://127.0.0.1:%d/chunks/%s", s.Port(), id), "rowCount": rows,
		"uncompressedSize": len(body), "compressedSize": len(body)}
}

func writeResult(w http.ResponseWriter, kind int, cols []column, set [][]*string) {
	if set == nil {
		set = [][]*string{}
	}
	writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": map[string]any{
		"rowtype": cols, "rowset": set, "total": len(set), "returned": len(set),
		"queryId": newID(), "queryResultFormat": "json", "statementTypeId": kind,
		"parameters": []map[string]any{},
	}})
}

// duckLiteral reads a Snowflake string literal, quotes included, as
// Snowflake does (a doubled quote is one, a backslash starts an escape)
// and writes it for DuckDB, whose literals have no escapes.
func duckLiteral(lit string) string {
	body := strings.TrimSuffix(strings.TrimPrefix(lit, "'"), "'")
	var out strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\'' && i+1 < len(body) && body[i+1] == '\'':
			out.WriteByte('\'')
			i++
		case c != '\\' || i+1 == len(body):
			out.WriteByte(c)
		default:
			i++
			switch e := body[i]; e {
			case 'n':
				out.WriteByte('\n')
			case 't':
				out.WriteByte('\t')
			case 'r':
				out.WriteByte('\r')
			case 'b':
				out.WriteByte('\b')
			case 'f':
				out.WriteByte('\f')
			case '0':
				out.WriteByte(0)
			case 'x', 'u':
				n := 2 // hex digits
				if e == 'u' {
					n = 4
				}
				if v, err := strconv.ParseUint(body[i+1:min(i+1+n, len(body))], 16, 32); err == nil && i+n < len(body) {
					if e == 'x' {
						out.WriteByte(byte(v))
					} else {
						out.WriteRune(rune(v))
					}
					i += n
					break
				}
				out.WriteByte(e)
			default:
				out.WriteByte(e) // \\, \', and any other character as itself
			}
		}
	}
	return "'" + strings.ReplaceAll(out.String(), "'", "''") + "'"
}
