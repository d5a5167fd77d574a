// Package greet is synack's built-in greeting server and client: the seed
// tutorial's programs (a server on 127.0.0.1:12345 sends "Hello, Client!";
// the client connects, reads, prints, both close), plus variations that
// make each kind of TCP ending happen for real. It knows nothing of capture.
package greet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
)

// DefaultAddr and DefaultMessage are the seed tutorial's.
const (
	DefaultAddr    = "127.0.0.1:12345"
	DefaultMessage = "Hello, Client!"
)

// Scenario selects how the server and client end their exchange.
type Scenario string

// Scenarios.
const (
	// Greeting: the server writes the greeting and closes first.
	Greeting Scenario = "greeting"
	// ClientCloses: the client closes first, after reading the greeting.
	ClientCloses Scenario = "client-closes"
	// Refused: nothing listens; the SYN is answered by RST.
	Refused Scenario = "refused"
	// Reset: the server aborts with SO_LINGER 0: RST instead of FIN.
	Reset Scenario = "reset"
	// HalfClose: the client shuts down its write side, the server keeps
	// sending, then closes.
	HalfClose Scenario = "half-close"
	// UDP: the greeting as datagrams; no handshake, no teardown.
	UDP Scenario = "udp"
	// Data: the server sends DataSize bytes after the greeting, so that
	// windows, ACK clocking and delayed ACKs show, then closes.
	Data Scenario = "data"
	// TimeWait: the greeting; then the server, which closed first, is in
	// TIME-WAIT, and a restart on its port without SO_REUSEADDR fails.
	TimeWait Scenario = "time-wait"
	// SYNDrop: the server's accept queue is full, so the kernel drops the
	// client's SYNs: they are retransmitted with back-off (1 s, 2 s, 4 s…)
	// until connect() times out.
	SYNDrop Scenario = "syn-drop"
)

// DataSize is what the data scenario sends after the greeting: enough
// for many segments, windows and ACKs, little enough to show at once.
const DataSize = 256 << 10

// Scenarios lists them all, the default first.
func Scenarios() []Scenario {
	return []Scenario{Greeting, ClientCloses, Refused, Reset, HalfClose, UDP, Data, TimeWait, SYNDrop}
}

// ParseScenario checks a scenario name.
func ParseScenario(name string) (Scenario, error) {
	for _, s := range Scenarios() {
		if string(s) == name {
			return s, nil
		}
	}
	names := make([]string, 0, 6)
	for _, s := range Scenarios() {
		names = append(names, string(s))
	}
	return "", fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(names, ", "))
}

// Network is "udp" for the UDP scenario and "tcp" otherwise.
func (s Scenario) Network() string {
	if s == UDP {
		return "udp"
	}
	return "tcp"
}

// Step names a stage of the socket life cycle, as the seed tutorial's
// error section lists them.
type Step string

// Steps.
const (
	StepSocket  Step = "socket"
	StepBind    Step = "bind"
	StepListen  Step = "listen"
	StepAccept  Step = "accept"
	StepConnect Step = "connect"
	StepRead    Step = "read"
	StepWrite   Step = "write"
	StepClose   Step = "close"
)

// Cause classifies a failure.
type Cause int

// Causes.
const (
	CauseOther Cause = iota
	CauseAddrInUse
	CauseRefused
	CauseTimeout
	CauseReset
	CausePermission
	CauseTooMuch // the peer sent more than the read limit
)

// DefaultMaxRead bounds what the server or client reads from its peer,
// and DefaultServeTimeout how long the server waits on one client: a
// hostile peer gets no more of synack's memory or time than that.
const (
	DefaultMaxRead      = 1 << 20
	DefaultServeTimeout = 30 * time.Second
)

// limitError is a peer that sent more than the read limit.
type limitError struct{ limit int64 }

func (e *limitError) Error() string { return fmt.Sprintf("more than %d bytes", e.limit) }

// readAtMost reads r to its end, but no more than limit bytes: past that
// it stops with a *limitError (and the first limit bytes).
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(data)) > limit {
		return data[:limit], &limitError{limit}
	}
	return data, err
}

// StepError is a failure at one step, with its cause.
type StepError struct {
	Step  Step
	Addr  string
	Cause Cause
	Err   error
}

