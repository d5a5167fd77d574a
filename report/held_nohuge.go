//go:build unix && !linux

package report

// adviseHuge does nothing where synack does not ask for huge pages.
func adviseHuge([]byte) {}
