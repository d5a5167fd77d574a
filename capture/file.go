// Package capture yields link-layer frames from saved captures (pcap and
// pcapng files, or standard input) and from live interfaces, optionally
// through a BPF filter. It knows nothing of TCP or of output formats.
//
// The pcap and pcapng readers are our own because gopacket's pcapgo
// (v1.1.19) does not read all that synack reads, nor report damage as
// synack must; each point checked against its source and a file:
//   - link types above 255: pcapgo's layers.LinkType is a uint8, so
//     LINKTYPE_LINUX_SLL2 (276, tcpdump's -i any; fixtures/any-sll2.pcap)
//     reads as 20 (google/gopacket#289);
//   - damage: pcapgo ends a pcapng file cut inside a block, or a pcap cut
//     right after a record header, with a clean io.EOF, and other cuts
//     with a bare io.ErrUnexpectedEOF; here a DamageError gives the frame
//     and byte offset, and the frames before it stand;
//   - pcapng interfaces of different link types: pcapgo skips the frames
//     of every type but the first's unless WantMixedLinkType is set, and
//     then gives the type as that uint8;
//   - gzip-compressed pcapng (pcapgo unpacks gzip for pcap only);
//   - if_tsresol as a power of two: pcapgo scales by the integer
//     1e9/2^n (at 2^-20 a timestamp is up to 0.7 ms off); here it is exact;
//   - pcap 2.3, pcapng 1.2, pcap records longer than the snaplen: pcapgo
//     refuses them; libpcap reads them.
//
// Both read either byte order, nanosecond pcap and if_tsoffset alike.
//
// Speed is not the reason. BenchmarkReadFile on fixtures/gen's
// 40,000-connection capture (124 MB, 604,141 packets; medians of 6 runs,
// ±15–30% on a busy two-core EPYC) reads the pcap in 51 ms (59 ms from a
// memory mapping) and 64 ms with pcapgo.NewReader's
// ZeroCopyReadPacketData; as pcapng in 80 ms (87 mapped) and 93 ms
// (pcapgo.NewNgReader); gzip-compressed in 365 ms and 469 with pcapgo.
// None allocates per packet.
//
// Files are read, not mapped into memory: where page faults are dear (a
// virtual machine), the faults and cache misses of a mapping cost far
// more than read(2)'s copies, which leave each chunk in the cache just
// before it is parsed (--summary on the 200,000-connection capture took
// 15% less time, the text and JSON reports 10–15%; a mapping also
// faults when the file shrinks while it is read). A frame's Data is valid
// until the next call to Next.
package capture

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Frame is one captured frame. Data is valid until the next call to Next.
type Frame struct {
	// Number is the frame's 1-based position in the file (before any
	// filter), like tshark's frame.number.
	Number   uint64
	Time     time.Time
	Data     []byte
	Length   int    // length on the wire
	LinkType uint32 // LINKTYPE_ value of the frame's interface
	// Interface is the pcapng interface the frame was captured on (its
	// index in the section); 0 in a pcap file.
	Interface uint32
	// Warning, nil for a sound frame, says what was wrong with a frame
	// that is handed out all the same (a *FrameWarning: a timestamp out
	// of range, read as it says).
	Warning error
}

// FrameWarning is a problem with one frame that did not stop reading.
type FrameWarning struct {
	Frame uint64
	Err   error
}

func (w *FrameWarning) Error() string { return fmt.Sprintf("frame %d: %v", w.Frame, w.Err) }
func (w *FrameWarning) Unwrap() error { return w.Err }

// MaxFrame bounds the bytes one record may claim. libpcap refuses records
// above 256 KiB for most link types; we allow more (Linux BIG TCP and GRO
// make loopback frames larger than that) but never trust a header claiming
// gigabytes.
const MaxFrame = 16 << 20

// bufSize is the read buffer; frames that fit are returned without a copy.
const bufSize = 1 << 20

// ErrNotCapture is returned when a file is neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// DamageError reports a file that could be read only up to a point.
type DamageError struct {
	Frame  uint64 // the frame that could not be read
	Offset int64  // byte offset of its record in the (decompressed) file
	Err    error
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("frame %d (byte %d): %v", e.Frame, e.Offset, e.Err)
}

func (e *DamageError) Unwrap() error { return e.Err }

// recordReader reads the frames of one file format.
type recordReader interface {
	next(fr *Frame) error
	linkType() uint32
	format() string
}

// File is an open capture file.
type File struct {
	size    int64 // bytes on disk, 0 when unknown (stdin, compressed)
	regular bool  // opened from a regular file (compressed or not)
	name    string
	closer  io.Closer
	br      *countingReader
	rr      recordReader
	gzipped bool
	n       uint64
	lts     *linkTypes // link types and their filters, once SetFilter is called
}

// Open opens a pcap or pcapng file (gzip-compressed too); "-" reads
// standard input.
func Open(path string) (*File, error) { return OpenContext(context.Background(), path) }

