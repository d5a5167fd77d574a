//go:build linux

package greet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// listenFull listens on addr with a backlog of 0 and fills its accept
// queue with one connection it never accepts: the kernel then drops every
// further SYN (Linux: tcp_conn_request, "accept queue full"), so a client
// sees its SYNs go unanswered and retransmitted with back-off until its
// connect times out. close releases the socket and the filler.
func listenFull(addr string) (net.Listener, func(), error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, nil, stepError(StepBind, addr, fmt.Errorf("the syn-drop scenario needs an IPv4 address and port: %q", addr))
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, stepError(StepSocket, addr, err)
	}
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		syscall.Close(fd)
		return nil, nil, stepError(StepBind, addr, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		syscall.Close(fd)
		return nil, nil, stepError(StepListen, addr, err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, nil, stepError(StepListen, addr, err)
	}
	filler, err := net.Dial("tcp", addr)
	if err != nil {
		ln.Close()
		return nil, nil, stepError(StepConnect, addr, err)
	}
	return ln, func() { filler.Close(); ln.Close() }, nil
}
