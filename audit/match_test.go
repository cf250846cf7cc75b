package audit_test

import (
	"strings"
	"testing"

	"github.com/eventaudit/eventaudit/audit"
	"github.com/eventaudit/eventaudit/audit/audittest"
)

func testCatalog() *audittest.Catalog {
	c := audittest.NewCatalog()
	for _, n := range []struct{ name, id string }{
		{"Order Completed", "shop/Order Completed/1-1.json"},
		{"Home", "shop/Home/1-0.json"},
		{"Page", "shop/Page/1-0.json"},
		{"Screen", "shop/Screen/1-0.json"},
		{"Identify", "shop/Identify/1-0.json"},
		{"Group", "shop/Group/1-0.json"},
		{"Legacy", "shop/Legacy/1-0.json"},
	} {
		c.Add(n.name, &audittest.Schema{SchemaID: n.id})
	}
	c.IDs["iglu:com.acme/checkout/jsonschema/1-0-2"] = &audittest.Schema{SchemaID: "com.acme/checkout/jsonschema/1-0-2"}
	// Reachable by id only, like an older version.
	c.IDs["shop/Order Completed/1-0.json"] = &audittest.Schema{SchemaID: "shop/Order Completed/1-0.json"}
	return c
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, msg                      string
		target                         audit.ValidateTarget
		wantSchema, wantPath, wantProb string
		wantUnplanned                  bool
	}{
		{name: "track by event name", msg: `{"type":"track","event":"Order Completed","properties":{"a":1}}`,
			wantSchema: "shop/Order Completed/1-1.json", wantPath: "/properties"},
		{name: "schema_id wins over the name", msg: `{"type":"track","event":"Order Completed","properties":{"schema_id":"shop/Order Completed/1-0.json"}}`,
			wantSchema: "shop/Order Completed/1-0.json", wantPath: "/properties"},
		{name: "unknown schema_id is a violation", msg: `{"type":"track","event":"Order Completed","properties":{"schema_id":"shop/Nope/1-0.json"}}`,
			wantSchema: "shop/Nope/1-0.json", wantProb: "schema_id"},
		{name: "config mapping before the name", msg: `{"type":"track","event":"Old Name","properties":{}}`,
			wantSchema: "shop/Legacy/1-0.json", wantPath: "/properties"},
		{name: "page by its name", msg: `{"type":"page","name":"Home","properties":{}}`,
			wantSchema: "shop/Home/1-0.json", wantPath: "/properties"},
		{name: "page falls back to Page", msg: `{"type":"page","name":"Pricing"}`,
			wantSchema: "shop/Page/1-0.json", wantPath: "/properties"},
		{name: "unnamed screen falls back to Screen", msg: `{"type":"screen"}`,
			wantSchema: "shop/Screen/1-0.json", wantPath: "/properties"},
		{name: "identify validates traits", msg: `{"type":"identify","traits":{"email":"a@b"}}`,
			wantSchema: "shop/Identify/1-0.json", wantPath: "/traits"},
		{name: "group validates traits", msg: `{"type":"group","groupId":"g","traits":{}}`,
			wantSchema: "shop/Group/1-0.json", wantPath: "/traits"},
		{name: "whole message when configured", msg: `{"type":"track","event":"Order Completed"}`, target: audit.ValidateMessage,
			wantSchema: "shop/Order Completed/1-1.json", wantPath: ""},
		{name: "unknown event is unplanned", msg: `{"type":"track","event":"Coupon Applied"}`, wantUnplanned: true},
		{name: "alias is unplanned", msg: `{"type":"alias","previousId":"x"}`, wantUnplanned: true},
		{name: "no type", msg: `{"event":"Order Completed"}`, wantProb: "payload"},
		{name: "track without event", msg: `{"type":"track"}`, wantProb: "payload"},
		{name: "self-describing by its Iglu URI", msg: `{"schema":"iglu:com.acme/checkout/jsonschema/1-0-2","data":{"v":1}}`,
			wantSchema: "com.acme/checkout/jsonschema/1-0-2", wantPath: "/data"},
		{name: "unstruct_event wrapper looked through",
			msg:        `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/checkout/jsonschema/1-0-2","data":{}}}`,
			wantSchema: "com.acme/checkout/jsonschema/1-0-2", wantPath: "/data/data"},
		{name: "unknown Iglu URI is a violation", msg: `{"schema":"iglu:com.acme/checkout/jsonschema/9-0-0","data":{}}`,
			wantSchema: "iglu:com.acme/checkout/jsonschema/9-0-0", wantProb: "schema_id"},
		{name: "a Segment message with schema and data members is not self-describing",
			msg: `{"type":"track","event":"Coupon Applied","schema":"iglu:com.acme/checkout/jsonschema/1-0-2","data":{}}`, wantUnplanned: true},
		{name: "a schema that is not an Iglu URI is not self-describing", msg: `{"schema":"https://x/y.json","data":{}}`, wantProb: "payload"},
	}
	m := &audit.Matcher{Catalog: testCatalog(), EventSchemas: map[string]string{"Old Name": "shop/Legacy/1-0.json"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := audit.DecodePayload([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			m.Target = tt.target
			if m.Target == "" {
				m.Target = audit.ValidateObject
			}
			got := m.Match(msg)
			if got.SchemaID != tt.wantSchema {
				t.Errorf("schema %q, want %q", got.SchemaID, tt.wantSchema)
			}
			if got.Unplanned != tt.wantUnplanned {
				t.Errorf("unplanned %v, want %v", got.Unplanned, tt.wantUnplanned)
			}
			prob := ""
			if got.Problem != nil {
				prob = got.Problem.Keyword
			}
			if prob != tt.wantProb {
				t.Errorf("problem %q, want %q", prob, tt.wantProb)
			}
			if tt.wantProb == "" && !tt.wantUnplanned && got.ObjectPath != tt.wantPath {
				t.Errorf("object path %q, want %q", got.ObjectPath, tt.wantPath)
			}
		})
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		in   []byte
		want string // error prefix, "" for ok
	}{
		{nil, "payload is NULL"},
		{[]byte(``), "payload is not valid JSON"},
		{[]byte(`{"a":`), "payload is not valid JSON"},
		{[]byte(`{} {}`), "payload has trailing data"},
		{[]byte(`null`), "payload is null, not a JSON object"},
		{[]byte(`42`), "payload is a number, not a JSON object"},
		{[]byte(`{"n": 12345678901234567890}`), ""},
	}
	for _, tt := range tests {
		_, err := audit.DecodePayload(tt.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if tt.want == "" && err != nil || tt.want != "" && !strings.HasPrefix(got, tt.want) {
			t.Errorf("DecodePayload(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
