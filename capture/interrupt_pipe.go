//go:build unix && !linux

package capture

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// wakePipe makes the wake-up pipe, close-on-exec and non-blocking. macOS
// has no pipe2(2): pipe(2), then fcntl, under syscall.ForkLock so that no
// child forked in between inherits the descriptors (as os.Pipe does
// there).
func wakePipe() ([2]int, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return p, err
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return p, err
		}
	}
	return p, nil
}
