package session

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/transport/v5/test"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/internal/testutil"
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

// TestSessionRecordsAnyTracks: a session records every track the other
// side sends, in whatever codecs its Config gives as descriptors (here a
// test video and a test audio codec that session never names), into one
// WebM with a stream for each.
func TestSessionRecordsAnyTracks(t *testing.T) {
	testutil.NeedFFmpeg(t)
	defer test.CheckRoutines(t)()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	video, audio := testcodec.Descriptor(), testcodec.Audio
	out := filepath.Join(t.TempDir(), "out.webm")
	l := newLink()
	a := start(ctx, Config{Answer: l, Output: out, Codecs: []codec.Descriptor{video, audio}})

	// The other side: a plain peer sending a track in each codec.
	snd, locals := sendingPeer(t, ctx, l, video, audio)
	defer snd.Close()
	// Two seconds of both: a video frame every 40 ms (a keyframe first),
	// an audio frame every 20 ms, on one clock.
	const videoFrames, audioFrames = 50, 100
	sendBoth(t, locals, audioFrames)
	if err := snd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.wait(t); err != nil {
		t.Fatalf("answer: %v\n%s", err, a.ev)
	}
	// ffprobe lists both streams, each with the packets sent (the first
	// few may be lost to the keyframe wait and the start-up).
	cmd := exec.Command("ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=codec_type,nb_read_packets", "-of", "csv=p=0", out)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", out, err)
	}
	got := map[string]int{}
	for _, line := range strings.Fields(string(b)) {
		kind, n, _ := strings.Cut(line, ",")
		got[kind], _ = strconv.Atoi(n)
	}
	t.Logf("ffprobe: %q", b)
	if got["video"] < videoFrames*8/10 || got["audio"] < audioFrames*8/10 || len(got) != 2 {
		t.Errorf("recording holds %v packets; want a video stream of about %d and an audio one of about %d", got, videoFrames, audioFrames)
	}
}

// sendBoth sends n frames of the test audio codec from locals[1], one
// every 20 ms, and a frame of the test video codec from locals[0] every
// 40 ms (a keyframe first), on one clock.
func sendBoth(t *testing.T, locals []*webrtc.TrackLocalStaticSample, n int) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		if err := locals[1].WriteSample(media.Sample{Data: []byte{byte(i), 1, 2, 3}, Duration: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			f := testcodec.Encode(testcodec.Frame{Key: i == 0, Width: 64, Height: 48, Number: uint32(i / 2)}, make([]byte, 200))
			if err := locals[0].WriteSample(media.Sample{Data: f, Duration: 40 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// sendingPeer is the other side of a call as a plain peer: it sends a
// track in each of codecs (written by the caller), carries its offer
// and the answer over l, and waits until connected. The caller closes
// the peer.
func sendingPeer(t *testing.T, ctx context.Context, l *link, codecs ...codec.Descriptor) (*peer.Peer, []*webrtc.TrackLocalStaticSample) {
	t.Helper()
	var sends []peer.SendTrack
	var locals []*webrtc.TrackLocalStaticSample
	for _, d := range codecs {
		tl, err := webrtc.NewTrackLocalStaticSample(d.Capability(), d.Kind.String(), "test",
			webrtc.WithPayloader(func(webrtc.RTPCodecCapability) (rtp.Payloader, error) { return d.NewPayloader(), nil }))
		if err != nil {
			t.Fatal(err)
		}
		locals = append(locals, tl)
		sends = append(sends, peer.SendTrack{Track: tl, Codec: d})
	}
	snd, err := peer.New(peer.Config{Send: sends, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	offer, err := snd.Offer(ctx)
	if err != nil {
		snd.Close()
		t.Fatal(err)
	}
	answer, err := l.ExchangeOffer(ctx, offer)
	if err == nil {
		err = snd.Accept(answer)
	}
	if err == nil {
		err = snd.WaitConnected(ctx)
	}
	if err != nil {
		snd.Close()
		t.Fatal(err)
	}
	return snd, locals
}
