//go:build unix

package greet

import (
	"context"
	"net"
	"syscall"
)

// Rebind tries to listen on addr again, as a restarted server would, with
// SO_REUSEADDR set or cleared (Go's listeners set it; a C server that does
// not call setsockopt has it cleared), and closes at once what it got.
func Rebind(addr string, reuseAddr bool) error {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			v := 0
			if reuseAddr {
				v = 1
			}
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, v)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return stepError(StepBind, addr, err)
	}
	return ln.Close()
}
