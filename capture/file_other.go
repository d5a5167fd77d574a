//go:build !unix

package capture

import "os"

// openMapped reports false where synack does not map files (Windows, and
// every system without mmap(2)): the file is read the ordinary way, and
// File.Mapped is false, so that readers copy the frames they keep.
func openMapped(*os.File, string, int64) (*File, bool) { return nil, false }

// release has nothing to give back: nothing is mapped.
func (c *countingReader) release() {}
