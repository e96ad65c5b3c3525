//go:build cgo && !nosdl

package view

import (
	"fmt"
	"testing"
	"time"

	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/pcm"
)

// TestConcealment: what the speaker plays (the jitter buffer's steps
// decoded by libopus) keeps the beep whole where packets were lost: as
// long as sent, with no hole, and everything after it in its place, not
// shifted.
func TestConcealment(t *testing.T) {
	tests := []struct {
		name string
		lose []int // frames lost, 20 ms each; the first beep spans frames 0–4
	}{
		{"none lost", nil},
		{"one lost: FEC", []int{2}},
		{"two lost: concealed, then FEC", []int{2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := opus.NewParams()
			params.PacketLoss = 10
			enc, err := opus.NewEncoder(params)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := opus.Descriptor.NewAudioDecoder()
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			src := pcm.NewBeep(time.Unix(1000, 0)) // a beep from sample 0, and one a second later
			j := newJitterBuffer(opus.SampleRate, opus.HasFEC)
			frame := make([]int16, opus.FrameSamples)
			var out []int16
			play := func() {
				st := j.pop()
				if st.samples == 0 {
					return
				}
				s, err := decodeStep(dec, st)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, s...)
			}
			const frames = 70 // 1.4 s
			for n := range frames {
				if _, err := src.Read(frame); err != nil {
					t.Fatal(err)
				}
				pkt, err := enc.Encode(frame)
				if err != nil {
					t.Fatal(err)
				}
				lost := false
				for _, l := range tc.lose {
					lost = lost || l == n
				}
				if !lost {
					j.push(pkt, uint32(n*opus.FrameSamples), time.Unix(1000, 0).Add(time.Duration(n)*20*time.Millisecond))
				}
				play() // the device takes a frame each 20 ms
			}
			bs := beeps(out, time.Unix(0, 0))
			if len(bs) != 2 {
				t.Fatalf("heard %d beeps in 1.4 s; want 2", len(bs))
			}
			first, second := bs[0], bs[1]
			got := fmt.Sprintf("%v long, hole %d ms, next %d samples later", first.length, 5*first.hole, second.sample-first.sample)
			t.Log(got)
			if first.length < 95*time.Millisecond || first.length > 110*time.Millisecond || first.hole > 0 {
				t.Errorf("the first beep: %s; want 100 ms, no hole", got)
			}
			if d := second.sample - first.sample; d < 48000-toneBlock || d > 48000+toneBlock {
				t.Errorf("the beeps are %d samples apart; want 48000 (nothing shifted)", d)
			}
			if st := j.stats; len(tc.lose) > 0 && st.Recovered+st.Concealed != uint64(len(tc.lose)) {
				t.Errorf("jitter buffer %+v; want %d rebuilt or concealed", st, len(tc.lose))
			}
		})
	}
}
