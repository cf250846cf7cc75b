package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var valueCases = []string{
	`null`, `true`, `false`, `0`, `-1.5e3`, `"plain"`, `""`,
	`"<b>&amp;</b>"`, `"tab\tnew\nline\u0001\u001f\"\\/"`, `"\u2028\u2029 é ☃ 𝄞"`,
	`{"b":1,"a":[1,"x",null,{"z":true,"y":false}],"":{}}`,
	`{"é":1,"e":2,"E":3,"<":4}`, `[[],[[]],{}]`,
	`{"long":"` + strings.Repeat("ab", 200) + `","short":1}`,
	`[` + strings.Repeat(`{"k":"v"},`, 100) + `1]`,
}

// ValuePolicy.at (keep) writes each value as json.Marshal would, truncation included.
func TestAppendValueMatchesMarshal(t *testing.T) {
	for _, c := range append(valueCases, "\"bad \xff utf8\"") {
		checkAppendValue(t, []byte(c))
	}
}

func FuzzAppendValue(f *testing.F) {
	for _, c := range valueCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkAppendValue(t, doc) })
}

func checkAppendValue(t *testing.T, doc []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return
	}
	want, err := json.Marshal(v)
	if err != nil {
		return
	}
	got, ok := appendValue(nil, v, MaxValueBytes)
	if !ok {
		t.Fatalf("%s: appendValue gave up on a decoded value", doc)
	}
	if g, w := truncate(string(got)), truncate(string(want)); g != w {
		t.Fatalf("%s:\n got %s\nwant %s", doc, g, w)
	}
	if full, _ := appendValue(nil, v, len(want)+1); !bytes.Equal(full, want) {
		t.Fatalf("%s: untruncated\n got %s\nwant %s", doc, full, want)
	}
	// Segment's layout writes each rebuilt message with AppendJSON.
	if whole, ok := AppendJSON(nil, v); !ok || !bytes.Equal(whole, want) {
		t.Fatalf("%s: AppendJSON\n got %s\nwant %s", doc, whole, want)
	}
}

// A json.Number json.Marshal refuses is refused, for the caller to marshal
// (and fail) as before.
func TestAppendJSONRefusesWhatMarshalRefuses(t *testing.T) {
	for _, n := range []json.Number{"0x10", "NaN", "1_000", ""} {
		if _, err := json.Marshal(map[string]any{"n": n}); err == nil && n != "" {
			t.Fatalf("json.Marshal took %q", n)
		}
		if _, ok := AppendJSON(nil, map[string]any{"n": n}); ok {
			t.Errorf("AppendJSON took %q", n)
		}
	}
}
