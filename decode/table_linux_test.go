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
	if raceDetector {
		t.Skip("-race: the race detector's shadow memory takes page faults of its own")
	}
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

// TestPopulateMapsPages: after populate, writing to each page of memory
// fresh from the system takes no page fault; writeFirst uses it.
func TestPopulateMapsPages(t *testing.T) {
	if raceDetector {
		t.Skip("-race: the race detector's shadow memory takes page faults of its own")
	}
	const size = 8 << 20
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	mem[100] = 7
	if !populate(unsafe.Pointer(&mem[0]), size) {
		t.Skip("madvise MADV_POPULATE_WRITE failed: Linux before 5.14; writeFirst writes each page instead")
	}
	if mem[100] != 7 {
		t.Fatalf("populate changed what the memory held: %d, want 7", mem[100])
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for i := 0; i < size; i += os.Getpagesize() {
		mem[i] = 1
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	pages := size / os.Getpagesize()
	if faults := after.Minflt - before.Minflt; faults > int64(pages)/16 {
		t.Errorf("writing %d populated pages took %d page faults", pages, faults)
	}
	// A range that is not all mapped is refused: two pages, the second
	// unmapped (by hand: syscall.Munmap takes whole mappings only).
	page := os.Getpagesize()
	two, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(&two[0])), uintptr(page), 0)
	if _, _, errno := syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(&two[page])), uintptr(page), 0); errno != 0 {
		t.Fatal(errno)
	}
	if populate(unsafe.Pointer(&two[0]), uintptr(2*page)) {
		t.Errorf("populate of a range half unmapped reported success")
	}
}
