package report

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"synack/decode"
)

// recordDoc is a Document that renders a connection as a part of a given
// size naming its ID, and records the order parts are emitted in.
type recordDoc struct {
	size    int
	emitted []string
}

func (d *recordDoc) Render(buf []byte, c *decode.Conn) []byte {
	head := fmt.Sprintf("conn %d:", c.ID)
	buf = append(buf, head...)
	return append(buf, bytes.Repeat([]byte{'x'}, d.size-len(head))...)
}

func (d *recordDoc) Emit(part []byte) error {
	id, _, _ := bytes.Cut(part, []byte(":"))
	if len(part) != d.size {
		return fmt.Errorf("%s: %d bytes, want %d", id, len(part), d.size)
	}
	d.emitted = append(d.emitted, string(id))
	return nil
}

func (d *recordDoc) Close(*Capture) error { return nil }

// TestOrderedSpills: connections handed over out of order are emitted in
// ID order; while a long connection (ID 1) holds back the others, what
// waits past spoolMemory goes to a temporary file, so memory stays
// bounded however many wait; connections not reported keep their turn.
func TestOrderedSpills(t *testing.T) {
	const part = 1 << 20
	const n = 3 * orderedMemory / part // three times what memory holds
	doc := &recordDoc{size: part}
	o := NewOrdered(doc)
	c := &decode.Conn{Client: netip.MustParseAddrPort("10.0.0.1:1000"), Server: netip.MustParseAddrPort("10.0.0.2:80")}
	maxMemory := 0
	for id := uint64(2); id <= n; id++ {
		c.ID = id
		o.Conn(c, id%10 != 0) // every tenth is not selected
		maxMemory = max(maxMemory, o.memory)
	}
	if len(doc.emitted) != 0 {
		t.Fatalf("emitted %v before connection 1", doc.emitted)
	}
	if o.spill == nil || maxMemory > orderedMemory {
		t.Errorf("spill file %v, %d bytes held in memory (bound %d)", o.spill != nil, maxMemory, orderedMemory)
	}
	c.ID = 1
	o.Conn(c, true)
	if err := o.Close(&Capture{}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for id := 1; id <= n; id++ {
		if id == 1 || id%10 != 0 {
			want = append(want, fmt.Sprintf("conn %d", id))
		}
	}
	if fmt.Sprint(doc.emitted) != fmt.Sprint(want) {
		t.Errorf("emitted in the wrong order:\n got  %v\n want %v", doc.emitted, want)
	}
}
