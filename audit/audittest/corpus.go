// Package audittest generates Segment corpora for the demo, the tests and the
// benchmarks, and records what it broke in each message: the ground truth an
// audit must reproduce, derived from the generator's intent rather than from
// any validator's output.
package audittest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/eventaudit/eventaudit/audit"
)

// CorpusStart is where generated windows begin.
var CorpusStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// CorpusSpan is how much time a generated corpus covers.
const CorpusSpan = 24 * time.Hour

// Options shape a corpus.
type Options struct {
	N       int     // messages
	BadRate float64 // fraction of messages with an injected bug
	Seed    uint64
}

// Check is one expected violation: keyword at a JSON pointer of the message.
type Check struct {
	Keyword string `json:"keyword"`
	Path    string `json:"path"`
}

// Truth is what the generator injected.
type Truth struct {
	// Invalid maps each broken message id to the checks it must fail.
	Invalid map[string][]Check `json:"invalid"`
	// Unplanned lists messages of events the demo plan does not describe.
	Unplanned []string `json:"unplanned"`
	// Bugs counts messages per injected bug kind.
	Bugs map[string]int `json:"bugs"`
}

// Corpus is a generated data set with its ground truth.
type Corpus struct {
	Rows  []audit.Row
	Truth Truth
}

type gen struct {
	rng *rand.Rand
}

// Generate builds a deterministic corpus for the demo plan (testdata/demo/schemas).
func Generate(o Options) *Corpus {
	g := NewGenerator(o)
	c := &Corpus{}
	for {
		row, ok := g.Next()
		if !ok {
			break
		}
		c.Rows = append(c.Rows, row)
	}
	c.Truth = g.Truth
	return c
}

// Generator yields a corpus one row at a time, so that millions of rows can
// be loaded without holding them.
type Generator struct {
	g     *gen
	o     Options
	i     int
	step  time.Duration
	Truth Truth
}

// NewGenerator starts the corpus o describes.
func NewGenerator(o Options) *Generator {
	return &Generator{
		g:     &gen{rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))},
		o:     o,
		step:  CorpusSpan / time.Duration(max(o.N, 1)),
		Truth: Truth{Invalid: map[string][]Check{}, Bugs: map[string]int{}},
	}
}

// EachChunk hands the rest of the corpus to load in chunks of up to size
// rows, in one slice it reuses, so that millions of rows load in flat
// memory.
func (gen *Generator) EachChunk(size int, load func([]audit.Row) error) error {
	rows := make([]audit.Row, 0, size)
	for {
		row, ok := gen.Next()
		if ok {
			rows = append(rows, row)
		}
		if len(rows) == size || (!ok && len(rows) > 0) {
			if err := load(rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
		if !ok {
			return nil
		}
	}
}

// Next returns the next row, or false after the last.
func (gen *Generator) Next() (audit.Row, bool) {
	if gen.i >= gen.o.N {
		return audit.Row{}, false
	}
	g, i, step := gen.g, gen.i, gen.step
	gen.i++
	id := g.uuid()
	// Warehouses keep microseconds.
	at := CorpusStart.Add(time.Duration(i)*step + time.Duration(g.rng.Int64N(int64(step)))).Truncate(time.Microsecond)
	msg := g.message(id, at)
	row := audit.Row{MessageID: id, ReceivedAt: at}
	var bug string
	var checks []Check
	if g.rng.Float64() < gen.o.BadRate {
		bug, checks = g.inject(msg)
	} else if g.rng.Float64() < 0.02 {
		msg["type"], msg["event"] = "track", g.pick("Wishlist Shared", "Coupon Applied", "Chat Opened")
		msg["properties"] = map[string]any{"item_count": g.rng.IntN(5)}
		gen.Truth.Unplanned = append(gen.Truth.Unplanned, id)
	}
	switch bug {
	case "payload_null":
		row.Payload = nil
	case "payload_malformed":
		b, _ := json.Marshal(msg)
		row.Payload = b[:len(b)/2]
	case "payload_not_object":
		row.Payload = []byte(`["` + id + `"]`)
	default:
		row.Payload, _ = json.Marshal(msg)
	}
	if bug != "" {
		gen.Truth.Bugs[bug]++
		gen.Truth.Invalid[id] = checks
	}
	return row, true
}

func (g *gen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) uuid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>52&0xfff, b&0xffffffffffff)
}

func (g *gen) price() float64 { return float64(100+g.rng.IntN(20000)) / 100 }

var currencies = []string{"USD", "EUR", "GBP"}

