//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLiveKeepsUp makes 5,000 short loopback connections as fast as 8
// clients can while `synack live` captures them, and checks that every
// connection is in the report, or that libpcap's counters account for the
// packets that are not.
func TestLiveKeepsUp(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: load: 5,000 live connections")
	}
	needCapture(t)
	const conns, workers = 5000, 8
	addr := greetingListener(t)
	_, port, _ := net.SplitHostPort(addr)
	var stdout strings.Builder
	cmd, stderr := startLive(t, &stdout, "live", "--format", "json", "tcp", "port", port)

	start := time.Now()
	var wg sync.WaitGroup
	var failed sync.Map
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range conns / workers {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					failed.Store(w, err)
					return
				}
				io.Copy(io.Discard, c)
				c.Close()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	failed.Range(func(k, v any) bool { t.Fatalf("client %v: %v", k, v); return false })
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(stderr)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("live: %v\n%s", err, rest)
	}
	var doc struct {
		Totals struct {
			Frames, Connections uint64
			Verdicts            map[string]uint64
		}
		Capture *struct {
			Received           uint64
			DroppedByKernel    uint64 `json:"dropped_by_kernel"`
			DroppedByInterface uint64 `json:"dropped_by_interface"`
		}
	}
	if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
		t.Fatalf("%v\n%.400s", err, stdout.String())
	}
	if doc.Capture == nil {
		t.Fatal("no libpcap counters in the report")
	}
	t.Logf("%d connections in %v (%.0f/s): %d frames, %d complete; libpcap: %d received, %d dropped by kernel",
		conns, elapsed.Round(time.Millisecond), conns/elapsed.Seconds(), doc.Totals.Frames, doc.Totals.Verdicts["complete"],
		doc.Capture.Received, doc.Capture.DroppedByKernel)
	if drops := doc.Capture.DroppedByKernel + doc.Capture.DroppedByInterface; drops == 0 {
		if doc.Totals.Verdicts["complete"] != conns || doc.Totals.Connections != conns {
			t.Errorf("%d connections, %d complete; want %d, all complete (no drops reported)",
				doc.Totals.Connections, doc.Totals.Verdicts["complete"], conns)
		}
	} else if missing := conns - int(doc.Totals.Connections); missing > int(drops) {
		t.Errorf("%d connections missing with %d packets dropped: more are missing than the drops explain", missing, drops)
	}
}

// vmRSS reads a process's resident set size in KiB from /proc.
func vmRSS(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestLiveSoak runs 20,000 loopback connections, in four rounds, under
// `synack live --summary`: it must not crash, its memory must stay flat
// from round to round, and every connection must be counted (or the
// missing ones covered by libpcap's drops).
func TestLiveSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: soak: 20,000 live connections")
	}
	needCapture(t)
	const rounds, perRound, workers = 4, 5000, 8
	addr := greetingListener(t)
	_, port, _ := net.SplitHostPort(addr)
	var stdout strings.Builder
	cmd, stderr := startLive(t, &stdout, "live", "--summary", "--format", "json", "tcp", "port", port)
	var rss []int
	start := time.Now()
	for range rounds {
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perRound / workers {
					if c, err := net.Dial("tcp", addr); err == nil {
						io.Copy(io.Discard, c)
						c.Close()
					}
				}
			}()
		}
		wg.Wait()
		time.Sleep(200 * time.Millisecond)
		rss = append(rss, vmRSS(t, cmd.Process.Pid))
	}
	elapsed := time.Since(start)
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(stderr)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 143 {
		t.Fatalf("live: %v\n%s", err, rest)
	}
	var doc struct {
		Summary struct{ Connections uint64 }
		Capture struct {
			Received        uint64
			DroppedByKernel uint64 `json:"dropped_by_kernel"`
		}
	}
	if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
		t.Fatalf("%v\n%.300s", err, stdout.String())
	}
	t.Logf("%d connections in %v; RSS after each round %v KiB; %d connections reported, %d packets dropped by the kernel",
		rounds*perRound, elapsed.Round(time.Millisecond), rss, doc.Summary.Connections, doc.Capture.DroppedByKernel)
	if last, first := rss[len(rss)-1], rss[0]; last > first*3/2+8<<10 {
		t.Errorf("memory grew from %d to %d KiB over the rounds", first, last)
	}
	if missing := rounds*perRound - int(doc.Summary.Connections); missing > int(doc.Capture.DroppedByKernel) {
		t.Errorf("%d connections missing, %d packets dropped", missing, doc.Capture.DroppedByKernel)
	}
}

// TestLiveStopsUnderLoad stops `synack live` with SIGINT while clients
// keep connecting: a link that never goes quiet must not keep it going.
// It stops within a second, and what it reports is whole: every frame
// stamped before the stop was read (no connection cut short by the stop
// is missing its SYN).
func TestLiveStopsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: load: live capture under continuous traffic")
	}
	needCapture(t)
	addr := greetingListener(t)
	_, port, _ := net.SplitHostPort(addr)
	var stdout strings.Builder
	cmd, stderr := startLive(t, &stdout, "live", "--summary", "--format", "json", "tcp", "port", port)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if c, err := net.Dial("tcp", addr); err == nil {
					io.Copy(io.Discard, c)
					c.Close()
				}
			}
		}()
	}
	defer func() { close(done); wg.Wait() }()
	time.Sleep(time.Second)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(stderr)
	err := cmd.Wait()
	took := time.Since(start)
	if cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("live: %v\n%s", err, rest)
	}
	var doc struct {
		Summary struct {
			Connections uint64
			Verdicts    map[string]uint64
		}
	}
	if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
		t.Fatalf("%v\n%.300s", err, stdout.String())
	}
	t.Logf("stopped %v after SIGINT; %d connections, verdicts %v", took.Round(time.Millisecond), doc.Summary.Connections, doc.Summary.Verdicts)
	if took > time.Second {
		t.Errorf("stopping under load took %v; want < 1s", took)
	}
	if doc.Summary.Connections < 100 {
		t.Errorf("%d connections in a second of load; want hundreds", doc.Summary.Connections)
	}
	if p := doc.Summary.Verdicts["partial"]; p > 0 {
		t.Errorf("%d partial connections: frames stamped before the stop were lost", p)
	}
}
