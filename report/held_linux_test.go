package report

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestHeldMemoryAsksForHugePages checks, in the kernel's own account of
// the mapping (/proc/self/smaps), that the memory parts are held in may
// have huge pages: THPeligible is 1 for it where huge pages are enabled,
// "always" or "madvise", the default of most distributions, which gives
// them only to memory advised so.
func TestHeldMemoryAsksForHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off here (%q, %v)", mode, err)
	}
	mem, err := mapMemory(orderedMemory)
	if err != nil {
		t.Fatal(err)
	}
	defer unmapMemory(mem)
	start := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(unsafe.SliceData(mem))))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasPrefix(line, start)
			continue
		}
		if in && strings.HasPrefix(line, "THPeligible:") {
			if got := strings.TrimSpace(strings.TrimPrefix(line, "THPeligible:")); got != "1" {
				t.Errorf("THPeligible %s for the held parts' memory, want 1", got)
			}
			return
		}
	}
	t.Skip("smaps gives no THPeligible for the mapping (kernel older than 4.15)")
}
