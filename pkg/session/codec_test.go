package session

import (
	"context"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/pkg/capture"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/peer"
)

// TestSessionSendsAnyCodec: a session sends in whatever codec its Config
// gives as a descriptor (here internal/testcodec, which session never
// names), and the frames reach a plain peer intact.
func TestSessionSendsAnyCodec(t *testing.T) {
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	desc := testcodec.Descriptor()
	l := newLink()
	o := start(ctx, Config{Offer: l, Source: capture.Source{Kind: capture.Test}, Width: 64, Height: 48, Codecs: []codec.Descriptor{desc}})
	rcv, err := peer.New(peer.Config{Receive: []codec.Kind{codec.Video}, Codecs: []codec.Descriptor{desc}, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	select {
	case offer := <-l.offers:
		answer, err := rcv.Answer(ctx, offer)
		if err != nil {
			t.Fatal(err)
		}
		l.answers <- answer
	case <-ctx.Done():
		t.Fatal("no offer")
	}
	if err := rcv.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	var rt peer.RemoteTrack
	select {
	case rt = <-rcv.Tracks():
	case <-ctx.Done():
		t.Fatal("no remote track")
	}
	if rt.Err != nil || !rt.Codec.Is(testcodec.MimeType) {
		t.Fatalf("remote track in %q (err %v); want %s", rt.Codec.MimeType, rt.Err, testcodec.MimeType)
	}
	dep := rt.Codec.NewDepacketizer()
	var frame []byte
	for n := 0; n < 10; {
		pkt, _, err := rt.Track.ReadRTP()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		part, err := dep.Unmarshal(pkt.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if dep.IsPartitionHead(pkt.Payload) {
			frame = nil
		}
		frame = append(frame, part...)
		if !dep.IsPartitionTail(pkt.Marker, pkt.Payload) {
			continue
		}
		f, err := testcodec.Parse(frame)
		if err != nil {
			t.Fatalf("frame %d did not arrive intact: %v", n, err)
		}
		if n == 0 && (!f.Key || f.Width != 64 || f.Height != 48) {
			t.Fatalf("first frame %+v; want a 64x48 keyframe", f)
		}
		n++
	}
	if err := rcv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.wait(t); err != nil {
		t.Fatalf("offer: %v\n%s", err, o.ev)
	}
	if e, ok := find[Ending](o.ev); !ok || e.Reason != EndHungUp {
		t.Errorf("offer ended with %+v; want EndHungUp", e)
	}
}
