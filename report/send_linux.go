package report

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sendFile copies src, from its start to its end, to w with sendfile(2),
// which moves the page cache's pages to a pipe, a socket, /dev/null or a
// file on another file system without reading them into the process.
// done says all of src went; if not, the first sent bytes did and the
// rest is the caller's to copy: where w is not a file, where the kernel
// refuses (a file opened to append; a terminal on kernels whose ttys do
// not splice) and where sending fails (the reader of a pipe gone: the
// caller's Write then fails as it would, and Go's SIGPIPE on standard
// output stops the process quietly, as it does for every other format).
// src's offset is left where it was.
func sendFile(w io.Writer, src *os.File) (sent int64, done bool) {
	dst, ok := w.(*os.File)
	if !ok {
		return 0, false
	}
	// Through the raw descriptors: Fd would make the files blocking, and
	// the poller waits for a non-blocking output to take more.
	out, err := dst.SyscallConn()
	if err != nil {
		return 0, false
	}
	in, err := src.SyscallConn()
	if err != nil {
		return 0, false
	}
	ctlErr := in.Control(func(infd uintptr) {
		var off int64
		werr := out.Write(func(outfd uintptr) bool {
			for {
				n, e := unix.Sendfile(int(outfd), int(infd), &off, sendChunk)
				if n > 0 {
					sent += int64(n)
				}
				switch {
				case e == unix.EAGAIN:
					return false // the poller waits for room
				case e == unix.EINTR:
				case e != nil:
					return true
				case n == 0:
					done = true // the end of src
					return true
				}
			}
		})
		if werr != nil {
			done = false
		}
	})
	if ctlErr != nil {
		return 0, false
	}
	return sent, done
}

// sendChunk is how much one sendfile call is asked to move: the kernel
// moves at most about 2 GiB a call, and a pipe takes what it has room for.
const sendChunk = 1 << 30
