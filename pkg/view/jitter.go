package view

import (
	"slices"
	"time"
)

// The jitter buffer's limits, in time of sound: playout starts once
// jitterMin is buffered and aims at a target between jitterMin and
// jitterTargetMax that follows the arrival jitter; past jitterMax the
// oldest packets are dropped rather than the buffer growing.
const (
	jitterMin       = 40 * time.Millisecond
	jitterTargetMax = 80 * time.Millisecond
	jitterMax       = 100 * time.Millisecond
	// concealMax is how long a silence of the other side is filled by
	// concealment before playout stops and waits to buffer again.
	concealMax = 100 * time.Millisecond
)

// jitterStats are a jitter buffer's running figures.
type jitterStats struct {
	Packets   uint64 // packets taken in
	Played    uint64 // packets handed out to be decoded
	Recovered uint64 // lost packets rebuilt from the next one's FEC data
	Concealed uint64 // lost packets made up by concealment
	Late      uint64 // packets that came after their turn: dropped
	Dropped   uint64 // packets dropped because the buffer was too deep
	Dups      uint64 // duplicates dropped
	Rebuffers uint64 // playout stopped and started again
}

// jitterPacket is one packet waiting for its turn.
type jitterPacket struct {
	ts      int64 // unwrapped RTP timestamp
	payload []byte
}

// step is what playout does next: play payload; rebuild a lost packet of
// samples samples from next's FEC data (fec) or conceal it (payload and
// next nil); or nothing (wait, samples 0).
type step struct {
	ts      int64 // the unwrapped RTP timestamp of the frame's first sample
	payload []byte
	next    []byte
	samples int
	fec     bool
}

// jitterBuffer orders audio packets by their RTP timestamp and hands
// them out in turn, one frame at a time, as the speaker asks: a missing
// packet is rebuilt or concealed once a later one is there, packets
// later than their turn are dropped, and the depth stays under
// jitterMax. Playout is driven by the speaker's demand (the device's
// clock), not by the wall clock; the arrival times set the target depth.
// It is not safe for concurrent use.
type jitterBuffer struct {
	clock   int64 // RTP ticks per second
	frame   int64 // ticks per frame, learned from the timestamps; 20 ms until then
	pkts    []jitterPacket
	last    uint32 // the last RTP timestamp seen, for unwrapping
	lastExt int64
	started bool // a packet was seen
	playing bool // playout is under way: next is the timestamp due
	next    int64
	// concealed counts the ticks concealed in a row with nothing buffered.
	concealed int64

	// RFC 3550 §6.4.1 interarrival jitter, in ticks, from arrivals.
	jitter      float64
	prevArrival time.Time
	prevTS      int64

	// hasFEC says whether a packet carries FEC data for the one before
	// it (the codec's Descriptor.HasFEC); nil: none ever does.
	hasFEC func([]byte) bool

	stats jitterStats
}

// newJitterBuffer is a jitter buffer for a codec of clockRate whose
// packets' FEC data hasFEC finds (nil for a codec without FEC).
func newJitterBuffer(clockRate uint32, hasFEC func([]byte) bool) *jitterBuffer {
	c := int64(clockRate)
	return &jitterBuffer{clock: c, frame: c / 50, hasFEC: hasFEC}
}

// ticks converts d to RTP ticks.
func (j *jitterBuffer) ticks(d time.Duration) int64 { return int64(d) * j.clock / int64(time.Second) }

// dur converts RTP ticks to time.
func (j *jitterBuffer) dur(ticks int64) time.Duration {
	return time.Duration(ticks * int64(time.Second) / j.clock)
}

// unwrap extends ts to 64 bits, near the last one seen.
func (j *jitterBuffer) unwrap(ts uint32) int64 {
	if !j.started {
		j.started, j.last, j.lastExt = true, ts, int64(ts)
		return j.lastExt
	}
	ext := j.lastExt + int64(int32(ts-j.last))
	if ext > j.lastExt {
		j.last, j.lastExt = ts, ext
	}
	return ext
}

