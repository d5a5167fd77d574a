//go:build linux || darwin || openbsd

package report

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxIovecs is how many pieces one writev takes (IOV_MAX).
const maxIovecs = 1024

// gathers reports whether writeParts writes to w with writev: a file, of
// any kind (regular, pipe, device).
func gathers(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	return f, ok
}

// writeParts writes the pieces one after the other to f, as many at
// once as writev takes: the kernel copies them from where they are, not
// from a buffer they were copied into. It writes through f's raw
// descriptor (Fd would make it blocking), waiting for a pipe or socket
// made non-blocking to take more. An error (a pipe closed: EPIPE)
// leaves the rest to f.Write, which returns it as it would (and stops
// the process on EPIPE to its standard output, as Go does). The slices
// of pieces are moved past what is written: they are used up. v is
// room for the pieces' addresses, kept from one call to the next.
func writeParts(f *os.File, pieces [][]byte, v *iovecs) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return writeEach(f, pieces)
	}
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for {
			for len(pieces) > 0 && len(pieces[0]) == 0 {
				pieces = pieces[1:]
			}
			if len(pieces) == 0 {
				return true
			}
			n, err := v.writev(int(fd), pieces[:min(len(pieces), maxIovecs)])
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return false // wait until it takes more
			case err != nil || n == 0:
				werr = io.ErrShortWrite
				return true
			}
			for n > 0 { // past what was written
				k := min(n, len(pieces[0]))
				pieces[0] = pieces[0][k:]
				n -= k
				if len(pieces[0]) == 0 {
					pieces = pieces[1:]
				}
			}
		}
	})
	if err != nil || werr != nil {
		return writeEach(f, pieces)
	}
	return nil
}

// writeEach writes the pieces one by one.
func writeEach(f *os.File, pieces [][]byte) error {
	for _, p := range pieces {
		if _, err := f.Write(p); err != nil {
			return err
		}
	}
	return nil
}
