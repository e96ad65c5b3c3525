package record

import "time"

// timeline gives the frames written their presentation times, from their
// RTP timestamps (RFC 3550 section 5.1): pts, in RTP ticks since the first
// frame written, and the milliseconds the containers take. Its rules:
//
//   - A 32-bit timestamp is unwrapped against the previous frame's.
//   - After a change of source (SSRC) the new timestamps are unrelated to
//     the old ones: the next frame is placed after the last one by the
//     wall-clock time that passed.
//   - Times strictly increase at the containers' millisecond resolution,
//     whatever the sender does: frames sent in a burst can carry
//     timestamps less than a millisecond apart, and players reject two
//     frames at the same time.
//
// It is used under the Recorder's mu.
type timeline struct {
	clock   int64     // RTP ticks per second
	have    bool      // last is set: a frame of this source was seen
	last    uint32    // last frame's RTP timestamp
	ext     int64     // same, unwrapped
	rebase  bool      // timestamps restart after a change of source
	first   int64     // ext of the first frame written
	wrote   bool      // a frame was written
	lastPTS int64     // pts of the last frame written
	lastAt  time.Time // when the last frame was written
}

// unwrap extends a frame's 32-bit RTP timestamp against the previous one.
// started says whether the first frame was taken (start was called);
// now is called for the wall-clock time only after a change of source.
func (t *timeline) unwrap(ts uint32, started bool, now func() time.Time) int64 {
	switch {
	case t.have:
		t.ext += int64(int32(ts - t.last)) // #nosec G115: wraps on purpose
	case t.rebase && started:
		gap := now().Sub(t.lastAt) * time.Duration(t.clock) / time.Second
		t.ext = t.first + t.lastPTS + max(int64(gap), 1)
		t.rebase = false
	default:
		t.ext = int64(ts)
	}
	t.last, t.have = ts, true
	return t.ext
}

// newSource makes the next timestamp unrelated to the previous ones, as
// after a change of SSRC or a jump in sequence numbers.
func (t *timeline) newSource() {
	if t.have {
		t.have = false
		t.rebase = true
	}
}

// start makes ext, an unwrapped timestamp, time zero.
func (t *timeline) start(ext int64) {
	t.first = ext
}

// pts returns the presentation time of the frame at unwrapped timestamp
// ext: its ticks since the first frame, moved later if needed so that its
// millisecond comes after the last frame written's.
func (t *timeline) pts(ext int64) int64 {
	pts := ext - t.first
	if t.wrote && t.ms(pts) <= t.ms(t.lastPTS) {
		pts = (t.ms(t.lastPTS) + 1) * t.clock / 1000
		for t.ms(pts) <= t.ms(t.lastPTS) {
			pts++
		}
	}
	return pts
}

// written records that the frame at pts was written at wall-clock time at.
func (t *timeline) written(pts int64, at time.Time) {
	t.wrote = true
	t.lastPTS = pts
	t.lastAt = at
}

// ms converts ticks to whole milliseconds, rounding down.
func (t *timeline) ms(ticks int64) int64 {
	return ticks * 1000 / t.clock
}

// ticks converts RTP ticks to a duration.
func (t *timeline) ticks(n int64) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(t.clock)
}
