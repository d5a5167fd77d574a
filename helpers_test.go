package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// built is synack built once for the tests that run it as a process.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// TestMain removes the built binary after the tests. Under sudo, live
// and demo commands run in this process would drop its privileges to the
// user who ran sudo for good: the tests that want that run synack as a
// process with the variables set themselves.
func TestMain(m *testing.M) {
	for _, v := range []string{"SUDO_UID", "SUDO_GID", "SUDO_USER"} {
		os.Unsetenv(v)
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// synackBinary builds synack (once per test run) and returns its path.
func synackBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "synack-test-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "synack")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// greetingListener listens on a loopback port and answers every
// connection with the greeting, then closes; it returns the address.
func greetingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.Write([]byte("Hello, Client!\n")); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// startLive starts `synack ARGS...` (a live capture) and returns once it
// says it is capturing, with the reader of the rest of its stderr.
func startLive(t *testing.T, stdout io.Writer, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(synackBinary(t), args...)
	cmd.Stdout = stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderr := bufio.NewReader(errPipe)
	for {
		line, err := stderr.ReadString('\n')
		if strings.Contains(line, "capturing on") {
			return cmd, stderr
		}
		if err != nil {
			t.Fatalf("synack %v: %v", args, err)
		}
	}
}
