//go:build cgo

package capture

/*
#cgo LDFLAGS: -lpcap
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

// synack_hdr is one packet of a batch: its pcap header, and where its
// bytes start in the batch's buffer.
typedef struct {
	long long sec, usec;
	unsigned int caplen, len, off;
} synack_hdr;

// synack_batch is what one synack_read call fills: at most max packets,
// whose bytes fit in size (see OpenLive for how both are chosen).
typedef struct {
	synack_hdr *hdrs;
	int max, n;
	unsigned char *buf;
	size_t size, used;
} synack_batch;

static void synack_take(u_char *user, const struct pcap_pkthdr *h, const u_char *data) {
	synack_batch *b = (synack_batch *)user;
	size_t caplen = h->caplen;
	if (b->n >= b->max) {
		return; // cannot happen: a dispatch takes at most max, or one NFLOG datagram of fewer messages
	}
	if (caplen > b->size - b->used) {
		caplen = b->size - b->used; // cannot happen: size holds max snaplens, or a whole NFLOG datagram
	}
	synack_hdr *o = &b->hdrs[b->n++];
	o->sec = h->ts.tv_sec;
	o->usec = h->ts.tv_usec;
	o->caplen = (unsigned int)caplen;
	o->len = h->len;
	o->off = (unsigned int)b->used;
	memcpy(b->buf + b->used, data, caplen);
	b->used += caplen;
}

// synack_read copies into b the packets libpcap holds, waiting up to msec
// for some if it holds none. A non-blocking handle is asked first (it may
// hold the rest of a block the kernel handed over), then polled; a
// blocking one (NFLOG, whose reader fails on EAGAIN) is only read once
// poll says a message is there. It returns the number of packets, 0 when
// the wait timed out, PCAP_ERROR (see pcap_geterr) or, with errno set,
// -1000 for a failed poll.
static int synack_read(pcap_t *p, synack_batch *b, int msec, int blocking) {
	b->n = 0;
	b->used = 0;
	if (!blocking) {
		int rc = pcap_dispatch(p, b->max, synack_take, (u_char *)b);
		if (rc != 0) {
			return rc;
		}
	}
	struct pollfd fd = {.fd = pcap_get_selectable_fd(p), .events = POLLIN};
	int pr = poll(&fd, 1, msec);
	if (pr < 0) {
		return errno == EINTR ? 0 : -1000;
	}
	if (pr == 0) {
		return 0;
	}
	// A blocking (NFLOG) read takes all of one netlink datagram: libpcap
	// would keep what a count left over, and the next poll would not see
	// it. The batch is sized for a whole datagram (see OpenLive).
	return pcap_dispatch(p, blocking ? -1 : b->max, synack_take, (u_char *)b);
}

// synack_take_ready copies into b the packets libpcap holds now, without
// waiting: the caller waits for the handle's descriptor itself. It
// returns the number of packets (0 for none) or PCAP_ERROR.
static int synack_take_ready(pcap_t *p, synack_batch *b) {
	b->n = 0;
	b->used = 0;
	return pcap_dispatch(p, b->max, synack_take, (u_char *)b);
}

static synack_batch *synack_batch_new(int max, size_t size) {
	synack_batch *b = calloc(1, sizeof *b);
	if (b == NULL) {
		return NULL;
	}
	b->max = max;
	b->size = size;
	b->hdrs = calloc((size_t)max, sizeof *b->hdrs);
	b->buf = malloc(b->size);
	if (b->hdrs == NULL || b->buf == NULL) {
		free(b->hdrs);
		free(b->buf);
		free(b);
		return NULL;
	}
	return b;
}

static void synack_batch_free(synack_batch *b) {
	free(b->hdrs);
	free(b->buf);
	free(b);
}

static int synack_setfilter(pcap_t *p, const char *expr) {
	struct bpf_program prog;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		return -1;
	}
	int rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/google/gopacket/pcap"
)

// batchBytes bounds the copy of one batch: at most this many bytes (and
// 1,024 packets) are taken from libpcap per call.
const batchBytes = 4 << 20

// Live is an open live capture. It reads libpcap's packets a batch per
// cgo call (pcap_dispatch into a buffer of its own), not one per call as
// gopacket's pcap.Handle does: at tens of thousands of packets a second
// the per-call cost was most of the reader's CPU.
type Live struct {
	p    *C.pcap_t
	b    *C.synack_batch
	hdrs []C.synack_hdr // the batch's headers, over C memory
	buf  []byte         // the batch's bytes, over C memory
	next int            // the next packet of the batch to hand out
	// blocking: the handle is left blocking and read only once poll
	// says so (NFLOG; see synack_read).
	blocking bool
	// ready is the handle's descriptor in Go's poller (a copy of it),
	// where one can be: Next waits there for packets, parked, rather
	// than in poll(2) inside a cgo call. A goroutine in a cgo call for
	// longer than 20 µs keeps Go's system monitor waking every 20 µs to
	// take its processor back; on a virtual machine those wake-ups were
	// a quarter of live capture's CPU time.
	ready     *os.File
	readyConn syscall.RawConn
	iface     string
	lt        uint32
	snap      int // the snaplen the handle was given
	n         uint64
}

// OpenLive opens and activates a capture handle that delivers packets in
// blocks, as tcpdump's does: the kernel hands a block over when it is full
// or PollInterval after it was started, so a packet waits at most that
// long, and a burst costs one wake-up per block, not one per packet (in
// immediate mode the wake-ups cost more CPU than the decoding). A reader
// that stops waits one more PollInterval to collect the last block (see
// pipeline.Live.Loop).
func OpenLive(cfg LiveConfig) (*Live, error) {
	iface := cfg.Interface
	if iface == "" {
		var err error
		if iface, err = LoopbackInterface(); err != nil {
			return nil, err
		}
	}
	snap := cfg.Snaplen
	if snap <= 0 || snap > 262144 {
		snap = 262144 // libpcap's largest (MAXIMUM_SNAPLEN), as tcpdump's -s 0
	}
	// libpcap (1.10) receives NFLOG's netlink datagrams into a buffer of
	// snaplen plus 128 bytes, but the kernel batches up to 100 logged
	// packets into one datagram: with a small snaplen the sixth packet of
	// a batch comes out cut, as garbage. Every NFLOG handle gets the
	// largest snaplen; the decoder does not mind whole packets.
	if iface == "nflog" || strings.HasPrefix(iface, "nflog:") {
		snap = max(snap, 262144)
	}
	cname := C.CString(iface)
	defer C.free(unsafe.Pointer(cname))
	var errbuf [C.PCAP_ERRBUF_SIZE]C.char
	p := C.pcap_create(cname, &errbuf[0])
	if p == nil {
		return nil, classify(iface, 0, C.GoString(&errbuf[0]))
	}
	l := &Live{p: p, iface: iface}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	promisc := C.int(0)
	if cfg.Promisc {
		promisc = 1
	}
	for _, set := range []struct {
		what string
		rc   C.int
	}{
		{"snaplen", C.pcap_set_snaplen(p, C.int(snap))},
		{"promiscuous mode", C.pcap_set_promisc(p, promisc)},
		{"timeout", C.pcap_set_timeout(p, C.int(PollInterval/time.Millisecond))},
		{"buffer size", bufferSize(p, cfg.BufferSize)},
	} {
		if set.rc != 0 {
			return nil, fmt.Errorf("configure capture on %s: set %s: %s", iface, set.what, C.GoString(C.pcap_statustostr(set.rc)))
		}
	}
	if rc := C.pcap_activate(p); rc < 0 {
		msg := C.GoString(C.pcap_geterr(p))
		if msg == "" {
			msg = C.GoString(C.pcap_statustostr(rc))
		}
		return nil, classify(iface, rc, msg)
	}
	l.lt = uint32(C.pcap_datalink(p))
	// libpcap's NFLOG reader treats EAGAIN as an error: that handle stays
	// blocking and is polled before each read.
	l.blocking = l.lt == C.DLT_NFLOG
	if !l.blocking && C.pcap_setnonblock(p, 1, &errbuf[0]) < 0 {
		return nil, fmt.Errorf("configure capture on %s: non-blocking mode: %s", iface, C.GoString(&errbuf[0]))
	}
	if !l.blocking {
		l.ready, l.readyConn = pollable(int(C.pcap_get_selectable_fd(p)))
	}
	if cfg.Filter != "" {
		cexpr := C.CString(cfg.Filter)
		defer C.free(unsafe.Pointer(cexpr))
		if C.synack_setfilter(p, cexpr) != 0 {
			return nil, &FilterError{Expr: cfg.Filter, Err: errors.New(C.GoString(C.pcap_geterr(p)))}
		}
	}
	// caplen never exceeds the snaplen asked for (libpcap may lower it,
	// never raise it), so max packets of snap bytes always fit.
	maxPkts := min(max(batchBytes/snap, 1), 1024)
	size := maxPkts * snap
	if l.blocking {
		// One whole NFLOG datagram: libpcap receives it into snaplen plus
		// 128 bytes, and each of its messages takes 20 bytes or more;
		// twice that, to spare.
		size = 2 * (snap + 128)
		maxPkts = size/20 + 1
	}
	if l.b = C.synack_batch_new(C.int(maxPkts), C.size_t(size)); l.b == nil {
		return nil, fmt.Errorf("capture on %s: no memory for a %d-byte batch", iface, size)
	}
	l.hdrs = unsafe.Slice(l.b.hdrs, maxPkts)
	l.buf = unsafe.Slice((*byte)(unsafe.Pointer(l.b.buf)), size)
	l.snap = snap
	ok = true
	return l, nil
}

// bufferSize sets the kernel buffer when one is asked for (0 keeps
// libpcap's default).
func bufferSize(p *C.pcap_t, n int) C.int {
	if n <= 0 {
		return 0
	}
	return C.pcap_set_buffer_size(p, C.int(n))
}

// classify turns libpcap's activation errors into ours.
func classify(iface string, rc C.int, msg string) error {
	lower := strings.ToLower(msg)
	switch {
	case rc == C.PCAP_ERROR_PERM_DENIED || rc == C.PCAP_ERROR_PROMISC_PERM_DENIED ||
		strings.Contains(lower, "permission") || strings.Contains(lower, "not permitted"):
		return fmt.Errorf("capture on %s: %w (libpcap: %s)", iface, ErrPermission, msg)
	case rc == C.PCAP_ERROR_NO_SUCH_DEVICE || strings.Contains(lower, "no such device") || strings.Contains(lower, "doesn't exist"):
		return fmt.Errorf("capture on %s: %w (run `synack interfaces` to list them)", iface, ErrNoInterface)
	}
	return fmt.Errorf("capture on %s: %s", iface, msg)
}

// Interface is the name of the captured interface.
func (l *Live) Interface() string { return l.iface }

// Snaplen is the snaplen the handle captures with: the one asked for, but
// the largest for NFLOG (see OpenLive), whose records are whole messages.
func (l *Live) Snaplen() int { return l.snap }

// Drain is how long a reader that stops keeps reading, so that what was
// captured before the stop but not yet handed over is not lost: the
// kernel hands a partly filled TPACKET_V3 block over PollInterval after it
// was started; NFLOG batches its messages for up to a second (the
// nfnetlink_log default flush timeout, which libpcap leaves as it is).
func (l *Live) Drain() time.Duration {
	if l.lt == C.DLT_NFLOG {
		return time.Second + 2*PollInterval
	}
	return 2 * PollInterval
}

// LinkType is the link type of the interface.
func (l *Live) LinkType() uint32 { return l.lt }

// Next returns the next packet. It returns ErrTimeout when none came
// within PollInterval. fr.Data stays valid until the batch it came in is
// used up: at least until the next call.
func (l *Live) Next(fr *Frame) error {
	if l.next >= int(l.b.n) {
		l.next = 0
		blocking := C.int(0)
		if l.blocking {
			blocking = 1
		}
		var rc C.int
		var errno error
		if l.ready != nil {
			rc, errno = l.readReady()
		} else {
			rc, errno = C.synack_read(l.p, l.b, C.int(PollInterval/time.Millisecond), blocking)
		}
		switch {
		case rc == 0:
			return ErrTimeout
		case rc == -1000:
			return fmt.Errorf("capture on %s: poll: %w", l.iface, errno)
		case rc < 0:
			return fmt.Errorf("capture on %s: %s", l.iface, C.GoString(C.pcap_geterr(l.p)))
		}
	}
	h := &l.hdrs[l.next]
	l.next++
	l.n++
	fr.Number = l.n
	fr.Time = time.Unix(int64(h.sec), int64(h.usec)*1000)
	fr.Data = l.buf[h.off : h.off+h.caplen : h.off+h.caplen]
	fr.Length = int(h.len)
	fr.LinkType = l.lt
	return nil
}

// readReady reads the packets libpcap holds into the batch, waiting up to
// PollInterval in Go's poller for some when it holds none: synack_read's
// results (0 when the wait timed out, -1000 with the error of a failed
// wait).
func (l *Live) readReady() (C.int, error) {
	if err := l.ready.SetReadDeadline(time.Now().Add(PollInterval)); err != nil {
		return -1000, err
	}
	var rc C.int
	err := l.readyConn.Read(func(uintptr) bool {
		rc = C.synack_take_ready(l.p, l.b)
		return rc != 0
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return -1000, err
	}
	return rc, nil
}

// Stats returns libpcap's counters.
func (l *Live) Stats() (Stats, error) {
	var s C.struct_pcap_stat
	if C.pcap_stats(l.p, &s) != 0 {
		return Stats{}, fmt.Errorf("capture statistics: %s", C.GoString(C.pcap_geterr(l.p)))
	}
	return Stats{Received: uint64(s.ps_recv), DroppedByKernel: uint64(s.ps_drop), DroppedByIface: uint64(s.ps_ifdrop)}, nil
}

// Close releases the handle and the batch.
func (l *Live) Close() {
	if l.ready != nil {
		l.ready.Close()
		l.ready, l.readyConn = nil, nil
	}
	if l.p != nil {
		C.pcap_close(l.p)
		l.p = nil
	}
	if l.b != nil {
		C.synack_batch_free(l.b)
		l.b, l.hdrs, l.buf = nil, nil, nil
	}
}

// libpcap's PCAP_IF_* flags.
const (
	ifLoopback = 0x1
	ifUp       = 0x2
	ifRunning  = 0x4
)

// Devices lists the interfaces libpcap can capture on, in libpcap's order
// (the order of `tcpdump -D`).
func Devices() ([]Device, error) {
	ifs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Device, 0, len(ifs))
	for _, i := range ifs {
		d := Device{Name: i.Name, Description: i.Description, Loopback: i.Flags&ifLoopback != 0, Up: i.Flags&ifUp != 0, Running: i.Flags&ifRunning != 0}
		for _, a := range i.Addresses {
			d.Addresses = append(d.Addresses, a.IP.String())
		}
		out = append(out, d)
	}
	return out, nil
}

// LibpcapVersion is libpcap's own version string, as pcap_lib_version
// gives it ("libpcap version 1.10.3 (with TPACKET_V3)").
func LibpcapVersion() string { return pcap.Version() }
