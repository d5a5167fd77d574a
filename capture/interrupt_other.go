//go:build !unix

package capture

import (
	"context"
	"os"
)

// openInterruptible, where there is no poll(2) (Windows), reads f as it
// is: a read that waits on a silent pipe or standard input is not ended
// by ctx, only by the writer or by closing. keep leaves f open on Close
// (standard input).
func openInterruptible(_ context.Context, f *os.File, name string, keep bool) (*File, error) {
	file, err := NewReader(f, name)
	if err != nil {
		if !keep {
			f.Close()
		}
		return nil, err
	}
	if !keep {
		file.closer = f
	}
	return file, nil
}

// openFIFO opens a named pipe with a plain open: a wait for its writer is
// not ended by ctx here.
func openFIFO(_ context.Context, path string) (*os.File, error) { return os.Open(path) }
