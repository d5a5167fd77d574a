//go:build cgo

package capture

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pollable puts a copy of a capture handle's descriptor in Go's poller
// (Linux: a packet socket, readable when the kernel hands a block over),
// non-blocking, or returns nil where it cannot (no selectable descriptor:
// fd < 0). The copy shares the socket; libpcap reads its ring, not the
// descriptor, so O_NONBLOCK changes nothing for it.
func pollable(fd int) (*os.File, syscall.RawConn) {
	if fd < 0 {
		return nil, nil
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, nil
	}
	f := os.NewFile(uintptr(dup), "capture handle")
	rc, err := f.SyscallConn()
	if err == nil {
		err = f.SetReadDeadline(time.Time{}) // os.ErrNoDeadline: not in the poller
	}
	if err != nil {
		f.Close()
		return nil, nil
	}
	return f, rc
}
