package greet

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// tcpTimeWait is the TIME-WAIT state in /proc/net/tcp (include/net/tcp_states.h).
const tcpTimeWait = "06"

// InTimeWait reports whether the connection from local to remote is in
// TIME-WAIT, as `ss -tan state time-wait` would list it, reading
// /proc/net/tcp (Linux); it waits up to wait for the state to come.
func InTimeWait(local, remote netip.AddrPort, wait time.Duration) (bool, error) {
	for deadline := time.Now().Add(wait); ; time.Sleep(5 * time.Millisecond) {
		found, err := timeWait(local, remote)
		if err != nil || found || time.Now().After(deadline) {
			return found, err
		}
	}
}

func timeWait(local, remote netip.AddrPort) (bool, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return false, fmt.Errorf("TIME-WAIT: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != tcpTimeWait {
			continue
		}
		l, ok1 := procAddr(fields[1])
		r, ok2 := procAddr(fields[2])
		if ok1 && ok2 && l == local && r == remote {
			return true, nil
		}
	}
	return false, sc.Err()
}

// procAddr reads /proc/net/tcp's "0100007F:3039": an IPv4 address in the
// host's byte order, then the port.
func procAddr(s string) (netip.AddrPort, bool) {
	ip, port, ok := strings.Cut(s, ":")
	b, err1 := hex.DecodeString(ip)
	p, err2 := hex.DecodeString(port)
	if !ok || err1 != nil || err2 != nil || len(b) != 4 || len(p) != 2 {
		return netip.AddrPort{}, false
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(b)) // /proc writes the kernel's u32 as it sits in memory
	return netip.AddrPortFrom(netip.AddrFrom4(a), binary.BigEndian.Uint16(p)), true
}
