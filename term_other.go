//go:build !unix

package main

import "os"

// terminalWidth, where there is no termios (Windows), reports no
// terminal: output gets no colour under --color auto, and no progress
// line is drawn. Asking the console would need golang.org/x/sys/windows,
// which synack does not depend on.
func terminalWidth(*os.File) (bool, int) { return false, 0 }
