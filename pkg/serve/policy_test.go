package serve

import (
	"testing"
	"time"
)

func TestEncoderTargetIsTheUpperMedian(t *testing.T) {
	tests := []struct {
		name    string
		targets []int
		want    int
	}{
		{"no viewers: the ceiling", nil, 1_500_000},
		{"one viewer", []int{700_000}, 700_000},
		{"two viewers: the better", []int{200_000, 900_000}, 900_000},
		{"three, one slow: the middle", []int{900_000, 200_000, 800_000}, 800_000},
		{"three, two slow: the middle", []int{900_000, 200_000, 250_000}, 250_000},
		{"four, one slow: the second best", []int{150_000, 600_000, 700_000, 800_000}, 700_000},
		{"never above the ceiling", []int{2_000_000, 3_000_000}, 1_500_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encoderTarget(tt.targets, 1_500_000); got != tt.want {
				t.Errorf("encoderTarget(%v) = %d, want %d", tt.targets, got, tt.want)
			}
		})
	}
}

func TestViewerLayerFollowsItsEstimate(t *testing.T) {
	share := []float64{0.4, 0.6, 1}
	const target = 1_000_000
	tests := []struct {
		name     string
		now, est int
		want     int
	}{
		{"carries the whole stream", 2, 1_000_000, 2},
		{"above the threshold for all", 0, 800_000, 2},
		{"just under it: layers 0-1", 0, 799_000, 1},
		{"keeps all layers down to 70%", 2, 700_000, 2},
		{"below 70%: layers 0-1", 2, 699_000, 1},
		{"layers 0-1 from 48%", 0, 480_000, 1},
		{"keeps layers 0-1 down to 42%", 1, 420_000, 1},
		{"below: layer 0", 1, 419_000, 0},
		{"however slow, layer 0", 2, 10_000, 0},
		// Held to layers 0-1 (60% sent), GCC reaches at most 1.5 times
		// that: enough to earn every layer.
		{"layers 0-1 can earn the rest", 1, 900_000, 2},
		// Held to layer 0 (40% sent), at most 60%: enough for layer 1.
		{"layer 0 can earn layer 1", 0, 600_000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := viewerLayer(tt.now, tt.est, target, share); got != tt.want {
				t.Errorf("viewerLayer(now %d, est %d) = %d, want %d", tt.now, tt.est, got, tt.want)
			}
		})
	}
	if got := viewerLayer(0, 10, target, []float64{1}); got != 0 {
		t.Errorf("without layers: layer %d, want 0", got)
	}
}

func TestStepLayerClimbsOneLayerPerHold(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	tests := []struct {
		name      string
		now       time.Time
		cur, want int
		since     time.Time
		layer     int
		newSince  time.Time
	}{
		{"steady", at(0), 2, 2, time.Time{}, 2, time.Time{}},
		{"down at once", at(0), 2, 0, time.Time{}, 0, time.Time{}},
		{"down forgets a climb", at(0), 1, 0, at(-time.Second), 0, time.Time{}},
		{"up: the hold starts", at(0), 0, 2, time.Time{}, 0, at(0)},
		{"up: within the hold", at(upHold - time.Millisecond), 0, 2, at(0), 0, at(0)},
		{"up: one layer after the hold", at(upHold), 0, 2, at(0), 1, at(upHold)},
		{"up: the next after another", at(2 * upHold), 1, 2, at(upHold), 2, at(2 * upHold)},
		{"no longer up: the hold ends", at(time.Second), 1, 1, at(0), 1, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, since := stepLayer(tt.now, tt.cur, tt.want, tt.since)
			if l != tt.layer || !since.Equal(tt.newSince) {
				t.Errorf("stepLayer(cur %d, want %d) = %d, %v; want %d, %v", tt.cur, tt.want, l, since, tt.layer, tt.newSince)
			}
		})
	}
}

// TestNextLayerClimbsThroughANoisyEstimate: an estimate that reached the
// next layer's threshold and then wavers under it, but above the layer's
// lower threshold, still earns the layer after upHold; one that falls
// below ends the climb.
func TestNextLayerClimbsThroughANoisyEstimate(t *testing.T) {
	share := []float64{0.4, 0.6, 1}
	const target = 1_000_000
	t0 := time.Unix(1000, 0)
	type read struct {
		after time.Duration
		est   int
		layer int // the layer after the read
	}
	tests := []struct {
		name  string
		start int // the layer before the first read
		limit int
		reads []read
	}{
		{"wavering above 70% climbs", 1, 2, []read{
			{0, 800_000, 1}, {time.Second, 720_000, 1}, {upHold, 750_000, 2}}},
		{"falling under 70% ends the climb", 1, 2, []read{
			{0, 800_000, 1}, {time.Second, 690_000, 1}, {upHold, 750_000, 1}, {2 * upHold, 800_000, 1}, {3 * upHold, 800_000, 2}}},
		{"from layer 0, a layer per hold", 0, 2, []read{
			{0, 1_000_000, 0}, {upHold, 1_000_000, 1}, {2 * upHold, 1_000_000, 2}}},
		{"never above the limit", 0, 0, []read{
			{0, 1_000_000, 0}, {upHold, 1_000_000, 0}, {2 * upHold, 1_000_000, 0}}},
		{"down at once", 2, 2, []read{{0, 300_000, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, since := tt.start, time.Time{}
			for i, r := range tt.reads {
				cur, since = nextLayer(t0.Add(r.after), cur, tt.limit, r.est, target, share, since)
				if cur != r.layer {
					t.Fatalf("read %d (%v, %d bit/s): layer %d, want %d", i, r.after, r.est, cur, r.layer)
				}
			}
		})
	}
}
