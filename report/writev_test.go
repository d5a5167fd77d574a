//go:build linux || darwin || openbsd

package report

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestWriteParts: pieces (empty ones among them, more than one writev
// takes) go whole and in order to a pipe that takes them a little at a
// time; to a pipe whose reader is gone, the error is the write's, EPIPE.
func TestWriteParts(t *testing.T) {
	var want []byte
	pieces := func() [][]byte {
		var pieces [][]byte
		want = want[:0]
		for i := range 3 * maxIovecs {
			p := bytes.Repeat([]byte{byte(i)}, i%7*500)
			pieces = append(pieces, p)
			want = append(want, p...)
		}
		return pieces
	}
	w, read := drainedPipe(t)
	if err := writeParts(w, pieces(), &iovecs{}); err != nil {
		t.Fatal(err)
	}
	if got := read(); !bytes.Equal(got, want) {
		t.Errorf("%d bytes through the pipe, want %d", len(got), len(want))
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	if err := writeParts(w, pieces(), &iovecs{}); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("writeParts to a pipe without its reader: %v, want EPIPE", err)
	}
}
