//go:build unix

package capture

import (
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// openMapped maps an uncompressed capture into memory. It reports false
// (and leaves f open) when the file is compressed or cannot be mapped, so
// that it is read the ordinary way.
func openMapped(f *os.File, path string, size int64) (*File, bool) {
	if size > math.MaxInt || int64(int(size)) != size {
		return nil, false
	}
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return nil, false
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, false
	}
	_ = unix.Madvise(mem, unix.MADV_SEQUENTIAL)
	file, err := newFile(&countingReader{mem: mem}, path, false)
	if err != nil {
		unix.Munmap(mem)
		return nil, false
	}
	file.closer = &mapping{f: f, mem: mem}
	file.size = size
	return file, true
}

// mapping closes a mapped file.
type mapping struct {
	f   *os.File
	mem []byte
}

func (m *mapping) Close() error {
	err := unix.Munmap(m.mem)
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// releaseStep is how much of a mapped file is read before the pages
// behind are handed back, and releaseLag how far behind the read offset
// they must be: frames already handed out stay valid.
const (
	releaseStep = 8 << 20
	releaseLag  = 1 << 20
)

// release drops the pages of a mapped file that have been read, so that
// memory does not grow with the file: they stay in the page cache, not in
// this process.
func (c *countingReader) release() {
	end := (c.n - releaseLag) &^ (int64(os.Getpagesize()) - 1)
	if end-c.released < releaseStep {
		return
	}
	_ = unix.Madvise(c.mem[c.released:end], unix.MADV_DONTNEED)
	c.released = end
}