// message builds a valid message of a random kind.
func (g *gen) message(id string, at time.Time) map[string]any {
	sent := at.Add(-time.Duration(50+g.rng.IntN(900)) * time.Millisecond)
	userID := fmt.Sprintf("user_%05d", g.rng.IntN(20000))
	msg := map[string]any{
		"messageId":   id,
		"anonymousId": g.uuid(),
		"userId":      userID,
		"timestamp":   sent.Format(time.RFC3339Nano),
		"sentAt":      sent.Format(time.RFC3339Nano),
		"receivedAt":  at.Format(time.RFC3339Nano),
		"context": map[string]any{
			"library":   map[string]any{"name": "analytics.js", "version": "next-1.76.0"},
			"ip":        fmt.Sprintf("203.0.113.%d", g.rng.IntN(255)),
			"locale":    g.pick("en-US", "en-GB", "de-DE", "fr-FR"),
			"userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
			"page":      map[string]any{"path": "/products", "url": "https://shop.example.com/products", "title": "Shop"},
		},
		"integrations": map[string]any{},
		"version":      2,
	}
	cur := currencies[g.rng.IntN(3)]
	switch r := g.rng.IntN(100); {
	case r < 25:
		msg["type"], msg["event"] = "track", "Product Viewed"
		msg["properties"] = map[string]any{"product_id": fmt.Sprintf("p-%04d", g.rng.IntN(5000)),
			"sku": fmt.Sprintf("SKU-%06d", g.rng.IntN(999999)), "name": g.pick("Trail Runner", "Rain Jacket", "Wool Socks"),
			"category": g.pick("shoes", "outerwear", "accessories"), "price": g.price(), "currency": cur}
	case r < 40:
		msg["type"], msg["event"] = "track", "Product Added"
		msg["properties"] = map[string]any{"cart_id": fmt.Sprintf("cart-%06d", g.rng.IntN(999999)),
			"product_id": fmt.Sprintf("p-%04d", g.rng.IntN(5000)), "quantity": 1 + g.rng.IntN(3), "price": g.price()}
	case r < 50:
		msg["type"], msg["event"] = "track", "Checkout Started"
		products := g.products()
		msg["properties"] = map[string]any{"order_id": fmt.Sprintf("o-%07d", g.rng.IntN(9999999)),
			"value": total(products), "currency": cur, "products": products}
	case r < 60:
		msg["type"], msg["event"] = "track", "Order Completed"
		products := g.products()
		props := map[string]any{"order_id": fmt.Sprintf("o-%07d", g.rng.IntN(9999999)),
			"total": total(products), "currency": cur, "products": products}
		if g.rng.IntN(4) == 0 {
			props["coupon"] = g.pick("WELCOME10", "BLACKFRIDAY")
		}
		msg["properties"] = props
	case r < 65:
		msg["type"], msg["event"] = "track", "Signed Up"
		props := map[string]any{"method": g.pick("email", "google", "apple"), "referral_code": nil}
		if g.rng.IntN(3) == 0 {
			props["referral_code"] = fmt.Sprintf("REF%04d", g.rng.IntN(9999))
		}
		msg["properties"] = props
	case r < 90:
		name := g.pick("Home", "Product", "Cart", "Search")
		msg["type"], msg["name"] = "page", name
		msg["properties"] = map[string]any{"path": "/" + name, "url": "https://shop.example.com/" + name,
			"title": name + " | Shop", "referrer": "https://www.google.com/", "search": ""}
	default:
		msg["type"] = "identify"
		msg["traits"] = map[string]any{"email": userID + "@example.com", "plan": g.pick("free", "pro", "enterprise"),
			"created_at": sent.Add(-240 * time.Hour).Format(time.RFC3339), "first_name": g.pick("Ada", "Grace", "Alan")}
	}
	return msg
}

func (g *gen) products() []any {
	n := 1 + g.rng.IntN(3)
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"product_id": fmt.Sprintf("p-%04d", g.rng.IntN(5000)), "price": g.price(),
			"quantity": 1 + g.rng.IntN(2)}
	}
	return out
}

func total(products []any) float64 {
	t := 0.0
	for _, p := range products {
		m := p.(map[string]any)
		t += m["price"].(float64) * float64(m["quantity"].(int))
	}
	return float64(int(t*100+0.5)) / 100
}

// inject breaks msg in a way its event can be broken and returns the bug
// kind and the checks the audit must report.
func (g *gen) inject(msg map[string]any) (string, []Check) {
	props, _ := msg["properties"].(map[string]any)
	switch g.rng.IntN(12) {
	case 0:
		return "payload_null", []Check{{"payload", ""}}
	case 1:
		return "payload_malformed", []Check{{"payload", ""}}
	case 2:
		return "payload_not_object", []Check{{"payload", ""}}
	case 3:
		if msg["type"] == "track" {
			props["schema_id"] = "segment/shop/" + msg["event"].(string) + "/9-9.json"
			return "unknown_schema_id", []Check{{"schema_id", "/properties/schema_id"}}
		}
	}
	switch msg["event"] {
	case "Product Viewed":
		if g.rng.IntN(2) == 0 {
			props["price"] = fmt.Sprintf("%.2f", props["price"])
			return "price_as_string", []Check{{"type", "/properties/price"}}
		}
		props["currency"] = lower(props["currency"].(string))
		return "currency_lower_case", []Check{{"enum", "/properties/currency"}}
	case "Product Added":
		if g.rng.IntN(2) == 0 {
			props["variant"] = g.pick("red", "blue")
			return "extra_property", []Check{{"additionalProperties", "/properties"}}
		}
		props["quantity"] = 0
		return "quantity_zero", []Check{{"minimum", "/properties/quantity"}}
	case "Checkout Started":
		items := props["products"].([]any)
		delete(items[0].(map[string]any), "quantity")
		return "item_missing_quantity", []Check{{"required", "/properties/products/0"}}
	case "Order Completed":
		if g.rng.IntN(2) == 0 {
			delete(props, "order_id")
			return "missing_order_id", []Check{{"required", "/properties"}}
		}
		items := props["products"].([]any)
		k := len(items) - 1
		item := items[k].(map[string]any)
		item["price"] = fmt.Sprintf("%.2f", item["price"])
		return "item_price_as_string", []Check{{"type", fmt.Sprintf("/properties/products/%d/price", k)}}
	case "Signed Up":
		props["method"] = "Email"
		return "method_wrong_case", []Check{{"enum", "/properties/method"}}
	}
	if msg["type"] == "identify" {
		traits := msg["traits"].(map[string]any)
		traits["plan"] = "Pro"
		return "plan_wrong_case", []Check{{"enum", "/traits/plan"}}
	}
	// page: the Page schema requires path.
	delete(props, "path")
	return "page_missing_path", []Check{{"required", "/properties"}}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
