package sqlwh

import (
	"testing"
	"unsafe"

	"github.com/eventaudit/eventaudit/audit"
)

// A judged batch's buffer is lent again to a later batch, whatever rows
// before its first copied payload look like; a batch whose payloads came
// from elsewhere returns nothing.
func TestArenasLendAgainAfterRecycle(t *testing.T) {
	a := &arenas{size: 64, lent: map[*byte][]byte{}}
	fill := func(buf []byte, payloads ...string) ([]audit.Row, []byte) {
		rows := []audit.Row{{MessageID: "null payload"}, {MessageID: "scanned apart", Payload: []byte(`{}`)}}
		for _, p := range payloads {
			start := len(buf)
			buf = append(buf, p...)
			rows = append(rows, audit.Row{Payload: buf[start:len(buf):len(buf)]})
		}
		return rows, buf
	}
	first := a.get()
	rows, _ := fill(first, `{"a":1}`, `{"b":2}`)
	a.put(rows)
	if again := a.get(); unsafe.SliceData(again[:1]) != unsafe.SliceData(first[:1]) || len(again) != 0 {
		t.Fatalf("the recycled buffer was not lent again empty")
	}
	a.put([]audit.Row{{Payload: []byte(`{"c":3}`)}})
	if len(a.free) != 0 {
		t.Errorf("a batch read apart from any buffer returned %d buffers", len(a.free))
	}
	for range maxLent + 1 {
		a.get()
	}
	if len(a.lent) > maxLent {
		t.Errorf("%d buffers awaiting recycling, want at most %d", len(a.lent), maxLent)
	}
}
