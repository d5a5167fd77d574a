package report

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// reference is the nearest-rank percentile of a sorted copy of ds.
func reference(ds []time.Duration, p float64) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[max(int(math.Ceil(p/100*float64(len(s))))-1, 0)]
}

// TestLatencyPercentiles: up to maxExact latencies the percentiles are
// those of sorting them all (quickselect, duplicates and negative values
// included); past it the histogram keeps them within 1/2,048 (plus the
// microsecond the report rounds to), the maximum exact, in bounded memory.
func TestLatencyPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gen := map[string]func(n int) []time.Duration{
		"spread": func(n int) []time.Duration {
			out := make([]time.Duration, n)
			for i := range out {
				out[i] = time.Duration(rng.Int64N(int64(30 * time.Second)))
			}
			return out
		},
		"few values": func(n int) []time.Duration {
			out := make([]time.Duration, n)
			for i := range out {
				out[i] = time.Duration(rng.IntN(3)) * time.Millisecond
			}
			return out
		},
		"sorted, with a clock gone backwards": func(n int) []time.Duration {
			out := make([]time.Duration, n)
			for i := range out {
				out[i] = time.Duration(i-5) * time.Microsecond
			}
			return out
		},
	}
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"spread", 1}, {"spread", 2}, {"spread", 1000}, {"few values", 100001},
		{"sorted, with a clock gone backwards", 5000},
		{"spread", maxExact + 5000}, {"few values", maxExact + 1},
	} {
		ds := gen[tc.name](tc.n)
		var l latencies
		for _, d := range ds {
			l.add(d)
		}
		overflowed := tc.n > maxExact
		if overflowed != (l.hist != nil) || overflowed && l.exact != nil {
			t.Errorf("%s, %d: histogram %v, exact kept %d", tc.name, tc.n, l.hist != nil, len(l.exact))
		}
		for _, p := range []float64{50, 90, 99, 100} {
			got, want := l.percentile(p), reference(ds, p)
			switch {
			case !overflowed || p == 100:
				if got != want {
					t.Errorf("%s, %d: p%v = %v, want %v", tc.name, tc.n, p, got, want)
				}
			default:
				if diff := (got - want).Abs(); diff > want/2048+time.Microsecond {
					t.Errorf("%s, %d: p%v = %v, want %v within %v", tc.name, tc.n, p, got, want, want/2048)
				}
			}
		}
	}
}

// TestHistIndex: every microsecond value falls in a bucket whose middle
// is within 1/2,048 of it, buckets in order of value.
func TestHistIndex(t *testing.T) {
	prev := -1
	// Bucket tops among them: (1024<<e)+(1<<e)-1 ends the bucket of 1024<<e.
	for _, v := range []int64{0, 1, 2047, 2048, 2049, 2051, 4095, 4096, 1e6, 1<<20 + 1<<10 - 1, 1e9 + 7, 1<<40 + 1<<30 - 1, math.MaxInt64} {
		i := histIndex(v)
		if i < prev || i >= histLen {
			t.Fatalf("%d µs: bucket %d after %d (of %d)", v, i, prev, histLen)
		}
		prev = i
		if mid := histValue(i); math.Abs(float64(mid-v)) > float64(v)/2048 {
			t.Errorf("%d µs: bucket %d's middle %d is off by more than 1/2048", v, i, mid)
		}
	}
}

// TestNthMatchesSort: the quickselect picks what sorting does, for every
// rank, on orders that trouble a median of three (sorted, reversed, organ
// pipe, all equal, sawtooth) and random ones.
func TestNthMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	orders := map[string]func(i, n int) time.Duration{
		"sorted":     func(i, n int) time.Duration { return time.Duration(i) },
		"reversed":   func(i, n int) time.Duration { return time.Duration(n - i) },
		"organ pipe": func(i, n int) time.Duration { return time.Duration(min(i, n-i)) },
		"all equal":  func(i, n int) time.Duration { return 7 },
		"sawtooth":   func(i, n int) time.Duration { return time.Duration(i % 5) },
		"random":     func(i, n int) time.Duration { return time.Duration(rng.IntN(50)) },
	}
	for name, order := range orders {
		for _, n := range []int{1, 2, 3, 7, 64, 257} {
			s := make([]time.Duration, n)
			for i := range s {
				s[i] = order(i, n)
			}
			want := slices.Sorted(slices.Values(s))
			for k := range n {
				if got := nth(slices.Clone(s), k); got != want[k] {
					t.Fatalf("%s, %d: rank %d is %v, want %v", name, n, k, got, want[k])
				}
			}
		}
	}
}

// TestLatenciesGrowWithoutCopies: the exact latencies are kept in chunks,
// so that keeping n of them allocates about their size once, not the
// several times over of a slice grown by append (memory new from the
// system, a page fault a page).
func TestLatenciesGrowWithoutCopies(t *testing.T) {
	const n = 200_000
	var l latencies
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		l.add(time.Duration(i))
	}
	runtime.ReadMemStats(&after)
	size := uint64(n) * uint64(unsafe.Sizeof(time.Duration(0)))
	if got := after.TotalAlloc - before.TotalAlloc; got > size*5/4 {
		t.Errorf("keeping %d latencies (%d bytes) allocated %d bytes", n, size, got)
	}
	if got := l.percentile(50); got != n/2-1 {
		t.Errorf("p50 = %v, want %v", got, time.Duration(n/2-1))
	}
}
