package decode

import (
	"math"
	"time"
)

// sweepEvery is how often, in capture time, idle connections are looked for.
const sweepEvery = 10 * time.Second

// backStep is how far back a frame may be dated and still be taken on its
// own word: frames captured on several queues or interfaces come a little
// out of order.
const backStep = sweepEvery

// sweepClock is the capture time by which idle connections are handed
// over. Capture time is the capture host's clock: NTP steps it, and a
// driver or a hostile file can date one frame in 2106. Zeek runs its
// timers by network_time, which follows the packets wherever they go, and
// tshark never expires a conversation; followed blindly, one frame from
// 2106 would hand every connection over at once and then stop the
// hand-over for the rest of the file (the next sweep being due in 2106).
//
// So the clock takes a frame's date when it is at most maxStep (the
// longest timeout, and no less than sweepEvery) ahead of the clock or
// backStep behind it. A date further off is taken only once the next
// frame agrees with it (is dated within the same bounds of it): one frame
// alone never moves the clock far, while a real gap in the traffic or a
// step of the host's clock costs a frame's delay. A step back that two
// frames agree on restarts the sweep schedule from there; how long a
// connection has been idle is counted on the activity clock (activity), which
// does not step back, so a step back neither hands connections over nor
// keeps them longer.
//
// The frame whose date the clock has not taken still goes to its
// connection, which is handed over first if the frame's own date says it
// has been idle past its timeout: that is what a real gap in the traffic
// means, and a date from 2106 costs that one connection alone.
type sweepClock struct {
	now  time.Time // the latest date taken
	next time.Time // when the next sweep is due, at most now+maxStep
	// from and to are now and next in Unix nanoseconds as of the last
	// time the clock moved otherwise than by usual: usual takes dates
	// between them. The range is empty when either is out of unixNano's
	// exact range, and after a date the clock did not take, so that the
	// next frame goes to observe.
	from, to int64
	// prevTaken says whether the clock took the previous frame's date;
	// if not, prev is that date and prevConn the connection the frame
	// went to (nil if none, or handed over since).
	prevTaken bool
	prev      time.Time
	prevConn  *flow
	// nowN is now in Unix nanoseconds, where unixNano is exact: usual
	// moves it alone, and observe brings now up to it.
	nowN int64
	// The activity clock (activity) reads nowN-off: capture time elapsed
	// on the sweep clock, moving forward with it and standing still when
	// it steps back. Connections are stamped active on it, so that the
	// order in which they were last active is the order of their stamps,
	// whatever the dates of their frames: the decoder keeps them in lists
	// in that order and finds those idle past a timeout at a list's head.
	off     int64
	started bool
	maxStep time.Duration
}

// near reports whether the clock takes a step from a to t on one frame's
// word.
func (k *sweepClock) near(a, t time.Time) bool {
	return !t.Before(a.Add(-backStep)) && !t.After(a.Add(k.maxStep))
}

// unixNano is t in Unix nanoseconds, and whether t is between 1970 and
// 2242 (Unix seconds below 2^33), where that is exact. Unlike time.Time's
// methods it inlines.
func unixNano(t time.Time) (int64, bool) {
	s := t.Unix()
	return s*1e9 + int64(t.Nanosecond()), uint64(s) < 1<<33
}

// usual takes a frame's date, n in Unix nanoseconds (see frameNano), if
// it is the usual date: between the clock's time when it last moved
// otherwise and the next sweep. It inlines to two integer comparisons,
// where time.Time's Before costs a call, which was most of what the clock
// cost a packet. Any other date goes to observe. A frame a little out of
// order is usual too, and leaves the clock where it is: the clock never
// moves back but for a step that two frames agree on.
func (k *sweepClock) usual(n int64) bool {
	if n >= k.from && n < k.to {
		k.nowN = max(k.nowN, n) // now follows in observe
		return true
	}
	return false
}

// frameNano is t in Unix nanoseconds where that is exact (see unixNano),
// and otherwise a number no clock range holds.
func frameNano(t time.Time) int64 {
	if n, ok := unixNano(t); ok {
		return n
	}
	return math.MinInt64
}

// activity is the activity clock's reading.
func (k *sweepClock) activity() time.Duration { return time.Duration(k.nowN - k.off) }

// set moves the clock to t and the activity clock to act.
func (k *sweepClock) set(t time.Time, act time.Duration) {
	k.now = t
	k.nowN, _ = unixNano(t) // exact or not: usual reads it only when it is
	k.off = k.nowN - int64(act)
}

// observe moves the clock for a frame dated t that is not usual, and
// reports whether it took t and whether a sweep is due. The caller stamps
// the frame's connection active on the activity clock, as for every
// frame, and if the clock did not take t notes the connection in
// prevConn.
func (k *sweepClock) observe(t time.Time) (taken, sweep bool) {
	if k.from <= k.to { // usual may have moved the clock since
		k.now = time.Unix(0, k.nowN)
	}
	if taken = k.jump(t); taken {
		k.bound()
	} else {
		// The next frame comes here too, to see whether it confirms t.
		k.from, k.to = math.MaxInt64, math.MinInt64
	}
	return taken, taken && !k.now.Before(k.next)
}

// jump moves the clock for t, and reports whether it took t.
func (k *sweepClock) jump(t time.Time) bool {
	prevTaken, prevConn := k.prevTaken, k.prevConn
	k.prevTaken, k.prevConn = true, nil
	switch {
	case !k.started:
		k.started = true
		k.set(t, 0)
	case k.near(k.now, t):
		if t.After(k.now) {
			k.set(t, k.activity()+t.Sub(k.now))
		}
	case !prevTaken && k.near(k.prev, t):
		// t confirms the previous frame's date: take both. The
		// connection that frame went to was stamped active at the
		// clock's time; it was active at the frame's date.
		if t.Before(k.now) {
			k.next = t.Add(sweepEvery)
			k.set(t, k.activity())
		} else {
			k.set(t, k.activity()+t.Sub(k.now))
		}
		if prevConn != nil { // the tail of its list: it may only move on
			prevConn.active = max(prevConn.active, k.activity()-max(t.Sub(k.prev), 0))
		}
	default:
		k.prevTaken, k.prev = false, t
		return false
	}
	return true
}

// swept records a sweep at the clock's time.
func (k *sweepClock) swept() {
	k.next = k.now.Add(sweepEvery)
	k.bound()
}

// bound sets from and to for now and next.
func (k *sweepClock) bound() {
	var ok1, ok2 bool
	k.from, ok1 = unixNano(k.now)
	k.to, ok2 = unixNano(k.next)
	if !ok1 || !ok2 {
		k.from, k.to = math.MaxInt64, math.MinInt64
	}
}

// lastActive is when, by the clock, c last saw a segment: the clock's
// time less how long c has been idle on the activity clock.
func (k *sweepClock) lastActive(c *flow) time.Time { return k.now.Add(-k.idle(c)) }

// idle is how long c has been idle on the activity clock.
func (k *sweepClock) idle(c *flow) time.Duration { return k.activity() - c.active }
