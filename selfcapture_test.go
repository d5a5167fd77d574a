//go:build unix

package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// startServe runs `synack serve --once -w …` as a process and returns
// once its capture is running (it listens by then). wait returns
// its exit code, stdout and stderr.
func startServe(t *testing.T, args ...string) (wait func() (int, string, string)) {
	t.Helper()
	cmd := exec.Command(synackBinary(t), append([]string{"serve", "--once"}, args...)...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(errPipe)
	var stderr strings.Builder
	for sc.Scan() { // listening, and capturing, once it says it captures
		stderr.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "synack: capturing on") {
			break
		}
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(errPipe); rest <- string(b) }()
	return func() (int, string, string) {
		more := <-rest
		cmd.Wait()
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String() + more
	}
}

// TestServeConnectSocketCalls runs `serve -w` and `connect -w` against
// each other, each capturing its own socket's packets for real on
// loopback: each shows its own socket calls among the segments, where
// TCP puts them, and its -w file reads back to the same connection.
func TestServeConnectSocketCalls(t *testing.T) {
	needCapture(t)
	dir := t.TempDir()
	port := demoPort()
	served, connected := filepath.Join(dir, "serve.pcap"), filepath.Join(dir, "connect.pcap")
	wait := startServe(t, "--port", port, "-w", served, "--format", "json")
	code, out, stderr := runCLI("connect", "--port", port, "-w", connected, "--format", "json")
	if code != exitOK {
		t.Fatalf("connect -w: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "Hello, Client!") {
		t.Errorf("connect -w does not say what it received (on stderr, beside the JSON): %s", stderr)
	}
	checkCallOrder(t, out, "client")
	serveCode, serveOut, serveErr := wait()
	if serveCode != exitOK {
		t.Fatalf("serve -w: exit %d: %s", serveCode, serveErr)
	}
	checkCallOrder(t, serveOut, "server")
	for _, file := range []string{served, connected} {
		code, out, stderr := runCLI("read", "--no-timeline", file)
		if code != exitOK || !strings.Contains(out, "127.0.0.1:"+port+"  complete") {
			t.Errorf("%s does not read back to the connection: exit %d\n%s%s", file, code, out, stderr)
		}
	}
	// The text report: the timeline's call lines, explained as the
	// demo's are.
	port = demoPort()
	wait = startServe(t, "--port", port, "-w", filepath.Join(dir, "text.pcap"), "--color", "never")
	_, text, _ := runCLI("connect", "--port", port, "-w", filepath.Join(dir, "text2.pcap"), "--color", "never")
	_, serveText, _ := wait()
	for _, tc := range []struct{ name, out, want string }{
		{"connect", text, "· client: connect() returns"},
		{"serve", serveText, "· server: accept() returns"},
		{"serve", serveText, "↳ The client's SYN opens the connection"},
	} {
		if !strings.Contains(tc.out, tc.want) {
			t.Errorf("%s -w: no %q in\n%s", tc.name, tc.want, tc.out)
		}
	}
}

// TestSelfCaptureUnprivileged: serve -w and connect -w run by a user who
// may not capture (nobody) say so as the demo does, with the exit code
// of a capture that is not possible, before any client is served.
func TestSelfCaptureUnprivileged(t *testing.T) {
	needCapture(t)
	if os.Geteuid() != 0 {
		t.Skip("becoming the unprivileged user nobody needs root")
	}
	// A copy nobody may run (the tests' binary is in a directory of root's).
	dir, err := os.MkdirTemp("", "synack-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	data, err := os.ReadFile(synackBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "synack")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--once", "--port", demoPort(), "-w", "/tmp/synack-never-written.pcap"},
		{"connect", "--port", demoPort(), "-w", "/tmp/synack-never-written.pcap"},
	} {
		t.Run(args[0], func(t *testing.T) {
			cmd := exec.Command(bin, args...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); cmd.ProcessState == nil {
				t.Fatal(err)
			}
			if code := cmd.ProcessState.ExitCode(); code != exitCapture {
				t.Errorf("exit %d, want %d; stdout %q", code, exitCapture, stdout.String())
			}
			if !strings.Contains(stderr.String(), "no permission to capture packets") || !strings.Contains(stderr.String(), "Live capture needs root or CAP_NET_RAW") {
				t.Errorf("stderr:\n%s", stderr.String())
			}
			if strings.Contains(stdout.String(), "listening") {
				t.Errorf("it listened without its capture: %s", stdout.String())
			}
		})
	}
}
