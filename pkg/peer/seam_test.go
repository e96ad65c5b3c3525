package peer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
)

// exchange runs the offer/answer between snd and rcv and waits for both
// to connect; it returns the answer's error, if any.
func exchange(t *testing.T, ctx context.Context, snd, rcv *Peer) error {
	t.Helper()
	offer, err := snd.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := rcv.Answer(ctx, offer)
	if err != nil {
		return err
	}
	if err := snd.Accept(answer); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Peer{snd, rcv} {
		if err := p.WaitConnected(ctx); err != nil {
			t.Fatalf("WaitConnected: %v", err)
		}
	}
	return nil
}

// TestSecondCodecThroughPeer: a codec peer has never heard of, given only
// as a descriptor (internal/testcodec), is negotiated, sent from capture's
// pipeline, reported with its descriptor and arrives intact, and its
// keyframe requests reach its encoder by SSRC.
func TestSecondCodecThroughPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	desc := testcodec.Descriptor()
	tr, err := capture.OpenContext(ctx, capture.Source{Kind: capture.Test}, capture.Options{Width: 64, Height: 48, FPS: 30, Codec: desc})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	snd, err := New(Config{Send: []SendTrack{{Track: tr, Codec: desc, OnKeyFrameRequest: tr.ForceKeyFrame}}, Interfaces: loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	rcv, err := New(Config{Receive: videoKinds(), Codecs: []codec.Descriptor{desc}, Interfaces: loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	if err := exchange(t, ctx, snd, rcv); err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	var remote RemoteTrack
	select {
	case remote = <-rcv.Tracks():
	case <-ctx.Done():
		t.Fatal("no remote track")
	}
	if remote.Err != nil || !remote.Codec.Is(testcodec.MimeType) {
		t.Fatalf("remote track: codec %q, err %v; want %s", remote.Codec.MimeType, remote.Err, testcodec.MimeType)
	}
	if got := snd.SenderSSRCs(); len(got) != 1 || got[0] != remote.SSRC() {
		t.Fatalf("SenderSSRCs = %v; remote SSRC %d", got, remote.SSRC())
	}
	if got := rcv.RemoteSSRCs(); len(got) != 1 || got[0] != remote.SSRC() {
		t.Fatalf("RemoteSSRCs = %v; remote SSRC %d", got, remote.SSRC())
	}

	frames := make(chan []byte, 64)
	go func() {
		defer close(frames)
		dep := remote.Codec.NewDepacketizer()
		var frame []byte
		for {
			pkt, _, err := remote.Track.ReadRTP()
			if err != nil {
				return
			}
			frame = assemble(t, dep, pkt, frame, frames)
		}
	}()
	next := func() testcodec.Frame {
		t.Helper()
		select {
		case b, ok := <-frames:
			if !ok {
				t.Fatal("the remote track ended")
			}
			f, err := testcodec.Parse(b)
			if err != nil {
				t.Fatalf("frame did not arrive intact: %v", err)
			}
			return f
		case <-ctx.Done():
			t.Fatal("no frame")
		}
		return testcodec.Frame{}
	}
	first := next()
	if !first.Key || first.Width != 64 || first.Height != 48 {
		t.Fatalf("first frame %+v; want a 64x48 keyframe", first)
	}
	prev := first.Number
	for range 5 {
		f := next()
		if f.Number != prev+1 {
			t.Fatalf("frame %d after %d", f.Number, prev)
		}
		prev = f.Number
	}
	// A keyframe asked for by SSRC comes before the encoder's own
	// (every 30th frame).
	if err := rcv.RequestKeyFrame(remote.SSRC()); err != nil {
		t.Fatal(err)
	}
	for {
		f := next()
		if f.Key {
			if f.Number%30 == 0 {
				t.Fatalf("no keyframe on request before the periodic one (frame %d)", f.Number)
			}
			break
		}
	}
	if fb := snd.FeedbackFor(remote.SSRC()); fb.PLIs == 0 {
		t.Fatalf("sender counted no PLI for SSRC %d: %+v", remote.SSRC(), fb)
	}
	if fb := rcv.FeedbackFor(remote.SSRC()); fb.KeyFramesSent == 0 {
		t.Fatalf("receiver counted no keyframe request for SSRC %d: %+v", remote.SSRC(), fb)
	}
}

// assemble adds pkt's part of a frame to frame and hands a finished
// frame to out; it returns the frame being built.
func assemble(t *testing.T, dep rtp.Depacketizer, pkt *rtp.Packet, frame []byte, out chan<- []byte) []byte {
	part, err := dep.Unmarshal(pkt.Payload)
	if err != nil {
		t.Errorf("depacketize: %v", err)
		return nil
	}
	if dep.IsPartitionHead(pkt.Payload) {
		frame = nil
	}
	frame = append(frame, part...)
	if dep.IsPartitionTail(pkt.Marker, pkt.Payload) {
		select {
		case out <- frame:
		default:
		}
		return nil
	}
	return frame
}

// TestNoCommonCodecFailsTheAnswer: an answerer that knows none of the
// offered codecs says so instead of connecting mute.
func TestNoCommonCodecFailsTheAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	desc := testcodec.Descriptor()
	tr, err := capture.OpenContext(ctx, capture.Source{Kind: capture.Test}, capture.Options{Width: 64, Height: 48, FPS: 30, Codec: desc})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	snd, err := New(Config{Send: []SendTrack{{Track: tr, Codec: desc}}, Interfaces: loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	rcv, err := New(Config{Receive: videoKinds(), Codecs: vp8Codecs(), Interfaces: loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	offer, err := snd.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rcv.Answer(ctx, offer); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("Answer = %v; want ErrNoCommonCodec", err)
	}
}
