package record

// interleaver puts the frames of several tracks in time order for the
// container: Matroska players expect the blocks of a cluster in time
// order, and a block before its cluster's start would need a negative
// time. Each track's frames come in order; a frame goes out once every
// other track that has started has a frame at or after its time waiting,
// or has fallen interleaveWait behind the newest frame of any track (it
// went quiet: a muted microphone, a frozen camera). Among frames of
// equal time the main track's goes first, so a keyframe of it opens its
// cluster.
//
// Times out are non-decreasing over all tracks and strictly increasing
// per track: a video frame later than one already out (a track that was
// not waited for) is moved to that time. An audio frame that late is
// dropped instead (pop says so): each audio frame covers its own stretch
// of time, and moving one would shift the sound after it out of sync for
// the rest of the recording, where dropping it leaves a hole no longer
// than the wait that caused it. It is used under the Recorder's mu.
type interleaver struct {
	q       [][]liveFrame // per track, in time order
	started []bool        // the track gave a frame
	sent    []bool        // a frame of the track went out
	last    []int64       // per track, the time of its last frame out
	newest  int64         // the latest time added
	out     int64         // the time of the last frame out
}

func newInterleaver(tracks int) *interleaver {
	return &interleaver{
		q:       make([][]liveFrame, tracks),
		started: make([]bool, tracks),
		sent:    make([]bool, tracks),
		last:    make([]int64, tracks),
	}
}

// add takes a frame of track f.track with time f.pts.
func (il *interleaver) add(f liveFrame) {
	il.q[f.track] = append(il.q[f.track], f)
	il.started[f.track] = true
	il.newest = max(il.newest, f.pts)
}

// pop returns the next frame due; with flush, the next one at all. late
// says that f is an audio frame that came after later frames went out,
// to be dropped.
func (il *interleaver) pop(flush bool) (f liveFrame, late, ok bool) {
	next := -1
	for i, q := range il.q {
		if len(q) == 0 {
			continue
		}
		if next < 0 || q[0].pts < il.q[next][0].pts || (q[0].pts == il.q[next][0].pts && q[0].main) {
			next = i
		}
	}
	if next < 0 {
		return liveFrame{}, false, false
	}
	f = il.q[next][0]
	if !flush && il.newest-f.pts < interleaveWait {
		for i := range il.q {
			if i != next && il.started[i] && len(il.q[i]) == 0 {
				return liveFrame{}, false, false // track i may still bring an earlier frame
			}
		}
	}
	il.q[next][0] = liveFrame{}
	il.q[next] = il.q[next][1:]
	if f.audio && (f.pts < il.out || (il.sent[next] && f.pts <= il.last[next])) {
		return f, true, true
	}
	f.pts = max(f.pts, il.out)
	if il.sent[next] {
		f.pts = max(f.pts, il.last[next]+1)
	}
	il.sent[next], il.last[next], il.out = true, f.pts, f.pts
	return f, false, true
}
