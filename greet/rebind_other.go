//go:build !unix

package greet

import (
	"errors"
	"fmt"
)

// Rebind is unix's: elsewhere the time-wait scenario cannot clear
// SO_REUSEADDR the same way.
func Rebind(addr string, reuseAddr bool) error {
	return fmt.Errorf("rebind %s: %w", addr, errors.ErrUnsupported)
}
