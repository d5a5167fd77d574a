//go:build amd64 && linux

package decode

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestPrefetchWFlag holds the CPUID check behind PREFETCHW to what the
// kernel read of the same processor: /proc/cpuinfo's 3dnowprefetch flag.
// A wrong answer either way is silent (a slower read, or an instruction
// the processor may not run), so it is checked here.
func TestPrefetchWFlag(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo: %v", err)
	}
	for line := range strings.Lines(string(info)) {
		name, flags, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		want := slices.Contains(strings.Fields(flags), "3dnowprefetch")
		if hasPrefetchW != want {
			t.Errorf("CPUID says PREFETCHW %v, /proc/cpuinfo's 3dnowprefetch %v", hasPrefetchW, want)
		}
		return
	}
	t.Skip("/proc/cpuinfo has no flags line")
}

// TestPrefetchWrite runs the prefetch over a Parsed, with PREFETCHW and
// with the PREFETCHT0 that stands in for it (they are hints: nothing is
// read or written, nothing may fault), and checks that the memory is as
// it was.
func TestPrefetchWrite(t *testing.T) {
	var pf Parsed
	pf.number = 7
	has := hasPrefetchW
	defer func() { hasPrefetchW = has }()
	for _, w := range []bool{true, false} {
		if w && !has {
			continue // the processor may not run it
		}
		hasPrefetchW = w
		PrefetchW(&pf)
	}
	if pf.number != 7 {
		t.Errorf("prefetching changed memory: number %d", pf.number)
	}
}
