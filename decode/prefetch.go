//go:build amd64 || arm64

package decode

import "unsafe"

// prefetch asks the processor for the two cache lines at p, without
// waiting for them: for memory the decoder will write a while later, which
// would otherwise stall it then (a tombstone to reuse, long out of the
// cache). The Go compiler has no such instruction to offer.
//
//go:noescape
func prefetch(p unsafe.Pointer)

// prefetchRange asks for the cache lines of the n bytes at p (n > 0),
// without waiting for them.
//
//go:noescape
func prefetchRange(p unsafe.Pointer, n uintptr)
