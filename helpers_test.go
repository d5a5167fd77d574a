package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"synack/capture"
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

// writeSYNFlood writes a pcap of n SYNs from random sources to one server.
func writeSYNFlood(t *testing.T, path string, n int) {
	t.Helper()
	w, err := capture.Create(path, 1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	frame := make([]byte, 54)
	copy(frame, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6})
	copy(frame[30:34], []byte{192, 0, 2, 1}) // the server
	frame[36], frame[37] = 0, 80
	frame[46], frame[47] = 5<<4, 0x02
	fr := capture.Frame{Data: frame, Length: len(frame)}
	for i := range n {
		binary.BigEndian.PutUint32(frame[26:30], r.Uint32()|1)         // source address
		binary.BigEndian.PutUint16(frame[34:36], uint16(1024+i%60000)) // source port
		binary.BigEndian.PutUint32(frame[38:42], r.Uint32())           // ISN
		fr.Time = time.Unix(1700000000, int64(i)*int64(100*time.Microsecond))
		if err := w.Write(&fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
