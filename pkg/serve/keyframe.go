package serve

import (
	"sync"
	"time"
)

// keyFrameEvery is the shortest gap between two forced keyframes, over
// all viewers: a keyframe costs several frames' worth of bits for every
// viewer, so one viewer's flood of requests (PLI, FIR) must not make
// every frame one.
const keyFrameEvery = 500 * time.Millisecond

// keyLimiter forces a keyframe at most once per gap. A request within the
// gap is not lost: one keyframe follows when the gap ends, however many
// requests came in it.
type keyLimiter struct {
	gap   time.Duration
	force func()

	mu      sync.Mutex
	last    time.Time   // when force last ran
	pending *time.Timer // the keyframe owed at the end of the gap
	stopped bool
}

func newKeyLimiter(gap time.Duration, force func()) *keyLimiter {
	return &keyLimiter{gap: gap, force: force}
}

// request asks for a keyframe.
func (k *keyLimiter) request() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped || k.pending != nil {
		return
	}
	now := time.Now()
	if wait := k.last.Add(k.gap).Sub(now); !k.last.IsZero() && wait > 0 {
		k.pending = time.AfterFunc(wait, k.owed)
		return
	}
	k.last = now
	k.force()
}

// owed forces the keyframe owed since the gap began.
func (k *keyLimiter) owed() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pending = nil
	if k.stopped {
		return
	}
	k.last = time.Now()
	k.force()
}

// stop drops a keyframe owed and ignores later requests; force is not
// called once it returns.
func (k *keyLimiter) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if k.pending != nil {
		k.pending.Stop()
		k.pending = nil
	}
}
