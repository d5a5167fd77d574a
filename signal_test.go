//go:build unix

package main

import (
	"bufio"
	"context"
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
// then gives SIGINT back to the system, so a second one kills it even
// when the work does not stop. The test binary runs itself as the
// process: signalContext, then work that ignores the request.
func TestSecondSignalKills(t *testing.T) {
	if os.Getenv("SYNACK_SECOND_SIGNAL_HELPER") == "1" {
		ctx, stop, _ := signalContext(context.Background())
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		time.Sleep(10 * time.Second) // work that cannot stop
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalKills$")
	cmd.Env = append(os.Environ(), "SYNACK_SECOND_SIGNAL_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(out).ReadString('\n') // "ready": the handlers are set
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("still running 5 s after the second SIGINT")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("ended with %v, want death by SIGINT (the default action)", cmd.ProcessState)
	}
}

// TestSignalStopsStalledPipe: a read waiting on a writer that has gone
// quiet (a FIFO nobody opened, a FIFO or standard input whose writer
// stalls after some frames) stops at the first SIGTERM, reports what it
// read and exits 143 — before, the signal waited for data that never came.
func TestSignalStopsStalledPipe(t *testing.T) {
	greeting, err := os.ReadFile("fixtures/greeting.pcap")
	if err != nil {
		t.Fatal(err)
	}
	bin := synackBinary(t)
	for _, tc := range []struct {
		name   string
		fifo   bool
		write  bool   // the writer sends the greeting, then stalls
		frames uint64 // in the report
	}{
		{"FIFO without a writer", true, false, 0},
		{"FIFO whose writer stalls", true, true, 8},
		{"standard input whose writer stalls", false, true, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "read", "--format", "json", "-")
			var writer *os.File
			writerCh := make(chan *os.File, 1)
			if tc.fifo {
				fifo := filepath.Join(dir, "capture.pcap")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
				cmd.Args[len(cmd.Args)-1] = fifo
				if tc.write {
					go func() {
						w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
						if err == nil {
							w.Write(greeting)
						}
						writerCh <- w // kept open: the writer stalls
					}()
				}
			} else {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stdin = r
				w.Write(greeting)
				writer = w
				defer r.Close()
			}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			time.Sleep(500 * time.Millisecond)
			sent := time.Now()
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still reading 5 s after SIGTERM; stderr: %s", stderr.String())
			}
			if tc.fifo && tc.write {
				writer = <-writerCh
			}
			if writer != nil {
				writer.Close()
			}
			t.Logf("stopped %v after the signal", time.Since(sent).Round(time.Millisecond))
			if code := cmd.ProcessState.ExitCode(); code != 143 {
				t.Errorf("exit %d, want 143; stderr: %s", code, stderr.String())
			}
			if tc.frames == 0 {
				if !strings.Contains(stderr.String(), "interrupted (terminated signal received) before the capture's header was read") {
					t.Errorf("stderr: %s", stderr.String())
				}
				return
			}
			var doc struct {
				Error  string
				Totals struct{ Frames, Connections uint64 }
			}
			if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
				t.Fatalf("no whole report: %v\n%s", err, stdout.String())
			}
			if doc.Totals.Frames != tc.frames || !strings.Contains(doc.Error, "frame 9: interrupted") {
				t.Errorf("%d frames, error %q; want %d frames and where reading stopped", doc.Totals.Frames, doc.Error, tc.frames)
			}
		})
	}
}
