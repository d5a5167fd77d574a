//go:build linux || freebsd

package report

import (
	"io"
	"os"
	"syscall"
)

// kernelCopies reports whether io.Copy copies the spool file src to w in
// the kernel (copy_file_range, which *os.File uses here): w must be a
// regular file on src's file system (the kernel copies between two
// others only at times), not opened to append. To anything else Go
// reads and writes 32 KiB at a time (a socket too: sendfile is the
// net package's, not *os.File's).
func kernelCopies(w io.Writer, src *os.File) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	si, err := src.Stat()
	if err != nil {
		return false
	}
	a, okA := fi.Sys().(*syscall.Stat_t)
	b, okB := si.Sys().(*syscall.Stat_t)
	if !okA || !okB || a.Dev != b.Dev {
		return false
	}
	app, err := appends(f)
	return err == nil && !app
}
