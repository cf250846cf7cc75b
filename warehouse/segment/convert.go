package segment

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

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
			if j, ok := decodeText(x); ok {
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

// decodeText reads JSON held as text, numbers as json.Number. Text with
// anything after its value ("[1] x") is not JSON, and stays text.
func decodeText(s string) (any, bool) {
	v, err := audit.DecodeJSON([]byte(s))
	return v, err == nil
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
			if j, ok := decodeText(x); ok {
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
