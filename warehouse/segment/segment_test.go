package segment

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// Rebuilding an object from flattened columns, one rule per case.
func TestRebuildObject(t *testing.T) {
	str := func(types ...string) *audit.Shape { return &audit.Shape{Types: types, MaxLength: -1} }
	obj := func(props map[string]*audit.Shape) *audit.Shape {
		return &audit.Shape{Types: []string{"object"}, Properties: props, MaxLength: -1}
	}
	at := time.Date(2026, 11, 20, 1, 2, 3, 400000000, time.UTC)
	tests := []struct {
		name  string
		shape *audit.Shape
		cols  map[string]string // column → SQL type
		vals  map[string]any
		want  string
	}{
		{"camelCase property, snake_case column", obj(map[string]*audit.Shape{"orderId": str("string")}),
			map[string]string{"order_id": "varchar"}, map[string]any{"order_id": "o-1"}, `{"orderId":"o-1"}`},
		{"nested object joined with _", obj(map[string]*audit.Shape{"product": obj(map[string]*audit.Shape{"skuCode": str("string")})}),
			map[string]string{"product_sku_code": "text"}, map[string]any{"product_sku_code": "S-1"}, `{"product":{"skuCode":"S-1"}}`},
		{"all-NULL nested object is absent", obj(map[string]*audit.Shape{"product": obj(map[string]*audit.Shape{"sku": str("string")})}),
			map[string]string{"product_sku": "text"}, map[string]any{"product_sku": nil}, `{}`},
		{"array from JSON text", obj(map[string]*audit.Shape{"items": str("array")}),
			map[string]string{"items": "character varying"}, map[string]any{"items": `[{"price":1.5}]`}, `{"items":[{"price":1.5}]}`},
		{"JSON text with anything after its value stays text", obj(map[string]*audit.Shape{"items": str("array")}),
			map[string]string{"items": "character varying"}, map[string]any{"items": `[{"price":1.5}] x`}, `{"items":"[{\"price\":1.5}] x"}`},
		{"JSON-typed column with anything after its value stays text", obj(map[string]*audit.Shape{"items": str("array")}),
			map[string]string{"items": "json"}, map[string]any{"items": `[1]]`}, `{"items":"[1]]"}`},
		{"JSON-typed column keeps its numbers as written", obj(map[string]*audit.Shape{"items": str("array")}),
			map[string]string{"items": "json"}, map[string]any{"items": ` [1.50, 1e2] `}, `{"items":[1.50,1e2]}`},
		{"integral float is an integer", obj(map[string]*audit.Shape{"qty": str("integer")}),
			map[string]string{"qty": "double precision"}, map[string]any{"qty": 2.0}, `{"qty":2}`},
		{"fractional float stays a float", obj(map[string]*audit.Shape{"qty": str("integer")}),
			map[string]string{"qty": "double"}, map[string]any{"qty": 2.5}, `{"qty":2.5}`},
		{"number held as text", obj(map[string]*audit.Shape{"price": str("number")}),
			map[string]string{"price": "varchar"}, map[string]any{"price": "12.50"}, `{"price":12.50}`},
		{"text that is no number stays text", obj(map[string]*audit.Shape{"price": str("number")}),
			map[string]string{"price": "varchar"}, map[string]any{"price": "twelve"}, `{"price":"twelve"}`},
		{"Snowflake's numbers arrive as text", obj(map[string]*audit.Shape{"qty": str("integer")}),
			map[string]string{"qty": "NUMBER"}, map[string]any{"qty": "3"}, `{"qty":3}`},
		{"number column for a string property", obj(map[string]*audit.Shape{"zip": str("string")}),
			map[string]string{"zip": "bigint"}, map[string]any{"zip": int64(12345)}, `{"zip":"12345"}`},
		{"timestamp column for a string", obj(map[string]*audit.Shape{"createdAt": str("string")}),
			map[string]string{"created_at": "timestamp with time zone"}, map[string]any{"created_at": at}, `{"createdAt":"2026-11-20T01:02:03.4Z"}`},
		{"NULL is null where null is allowed", obj(map[string]*audit.Shape{"coupon": str("string", "null")}),
			map[string]string{"coupon": "varchar"}, map[string]any{"coupon": nil}, `{"coupon":null}`},
		{"NULL is absent where null is not allowed", obj(map[string]*audit.Shape{"coupon": str("string")}),
			map[string]string{"coupon": "varchar"}, map[string]any{"coupon": nil}, `{}`},
		{"no column yet: absent, or null if allowed", obj(map[string]*audit.Shape{"a": str("string"), "b": str("null", "string")}),
			map[string]string{}, map[string]any{}, `{"b":null}`},
		{"boolean held as text", obj(map[string]*audit.Shape{"gift": str("boolean")}),
			map[string]string{"gift": "text"}, map[string]any{"gift": "true"}, `{"gift":true}`},
		{"a map's flattened keys fold back into it", obj(map[string]*audit.Shape{"filters": str("object"), "filtersCount": str("integer")}),
			map[string]string{"filters_color": "varchar", "filters_size": "varchar", "filters_count": "bigint", "filters_x": "text"},
			map[string]any{"filters_color": "red", "filters_size": "M", "filters_count": int64(2), "filters_x": nil},
			`{"filters":{"color":"red","size":"M"},"filtersCount":2}`},
		{"the longest map prefix claims a column", obj(map[string]*audit.Shape{"a": str("object"), "aB": str("object", "null")}),
			map[string]string{"a_b_c": "varchar", "a_d": "varchar"}, map[string]any{"a_b_c": "1", "a_d": "2"},
			`{"a":{"d":"2"},"aB":{"c":"1"}}`},
		{"a map with no columns is absent, or null if allowed", obj(map[string]*audit.Shape{"m": str("object"), "n": str("object", "null")}),
			map[string]string{}, map[string]any{}, `{"n":null}`},
		{"a nested map folds under its parent's prefix", obj(map[string]*audit.Shape{"ctx": obj(map[string]*audit.Shape{"tags": str("object")})}),
			map[string]string{"ctx_tags_ab": "bigint"}, map[string]any{"ctx_tags_ab": int64(1)}, `{"ctx":{"tags":{"ab":1}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kinds []int
			idx := map[string]int{}
			var vals []any
			for name, typ := range tt.cols {
				idx[name] = len(kinds)
				kinds = append(kinds, kindOf(typ))
				vals = append(vals, tt.vals[name])
			}
			leaves := segmentLeaves(tt.shape)
			got := object(leaves, idx, vals, kinds, make([]bool, len(vals)))
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
			// The writer writes the same, or declines where a map folds.
			w := newObjectWriter(leaves)
			written, ok := w.append(nil, idx, vals, kinds, make([]bool, len(vals)))
			if ok != !w.folds {
				t.Errorf("the writer wrote: %v; a leaf is a map: %v", ok, w.folds)
			}
			if ok && string(written) != tt.want {
				t.Errorf("the writer wrote %s, want %s", written, tt.want)
			}
		})
	}
}

// A rebuilt message is written byte for byte as json.Marshal writes the map
// of its members: keys in order, HTML-escaped strings, numbers as written.
func TestMessageIsWrittenAsJSONMarshalWritesIt(t *testing.T) {
	at := time.Date(2026, 11, 20, 1, 2, 3, 0, time.UTC)
	str := func(s string) *string { return &s }
	obj := map[string]any{"b": json.Number("1.50"), "a": []any{"<x>", true, nil}, "n": map[string]any{"é\u2028": "\"q\""}}
	for _, m := range []message{
		{typ: "track", event: str("Order Completed"), id: str("m-1"), member: "properties", object: obj},
		{typ: "page", name: str("Home & <Garden>"), id: str("m-2"), member: "properties", object: map[string]any{}},
		{typ: "page", id: str("m-3"), member: "properties", object: obj},
		{typ: "identify", id: str("m-4"), member: "traits", object: obj},
		{typ: "track", event: str(""), member: "properties", object: obj}, // no id
		{typ: "track", event: str("Signed Up")},                           // the tracks table: no object
	} {
		r := m.row(at)
		want, err := json.Marshal(m.asMap())
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Payload) != string(want) {
			t.Errorf("wrote %s\nwant  %s", r.Payload, want)
		}
		if r.MessageID != deref(m.id) || !r.ReceivedAt.Equal(at) {
			t.Errorf("row %q at %v, want %q at %v", r.MessageID, r.ReceivedAt, deref(m.id), at)
		}
	}
}
