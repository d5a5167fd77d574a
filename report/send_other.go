//go:build !linux

package report

import (
	"io"
	"os"
)

// sendFile does not copy in the kernel where there is no sendfile(2) to
// any file (see send_linux.go): FreeBSD's sends to sockets only.
func sendFile(io.Writer, *os.File) (int64, bool, error) { return 0, false, nil }
