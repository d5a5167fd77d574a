package capture

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader reads arbitrary bytes as a capture file, through both
// readers (pcap and pcapng are told apart by the magic), with a bufio
// buffer that holds the whole input (reading through the 1 MiB buffer of
// a file differs only in when bytes arrive, and has unit tests; a 1 MiB
// buffer per input would slow the fuzzer a hundredfold).
// It must never panic, never loop, and never hand out more frames than the
// bytes allow.
func FuzzReader(f *testing.F) {
	paths, _ := filepath.Glob("../fixtures/*.pcap*")
	for _, p := range paths {
		if ext := filepath.Ext(p); ext != ".pcap" && ext != ".pcapng" {
			continue
		}
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add(pcapFile(1, []byte("abc")))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), len(data)+16)
		file, err := newFile(&countingReader{r: br}, "fuzz", false)
		if err != nil {
			return
		}
		var fr Frame
		for n := 0; ; n++ {
			err := file.Next(&fr)
			if err != nil {
				if err != io.EOF {
					var de *DamageError
					if !asDamage(err, &de) {
						t.Fatalf("error %v is not a DamageError", err)
					}
				}
				return
			}
			if n > len(data)/12 {
				t.Fatalf("%d frames from %d bytes", n, len(data))
			}
			if len(fr.Data) > MaxFrame {
				t.Fatalf("a %d-byte frame", len(fr.Data))
			}
		}
	})
}

func asDamage(err error, de **DamageError) bool {
	d, ok := err.(*DamageError)
	*de = d
	return ok
}
