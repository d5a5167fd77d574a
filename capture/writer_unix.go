//go:build unix

package capture

import (
	"errors"
	"syscall"
)

// noFollow makes open(2) refuse a symbolic link as the last component of
// the path, with ELOOP.
const noFollow = syscall.O_NOFOLLOW

func refusedSymlink(err error) bool { return errors.Is(err, syscall.ELOOP) }
