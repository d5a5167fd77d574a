//go:build amd64

package decode

// hasPrefetchW says that the processor runs PREFETCHW, which older x86
// processors may not (CPUID's PRFCHW): read by prefetchRangeW. Set once,
// before main, and never written again.
var hasPrefetchW = cpuidPrefetchW()

func cpuidPrefetchW() bool
