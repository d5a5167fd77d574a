package report

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sendFile copies src, from its start to its end, to w with sendfile(2),
// which moves the page cache's pages to a pipe, a socket, /dev/null or a
// file on another file system without reading them into the process.
// It is not handled (false, nothing written) where w is not a file or
// the first call fails: the kernel refuses a file opened to append, and
// a terminal on kernels whose ttys do not splice. The caller then copies
// through a buffer. src's offset is left where it was.
func sendFile(w io.Writer, src *os.File) (written int64, handled bool, err error) {
	dst, ok := w.(*os.File)
	if !ok {
		return 0, false, nil
	}
	// Through the raw descriptors: Fd would make the files blocking, and
	// the poller waits for a non-blocking output to take more.
	out, err := dst.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	in, err := src.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	var sendErr error
	ctlErr := in.Control(func(infd uintptr) {
		var off int64
		werr := out.Write(func(outfd uintptr) bool {
			for {
				n, e := unix.Sendfile(int(outfd), int(infd), &off, sendChunk)
				if n > 0 {
					written += int64(n)
				}
				switch {
				case e == unix.EAGAIN:
					return false // the poller waits for room
				case e == unix.EINTR:
				case e != nil:
					sendErr = e
					return true
				case n == 0:
					return true // the end of src
				}
			}
		})
		if sendErr == nil {
			sendErr = werr
		}
	})
	if ctlErr != nil {
		return 0, false, nil
	}
	if sendErr != nil && written == 0 {
		// Refused (EINVAL and the like), or failed before a byte went:
		// the caller's copy finds out which.
		return 0, false, nil
	}
	if sendErr != nil {
		return written, true, &os.SyscallError{Syscall: "sendfile", Err: sendErr}
	}
	return written, true, nil
}

// sendChunk is how much one sendfile call is asked to move: the kernel
// moves at most about 2 GiB a call, and a pipe takes what it has room for.
const sendChunk = 1 << 30
