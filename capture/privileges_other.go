//go:build !linux || !cgo

package capture

// DropCapabilities does nothing here. Capabilities are Linux's, and a
// Linux build without cgo opens no capture handle, so it has no use for
// CAP_NET_RAW to give up (the Linux version clears them through cgo).
func DropCapabilities() error { return nil }
