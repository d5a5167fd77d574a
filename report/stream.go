package report

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"synack/decode"
)

// Document writes one capture's report connection by connection, so that
// a capture of any size is reported without keeping its connections:
//
//   - a Renderer (NewRenderer) renders a connection's part of the document
//     at once, as the decoder hands it over (in any order; the record may
//     be reused after), appending to buf; each goroutine that renders
//     has a renderer of its own;
//   - Emit writes the parts in connection order (Ordered puts them in
//     order);
//   - Close writes what follows the connections (summary table, totals),
//     from the capture's totals.
//
// A document that must say something about all connections before the
// first (an SVG's height, the HTML summary table) keeps its parts in a
// spool (memory, then a temporary file) until Close, unless it can write
// that over at Close (an SVG written to a file: see svgDocument).
type Document interface {
	NewRenderer() Renderer
	Emit(part []byte) error
	Close(c *Capture) error
}

// Renderer renders connections' parts of a document, with scratch space
// of its own: it is not safe for concurrent use, but renderers of the
// same document may render at the same time.
type Renderer interface {
	Render(buf []byte, c *decode.Conn) []byte
}

// Whole writes a capture whose connections are all in c.Conns through
// doc: the same bytes as streaming them.
func Whole(doc Document, c *Capture) error {
	var buf []byte
	r := doc.NewRenderer()
	for _, conn := range c.Conns {
		buf = r.Render(buf[:0], conn)
		if err := doc.Emit(buf); err != nil {
			return err
		}
	}
	return doc.Close(c)
}

// spoolMemory is how much a spool keeps in memory before it moves to a
// temporary file, and then how much it gathers before each write to the
// file. It was 8 MiB, in a buffer grown by doubling and then left for
// a writer's of its own: the 200,000-connection capture's text report (24
// MB of rows) touched 17 MiB of memory new from the system that way,
// about 5,000 page faults, a quarter of its 17,400 to 19,400 (11 µs each
// in a virtual machine).
const spoolMemory = 1 << 20

// orderedMemory is how much Ordered keeps in memory before its parts go
// to a temporary file: parts are held when a long connection holds back
// the later ones, and a part read back from the file costs a write and a
// read more than one kept. The blocks are mapped outside Go's heap
// (mapMemory), where they cost their size and no more; where they cannot
// be, they are on the heap, whose collector lets the heap grow to twice
// what is live before it collects: there Ordered keeps heapMemory. The
// 200k capture's JSON holds about 100 MB at once: with 64 MiB it wrote
// 650 MiB to the file and read them back (5% of its CPU time), with 96
// MiB 104 MiB, at a peak RSS of 166 MiB (134 with 64).
const (
	orderedMemory = 96 << 20
	heapMemory    = 16 << 20
)

// spool keeps bytes written in order, in memory up to spoolMemory, then in
// an unlinked temporary file, written spoolMemory at a time from the same
// memory; WriteTo copies them out once.
type spool struct {
	mem bytes.Buffer // all that was written, or what the file does not hold yet
	f   *os.File
	err error
}

func (s *spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.mem.Len()+len(p) > spoolMemory {
		if s.f == nil {
			if s.f, s.err = tempFile(); s.err != nil {
				return 0, s.err
			}
		}
		if err := s.flush(); err != nil {
			return 0, err
		}
		if len(p) > spoolMemory {
			if _, err := s.f.Write(p); err != nil {
				s.err = fmt.Errorf("spool: %w", err)
				return 0, s.err
			}
			return len(p), nil
		}
	}
	return s.mem.Write(p)
}

// flush writes what memory holds to the file.
func (s *spool) flush() error {
	if _, err := s.f.Write(s.mem.Bytes()); err != nil {
		s.err = fmt.Errorf("spool: %w", err)
		return s.err
	}
	s.mem.Reset()
	return nil
}

// WriteTo copies what was written to w and releases the spool. The copy
// is the kernel's where it can be: to a regular file on the same file
// system, copy_file_range (io.Copy finds it on *os.File; see
// kernelCopies); to a pipe, a socket, /dev/null or another file system,
// sendfile (sendFile), which moves the page cache's pages without
// reading them into the process. So w should be the output itself, not a
// buffer in front of it. To anything else (a file opened to append, a
// writer in memory, systems without sendfile to files) the spool is read
// in pieces of copyBuffer, where io.Copy would go 32 KiB at a time.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	defer s.release()
	if s.err != nil { // what was written is not all there
		return 0, s.err
	}
	if s.f == nil {
		return s.mem.WriteTo(w)
	}
	if err := s.rewind(); err != nil {
		return 0, err
	}
	if kernelCopies(w, s.f) {
		return io.Copy(w, s.f)
	}
	sent, done := sendFile(w, s.f)
	if done {
		return sent, nil
	}
	if _, err := s.f.Seek(sent, io.SeekStart); err != nil {
		return sent, fmt.Errorf("spool: %w", err)
	}
	size := copyBuffer
	if toPipe(w) {
		size = pipeCopyBuffer
	}
	// The wrappers hide the files' ReadFrom and WriteTo, which would
	// copy through a buffer of their own.
	n, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{s.f}, make([]byte, size))
	return sent + n, err
}

// copyBuffer is how much a spool reads at once to copy out: 1 MiB took
// half the time of 32 KiB to copy a spool of 1.2 GB to /dev/null. To a
// pipe, whose reader takes what comes as it comes, pipeCopyBuffer: with 1
// MiB each end waited on the other (the 200k capture's SVG spooled into
// `cat` took 2.6–3.2 s against 2.0–2.2 s with 32 KiB; 64 KiB sat between).
const (
	copyBuffer     = 1 << 20
	pipeCopyBuffer = 32 << 10
)

