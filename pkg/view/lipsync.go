package view

import (
	"time"
)

// maxLipSync is the most a picture waits for the sound: the jitter
// buffer's limit, which is as far as the sound can be behind.
const maxLipSync = jitterMax

// senderClock maps a stream's RTP timestamps to the sender's wall clock,
// by the stream's latest RTCP sender report (RFC 3550 §6.4.1).
type senderClock struct {
	ntp  time.Time // the sender's wall clock...
	rtp  uint32    // ...when the stream's RTP clock read this
	rate int64     // RTP ticks per second
}

// ok says whether the clock has had a sender report.
func (c senderClock) ok() bool { return c.rate > 0 && !c.ntp.IsZero() }

// at is when, on the sender's clock, the stream's RTP timestamp ts was
// taken; ts is within 2^31 ticks of the report's (hours of sound or
// video).
func (c senderClock) at(ts uint32) time.Time {
	d := int64(int32(ts - c.rtp))
	return c.ntp.Add(time.Duration(d * int64(time.Second) / c.rate))
}

// queuedSound is a run of samples handed to the device: the RTP
// timestamp (unwrapped) of its first sample, where it starts in the
// count of all samples queued, and how many.
type queuedSound struct {
	ts, start, n int64
}

// playhead follows which of the sound handed to the device is being
// heard: each run queued (queue), and how much the device has not yet
// played (at), give the RTP timestamp under the playhead. It is not
// safe for concurrent use.
type playhead struct {
	runs  []queuedSound // oldest first, contiguous in the count
	total int64         // samples queued so far
}

// queue notes n samples of sound that starts at RTP timestamp ts
// (unwrapped) handed to the device, after all the others.
func (p *playhead) queue(ts int64, n int) {
	if n <= 0 {
		return
	}
	if k := len(p.runs); k > 0 {
		if last := &p.runs[k-1]; last.ts+last.n == ts && last.start+last.n == p.total {
			last.n += int64(n) // one run, in step
			p.total += int64(n)
			return
		}
	}
	p.runs = append(p.runs, queuedSound{ts: ts, start: p.total, n: int64(n)})
	p.total += int64(n)
}

// silence notes n samples of silence handed to the device, after all the
// others: no sound is heard while they play.
func (p *playhead) silence(n int) {
	if n > 0 {
		p.total += int64(n)
	}
}

// at gives the RTP timestamp being heard now, when the device still holds
// pending samples of what it was handed (its queue and latency): false
// while nothing queued has reached the ear yet, or all of it has (the
// device ran dry).
// Runs already heard are forgotten.
func (p *playhead) at(pending int64) (int64, bool) {
	pos := p.total - pending
	// Forget the runs wholly heard, keeping the one under the playhead.
	for len(p.runs) > 1 && p.runs[1].start <= pos {
		p.runs = p.runs[1:]
	}
	if len(p.runs) == 0 || pos < p.runs[0].start {
		return 0, false
	}
	r := p.runs[0]
	if pos >= r.start+r.n {
		// Past the end of the run: in silence queued after it, or
		// the device ran dry.
		return 0, false
	}
	return r.ts + pos - r.start, true
}

// lipSync schedules pictures against the sound by the sender's clock:
// both streams' RTP timestamps map to the sender's wall clock (their
// sender reports), and a picture is shown when the sound captured at the
// same instant is being heard. Only the picture waits, never more than
// maxLipSync: a picture later than its sound is shown at once, as the
// sound is never held back for it. It is not safe for concurrent use.
type lipSync struct {
	audio, video senderClock
	// The sound heard: RTP timestamp heard (wrapped to 32 bits) at the
	// time heardAt on this side's clock; heard is false until known.
	heardTS uint32
	heardAt time.Time
	heard   bool
	// offset is the last picture's capture instant minus that of the
	// sound heard when it was decoded: positive, the picture came early
	// and waited (up to maxLipSync); negative, it came late.
	offset time.Duration
	known  bool // offset was measured
	// late is how long after its time a picture held for the sound
	// reaches the screen (waking the loop, uploading, drawing,
	// presenting), a running average: the wait is shortened by as much.
	late time.Duration
}

// maxLate bounds what shown takes in, at the most a picture waits: a
// picture held up once by a stalled loop does not say how long drawing
// takes.
const maxLate = maxLipSync

// shown takes how long after its time a held picture reached the screen.
func (l *lipSync) shown(late time.Duration) {
	late = min(max(late, 0), maxLate)
	l.late += (late - l.late) / 8
}

// skew is how much later than its sound the last picture was shown, by
// the sender's clock: what the wait could not make up (negative: the
// picture was early by more than maxLipSync).
func (l *lipSync) skew() time.Duration {
	return -(l.offset - min(max(l.offset, 0), maxLipSync))
}

// staleHeard is how old the sound's position may be and still be run on
// by the wall clock: older, the speaker has stalled and the picture does
// not wait for it.
const staleHeard = 100 * time.Millisecond

// senderReport takes a sender report of the audio (audio true) or video
// stream: RTP timestamp rtp at ntp on the sender's clock, at rate ticks a
// second.
func (l *lipSync) senderReport(audio bool, ntp time.Time, rtp uint32, rate uint32) {
	c := senderClock{ntp: ntp, rtp: rtp, rate: int64(rate)}
	if audio {
		l.audio = c
	} else {
		l.video = c
	}
}

// hearing notes that the sound of RTP timestamp ts is heard at now; ok
// false says no sound is being heard (the speaker waits, or is silent).
func (l *lipSync) hearing(ts uint32, now time.Time, ok bool) {
	l.heardTS, l.heardAt, l.heard = ts, now, ok
}

// wait is how long a picture of RTP timestamp ts, decoded at now, waits
// to be seen with its sound; ok false when the clocks are not known yet
// (no sender report for a stream, no sound heard), and the caller
// falls back on arrival times.
func (l *lipSync) wait(ts uint32, now time.Time) (time.Duration, bool) {
	if !l.audio.ok() || !l.video.ok() || !l.heard {
		return 0, false
	}
	since := now.Sub(l.heardAt)
	if since < 0 || since > staleHeard {
		return 0, false
	}
	// The sound heard now, on the sender's clock: what was heard then,
	// moved on by the time since.
	sound := l.audio.at(l.heardTS).Add(since)
	picture := l.video.at(ts)
	d := picture.Sub(sound)
	l.offset, l.known = d, true
	return min(max(d-l.late, 0), maxLipSync), true
}
