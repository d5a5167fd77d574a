//go:build cgo

package capture

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestLiveWaitsInGoPoller opens a loopback capture: on Linux its
// descriptor is in Go's poller (Next waits there, not in poll(2) inside a
// cgo call), an idle wait ends with ErrTimeout after about PollInterval,
// and a datagram sent on loopback comes out of Next.
func TestLiveWaitsInGoPoller(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	l, err := OpenLive(LiveConfig{Filter: "udp and dst port " + strconv.Itoa(port)})
	if errors.Is(err, ErrPermission) {
		t.Skipf("live capture not permitted here (run as root or with CAP_NET_RAW): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.ready == nil {
		t.Fatal("the capture handle's descriptor is not in Go's poller")
	}
	var fr Frame
	start := time.Now()
	if err := l.Next(&fr); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Next on an idle capture: %v, want ErrTimeout", err)
	}
	if waited := time.Since(start); waited < PollInterval/2 || waited > 20*PollInterval {
		t.Errorf("an idle Next waited %v, want about %v", waited, PollInterval)
	}
	if _, err := conn.WriteToUDP([]byte("synack"), conn.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		err := l.Next(&fr)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrTimeout) || time.Now().After(deadline) {
			t.Fatalf("no datagram captured: %v", err)
		}
	}
	if len(fr.Data) < 6 || string(fr.Data[len(fr.Data)-6:]) != "synack" {
		t.Errorf("captured %x, want a datagram ending in %q", fr.Data, "synack")
	}
}