func (e *StepError) Error() string {
	msg := fmt.Sprintf("%s %s failed", e.Step, e.Addr)
	switch e.Cause {
	case CauseAddrInUse:
		return msg + ": address already in use (another program is listening there; pick another port with --port)"
	case CauseRefused:
		return msg + ": connection refused (nothing is listening there)"
	case CauseTimeout:
		if e.Step == StepConnect {
			return msg + ": timed out (no answer: a firewall may be dropping the SYNs)"
		}
		// The handshake completed: the peer is there, it is just silent.
		return msg + ": timed out (the connection was up: the peer sent nothing, or did not close, in time)"
	case CauseReset:
		return msg + ": connection reset by peer"
	case CausePermission:
		return msg + ": permission denied (ports below 1024 need root)"
	case CauseTooMuch:
		return fmt.Sprintf("%s: the peer sent %v (--max-read raises the limit)", msg, e.Err)
	}
	return fmt.Sprintf("%s: %v", msg, unwrapOp(e.Err))
}

func (e *StepError) Unwrap() error { return e.Err }

// unwrapOp strips net.OpError's own "dial tcp …:" prefix.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func stepError(step Step, addr string, err error) *StepError {
	e := &StepError{Step: step, Addr: addr, Err: err}
	var ne net.Error
	switch {
	case errors.As(err, new(*limitError)):
		e.Cause = CauseTooMuch
	case errors.Is(err, syscall.EADDRINUSE):
		e.Cause = CauseAddrInUse
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Cause = CauseRefused
	case errors.Is(err, syscall.ECONNRESET):
		e.Cause = CauseReset
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		e.Cause = CausePermission
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, syscall.ETIMEDOUT):
		e.Cause = CauseTimeout
	}
	return e
}

// resetGrace is how long the reset scenario's server waits after writing
// before aborting, so that the client reads the greeting before the RST
// (a RST discards data the client has not read yet).
const resetGrace = 50 * time.Millisecond

// Server is a listening greeting server.
type Server struct {
	// MaxRead bounds what is read from one client, and Timeout how long
	// one client is served; Listen sets DefaultMaxRead and
	// DefaultServeTimeout.
	MaxRead int64
	Timeout time.Duration
	// OnlyPort, if set, is the one client port served: ServeOne closes
	// connections from any other port at once (the demo's server answers
	// the demo's client alone).
	OnlyPort int
	// Calls are the socket calls of the last client served, in order,
	// and Peer is that client (nil if none was served).
	Calls    []Call
	Peer     net.Addr
	release  func() // closes what Listen set up beside the socket
	scenario Scenario
	message  string
	ln       net.Listener
	pc       net.PacketConn
}

