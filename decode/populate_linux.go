package decode

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// populate maps the pages under the n bytes at p, writable, in one system
// call (madvise MADV_POPULATE_WRITE), where writing to each would take a
// page fault each; it leaves their contents as they are. It reports
// whether every page is mapped: false before Linux 5.14, or where part of
// the range is not memory the process may write.
func populate(p unsafe.Pointer, n uintptr) bool {
	start := uintptr(p) &^ (pageSize - 1)
	end := (uintptr(p) + n + pageSize - 1) &^ (pageSize - 1)
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPopulateWrite)
	return errno == 0
}
