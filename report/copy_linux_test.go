package report

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestKernelCopies: a spool is copied out by the kernel only where Go's
// io.Copy has the kernel copy (copy_file_range): to a regular file on
// the spool's file system, not opened to append. Elsewhere io.Copy would
// go 32 KiB at a time, and the spool copies through a buffer of its own.
func TestKernelCopies(t *testing.T) {
	src, err := tempFile()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	open := func(t *testing.T, path string, flag int) *os.File {
		f, err := os.OpenFile(path, flag|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, tc := range []struct {
		name string
		out  func(t *testing.T) *os.File
		want bool
	}{
		{"file", func(t *testing.T) *os.File { return open(t, filepath.Join(dir, "out"), 0) }, true},
		{"file to append to", func(t *testing.T) *os.File { return open(t, filepath.Join(dir, "log"), os.O_APPEND) }, false},
		{"file elsewhere", func(t *testing.T) *os.File {
			f := open(t, filepath.Join("/dev/shm", filepath.Base(dir)), 0)
			os.Remove(f.Name())
			if sameDevice(t, f, src) {
				t.Skip("/dev/shm is on the spool's file system")
			}
			return f
		}, false},
		{os.DevNull, func(t *testing.T) *os.File { return open(t, os.DevNull, 0) }, false},
		{"pipe", func(t *testing.T) *os.File {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close(); w.Close() })
			return w
		}, false},
		{"socket", func(t *testing.T) *os.File {
			fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
			t.Cleanup(func() { a.Close(); b.Close() })
			return a
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kernelCopies(tc.out(t), src); got != tc.want {
				t.Errorf("kernel copies: %v, want %v", got, tc.want)
			}
		})
	}
}

func sameDevice(t *testing.T, a, b *os.File) bool {
	ai, err := a.Stat()
	if err != nil {
		t.Fatal(err)
	}
	bi, err := b.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return ai.Sys().(*syscall.Stat_t).Dev == bi.Sys().(*syscall.Stat_t).Dev
}
