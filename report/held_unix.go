//go:build unix

package report

import "golang.org/x/sys/unix"

// mapMemory is n bytes of anonymous memory outside Go's heap: its pages
// cost memory once written to, and all of it goes back at unmapMemory.
// Where the system has them, it asks for huge pages (adviseHuge).
func mapMemory(n int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err == nil {
		adviseHuge(mem)
	}
	return mem, err
}

func unmapMemory(b []byte) error { return unix.Munmap(b) }
