//go:build !amd64 && !arm64

package decode

import "unsafe"

// prefetch does nothing where synack has no assembly for it (see
// prefetch.go).
func prefetch(unsafe.Pointer) {}

// prefetchRange does nothing here either.
func prefetchRange(unsafe.Pointer, uintptr) {}

// prefetchRangeW does nothing here either.
func prefetchRangeW(unsafe.Pointer, uintptr) {}
