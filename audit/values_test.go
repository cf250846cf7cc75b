package audit

import (
	"strings"
	"testing"
)

// What a violation keeps of the offending value under each --values mode,
// and what its message keeps: no mode but keep lets a string through.
func TestValuePolicy(t *testing.T) {
	doc, err := DecodePayload([]byte(`{"email":"ann@example.com","n":-5,"tags":["vip","x"],
		"addr":{"city":"Zürich","zip":8000,"ok":true,"none":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		mode                    ValueMode
		email, n, tags, addr    string
		formatMsg, minMsg, mult string
	}{
		{ValuesKeep, `"ann@example.com"`, `-5`, `["vip","x"]`, `{"city":"Zürich","none":null,"ok":true,"zip":8000}`,
			`'ann@example.com' is not valid 'email'`, `must be >= 0 but found -5`, `-5 not multipleOf 2`},
		{ValuesRedact, `"***"`, `-5`, `["***","***"]`, `{"city":"***","none":null,"ok":true,"zip":8000}`,
			`the value is not valid 'email'`, `must be >= 0 but found -5`, `-5 not multipleOf 2`},
		{ValuesTypes, `string(15)`, `number`, `array(2)`, `object(4)`,
			`the value is not valid 'email'`, `must be >= 0`, `the value not multipleOf 2`},
	} {
		p := ValuePolicy{Mode: tc.mode, Key: key}
		for ptr, want := range map[string]string{"/email": tc.email, "/n": tc.n, "/tags": tc.tags, "/addr": tc.addr, "/missing": ""} {
			if got := p.at(doc, ptr); got != want {
				t.Errorf("%s: value at %s = %s, want %s", tc.mode, ptr, got, want)
			}
		}
		for _, m := range []struct{ keyword, msg, want string }{
			{"format", `'ann@example.com' is not valid 'email'`, tc.formatMsg},
			{"minimum", `must be >= 0 but found -5`, tc.minMsg},
			{"multipleOf", `-5 not multipleOf 2`, tc.mult},
			{"required", `missing properties: 'email'`, `missing properties: 'email'`},
		} {
			if got := p.message(m.keyword, m.msg); got != m.want {
				t.Errorf("%s: %s message %q, want %q", tc.mode, m.keyword, got, m.want)
			}
		}
	}

	h := ValuePolicy{Mode: ValuesHash, Key: key}
	same, _ := DecodePayload([]byte(`{"a":{"zip":8000,"city":"Zürich","ok":true,"none":null}}`))
	if got, want := h.at(same, "/a"), h.at(doc, "/addr"); got != want || !strings.HasPrefix(got, "hmac-sha256:") || len(got) != len("hmac-sha256:")+16 {
		t.Errorf("hash of equal values: %q and %q, want one hmac-sha256 prefix of 16 hex digits", got, want)
	}
	if h.at(doc, "/email") == h.at(doc, "/tags") {
		t.Error("different values hash alike")
	}
	other := ValuePolicy{Mode: ValuesHash, Key: []byte("another key of 32 bytes, exactly")}
	if other.at(doc, "/email") == h.at(doc, "/email") {
		t.Error("the hash does not depend on the key: it could be reversed by hashing guesses")
	}
	if got := h.message("format", `'ann@example.com' is not valid 'email'`); strings.Contains(got, "ann") {
		t.Errorf("hash mode message %q keeps the value", got)
	}
}

// A payload that is not a JSON object may not be JSON at all: each mode
// still keeps no string of it.
func TestValuePolicyRawPayload(t *testing.T) {
	payload := []byte(`["ann@example.com", {"name": "Ann \"A\" Lee"}, 42, "unterminated`)
	for _, tc := range []struct {
		mode ValueMode
		want string
	}{
		{ValuesKeep, string(payload)},
		{ValuesRedact, `["***", {"***": "***"}, 42, "***`},
		{ValuesTypes, "text(64 bytes)"},
	} {
		if got := (ValuePolicy{Mode: tc.mode}).raw(payload); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.mode, got, tc.want)
		}
	}
	if got := (ValuePolicy{Mode: ValuesTypes}).raw([]byte(`[1,2]`)); got != "array(2)" {
		t.Errorf("types of a JSON array payload: %q, want array(2)", got)
	}
	if got := (ValuePolicy{Mode: ValuesRedact}).raw(nil); got != "" {
		t.Errorf("a NULL payload keeps %q, want nothing", got)
	}
}

func TestValuePolicyCheck(t *testing.T) {
	for _, tc := range []struct {
		p  ValuePolicy
		ok bool
	}{
		{ValuePolicy{}, true},
		{ValuePolicy{Mode: ValuesTypes}, true},
		{ValuePolicy{Mode: ValuesHash}, false},
		{ValuePolicy{Mode: ValuesHash, Key: []byte("short")}, false},
		{ValuePolicy{Mode: ValuesHash, Key: []byte("0123456789abcdef")}, true},
		{ValuePolicy{Mode: "mask"}, false},
	} {
		if err := tc.p.Check(); (err == nil) != tc.ok {
			t.Errorf("%+v: Check() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}