// push takes a packet that arrived at at; it copies payload.
func (j *jitterBuffer) push(payload []byte, ts uint32, at time.Time) {
	j.stats.Packets++
	ext := j.unwrap(ts)
	if !j.prevArrival.IsZero() && ext > j.prevTS {
		// D(i-1,i) = (Rj - Ri) - (Sj - Si), in ticks.
		d := float64(j.ticks(at.Sub(j.prevArrival))) - float64(ext-j.prevTS)
		if d < 0 {
			d = -d
		}
		j.jitter += (d - j.jitter) / 16
		if gap := ext - j.prevTS; gap > 0 && gap < j.frame {
			j.frame = gap // shorter frames than assumed
		}
	}
	if ext >= j.prevTS || j.prevArrival.IsZero() {
		j.prevArrival, j.prevTS = at, ext
	}
	if j.playing && ext < j.next {
		j.stats.Late++
		return
	}
	i, found := slices.BinarySearchFunc(j.pkts, ext, func(p jitterPacket, ts int64) int {
		switch {
		case p.ts < ts:
			return -1
		case p.ts > ts:
			return 1
		}
		return 0
	})
	if found {
		j.stats.Dups++
		return
	}
	j.pkts = slices.Insert(j.pkts, i, jitterPacket{ts: ext, payload: append([]byte(nil), payload...)})
	j.trim()
}

// target is the depth playout aims at now: the minimum, or three times
// the arrival jitter and a frame when that is more, up to
// jitterTargetMax.
func (j *jitterBuffer) target() time.Duration {
	t := j.dur(int64(3*j.jitter)+j.frame) + 0
	return min(max(t, jitterMin), jitterTargetMax)
}

// depth is the sound buffered: from the packet due to the end of the
// newest one.
func (j *jitterBuffer) depth() time.Duration {
	if len(j.pkts) == 0 {
		return 0
	}
	from := j.pkts[0].ts
	if j.playing {
		from = j.next
	}
	return j.dur(j.pkts[len(j.pkts)-1].ts + j.frame - from)
}

// tooDeep says whether playout should leave the packet due out to bring
// the depth back to the target: past it by more than three frames. (The
// speaker also plays pauses shorter while the buffer is deeper than the
// target by more than half a frame: speech has pauses to catch up in.)
func (j *jitterBuffer) tooDeep() bool {
	return j.depth()-j.target() > j.dur(3*j.frame)
}

// trim drops the oldest packets while the buffer holds more than
// jitterMax, moving playout on past them.
func (j *jitterBuffer) trim() {
	for len(j.pkts) > 1 && j.depth() > jitterMax {
		j.stats.Dropped++
		j.pkts = j.pkts[1:]
		if j.playing {
			j.next = j.pkts[0].ts
		}
	}
}

// pop hands out the next frame's step; ahead is the sound already
// handed to the device and not yet played, which counts toward the
// target while playout starts.
func (j *jitterBuffer) pop() step {
	if !j.playing {
		if len(j.pkts) == 0 || j.depth() < j.target() {
			return step{}
		}
		// Start from the target's depth: what piled up before (while
		// the device opened) is dropped, not played late.
		for len(j.pkts) > 1 && j.dur(j.pkts[len(j.pkts)-1].ts-j.pkts[1].ts+j.frame) >= j.target() {
			j.stats.Dropped++
			j.pkts = j.pkts[1:]
		}
		j.playing, j.next, j.concealed = true, j.pkts[0].ts, 0
	}
	if len(j.pkts) > 1 && j.pkts[0].ts == j.next && j.tooDeep() {
		// Far deeper than the target (a burst, a stalled device):
		// catch up by leaving a packet out.
		j.stats.Dropped++
		j.pkts = j.pkts[1:]
		j.next += j.frame
	}
	if len(j.pkts) > 0 && j.pkts[0].ts == j.next {
		p := j.pkts[0]
		j.pkts = j.pkts[1:]
		j.next += j.frame
		j.concealed = 0
		j.stats.Played++
		return step{ts: p.ts, payload: p.payload, samples: int(j.frame)}
	}
	if len(j.pkts) > 0 && j.pkts[0].ts < j.next {
		// A packet that starts within the frame due: its frames were
		// shorter; take it as the next.
		j.next = j.pkts[0].ts
		return j.pop()
	}
	// The packet due is missing.
	if len(j.pkts) == 0 {
		if j.concealed >= j.ticks(concealMax) {
			// The other side went quiet: stop, and buffer again.
			j.playing = false
			j.stats.Rebuffers++
			return step{}
		}
		j.concealed += j.frame
	}
	j.next += j.frame
	if len(j.pkts) > 0 && j.pkts[0].ts == j.next && j.hasFEC != nil && j.hasFEC(j.pkts[0].payload) {
		j.stats.Recovered++
		return step{ts: j.next - j.frame, next: j.pkts[0].payload, samples: int(j.frame), fec: true}
	}
	j.stats.Concealed++
	return step{ts: j.next - j.frame, samples: int(j.frame)}
}
