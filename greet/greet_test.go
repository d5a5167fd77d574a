package greet

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStepErrorCauses(t *testing.T) {
	wrap := func(op string, err error) error {
		return &net.OpError{Op: op, Net: "tcp", Err: &os.SyscallError{Syscall: op, Err: err}}
	}
	for _, tc := range []struct {
		step  Step
		err   error
		cause Cause
		msg   string
	}{
		{StepBind, wrap("listen", syscall.EADDRINUSE), CauseAddrInUse, "bind 127.0.0.1:1 failed: address already in use"},
		{StepConnect, wrap("dial", syscall.ECONNREFUSED), CauseRefused, "connect 127.0.0.1:1 failed: connection refused"},
		{StepRead, wrap("read", syscall.ECONNRESET), CauseReset, "read 127.0.0.1:1 failed: connection reset by peer"},
		{StepConnect, wrap("dial", syscall.ETIMEDOUT), CauseTimeout, "connect 127.0.0.1:1 failed: timed out (no answer: a firewall may be dropping the SYNs)"},
		{StepRead, wrap("read", syscall.ETIMEDOUT), CauseTimeout, "read 127.0.0.1:1 failed: timed out (the connection was up: the peer sent nothing, or did not close, in time)"},
		{StepBind, wrap("listen", syscall.EACCES), CausePermission, "permission denied"},
		{StepWrite, wrap("write", syscall.EPIPE), CauseOther, "write 127.0.0.1:1 failed: write: broken pipe"},
	} {
		e := stepError(tc.step, "127.0.0.1:1", tc.err)
		if e.Cause != tc.cause || !strings.Contains(e.Error(), tc.msg) {
			t.Errorf("%v: cause %d %q, want %d %q", tc.err, e.Cause, e, tc.cause, tc.msg)
		}
		if !errors.Is(e, tc.err.(*net.OpError).Err.(*os.SyscallError).Err) {
			t.Errorf("%v does not unwrap to its errno", e)
		}
	}
}

func TestScenarios(t *testing.T) {
	for _, s := range Scenarios() {
		if got, err := ParseScenario(string(s)); got != s || err != nil {
			t.Errorf("ParseScenario(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseScenario("nope"); err == nil || !strings.Contains(err.Error(), "greeting, client-closes, refused, reset, half-close, udp, data, time-wait, syn-drop") {
		t.Errorf("unknown scenario: %v", err)
	}
}

// TestExchange runs each scenario's server and client over real loopback
// sockets and checks what the client saw.
func TestExchange(t *testing.T) {
	for _, tc := range []struct {
		scenario Scenario
		received string
		wantErr  Cause
	}{
		{Greeting, "Hi\n", CauseOther},
		{ClientCloses, "Hi\n", CauseOther},
		{Reset, "Hi\n", CauseReset},
		{HalfClose, "Hi\nstill sending after your FIN\n", CauseOther},
		{UDP, "Hi\n", CauseOther},
	} {
		t.Run(string(tc.scenario), func(t *testing.T) {
			srv, err := Listen(tc.scenario, "127.0.0.1:0", "Hi")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			served := make(chan error, 1)
			go func() { _, err := srv.ServeOne(ctx); served <- err }()
			res, err := Client{Timeout: 5 * time.Second}.Connect(ctx, tc.scenario, srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if res.Received != tc.received {
				t.Errorf("received %q, want %q", res.Received, tc.received)
			}
			var se *StepError
			if tc.wantErr != CauseOther && (!errors.As(res.Err, &se) || se.Cause != tc.wantErr) {
				t.Errorf("client error %v, want cause %d", res.Err, tc.wantErr)
			}
			if err := <-served; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

// TestHostilePeerIsBounded: a server that sends far more than a greeting,
// and clients that send far more than a hello or never close, get no more
// than the read limit and the timeout; before, io.ReadAll took all of it
// (300 MB from a hostile server cost 2.97 GB) and the server waited for
// the client's FIN forever.
func TestHostilePeerIsBounded(t *testing.T) {
	const limit = 64 << 10
	flood := make([]byte, 1<<20)
	t.Run("client against a flooding server", func(t *testing.T) {
		for _, scenario := range []Scenario{Greeting, ClientCloses} {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				for i := 0; i < 16; i++ { // 16 MiB, no newline, no end
					if _, err := c.Write(flood); err != nil {
						return
					}
				}
			}()
			_, err = Client{Timeout: 5 * time.Second, MaxRead: limit}.Connect(context.Background(), scenario, ln.Addr().String())
			var se *StepError
			if !errors.As(err, &se) || se.Cause != CauseTooMuch || !strings.Contains(err.Error(), "the peer sent more than 65536 bytes") {
				t.Errorf("%s: %v, want the read limit", scenario, err)
			}
		}
	})
	t.Run("server against a flooding client", func(t *testing.T) {
		srv, err := Listen(HalfClose, "127.0.0.1:0", DefaultMessage)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		srv.MaxRead = limit
		go func() {
			c, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				return
			}
			defer c.Close()
			for i := 0; i < 16; i++ {
				if _, err := c.Write(flood); err != nil {
					return
				}
			}
		}()
		_, err = srv.ServeOne(context.Background())
		var se *StepError
		if !errors.As(err, &se) || se.Cause != CauseTooMuch {
			t.Errorf("%v, want the read limit", err)
		}
	})
	t.Run("server against a client that never closes", func(t *testing.T) {
		srv, err := Listen(ClientCloses, "127.0.0.1:0", DefaultMessage)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		srv.Timeout = 200 * time.Millisecond
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		_, err = srv.ServeOne(context.Background())
		var se *StepError
		if !errors.As(err, &se) || se.Cause != CauseTimeout || time.Since(start) > 3*time.Second {
			t.Errorf("%v after %v, want a timeout after 200ms", err, time.Since(start))
		}
	})
}

// TestLoopbackOf: a client with a fixed port binds the loopback address
// of its target's family (binding 127.0.0.1 to reach [::1] fails).
func TestLoopbackOf(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string
	}{
		{"127.0.0.1:12345", "127.0.0.1"},
		{"localhost:12345", "127.0.0.1"},
		{"[::1]:12345", "::1"},
		{"192.0.2.1:80", "<nil>"},
		{"[2001:db8::1]:80", "<nil>"},
	} {
		if got := loopbackOf(tc.addr).String(); got != tc.want {
			t.Errorf("loopbackOf(%q) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}
