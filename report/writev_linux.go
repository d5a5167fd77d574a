package report

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// iovecs is the pieces' addresses for writev, kept from one call to the
// next: unix.Writev allocates them at each (16 KiB for 1024 pieces, a
// quarter of what the 200k capture's JSON allocated).
type iovecs struct{ iov []unix.Iovec }

// writev writes pieces to fd in one system call.
func (v *iovecs) writev(fd int, pieces [][]byte) (int, error) {
	v.iov = v.iov[:0]
	for _, p := range pieces {
		vec := unix.Iovec{Base: unsafe.SliceData(p)}
		vec.SetLen(len(p))
		v.iov = append(v.iov, vec)
	}
	n, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(v.iov))), uintptr(len(v.iov)))
	clear(v.iov) // let go of the pieces
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
