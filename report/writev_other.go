//go:build !(linux || darwin || openbsd)

package report

import (
	"io"
	"os"
)

// gathers reports that writeParts does not write with writev here: the
// parts are copied into the document's buffer.
func gathers(io.Writer) (*os.File, bool) { return nil, false }

func writeParts(*os.File, [][]byte) error { panic("report: writeParts without writev") }
