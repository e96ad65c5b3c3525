package pcm

import (
	"math"
	"time"
)

// The test beep: BeepFreq for BeepLength at the start of every whole
// second of Unix time, the clock whose milliseconds the test pattern
// stamps into each frame (package pattern), at BeepLevel of full scale;
// silence (zeros) between beeps.
const (
	BeepFreq   = 1000
	BeepLength = 100 * time.Millisecond
	BeepLevel  = 0.5
)

// Time in ticks of 1/3 ns: 48 kHz samples are 62500/3 ns long, a whole
// number of ticks, so the arithmetic below is exact.
const (
	ticksPerSecond = 3 * int64(time.Second)
	ticksPerSample = ticksPerSecond / SampleRate
	beepTicks      = 3 * int64(BeepLength)
)

// Beep is the synthetic test sound (--audio test). Sample n stands for
// the instant Start + n/48000 s, and it is part of a beep when that
// instant lies in the first BeepLength of a whole Unix second; the tone
// starts at phase 0 at each whole second. Samples depend only on Start and
// n, so a receiver can tell from the pattern's stamps and the beeps how
// far sound and picture are apart.
type Beep struct {
	start  time.Time
	late   time.Duration // see Late
	offset int64         // ticks from the beep before start to start
	n      int64         // samples produced
	tone   []int16
}

// NewBeep returns the beep whose first sample stands for start.
func NewBeep(start time.Time) *Beep {
	ns := start.UnixNano() % int64(time.Second)
	if ns < 0 {
		ns += int64(time.Second)
	}
	// One beep, precomputed: it begins at each whole second.
	tone := make([]int16, (beepTicks+ticksPerSample-1)/ticksPerSample+1)
	for i := range tone {
		tone[i] = int16(math.Round(BeepLevel * 32767 * math.Sin(2*math.Pi*BeepFreq*float64(i)/SampleRate)))
	}
	return &Beep{start: start, offset: 3 * ns, tone: tone}
}

// anchor makes the first sample stand for start, before any sample was
// read: a paced Reader hands the first chunk out at start, so the beep's
// samples then stand for the instants they are handed out (from the
// Beep's construction on they would all be late by the time until the
// first read, which shows as sound behind picture in a recording).
func (b *Beep) anchor(start time.Time) {
	if b.n == 0 {
		late := b.late
		*b = *NewBeep(start)
		b.Late(late)
	}
}

// Late makes the beeps start d after each whole second instead of on it
// (d between 0 and 1 s), from sample 0 on: sound that is late against
// the picture by d, as a test of whatever measures that. Call it before
// the first Read.
func (b *Beep) Late(d time.Duration) {
	d = min(max(d, 0), time.Second-1)
	b.offset = (b.offset - 3*int64(d-b.late) + ticksPerSecond) % ticksPerSecond
	b.late = d
}

// Start is the instant the first sample stands for.
func (b *Beep) Start() time.Time { return b.start }

// Time is the instant sample n stands for, to the nanosecond.
func (b *Beep) Time(n int64) time.Time {
	return b.start.Add(time.Duration(n * ticksPerSample / 3))
}

// Read implements Source; the beep never ends.
func (b *Beep) Read(buf []int16) (int, error) {
	for i := range buf {
		buf[i] = b.sample(b.n + int64(i))
	}
	b.n += int64(len(buf))
	return len(buf), nil
}

// sample computes sample n.
func (b *Beep) sample(n int64) int16 {
	t := (b.offset + n*ticksPerSample) % ticksPerSecond // ticks into its second
	if t >= beepTicks {
		return 0
	}
	// The tone is sampled on the 48 kHz grid counted from the whole
	// second; a start between two grid points rounds up to the next one.
	return b.tone[(t+ticksPerSample-1)/ticksPerSample]
}
