package capture

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWriterBytes pins the bytes of a -w file: a little-endian nanosecond
// pcap 2.4 header, and records whose wire length is never below their
// captured length (a frame read from a snaplen-cut file keeps its wire
// length; one with Length unset takes len(Data)).
func TestWriterBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.pcap")
	w, err := Create(path, 276, 262144)
	if err != nil {
		t.Fatal(err)
	}
	frames := []Frame{
		{Time: time.Unix(1700000000, 123456789), Data: []byte("abcd"), Length: 1500}, // cut by a snaplen
		{Time: time.Unix(1700000001, 1), Data: []byte("xyz"), Length: 0},             // Length unset
	}
	for i := range frames {
		if err := w.Write(&frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `
		4d3cb2a1 0200 0400 00000000 00000000 00000400 14010000
		00f15365 15cd5b07 04000000 dc050000 61626364
		01f15365 01000000 03000000 03000000 78797a`)
	if !bytes.Equal(got, want) {
		t.Errorf("wrote\n%x\nwant\n%x", got, want)
	}
}

// TestNewMicrosecondWriter writes tcpdump's default variant to a file the
// caller opened, as the fixture generators do.
func TestNewMicrosecondWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "us.pcap")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewMicrosecondWriter(f, 1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Frame{Time: time.Unix(1700000000, 123456789), Data: []byte("ab"), Length: 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `
		d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
		00f15365 40e20100 02000000 02000000 6162`)
	if !bytes.Equal(got, want) {
		t.Errorf("wrote\n%x\nwant\n%x", got, want)
	}
}

// TestWriterErrorUnwraps fills /dev/full: the error names the file and
// still says ENOSPC to errors.Is.
func TestWriterErrorUnwraps(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	w, err := NewWriter(f, 1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fr := Frame{Time: time.Unix(1700000000, 0), Data: make([]byte, 1500), Length: 1500}
	for range 1000 {
		if err = w.Write(&fr); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "write /dev/full: ") {
		t.Errorf("error %v, want ENOSPC naming /dev/full", err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
