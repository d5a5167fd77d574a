package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// Writer writes frames to a pcap file that tcpdump and Wireshark read. It
// uses the nanosecond variant of the format, so that a file written from a
// live capture keeps libpcap's timestamps exactly and reads back to the
// same report.
//
// The format is written here rather than by pcapgo's Writer, which cannot
// write it for every link type synack captures: pcapgo's WriteFileHeader
// takes a layers.LinkType, a uint8 in gopacket 1.1.19
// (google/gopacket#289), so LINKTYPE_LINUX_SLL2 (276, what `-i any`
// captures) does not fit. Its records are also slower (BenchmarkWriteFile,
// 80,000 frames to /dev/null: 55 ns a frame here, 76 with pcapgo; medians
// of 12 runs, ±20% on a busy two-core machine), it stamps a frame that has
// no time with time.Now(), and it formats a failed record-header write
// with %v, which hides ENOSPC or EPIPE from errors.Is.
type Writer struct {
	f     *os.File
	w     *bufio.Writer
	name  string
	micro bool
	hdr   [16]byte
}

// Create creates path and writes the pcap file header.
func Create(path string, linkType uint32, snaplen int) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, linkType, snaplen)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// ErrSymlink is an output path that is a symbolic link, refused because
// a privileged process must not write where a link points (a link in
// /tmp to /etc/passwd, say).
var ErrSymlink = errors.New("is a symbolic link")

// CreateOutput creates (or truncates) the pcap file at path for a capture:
// it refuses a symbolic link unless followSymlinks is set (O_NOFOLLOW, as
// a privileged process must; not on Windows, which has no O_NOFOLLOW: see
// noFollow), and writes the file header. Open it with
// the rights of the user it is for: after dropping privileges.
func CreateOutput(path string, followSymlinks bool, linkType uint32, snaplen int) (*Writer, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !followSymlinks {
		flags |= noFollow
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if refusedSymlink(err) {
		return nil, fmt.Errorf("write %s: %w (--follow-symlinks writes through it)", path, ErrSymlink)
	}
	if err != nil {
		return nil, fmt.Errorf("write %w", err)
	}
	w, err := NewWriter(f, linkType, snaplen)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// NewWriter writes a pcap file to f, which the caller has opened (after
// dropping privileges, say, or with O_NOFOLLOW), starting with the file
// header. Close closes f; when NewWriter fails, f stays the caller's.
func NewWriter(f *os.File, linkType uint32, snaplen int) (*Writer, error) {
	return newWriter(f, linkType, snaplen, false)
}

// NewMicrosecondWriter is NewWriter for the microsecond variant, what
// tcpdump writes by default. synack's own -w files are nanosecond; the
// fixture generators (fixtures/gen, fixtures/synth) write this variant so
// that their files stay byte for byte what they were.
func NewMicrosecondWriter(f *os.File, linkType uint32, snaplen int) (*Writer, error) {
	return newWriter(f, linkType, snaplen, true)
}

func newWriter(f *os.File, linkType uint32, snaplen int, micro bool) (*Writer, error) {
	w := &Writer{f: f, w: bufio.NewWriterSize(f, 64<<10), name: f.Name(), micro: micro}
	var h [24]byte
	magic := uint32(pcapNano)
	if micro {
		magic = pcapMicro
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], uint32(snaplen))
	binary.LittleEndian.PutUint32(h[20:], linkType)
	if _, err := w.w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("write %s: %w", w.name, err)
	}
	return w, nil
}

// Write appends one frame. Its wire length is written as Length, or as
// len(Data) when Length is smaller: readers reject a record that claims
// more captured bytes than were on the wire.
func (w *Writer) Write(fr *Frame) error {
	frac := uint32(fr.Time.Nanosecond())
	if w.micro {
		frac /= 1000
	}
	binary.LittleEndian.PutUint32(w.hdr[0:], uint32(fr.Time.Unix()))
	binary.LittleEndian.PutUint32(w.hdr[4:], frac)
	binary.LittleEndian.PutUint32(w.hdr[8:], uint32(len(fr.Data)))
	binary.LittleEndian.PutUint32(w.hdr[12:], uint32(max(fr.Length, len(fr.Data))))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	if _, err := w.w.Write(fr.Data); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	return nil
}

// Flush writes buffered frames to the file, leaving it a valid capture.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	return nil
}

// File is the underlying file (to change its owner).
func (w *Writer) File() *os.File { return w.f }

// Close flushes and closes the file.
func (w *Writer) Close() error {
	ferr := w.Flush()
	if err := w.f.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("close %s: %w", w.name, err)
	}
	return ferr
}
