package report

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synack/decode"
)

// recordDoc is a Document that renders a connection as a part of a given
// size naming its ID, and records the order parts are emitted in.
type recordDoc struct {
	size    int
	emitted []string
}

func (d *recordDoc) NewRenderer() Renderer { return d }

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

// heldModes are where Ordered keeps the blocks it holds in memory:
// mapped outside the heap, or on the heap, as where mapping fails.
var heldModes = []struct {
	name   string
	onHeap bool
	bound  int
}{
	{"mapped", false, orderedMemory - slotSize},
	{"heap", true, heapMemory},
}

// newOrderedIn is NewOrdered(doc) keeping its blocks as mode says.
func newOrderedIn(doc Document, onHeap bool) *Ordered {
	o := NewOrdered(doc)
	o.onHeap = onHeap
	return o
}

// TestOrderedSpills: connections handed over out of order are emitted in
// ID order; while a long connection (ID 1) holds back the others, what
// waits past the memory's bound goes to a temporary file, so memory
// stays bounded however many wait; connections not reported keep their
// turn. Blocks mapped outside the heap are so, and given back at Close.
func TestOrderedSpills(t *testing.T) {
	const part = 1 << 20
	for _, mode := range heldModes {
		t.Run(mode.name, func(t *testing.T) {
			n := 3 * mode.bound / part // three times what memory holds
			doc := &recordDoc{size: part}
			o := newOrderedIn(doc, mode.onHeap)
			c := &decode.Conn{Client: netip.MustParseAddrPort("10.0.0.1:1000"), Server: netip.MustParseAddrPort("10.0.0.2:80")}
			maxMemory := 0
			for id := uint64(2); id <= uint64(n); id++ {
				c.ID = id
				o.Conn(c, id%10 != 0) // every tenth is not selected
				maxMemory = max(maxMemory, o.memory)
			}
			if len(doc.emitted) != 0 {
				t.Fatalf("emitted %v before connection 1", doc.emitted)
			}
			if o.spill == nil || maxMemory > mode.bound {
				t.Errorf("spill file %v, %d bytes held in memory (bound %d)", o.spill != nil, maxMemory, mode.bound)
			}
			if mapped := o.mapped != nil; mapped == mode.onHeap {
				t.Errorf("blocks mapped %v, want %v", mapped, !mode.onHeap)
			}
			c.ID = 1
			o.Conn(c, true)
			if err := o.Close(&Capture{}); err != nil {
				t.Fatal(err)
			}
			if o.mapped != nil {
				t.Error("blocks still mapped after Close")
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
		})
	}
}

// sizedDoc renders connection ID as "conn ID:" and bytes that depend on
// the ID (so a part read back from the wrong place shows), of a size
// that varies with the ID; Emit checks each part.
type sizedDoc struct {
	emitted []uint64
	err     error
}

func sizedPart(id uint64) int {
	if id%1999 == 0 {
		return slotSize + 5000 // larger than a slot
	}
	return 1000 + int(id*7919%60000)
}

func (d *sizedDoc) NewRenderer() Renderer { return d }

func (d *sizedDoc) Render(buf []byte, c *decode.Conn) []byte {
	head := fmt.Sprintf("conn %d:", c.ID)
	buf = append(buf, head...)
	return append(buf, bytes.Repeat([]byte{byte(c.ID % 251)}, sizedPart(c.ID)-len(head))...)
}

func (d *sizedDoc) Emit(part []byte) error {
	var id uint64
	fmt.Sscanf(string(part), "conn %d:", &id)
	want := (&sizedDoc{}).Render(nil, &decode.Conn{ID: id})
	if !bytes.Equal(part, want) && d.err == nil {
		d.err = fmt.Errorf("conn %d: part read back wrong (%d bytes, want %d)", id, len(part), len(want))
	}
	d.emitted = append(d.emitted, id)
	return nil
}

func (d *sizedDoc) Close(*Capture) error { return d.err }

// TestOrderedSpillReusesSlots: in waves, a long connection holds back
// more than memory holds; once it ends and the held parts are
// emitted, the next wave's parts go into the slots the last one freed, so
// that the spill file stays the size of one wave, and every part comes
// back whole and in order.
func TestOrderedSpillReusesSlots(t *testing.T) {
	for _, mode := range heldModes {
		t.Run(mode.name, func(t *testing.T) {
			doc := &sizedDoc{}
			o := newOrderedIn(doc, mode.onHeap)
			var id uint64 = 1
			var wave int64 // the file's size after the first wave
			for range 5 {
				first := id
				id++
				for held := 0; held < mode.bound+10*slotSize; id++ {
					o.Conn(&decode.Conn{ID: id}, true)
					held += sizedPart(id)
				}
				o.Conn(&decode.Conn{ID: first}, true)
				if wave == 0 {
					wave = o.spillAt
				}
			}
			if err := o.Close(&Capture{}); err != nil {
				t.Fatal(err)
			}
			if uint64(len(doc.emitted)) != id-1 {
				t.Fatalf("%d parts emitted, want %d", len(doc.emitted), id-1)
			}
			for i, got := range doc.emitted {
				if got != uint64(i+1) {
					t.Fatalf("part %d is conn %d: out of order", i+1, got)
				}
			}
			// Parts larger than a slot go at the file's end: a few
			// slots' worth more.
			if o.spill == nil || wave < 10*slotSize || o.spillAt > wave+4*slotSize {
				t.Errorf("spill file %v grew to %d bytes for waves that spill %d: slots not used again", o.spill != nil, o.spillAt, wave)
			}
		})
	}
}

// TestOrderedParallel: rendering on goroutines of their own emits the
// same parts in the same order as rendering on the caller's, whatever
// order the connections are handed over in, resumed records (a second
// part for an ID) and connections not reported included; every record
// goes back to the pool.
func TestOrderedParallel(t *testing.T) {
	type handOver struct {
		id     uint64
		report bool
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var order []handOver
	for id := uint64(1); id <= 5000; id++ {
		order = append(order, handOver{id, id%7 != 0})
	}
	// Long connections end late, and some come back resumed.
	rng.Shuffle(len(order), func(i, j int) {
		if rng.IntN(4) == 0 {
			order[i], order[j] = order[j], order[i]
		}
	})
	for i := range 300 {
		order = append(order, handOver{uint64(rng.IntN(5000) + 1), i%5 != 0})
	}
	run := func(workers int) ([]uint64, int) {
		doc := &sizedDoc{}
		o := NewOrdered(doc)
		records := decode.NewRecords(len(order))
		if workers > 0 {
			o.Parallel(workers, records)
		}
		for _, h := range order {
			o.Conn(&decode.Conn{ID: h.id}, h.report)
		}
		if err := o.Close(&Capture{}); err != nil {
			t.Fatal(err)
		}
		return doc.emitted, records.Len()
	}
	want, _ := run(0)
	for _, workers := range []int{1, 2, 5} {
		got, given := run(workers)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%d workers: emitted %d parts in another order than rendering in turn (%d)", workers, len(got), len(want))
		}
		if given != len(order) {
			t.Errorf("%d workers: %d records given back, want %d", workers, given, len(order))
		}
	}
}

// BenchmarkOrderedHeld: parts of 8 KB (a JSON connection's on the
// 200,000-connection capture) handed over out of order, as a capture
// with unanswered SYNs does (each holds the later connections back for
// the handshake timeout, 12,000 connections here): most parts are held,
// about 100 MB at once, a third of them spilled.
func BenchmarkOrderedHeld(b *testing.B) {
	const n, late = 100000, 12000
	var order []uint64
	for id := uint64(1); id <= n; id++ {
		if id%50 != 0 {
			order = append(order, id)
		}
		if id > late && (id-late)%50 == 0 {
			order = append(order, id-late)
		}
	}
	for id := uint64(n - late + 1); id <= n; id++ {
		if id%50 == 0 {
			order = append(order, id)
		}
	}
	b.SetBytes(discardPart * n)
	for b.Loop() {
		o := NewOrdered(discardDoc{})
		for _, id := range order {
			o.Conn(&decode.Conn{ID: id}, true)
		}
		if err := o.Close(&Capture{}); err != nil {
			b.Fatal(err)
		}
	}
}

// discardDoc renders parts of discardPart bytes and emits them nowhere.
type discardDoc struct{}

const discardPart = 8192

func (discardDoc) NewRenderer() Renderer { return discardDoc{} }
func (discardDoc) Render(buf []byte, c *decode.Conn) []byte {
	return append(buf, make([]byte, discardPart)...)
}
func (discardDoc) Emit([]byte) error    { return nil }
func (discardDoc) Close(*Capture) error { return nil }

// TestSpoolWriteError: a spool whose temporary file cannot be made does
// not copy out what it kept as if it were all (an HTML summary table cut
// short, exit 0): it returns the error.
func TestSpoolWriteError(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	var s spool
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range spoolMemory>>20 + 2 {
		s.Write(chunk)
	}
	if n, err := s.WriteTo(io.Discard); err == nil {
		t.Errorf("WriteTo: %d of %d bytes and no error", n, spoolMemory+2<<20)
	}
}

// writeSizes is a writer that keeps what it is given and the size of
// each write.
type writeSizes struct {
	buf   []byte
	sizes []int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// TestSpoolWriteTo: a spool past memory copies out every byte, in order,
// to a regular file (the kernel's copy), a pipe and a writer in memory;
// where the kernel cannot copy, it writes in pieces of copyBuffer, not
// io.Copy's 32 KiB.
func TestSpoolWriteTo(t *testing.T) {
	var want []byte
	for i := 0; len(want) < spoolMemory+3*copyBuffer+12345; i++ {
		want = fmt.Appendf(want, "part %d;", i)
	}
	fill := func(t *testing.T) *spool {
		s := &spool{}
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 7000)
			if _, err := s.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if s.f == nil {
			t.Fatal("spool still in memory")
		}
		return s
	}
	for _, dest := range []string{"file", "pipe", "memory"} {
		t.Run(dest, func(t *testing.T) {
			s := fill(t)
			var got []byte
			var n int64
			var err error
			switch dest {
			case "file":
				f, ferr := os.Create(filepath.Join(t.TempDir(), "out"))
				if ferr != nil {
					t.Fatal(ferr)
				}
				defer f.Close()
				if n, err = s.WriteTo(f); err == nil {
					got, err = os.ReadFile(f.Name())
				}
			case "pipe":
				w, read := drainedPipe(t)
				if !toPipe(w) {
					t.Error("a pipe not taken for one")
				}
				n, err = s.WriteTo(w)
				got = read()
			case "memory":
				var w writeSizes
				n, err = s.WriteTo(&w)
				got = w.buf
				if max := len(want)/copyBuffer + 1; len(w.sizes) > max {
					t.Errorf("%d writes for %d bytes, want at most %d", len(w.sizes), len(want), max)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(want)) || !bytes.Equal(got, want) {
				t.Errorf("copied %d bytes (%d read back), want %d, same bytes %v", n, len(got), len(want), bytes.Equal(got, want))
			}
		})
	}
}

// TestOrderedGivesMemoryBack: the blocks an Ordered maps outside the
// heap are unmapped when it is closed, or abandoned (a capture that
// failed), however many Ordered come and go (one per capture read).
func TestOrderedGivesMemoryBack(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc/self/status (Linux)")
	}
	vmSize := func() int {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := bytes.Cut(b, []byte("VmSize:"))
		var kib int
		fmt.Sscan(string(rest), &kib)
		return kib << 10
	}
	const rounds = 40
	for _, end := range []string{"Close", "Abandon"} {
		t.Run(end, func(t *testing.T) {
			before := vmSize()
			for range rounds {
				o := NewOrdered(&sizedDoc{})
				for id := uint64(2); id < 50; id++ {
					o.Conn(&decode.Conn{ID: id}, true)
				}
				if o.mapped == nil {
					t.Skip("blocks not mapped here")
				}
				if end == "Close" {
					if err := o.Close(&Capture{}); err != nil {
						t.Fatal(err)
					}
				} else {
					o.Abandon()
				}
			}
			if grown := vmSize() - before; grown > 2*orderedMemory {
				t.Errorf("address space grew by %d MiB over %d Ordered of %d MiB each: mappings not given back", grown>>20, rounds, orderedMemory>>20)
			}
		})
	}
}

// TestOrderedSpillError: when the parts held past memory cannot go to a
// temporary file, Close says so, rather than emit a document with parts
// missing.
func TestOrderedSpillError(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	for _, mode := range heldModes {
		for _, workers := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/%d workers", mode.name, workers), func(t *testing.T) {
				o := newOrderedIn(&sizedDoc{}, mode.onHeap)
				if workers > 0 {
					o.Parallel(workers, nil)
				}
				var id uint64 = 2
				for held := 0; held < mode.bound+3*slotSize; id++ {
					o.Conn(&decode.Conn{ID: id}, true)
					held += sizedPart(id)
				}
				o.Conn(&decode.Conn{ID: 1}, true)
				if err := o.Close(&Capture{}); err == nil || !strings.Contains(err.Error(), "spool") {
					t.Errorf("Close: %v, want the spill file's error", err)
				}
			})
		}
	}
}

