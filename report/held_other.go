//go:build !unix

package report

import "errors"

// mapMemory fails where synack does not map memory (Windows): Ordered
// keeps its blocks on Go's heap.
func mapMemory(int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapMemory([]byte) error { return nil }
