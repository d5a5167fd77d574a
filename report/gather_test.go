package report_test

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"synack/decode"
	"synack/pipeline"
	"synack/report"
)

// TestJSONToFileInOrder: a JSON document written to a file or a pipe,
// where Ordered gives it its parts many at once and it writes them from
// where they are (writev), is the same bytes as the document written to
// memory in one go, whether the connections are handed over in order
// (parts emitted from the renderers' buffers) or out of order, holding
// more than memory keeps: parts come from blocks in memory, from blocks
// read back whole from the spill file and one by one (a long
// connection's part, larger than a block), while more are held.
func TestJSONToFileInOrder(t *testing.T) {
	var conns []*decode.Conn
	for _, f := range []string{"../fixtures/loss.pcap", "../fixtures/greeting.pcap", "../fixtures/resets.pcapng"} {
		rep, err := pipeline.ReadFile(context.Background(), f, pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, rep.Conns...)
	}
	// Every 4,000th is the long connection (2.3 MB of JSON), among short
	// ones (3 KB): 220 MB in all.
	long := slices.MaxFunc(conns, func(a, b *decode.Conn) int { return cmp.Compare(len(a.Events), len(b.Events)) })
	short := slices.DeleteFunc(slices.Clone(conns), func(c *decode.Conn) bool { return c == long })
	var all []*decode.Conn
	for id := uint64(1); id <= 40000; id++ {
		c := short[int(id)%len(short)]
		if id%4000 == 0 {
			c = long
		}
		k := *c
		k.ID = id
		all = append(all, &k)
	}
	rep := &report.Capture{Source: "gathered", Format: "pcap", LinkType: "EN10MB", Conns: all}
	var want bytes.Buffer
	if err := report.JSON(&want, rep); err != nil {
		t.Fatal(err)
	}
	// Handed over shuffled within windows of 200, and each thousandth
	// 25,000 later (an unanswered SYN held back for its timeout).
	rng := rand.New(rand.NewPCG(5, 6))
	order := slices.Clone(all)
	for i := range order {
		j := min(len(order)-1, i+rng.IntN(200))
		order[i], order[j] = order[j], order[i]
	}
	for i := len(order) - 1; i >= 0; i-- {
		if c := order[i]; c.ID%1000 == 1 {
			j := min(len(order)-1, i+25000)
			copy(order[i:j], order[i+1:j+1])
			order[j] = c
		}
	}
	write := func(t *testing.T, w io.Writer, order []*decode.Conn) {
		o := report.NewOrdered(report.NewJSON(w, rep))
		o.Parallel(2, nil)
		for _, c := range order {
			o.Conn(c, true)
		}
		if err := o.Close(rep); err != nil {
			t.Fatal(err)
		}
	}
	for name, order := range map[string][]*decode.Conn{"in order": all, "held": order} {
		t.Run(name+"/file", func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "out.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			write(t, f, order)
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%d bytes written to a file, want the %d of the document written to memory", len(got), want.Len())
			}
		})
		t.Run(name+"/pipe", func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			read := make(chan []byte)
			go func() {
				b, _ := io.ReadAll(r)
				read <- b
			}()
			write(t, w, order)
			w.Close()
			got := <-read
			r.Close()
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%d bytes written to a pipe, want the %d of the document written to memory", len(got), want.Len())
			}
		})
	}
}
