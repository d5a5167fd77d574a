package decode

import "testing"

func TestSeq(t *testing.T) {
	const top = Seq(1<<32 - 1)
	for _, tc := range []struct {
		name         string
		a, b         Seq
		less, lessEq bool
	}{
		{"equal", 7, 7, false, true},
		{"one ahead", 7, 8, true, true},
		{"one behind", 8, 7, false, false},
		{"across the wrap", top, 0, true, true},
		{"back across the wrap", 0, top, false, false},
		{"far across the wrap", top - 10, 20, true, true},
		{"just under half the space ahead", 0, 1<<31 - 1, true, true},
		{"just under half the space behind", 1<<31 - 1, 0, false, false},
		{"half the space ahead is unordered", 0, 1 << 31, false, true},
		{"half the space behind is unordered", 1 << 31, 0, false, true},
		{"just over half the space ahead is behind", 0, 1<<31 + 1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.LessThan(tc.b); got != tc.less {
				t.Errorf("%d.LessThan(%d) = %v, want %v", tc.a, tc.b, got, tc.less)
			}
			if got := tc.a.LessThanEq(tc.b); got != tc.lessEq {
				t.Errorf("%d.LessThanEq(%d) = %v, want %v", tc.a, tc.b, got, tc.lessEq)
			}
		})
	}
}

func TestSeqRange(t *testing.T) {
	const top = Seq(1<<32 - 1)
	for _, tc := range []struct {
		name    string
		v, a, b Seq
		in      bool
	}{
		{"start", 10, 10, 20, true},
		{"inside", 15, 10, 20, true},
		{"end is outside", 20, 10, 20, false},
		{"before", 9, 10, 20, false},
		{"empty", 10, 10, 10, false},
		{"wrapped, before the wrap", top, top - 5, 5, true},
		{"wrapped, after the wrap", 3, top - 5, 5, true},
		{"wrapped, past the end", 5, top - 5, 5, false},
		{"wrapped, before the start", top - 6, top - 5, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.InRange(tc.a, tc.b); got != tc.in {
				t.Errorf("%d.InRange(%d, %d) = %v, want %v", tc.v, tc.a, tc.b, got, tc.in)
			}
			if got := tc.v.InWindow(tc.a, tc.b.Sub(tc.a)); got != tc.in {
				t.Errorf("%d.InWindow(%d, %d) = %v, want %v", tc.v, tc.a, tc.b.Sub(tc.a), got, tc.in)
			}
		})
	}
	if got := top.Add(2); got != 1 {
		t.Errorf("top.Add(2) = %d, want 1", got)
	}
	if got := Seq(1).Sub(top); got != 2 {
		t.Errorf("1.Sub(top) = %d, want 2", got)
	}
}
