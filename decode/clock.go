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
// frames agree on restarts the sweep schedule from there, and connections
// last active "after" it count as active at the step.
//
// The frame whose date the clock has not taken still goes to its
// connection, which is handed over first if the frame's own date says it
// has been idle past its timeout: that is what a real gap in the traffic
// means, and a date from 2106 costs that one connection alone.
type sweepClock struct {
	now  time.Time // the latest date taken, or a little before it
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
	prevConn  *Conn
	// stepped is when the clock last stepped back (at first, the first
	// frame's date).
	stepped time.Time
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

// usual takes t if it is the usual date: between the clock's time when it
// last moved otherwise and the next sweep. It inlines to a few integer
// comparisons, where time.Time's Before costs a call, which was most of
// what the clock cost a packet. Any other date goes to observe. A frame
// a little out of order can move now back a little here, never before
// from.
func (k *sweepClock) usual(t time.Time) bool {
	s := t.Unix() // unixNano, spelt out: the call would cost the inlining
	if n := s*1e9 + int64(t.Nanosecond()); n >= k.from && n < k.to && uint64(s) < 1<<33 {
		k.now = t
		return true
	}
	return false
}

// observe moves the clock for a frame dated t that is not usual, and
// reports whether it took t and whether a sweep is due. The caller stamps
// the frame's connection with the clock's time if the clock did not take
// t, and notes it in prevConn.
func (k *sweepClock) observe(t time.Time) (taken, sweep bool) {
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
		k.started, k.now, k.stepped = true, t, t
	case k.near(k.now, t):
		if t.After(k.now) {
			k.now = t
		}
	case !prevTaken && k.near(k.prev, t):
		// t confirms the previous frame's date: take both.
		if t.Before(k.now) {
			k.stepped, k.next = t, t.Add(sweepEvery)
		}
		k.now = t
		if prevConn != nil {
			prevConn.stamp(k.prev)
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

// lastActive is when c last saw a segment, by the clock.
func (k *sweepClock) lastActive(c *Conn) time.Time {
	last := c.FirstSeen.Add(c.active)
	if last.After(k.now) { // active before the clock stepped back
		return k.stepped
	}
	return last
}

// stamp records that c saw a segment at clock time t. (Conn.add stamps
// it at the segment's date, which is the clock's time when the clock
// took the date: that spares a Sub per packet.)
func (c *Conn) stamp(t time.Time) { c.active = t.Sub(c.FirstSeen) }
