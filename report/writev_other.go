//go:build !(linux || darwin || openbsd)

package report

import (
	"io"
	"os"
)

// gathers reports that writeParts does not write with writev here: the
// parts are copied into the document's buffer.
func gathers(io.Writer) (*os.File, bool) { return nil, false }

type iovecs struct{}

func writeParts(*os.File, [][]byte, *iovecs) error { panic("report: writeParts without writev") }
