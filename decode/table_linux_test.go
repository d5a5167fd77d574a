package decode

import (
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"
)

// TestTableGrowsWithoutZeroPage: a table that grows writes each page of
// its new slots before it probes them (writeFirst), so that each page
// costs one fault, not two (the kernel's zero page mapped on the probe's
// read, then copied and flushed from the other core on the write).
func TestTableGrowsWithoutZeroPage(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	type keyed struct{ key connKey } // a record as small as a table holds
	tb := newTable[keyed]()
	const full = 3 << 17 // three quarters of 1<<19 slots: the next put doubles them
	recs := make([]keyed, full+1)
	for i := range recs {
		recs[i].key.aLo = uint64(i) + 1
	}
	for i := range full {
		tb.put(&recs[i])
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	tb.put(&recs[full]) // grows to 1<<20 slots: 16 MiB, fresh from the system
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	if len(tb.slots) != 1<<20 {
		t.Fatalf("the table has %d slots, want 1<<20", len(tb.slots))
	}
	pages := len(tb.slots) * int(unsafe.Sizeof(tb.slots[0])) / os.Getpagesize()
	if faults := after.Minflt - before.Minflt; faults > int64(pages)*5/4 {
		t.Errorf("growing to %d pages took %d page faults: pages are read before they are written", pages, faults)
	}
	for i := range recs {
		if tb.get(&recs[i].key) != &recs[i] {
			t.Fatalf("record %d lost in the growth", i)
		}
	}
}