// TestOrderedHoldsFarAhead: connections handed over further ahead of the
// next to emit than the ring of held parts reaches, out of order, some
// not reported and some resumed (a second part), are all emitted in ID
// order, each part after the first of its connection.
func TestOrderedHoldsFarAhead(t *testing.T) {
	const n = maxRing + 20000
	rng := rand.New(rand.NewPCG(3, 4))
	type handOver struct {
		id     uint64
		report bool
	}
	var order []handOver
	for id := uint64(2); id <= n; id++ {
		order = append(order, handOver{id, id%13 != 0})
	}
	for i := range order { // out of order, within a few thousand
		j := min(len(order)-1, i+rng.IntN(3000))
		order[i], order[j] = order[j], order[i]
	}
	for i := 0; i < len(order); i += 97 { // resumed records
		order = append(order[:i+1], append([]handOver{{order[i].id, true}}, order[i+1:]...)...)
	}
	order = append(order, handOver{1, true})
	for _, workers := range []int{0, 2} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			doc := &recordDoc{size: 16}
			o := NewOrdered(doc)
			if workers > 0 {
				o.Parallel(workers, nil)
			}
			parts := map[uint64]int{}
			for _, h := range order {
				o.Conn(&decode.Conn{ID: h.id}, h.report)
				if h.report {
					parts[h.id]++
				}
			}
			if err := o.Close(&Capture{}); err != nil {
				t.Fatal(err)
			}
			var want []string
			for id := uint64(1); id <= n; id++ {
				for range parts[id] {
					want = append(want, fmt.Sprintf("conn %d", id))
				}
			}
			if len(doc.emitted) != len(want) {
				t.Fatalf("%d parts emitted, want %d", len(doc.emitted), len(want))
			}
			for i := range want {
				if doc.emitted[i] != want[i] {
					t.Fatalf("part %d is %s, want %s", i, doc.emitted[i], want[i])
				}
			}
		})
	}
}