// toPipe reports whether w is a pipe.
func toPipe(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// reader reads back what was written, once; release frees the spool.
func (s *spool) reader() (io.Reader, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.f == nil {
		return &s.mem, nil
	}
	if err := s.rewind(); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(s.f, 1<<20), nil
}

// rewind writes out what the file's writer holds and goes back to the
// file's start.
func (s *spool) rewind() error {
	if s.err != nil {
		return s.err
	}
	if err := s.flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

func (s *spool) release() {
	if s.f != nil {
		s.f.Close()
	}
	s.mem = bytes.Buffer{}
}

// tempFile is a temporary file that disappears when closed (or when the
// process ends): it is unlinked at once.
func tempFile() (*os.File, error) {
	f, err := os.CreateTemp("", "synack-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// Ordered puts the rendered parts of connections back in connection
// order (IDs 1, 2, 3… in the order of their first packets; the decoder
// hands them over as they end) and emits each to the document as soon as
// every earlier one has been. A long connection holds the later ones
// back: their parts wait in blocks, in memory up to orderedMemory, past it
// in a temporary file.
type Ordered struct {
	doc     Document
	render  Renderer  // on the caller's goroutine, unless par is set
	par     *parallel // renders on goroutines of its own (Parallel)
	failed  atomic.Bool
	asIs    bool                  // emit in hand-over order (AsHandedOver)
	next    uint64                // the ID emitted next
	held    heldParts             // by ID, the first part held
	more    map[uint64][]heldPart // the parts of resumed records after it
	memory  int                   // bytes of the blocks kept in memory
	large   int                   // of which in blocks larger than a slot, on the heap
	spill   *os.File
	spillAt int64        // the spill file's end
	blocks  []spillBlock // every block, by index
	cur     int          // the block being filled, -1 for none
	free    []int64      // slots of the file whose parts have all been read back
	spare   [][]byte     // the room of blocks emitted, to fill again
	mapped  []byte       // the blocks' room outside the heap, once mapped
	onHeap  bool         // the blocks are on the heap: mapping failed
	buf     []byte
	err     error
	// gather is doc, when it writes parts out from where they are
	// (partsEmitter); gathered are the parts emitted and not yet given
	// to it, which stay where they are (in a batch's buffer, a block,
	// buf) until then: flushGathered gives them before that is written
	// over or let go of.
	gather   partsEmitter
	gathered [][]byte
}

// partsEmitter is a Document that emits many parts at once:
// EmitParts(parts) writes the same bytes as Emit of each, in order,
// without copying them where it can (a JSON document to a file: see
// writeParts). The parts are not kept past the call.
type partsEmitter interface {
	EmitParts(parts [][]byte) error
}

// emitEach emits the parts one by one: what EmitParts does where it
// cannot write them from where they are.
func emitEach(d Document, parts [][]byte) error {
	for _, p := range parts {
		if err := d.Emit(p); err != nil {
			return err
		}
	}
	return nil
}

// maxGathered is how many parts Ordered gathers at most before it gives
// them to the document: with a separator before each, as many pieces as
// one writev takes (IOV_MAX, 1024 on Linux and macOS).
const maxGathered = 512

// Parts held are gathered in blocks of slotSize bytes, so that holding a
// part costs a copy and no allocation; a block filled is kept in memory
// while the blocks kept hold less than their bound (memoryBound), else
// written whole into a slot of the spill file of slotSize bytes; a slot
// whose parts have all been emitted is written over by a later block, so
// that the file grows with what is held at once, not with all that was
// ever held (and the pages it is cached in are used again: where fresh
// pages are dear, writing over cached ones was 50 times faster than
// growing a file).
const slotSize = 1 << 20

type spillBlock struct {
	data    []byte // the parts' bytes, while in memory
	off     int64  // in the spill file, once written
	size    int64  // the parts' bytes in the file
	live    int    // parts not yet emitted
	written bool
	slot    bool // off is a slot of slotSize bytes, to be used again
}

// heldPart is a part held in a block, or a connection not reported
// (len -1), which keeps its turn.
type heldPart struct {
	block    int // the block, and the part's place in it
	off, len int64
}

// heldParts is the first part held of each connection, by ID. The IDs a
// long connection holds back are the ones after it, handed over about in
// order: those within maxRing of the next to emit are in a ring indexed
// by ID, where drain finds them one after the other (a map's lookups
// missed the cache: 2.5% of json's time on the 200k capture), and the
// ones further (a connection that held back more) in a map.
type heldParts struct {
	ring []heldSlot // len a power of two; IDs in [next, next+len) at ID&(len-1)
	far  map[uint64]heldPart
	n    int // parts held, in ring and far
}

type heldSlot struct {
	id   uint64 // 0 for none (IDs start at 1)
	part heldPart
}

// maxRing bounds the ring: 2 MiB of slots.
const maxRing = 1 << 16

// get returns the part held for id, next being the ID emitted next.
func (h *heldParts) get(next, id uint64) (heldPart, bool) {
	if id-next < uint64(len(h.ring)) {
		if s := &h.ring[id&uint64(len(h.ring)-1)]; s.id == id {
			return s.part, true
		}
	}
	if len(h.far) > 0 {
		p, ok := h.far[id]
		return p, ok
	}
	return heldPart{}, false
}

// put holds p for id (id >= next, none held for it yet).
func (h *heldParts) put(next, id uint64, p heldPart) {
	h.n++
	if d := id - next; d >= uint64(len(h.ring)) && d < maxRing {
		h.grow(next, int(d)+1)
	}
	if id-next < uint64(len(h.ring)) {
		h.ring[id&uint64(len(h.ring)-1)] = heldSlot{id, p}
		return
	}
	if h.far == nil {
		h.far = map[uint64]heldPart{}
	}
	h.far[id] = p
}

// take returns and forgets the part held for next, the ID emitted next.
func (h *heldParts) take(next uint64) (heldPart, bool) {
	if len(h.ring) > 0 {
		if s := &h.ring[next&uint64(len(h.ring)-1)]; s.id == next {
			h.n--
			s.id = 0
			return s.part, true
		}
	}
	if len(h.far) > 0 {
		if p, ok := h.far[next]; ok {
			h.n--
			delete(h.far, next)
			return p, true
		}
	}
	return heldPart{}, false
}

// grow makes the ring hold IDs up to next+n-1, moving in its slots the
// parts held in the ring and in far within its reach.
func (h *heldParts) grow(next uint64, n int) {
	size := max(len(h.ring), 1024)
	for size < n {
		size *= 2
	}
	ring := make([]heldSlot, size)
	mask := uint64(size - 1)
	for _, s := range h.ring {
		if s.id != 0 {
			ring[s.id&mask] = s
		}
	}
	for id, p := range h.far {
		if id-next < uint64(size) {
			ring[id&mask] = heldSlot{id, p}
			delete(h.far, id)
		}
	}
	h.ring = ring
}

// NewOrdered emits to doc in connection order, starting with ID 1.
func NewOrdered(doc Document) *Ordered {
	o := &Ordered{doc: doc, render: doc.NewRenderer(), next: 1, more: map[uint64][]heldPart{}, cur: -1}
	o.gather, _ = doc.(partsEmitter)
	return o
}

// Parallel makes o render connections on workers goroutines, each with a
// renderer of its own, and put the parts in order and emit them on one
// more, so that rendering a capture's report takes little of the
// decoder's time: Conn only queues the record, which goes back to
// records once rendered (records the decoder takes them from: see
// decode.Config.Records). Call it before the first Conn; Close waits for
// the goroutines. A parallel Ordered does not Flush: it is for a capture
// read from a file, which is written out at Close.
func (o *Ordered) Parallel(workers int, records *decode.Records) {
	p := &parallel{
		o:       o,
		records: records,
		jobs:    make(chan *renderBatch, queued),
		results: make(chan *renderBatch, queued),
		free:    make(chan *renderBatch, 2*queued+workers+1),
		tokens:  make(chan struct{}, 2*queued+workers),
		placed:  make(chan struct{}),
	}
	o.par = p
	p.batch = p.newBatch()
	for range max(workers, 1) {
		p.workers.Add(1)
		go p.renderAll(o.doc.NewRenderer())
	}
	go p.placeAll()
}

// Connections go to the renderers in batches of batchConns, so that
// handing them from one goroutine to another costs little beside
// rendering them; queued batches wait for the renderers, and as many
// rendered for their turn to be placed: enough to even out connections
// of different sizes, few enough that their records and parts hold
// little memory.
const (
	batchConns = 32
	queued     = 4
)

// RecordsInFlight is how many records a parallel Ordered may hold at
// once with workers renderers: a decode.Records pool of that size
// spares allocating any in the steady state.
func RecordsInFlight(workers int) int { return (3*queued + workers + 2) * batchConns }

// A batch's parts are rendered one after the other into one buffer,
// kept for the next batch unless larger than maxBatchBuffer (a long
// connection's part made it so): the buffers of the batches in flight
// hold what their parts need, a few MiB, where a buffer per connection
// kept the room of the largest part each had seen.
const maxBatchBuffer = 1 << 20

// parallel is the part of Ordered that renders on goroutines of its own.
type parallel struct {
	o       *Ordered
	records *decode.Records
	batch   *renderBatch      // being filled
	jobs    chan *renderBatch // to the renderers, numbered in hand-over order
	results chan *renderBatch // rendered, in any order
	// free holds the batches placed, to be filled again: every batch
	// made but the one being filled and those holding tokens.
	free chan *renderBatch
	made int // batches made, up to cap(free)
	// tokens bounds the batches sent and not yet placed: while a
	// renderer is busy with a long connection, the decoder waits rather
	// than piling up parts that cannot be placed before it.
	tokens  chan struct{}
	seq     uint64 // the number of the last batch queued
	workers sync.WaitGroup
	placed  chan struct{} // closed once every part is placed
}

// renderBatch is connections to render, in the order handed over, and
// once rendered their parts, one after the other in buf.
type renderBatch struct {
	seq   uint64
	conns []renderJob
	buf   []byte
}

type renderJob struct {
	c          *decode.Conn
	id         uint64
	report     bool
	start, end int // the part in the batch's buf
}

// newBatch returns a batch to fill: one placed, or a new one while
// fewer than cap(free) are made. Past that, one is in free or on its way
// (placeAll puts a batch there before it gives its token back, and at
// most cap(tokens) are sent and not placed): the same few batches, and
// the buffers their parts are rendered into, serve the whole capture.
// Where a batch placed was let go of when free was full, and a new one
// made when it was empty, the 200k capture's JSON made 180 batches whose
// buffers each grew again from nothing: 200 MB allocated, three
// quarters of all, and as many more collections.
func (p *parallel) newBatch() *renderBatch {
	select {
	case b := <-p.free:
		return b
	default:
	}
	if p.made < cap(p.free) {
		p.made++
		return &renderBatch{conns: make([]renderJob, 0, batchConns)}
	}
	return <-p.free
}

// submit queues c in the batch being filled, and the batch once full.
func (p *parallel) submit(c *decode.Conn, report bool) {
	b := p.batch
	b.conns = append(b.conns, renderJob{c: c, report: report && !p.o.failed.Load()})
	if len(b.conns) == batchConns {
		p.send()
	}
}

// send queues the batch being filled and starts another.
func (p *parallel) send() {
	p.tokens <- struct{}{}
	p.seq++
	p.batch.seq = p.seq
	p.jobs <- p.batch
	p.batch = p.newBatch()
}

// renderAll renders the batches with r, giving their records back.
func (p *parallel) renderAll(r Renderer) {
	defer p.workers.Done()
	for b := range p.jobs {
		b.buf = b.buf[:0]
		for i := range b.conns {
			j := &b.conns[i]
			j.start = len(b.buf)
			if j.report && !p.o.failed.Load() {
				b.buf = r.Render(b.buf, j.c)
			}
			j.end = len(b.buf)
			j.id = j.c.ID
			if p.records != nil {
				p.records.Put(j.c)
			}
			j.c = nil
		}
		p.results <- b
	}
}

// placeAll places the rendered parts in the order their connections were
// handed over, as an Ordered rendering on the caller's goroutine does.
func (p *parallel) placeAll() {
	defer close(p.placed)
	o := p.o
	next := uint64(1)
	waiting := map[uint64]*renderBatch{}
	for b := range p.results {
		waiting[b.seq] = b
		for b, ok := waiting[next]; ok; b, ok = waiting[next] {
			delete(waiting, next)
			next++
			for i := range b.conns {
				j := &b.conns[i]
				if o.err == nil {
					var part []byte
					if j.report {
						part = b.buf[j.start:j.end]
					}
					o.place(j.id, part, j.report)
					if o.err != nil {
						o.failed.Store(true)
					}
				}
			}
			o.flushGathered() // before b.buf is filled again
			if o.err != nil {
				o.failed.Store(true)
			}
			b.conns = b.conns[:0]
			if cap(b.buf) > maxBatchBuffer {
				b.buf = nil
			}
			p.free <- b // it has room for every batch made
			<-p.tokens
		}
	}
}

// stop waits until every connection queued is rendered and placed.
func (p *parallel) stop() {
	if len(p.batch.conns) > 0 {
		p.send()
	}
	close(p.jobs)
	p.workers.Wait()
	close(p.results)
	<-p.placed
}

// AsHandedOver makes o emit each part as soon as it is rendered, in the
// order the decoder hands connections over (as they end), not in
// connection order: Zeek writes its conn.log so, and a live capture
// cannot wait for a connection that may last for hours.
func (o *Ordered) AsHandedOver() { o.asIs = true }

// Conn renders c now and emits it in its turn; report false leaves it
// out (a connection --where or --conn does not select), keeping its turn.
func (o *Ordered) Conn(c *decode.Conn, report bool) {
	if o.par != nil {
		o.par.submit(c, report)
		return
	}
	if o.err != nil {
		return
	}
	var part []byte
	if report {
		o.buf = o.render.Render(o.buf[:0], c)
		part = o.buf
	}
	o.place(c.ID, part, report)
	o.flushGathered() // before buf is filled again
}

// place emits the part of connection id, or holds it until its turn.
func (o *Ordered) place(id uint64, part []byte, report bool) {
	if o.asIs {
		o.emit(part, report)
		return
	}
	switch {
	case id < o.next: // a resumed record of a connection already written
		o.emit(part, report)
	case id == o.next && !o.holds(id): // the common case: nothing to hold
		o.emit(part, report)
		o.next++
		o.drain()
	default:
		o.hold(id, part, report)
		if id == o.next {
			o.drain()
		}
	}
}

// Flush writes what the document has buffered of the parts emitted so
// far, for a document that writes as it goes (text, JSON, Zeek, Mermaid,
// HTML; SVG's head waits for Close).
func (o *Ordered) Flush() error {
	if o.par != nil { // written out at Close
		return nil
	}
	if f, ok := o.doc.(interface{ Flush() error }); ok && o.err == nil {
		return f.Flush()
	}
	return o.err
}

// Abandon stops the goroutines of a parallel Ordered whose capture failed
// and lets go of the parts held: the parts rendered go to the document as
// they would, but it is not closed.
func (o *Ordered) Abandon() {
	o.stop()
	o.releaseHeld()
}

// stop waits for the goroutines of a parallel Ordered.
func (o *Ordered) stop() {
	if o.par != nil {
		o.par.stop()
		o.par = nil
	}
}

// releaseHeld lets go of the blocks, their mapped memory and the spill
// file.
func (o *Ordered) releaseHeld() {
	o.flushGathered()
	if o.spill != nil {
		o.spill.Close()
	}
	o.blocks, o.spare, o.cur, o.memory, o.large = nil, nil, -1, 0, 0
	o.held = heldParts{}
	clear(o.more)
	if o.mapped != nil {
		unmapMemory(o.mapped)
		o.mapped = nil
	}
}

// Close emits every part still held, in order, and closes the document.
func (o *Ordered) Close(c *Capture) error {
	o.stop()
	for o.held.n > 0 && o.err == nil {
		// A gap (an ID never handed over) cannot wait any more.
		for _, ok := o.held.get(o.next, o.next); !ok; _, ok = o.held.get(o.next, o.next) {
			o.next++
		}
		o.drain()
	}
	o.releaseHeld()
	if o.err != nil {
		return o.err
	}
	return o.doc.Close(c)
}

func (o *Ordered) emit(part []byte, report bool) {
	if !report || o.err != nil {
		return
	}
	if o.gather == nil {
		o.err = o.doc.Emit(part)
		return
	}
	o.gathered = append(o.gathered, part)
	if len(o.gathered) == maxGathered {
		o.flushGathered()
	}
}

// flushGathered gives the parts gathered to the document.
func (o *Ordered) flushGathered() {
	if len(o.gathered) == 0 {
		return
	}
	if o.err == nil {
		o.err = o.gather.EmitParts(o.gathered)
	}
	clear(o.gathered)
	o.gathered = o.gathered[:0]
}

// holds reports whether a part of connection id is held.
func (o *Ordered) holds(id uint64) bool {
	_, ok := o.held.get(o.next, id)
	return ok
}

// hold keeps a part until its turn, in the block being filled.
func (o *Ordered) hold(id uint64, part []byte, report bool) {
	h := heldPart{len: -1}
	if report {
		o.flushGathered() // from blocks whose room part may go into
		if o.cur >= 0 && len(o.blocks[o.cur].data)+len(part) > slotSize {
			o.endBlock()
		}
		if o.cur < 0 {
			o.startBlock(len(part))
		}
		b := &o.blocks[o.cur]
		h = heldPart{block: o.cur, off: int64(len(b.data)), len: int64(len(part))}
		b.data = append(b.data, part...)
		b.live++
		if len(b.data) >= slotSize {
			o.endBlock()
		}
	}
	if !o.holds(id) {
		o.held.put(o.next, id, h)
	} else {
		o.more[id] = append(o.more[id], h)
	}
}

// startBlock starts a block to fill, for a part of n bytes at least.
// The first maps the room of every block that memory keeps, and the
// block being filled; a part larger than a slot has a block of its own,
// on the heap.
func (o *Ordered) startBlock(n int) {
	if o.mapped == nil && !o.onHeap {
		o.mapBlocks()
	}
	var data []byte
	if k := len(o.spare); k > 0 && n <= slotSize {
		data, o.spare = o.spare[k-1], o.spare[:k-1]
	} else {
		data = make([]byte, 0, max(n, slotSize))
	}
	o.blocks = append(o.blocks, spillBlock{data: data})
	o.cur = len(o.blocks) - 1
}

// mapBlocks maps the room of the blocks, or leaves them on the heap.
func (o *Ordered) mapBlocks() {
	mem, err := mapMemory(orderedMemory)
	if err != nil {
		o.onHeap = true
		return
	}
	o.mapped = mem
	// Spares are taken from the end: the first block first, so that
	// memory is written to (and costs) only as far as it is needed.
	for at := len(mem) - slotSize; at >= 0; at -= slotSize {
		o.spare = append(o.spare, mem[at:at:at+slotSize])
	}
}

// memoryBound is how much the blocks kept in memory may hold: with the
// blocks mapped, all but the one being filled; on the heap, heapMemory.
func (o *Ordered) memoryBound() int {
	if o.onHeap {
		return heapMemory
	}
	return orderedMemory - slotSize
}

// endBlock ends the block being filled: it is kept in memory while the
// blocks kept hold less than memoryBound (and those on the heap less than
// heapMemory), else written into a free slot of the spill file, or at its
// end (a block larger than a slot: one part that is).
func (o *Ordered) endBlock() {
	b := &o.blocks[o.cur]
	o.cur = -1
	n := cap(b.data)
	switch {
	case b.live == 0: // all emitted already
		o.release(b)
		return
	case o.memory+n <= o.memoryBound() && (n == slotSize || o.large+n <= heapMemory):
		o.memory += n
		if n > slotSize {
			o.large += n
		}
		return
	}
	if o.spill == nil {
		if o.spill, o.err = tempFile(); o.err != nil {
			return
		}
	}
	switch n := len(o.free); {
	case len(b.data) > slotSize:
		b.off = o.spillAt
		o.spillAt += int64(len(b.data))
	case n > 0:
		b.off, b.slot = o.free[n-1], true
		o.free = o.free[:n-1]
	default:
		b.off, b.slot = o.spillAt, true
		o.spillAt += slotSize
	}
	b.written, b.size = true, int64(len(b.data))
	if _, err := o.spill.WriteAt(b.data, b.off); err != nil {
		o.err = fmt.Errorf("spool: %w", err)
	}
	o.release(b)
}

// release gives a block's room back, to fill again unless it is larger
// than a slot.
func (o *Ordered) release(b *spillBlock) {
	if cap(b.data) == slotSize {
		o.spare = append(o.spare, b.data[:0])
	}
	b.data = nil
}

// part returns a held part's bytes, valid until the next call, and frees
// its block once the block has no part left to emit. A block in a slot
// of the spill file with readBackParts parts or more left is read back
// whole into memory first, where there is room.
func (o *Ordered) part(h heldPart) ([]byte, error) {
	b := &o.blocks[h.block]
	if b.written && b.slot && b.live >= readBackParts && o.memory+slotSize <= o.memoryBound() {
		if err := o.readBack(b); err != nil {
			return nil, err
		}
	}
	b.live--
	if !b.written {
		part := b.data[h.off : h.off+h.len]
		if b.live == 0 && h.block != o.cur { // a block kept in memory, all emitted
			// Its room is filled again by a later hold, after this part
			// is emitted.
			o.memory -= cap(b.data)
			if cap(b.data) > slotSize {
				o.large -= cap(b.data)
			}
			o.release(b)
		}
		return part, nil
	}
	if b.live == 0 && b.slot {
		o.free = append(o.free, b.off)
	}
	if cap(o.buf) < int(h.len) {
		o.buf = make([]byte, h.len)
	}
	o.flushGathered() // from buf
	part := o.buf[:h.len]
	if _, err := o.spill.ReadAt(part, b.off+h.off); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return part, nil
}

// readBackParts is how many parts a block in the spill file must have
// left to emit to be read back whole when the first of them is. Parts
// are held in the order they are handed over (a connection's part when
// it ends), not in the order they are emitted: a block's parts are
// emitted among those of the blocks around it, and read back one by one
// each cost a read of its own (the 200k capture's JSON read 70,000
// parts back so, from 586 blocks; whole, 1,800 reads).
const readBackParts = 16

// readBack reads b, a block in a slot of the spill file, back into
// memory, and frees its slot.
func (o *Ordered) readBack(b *spillBlock) error {
	var data []byte
	if k := len(o.spare); k > 0 {
		data, o.spare = o.spare[k-1][:b.size], o.spare[:k-1]
	} else {
		data = make([]byte, b.size, slotSize)
	}
	o.flushGathered() // from blocks whose room data may be
	if _, err := o.spill.ReadAt(data, b.off); err != nil {
		o.spare = append(o.spare, data[:0])
		return fmt.Errorf("spool: %w", err)
	}
	o.free = append(o.free, b.off)
	b.data, b.written, b.slot = data, false, false
	o.memory += slotSize
	return nil
}

// drain emits the held parts that are now in turn.
func (o *Ordered) drain() {
	for o.err == nil {
		first, ok := o.held.take(o.next)
		if !ok {
			return
		}
		more := o.more[o.next]
		if more != nil {
			delete(o.more, o.next)
		}
		o.next++
		o.emitHeld(first)
		for _, h := range more {
			o.emitHeld(h)
		}
	}
}

func (o *Ordered) emitHeld(h heldPart) {
	if h.len < 0 || o.err != nil { // not reported
		return
	}
	part, err := o.part(h)
	if err != nil {
		o.err = err
		return
	}
	o.emit(part, true)
}

// parts packs several byte strings into one part and back: each is
// preceded by its length.
func appendPiece(buf []byte, piece []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(piece)))
	return append(buf, piece...)
}

func nextPiece(part []byte) (piece, rest []byte) {
	n, k := binary.Uvarint(part)
	part = part[k:]
	return part[:n], part[n:]
}

// textDoc is the human report (see Text).
type textDoc struct {
	w       *bufio.Writer
	opt     TextOptions
	started bool
	rows    spool // the summary table's rows, fields separated by tabs
	nrows   int
	cw, sw  int // widths of the client and server columns
	capture *Capture
	// out is w's file, which EmitParts writes the timelines to from
	// where they are (writeParts).
	out    *os.File
	pieces [][]byte
	iov    iovecs
}

// textRenderer renders a connection's block and its row of the summary
// table.
type textRenderer struct {
	opt     TextOptions
	capture *Capture
	out     appender // the part, as connection writes its block
	row     []byte
}

// NewText streams the human report to w: each connection's header and
// timeline as it comes, then the summary table and the totals. c gives
// the header (source, format, link type, filter, programs): fill those
// before the first connection is emitted.
func NewText(w io.Writer, c *Capture, opt TextOptions) Document {
	t := &textDoc{w: bufio.NewWriterSize(w, 64<<10), opt: opt, capture: c, cw: len("client"), sw: len("server")}
	t.out, _ = gathers(w)
	return t
}

func (t *textDoc) begin() {
	if t.started {
		return
	}
	t.started = true
	if !t.opt.SummaryOnly {
		header(t.w, t.capture)
		for _, p := range t.capture.Programs {
			fmt.Fprintf(t.w, "  %s\n", p)
		}
	}
}

func (t *textDoc) NewRenderer() Renderer {
	opt := t.opt
	opt.lines = newLineCache()
	return &textRenderer{opt: opt, capture: t.capture}
}

func (t *textRenderer) Render(buf []byte, c *decode.Conn) []byte {
	row := t.row[:0]
	row = strconv.AppendUint(row, c.ID, 10)
	row = append(row, '\t')
	row = appendAddrPort(row, c.Client)
	row = append(row, '\t')
	row = appendAddrPort(row, c.Server)
	row = append(row, '\t')
	row = strconv.AppendUint(row, uint64(c.Verdict), 10)
	row = append(row, '\t')
	row = strconv.AppendUint(row, c.Packets[0]+c.Packets[1], 10)
	row = append(row, '\t')
	row = strconv.AppendUint(row, c.Bytes[decode.Client], 10)
	row = append(row, '\t')
	row = strconv.AppendUint(row, c.Bytes[decode.Server], 10)
	row = append(row, '\t')
	if c.Handshake.Complete() {
		row = appendDuration(row, c.Handshake.Total())
	} else {
		row = append(row, '-')
	}
	row = append(row, '\t')
	row = appendDuration(row, c.Duration())
	t.row = row
	// The row, then the block, which is the rest of the part: written
	// straight after the row, not through a buffer of its own.
	buf = appendPiece(buf, row)
	if !t.opt.SummaryOnly {
		opt := t.opt
		opt.Calls = t.capture.Calls
		t.out.b = buf
		connection(&t.out, c, opt)
		buf, t.out.b = t.out.b, nil
	}
	return buf
}

// appender is an io.Writer that appends to b.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func (t *textDoc) Emit(part []byte) error {
	t.begin()
	row, block := nextPiece(part)
	t.w.Write(block)
	return t.addRow(row)
}

// EmitParts emits the parts as Emit each: to a file, the connections'
// blocks are written from where they are, after what the buffer holds,
// not copied into it (878 MB of them on the 200,000-connection capture).
func (t *textDoc) EmitParts(parts [][]byte) error {
	if t.out == nil {
		return emitEach(t, parts)
	}
	t.begin()
	return writeBodies(t.w, t.out, &t.iov, &t.pieces, parts, t.addRow)
}

// addRow keeps a connection's row of the summary table for Close.
func (t *textDoc) addRow(row []byte) error {
	_, rest, _ := bytes.Cut(row, []byte{'\t'})
	client, rest, _ := bytes.Cut(rest, []byte{'\t'})
	server, _, _ := bytes.Cut(rest, []byte{'\t'})
	t.cw, t.sw = max(t.cw, len(client)), max(t.sw, len(server))
	t.nrows++
	if _, err := t.rows.Write(row); err != nil {
		return err
	}
	_, err := t.rows.Write([]byte{'\n'})
	return err
}

func (t *textDoc) Close(c *Capture) error {
	t.capture = c
	t.begin()
	if t.nrows > 0 {
		fmt.Fprintf(t.w, "\nsummary\n  %4s  %-*s  %-*s  %-10s %7s %10s %10s %10s %10s\n", "id", t.cw, "client", t.sw, "server",
			"verdict", "packets", "bytes c→s", "bytes s→c", "handshake", "duration")
		rows, err := t.rows.reader()
		if err != nil {
			return err
		}
		defer t.rows.release()
		sc := bufio.NewScanner(rows)
		var f [9][]byte
		var line []byte
		for sc.Scan() {
			rest := sc.Bytes()
			for i := range f {
				f[i], rest, _ = bytes.Cut(rest, []byte{'\t'})
			}
			n, _ := strconv.ParseUint(string(f[3]), 10, 8)
			v := decode.Verdict(n)
			line = append(line[:0], ' ', ' ')
			line = appendLeft(line, f[0], 4)
			line = append(line, ' ', ' ')
			line = appendRight(line, string(f[1]), t.cw)
			line = append(line, ' ', ' ')
			line = appendRight(line, string(f[2]), t.sw)
			line = append(line, ' ', ' ')
			line = append(line, t.opt.Style.paint(verdictColor(v), pad(v.String(), 10))...)
			line = append(line, ' ')
			line = appendLeft(line, f[4], 7)
			for _, x := range f[5:] {
				line = append(line, ' ')
				line = appendLeft(line, x, 10)
			}
			t.w.Write(append(line, '\n'))
		}
	}
	summaryTotals(t.w, c)
	return t.w.Flush()
}

// jsonDocument is the synack/v1 document (see JSON).
type jsonDocument struct {
	w       *bufio.Writer
	capture *Capture
	started bool
	n       int
	// out is w's file, which EmitParts writes the parts to from where
	// they are (writeParts), with pieces the separator before each.
	out    *os.File
	pieces [][]byte
	sep    []byte
	iov    iovecs
}

// jsonRenderer renders a connection's object of the document.
type jsonRenderer struct {
	capture *Capture
	jw      jsonWriter
}

// NewJSON streams the synack/v1 document to w: its head, each
// connection as it comes, then totals, warnings and error: the same bytes
// as encoding the whole document at once, never held whole.
func NewJSON(w io.Writer, c *Capture) Document {
	d := &jsonDocument{w: bufio.NewWriterSize(w, 64<<10), capture: c, sep: []byte(",\n    ")}
	d.out, _ = gathers(w)
	return d
}

// encodeIndented is v as the document's encoder writes it at the top
// level.
func encodeIndented(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.Bytes(), err
}

func (d *jsonDocument) begin() error {
	if d.started {
		return nil
	}
	d.started = true
	head, err := encodeIndented(struct {
		Schema string     `json:"schema"`
		Source jsonSource `json:"source"`
	}{Schema, sourceJSON(d.capture)})
	if err != nil {
		return err
	}
	d.w.Write(bytes.TrimSuffix(head, []byte("\n}\n")))
	d.w.WriteString(",\n  \"connections\": [")
	return nil
}

func (d *jsonDocument) NewRenderer() Renderer {
	// A connection sits two levels deep.
	return &jsonRenderer{capture: d.capture, jw: newJSONWriter("    ", true)}
}

func (d *jsonRenderer) Render(buf []byte, c *decode.Conn) []byte {
	j := connJSONHead(c)
	j.Calls = callsJSON(c, d.capture.Calls)
	w := &d.jw
	w.b, w.depth, w.empty = buf, 0, w.empty[:0]
	w.open('{')
	w.conn(&j, c, true)
	w.close('}')
	buf, w.b = w.b, nil
	return buf
}

func (d *jsonDocument) Emit(part []byte) error {
	if err := d.begin(); err != nil {
		return err
	}
	if d.n > 0 {
		d.w.WriteByte(',')
	}
	d.n++
	d.w.WriteString("\n    ")
	_, err := d.w.Write(part)
	return err
}

// EmitParts emits the parts as Emit each: to a file, written from
// where they are after what the buffer holds, not copied into it (a
// JSON connection is 8 KB on the 200k capture, and copying 1.7 GB of
// them was 6% of its time).
func (d *jsonDocument) EmitParts(parts [][]byte) error {
	if d.out == nil {
		return emitEach(d, parts)
	}
	if err := d.begin(); err != nil {
		return err
	}
	pieces := d.pieces[:0]
	for _, p := range parts {
		sep := d.sep
		if d.n == 0 {
			sep = sep[1:]
		}
		d.n++
		pieces = append(pieces, sep, p)
	}
	d.pieces = pieces
	return writeAfter(d.w, d.out, pieces, &d.iov)
}

// writeBodies writes the bodies of parts made of a summary row and a body
// (the text and HTML documents') to out, w's file, from where they are,
// after what w holds, and gives each row to row. pieces is the room for
// the bodies, kept from one call to the next.
func writeBodies(w *bufio.Writer, out *os.File, v *iovecs, pieces *[][]byte, parts [][]byte, row func([]byte) error) error {
	bodies := (*pieces)[:0]
	for _, p := range parts {
		r, body := nextPiece(p)
		if err := row(r); err != nil {
			return err
		}
		bodies = append(bodies, body)
	}
	*pieces = bodies
	return writeAfter(w, out, bodies, v)
}

// writeAfter writes the pieces to out, w's file, from where they are,
// after what w holds (writeParts), and lets go of them.
func writeAfter(w *bufio.Writer, out *os.File, pieces [][]byte, v *iovecs) error {
	defer clear(pieces)
	if err := w.Flush(); err != nil {
		return err
	}
	return writeParts(out, pieces, v)
}

func (d *jsonDocument) Close(c *Capture) error {
	d.capture = c
	if err := d.begin(); err != nil {
		return err
	}
	if d.n > 0 {
		d.w.WriteString("\n  ")
	}
	tail, err := encodeIndented(struct {
		Totals          jsonTotals `json:"totals"`
		Warnings        []string   `json:"warnings"`
		WarningsOmitted uint64     `json:"warnings_omitted"`
		Error           string     `json:"error"`
		Capture         *Stats     `json:"capture,omitempty"`
		Programs        []string   `json:"programs,omitempty"`
	}{totalsJSON(c), c.warningTexts(), c.WarningsOmitted, errText(c.Err), c.Stats, c.Programs})
	if err != nil {
		return err
	}
	d.w.WriteString("],\n")
	d.w.Write(bytes.TrimPrefix(tail, []byte("{\n")))
	return d.w.Flush()
}

// zeekDoc is the Zeek conn.log (see Zeek).
type zeekDoc struct {
	w           *bufio.Writer
	started     bool
	first, last time.Time
}

// NewZeek streams a Zeek conn.log to w: the header with the first
// connection (#open is its first packet's time), one row per connection,
// #close with the last packet's time.
func NewZeek(w io.Writer) Document { return &zeekDoc{w: bufio.NewWriterSize(w, 64<<10)} }

// zeekRenderer renders a connection's row, after its first and last
// times.
type zeekRenderer struct{}

func (z *zeekDoc) NewRenderer() Renderer { return zeekRenderer{} }

func (zeekRenderer) Render(buf []byte, c *decode.Conn) []byte {
	buf = binary.AppendVarint(buf, c.FirstSeen.UnixNano())
	buf = binary.AppendVarint(buf, c.LastSeen.UnixNano())
	return appendZeekRow(buf, c)
}

func (z *zeekDoc) begin(first time.Time) {
	if z.started {
		return
	}
	z.started = true
	zeekHeader(z.w, first)
}

func (z *zeekDoc) Emit(part []byte) error {
	f, k := binary.Varint(part)
	l, k2 := binary.Varint(part[k:])
	first, last := time.Unix(0, f).UTC(), time.Unix(0, l).UTC()
	if !z.started || first.Before(z.first) {
		z.first = first
	}
	if last.After(z.last) {
		z.last = last
	}
	z.begin(first)
	_, err := z.w.Write(part[k+k2:])
	return err
}

func (z *zeekDoc) Close(c *Capture) error {
	z.begin(z.first)
	fmt.Fprintf(z.w, "#close\t%s\n", zeekStamp(z.last))
	return z.w.Flush()
}

// mermaidDoc is the Mermaid Markdown (see Mermaid).
type mermaidDoc struct {
	w *bufio.Writer
	n int
}

// NewMermaid streams a Mermaid sequenceDiagram per connection to w.
func NewMermaid(w io.Writer) Document {
	return &mermaidDoc{w: bufio.NewWriterSize(w, 64<<10)}
}

// mermaidRenderer renders a connection's diagram.
type mermaidRenderer struct {
	block bytes.Buffer
	lines *lineCache
}

func (m *mermaidDoc) NewRenderer() Renderer { return &mermaidRenderer{lines: newLineCache()} }

func (m *mermaidRenderer) Render(buf []byte, c *decode.Conn) []byte {
	m.block.Reset()
	mermaidConn(&m.block, c, m.lines)
	return append(buf, m.block.Bytes()...)
}

func (m *mermaidDoc) Emit(part []byte) error {
	if m.n > 0 {
		m.w.WriteString("\n")
	}
	m.n++
	_, err := m.w.Write(part)
	return err
}

// Close says where reading stopped, if it stopped early, as a line of
// the Markdown after the last diagram: a code span, its text kept to one
// line with no backquote.
func (m *mermaidDoc) Close(c *Capture) error {
	if why := []byte(Name(stopped(c))); len(why) > 0 {
		if m.n > 0 {
			m.w.WriteString("\n")
		}
		for i, b := range why {
			if b == '`' {
				why[i] = '\''
			}
		}
		m.w.WriteString("**incomplete**: `")
		m.w.Write(why)
		m.w.WriteString("`\n")
	}
	return m.w.Flush()
}

// svgDocument is one SVG with every connection's ladder (see SVG).
type svgDocument struct {
	w      io.Writer
	source string
	// The document's height and its count of connections are known at
	// the end, and written in its head. To an output the head can be
	// written over (a file: see rewritable), the head is written first
	// with room for them, the ladders after it as they come, and the head
	// again at Close (at start); to another, the ladders wait in body.
	out    *os.File
	start  int64
	ow     *bufio.Writer // to out
	body   spool
	height int
	n      uint64
	head   []byte // a ladder's opening tag
}

// svgRenderer renders a connection's ladder, after its height.
type svgRenderer struct {
	ladder bytes.Buffer
	lines  *lineCache
}

// NewSVG writes the ladder diagrams of capture c to w as one SVG document.
// Its height is known at the end: to a file, its head is written again
// at Close; to anything else (a pipe), the ladders wait in a spool until
// Close.
func NewSVG(w io.Writer, c *Capture) Document {
	s := &svgDocument{w: w, source: c.Source, height: svgTop}
	if f, at, ok := rewritable(w); ok {
		s.out, s.start, s.ow = f, at, bufio.NewWriterSize(f, 64<<10)
		s.ow.Write(s.appendHead(nil))
	}
	return s
}

// svgTop is where the first ladder starts, below the document's title
// and the key.
const svgTop = 92

// ladderOrigin is how a ladder drawn at y 0 begins; Emit moves it down.
const ladderOrigin = `<g class="conn" transform="translate(0,0)">` + "\n"

func (s *svgDocument) NewRenderer() Renderer { return &svgRenderer{lines: newLineCache()} }

func (s *svgRenderer) Render(buf []byte, c *decode.Conn) []byte {
	s.ladder.Reset()
	ladder(&s.ladder, c, 0, s.lines)
	buf = binary.AppendUvarint(buf, uint64(ladderHeight(c)))
	return append(buf, s.ladder.Bytes()...)
}

func (s *svgDocument) Emit(part []byte) error {
	h, k := binary.Uvarint(part)
	s.head = append(strconv.AppendInt(append(s.head[:0], `<g class="conn" transform="translate(0,`...), int64(s.height), 10), ")\">\n"...)
	var w io.Writer = &s.body
	if s.ow != nil {
		w = s.ow
	}
	w.Write(s.head)
	_, err := w.Write(bytes.TrimPrefix(part[k:], []byte(ladderOrigin)))
	s.height += int(h)
	s.n++
	return err
}

// appendHead appends the document's head: its numbers (height,
// connections) are followed by spaces up to the widest they can be, so
// that the head is as long at the start as at the end.
func (s *svgDocument) appendHead(b []byte) []byte {
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"...)
	at := len(b)
	b = fmt.Appendf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"`, ladderWidth, s.height, ladderWidth, s.height)
	b = padTo(b, at+len(`<svg xmlns="http://www.w3.org/2000/svg" width="" height="" viewBox="0 0  "`)+2*len(strconv.Itoa(ladderWidth))+2*maxDigits)
	b = append(b, ">\n"...)
	b = fmt.Appendf(b, "<title>synack: %s</title>\n%s", xmlText(s.source), svgStyle)
	b = append(b, `<rect width="100%" height="100%" fill="#fff"/>`+"\n"...)
	at = len(b)
	b = fmt.Appendf(b, `<text x="20" y="22" class="sub">synack · %s · %s</text>`, xmlText(s.source), plural(s.n, "connection", "connections"))
	b = padTo(b, at+len(`<text x="20" y="22" class="sub">synack ·  ·  connections</text>`)+len(xmlText(s.source))+maxCountDigits)
	b = append(b, '\n')
	for i, k := range pictureKey {
		b = fmt.Appendf(b, `<text x="20" y="%d" class="key">%s</text>`+"\n", 44+16*i, xmlText(k))
	}
	return b
}

// maxDigits and maxCountDigits are the most digits a height
// (math.MaxInt64) and a count of connections (math.MaxUint64) have.
const (
	maxDigits      = 19
	maxCountDigits = 20
)

// padTo appends spaces to b up to length n.
func padTo(b []byte, n int) []byte {
	for len(b) < n {
		b = append(b, ' ')
	}
	return b
}

// stopped says where reading c stopped early, or "" if it did not.
func stopped(c *Capture) string {
	if c == nil || c.Err == nil {
		return ""
	}
	return "reading stopped at " + c.Err.Error()
}

func (s *svgDocument) Close(c *Capture) error {
	var foot []byte // where reading stopped, under the last ladder
	if why := stopped(c); why != "" {
		foot = fmt.Appendf(nil, "<text x=\"20\" y=\"%d\" class=\"title\" fill=\"#c62828\">incomplete: %s</text>\n", s.height+20, xmlText(why))
		s.height += 32
	}
	if s.ow != nil {
		s.ow.Write(foot)
		s.ow.WriteString("</svg>\n")
		if err := s.ow.Flush(); err != nil {
			return err
		}
		if _, err := s.out.WriteAt(s.appendHead(nil), s.start); err != nil {
			return fmt.Errorf("svg: %w", err)
		}
		return nil
	}
	bw := bufio.NewWriterSize(s.w, 64<<10)
	bw.Write(s.appendHead(nil))
	if err := bw.Flush(); err != nil {
		return err
	}
	if _, err := s.body.WriteTo(s.w); err != nil {
		return err
	}
	bw.Write(foot)
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// htmlDocument is the self-contained page (see HTML).
type htmlDocument struct {
	dst     io.Writer
	w       *bufio.Writer // to dst
	capture *Capture
	explain bool
	started bool
	rows    spool // the summary table's rows, written at the end
	// out is w's file, which EmitParts writes the ladders to from where
	// they are (writeParts).
	out    *os.File
	pieces [][]byte
	iov    iovecs
}

// htmlRenderer renders a connection's row of the summary table and its
// ladder.
type htmlRenderer struct {
	explain bool
	row     []byte
	lines   *lineCache
}

// NewHTML streams one self-contained page to w: its head, each ladder as
// it comes, then the totals and the summary table, whose rows
// wait in a spool until Close (as the text report's). explain adds,
// under each ladder, what each kind of segment is and why the connection
// ended so (--explain).
func NewHTML(w io.Writer, c *Capture, explain bool) Document {
	h := &htmlDocument{dst: w, w: bufio.NewWriterSize(w, 64<<10), capture: c, explain: explain}
	h.out, _ = gathers(w)
	return h
}

func (h *htmlDocument) begin() {
	if !h.started {
		h.started = true
		htmlHead(h.w, h.capture)
	}
}

func (h *htmlDocument) NewRenderer() Renderer {
	lines := newLineCache()
	lines.headsByClass = true
	return &htmlRenderer{explain: h.explain, lines: lines}
}

// Render makes the part: the row as a piece, then the ladder (and its
// notes) to the end of the part, appended in place.
func (h *htmlRenderer) Render(buf []byte, c *decode.Conn) []byte {
	h.row = appendHTMLRow(h.row[:0], c)
	buf = appendPiece(buf, h.row)
	if !h.explain {
		return appendHTMLLadder(buf, c, nil, h.lines)
	}
	n := explainNotes(c)
	return appendHTMLExplain(appendHTMLLadder(buf, c, n.marks(), h.lines), c, n)
}

func (h *htmlDocument) Emit(part []byte) error {
	h.begin()
	row, body := nextPiece(part)
	if _, err := h.rows.Write(row); err != nil {
		return err
	}
	_, err := h.w.Write(body)
	return err
}

// EmitParts emits the parts as Emit each: to a file, the ladders are
// written from where they are, after what the buffer holds, not copied
// into it.
func (h *htmlDocument) EmitParts(parts [][]byte) error {
	if h.out == nil {
		return emitEach(h, parts)
	}
	h.begin()
	return writeBodies(h.w, h.out, &h.iov, &h.pieces, parts, func(row []byte) error {
		_, err := h.rows.Write(row)
		return err
	})
}

func (h *htmlDocument) Close(c *Capture) error {
	h.capture = c
	h.begin()
	htmlSummary(h.w, c)
	if err := h.w.Flush(); err != nil {
		return err
	}
	if _, err := h.rows.WriteTo(h.dst); err != nil {
		return err
	}
	fmt.Fprint(h.w, "</table>\n</div>\n</body>\n</html>\n")
	return h.w.Flush()
}

func (t *textDoc) Flush() error { return t.w.Flush() }

func (d *jsonDocument) Flush() error { return d.w.Flush() }

func (z *zeekDoc) Flush() error { return z.w.Flush() }

func (m *mermaidDoc) Flush() error { return m.w.Flush() }

func (h *htmlDocument) Flush() error { return h.w.Flush() }
