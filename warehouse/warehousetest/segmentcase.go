package warehousetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/schemas"
	"github.com/eventaudit/eventaudit/warehouse/segment"
	"github.com/eventaudit/eventaudit/warehouse/sqlwh"
)

// cartSchema exercises what rebuilding from columns must get right: a
// nested object (product_sku), an array held as JSON text, an integer that
// may sit in a float column, a number whose column was typed from a string,
// a nullable required property, and a closed object.
const cartSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#", "$id": "shop/Cart Updated/1-0.json",
  "self": {"name": "Cart Updated", "version": "1-0"},
  "type": "object", "additionalProperties": false,
  "required": ["cartId", "quantity", "coupon"],
  "properties": {
    "cartId": {"type": "string"},
    "quantity": {"type": "integer", "minimum": 1},
    "price": {"type": "number"},
    "coupon": {"type": ["string", "null"]},
    "product": {"type": "object", "properties": {"sku": {"type": "string", "pattern": "^SKU-"}}},
    "items": {"type": "array", "minItems": 1},
    "note": {"type": "string", "maxLength": 1000}
  }
}`

func cart(id string, at time.Time, props map[string]any) audit.Row {
	b, _ := json.Marshal(map[string]any{"type": "track", "event": "Cart Updated", "messageId": id, "properties": props})
	return audit.Row{MessageID: id, ReceivedAt: at, Payload: b}
}

// testSegmentLayout audits Segment's layout built from known messages and
// checks each message's verdict and the table-level findings.
func testSegmentLayout(t *testing.T, f *fixture) {
	at := t0.Add(time.Minute)
	base := func(extra map[string]any) map[string]any {
		p := map[string]any{"cartId": "c1", "quantity": 1.5, "price": "12.50", "coupon": nil,
			"product": map[string]any{"sku": "SKU-1"}, "items": []any{"a"}}
		for k, v := range extra {
			if v == nil {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		return p
	}
	rows := []audit.Row{
		// The first values type the columns: quantity float, price text.
		cart("first", at, base(map[string]any{"coupon": "WELCOME"})),
		cart("good", at, base(map[string]any{"quantity": 2, "price": 12.5})),
		cart("null-coupon", at, base(map[string]any{"quantity": 3})),
		cart("bad-sku", at, base(map[string]any{"quantity": 2, "product": map[string]any{"sku": "XYZ-9"}})),
		cart("no-items", at, base(map[string]any{"quantity": 2, "items": []any{}})),
		cart("bad-price", at, base(map[string]any{"quantity": 2, "price": "twelve"})),
		cart("extra", at, base(map[string]any{"quantity": 2, "giftWrap": true})),
		cart("no-cart-id", at, base(map[string]any{"quantity": 2, "cartId": nil})),
		track("other", at, "Wishlist Shared", map[string]any{"list": "x"}),
	}
	layout := BuildSegmentLayout(rows)
	schema := "seg_" + f.id
	if err := layout.Load(f.ctx, f.wh, schema); err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Load(f.ctx, fstest.MapFS{"shop/Cart Updated/1-0.json": {Data: []byte(cartSchema)}}, schemas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &audit.Matcher{Catalog: reg, Target: audit.ValidateObject}
	src := &segment.Source{WH: f.wh, Schema: schema, Events: reg.EventNames(), Matcher: m, BatchSize: 3}
	s, err := (&audit.Auditor{Source: src, Sink: f.sink(), Matcher: m, Workers: 2}).Run(f.ctx,
		audit.Run{RunID: "seg-1", Source: "segment:" + schema, Window: audit.Window{Start: t0, End: t0.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "scanned, unplanned", []int64{s.Run.RowsScanned, s.Run.RowsUnplanned}, []int64{9, 1})
	got := f.query(`SELECT COALESCE({message_id}, ''), {keyword}, {instance_path} FROM ` + f.table(sqlwh.ViolationsTable))
	lines := make([]string, len(got))
	for i, r := range got {
		lines[i] = strings.Join(r, " ")
	}
	slices.Sort(lines)
	want := []string{
		// Once per run, not once per row.
		" column_type /properties/price",
		" unknown_column /properties",
		" unplanned_table ",
		"bad-price type /properties/price",
		"bad-sku pattern /properties/product/sku",
		"extra additionalProperties /properties",
		"first type /properties/quantity", // 1.5 is not an integer
		"no-cart-id required /properties",
		"no-items minItems /properties/items",
	}
	if d := strings.Join(lines, "\n"); d != strings.Join(want, "\n") {
		t.Errorf("violations:\n got %s\nwant %s", d, strings.Join(want, "\n"))
	}
	sc, _ := reg.ByName("Cart Updated")
	notes := segment.NotCheckable(sc.ID(), sc.(audit.Shaper).Shape())
	equal(t, "not checkable", notes, []string{
		"shop/Cart Updated/1-0.json /coupon: null and absent look the same (a NULL column)",
		"shop/Cart Updated/1-0.json /note: maxLength 1000 (Segment keeps 512 characters)",
	})
}
