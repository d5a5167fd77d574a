package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"synack/capture"
)

// offlineBinary builds synack with CGO_ENABLED=0, as `make cross` does,
// into dir.
func offlineBinary(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "synack-offline")
	cmd := exec.Command("go", "build", "-o", path, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	return path
}

// ran is what one run of a binary gave.
type ran struct {
	code           int
	stdout, stderr []byte
}

func runBinary(t *testing.T, bin string, args ...string) ran {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s %v: %v", filepath.Base(bin), args, err)
	}
	return ran{cmd.ProcessState.ExitCode(), out.Bytes(), errb.Bytes()}
}

// TestOfflineBuild checks the build without cgo (and so without
// libpcap): it reports every fixture exactly as the cgo build does, in
// every output format and through check; it refuses a BPF filter as a
// usage error that points at --where; live capture, the demo and the
// interface list say libpcap is missing.
func TestOfflineBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds synack twice and reads every fixture with both")
	}
	offline := offlineBinary(t, t.TempDir())
	withCgo := synackBinary(t)

	t.Run("links no libpcap", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("reads an ELF binary")
		}
		f, err := elf.Open(offline)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		libs, _ := f.ImportedLibraries() // none at all: a static binary
		for _, l := range libs {
			if strings.Contains(l, "pcap") {
				t.Errorf("the offline build needs %s", l)
			}
		}
		if got := runBinary(t, offline, "version"); !strings.Contains(string(got.stdout), "\nlibpcap: not in this build (CGO_ENABLED=0)\n") {
			t.Errorf("synack version says:\n%s", got.stdout)
		}
	})

	t.Run("same reports as the cgo build", func(t *testing.T) {
		if v := runBinary(t, withCgo, "version"); !bytes.Contains(v.stdout, []byte("\nlibpcap version")) {
			t.Fatalf("the build to compare with has no libpcap either (CGO_ENABLED=0 in the environment?):\n%s", v.stdout)
		}
		fixtures, _ := filepath.Glob("fixtures/*.pcap")
		ng, _ := filepath.Glob("fixtures/*.pcapng")
		fixtures = append(fixtures, ng...)
		if len(fixtures) < 10 {
			t.Fatalf("only %d fixtures found", len(fixtures))
		}
		runs := [][]string{
			{"--format", "text"}, {"--format", "text", "--summary"}, {"--format", "json"}, {"--format", "json", "--summary"},
			{"--format", "ndjson", "--events"}, {"--format", "zeek"}, {"--format", "svg"}, {"--format", "html"}, {"--format", "mermaid"},
		}
		for _, fixture := range fixtures {
			t.Run(filepath.Base(fixture), func(t *testing.T) {
				t.Parallel()
				for _, flags := range runs {
					same(t, withCgo, offline, append([]string{"read", fixture}, flags...)...)
				}
				same(t, withCgo, offline, "check", "-v", fixture, "--expect", "verdict=complete", "--expect", "syn_to_synack<5ms")
			})
		}
	})

	t.Run("a filter is refused, pointing at --where", func(t *testing.T) {
		for _, args := range [][]string{
			{"read", "fixtures/greeting.pcap", "tcp port 12345"},
			{"-r", "fixtures/greeting.pcap", "tcp"},
			{"read", "--jobs", "2", "fixtures/greeting.pcap", "fixtures/handshakes.pcap", "-f", "tcp"},
			{"check", "fixtures/greeting.pcap", "--filter", "tcp", "--expect", "verdict=complete"},
		} {
			got := runBinary(t, offline, args...)
			if got.code != exitUsage {
				t.Errorf("synack %s: exit %d, want %d (usage error)", strings.Join(args, " "), got.code, exitUsage)
			}
			stderr := string(got.stderr)
			if !strings.Contains(stderr, "this build has no libpcap (built with CGO_ENABLED=0)") ||
				strings.Count(stderr, "choose connections with --where instead") != 1 {
				t.Errorf("synack %s: stderr does not name the missing libpcap and --where once:\n%s", strings.Join(args, " "), stderr)
			}
		}
		// What the message proposes works.
		got := runBinary(t, offline, "read", "fixtures/greeting.pcap", "--where", "server.port=12345")
		if got.code != exitOK || !bytes.Contains(got.stdout, []byte("1 connection")) {
			t.Errorf("--where: exit %d\n%s%s", got.code, got.stdout, got.stderr)
		}
	})

	t.Run("live capture says there is no libpcap", func(t *testing.T) {
		for _, args := range [][]string{
			{"live"}, {"live", "-i", "lo", "tcp"}, {"-i", "lo"}, {"demo"}, {"interfaces"}, {"-D"},
		} {
			got := runBinary(t, offline, args...)
			if got.code != exitCapture {
				t.Errorf("synack %s: exit %d, want %d", strings.Join(args, " "), got.code, exitCapture)
			}
			if !strings.Contains(string(got.stderr), "this build has no libpcap (built with CGO_ENABLED=0)") {
				t.Errorf("synack %s: stderr:\n%s", strings.Join(args, " "), got.stderr)
			}
		}
	})
}

// same runs both binaries with args and compares exit code, stdout and
// stderr byte for byte.
func same(t *testing.T, withCgo, offline string, args ...string) {
	t.Helper()
	want, got := runBinary(t, withCgo, args...), runBinary(t, offline, args...)
	cmd := "synack " + strings.Join(args, " ")
	if got.code != want.code {
		t.Errorf("%s: exit %d without cgo, %d with", cmd, got.code, want.code)
	}
	if !bytes.Equal(got.stdout, want.stdout) {
		t.Errorf("%s: stdout differs without cgo (%d bytes, %d with): %s", cmd, len(got.stdout), len(want.stdout), firstDifference(got.stdout, want.stdout))
	}
	if !bytes.Equal(got.stderr, want.stderr) {
		t.Errorf("%s: stderr differs without cgo:\n%s\nwith cgo:\n%s", cmd, got.stderr, want.stderr)
	}
}

// firstDifference shows where two outputs part.
func firstDifference(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-40)
	return fmt.Sprintf("at byte %d: %q vs %q", i, a[from:min(len(a), i+40)], b[from:min(len(b), i+40)])
}

// TestNoLibpcapExitCodes: without libpcap, a filter is the command line's
// problem (2), a capture is impossible (4).
func TestNoLibpcapExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"filter", &capture.FilterError{Expr: "tcp", Err: capture.ErrNoLibpcap}, exitUsage},
		{"filter of a file", fmt.Errorf("x.pcap: %w", &capture.FilterError{Expr: "tcp", Err: capture.ErrNoLibpcap}), exitUsage},
		{"live", &captureError{fmt.Errorf("live capture: %w", capture.ErrNoLibpcap)}, exitCapture},
		{"bare", fmt.Errorf("list interfaces: %w", capture.ErrNoLibpcap), exitCapture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
