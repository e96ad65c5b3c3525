//go:build cgo

package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/opus"
)

// fakeSpeaker is a viewer that also takes the call's sound.
type fakeSpeaker struct {
	fakeViewer
	amu     sync.Mutex
	codec   string
	packets int
	ts      []uint32
}

func (v *fakeSpeaker) Audio(c codec.Descriptor, packet []byte, ts uint32) {
	v.amu.Lock()
	defer v.amu.Unlock()
	if len(packet) > 0 {
		v.codec = c.MimeType
		v.packets++
		v.ts = append(v.ts, ts)
	}
}

// TestViewerHearsTheSound: a viewer that is a Speaker is handed the
// packets of the call's audio track as they arrive, with their RTP
// timestamps, in a call that carries sound alone with no Output (the
// viewer is all there is).
func TestViewerHearsTheSound(t *testing.T) {
	testutil.NeedCodec(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l := newLink()
	v := &fakeSpeaker{fakeViewer: fakeViewer{after: -1, done: make(chan struct{})}}
	a := start(ctx, Config{Answer: l, Codecs: []codec.Descriptor{opus.Descriptor},
		View: func(ViewCall) (Viewer, error) { return v, nil }})

	d := opus.Descriptor
	snd, locals := sendingPeer(t, ctx, l, d)
	defer snd.Close()
	tl := locals[0]
	enc, err := opus.NewEncoder(opus.NewParams())
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	const frames = 100
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pcm := make([]int16, opus.FrameSamples)
	for range frames {
		<-tick.C
		pkt, err := enc.Encode(pcm)
		if err != nil {
			t.Fatal(err)
		}
		if err := tl.WriteSample(media.Sample{Data: pkt, Duration: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	if err := snd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.wait(t); err != nil {
		t.Fatalf("answer: %v\n%s", err, a.ev)
	}
	v.amu.Lock()
	defer v.amu.Unlock()
	if v.packets < frames*8/10 || v.codec != d.MimeType {
		t.Fatalf("the speaker heard %d %q packets; want about %d of %s", v.packets, v.codec, frames, d.MimeType)
	}
	for i := 1; i < len(v.ts); i++ {
		if step := v.ts[i] - v.ts[i-1]; step == 0 || step%opus.FrameSamples != 0 {
			t.Errorf("RTP timestamps step by %d between packets %d and %d; want steps of %d", step, i-1, i, opus.FrameSamples)
		}
	}
}
