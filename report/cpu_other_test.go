//go:build !unix

package report_test

import "time"

// processCPU is 0: not measured here.
func processCPU() time.Duration { return 0 }
