package measure

import (
	"slices"
	"time"

	"github.com/p2pcam/p2pcam/internal/pct"
	"github.com/p2pcam/p2pcam/pkg/pattern"
)

// The sound's measurement, when the sender's sound is the test beep
// (package pcm: a tone from each whole second of the clock that stamps
// the pattern). AudioFrame decodes each frame and finds each beep's
// onset; the whole second it belongs to is the one at or before the
// local clock when it is decoded plus 100 ms, so the sound's delay is
// read from -100 to 900 ms (and, as for the video, the peers must share
// a clock). The
// video's frames say when each whole second was decoded as picture: the
// first frame stamped at or after it, moved earlier by how much after it
// that frame was captured. The two together give the offset of sound
// and picture at the decoders.

// beepLevel is the onset threshold: a tenth of full scale (the beep is at
// half scale, the silence between beeps decodes to near zero).
const beepLevel = 3277

// beepQuiet is how long the sound must have been quiet before a loud
// sample counts as a beep's onset: the beeps are a second apart, 100 ms
// long.
const beepQuiet = 300 * time.Millisecond

// earliest is how early (ms) a beep may be decoded before the second it
// starts at, and still count for it: a source may hand its sound out
// ahead of time (the test beep hands a chunk out at its end, so does
// not), and the peers' clocks may disagree.
const earliest = 100

// secondsKept is how many recent whole seconds each side remembers while
// waiting for the other side's.
const secondsKept = 30

// maxSecondGap is the longest gap between two stamped frames across which
// a whole second is still placed in the video: the gap limits how well.
const maxSecondGap = 100 // ms

// soundState is the Meter's sound measurement, under its mu but for what
// AudioFrame alone uses.
type soundState struct {
	// Used by AudioFrame only.
	have  bool
	next  uint32 // RTP timestamp expected next
	quiet int    // samples of quiet before the next one

	// Under the Meter's mu.
	beeps   uint64
	delays  []time.Duration // every beep's, in order
	offsets []time.Duration // every second with both sides', in order
	audioAt map[int64]time.Time
	videoAt map[int64]time.Time
}

// AudioFrame decodes one received frame of the sound, given in stream
// order with its RTP timestamp, and measures its beeps. It does nothing
// when the Meter has no audio decoder (Options.Audio), or after Close.
// Frames that do not decode are skipped. data is not retained.
func (m *Meter) AudioFrame(data []byte, rtpTimestamp uint32) {
	if m.adec == nil {
		return
	}
	s := &m.sound
	if s.have && rtpTimestamp != s.next {
		s.quiet = 0 // a hole: what follows may be a beep's middle
	}
	pcm, err := m.adec.Decode(data)
	now := m.opts.Now()
	if err != nil {
		s.have = false
		return
	}
	s.have = true
	s.next = rtpTimestamp + uint32(int64(len(pcm))*m.aclock/48000) // #nosec G115: a packet's samples
	quiet := int(beepQuiet.Seconds() * 48000)
	onset := -1
	for i, v := range pcm {
		if v > beepLevel || v < -beepLevel {
			if onset < 0 && s.quiet >= quiet {
				onset = i
			}
			s.quiet = 0
		} else {
			s.quiet++
		}
	}
	if onset < 0 {
		return
	}
	sec := (now.UnixMilli() + earliest) / 1000 * 1000
	m.mu.Lock()
	defer m.mu.Unlock()
	s.beeps++
	s.delays = append(s.delays, now.Sub(time.UnixMilli(sec)))
	s.audioAt = remember(s.audioAt, sec, now)
	if v, ok := s.videoAt[sec]; ok {
		s.offsets = append(s.offsets, now.Sub(v))
	}
}

// videoSecond notes, from a frame with stamp st decoded at now after a
// frame stamped prevMillis, the whole second between them, if any: when
// it was decoded as picture.
func (m *Meter) videoSecond(st pattern.Stamp, prevMillis uint32, now time.Time) {
	if m.adec == nil {
		return
	}
	d := int64(int32(st.Millis - prevMillis)) // #nosec G115 -- modular on purpose
	if d <= 0 || d > maxSecondGap {
		return
	}
	// The stamp is Unix ms modulo 2^32: unwrap it against the local clock.
	local := now.UnixMilli()
	ms := local - int64(int32(uint32(local)-st.Millis)) // #nosec G115 -- modular on purpose
	sec := ms / 1000 * 1000
	if ms-d >= sec {
		return // no whole second since the previous frame
	}
	at := now.Add(-time.Duration(ms-sec) * time.Millisecond)
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &m.sound
	s.videoAt = remember(s.videoAt, sec, at)
	if a, ok := s.audioAt[sec]; ok {
		s.offsets = append(s.offsets, a.Sub(at))
	}
}

// remember adds second sec at t to seen, forgetting seconds older than
// secondsKept before it.
func remember(seen map[int64]time.Time, sec int64, t time.Time) map[int64]time.Time {
	if seen == nil {
		seen = make(map[int64]time.Time)
	}
	seen[sec] = t
	for k := range seen {
		if k < sec-secondsKept*1000 {
			delete(seen, k)
		}
	}
	return seen
}

// soundFigures fills f's sound figures from the last n beeps and
// offsets (all of them when n <= 0). It runs under mu.
func (m *Meter) soundFigures(f *Figures, n int) {
	s := &m.sound
	f.Beeps = s.beeps
	delays, offsets := s.delays, s.offsets
	if n > 0 {
		delays = delays[max(len(delays)-n, 0):]
		offsets = offsets[max(len(offsets)-n, 0):]
	}
	if len(delays) > 0 {
		d := slices.Clone(delays)
		slices.Sort(d)
		f.AudioDelayP50 = d[pct.Rank(uint64(len(d)), 50)]
		f.AudioDelayMax = d[len(d)-1]
	}
	if len(offsets) > 0 {
		o := slices.Clone(offsets)
		slices.Sort(o)
		f.AVOffsetP50 = o[pct.Rank(uint64(len(o)), 50)]
		f.AVOffsets = uint64(len(s.offsets))
	}
}
