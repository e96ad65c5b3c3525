package record

import "sync"

// Limits of the live queue (Options.Live): it holds at most this many
// frames, spanning at most liveMaxSpan milliseconds of stream time.
const (
	liveMaxFrames = 8
	liveMaxSpan   = 200
)

// liveQueue stands between a live Recorder and its muxer: frames are put
// in on WriteRTP's goroutine, which never waits for the output, and a
// goroutine of its own hands them to the muxer, waiting on the output as
// long as it takes. When the queue is full, the output's reader is behind:
// the queued frames are dropped up to the newest keyframe among them, or
// all of them and every delta frame after them until a keyframe comes. So
// what is dropped is always whole frames up to a keyframe, and the stream
// stays decodable.
//
// The presentation times of the frames after a drop are moved back to
// follow the last frame handed to the muxer by one frame interval: the
// stream has no hole in its timeline, and a player that plays by the
// stream's clock (ffplay) shows the newer frames at once instead of waiting
// out the time dropped. Times stay strictly increasing.
type liveQueue struct {
	mux muxer
	out *output

	mu      sync.Mutex
	cond    *sync.Cond // signalled when q grows or closed is set
	q       []liveFrame
	closed  bool
	skip    bool  // dropping delta frames until a keyframe
	gap     bool  // frames were dropped: the next accepted one closes the gap
	shift   int64 // ms taken off the times of frames, for the drops so far
	seen    bool  // prev is set
	prev    int64 // time of the previous frame offered, before shift
	sent    bool  // sentPTS is set
	sentPTS int64 // time of the last frame handed to the muxer
	done    chan struct{}
}

type liveFrame struct {
	key  bool
	pts  int64 // ms, shift applied
	data []byte
}

// newLiveQueue starts the goroutine feeding mux; close stops it.
func newLiveQueue(mux muxer, out *output) *liveQueue {
	l := &liveQueue{mux: mux, out: out, done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// put offers a frame with time pts (ms). It reports whether the frame was
// queued, and how many queued frames (keys of them keyframes) were
// dropped to make room. A frame not queued is dropped; a keyframe is then
// wanted. put never blocks on the output.
func (l *liveQueue) put(key bool, pts int64, data []byte) (queued bool, dropped, keys int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	step := int64(1)
	if l.seen {
		step = max(pts-l.prev, 1)
	}
	l.prev, l.seen = pts, true
	if l.skip && !key {
		return false, 0, 0
	}
	if n := len(l.q); n >= liveMaxFrames || (n > 0 && pts-l.shift-l.q[0].pts > liveMaxSpan) {
		// Behind: keep only what follows the newest keyframe, this one
		// included.
		keep := -1
		if key {
			keep = n
		} else {
			for i := n - 1; i >= 1; i-- {
				if l.q[i].key {
					keep = i
					break
				}
			}
		}
		if keep < 0 {
			keep = n
			l.skip = true
		}
		for _, f := range l.q[:keep] {
			dropped++
			if f.key {
				keys++
			}
		}
		l.q = append(l.q[:0:0], l.q[keep:]...)
		l.gap = true
		if l.skip {
			return false, dropped, keys
		}
	}
	if l.gap {
		// The first frame after the drop follows the last one sent.
		next := int64(0)
		if l.sent {
			next = l.sentPTS + step
		}
		first := pts - l.shift
		if len(l.q) > 0 {
			first = l.q[0].pts
		}
		d := first - next
		for i := range l.q {
			l.q[i].pts -= d
		}
		l.shift += d
		l.gap = false
	}
	l.skip = false
	l.q = append(l.q, liveFrame{key: key, pts: pts - l.shift, data: data})
	l.cond.Signal()
	return true, dropped, keys
}

// run hands the queued frames to the muxer in order until close.
func (l *liveQueue) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		for len(l.q) == 0 && !l.closed {
			l.cond.Wait()
		}
		if len(l.q) == 0 {
			l.mu.Unlock()
			return
		}
		f := l.q[0]
		l.q[0] = liveFrame{}
		l.q = l.q[1:]
		l.sentPTS, l.sent = f.pts, true
		l.mu.Unlock()
		// After a failure the output discards what follows: the queue
		// then empties at once.
		if err := l.mux.writeFrame(f.key, f.pts, f.data); err != nil {
			l.out.fail(err)
		}
	}
}

// close waits until the queued frames are handed to the muxer and stops
// the goroutine. It may be called more than once.
func (l *liveQueue) close() {
	l.mu.Lock()
	l.closed = true
	l.cond.Signal()
	l.mu.Unlock()
	<-l.done
}