// OpenContext is Open for a source that may keep a reader waiting: a
// FIFO without a writer, a pipe or standard input whose writer stalls.
// Once ctx is cancelled, opening and every read that waits end with an
// error wrapping ErrInterrupted (on unix systems: poll(2); elsewhere such
// a wait ends only when the writer writes or goes).
func OpenContext(ctx context.Context, path string) (*File, error) {
	if path == "-" {
		return openInterruptible(ctx, os.Stdin, "stdin", true)
	}
	st, statErr := os.Stat(path)
	if statErr == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	if statErr == nil && st.Mode()&os.ModeNamedPipe != 0 {
		f, err := openFIFO(ctx, path)
		if err != nil {
			return nil, err
		}
		return openInterruptible(ctx, f, path, false)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, statErr = f.Stat(); statErr == nil && !st.Mode().IsRegular() {
		return openInterruptible(ctx, f, path, false)
	}
	regular := statErr == nil && st.Mode().IsRegular()
	file, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	file.closer, file.regular = f, regular
	if regular && !file.gzipped {
		file.size = st.Size()
	}
	return file, nil
}

// NewReader reads a capture from r; name is used in messages.
func NewReader(r io.Reader, name string) (*File, error) {
	br := bufio.NewReaderSize(r, bufSize)
	gzipped := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gzipped = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		br = bufio.NewReaderSize(zr, bufSize)
	}
	return newFile(&countingReader{r: br}, name, gzipped)
}

// newFile recognises the format and reads the file header.
func newFile(cr *countingReader, name string, gzipped bool) (*File, error) {
	magic, err := cr.peek(4)
	switch {
	case errors.Is(err, ErrInterrupted):
		return nil, err
	case len(magic) == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrNotCapture)
	case err != nil:
		return nil, fmt.Errorf("%w: only %d bytes", ErrNotCapture, len(magic))
	}
	var rr recordReader
	switch m := binary.LittleEndian.Uint32(magic); {
	case m == pcapngBlockSHB:
		rr, err = newPcapng(cr)
	case isPcapMagic(m):
		rr, err = newPcap(cr)
	default:
		return nil, fmt.Errorf("%w (starts with % x)", ErrNotCapture, magic)
	}
	if err != nil {
		return nil, err
	}
	return &File{name: name, br: cr, rr: rr, gzipped: gzipped}, nil
}

// Name is the file's path, or "stdin".
func (f *File) Name() string { return f.name }

// Format is "pcap", "pcap (ns)" or "pcapng".
func (f *File) Format() string { return f.rr.format() }

// LinkType is the link type of the file (of its first interface, for
// pcapng).
func (f *File) LinkType() uint32 { return f.rr.linkType() }

// Next reads the next frame that passes the filter (SetFilter) into fr.
// It returns io.EOF at the clean end of the file and a *DamageError when
// the file breaks off or is corrupt; frames read before stay valid. With
// a filter, it may return a *FilterError: see SetFilter. A frame that the
// filter leaves out is not reported, its Warning neither.
func (f *File) Next(fr *Frame) error {
	for {
		off := f.br.n
		fr.Warning = nil
		if err := f.rr.next(fr); err != nil {
			if err == io.EOF {
				return err
			}
			return &DamageError{Frame: f.n + 1, Offset: off, Err: err}
		}
		f.n++
		fr.Number = f.n
		if fr.Warning != nil {
			fr.Warning = &FrameWarning{Frame: f.n, Err: fr.Warning}
		}
		if f.lts == nil {
			return nil
		}
		if ok, err := f.admit(fr); ok || err != nil {
			return err
		}
	}
}

// Regular reports whether the file was opened from a regular file
// (compressed or not): reading it never waits for a writer, as reading a
// pipe, a FIFO or standard input may.
func (f *File) Regular() bool { return f.regular }

// Size is the file's size in bytes; 0 when unknown (standard input, a
// compressed file).
func (f *File) Size() int64 { return f.size }

// Offset is how many bytes of the (decompressed) file have been read.
func (f *File) Offset() int64 { return f.br.n }

// Close closes the underlying file.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// countingReader tracks the offset for messages and hands out frames
// straight from bufio's buffer when they fit.
type countingReader struct {
	r   *bufio.Reader
	n   int64
	big []byte // for records larger than the bufio buffer
}

// peek returns the next n bytes without consuming them (fewer at the end
// of the file, with an error).
func (c *countingReader) peek(n int) ([]byte, error) { return c.r.Peek(n) }

// read returns the next n bytes. The slice is valid until the next read.
// A short read returns io.ErrUnexpectedEOF wrapped with the count, or
// io.EOF when no byte at all was left.
func (c *countingReader) read(n int, what string) ([]byte, error) {
	var b []byte
	var got int
	var err error
	switch {
	case n <= bufSize:
		b, err = c.r.Peek(n)
		got = len(b)
		c.r.Discard(got)
	default:
		if cap(c.big) < n {
			c.big = make([]byte, n)
		}
		b = c.big[:n]
		got, err = io.ReadFull(c.r, b)
	}
	c.n += int64(got)
	if got == n {
		return b, nil
	}
	if got == 0 && (err == io.EOF || err == nil) {
		return nil, io.EOF
	}
	if err == nil || err == io.EOF || err == bufio.ErrBufferFull {
		err = io.ErrUnexpectedEOF
	}
	return nil, &truncatedError{what: what, got: got, want: n, err: err}
}

// mustRead is read for data that must be there: EOF is damage too.
func (c *countingReader) mustRead(n int, what string) ([]byte, error) {
	b, err := c.read(n, what)
	if err == io.EOF {
		return nil, &truncatedError{what: what, want: n, err: io.ErrUnexpectedEOF}
	}
	return b, err
}

// truncatedError says how much of a structure the file still held.
type truncatedError struct {
	what      string
	got, want int
	err       error // io.ErrUnexpectedEOF, or the read error
}

func (e *truncatedError) Error() string {
	msg := fmt.Sprintf("truncated %s (%d of %d bytes)", e.what, e.got, e.want)
	if e.err != io.ErrUnexpectedEOF {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *truncatedError) Unwrap() error { return e.err }
