//go:build darwin || openbsd

package report

import "golang.org/x/sys/unix"

// iovecs is nothing to keep here: unix.Writev makes the pieces'
// addresses (system calls go through libc).
type iovecs struct{}

func (*iovecs) writev(fd int, pieces [][]byte) (int, error) { return unix.Writev(fd, pieces) }
