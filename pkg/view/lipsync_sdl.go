//go:build cgo && !nosdl

package view

import (
	"time"

	"github.com/p2pcam/p2pcam/pkg/codec"
)

// deviceLatency is how long, in samples, a sample that has left SDL's
// audio queue takes to be heard: SDL's own buffer of one device period,
// and the sound server's, asked for at one period too.
const deviceLatency = devicePeriod

// FrameAt is Frame for a frame of RTP timestamp rtpTimestamp
// (session.Syncer): once both streams' sender reports have come and the
// sound plays, its picture is shown when the sound captured at the same
// instant on the sender's clock is heard, waiting at most 100 ms.
func (w *Window) FrameAt(data []byte, keyFrame bool, rtpTimestamp uint32) {
	w.frame(data, keyFrame, rtpTimestamp, true)
}

// SenderReport takes the latest RTCP sender report of the call's video
// or sound (session.Syncer): RTP timestamp rtpTime of the stream's clock
// of clockRate ticks a second was ntp on the sender's wall clock.
func (w *Window) SenderReport(kind codec.Kind, ntp time.Time, rtpTime, clockRate uint32) {
	w.sp.mu.Lock()
	w.sp.ls.senderReport(kind == codec.Audio, ntp, rtpTime, clockRate)
	w.sp.mu.Unlock()
}

// heard notes, after the device's queue was topped up to queued samples,
// which sound is being heard: what the playhead says, when playout is
// under way; on the speaker's goroutine.
func (sp *speaker) heard(ph *playhead, queued int) {
	ts, ok := ph.at(int64(queued) + deviceLatency)
	now := time.Now()
	sp.mu.Lock()
	sp.ls.hearing(uint32(ts), now, ok && sp.jb.playing)
	sp.mu.Unlock()
}

// shownLate notes that a picture held for the sound reached the screen
// late after its time: the wait to come is shortened by as much.
func (sp *speaker) shownLate(late time.Duration) {
	sp.mu.Lock()
	sp.ls.shown(late)
	sp.mu.Unlock()
}

// pictureWait is how long a picture decoded at now waits to be seen with
// its sound: by the sender's clock when the picture's RTP timestamp
// (timed) and both streams' sender reports are known and the sound
// plays, else by arrival (lipSync).
func (sp *speaker) pictureWait(ts uint32, timed bool, now time.Time) time.Duration {
	if sp.silent.Load() {
		return 0
	}
	if timed {
		sp.mu.Lock()
		d, ok := sp.ls.wait(ts, now)
		sp.mu.Unlock()
		if ok {
			return d
		}
	}
	return sp.lipSync()
}
