package capture

import "golang.org/x/sys/unix"

// wakePipe makes the wake-up pipe, close-on-exec and non-blocking from
// the start (pipe2(2)).
func wakePipe() ([2]int, error) {
	var p [2]int
	err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK)
	return p, err
}
