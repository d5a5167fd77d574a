//go:build !unix

package capture

// Windows has no O_NOFOLLOW: there CreateOutput opens the path as given,
// through a symbolic link too, whatever followSymlinks says. -w writes
// what a live capture captured, and the Windows binaries `make cross`
// builds (without cgo) capture nothing.
const noFollow = 0

func refusedSymlink(error) bool { return false }
