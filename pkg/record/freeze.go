package record

import (
	"slices"
	"time"
)

// Freeze rule constants (see Stats.Freezes).
const (
	freezeWindow     = 30                     // gaps the median is taken over
	freezeMinSamples = 5                      // gaps known before judging
	freezeMinExtra   = 150 * time.Millisecond // m + this at least
)

// freezeDetector judges the gaps between frames written. Its zero value
// is ready; it is used under the Recorder's mu.
type freezeDetector struct {
	last time.Time
	have bool
	gaps [freezeWindow]time.Duration // ring of the latest gaps
	n    int                         // gaps in the ring
	next int                         // where the next gap goes
}

// add records a frame written at now and reports whether the gap since
// the previous frame was a freeze, and that gap.
func (d *freezeDetector) add(now time.Time) (freeze bool, gap time.Duration) {
	if !d.have {
		d.last, d.have = now, true
		return false, 0
	}
	gap = now.Sub(d.last)
	d.last = now
	if d.n >= freezeMinSamples {
		var sorted [freezeWindow]time.Duration
		s := sorted[:d.n]
		copy(s, d.gaps[:d.n])
		slices.Sort(s)
		m := s[d.n/2]
		freeze = gap >= max(3*m, m+freezeMinExtra)
	}
	d.gaps[d.next] = gap
	d.next = (d.next + 1) % freezeWindow
	d.n = min(d.n+1, freezeWindow)
	return freeze, gap
}
