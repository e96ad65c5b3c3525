package record

import (
	"sync"
	"time"
)

// Limits of the live queue (Options.Live): it holds at most this many
// frames, spanning at most liveMaxSpan milliseconds of stream time.
const (
	liveMaxFrames = 8
	liveMaxSpan   = 200
	// liveStall is how long one write to the output may take before the
	// frames queued meanwhile are taken for stale.
	liveStall = liveMaxSpan * time.Millisecond
)

// liveQueue stands between a live Recorder and its muxer: frames are put
// in on WriteRTP's goroutine, which never waits for the output, and a
// goroutine of its own starts the muxer and hands them to it, waiting on
// the output as long as it takes. When the queue is full, the output's
// reader is behind: the queued frames are dropped up to the newest
// keyframe among them; with none (but the first), the frames after the
// first keyframe (which waits while it is no older than the queue's span),
// or all, and every delta frame after them until a keyframe comes. So
// what is dropped is always whole frames up to a keyframe, and the stream
// stays decodable. And once a write to the output took longer than the
// queue's span (the reader stalled, or started late), the frames queued
// meanwhile are stale: they are dropped and a keyframe is asked for at
// once, so the reader goes on from a fresh picture.
//
// The queue judges by the main track's frames (the first video track,
// see Options.Live): its keyframes, its frame count and frame interval.
// Frames of the other tracks ride along: they count in the span, are
// dropped while the main track waits for a keyframe, and are moved in
// time with it, so the tracks stay in sync.
//
// The presentation times of the frames after a drop are moved back to
// follow the last frame handed to the muxer by one frame interval: the
// stream has no hole in its timeline, and a player that plays by the
// stream's clock (ffplay) shows the newer frames at once instead of waiting
// out the time dropped. Times stay strictly increasing.
type liveQueue struct {
	start func() (muxer, error) // called on the queue's goroutine first
	mux   muxer
	out   *output

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
	// Frames dropped after a stall, told by the next put, which then
	// asks for a keyframe at once.
	stale  []liveFrame
	urgent bool
	done   chan struct{}
}

type liveFrame struct {
	track int  // index in Options.Tracks
	main  bool // of the main track, whose keyframes the queue judges by
	key   bool
	// audio: a frame of an audio track, which the interleaver drops
	// rather than moves when it comes too late (see interleaver).
	audio bool
	pts   int64 // ms, shift applied
	data  []byte
}

// newLiveQueue starts the goroutine that starts the muxer and feeds it;
// close stops it.
func newLiveQueue(start func() (muxer, error), out *output) *liveQueue {
	l := &liveQueue{start: start, out: out, done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// put offers a frame f with time f.pts (ms). It reports whether the
// frame was queued, and the queued frames dropped to make room or for
// being stale. A main frame not queued is dropped; a keyframe is then
// wanted, and at once when now is set. put never blocks on the output.
func (l *liveQueue) put(f liveFrame) (queued bool, dropped []liveFrame, now bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	dropped, now = l.stale, l.urgent
	l.stale, l.urgent = nil, false
	if !f.main {
		if l.skip {
			return false, dropped, now
		}
		f.pts = max(f.pts-l.shift, l.after(0))
		l.q = append(l.q, f)
		l.cond.Signal()
		return true, dropped, now
	}
	key, pts := f.key, f.pts
	step := int64(1)
	if l.seen {
		step = max(pts-l.prev, 1)
	}
	l.prev, l.seen = pts, true
	if l.skip && !key {
		// The keyframe kept waiting is dropped too once it is stale.
		if len(l.q) > 0 && pts-l.shift-l.q[0].pts > liveMaxSpan {
			dropped = append(dropped, l.q...)
			l.q = l.q[:0]
		}
		return false, dropped, now
	}
	if n := l.mains(); n >= liveMaxFrames || (len(l.q) > 0 && pts-l.shift-l.q[0].pts > liveMaxSpan) {
		// Behind. Keep what follows the newest keyframe queued; or,
		// with none but the first, that keyframe alone; or nothing.
		// Unless this frame is a keyframe, the next frames are dropped
		// until one.
		lo, hi := len(l.q), len(l.q)
		l.skip = !key
		if !key {
			first := -1
			for i := range l.q {
				if l.q[i].main {
					if first < 0 {
						first = i
						if l.q[i].key {
							lo, hi = i, i+1
						}
						continue
					}
					if l.q[i].key {
						lo, hi, l.skip = i, len(l.q), false
					}
				}
			}
		}
		dropped = append(dropped, l.q[:lo]...)
		dropped = append(dropped, l.q[hi:]...)
		l.q = append(l.q[:0:0], l.q[lo:hi]...)
		if lo > 0 && len(l.q) > 0 {
			// The frames kept follow the last one sent.
			d := l.q[0].pts - l.after(step)
			for i := range l.q {
				l.q[i].pts -= d
			}
			l.shift += d
		}
		l.gap = true
		if l.skip {
			return false, dropped, now
		}
	}
	if l.gap {
		// This frame follows the last one queued or sent.
		l.shift += pts - l.shift - l.after(step)
		l.gap = false
	}
	l.skip = false
	f.pts = pts - l.shift
	l.q = append(l.q, f)
	l.cond.Signal()
	return true, dropped, now
}

// mains counts the main track's frames queued.
func (l *liveQueue) mains() int {
	n := 0
	for i := range l.q {
		if l.q[i].main {
			n++
		}
	}
	return n
}

// after returns the time step ms after the last frame queued, or sent
// when none is queued: where the next frame goes.
func (l *liveQueue) after(step int64) int64 {
	switch {
	case len(l.q) > 0:
		return l.q[len(l.q)-1].pts + step
	case l.sent:
		return l.sentPTS + step
	}
	return 0
}

// run hands the queued frames to the muxer in order until close.
func (l *liveQueue) run() {
	defer close(l.done)
	var err error
	began := time.Now()
	if l.mux, err = l.start(); err != nil {
		l.out.fail(err)
		l.mux = nil
	}
	l.wrote(began)
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
		if l.mux == nil {
			continue
		}
		began := time.Now()
		if err := l.mux.writeFrame(f.track, f.key, f.pts, f.data); err != nil {
			l.out.fail(err)
		}
		l.wrote(began)
	}
}

// wrote drops the queued frames as stale if the write begun at began
// took longer than liveStall.
func (l *liveQueue) wrote(began time.Time) {
	if time.Since(began) <= liveStall {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.q) == 0 && l.skip {
		return
	}
	l.stale = append(l.stale, l.q...)
	l.q = l.q[:0]
	l.skip, l.gap, l.urgent = true, true, true
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
