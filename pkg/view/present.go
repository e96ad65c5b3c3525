package view

import (
	"slices"
	"sync"
	"time"

	"github.com/p2pcam/p2pcam/internal/pct"
)

// presentFigures are a window's own delay: for each picture shown, the
// time from the moment it was ready (handed to the window by the decoder,
// or, for a picture that waited for its sound, the end of that wait) to
// the return of the renderer's present call that first showed it.
type presentFigures struct {
	// P50 and P95 are percentiles of that delay (nearest rank),
	// truncated to 0.1 ms; zero when no picture was shown.
	P50, P95 time.Duration
	// Presented counts the pictures shown; Dropped those replaced by a
	// newer picture before they were shown (not timed).
	Presented, Dropped uint64
}

const (
	// presentRecent is how many of the latest pictures shown the recent
	// figures cover (five seconds at 30 fps).
	presentRecent = 150
	// presentStep is the total figures' resolution, and presentBins
	// times it the longest delay they resolve (longer ones count as
	// that much).
	presentStep = 100 * time.Microsecond
	presentBins = 10_000
)

// presentTimes keeps a window's delays from a picture ready to it shown:
// the latest exactly, the whole call as a histogram. Its methods may be
// called from any goroutine.
type presentTimes struct {
	mu        sync.Mutex
	recent    [presentRecent]time.Duration // a ring; next is the oldest once full
	next      int
	hist      []uint32 // whole call, by presentStep
	presented uint64
	dropped   uint64
}

// shown counts one picture shown d after it was ready.
func (p *presentTimes) shown(d time.Duration) {
	d = max(d, 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hist == nil {
		p.hist = make([]uint32, presentBins)
	}
	p.recent[p.next] = d
	p.next = (p.next + 1) % presentRecent
	p.hist[min(int(d/presentStep), presentBins-1)]++
	p.presented++
}

// drop counts n pictures replaced before they were shown.
func (p *presentTimes) drop(n int) {
	p.mu.Lock()
	p.dropped += uint64(n)
	p.mu.Unlock()
}

// figures returns the percentiles over the latest pictures shown (the
// whole call when total), and the counts since the window opened.
func (p *presentTimes) figures(total bool) presentFigures {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := presentFigures{Presented: p.presented, Dropped: p.dropped}
	if p.presented == 0 {
		return f
	}
	if total {
		f.P50 = time.Duration(pct.Bin(p.hist, pct.Rank(p.presented, 50))) * presentStep
		f.P95 = time.Duration(pct.Bin(p.hist, pct.Rank(p.presented, 95))) * presentStep
		return f
	}
	n := min(p.presented, presentRecent)
	s := slices.Clone(p.recent[:n])
	slices.Sort(s)
	f.P50 = s[pct.Rank(n, 50)].Truncate(presentStep)
	f.P95 = s[pct.Rank(n, 95)].Truncate(presentStep)
	return f
}
