package capture

import (
	"slices"
	"testing"
)

// TestRingKeepsOrderAcrossTheSeamAndCountsDrops: samples come out in the
// order they went in, across the end of the buffer, and what does not fit
// is dropped and counted, never waited for.
func TestRingKeepsOrderAcrossTheSeamAndCountsDrops(t *testing.T) {
	seq := func(from, n int) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(from + i)
		}
		return s
	}
	tests := []struct {
		name    string
		writes  [][]int16
		reads   []int // samples read after each write
		want    []int16
		dropped uint64
		left    int
	}{
		{"fits", [][]int16{seq(0, 5)}, []int{5}, seq(0, 5), 0, 0},
		{"wraps", [][]int16{seq(0, 6), seq(6, 6)}, []int{5, 6}, seq(0, 11), 0, 1},
		{"overflows", [][]int16{seq(0, 6), seq(6, 6)}, []int{0, 8}, seq(0, 8), 4, 0},
		{"one past full", [][]int16{seq(0, 8), seq(8, 1)}, []int{0, 8}, seq(0, 8), 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ring{buf: make([]int16, 8)}
			var got []int16
			for i, w := range tt.writes {
				q.write(w)
				out := make([]int16, tt.reads[i])
				q.read(out)
				got = append(got, out...)
			}
			if !slices.Equal(got, tt.want) || q.dropped != tt.dropped || q.n != tt.left {
				t.Errorf("read %v, dropped %d, left %d; want %v, %d, %d", got, q.dropped, q.n, tt.want, tt.dropped, tt.left)
			}
		})
	}
}
