package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
)

// Writer writes frames to a pcap file that tcpdump and Wireshark read. It
// uses the nanosecond variant of the format, so that a file written from a
// live capture keeps libpcap's timestamps exactly and reads back to the
// same report.
type Writer struct {
	f    *os.File
	w    *bufio.Writer
	name string
	hdr  [16]byte
}

// Create creates path and writes the pcap file header.
func Create(path string, linkType uint32, snaplen int) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, w: bufio.NewWriterSize(f, 64<<10), name: path}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], pcapNano)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], uint32(snaplen))
	binary.LittleEndian.PutUint32(h[20:], linkType)
	if _, err := w.w.Write(h[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return w, nil
}

// Write appends one frame.
func (w *Writer) Write(fr *Frame) error {
	binary.LittleEndian.PutUint32(w.hdr[0:], uint32(fr.Time.Unix()))
	binary.LittleEndian.PutUint32(w.hdr[4:], uint32(fr.Time.Nanosecond()))
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
