//go:build cgo

package session

import (
	"math"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/pcm"
)

// TestAudioMeter feeds the meter 2 s of the test beep as Opus frames with
// holes, coded by libopus expecting some loss (it then codes FEC data for
// the beep, frames 50 to 54, not for the silence between beeps) or none:
// a packet lost in the beep comes back from the next one's FEC data (20
// ms) when it has some, and is concealed when it has none; a longer loss
// is recovered for its last packet and concealed for the rest; a hole
// over 120 ms is neither. The level is the beep's RMS over the frames
// received (100 ms a second of a sine at half scale: -9 dBFS - 10 dB =
// -19 dBFS without loss).
func TestAudioMeter(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		loss                 int // the loss the sender expects, percent
		drop                 []int
		recovered, concealed float64 // ms
	}{
		{name: "no loss", loss: 10},
		{name: "one packet with FEC", loss: 10, drop: []int{51}, recovered: 20},
		{name: "one packet without FEC", drop: []int{51}, concealed: 20},
		{name: "one packet of silence", loss: 10, drop: []int{30}, concealed: 20},
		{name: "three packets with FEC", loss: 10, drop: []int{51, 52, 53}, recovered: 20, concealed: 40},
		{name: "three packets without FEC", drop: []int{51, 52, 53}, concealed: 60},
		{name: "an outage", loss: 10, drop: []int{45, 46, 47, 48, 49, 50, 51, 52, 53, 54}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newAudioMeter(opus.Descriptor)
			if m == nil {
				t.Fatal("no meter for Opus in a cgo build")
			}
			defer m.close()
			enc, err := opus.NewEncoder(opus.Params{PacketLoss: tc.loss})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			in := make([]int16, 2*opus.SampleRate)
			pcm.NewBeep(time.Unix(1_700_000_000, 0)).Read(in)
			dropped := map[int]bool{}
			for _, f := range tc.drop {
				dropped[f] = true
			}
			for f := range len(in) / opus.FrameSamples {
				data, err := enc.Encode(in[f*opus.FrameSamples : (f+1)*opus.FrameSamples])
				if err != nil {
					t.Fatal(err)
				}
				if !dropped[f] {
					m.frame(data, true, 0xffff0000+uint32(f*opus.FrameSamples)) // #nosec G115: wraps on purpose
				}
			}
			got := m.read(false)
			if got.recoveredMs != tc.recovered || got.concealedMs != tc.concealed {
				t.Errorf("recovered %.1f ms, concealed %.1f ms; want %.1f, %.1f", got.recoveredMs, got.concealedMs, tc.recovered, tc.concealed)
			}
			// The level is over the frames received: the beep's
			// share of them (frames 0-4 and 50-54 of 100).
			kept, beep := 0, 0
			for f := range 100 {
				if !dropped[f] {
					kept++
					if f%50 < 5 {
						beep++
					}
				}
			}
			want := 20*math.Log10(pcm.BeepLevel/math.Sqrt2) + 10*math.Log10(float64(beep)/float64(kept))
			if math.Abs(got.levelDB-want) > 1.5 {
				t.Errorf("level %.1f dBFS; want %.1f ± 1.5", got.levelDB, want)
			}
			if again := m.read(false); again.levelDB != -100 {
				t.Errorf("level with nothing since the last read %.1f dBFS; want -100", again.levelDB)
			}
			if call := m.read(true); call.levelDB != got.levelDB {
				t.Errorf("level over the call %.1f dBFS; want %.1f, that of its only second", call.levelDB, got.levelDB)
			}
		})
	}
}
