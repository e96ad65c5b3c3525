package serve

import (
	"slices"
	"time"
)

// The rate policy: the encoder's target is set by the viewers whose links
// carry the most, and each viewer is sent the temporal layers its own
// link carries, so that one slow viewer costs the others nothing (issue
// 20). Each viewer's congestion controller (peer.Congestion) estimates
// its link from what it is sent and, as gcc-02 §5.5 has it, never raises
// its estimate above 1.5 times the rate it sees received; so a viewer
// held to a layer must be able to earn the next from what that layer
// sends: hence the thresholds below sit under the layers' shares. A
// viewer is sent fewer layers as soon as its estimate falls, and more one
// layer at a time once its estimate has carried them for upHold; the
// server re-reads the estimates a few times per upHold (paceLayers).

// Thresholds, as fractions of a layer's share of the encoder's target: a
// viewer whose estimate reaches layerUp of the share of layers 0..i is
// sent them; it keeps them while its estimate stays above layerDown.
// With three layers (40%, 60%, 100%) a viewer is sent every layer from
// 80% of the target, layers 0-1 from 48%, and layer 0 (7.5 fps) below.
// Held to layers 0-1 (60% of the target sent), its estimate can reach
// 90% and so earn the rest.
const (
	layerUp   = 0.8
	layerDown = 0.7
)

// upHold is how long a viewer's estimate must carry the next layer up
// before it is sent that layer, one layer at a time; it is sent fewer
// layers at once. A congestion controller's estimate climbs by leaps
// after backing off, and each step up is a burst the viewer's link may
// not carry: without the hold a slow viewer flaps between layers.
const upHold = 2 * time.Second

// nextLayer is a viewer's layer after reading its estimate est: cur is
// the layer it is sent, limit the highest it may be sent, target and share
// as for viewerLayer, since as for stepLayer, whose results it returns.
func nextLayer(now time.Time, cur, limit, est, target int, share []float64, since time.Time) (int, time.Time) {
	want := viewerLayer(cur, est, target, share)
	if want <= cur && !since.IsZero() && viewerLayer(cur+1, est, target, share) > cur {
		// A climb under way goes on while the estimate stays above the
		// next layer's lower threshold.
		want = cur + 1
	}
	return stepLayer(now, cur, min(want, limit), since)
}

// stepLayer is a viewer's layer after a new estimate: cur is the layer it
// is sent, want the one its estimate carries now (viewerLayer), and since
// when its estimate first carried more than cur (zero: it does not). It
// returns the new layer and the new since.
func stepLayer(now time.Time, cur, want int, since time.Time) (int, time.Time) {
	switch {
	case want <= cur:
		return want, time.Time{}
	case since.IsZero():
		return cur, now
	case now.Sub(since) >= upHold:
		return cur + 1, now
	default:
		return cur, since
	}
}

// encoderTarget is the encoder's target for viewers whose congestion
// controllers estimate targets (bits/s, any order), at most ceiling: the
// upper median, so that at least half of the viewers get the whole
// stream (with two viewers, the better one's; with three, the middle
// one's). With no viewers it is the ceiling.
func encoderTarget(targets []int, ceiling int) int {
	if len(targets) == 0 {
		return ceiling
	}
	ts := slices.Clone(targets)
	slices.Sort(ts)
	return min(ceiling, ts[len(ts)/2])
}

// viewerLayer is the highest layer a viewer whose estimate is est (bits/s)
// is sent, given the layer it is sent now, the encoder's target and the
// share of it that layers 0..i carry (share[i]). Layer 0 is sent however
// slow the viewer: it keeps a moving picture.
func viewerLayer(now, est, target int, share []float64) int {
	for i := len(share) - 1; i > 0; i-- {
		f := layerUp
		if i <= now {
			f = layerDown
		}
		if float64(est) >= f*share[i]*float64(target) {
			return i
		}
	}
	return 0
}
