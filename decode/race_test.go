//go:build race

package decode

// raceDetector: built with -race, whose shadow memory takes page faults
// of its own, which the tests that count faults cannot tell apart.
const raceDetector = true
