package main

import (
	"net"
	"strings"
	"testing"
	"time"
)

// freePort returns a loopback port nothing listens on (just now).
func freeTestPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func TestServeAndConnect(t *testing.T) {
	port := freeTestPort(t)
	done := make(chan int)
	var serveOut string
	go func() {
		code, out, _ := runCLI("serve", "--once", "--port", port, "--message", "Hi \x1b[2J there")
		serveOut = out
		done <- code
	}()
	var code int
	var out, stderr string
	for range 100 {
		if code, out, stderr = runCLI("connect", "--port", port); code != exitRefused {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code != exitOK || out != `Hi \x1b[2J there`+"\n" {
		t.Fatalf("connect: exit %d, out %q, stderr %q", code, out, stderr)
	}
	if code := <-done; code != exitOK || !strings.Contains(serveOut, "listening on 127.0.0.1:"+port) {
		t.Errorf("serve: exit %d, out %q", code, serveOut)
	}
	// The greeting is quoted once (it was escaped a second time, showing
	// \" to the learner), its escape sequence escaped, and its byte count
	// set beside the C program's.
	want := `sent "Hi \x1b[2J there" and a newline (14 bytes; the tutorial's C server sends strlen(msg) = 13)`
	if !strings.Contains(serveOut, want) || strings.Contains(serveOut, `\"`) || strings.Contains(serveOut, "\x1b") {
		t.Errorf("serve's line:\n%s\nwant %s", serveOut, want)
	}
}

func TestServeAndConnectErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	// A server that accepts and never writes: the client's read times out.
	go func() {
		for {
			c, err := busy.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"address in use", []string{"serve", "--port", busyPort}, exitBind, "bind 127.0.0.1:" + busyPort + " failed: address already in use (another program is listening there; pick another port with --port)"},
		{"refused", []string{"connect", "--port", freeTestPort(t)}, exitRefused, "failed: connection refused (nothing is listening there)"},
		{"timeout", []string{"connect", "--port", busyPort, "--timeout", "200ms"}, exitTimeout, "read 127.0.0.1:" + busyPort + " failed: timed out"},
		{"bad scenario", []string{"connect", "--scenario", "nope"}, exitUsage, `unknown scenario "nope"`},
		{"bad addr", []string{"serve", "--addr", "localhost", "--port", "1"}, exitUsage, `bad --addr "localhost"`},
		{"report flag without -w", []string{"serve", "--format", "json"}, exitUsage, "--format goes with -w FILE"},
		{"-i without -w", []string{"connect", "-i", "lo"}, exitUsage, "--interface goes with -w FILE"},
		{"bad format with -w", []string{"connect", "-w", "x.pcap", "--format", "xml"}, exitUsage, `unknown --format "xml"`},
		{"-w with a named port", []string{"connect", "-w", "x.pcap", "--addr", "localhost:http"}, exitUsage, "must be a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}
