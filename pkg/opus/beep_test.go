//go:build cgo

package opus

import (
	"math"
	"testing"
	"time"

	"github.com/pion/mediadevices"
	"github.com/pion/rtp/codecs"

	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/pcm"
)

// TestBeepKeepsItsTimingThroughAMediadevicesTrack sends the test beep
// through mediadevices' audio track (our encoder, its RTP packetizer),
// decodes the packets, and finds each beep's onset where its sample count
// puts it: RTP timestamps follow the samples, and the decoded sound lags
// the input by the encoder's lookahead, PreSkip, and nothing else.
func TestBeepKeepsItsTimingThroughAMediadevicesTrack(t *testing.T) {
	// Start 250 ms before a whole second: onsets at samples 12000 and
	// 60000 of the input.
	src := pcm.NewReader(pcm.NewBeep(time.Unix(1_700_000_000, 750_000_000)), "beep", false)
	builder, err := Descriptor.NewAudioEncoder(codec.EncoderParams{})
	if err != nil {
		t.Fatal(err)
	}
	track := mediadevices.NewAudioTrack(src, mediadevices.NewCodecSelector(mediadevices.WithAudioEncoders(builder)))
	defer track.Close()
	rr, err := track.NewRTPReader(Descriptor.MimeType, 1234, 1200)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()

	dec := newDecoder(t)
	var depack codecs.OpusPacket
	var out []int16
	var first, last uint32
	for i := range 100 { // 2 s
		pkts, release, err := rr.Read()
		if err != nil {
			t.Fatalf("RTP read %d: %v", i, err)
		}
		if len(pkts) != 1 {
			t.Fatalf("frame %d in %d RTP packets", i, len(pkts))
		}
		p := pkts[0]
		if i == 0 {
			first = p.Timestamp
		} else if p.Timestamp-last != FrameSamples {
			t.Fatalf("RTP timestamp advanced by %d, want %d", p.Timestamp-last, FrameSamples)
		}
		last = p.Timestamp
		payload, err := depack.Unmarshal(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		samples, err := dec.Decode(payload)
		release()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, samples...)
	}
	if last-first != 99*FrameSamples {
		t.Errorf("timestamps span %d, want %d", last-first, 99*FrameSamples)
	}
	for _, want := range []int{12000 + PreSkip, 60000 + PreSkip} {
		got := onset(out, want-4800)
		t.Logf("beep onset at %d, want %d (%+.2f ms)", got, want, float64(got-want)*1000/SampleRate)
		if math.Abs(float64(got-want)) > SampleRate/1000 {
			t.Errorf("beep onset at sample %d, want %d ± 1 ms", got, want)
		}
	}
}

// onset finds the first sample from index from on whose magnitude reaches
// a fifth of the beep's level.
func onset(samples []int16, from int) int {
	for i := from; i < len(samples); i++ {
		if math.Abs(float64(samples[i])) >= pcm.BeepLevel*32767/5 {
			return i
		}
	}
	return -1
}
