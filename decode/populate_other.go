//go:build !linux

package decode

import "unsafe"

// populate is for Linux only: elsewhere each page is mapped when it is
// first written.
func populate(p unsafe.Pointer, n uintptr) bool { return false }
