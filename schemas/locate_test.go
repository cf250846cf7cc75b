package schemas

import "testing"

func TestLocate(t *testing.T) {
	doc := []byte(`{
  "self": {"name": "Order Completed", "version": "1-0"},
  "properties": {
    "a/b": {"type": "string"},
    "prix €": {"type": "number"},
    "items": {"type": "array", "items": [
      {"type": "string"},
      {"type": "integer"}
    ]}
  }
}`)
	for _, tc := range []struct {
		ptr       string
		line, col int
	}{
		{"", 1, 1},
		{"/self", 2, 3},
		{"/self/version", 2, 39},
		{"/properties/a~1b", 4, 5},          // an escaped "/" in the key
		{"/properties/prix €/type", 5, 16},  // columns count characters, not bytes
		{"/properties/items/items/1", 8, 7}, // an array element
		{"/properties/items/items/1/type", 8, 8},
		{"/properties/items/description", 6, 5}, // missing: the deepest part that resolves
		{"/properties/items/items/9", 6, 32},    // past the array's end: the array's key
		{"/self/name/x", 2, 12},                 // into a string: the string's key
	} {
		got := Locate(doc, tc.ptr)
		if got != (Position{tc.line, tc.col}) {
			t.Errorf("Locate(%q) = %d:%d, want %d:%d", tc.ptr, got.Line, got.Column, tc.line, tc.col)
		}
	}
	if got := Locate([]byte("not json {"), "/a"); got != (Position{1, 1}) {
		t.Errorf("Locate in a file that is not JSON = %+v, want 1:1", got)
	}
}
