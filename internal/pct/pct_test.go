package pct

import "testing"

func TestRank(t *testing.T) {
	for _, tc := range []struct{ n, p, want uint64 }{
		{1, 50, 0}, {1, 95, 0},
		{2, 50, 0}, {2, 95, 1},
		{10, 50, 4}, {10, 95, 9},
		{100, 50, 49}, {100, 95, 94}, {100, 100, 99},
		{150, 95, 142},
	} {
		if got := Rank(tc.n, tc.p); got != tc.want {
			t.Errorf("Rank(%d, %d) = %d, want %d", tc.n, tc.p, got, tc.want)
		}
	}
}

func TestBin(t *testing.T) {
	h := []uint32{0, 2, 0, 3, 1} // values: 1 1 3 3 3 4
	for _, tc := range []struct {
		i    uint64
		want int
	}{{0, 1}, {1, 1}, {2, 3}, {4, 3}, {5, 4}, {6, 4}, {100, 4}} {
		if got := Bin(h, tc.i); got != tc.want {
			t.Errorf("Bin(h, %d) = %d, want %d", tc.i, got, tc.want)
		}
	}
	if got := Bin([]uint64{0, 0, 7}, 3); got != 2 {
		t.Errorf("Bin of uint64 counts = %d, want 2", got)
	}
}
