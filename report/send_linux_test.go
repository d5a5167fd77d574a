package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSendFile: a spool file is sent by the kernel (sendfile) to a pipe,
// a socket, /dev/null and a file on another file system, whole and from
// its start whatever its offset; a file opened to append is refused
// before a byte is written, so that the caller copies it instead.
func TestSendFile(t *testing.T) {
	var want []byte
	for i := 0; len(want) < 3<<20+12345; i++ {
		want = fmt.Appendf(want, "part %d;", i)
	}
	src, err := tempFile()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Write(want); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	open := func(t *testing.T, path string, flag int) *os.File {
		f, err := os.OpenFile(path, flag|os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	// reader drains r on a goroutine of its own; the result is what it read.
	reader := func(r io.Reader) func() []byte {
		read := make(chan []byte)
		go func() {
			b, _ := io.ReadAll(r)
			read <- b
		}()
		return func() []byte { return <-read }
	}
	for _, tc := range []struct {
		name string
		out  func(t *testing.T) (w *os.File, got func() []byte)
		done bool
	}{
		{"pipe", func(t *testing.T) (*os.File, func() []byte) { return drainedPipe(t) }, true},
		{"socket", func(t *testing.T) (*os.File, func() []byte) {
			fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
			t.Cleanup(func() { b.Close() })
			got := reader(b)
			return a, func() []byte { a.Close(); return got() }
		}, true},
		{os.DevNull, func(t *testing.T) (*os.File, func() []byte) {
			return open(t, os.DevNull, 0), nil
		}, true},
		{"file elsewhere", func(t *testing.T) (*os.File, func() []byte) {
			f := open(t, filepath.Join("/dev/shm", filepath.Base(dir)), os.O_TRUNC)
			os.Remove(f.Name())
			f.WriteString("before;")
			return f, func() []byte {
				b, err := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
				if err != nil {
					t.Fatal(err)
				}
				return bytes.TrimPrefix(b, []byte("before;"))
			}
		}, true},
		{"file to append to", func(t *testing.T) (*os.File, func() []byte) {
			return open(t, filepath.Join(dir, "log"), os.O_APPEND), nil
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := src.Seek(123, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			w, got := tc.out(t)
			n, done := sendFile(w, src)
			if done != tc.done {
				t.Fatalf("done %v, want %v", done, tc.done)
			}
			if !done {
				if n != 0 {
					t.Errorf("%d bytes written before giving up", n)
				}
				return
			}
			if n != int64(len(want)) {
				t.Errorf("sent %d bytes, want %d", n, len(want))
			}
			if got != nil {
				if b := got(); !bytes.Equal(b, want) {
					t.Errorf("%d bytes arrived, want the %d sent", len(b), len(want))
				}
			}
			if off, _ := src.Seek(0, io.SeekCurrent); off != 123 {
				t.Errorf("source offset %d after sending, want it left at 123", off)
			}
		})
	}
}

// TestSpoolToPipeLeft: a spool sent into a pipe whose reader leaves
// midway fails as a Write to it does, with EPIPE (which Go turns into a
// quiet SIGPIPE exit on standard output), not with an error of sendfile
// of its own: the rest is left to the copy through a buffer.
func TestSpoolToPipeLeft(t *testing.T) {
	s := &spool{}
	chunk := bytes.Repeat([]byte("spooled;"), 8<<10)
	for range 3 * 256 { // 48 MiB, past spoolMemory: in the file
		if _, err := s.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if s.f == nil {
		t.Fatal("spool still in memory")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	go func() {
		io.CopyN(io.Discard, r, 1<<20) // a reader that has seen enough
		r.Close()
	}()
	n, err := s.WriteTo(w)
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("WriteTo a pipe left: %v, want EPIPE", err)
	}
	var se *os.SyscallError
	if errors.As(err, &se) && se.Syscall == "sendfile" {
		t.Errorf("the error is sendfile's (%v), want the Write's", err)
	}
	if n < 1<<20 {
		t.Errorf("%d bytes copied before the reader left, want at least the 1 MiB it read", n)
	}
}
