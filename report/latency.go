package report

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// latencies keeps handshake latencies for nearest-rank percentiles in
// bounded memory: every one while there are at most maxExact (the
// percentiles are exact), then a histogram of all of them in
// microseconds, exact below 2,048 µs and within 1/2,048 above (the
// maximum stays exact), so that a capture of any size is summed up in
// under half a megabyte more.
//
// The exact ones are kept in chunks of exactChunk, the last grown by
// append up to that: a slice grown whole to a million copies each
// latency several times over into memory new from the system, whose every
// page is a fault (on the 200,000-connection capture, 2,100 faults for
// 180,000 latencies, a sixth of --summary's, at 11 µs each in a virtual
// machine); the chunks are joined once, when a percentile is asked.
type latencies struct {
	exact [][]time.Duration // in chunks; one, joined, after percentile
	hist  []uint64          // by histIndex, once exact overflowed
	n     uint64
	max   time.Duration
}

// maxExact is how many latencies are kept exactly: 8 MiB of them; in
// chunks of exactChunk (64 KiB).
const (
	maxExact   = 1 << 20
	exactChunk = 1 << 13
)

// Histogram buckets: one per microsecond below 2^subBits, then 2^(subBits-1)
// per power of two.
const (
	subBits    = 11
	subBuckets = 1 << subBits
	halfSub    = subBuckets / 2
	histLen    = subBuckets + 53*halfSub // up to 2^63 µs
)

func (l *latencies) add(d time.Duration) {
	if l.n == 0 || d > l.max {
		l.max = d
	}
	l.n++
	if l.hist == nil && l.n <= maxExact {
		last := len(l.exact) - 1
		switch {
		case last < 0: // grown by append: a few latencies take little room
			l.exact = append(l.exact, nil)
			last++
		case len(l.exact[last]) == exactChunk:
			l.exact = append(l.exact, make([]time.Duration, 0, exactChunk))
			last++
		}
		l.exact[last] = append(l.exact[last], d)
		return
	}
	if l.hist == nil {
		l.hist = make([]uint64, histLen)
		for _, chunk := range l.exact {
			for _, e := range chunk {
				l.hist[histIndex(us(e))]++
			}
		}
		l.exact = nil
	}
	l.hist[histIndex(us(d))]++
}

// joined returns the exact latencies in one slice, joining the chunks
// once.
func (l *latencies) joined() []time.Duration {
	if len(l.exact) > 1 {
		all := make([]time.Duration, 0, l.n)
		for _, chunk := range l.exact {
			all = append(all, chunk...)
		}
		l.exact = [][]time.Duration{all}
	}
	return l.exact[0]
}

// histIndex is the bucket of v µs (a negative latency, from a clock
// that ran backwards, counts as 0).
func histIndex(v int64) int {
	if v < subBuckets {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - subBits // v>>e is in [halfSub*2/2, subBuckets)
	return subBuckets + (e-1)*halfSub + int(v>>e) - halfSub
}

// histValue is the middle of bucket i, in µs.
func histValue(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	e := (i-subBuckets)/halfSub + 1
	sub := int64((i-subBuckets)%halfSub + halfSub)
	return sub<<e + 1<<(e-1)
}

// percentile is the nearest-rank p-th percentile (p in (0, 100]): the
// smallest latency that at least p% of them do not exceed.
func (l *latencies) percentile(p float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	if p >= 100 {
		return l.max
	}
	rank := max(uint64(math.Ceil(p/100*float64(l.n))), 1)
	if l.hist == nil {
		return nth(l.joined(), int(rank-1))
	}
	var seen uint64
	for i, k := range l.hist {
		if seen += k; seen >= rank {
			return min(time.Duration(histValue(i))*time.Microsecond, l.max)
		}
	}
	return l.max
}

// nth returns the k-th smallest of s (from 0), reordering s: a
// quickselect, linear on average, where sorting a million latencies took
// most of the summary's time after the last frame.
func nth(s []time.Duration, k int) time.Duration {
	lo, hi := 0, len(s)-1
	// A crafted order of latencies can make a quickselect quadratic:
	// after more rounds than halving would take, sort what is left.
	for rounds := 2 * bits.Len(uint(len(s))); lo < hi; rounds-- {
		if rounds == 0 {
			slices.Sort(s[lo : hi+1])
			return s[k]
		}
		// Median of three as the pivot, then Hoare's partition.
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}
