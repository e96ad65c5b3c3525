package session

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/pkg/codec"
)

// fakeSyncer is a viewer and speaker that also syncs the two by the
// sender's clock.
type fakeSyncer struct {
	fakeViewer
	timed   []uint32 // the RTP timestamps FrameAt was given
	reports map[codec.Kind][]uint32
	rates   map[codec.Kind]uint32
	heard   int
}

// newFakeSyncer is a fakeSyncer that records every frame, from the first.
func newFakeSyncer() *fakeSyncer {
	return &fakeSyncer{fakeViewer: fakeViewer{after: -1, done: make(chan struct{})},
		reports: map[codec.Kind][]uint32{}, rates: map[codec.Kind]uint32{}}
}

func (v *fakeSyncer) Audio(codec.Descriptor, []byte, uint32) {
	v.mu.Lock()
	v.heard++
	v.mu.Unlock()
}

func (v *fakeSyncer) FrameAt(data []byte, key bool, ts uint32) {
	v.mu.Lock()
	v.timed = append(v.timed, ts)
	v.mu.Unlock()
}

func (v *fakeSyncer) SenderReport(kind codec.Kind, ntp time.Time, rtpTime, clockRate uint32) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ntp.IsZero() {
		return
	}
	v.reports[kind] = append(v.reports[kind], rtpTime)
	v.rates[kind] = clockRate
}

// TestViewerSyncsBySendersClock: a viewer that is a Syncer gets every
// video frame through FrameAt, with its RTP timestamp, and not Frame;
// and the sender reports of the video and of the heard sound as they
// come, each once, with its stream's clock rate.
func TestViewerSyncsBySendersClock(t *testing.T) {
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	video, audio := testcodec.Descriptor(), testcodec.Audio
	l := newLink()
	v := newFakeSyncer()
	// Recorded too: the test codec has no IVF ID, so a viewer alone
	// (which records into nothing as IVF) cannot take it.
	out := filepath.Join(t.TempDir(), "out.webm")
	a := start(ctx, Config{Answer: l, Output: out, Codecs: []codec.Descriptor{video, audio},
		View: func(ViewCall) (Viewer, error) { return v, nil }})
	snd, locals := sendingPeer(t, ctx, l, video, audio)
	defer snd.Close()
	// Three seconds of both (sender reports come about once a second).
	const audioFrames = 150
	sendBoth(t, locals, audioFrames)
	if err := snd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.wait(t); err != nil {
		t.Fatalf("answer: %v\n%s", err, a.ev)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.frames != 0 || len(v.timed) < audioFrames/2*8/10 {
		t.Errorf("%d frames through Frame, %d through FrameAt; want none and about %d", v.frames, len(v.timed), audioFrames/2)
	}
	for i := 1; i < len(v.timed); i++ {
		if step := v.timed[i] - v.timed[i-1]; step != 3600 {
			t.Errorf("frames %d and %d are %d ticks apart; want 3600 (40 ms at 90 kHz)", i-1, i, step)
		}
	}
	if v.heard < audioFrames*8/10 {
		t.Errorf("the speaker heard %d packets; want about %d", v.heard, audioFrames)
	}
	for kind, rate := range map[codec.Kind]uint32{codec.Video: 90000, codec.Audio: 48000} {
		r := v.reports[kind]
		if len(r) == 0 || v.rates[kind] != rate {
			t.Errorf("%s: %d sender reports at %d Hz; want some at %d Hz", kind, len(r), v.rates[kind], rate)
		}
		for i := 1; i < len(r); i++ {
			if r[i] == r[i-1] {
				t.Errorf("%s: sender report %d passed on twice", kind, i)
			}
		}
	}
}

// TestLateSoundIsHeard: a sound track whose first packet comes after
// the recording started (a microphone slower to start than trackGrace)
// is not recorded, but the viewer's speaker still hears it.
func TestLateSoundIsHeard(t *testing.T) {
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	video, audio := testcodec.Descriptor(), testcodec.Audio
	l := newLink()
	v := newFakeSyncer()
	out := filepath.Join(t.TempDir(), "out.webm")
	a := start(ctx, Config{Answer: l, Output: out, Codecs: []codec.Descriptor{video, audio},
		View: func(ViewCall) (Viewer, error) { return v, nil }})
	snd, locals := sendingPeer(t, ctx, l, video, audio)
	defer snd.Close()
	// Video alone for longer than trackGrace, then both for a second.
	const frames = 50 // 40 ms each
	late := int(trackGrace/(40*time.Millisecond)) + 5
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for i := range frames {
		<-tick.C
		f := testcodec.Encode(testcodec.Frame{Key: i == 0, Width: 64, Height: 48, Number: uint32(i)}, make([]byte, 200))
		if err := locals[0].WriteSample(media.Sample{Data: f, Duration: 40 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if i >= late {
			for range 2 {
				if err := locals[1].WriteSample(media.Sample{Data: []byte{byte(i), 1, 2, 3}, Duration: 20 * time.Millisecond}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := snd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.wait(t); err != nil {
		t.Fatalf("answer: %v\n%s", err, a.ev)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if want := 2 * (frames - late); v.heard < want*8/10 {
		t.Errorf("the speaker heard %d packets of the late sound; want about %d", v.heard, want)
	}
}
