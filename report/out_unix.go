//go:build unix

package report

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// rewritable reports whether w is a file whose bytes written can be
// written over (see svgDocument): a regular file (or /dev/null), not
// opened to append (where the kernel writes at the end whatever the
// offset), and where the next byte goes (at). A device is not, though it
// may seek: a terminal does on macOS and the BSDs, and writing it at an
// offset fails.
func rewritable(w io.Writer) (f *os.File, at int64, ok bool) {
	f, ok = w.(*os.File)
	if !ok {
		return nil, 0, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() && !isDevNull(fi) {
		return nil, 0, false
	}
	at, err = f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0, false
	}
	if app, err := appends(f); err != nil || app {
		return nil, 0, false
	}
	return f, at, true
}

// appends reports whether f was opened to append (O_APPEND), which
// os.File knows only of the files it opened itself.
func appends(f *os.File) (bool, error) {
	// Through the raw descriptor: Fd would make the file blocking.
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var flags int
	if ctlErr := rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }); ctlErr != nil {
		return false, ctlErr
	}
	return flags&unix.O_APPEND != 0, err
}

// isDevNull reports whether fi is os.DevNull's.
func isDevNull(fi os.FileInfo) bool {
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(fi, null)
}
