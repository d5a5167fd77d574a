//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// TestFileShrinksWhileRead truncates a capture while synack reads it, in
// the middle of a record past what synack has read so far: synack must
// report the damage (exit 3, where reading stopped, the report of what it
// read) instead of crashing or taking the cut for the end of the file.
// synack is stopped (SIGSTOP) while the file is cut, so that the cut is
// where the test means it to be.
func TestFileShrinksWhileRead(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generates and reads a 60,000-connection capture")
	}
	if _, err := os.Stat("/proc/self/fdinfo"); err != nil {
		t.Skipf("no /proc/PID/fdinfo to see how far synack has read: %v", err)
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "big.pcap")
	if out, err := exec.Command("go", "run", "./fixtures/gen", "-conns", "60000", "-o", pcap).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	starts := recordStarts(t, pcap)
	cmd := exec.Command(synackBinary(t), "read", "--summary", pcap)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pos := int64(-1)
	for deadline := time.Now().Add(5 * time.Second); pos < 0 && time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		pos = readPosition(cmd.Process.Pid, pcap)
	}
	if pos < 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("synack never opened %s", pcap)
	}
	cmd.Process.Signal(syscall.SIGSTOP)
	waitStopped(t, cmd.Process.Pid)
	pos = readPosition(cmd.Process.Pid, pcap) // where it is now
	i, _ := slices.BinarySearch(starts, pos)
	if i+1 >= len(starts) {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Wait()
		t.Skipf("synack had read the whole file (%d bytes) before it could be cut", pos)
	}
	cut := starts[i+1] + 10 // ten bytes into a record's 16-byte header
	t.Logf("synack had read %d of %d bytes; cut at %d", pos, starts[len(starts)-1], cut)
	if err := os.Truncate(pcap, cut); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	want := fmt.Sprintf("(byte %d): truncated record header (10 of 16 bytes)", starts[i+1])
	if code != exitInput || !strings.Contains(stderr.String(), want) || strings.Contains(stderr.String(), "panic") {
		t.Fatalf("cut at byte %d (synack had read %d): exit %d, want 3 and %q:\n%s", cut, pos, code, want, stderr.String())
	}
	if !strings.Contains(stdout.String(), "totals:") {
		t.Fatalf("no report after the cut:\n%s", stdout.String())
	}
}

// recordStarts returns the offset of every record of a little-endian pcap
// file, and the file's end.
func recordStarts(t *testing.T, path string) []int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var starts []int64
	for off := 24; off+16 <= len(data); {
		starts = append(starts, int64(off))
		off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
	}
	return append(starts, int64(len(data)))
}

// waitStopped waits until every thread of process pid is stopped (state
// T in /proc/PID/task/TID/stat): a signal is delivered after kill(2)
// returns, and a read in progress ends first.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		stopped := len(tasks) > 0
		for _, task := range tasks {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
			// The state follows the command's closing parenthesis.
			if _, after, ok := strings.Cut(string(stat), ") "); err != nil || !ok || !strings.HasPrefix(after, "T") && !strings.HasPrefix(after, "t") {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
	}
	t.Fatalf("process %d did not stop", pid)
}

// readPosition is the file offset of process pid's descriptor for path,
// as /proc/PID/fdinfo gives it, or -1 while it has none open.
func readPosition(pid int, path string) int64 {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); target != path {
			continue
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil {
			return -1
		}
		for line := range strings.Lines(string(info)) {
			if v, ok := strings.CutPrefix(line, "pos:"); ok {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err == nil {
					return n
				}
			}
		}
	}
	return -1
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