// Listen binds addr: the socket, bind and listen steps.
func Listen(scenario Scenario, addr, message string) (*Server, error) {
	s := &Server{scenario: scenario, message: message, MaxRead: DefaultMaxRead, Timeout: DefaultServeTimeout}
	var err error
	switch scenario {
	case UDP:
		s.pc, err = net.ListenPacket("udp", addr)
	case SYNDrop:
		s.ln, s.release, err = listenFull(addr)
		if err != nil {
			return nil, err
		}
		return s, nil
	default:
		s.ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, stepError(StepBind, addr, err)
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string {
	if s.pc != nil {
		return s.pc.LocalAddr().String()
	}
	return s.ln.Addr().String()
}

// Scenario is the scenario the server plays.
func (s *Server) Scenario() Scenario { return s.scenario }

// Close stops listening.
func (s *Server) Close() error {
	if s.pc != nil {
		return s.pc.Close()
	}
	if s.release != nil {
		s.release()
		return nil
	}
	return s.ln.Close()
}

// ServeOne answers one client as the scenario says, then returns. It
// returns what the server did, for display.
func (s *Server) ServeOne(ctx context.Context) (string, error) {
	s.Calls, s.Peer = nil, nil
	if s.pc != nil {
		return s.serveDatagram(ctx)
	}
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	rec := &calls{side: "server"}
	var c *net.TCPConn
	for c == nil {
		start := time.Now()
		conn, err := s.ln.Accept()
		if err != nil {
			return "", stepError(StepAccept, s.Addr(), err)
		}
		if s.OnlyPort != 0 && conn.RemoteAddr().(*net.TCPAddr).Port != s.OnlyPort {
			conn.Close()
			continue
		}
		rec.list = append(rec.list, Call{Side: "server", Name: "accept", Start: start, Return: time.Now()})
		c = conn.(*net.TCPConn)
	}
	s.Peer = c.RemoteAddr()
	defer func() {
		rec.do("close", c.Close)
		s.Calls = rec.list
	}()
	c.SetDeadline(time.Now().Add(s.Timeout))
	peer := c.RemoteAddr().String()
	greeting := []byte(s.message + "\n")
	switch s.scenario {
	case HalfClose:
		var req []byte
		err := rec.do("read", func() (err error) { req, err = readAtMost(c, s.MaxRead); return err })
		if err != nil {
			return "", stepError(StepRead, peer, err)
		}
		more := append(greeting, "still sending after your FIN\n"...)
		if err := rec.do("write", func() error { _, err := c.Write(more); return err }); err != nil {
			return "", stepError(StepWrite, peer, err)
		}
		return fmt.Sprintf("read %q until the client's FIN, then sent %d bytes and closed", req, len(more)), nil
	}
	if s.scenario == Data {
		greeting = append(greeting, bytes.Repeat([]byte("synack data\n"), DataSize/12+1)[:DataSize]...)
	}
	if err := rec.do("write", func() error { _, err := c.Write(greeting); return err }); err != nil {
		return "", stepError(StepWrite, peer, err)
	}
	switch s.scenario {
	case ClientCloses:
		var n int64
		err := rec.do("read", func() (err error) { n, err = io.Copy(io.Discard, io.LimitReader(c, s.MaxRead+1)); return err })
		if err == nil && n > s.MaxRead {
			err = &limitError{s.MaxRead}
		}
		if err != nil {
			return "", stepError(StepRead, peer, err)
		}
		return fmt.Sprintf("sent %s to %s, waited for its FIN, closed", s.sent(), peer), nil
	case Reset:
		time.Sleep(resetGrace)
		if err := c.SetLinger(0); err != nil {
			return "", stepError(StepClose, peer, err)
		}
		return fmt.Sprintf("sent %s to %s, then aborted (SO_LINGER 0: RST, no FIN)", s.sent(), peer), nil
	}
	if s.scenario == Data {
		return fmt.Sprintf("sent %s and %d bytes more to %s and closed", s.sent(), DataSize, peer), nil
	}
	return fmt.Sprintf("sent %s to %s and closed", s.sent(), peer), nil
}

// sent describes the greeting as sent: the message and the newline synack
// adds (so that a line-reading client sees its end), with the byte count
// the capture shows — one more than the seed tutorial's C server, whose
// send(…, strlen(msg)) sends the message alone.
func (s *Server) sent() string {
	n := len(s.message) + 1
	return fmt.Sprintf("%q and a newline (%d bytes; the tutorial's C server sends strlen(msg) = %d)", s.message, n, n-1)
}

func (s *Server) serveDatagram(ctx context.Context) (string, error) {
	stop := context.AfterFunc(ctx, func() { s.pc.SetDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 2048)
	var n int
	var peer net.Addr
	rec := &calls{side: "server"}
	defer func() { s.Calls, s.Peer = rec.list, peer }()
	for peer == nil {
		rec.list = rec.list[:0] // another sender's datagram is not this client's call
		err := rec.do("recvfrom", func() (err error) { n, peer, err = s.pc.ReadFrom(buf); return err })
		if err != nil {
			return "", stepError(StepRead, s.Addr(), err)
		}
		if s.OnlyPort != 0 && peer.(*net.UDPAddr).Port != s.OnlyPort {
			peer = nil // another sender's datagram: not this demo's
		}
	}
	if err := rec.do("sendto", func() error { _, err := s.pc.WriteTo([]byte(s.message+"\n"), peer); return err }); err != nil {
		return "", stepError(StepWrite, peer.String(), err)
	}
	return fmt.Sprintf("got %q from %s, answered %q", buf[:n], peer, s.message), nil
}

// Call is one socket call of the built-in server or client: when it was
// made and when it returned, by the system clock that also dates the
// captured packets, so that a timeline can set the calls beside the
// segments they cause (connect() before the SYN, its return after the
// SYN-ACK; close() before the FIN).
type Call struct {
	Side          string // "client" or "server"
	Name          string // "connect", "accept", "write", "read", "shutdown", "close"
	Start, Return time.Time
}

// calls records Calls.
type calls struct {
	side string
	list []Call
}

// do runs f as the call name and records it.
func (c *calls) do(name string, f func() error) error {
	start := time.Now()
	err := f()
	c.list = append(c.list, Call{Side: c.side, Name: name, Start: start, Return: time.Now()})
	return err
}

// Loopback reports whether addr (host:port) names this host over the
// loopback interface: localhost, or a loopback address.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOf is the local address a client with a fixed port binds for
// addr: the loopback address of addr's family when addr is on loopback
// (::1 for an IPv6 one), else nil, the address the route to addr gives.
func loopbackOf(addr string) net.IP {
	if !Loopback(addr) {
		return nil
	}
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return net.IPv6loopback
	}
	return net.IPv4(127, 0, 0, 1)
}

// Result is what the client saw.
type Result struct {
	Local    string // the client's address
	Received string // what it read
	// Err is an error the scenario expects (the reset scenario's read
	// error); unexpected failures are returned as errors instead.
	Err error
	// Calls are the client's socket calls, in order.
	Calls []Call
}

// Client is the built-in client's settings.
type Client struct {
	Timeout time.Duration // for connecting and reading, together
	MaxRead int64         // bytes read at most (0: DefaultMaxRead)
	// LocalPort, if set, is the client's own port (so that a capture can
	// be filtered to this client's connection alone).
	LocalPort int
}

// Connect runs the client side of the scenario against addr: socket,
// connect, read (and write where the scenario says), close. When connect
// fails, the Result holds only the call, beside the error.
func (cl Client) Connect(ctx context.Context, scenario Scenario, addr string) (*Result, error) {
	maxRead := cl.MaxRead
	if maxRead <= 0 {
		maxRead = DefaultMaxRead
	}
	ctx, cancel := context.WithTimeout(ctx, cl.Timeout)
	defer cancel()
	var d net.Dialer
	if cl.LocalPort != 0 {
		ip := loopbackOf(addr)
		if scenario == UDP {
			d.LocalAddr = &net.UDPAddr{IP: ip, Port: cl.LocalPort}
		} else {
			d.LocalAddr = &net.TCPAddr{IP: ip, Port: cl.LocalPort}
		}
	}
	rec := &calls{side: "client"}
	var conn net.Conn
	err := rec.do("connect", func() (err error) { conn, err = d.DialContext(ctx, scenario.Network(), addr); return err })
	if err != nil {
		// The failed connect() is a call the timeline shows too.
		return &Result{Calls: rec.list}, stepError(StepConnect, addr, err)
	}
	r := &Result{Local: conn.LocalAddr().String()}
	defer func() {
		rec.do("close", conn.Close)
		r.Calls = rec.list
	}()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	switch scenario {
	case UDP:
		if err := rec.do("send", func() error { _, err := conn.Write([]byte("Hello, Server?\n")); return err }); err != nil {
			return nil, stepError(StepWrite, addr, err)
		}
		buf := make([]byte, 2048)
		var n int
		if err := rec.do("recv", func() (err error) { n, err = conn.Read(buf); return err }); err != nil {
			return nil, stepError(StepRead, addr, err)
		}
		r.Received = string(buf[:n])
	case ClientCloses:
		var line string
		err := rec.do("read", func() (err error) {
			line, err = bufio.NewReader(io.LimitReader(conn, maxRead)).ReadString('\n')
			return err
		})
		if err == io.EOF && int64(len(line)) == maxRead {
			err = &limitError{maxRead}
		}
		if err != nil {
			return nil, stepError(StepRead, addr, err)
		}
		r.Received = line
	case HalfClose:
		tc := conn.(*net.TCPConn)
		if err := rec.do("write", func() error { _, err := tc.Write([]byte("Hello, Server!\n")); return err }); err != nil {
			return nil, stepError(StepWrite, addr, err)
		}
		if err := rec.do("shutdown", tc.CloseWrite); err != nil {
			return nil, stepError(StepClose, addr, err)
		}
		fallthrough
	default:
		var data []byte
		err := rec.do("read", func() (err error) { data, err = readAtMost(conn, maxRead); return err })
		r.Received = string(data)
		if err != nil {
			se := stepError(StepRead, addr, err)
			if scenario != Reset || se.Cause != CauseReset {
				return nil, se
			}
			r.Err = se
		}
	}
	return r, nil
}
