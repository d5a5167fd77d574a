package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"
)

// TestSetFilterPerLinkType: a filter is compiled for each link type read,
// as its first frame comes; frames of link types not read, or for which
// the filter does not compile (after the first read), are skipped and
// counted.
func TestSetFilterPerLinkType(t *testing.T) {
	greeting, err := os.ReadFile("../fixtures/greeting.pcap") // 8 Ethernet frames, IPv4
	if err != nil {
		t.Fatal(err)
	}
	eth, err := readAll(t, greeting)
	if err != nil {
		t.Fatal(err)
	}
	// build writes the greeting on interfaces of the given link types:
	// frames 1-4 on the first, 5-8 on the second (as BSD loopback frames
	// if it is LINKTYPE_NULL), and a frame of junk on the third after the
	// second frame.
	build := func(linkTypes ...uint16) []byte {
		parts := [][]byte{shb()}
		for _, lt := range linkTypes {
			parts = append(parts, idb(lt, 0))
		}
		for i, fr := range eth {
			iface := uint32(i / 4)
			data := fr.Data
			if linkTypes[iface] == 0 {
				data = append([]byte{2, 0, 0, 0}, data[14:]...)
			}
			parts = append(parts, epb(iface, uint64(i), data))
			if i == 1 {
				parts = append(parts, epb(2, 0, []byte("junk")))
			}
		}
		return bytes.Join(parts, nil)
	}
	notUser0 := func(lt uint32) bool { return lt != 147 }
	read := func(t *testing.T, data []byte, expr string) (linkTypes []uint32, seen []LinkTypeSeen, err error) {
		t.Helper()
		f, err := NewReader(bytes.NewReader(data), "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetFilter(expr, notUser0); err != nil {
			return nil, nil, err
		}
		var fr Frame
		for {
			if err = f.Next(&fr); err != nil {
				break
			}
			linkTypes = append(linkTypes, fr.LinkType)
		}
		if err == io.EOF {
			err = nil
		}
		return linkTypes, f.LinkTypes(), err
	}
	t.Run("a program per link type", func(t *testing.T) {
		lts, seen, err := read(t, build(1, 0, 147), "tcp port 12345")
		if err != nil {
			t.Fatal(err)
		}
		if want := []uint32{1, 1, 1, 1, 0, 0, 0, 0}; !reflect.DeepEqual(lts, want) {
			t.Errorf("link types of the frames handed out %v, want %v", lts, want)
		}
		want := []LinkTypeSeen{
			{LinkType: 1, Interface: 0, Frame: 1, Read: true},
			{LinkType: 147, Interface: 2, Frame: 3, Skipped: 1},
			{LinkType: 0, Interface: 1, Frame: 6, Read: true},
		}
		if !reflect.DeepEqual(seen, want) {
			t.Errorf("link types seen\n%+v, want\n%+v", seen, want)
		}
	})
	t.Run("no program for a later link type", func(t *testing.T) {
		lts, seen, err := read(t, build(1, 0, 147), "ether host 00:00:00:00:00:00")
		if err != nil {
			t.Fatal(err)
		}
		if len(lts) != 4 {
			t.Errorf("%d frames handed out, want the 4 Ethernet frames", len(lts))
		}
		if len(seen) != 3 || seen[2].Skipped != 4 || !errors.As(seen[2].Err, new(*FilterError)) {
			t.Errorf("link types seen %+v, want BSD loopback's 4 frames skipped for the filter", seen)
		}
	})
	t.Run("no program for the file's link type", func(t *testing.T) {
		if _, _, err := read(t, build(0, 1, 147), "ether host 00:00:00:00:00:00"); !errors.As(err, new(*FilterError)) {
			t.Fatalf("error %v, want a *FilterError from SetFilter", err)
		}
	})
	t.Run("no program for the first link type read", func(t *testing.T) {
		lts, _, err := read(t, build(147, 0, 147), "ether host 00:00:00:00:00:00")
		if !errors.As(err, new(*FilterError)) || len(lts) != 0 {
			t.Fatalf("%d frames, error %v, want a *FilterError from Next", len(lts), err)
		}
	})
}
