package capture

import (
	"errors"
	"fmt"
	"time"
)

// PollInterval bounds how long Live.Next waits (then ErrTimeout), so that
// stop requests are noticed promptly; it is also the longest the kernel
// holds a captured packet before handing its block over.
const PollInterval = 50 * time.Millisecond

// LiveConfig describes a live capture.
type LiveConfig struct {
	Interface string // "" picks the loopback interface
	Filter    string // BPF, tcpdump syntax
	Snaplen   int    // 0 means 262144
	Promisc   bool
	// BufferSize is the kernel buffer in bytes; 0 keeps libpcap's default.
	BufferSize int
}

// ErrPermission is returned when the process may not capture.
var ErrPermission = errors.New("no permission to capture packets")

// ErrNoInterface is returned for an interface that does not exist.
var ErrNoInterface = errors.New("no such interface")

// ErrNoLibpcap is returned, alone or inside a *FilterError, by what needs
// libpcap in a build made without it (CGO_ENABLED=0): live capture, the
// list of interfaces, BPF filters.
var ErrNoLibpcap = errors.New("this build has no libpcap (built with CGO_ENABLED=0)")

// ErrTimeout is returned by Live.Next when no packet arrived within the
// poll interval.
var ErrTimeout = errors.New("no packet within the poll interval")

// Stats are libpcap's counters for a live capture.
type Stats struct {
	Received        uint64 // packets the filter accepted
	DroppedByKernel uint64 // no room in the buffer
	DroppedByIface  uint64 // dropped by the interface or its driver
}

// Device is a capture device as `synack interfaces` lists it.
type Device struct {
	Name        string
	Description string
	Loopback    bool
	Up          bool
	Running     bool
	Addresses   []string
}

// LoopbackInterface finds the loopback interface ("lo" on Linux, "lo0" on
// macOS and the BSDs) from libpcap's device flags.
func LoopbackInterface() (string, error) {
	devs, err := Devices()
	if err != nil {
		return "", err
	}
	for _, d := range devs {
		if d.Loopback {
			return d.Name, nil
		}
	}
	return "", fmt.Errorf("%w: no loopback interface found (run `synack interfaces`)", ErrNoInterface)
}
