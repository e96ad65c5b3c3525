package view

import (
	"testing"
	"time"
)

// TestPresentTimes: the window's delay figures are nearest-rank
// percentiles over the latest 150 pictures shown (recent) and over every
// picture (total, in 0.1 ms steps, at most 1 s), with the pictures shown
// and dropped counted since the window opened.
func TestPresentTimes(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	// ramp is n delays of 1, 2, ... n ms.
	ramp := func(n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = ms(float64(i + 1))
		}
		return out
	}
	tests := []struct {
		name    string
		shown   []time.Duration
		dropped int
		recent  presentFigures
		total   presentFigures
	}{
		{"nothing shown", nil, 0, presentFigures{}, presentFigures{}},
		{"nothing shown, two dropped", nil, 2, presentFigures{Dropped: 2}, presentFigures{Dropped: 2}},
		{"one picture", []time.Duration{ms(4.37)}, 0,
			presentFigures{P50: ms(4.3), P95: ms(4.3), Presented: 1},
			presentFigures{P50: ms(4.3), P95: ms(4.3), Presented: 1}},
		{"out of order", []time.Duration{ms(9), ms(1), ms(5), ms(3), ms(7)}, 1,
			presentFigures{P50: ms(5), P95: ms(9), Presented: 5, Dropped: 1},
			presentFigures{P50: ms(5), P95: ms(9), Presented: 5, Dropped: 1}},
		{"a hundred", ramp(100), 0,
			presentFigures{P50: ms(50), P95: ms(95), Presented: 100},
			presentFigures{P50: ms(50), P95: ms(95), Presented: 100}},
		// The recent figures forget the first 150 of 300; the total
		// ones do not.
		{"three hundred", ramp(300), 7,
			presentFigures{P50: ms(225), P95: ms(293), Presented: 300, Dropped: 7},
			presentFigures{P50: ms(150), P95: ms(285), Presented: 300, Dropped: 7}},
		// Past 1 s the total figures say 1 s (less a step); a negative
		// delay (a clock step) counts as none.
		{"beyond the histogram", []time.Duration{ms(5000), ms(5000), -ms(1)}, 0,
			presentFigures{P50: ms(5000), P95: ms(5000), Presented: 3},
			presentFigures{P50: ms(999.9), P95: ms(999.9), Presented: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p presentTimes
			for _, d := range tt.shown {
				p.shown(d)
			}
			if tt.dropped > 0 {
				p.drop(tt.dropped)
			}
			if got := p.figures(false); got != tt.recent {
				t.Errorf("recent %+v; want %+v", got, tt.recent)
			}
			if got := p.figures(true); got != tt.total {
				t.Errorf("total %+v; want %+v", got, tt.total)
			}
		})
	}
}
