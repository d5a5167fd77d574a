package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"synack/report"
)

// styleFor decides colour and width for output written to w: colour with
// --color always, or with auto on a terminal unless NO_COLOR is set
// (https://no-color.org) or TERM is dumb; the terminal's width when w is one.
func styleFor(w io.Writer, color string) report.Style {
	f, isFile := w.(*os.File)
	tty, cols := false, 0
	if isFile {
		tty, cols = terminalWidth(f)
	}
	st := report.Style{Width: cols}
	switch color {
	case "always":
		st.Color = true
	case "auto":
		_, noColor := os.LookupEnv("NO_COLOR")
		st.Color = tty && !noColor && os.Getenv("TERM") != "dumb"
	}
	return st
}

// progressMin is the file size from which a progress line is shown.
const progressMin = 100 << 20

// progress draws "\r… of …, packets/s, ETA" on a terminal's stderr while a
// large file is read.
type progress struct {
	w           io.Writer
	name        string
	size        int64
	start, last time.Time
}

// newProgress returns a progress line for the capture file name, or nil
// when it is not a regular file, is small, or stderr is not a terminal.
func newProgress(stderr io.Writer, name string) *progress {
	f, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < progressMin {
		return nil
	}
	size := fi.Size()
	if tty, _ := terminalWidth(f); !tty {
		return nil
	}
	now := time.Now()
	return &progress{w: stderr, name: name, size: size, start: now, last: now}
}

// update redraws the line at most four times a second.
func (p *progress) update(offset int64, frames uint64) {
	now := time.Now()
	if now.Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(frames) / elapsed
	eta := "-"
	if offset > 0 {
		eta = time.Duration(float64(p.size-offset) / float64(offset) * elapsed * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%s: %d of %d MB (%d%%) · %.0f packets/s · ETA %s\x1b[K", p.name, offset>>20, p.size>>20,
		offset*100/p.size, rate, eta)
}

// done clears the line.
func (p *progress) done() { fmt.Fprint(p.w, "\r\x1b[K") }
