package report

import (
	"io"
	"os"
	"testing"
)

// drainedPipe is a pipe whose reading end is read to its end on a
// goroutine of its own; got closes the writing end and returns what was
// read.
func drainedPipe(t *testing.T) (w *os.File, got func() []byte) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		read <- b
	}()
	return w, func() []byte {
		w.Close()
		return <-read
	}
}
