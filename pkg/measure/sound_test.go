//go:build cgo

package measure

import (
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/pcm"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// beepFrames encodes secs seconds of the test beep, from base on, late
// by late, into 20 ms Opus frames.
func beepFrames(t *testing.T, secs int, late time.Duration) [][]byte {
	t.Helper()
	enc, err := opus.NewEncoder(opus.NewParams())
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	b := pcm.NewBeep(base)
	b.Late(late)
	var out [][]byte
	buf := make([]int16, opus.FrameSamples)
	for range secs * 50 {
		b.Read(buf)
		p, err := enc.Encode(buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestSoundDelayAndOffset feeds a Meter 2 s of the pattern, each frame
// decoded 40 ms after its capture, and of the beep, each 20 ms frame
// decoded 30 ms after its last sample was captured: the beep's delay is
// those 30 ms plus the time from the second to the end of the frame the
// decoder gives its onset in (the clip's second falls 16 ms into a frame
// ending 20 ms later, and the decoder's 6.5 ms look-ahead may push the
// onset into the next frame), and the offset from the picture is that
// delay minus the picture's 40 ms. A beep that is late by 300 ms adds
// 300 ms to both; lost audio frames leave a beep out rather than take
// its middle for its onset.
func TestSoundDelayAndOffset(t *testing.T) {
	video := encode(t, clip{w: 160, h: 120, n: 60, bitrate: 300_000})
	const videoDelay, audioDelay = 40 * ms, 30 * ms
	for _, tc := range []struct {
		name     string
		late     time.Duration
		lose     func(j int) bool // audio frame j is lost
		beeps    uint64
		min, max time.Duration // the delay
	}{
		{name: "on time", beeps: 2, min: audioDelay + 4*ms, max: audioDelay + 4*ms + 20*ms},
		{name: "300 ms late", late: 300 * ms, beeps: 1, min: audioDelay + 300*ms + 4*ms, max: audioDelay + 300*ms + 24*ms},
		// Frames 38 to 41 (760 to 840 ms) hold the first beep's onset.
		{name: "onset lost", lose: func(j int) bool { return j >= 38 && j <= 41 }, beeps: 1, min: audioDelay + 4*ms, max: audioDelay + 24*ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{}
			m := newMeter(t, Options{Codec: vp8.Descriptor, Audio: opus.Descriptor, Now: clock.Now, PSNREvery: -1})
			audio := beepFrames(t, 2, tc.late)
			// Both streams in the order they are decoded.
			j := 0
			for _, f := range video {
				vAt := f.at.Add(videoDelay)
				for ; j < len(audio); j++ {
					aAt := base.Add(time.Duration(j+1)*20*ms + audioDelay)
					if aAt.After(vAt) {
						break
					}
					if tc.lose != nil && tc.lose(j) {
						continue
					}
					clock.now = aAt
					m.AudioFrame(audio[j], uint32(j*960)) // #nosec G115: small
				}
				clock.now = vAt
				m.Frame(f.data, f.key)
			}
			got := m.Total()
			t.Logf("%d beeps, delay p50 %v max %v, offset p50 %v over %d s", got.Beeps, got.AudioDelayP50, got.AudioDelayMax, got.AVOffsetP50, got.AVOffsets)
			if got.Beeps != tc.beeps {
				t.Errorf("%d beeps found; want %d", got.Beeps, tc.beeps)
			}
			if got.AudioDelayP50 < tc.min || got.AudioDelayP50 > tc.max {
				t.Errorf("delay %v; want %v to %v", got.AudioDelayP50, tc.min, tc.max)
			}
			if got.AVOffsets == 0 || !near(got.AVOffsetP50, got.AudioDelayP50-videoDelay) {
				t.Errorf("offset %v over %d s; want the delay minus the picture's %v: %v", got.AVOffsetP50, got.AVOffsets, videoDelay, got.AudioDelayP50-videoDelay)
			}
			if r := m.Recent(); r.AudioDelayP50 != got.AudioDelayP50 || r.Beeps != got.Beeps {
				t.Errorf("Recent's delay %v (%d beeps) differs from Total's %v over %d beeps", r.AudioDelayP50, r.Beeps, got.AudioDelayP50, got.Beeps)
			}
		})
	}
}

// TestSoundWithoutAudio: a Meter without Options.Audio ignores
// AudioFrame, and one with it measures no sound until a beep comes.
func TestSoundWithoutAudio(t *testing.T) {
	m := newMeter(t, Options{Codec: vp8.Descriptor})
	m.AudioFrame([]byte{1, 2, 3}, 0)
	if f := m.Total(); f.Beeps != 0 || f.AudioDelayP50 != 0 {
		t.Errorf("figures without sound: %+v", f)
	}
	m = newMeter(t, Options{Codec: vp8.Descriptor, Audio: opus.Descriptor})
	m.AudioFrame([]byte{0xff, 0xff, 0xff}, 0) // not Opus
	m.AudioFrame(nil, 960)
	if f := m.Total(); f.Beeps != 0 || f.AVOffsets != 0 {
		t.Errorf("figures from garbage: %+v", f)
	}
}
