package pipeline

import (
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"
)

// TestBatchWrittenFirst: a new batch has had each of its pages written,
// so that the collector's scan reading it before the reader fills it
// does not cost the reader two faults a page (the kernel's zero page,
// then its copy and a flush on the other core) but one, when the batch
// is made.
func TestBatchWrittenFirst(t *testing.T) {
	if raceDetector {
		t.Skip("-race: the race detector's shadow memory takes page faults of its own")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b := newBatch()
	var sum byte
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&b.items)), unsafe.Sizeof(b.items))
	for i := 0; i < len(raw); i += 64 { // as the collector's scan reads it
		sum += raw[i]
	}
	for i := 0; i < len(raw); i += 64 { // as the reader fills it
		raw[i] = 1
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	pages := int64(len(raw) / os.Getpagesize())
	if faults := after.Minflt - before.Minflt; faults > pages*5/4+8 || sum != 0 {
		t.Errorf("a batch of %d pages took %d page faults to read and then write (sum %d): pages are read before they are written", pages, faults, sum)
	}
}
