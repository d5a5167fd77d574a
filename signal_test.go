package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalDuringRead interrupts a long read with SIGTERM: the report of
// what was read is still written, says where reading stopped, and the
// exit code is 143.
func TestSignalDuringRead(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generates and reads a 100,000-connection capture")
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "big.pcap")
	if out, err := exec.Command("go", "run", "./fixtures/gen", "-conns", "100000", "-o", pcap).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	bin := synackBinary(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		// The signal must land while the file is being read: after the
		// handlers are set up, before the end. Adjust the delay until it
		// does (a busy machine may need it).
		var stdout, stderr strings.Builder
		var err error
		delay := 60 * time.Millisecond
		for try := 0; ; try++ {
			cmd := exec.Command(bin, "read", "--summary", "--format", "json", pcap)
			stdout.Reset()
			stderr.Reset()
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			cmd.Process.Signal(tc.sig)
			err = cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			switch {
			case code == tc.code || try == 5:
			case code == 0: // finished first
				delay /= 2
				continue
			case code == -1: // killed before the handlers were set
				delay *= 2
				continue
			}
			break
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
			t.Fatalf("%v: exit %v, want %d\n%s", tc.sig, err, tc.code, stderr.String())
		}
		var doc struct {
			Error  string
			Totals struct{ Frames, Connections uint64 }
		}
		if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
			t.Fatalf("%v: the report is not whole JSON: %v", tc.sig, err)
		}
		if !strings.Contains(doc.Error, "interrupted (") || doc.Totals.Frames == 0 || doc.Totals.Frames >= 1_400_000 {
			t.Errorf("%v: error %q after %d frames, %d connections", tc.sig, doc.Error, doc.Totals.Frames, doc.Totals.Connections)
		}
		t.Logf("%v: %d frames, %d connections reported; %s", tc.sig, doc.Totals.Frames, doc.Totals.Connections, doc.Error)
	}
}

// TestFileShrinksWhileRead truncates a capture while synack reads it from
// its memory mapping: reading faults, and synack must report the damage
// (exit 3, the report of what it read) instead of crashing.
func TestFileShrinksWhileRead(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generates and reads a 60,000-connection capture")
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "big.pcap")
	if out, err := exec.Command("go", "run", "./fixtures/gen", "-conns", "60000", "-o", pcap).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	cmd := exec.Command(synackBinary(t), "read", "--summary", pcap)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Truncate as soon as the file is mapped: reading 190 MB takes far
	// longer than noticing the mapping.
	maps := fmt.Sprintf("/proc/%d/maps", cmd.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if m, _ := os.ReadFile(maps); strings.Contains(string(m), pcap) {
			break
		}
	}
	if err := os.Truncate(pcap, 1<<20); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != exitInput || !strings.Contains(stderr.String(), "the file shrank while it was read") || strings.Contains(stderr.String(), "panic") {
		t.Fatalf("exit %d, want 3 and the damage named:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "totals:") {
		t.Fatalf("no report after the fault:\n%s", stdout.String())
	}
}

// TestSecondSignalKills: the first SIGINT asks the work to stop; synack
// then gives SIGINT back to the system, so a second one kills it even when
// the work cannot stop (here: opening a FIFO nobody writes to blocks).
func TestSecondSignalKills(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "stalled")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	cmd := exec.Command(synackBinary(t), "read", fifo)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(300 * time.Millisecond) // past start-up: the handlers are set
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running after two SIGINTs")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("ended with %v, want death by SIGINT (the default action)", cmd.ProcessState)
	}
}
