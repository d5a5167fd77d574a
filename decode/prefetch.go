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

// prefetchRangeW asks for the cache lines of the n bytes at p (n > 0) to
// be written: they come without waiting for them and with every other
// core's copy invalidated, so that the stores that follow do not wait for
// that. Where the processor has no such instruction (x86 without
// PRFCHW), it asks for them as prefetchRange does.
//
//go:noescape
func prefetchRangeW(p unsafe.Pointer, n uintptr)
