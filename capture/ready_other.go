//go:build cgo && !linux

package capture

import (
	"os"
	"syscall"
)

// pollable leaves the waiting to poll(2) in synack_read where synack does
// not put the handle's descriptor in Go's poller.
func pollable(int) (*os.File, syscall.RawConn) { return nil, nil }
