package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeWithLibrary is decodeJSON as it was: encoding/json alone.
func decodeWithLibrary(raw []byte) (any, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err == nil && dec.More(), err
}

// Where the scanner decodes a document, it decodes what encoding/json
// decodes, and says what Decoder.More says; where encoding/json refuses
// one, the scanner refuses it too, so that the library's error is the one
// a violation quotes.
func TestDecodeScannedAgreesWithEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		scanned bool // the scanner decodes it, not encoding/json
	}{
		{`{"a":1,"b":[true,false,null,"x"],"c":{"d":-0.5e+3}}`, true},
		{`  {"k":"v"}  `, true},
		{`{"a":1,"a":2}`, true},                          // the last of two equal keys
		{`{"k\u00e9y":"\ud800 lone","t":"tab\t"}`, true}, // escapes, a lone surrogate
		{"{\"k\":\"bad \xff utf-8\"}", true},
		{`[]`, true}, {`{}`, true}, {`"s"`, true}, {`12`, true}, {`-0`, true}, {`1E+2`, true},
		{`{"a":1} trailing`, true}, {`{"a":1}]`, true}, {`truex`, true}, {`123abc`, true}, {`{"a":1}{"b":2}`, true},
		{``, false}, {`   `, false}, {`{`, false}, {`{"a":}`, false}, {`[1,]`, false}, {`{"a":1,}`, false},
		{`-`, false}, {`01`, true}, {`1.`, false}, {`.5`, false}, {`NaN`, false}, {`nul`, false},
		{"\"ctl \x01\"", false}, {`"\x"`, false}, {`{'a':1}`, false},
		{strings.Repeat("[", 300) + strings.Repeat("]", 300), false}, // past the scanner's depth
	} {
		v, more, ok := decodeScanned([]byte(tc.in))
		if ok != tc.scanned {
			t.Errorf("%q: scanned %v, want %v", tc.in, ok, tc.scanned)
		}
		want, wantMore, err := decodeWithLibrary([]byte(tc.in))
		if ok && (err != nil || !reflect.DeepEqual(v, want) || more != wantMore) {
			t.Errorf("%q: scanned %#v (more %v); encoding/json %#v (more %v, %v)", tc.in, v, more, want, wantMore, err)
		}
		got, gotMore, gotErr := decodeJSON([]byte(tc.in))
		if !reflect.DeepEqual(got, want) || gotMore != wantMore || (gotErr == nil) != (err == nil) ||
			(err != nil && gotErr.Error() != err.Error()) {
			t.Errorf("%q: decodeJSON %#v, %v, %v; encoding/json %#v, %v, %v", tc.in, got, gotMore, gotErr, want, wantMore, err)
		}
	}
}

// DecodeJSON reads what encoding/json reads, and nothing may follow the
// value but white space: JSON held as text in a column is one value or it
// is not JSON.
func TestDecodeJSONIsExactlyOneValue(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`[{"price":1.50}]`, true}, {`  {"a":[1,2]}` + "\n\t", true}, {`"s"`, true}, {`1e2`, true},
		{`{"a":1,"a":2}`, true}, {"[\"bad \xff\"]", true}, {`["\ud800"]`, true},
		{strings.Repeat("[", 300) + strings.Repeat("]", 300), true}, // past the scanner's depth: encoding/json reads it
		{`[1] x`, false}, {`[1]]`, false}, {`1 2`, false}, {`{"a":1}{"b":2}`, false}, {`01`, false},
		{``, false}, {`[1,]`, false}, {`{`, false}, {strings.Repeat("[", 300) + strings.Repeat("]", 300) + "]", false},
	} {
		got, err := DecodeJSON([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%q: DecodeJSON error %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		want, _, _ := decodeWithLibrary([]byte(tc.in))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: DecodeJSON %#v, encoding/json %#v", tc.in, got, want)
		}
	}
}

func FuzzDecodeScanned(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c"}]}`, `{"a":1,"a":"x"}`, `"\u00e9\ud800"`, "\"\xff\"", `[1e5,-0.0,true]`, `{"a":1}]`, `1 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, more, ok := decodeScanned(b)
		want, wantMore, err := decodeWithLibrary(b)
		if ok && (err != nil || !reflect.DeepEqual(v, want) || more != wantMore) {
			t.Fatalf("%q: scanned %#v (more %v); encoding/json %#v (more %v, %v)", b, v, more, want, wantMore, err)
		}
		// DecodeJSON: encoding/json's value, where only white space follows.
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var one any
		whole := dec.Decode(&one) == nil && SkipSpace(b, int(dec.InputOffset())) == len(b)
		got, gotErr := DecodeJSON(b)
		if (gotErr == nil) != whole || (whole && !reflect.DeepEqual(got, one)) {
			t.Fatalf("%q: DecodeJSON %#v, %v; encoding/json %#v, one whole value %v", b, got, gotErr, one, whole)
		}
	})
}
