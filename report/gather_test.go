package report

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"synack/decode"
)

// TestGatheredToFileInOrder: a JSON document or an HTML page written to
// a file or a pipe, where Ordered gives it its parts many at once and it
// writes them from where they are (writev), is the same bytes as the
// document written to memory in one go, whether the connections are handed over in order
// (parts emitted from the renderers' buffers) or out of order, holding
// more than memory keeps: parts come from blocks in memory, from blocks
// read back whole from the spill file and one by one (a long
// connection's part, larger than a block), while more are held.
func TestGatheredToFileInOrder(t *testing.T) {
	// Events shared by all connections, each with some of them; every
	// 2,000th connection has 4,000 (1.3 MB of JSON, more than a block).
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events := make([]decode.Event, 4000)
	for i := range events {
		events[i] = decode.Event{Frame: uint64(i + 1), T: time.Duration(i) * time.Millisecond, Dir: decode.Dir(i % 2),
			Flags: decode.ACK, Seq: uint32(i * 100), Ack: 1, Len: uint32(i % 3 * 100), Win: 512, Note: decode.NoteData}
	}
	const n = 16000
	var all []*decode.Conn
	for id := uint64(1); id <= n; id++ {
		k := int(id*7919%15) + 1
		if id%2000 == 0 {
			k = len(events)
		}
		all = append(all, &decode.Conn{ID: id, Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(id >> 8), byte(id)}), 40000),
			Server: netip.MustParseAddrPort("10.9.9.9:443"), FirstSeen: start.Add(time.Duration(id) * time.Millisecond),
			LastSeen: start.Add(time.Duration(id+uint64(k)) * time.Millisecond), Packets: [2]uint64{uint64(k), 0}, Events: events[:k]})
	}
	rep := &Capture{Source: "gathered", Format: "pcap", LinkType: "EN10MB", Conns: all}
	// Out of order: shuffled within windows of 200, and each 500th
	// 8,000 later (an unanswered SYN held back for its timeout), which
	// holds back 20 MB at a time, more than the heap's bound.
	rng := rand.New(rand.NewPCG(5, 6))
	held := slices.Clone(all)
	for i := range held {
		j := min(len(held)-1, i+rng.IntN(200))
		held[i], held[j] = held[j], held[i]
	}
	for i := len(held) - 1; i >= 0; i-- {
		if c := held[i]; c.ID%500 == 1 {
			j := min(len(held)-1, i+8000)
			copy(held[i:j], held[i+1:j+1])
			held[j] = c
		}
	}
	for _, format := range []struct {
		name string
		doc  func(io.Writer) Document
	}{
		{"json", func(w io.Writer) Document { return NewJSON(w, rep) }},
		{"html", func(w io.Writer) Document { return NewHTML(w, rep, false) }},
	} {
		var want bytes.Buffer
		if err := Whole(format.doc(&want), rep); err != nil {
			t.Fatal(err)
		}
		write := func(t *testing.T, w io.Writer, order []*decode.Conn, onHeap bool) {
			o := newOrderedIn(format.doc(w), onHeap)
			o.Parallel(2, nil)
			for _, c := range order {
				o.Conn(c, true)
			}
			if err := o.Close(rep); err != nil {
				t.Fatal(err)
			}
		}
		for _, mode := range heldModes {
			if !mode.onHeap && testing.Short() {
				continue // the same, with a bound four times larger
			}
			for name, order := range map[string][]*decode.Conn{"in order": all, "held": held} {
				if !mode.onHeap && name == "held" {
					order = slices.Clone(order) // held back for longer: past the mapped bound
					for i := len(order) - 1; i >= 0; i-- {
						if c := order[i]; c.ID%4000 == 1 {
							j := len(order) - 1
							copy(order[i:j], order[i+1:j+1])
							order[j] = c
						}
					}
				}
				t.Run(format.name+"/"+mode.name+"/"+name+"/file", func(t *testing.T) {
					f, err := os.Create(filepath.Join(t.TempDir(), "out."+format.name))
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					write(t, f, order, mode.onHeap)
					got, err := os.ReadFile(f.Name())
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want.Bytes()) {
						t.Errorf("%d bytes written to a file, want the %d of the document written to memory", len(got), want.Len())
					}
				})
				t.Run(format.name+"/"+mode.name+"/"+name+"/pipe", func(t *testing.T) {
					w, read := drainedPipe(t)
					write(t, w, order, mode.onHeap)
					got := read()
					if !bytes.Equal(got, want.Bytes()) {
						t.Errorf("%d bytes written to a pipe, want the %d of the document written to memory", len(got), want.Len())
					}
				})
			}
		}
	}
}

// fixedDoc renders connection ID as "conn ID:" and bytes that depend
// on the ID, an eighth of a block in all, and takes parts many at once
// (partsEmitter), checking each when it takes it.
type fixedDoc struct{ sizedDoc }

func (d *fixedDoc) NewRenderer() Renderer { return d }

func (d *fixedDoc) Render(buf []byte, c *decode.Conn) []byte {
	head := fmt.Sprintf("conn %d:", c.ID)
	buf = append(buf, head...)
	return append(buf, bytes.Repeat([]byte{byte(c.ID % 251)}, slotSize/8-len(head))...)
}

func (d *fixedDoc) Emit(part []byte) error {
	var id uint64
	fmt.Sscanf(string(part), "conn %d:", &id)
	if want := d.Render(nil, &decode.Conn{ID: id}); !bytes.Equal(part, want) && d.err == nil {
		d.err = fmt.Errorf("conn %d: part changed before it was emitted", id)
	}
	d.emitted = append(d.emitted, id)
	return nil
}

func (d *fixedDoc) EmitParts(parts [][]byte) error {
	for _, p := range parts {
		d.Emit(p)
	}
	return nil
}

// TestOrderedGathersUntilReused: parts gathered for a document that
// takes many at once are given to it before their room is filled again:
// in one batch, connection 1 lets the eight held behind it go, which
// frees their block, and the next eight are held in that block's room.
func TestOrderedGathersUntilReused(t *testing.T) {
	for _, mode := range heldModes {
		t.Run(mode.name, func(t *testing.T) {
			doc := &fixedDoc{}
			o := newOrderedIn(doc, mode.onHeap)
			o.Parallel(1, nil)
			for _, id := range []uint64{2, 3, 4, 5, 6, 7, 8, 9, 1, 11, 12, 13, 14, 15, 16, 17, 18, 10} {
				o.Conn(&decode.Conn{ID: id}, true)
			}
			if err := o.Close(&Capture{}); err != nil {
				t.Fatal(err)
			}
			if want := "[1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18]"; fmt.Sprint(doc.emitted) != want {
				t.Errorf("emitted %v, want %s", doc.emitted, want)
			}
		})
	}
}
